// A client for proxy tests, run inside a client network namespace. Prints one JSON line: the
// answers (or error codes such as ECONNREFUSED, ETIMEDOUT) of --count sequential requests, each
// on a new connection (HTTP) or from --source-port (UDP, so that one conntrack flow is reused).
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string' }, 'source-port': { type: 'string' }, 'timeout-ms': { type: 'string' } },
});
const [kind, host, portText] = positionals;
if ((kind !== 'http' && kind !== 'udp') || !host || !portText) {
  console.error('usage: probe.ts http|udp <host> <port> [--count N] [--source-port P] [--timeout-ms T]');
  process.exit(2);
}
const port = Number(portText);
const count = Number(values.count ?? 1);
const timeoutMs = Number(values['timeout-ms'] ?? 2000);

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

function httpOnce(): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => resolve(errorCode(err)));
    req.end();
  });
}

async function udpAll(): Promise<string[]> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(Number(values['source-port'] ?? 0), resolve));
  sock.connect(port, host);
  await new Promise<void>((resolve) => sock.once('connect', resolve));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(
      await new Promise<string>((resolve) => {
        const done = (v: string) => {
          clearTimeout(timer);
          sock.off('message', onMessage);
          sock.off('error', onError);
          resolve(v);
        };
        const onMessage = (msg: Buffer) => done(msg.toString());
        const onError = (err: Error) => done(errorCode(err));
        const timer = setTimeout(() => done('ETIMEDOUT'), timeoutMs);
        sock.on('message', onMessage);
        sock.on('error', onError);
        sock.send('ping');
      }),
    );
  }
  sock.close();
  return out;
}

const results: string[] = [];
if (kind === 'http') for (let i = 0; i < count; i++) results.push(await httpOnce());
else results.push(...(await udpAll()));
console.log(JSON.stringify(results));
