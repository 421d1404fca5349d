// `shopfloor up` as a user runs it (npm start runs the same command): it prints the KUBECONFIG
// line, kubectl sees Shopfloor's CRDs, an applied example gets a VIP and a status that says why
// nothing runs yet, the agent's service proxy makes that VIP refuse connections (no ready
// replica) instead of black-holing them, and SIGTERM stops every process and removes the rules.
// It runs in a network namespace of its own, so the host's nftables are never touched.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const run = promisify(execFile);
const ns = `sf-up-${randomBytes(3).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'shopfloor-up-'));
const kubeconfig = join(dataDir, 'kubeconfig');
let child: ChildProcess | undefined;
let stdout = '';
let stderr = '';
let exited: Promise<number | null>;

function inNs(cmd: string, ...args: string[]) {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], { env: { ...process.env, KUBECONFIG: kubeconfig } });
}

function kubectl(...args: string[]) {
  return inNs('kubectl', ...args);
}

function etcdPids(): Promise<string[]> {
  return run('pgrep', ['-f', '--', `--data-dir ${join(dataDir, 'etcd')}`]).then(
    (r) => r.stdout.split('\n').filter(Boolean),
    () => [],
  );
}

/** Connects to host:port from inside the namespace; resolves 'connected' or the error code. */
async function connect(host: string, port: number): Promise<string> {
  const script = `const s = require('node:net').connect(${port}, '${host}');
s.setTimeout(3000, () => { console.log('ETIMEDOUT'); process.exit(0); });
s.on('connect', () => { console.log('connected'); process.exit(0); });
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
  child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'cli/main.ts', 'up', '--data-dir', dataDir, '--port', '0',
    '--metrics-address', '127.0.0.1:0', '--agent-metrics-address', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  exited = new Promise((res) => child!.once('exit', (code) => res(code)));
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!stdout.includes('Shopfloor is up')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`shopfloor up did not come up:\n${stdout}\n${stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 70_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
  for (const pid of await etcdPids()) process.kill(Number(pid), 'SIGKILL');
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

  it('runs the operator: an applied example gets a VIP and says it waits for a node', async () => {
    await kubectl('apply', '-f', 'examples/hello.yaml');
    await kubectl('wait', '--for=condition=Degraded', 'nw/hello', '--timeout=30s');
    vip = (await kubectl('get', 'nw', 'hello', '-o', 'jsonpath={.status.clusterIP}')).stdout;
    expect(vip).toMatch(/^10\.250\.\d+\.\d+$/);
    const { stdout: reason } = await kubectl('get', 'nw', 'hello', '-o', 'jsonpath={.status.conditions[?(@.type=="Degraded")].reason}');
    expect(reason).toBe('Unschedulable');
  });

  it('runs the agent\'s service proxy: the VIP of a workload without ready replicas refuses connections', async () => {
    const deadline = Date.now() + 20_000;
    let answer = await connect(vip, 80);
    while (answer !== 'ECONNREFUSED' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      answer = await connect(vip, 80);
    }
    expect(answer).toBe('ECONNREFUSED');
  });

  it('stops the operator, the agent, the API and etcd on SIGTERM, and removes the agent\'s rules', async () => {
    expect(await etcdPids()).not.toEqual([]);
    await inNs('nft', 'list', 'table', 'ip', 'shopfloor');
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await etcdPids()).toEqual([]);
    await expect(inNs('nft', 'list', 'table', 'ip', 'shopfloor')).rejects.toThrow(/No such file or directory/);
  });
});
