// `shopfloor up` as a user runs it (npm start runs the same command): it prints the KUBECONFIG
// line, kubectl sees Shopfloor's CRDs, an applied example gets a VIP and a status that says why
// nothing runs yet, and SIGTERM stops every process it started.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), 'shopfloor-up-'));
const kubeconfig = join(dataDir, 'kubeconfig');
let child: ChildProcess | undefined;
let stdout = '';
let stderr = '';
let exited: Promise<number | null>;

function kubectl(...args: string[]) {
  return run('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
}

function etcdPids(): Promise<string[]> {
  return run('pgrep', ['-f', '--', `--data-dir ${join(dataDir, 'etcd')}`]).then(
    (r) => r.stdout.split('\n').filter(Boolean),
    () => [],
  );
}

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'up', '--data-dir', dataDir, '--port', '0', '--metrics-address', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  rmSync(dataDir, { recursive: true, force: true });
});

describe('shopfloor up', () => {
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
    const { stdout: vip } = await kubectl('get', 'nw', 'hello', '-o', 'jsonpath={.status.clusterIP}');
    expect(vip).toMatch(/^10\.250\.\d+\.\d+$/);
    const { stdout: reason } = await kubectl('get', 'nw', 'hello', '-o', 'jsonpath={.status.conditions[?(@.type=="Degraded")].reason}');
    expect(reason).toBe('Unschedulable');
  });

  it('stops the operator, the API and etcd on SIGTERM', async () => {
    expect(await etcdPids()).not.toEqual([]);
    child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await etcdPids()).toEqual([]);
  });
});
