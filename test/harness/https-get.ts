// One GET over HTTPS to a server the harness started (kube-apiserver, the kubelet), trusting
// only the CA it was given and sending the harness's admin token.
import { request } from 'node:https';

/** GET over HTTPS, trusting only `ca`; resolves with the status and body. */
export function httpsGet(url: string, ca: Buffer, token: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
      r.on('error', rej);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', rej);
    req.end();
  });
}
