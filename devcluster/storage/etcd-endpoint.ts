// etcd's client endpoint is a unix socket, written `unix://<absolute path>` (the form etcd, the
// etcd3 package's gRPC and kube-apiserver's --etcd-servers all dial); plain `http://` URLs are
// still understood for an etcd reached over TCP.

const UNIX = 'unix://';

/** The endpoint of a unix socket at an absolute path. */
export function unixEndpoint(path: string): string {
  return `${UNIX}${path}`;
}

/** The socket path of a `unix://` endpoint; undefined for a TCP URL. */
export function unixSocketPath(endpoint: string): string | undefined {
  return endpoint.startsWith(UNIX) ? endpoint.slice(UNIX.length) : undefined;
}
