import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status as grpcStatus } from '@grpc/grpc-js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Probe } from '../../api/template.js';
import { FakeClock } from '../../kube/fake-clock.js';
import { eventually } from '../../test/harness/eventually.js';
import { CriError } from '../cri/client.js';
import { runChecked, spawnRunner } from '../exec.js';
import { execProbe, httpGetProbe, runProbe, tcpSocketProbe, type ExecSync } from './probe-handlers.js';

const timing = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 };

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** An HTTP(S) handler answering by path: /status/<code>, /big (20 KiB body), /hang (never answers). */
function handler(seen: Seen[]): http.RequestListener {
  return (req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const url = req.url ?? '';
    if (url.startsWith('/status/')) {
      res.writeHead(Number(url.slice('/status/'.length)), url.endsWith('302') ? { location: 'http://elsewhere.invalid/' } : {});
      res.end(`answered ${url}`);
    } else if (url === '/big') {
      res.writeHead(200);
      res.end('x'.repeat(20 * 1024));
    } else if (url === '/slow-body') {
      res.writeHead(200);
      res.write('partial');
    }
    // '/hang': no answer at all.
  };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    (server as http.Server).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/** A port nothing listens on: bound once, then released. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await close(s);
  return port;
}

describe('httpGetProbe', () => {
  const seen: Seen[] = [];
  const server = http.createServer(handler(seen));
  let port = 0;
  const target = () => ({ podIP: '127.0.0.1', containerId: 'c1', ports: [{ name: 'web', containerPort: port, protocol: 'TCP' as const }] });

  beforeAll(async () => {
    port = await listen(server);
  });
  afterAll(() => close(server));

  it('succeeds on 2xx and 3xx without following the redirect, sending our user agent and the probe headers', async () => {
    const ok = await httpGetProbe({ path: '/status/200', port, scheme: 'HTTP', httpHeaders: [{ name: 'X-Probe', value: 'yes' }, { name: 'User-Agent', value: 'custom/2' }] }, target(), 1);
    expect(ok).toEqual({ result: 'success', output: 'answered /status/200' });
    expect(seen.at(-1)?.headers['x-probe']).toBe('yes');
    expect(seen.at(-1)?.headers['user-agent']).toBe('custom/2');

    const before = seen.length;
    const redirect = await httpGetProbe({ path: '/status/302', port, scheme: 'HTTP' }, target(), 1);
    expect(redirect.result).toBe('success');
    expect(seen.length).toBe(before + 1);
    await httpGetProbe({ path: 'status/204', port, scheme: 'HTTP' }, target(), 1);
    expect(seen.at(-1)?.url).toBe('/status/204');
    expect(seen.at(-1)?.headers['user-agent']).toBe('shopfloor-probe/1.0');
  });

  it('fails on 4xx/5xx with the status code', async () => {
    expect(await httpGetProbe({ path: '/status/503', port, scheme: 'HTTP' }, target(), 1)).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 503' });
    expect((await httpGetProbe({ path: '/status/404', port, scheme: 'HTTP' }, target(), 1)).result).toBe('failure');
  });

  it('resolves a named port, and fails with a reason on a name the container does not have', async () => {
    expect((await httpGetProbe({ path: '/status/200', port: 'web', scheme: 'HTTP' }, target(), 1)).result).toBe('success');
    const unknown = await httpGetProbe({ path: '/', port: 'metrics', scheme: 'HTTP' }, target(), 1);
    expect(unknown.result).toBe('failure');
    expect(unknown.output).toContain('port "metrics" is not a named port of this container (its named ports: web)');
  });

  it('defaults the host to the pod IP and reports a refused connection like kubelet', async () => {
    const closed = await freePort();
    expect(await httpGetProbe({ path: '/', port: closed, scheme: 'HTTP' }, target(), 1)).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${closed}/": dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
  });

  it('reads at most 10 KiB of the body', async () => {
    const big = await httpGetProbe({ path: '/big', port, scheme: 'HTTP' }, target(), 1);
    expect(big.result).toBe('success');
    expect(big.output).toHaveLength(10 * 1024);
  });

  it('fails after timeoutSeconds without an answer, and judges by the status when only the body is late', async () => {
    const clock = new FakeClock();
    const before = seen.length;
    const hanging = httpGetProbe({ path: '/hang', port, scheme: 'HTTP' }, target(), 2, clock);
    await eventually('the request reaches the server', () => seen.length > before);
    await clock.advance(1999);
    const early = await Promise.race([hanging, Promise.resolve('pending')]);
    expect(early).toBe('pending');
    await clock.advance(1);
    expect(await hanging).toEqual({ result: 'failure', output: `Get "http://127.0.0.1:${port}/hang": no response within 2s (timeout)` });

    expect(clock.pendingTimers()).toBe(0);

    // The real clock here: the status line must have arrived when the timeout strikes.
    expect(await httpGetProbe({ path: '/slow-body', port, scheme: 'HTTP' }, target(), 0.3)).toEqual({ result: 'success', output: 'partial' });
  });
});

describe('httpGetProbe over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shopfloor-probe-tls-'));
  const seen: Seen[] = [];
  let server: https.Server;
  let port = 0;

  beforeAll(async () => {
    // A self-signed certificate no one trusts: the probe must not verify it.
    await runChecked(spawnRunner(), 'openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=probe-test']);
    server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, handler(seen));
    port = await listen(server);
  });
  afterAll(async () => {
    if (server) await close(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('probes without verifying the certificate', async () => {
    const target = { podIP: '127.0.0.1', containerId: 'c1' };
    expect(await httpGetProbe({ path: '/status/200', port, scheme: 'HTTPS' }, target, 2)).toEqual({ result: 'success', output: 'answered /status/200' });
    expect((await httpGetProbe({ path: '/status/500', port, scheme: 'HTTPS' }, target, 2)).output).toBe('HTTP probe failed with statuscode: 500');
  });
});

describe('tcpSocketProbe', () => {
  const server = net.createServer((socket) => socket.end());
  let port = 0;
  beforeAll(async () => {
    port = await listen(server);
  });
  afterAll(() => close(server));

  it('succeeds when the port accepts and fails like kubelet when it refuses', async () => {
    const target = { podIP: '127.0.0.1', containerId: 'c1', ports: [{ name: 'db', containerPort: port, protocol: 'TCP' as const }] };
    expect(await tcpSocketProbe({ port: 'db' }, target, 1)).toEqual({ result: 'success', output: '' });
    const closed = await freePort();
    expect(await tcpSocketProbe({ port: closed, host: '127.0.0.1' }, { podIP: '', containerId: 'c1' }, 1)).toEqual({
      result: 'failure',
      output: `dial tcp 127.0.0.1:${closed}: connect: connection refused`,
    });
    expect((await tcpSocketProbe({ port: 'nope' }, target, 1)).output).toContain('port "nope" is not a named port');
    expect((await tcpSocketProbe({ port }, { podIP: '', containerId: 'c1' }, 1)).output).toContain('the pod has no IP yet');
  });
});

describe('execProbe', () => {
  /** A fake of CRI ExecSync: answers per command, recording the calls. */
  function fakeExec(answer: (cmd: string[]) => ReturnType<ExecSync>): { exec: ExecSync; calls: Array<{ id: string; cmd: string[]; timeout: number }> } {
    const calls: Array<{ id: string; cmd: string[]; timeout: number }> = [];
    return {
      calls,
      exec: (id, cmd, timeout) => {
        calls.push({ id, cmd, timeout });
        return answer(cmd);
      },
    };
  }
  const out = (exitCode: number, stdout = '', stderr = '') => Promise.resolve({ exitCode, stdout: Buffer.from(stdout), stderr: Buffer.from(stderr) });

  it('succeeds on exit 0 and fails on any other code with the first 10 KiB of stderr (or stdout)', async () => {
    const { exec, calls } = fakeExec((cmd) => {
      if (cmd[0] === 'ok') return out(0, 'fine\n');
      if (cmd[0] === 'noisy') return out(2, '', 'e'.repeat(30 * 1024));
      return out(1, 'not ready yet\n');
    });
    expect(await execProbe(exec, 'c1', ['ok'], 3)).toEqual({ result: 'success', output: 'fine' });
    expect(calls[0]).toEqual({ id: 'c1', cmd: ['ok'], timeout: 3 });
    expect(await execProbe(exec, 'c1', ['check'], 1)).toEqual({ result: 'failure', output: 'command exited with 1: not ready yet' });
    const noisy = await execProbe(exec, 'c1', ['noisy'], 1);
    expect(noisy.output).toBe(`command exited with 2: ${'e'.repeat(10 * 1024)}`);
  });

  it('fails "timed out" when the runtime reports DEADLINE_EXCEEDED, and throws on other runtime errors', async () => {
    const deadline = fakeExec(() => Promise.reject(new CriError('ExecSync', grpcStatus.DEADLINE_EXCEEDED, 'timeout 1s exceeded', 'container c1')));
    expect(await execProbe(deadline.exec, 'c1', ['sleep', '5'], 1)).toEqual({ result: 'failure', output: 'command timed out after 1s: sleep 5' });
    const gone = fakeExec(() => Promise.reject(new CriError('ExecSync', grpcStatus.NOT_FOUND, 'container not found', 'container c1')));
    await expect(execProbe(gone.exec, 'c1', ['true'], 1)).rejects.toThrow('container not found');
  });

  it('fails "timed out" by itself when the runtime never answers, and ignores its late answer', async () => {
    const clock = new FakeClock();
    let answer: (v: Awaited<ReturnType<ExecSync>>) => void = () => undefined;
    const { exec } = fakeExec(() => new Promise((resolve) => (answer = resolve)));
    const probe = execProbe(exec, 'c1', ['hang'], 2, clock);
    await clock.advance(2999);
    expect(await Promise.race([probe, Promise.resolve('pending')])).toBe('pending');
    await clock.advance(1);
    expect(await probe).toEqual({ result: 'failure', output: 'command timed out after 2s: hang' });
    answer({ exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) });
  });

  it('is what runProbe runs for an exec probe', async () => {
    const { exec, calls } = fakeExec(() => out(0));
    const probe: Probe = { ...timing, timeoutSeconds: 4, exec: { command: ['cat', '/tmp/healthy'] } };
    expect((await runProbe(probe, { podIP: '10.0.0.5', containerId: 'abc' }, { exec })).result).toBe('success');
    expect(calls).toEqual([{ id: 'abc', cmd: ['cat', '/tmp/healthy'], timeout: 4 }]);
  });
});
