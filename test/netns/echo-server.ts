// A replica for proxy tests, run inside an endpoint network namespace: HTTP on --http answers
// "<name> <client address>", UDP on --udp answers "<name>". Prints "ready" once both listen.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { name: { type: 'string' }, http: { type: 'string' }, udp: { type: 'string' } } });
const name = values.name ?? 'server';

const http = createServer((req, res) => {
  res.setHeader('connection', 'close');
  res.end(`${name} ${req.socket.remoteAddress ?? '?'}`);
});
const udp = createSocket('udp4');
udp.on('message', (_msg, peer) => udp.send(name, peer.port, peer.address));

await new Promise<void>((resolve) => http.listen(Number(values.http ?? 8080), '0.0.0.0', resolve));
await new Promise<void>((resolve) => udp.bind(Number(values.udp ?? 5353), '0.0.0.0', resolve));
console.log('ready');
process.on('SIGTERM', () => process.exit(0));
