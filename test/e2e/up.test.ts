// `shopfloor up` as a user runs it (npm start runs the same command): it prints the KUBECONFIG
// line, kubectl sees Shopfloor's CRDs, an applied example becomes Ready on this node (its
// container runs on the agent's own containerd), its VIP answers HTTP, `shopfloor logs` reads
// it through the agent's log server, and SIGTERM stops every process, removes the pods and the
// rules. It runs in a network namespace of its own
// (entered with nsenter, which keeps the host's mounts such as the cgroups runc needs), so the
// host's nftables and addresses are never touched.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../harness/eventually.js';

const run = promisify(execFile);
const ns = `sf-up-${randomBytes(3).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'shopfloor-up-'));
const kubeconfig = join(dataDir, 'kubeconfig');
let child: ChildProcess | undefined;
let stdout = '';
let stderr = '';
let exited: Promise<number | null>;

function inNs(cmd: string, ...args: string[]) {
  return run('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { env: { ...process.env, KUBECONFIG: kubeconfig } });
}

function kubectl(...args: string[]) {
  return inNs('kubectl', ...args);
}

/** Processes whose command line names `pattern` (etcd and containerd name their data dirs). */
function pidsNaming(pattern: string): Promise<string[]> {
  return run('pgrep', ['-f', '--', pattern]).then(
    (r) => r.stdout.split('\n').filter(Boolean),
    () => [],
  );
}
const etcdPids = () => pidsNaming(`--data-dir ${join(dataDir, 'etcd')}`);
const runtimePids = () => pidsNaming(join(dataDir, 'agent', 'containerd'));

/** The first line of an HTTP answer from host:port, asked from inside the namespace. */
async function httpHead(host: string, port: number): Promise<string> {
  const script = `const s = require('node:net').connect(${port}, '${host}');
s.setTimeout(3000, () => { console.log('ETIMEDOUT'); process.exit(0); });
s.on('connect', () => s.write('GET / HTTP/1.0\\r\\n\\r\\n'));
s.on('data', (d) => { console.log(String(d).split('\\r\\n')[0]); process.exit(0); });
s.on('error', (e) => { console.log(e.code); process.exit(0); });`;
  const { stdout: out } = await inNs(process.execPath, '-e', script);
  return out.trim();
}

beforeAll(async () => {
  await run('ip', ['netns', 'add', ns]);
  // Loopback for the API server, and a default route so that VIP traffic reaches the rules.
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', ns, 'link', 'add', 'node0', 'type', 'veth', 'peer', 'name', 'node1']);
  await run('ip', ['-n', ns, 'addr', 'add', '192.0.2.10/24', 'dev', 'node0']);
  await run('ip', ['-n', ns, 'link', 'set', 'node0', 'up']);
  await run('ip', ['-n', ns, 'link', 'set', 'node1', 'up']);
  await run('ip', ['-n', ns, 'route', 'add', 'default', 'dev', 'node0']);
  child = spawn('nsenter', [`--net=/run/netns/${ns}`, process.execPath, '--import', 'tsx', 'cli/main.ts', 'up', '--data-dir', dataDir, '--port', '0',
    '--metrics-address', '127.0.0.1:0', '--agent-metrics-address', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((res) => child!.once('exit', (code) => res(code)));
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await eventually('shopfloor up to say it is up', () => {
    if (child!.exitCode !== null) throw new Error(`shopfloor up exited:\n${stdout}\n${stderr.slice(-3000)}`);
    return stdout.includes('Shopfloor is up');
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${stdout}\n${stderr.slice(-3000)}`);
  });
}, 70_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  for (const pid of [...(await etcdPids()), ...(await runtimePids())]) process.kill(Number(pid), 'SIGKILL');
  await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('shopfloor up', () => {
  let vip = '';

  it('prints the KUBECONFIG line and what to try next', () => {
    expect(stdout).toContain(`export KUBECONFIG=${kubeconfig}`);
    expect(stdout).toContain('kubectl apply -f examples/hello.yaml');
  });

  it('serves Shopfloor CRDs to kubectl', async () => {
    const { stdout: out } = await kubectl('api-resources', '--api-group=shopfloor.dev', '-o', 'name');
    expect(out.split('\n').filter(Boolean).sort()).toEqual(['nodeagents.shopfloor.dev', 'nodeassignments.shopfloor.dev', 'nodeworkloads.shopfloor.dev']);
  });

  it('runs the operator and the agent: the example becomes Ready on this node and its VIP answers HTTP', async () => {
    await kubectl('apply', '-f', 'examples/hello.yaml');
    await kubectl('wait', '--for=condition=Ready', 'nw/hello', '--timeout=90s');
    vip = (await kubectl('get', 'nw', 'hello', '-o', 'jsonpath={.status.clusterIP}')).stdout;
    expect(vip).toMatch(/^10\.250\.\d+\.\d+$/);
    const { stdout: phase } = await kubectl('get', 'na', '-l', 'shopfloor.dev/workload=hello', '-o', 'jsonpath={.items[0].status.phase}');
    expect(phase).toBe('Running');
    await eventually('the VIP to answer HTTP', async () => /^HTTP\/1\.[01] \d{3}/.test(await httpHead(vip, 80)), 30_000);
  }, 120_000);

  it('serves the example\'s log to shopfloor logs through the agent\'s log server on 127.0.0.1', async () => {
    const { stdout: address } = await kubectl('get', 'nag', '-o', 'jsonpath={.items[0].status.daemonEndpoints.logServer.address}');
    expect(address).toBe('127.0.0.1');
    // httpd -f writes nothing; a log that is there and empty, and no previous instance, are the server's answers.
    const current = await inNs(process.execPath, '--import', 'tsx', 'cli/main.ts', 'logs', 'nw/hello');
    expect(current.stdout).toBe('');
    const previous = await inNs(process.execPath, '--import', 'tsx', 'cli/main.ts', 'logs', 'nw/hello', '--previous').then(() => '', (err: { stderr?: string }) => err.stderr ?? '');
    expect(previous).toMatch(/answered 400: previous terminated container "httpd" in assignment default\/hello-\S+ not found/);
  }, 60_000);

  it('stops the operator, the agent, its containerd and pods, the API and etcd on SIGTERM, and removes the agent\'s rules', async () => {
    expect(await etcdPids()).not.toEqual([]);
    expect(await runtimePids()).not.toEqual([]);
    await inNs('nft', 'list', 'table', 'ip', 'shopfloor');
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await etcdPids()).toEqual([]);
    expect(await runtimePids()).toEqual([]);
    await expect(inNs('nft', 'list', 'table', 'ip', 'shopfloor')).rejects.toThrow(/No such file or directory/);
  }, 90_000);
});
