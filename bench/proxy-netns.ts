// What the proxy benchmark runs inside a proxy's network namespace: routes that make every
// service VIP and endpoint address local, a listener behind every endpoint, a probe that tells
// when a connection to a VIP is forwarded, and (run as a program) a relay that lets a kube-proxy
// in the namespace reach the API server on the host's loopback through a Unix socket.
//
//   node --import tsx bench/proxy-netns.ts --api-port <port> --relay <socket>
// prints `ready`, then for every VIP read on a line of stdin, `forwarded <vip>` once a connection
// to <vip>:80 reaches a listener.
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runChecked, spawnRunner, type Runner } from '../agent/exec.js';
import { ENDPOINT_PORT, ENDPOINT_RANGE, SERVICE_PORT, VIP_RANGE } from './service-objects.js';

const PROBE_INTERVAL_MS = 2;
/**
 * The probe's own address, local through the endpoint range's route and inside kube-proxy's
 * clusterCIDR but no endpoint's: traffic from it is not masqueraded, as a pod's is not.
 */
const PROBE_SOURCE = '10.254.0.1';

/**
 * Local routes for both ranges: a connection to a VIP that no rule forwards yet is refused at
 * once (nothing listens on port 80), and one a proxy DNATs to an endpoint reaches the listener.
 */
export async function routeProbeRanges(run: Runner): Promise<void> {
  await runChecked(run, 'ip', ['link', 'set', 'lo', 'up']);
  for (const range of [VIP_RANGE, ENDPOINT_RANGE]) await runChecked(run, 'ip', ['route', 'add', 'local', range, 'dev', 'lo']);
}

/** Accepts on every endpoint address; the namespace is private, so the wildcard reaches no other host. */
export async function listenAsEndpoints(): Promise<Server> {
  const server = createServer((s) => s.destroy());
  server.listen(ENDPOINT_PORT, '0.0.0.0');
  await once(server, 'listening');
  return server;
}

function connects(vip: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s: Socket = connect({ host: vip, port: SERVICE_PORT, localAddress: PROBE_SOURCE, timeout: 1000 });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.once('timeout', () => done(false));
  });
}

/** Resolves once a connection to vip:80 is forwarded to a listener; a new source port each try, so each is a new conntrack entry the rules see. */
export async function untilForwarded(vip: string): Promise<void> {
  while (!(await connects(vip))) await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
}

function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

/** The host side of the relay: every connection to the Unix socket goes on to 127.0.0.1:port. */
export async function relayToLoopback(socketPath: string, port: number): Promise<Server> {
  const server = createServer((s) => pipeBoth(s, connect({ host: '127.0.0.1', port })));
  server.listen(socketPath);
  await once(server, 'listening');
  return server;
}

async function serve(apiPort: number, socketPath: string): Promise<void> {
  await routeProbeRanges(spawnRunner());
  await listenAsEndpoints();
  // The same port as the API server's on the host: the admin kubeconfig works unchanged here.
  const relay = createServer((s) => pipeBoth(s, connect({ path: socketPath })));
  relay.listen(apiPort, '127.0.0.1');
  await once(relay, 'listening');
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const vip = line.trim();
    if (!vip) continue;
    await untilForwarded(vip);
    process.stdout.write(`forwarded ${vip}\n`);
  }
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { 'api-port': { type: 'string' }, relay: { type: 'string' } } });
  const port = Number(values['api-port']);
  if (!Number.isInteger(port) || port < 1 || !values.relay) throw new Error('proxy-netns: --api-port <port> and --relay <unix socket path> are both required');
  await serve(port, values.relay);
}
