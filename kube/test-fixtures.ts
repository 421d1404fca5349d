// What the kubeconfig, credential and proxy tests share: certificates made with openssl, an
// https server that wants a client certificate, and an HTTP CONNECT proxy; and, for tests whose
// subject needs a kubeconfig but never a server, one that points nowhere.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { ensureTls } from '../devcluster/http/tls.js';

const run = promisify(execFile);

export interface TestTls {
  dir: string;
  /** PEM files in `dir`. */
  files: { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
}

/** A CA, a serving certificate for 127.0.0.1/localhost, and a client certificate for CN=`clientName`, in `dir`. */
export async function makeTls(dir: string, clientName = 'kubeconfig-test'): Promise<TestTls> {
  const server = await ensureTls(dir);
  const clientKey = join(dir, 'client.key');
  const clientCert = join(dir, 'client.crt');
  const csr = join(dir, 'client.csr');
  const ext = join(dir, 'client.ext');
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', clientKey, '-out', csr, '-subj', `/CN=${clientName}`]);
  writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', clientCert, '-days', '1', '-extfile', ext]);
  return {
    dir,
    files: { ca: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key'), clientCert, clientKey },
    ca: server.ca,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: readFileSync(clientCert),
    clientKey: readFileSync(clientKey),
  };
}

export interface SeenRequest {
  path: string;
  authorization?: string;
  impersonate?: string;
  /** CN of the client certificate, if one was presented and verified. */
  clientName?: string;
}

/**
 * An https server on 127.0.0.1 that asks for (but does not require) a client certificate
 * signed by the test CA and answers every request with `answer(seen)` as JSON.
 */
export async function startHttpsServer(tls: TestTls, answer: (seen: SeenRequest) => { status: number; body: unknown }): Promise<{ url: string; seen: SeenRequest[]; close: () => Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server = https.createServer({ key: tls.serverKey, cert: tls.serverCert, ca: tls.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
    const request: SeenRequest = {
      path: req.url ?? '',
      authorization: req.headers.authorization,
      impersonate: req.headers['impersonate-user'] as string | undefined,
      clientName: peer?.subject?.CN as string | undefined,
    };
    seen.push(request);
    const { status, body } = answer(request);
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * An HTTP CONNECT proxy on 127.0.0.1 that records each tunnel's target and Proxy-Authorization,
 * and answers `refuseWith` instead of tunnelling when given.
 */
export async function startConnectProxy(options: { refuseWith?: number } = {}): Promise<{ url: string; tunnels: { target: string; authorization?: string }[]; close: () => Promise<void> }> {
  const tunnels: { target: string; authorization?: string }[] = [];
  // Tunnels leave the server's connection tracking; closing ends them by hand.
  const open = new Set<Duplex>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    tunnels.push({ target: req.url ?? '', authorization: req.headers['proxy-authorization'] });
    if (options.refuseWith) {
      client.end(`HTTP/1.1 ${options.refuseWith} Refused\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: () => new Promise((resolve) => {
      for (const socket of open) socket.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A kubeconfig whose API server is never there (127.0.0.1:1), for code that must be given one. */
export function unreachableKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'none', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'u' }],
    currentContext: 'none',
  });
  return kc;
}
