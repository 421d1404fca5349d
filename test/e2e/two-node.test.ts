// Two nodes on one host: `shopfloor up` (the cluster and the first node) and a second `shopfloor
// agent` with a data dir, containerd, bridge, pod CIDR, proxy table and metrics address of its
// own, all in a network namespace of their own (entered with nsenter, which keeps the host's
// mounts such as the cgroups runc needs). Through kubectl only: both NodeAgents are Ready, an
// EveryNode workload runs on both, a Replicas workload spreads over both and its VIP reaches
// both, the second agent stopping gets its replica replaced on the first node once the operator
// takes the node for lost, and when it comes back its replaced replica goes. Each agent removes
// only its own rules.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PAUSE_IMAGE, processesNaming, removeRuntimeLeftovers } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';
import { createHostNetns, deleteHostNetns } from '../harness/host-netns.js';

const run = promisify(execFile);
const ns = `sf-2n-${randomBytes(3).toString('hex')}`;
const dir1 = mkdtempSync(join(tmpdir(), 'sf-2n-a-'));
const dir2 = mkdtempSync(join(tmpdir(), 'sf-2n-b-'));
const kubeconfig = join(dir1, 'kubeconfig');
const node1 = hostname().toLowerCase();
const node2 = 'second-node';
/** The runtime dirs whose processes (containerd, shims) and mounts must go, whatever happened. */
const runtimeDirs = [join(dir1, 'agent', 'containerd'), join(dir2, 'containerd')];
/** The second node's Lease and the operator's grace period: a lost node is replaced within seconds. */
const LEASE_SECONDS = 6;
const GRACE_SECONDS = 2;
/** kubectl costs a process start: polls that run it go twice a second. */
const POLL_MS = 500;

interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
}

let up: Proc | undefined;
let agent2: Proc | undefined;

/** A command in the namespace, with stdout and stderr kept for the failure message. */
function inNs(args: string[]): Proc {
  const child = spawn('nsenter', [`--net=/run/netns/${ns}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, exited: new Promise((res) => child.once('exit', (code) => res(code))), output: () => out };
}

function startAgent2(): Proc {
  return inNs([process.execPath, '--import', 'tsx', 'cli/main.ts', 'agent', '--kubeconfig', kubeconfig, '--node-name', node2, '--data-dir', dir2,
    '--pod-cidr', '10.244.1.0/24', '--bridge', 'sf1', '--proxy-table', 'sf1', '--metrics-address', '127.0.0.1:0',
    '--sandbox-image', PAUSE_IMAGE, '--image-preload-dir', join(dir1, 'agent', 'images'), '--node-lease-duration', String(LEASE_SECONDS)]);
}

async function stop(p: Proc | undefined, signal: NodeJS.Signals): Promise<number | null | undefined> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return undefined;
  p.child.kill(signal);
  return p.exited;
}

function nsExec(cmd: string, ...args: string[]) {
  return run('nsenter', [`--net=/run/netns/${ns}`, cmd, ...args], { env: { ...process.env, KUBECONFIG: kubeconfig } });
}

async function kubectl(...args: string[]): Promise<string> {
  return (await nsExec('kubectl', ...args)).stdout;
}

/** `<name> <node> <phase>` of each NodeAssignment of `workload`, sorted. */
async function assignments(workload: string): Promise<string[]> {
  const out = await kubectl('get', 'na', '-l', `shopfloor.dev/workload=${workload}`, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.phase}{"\\n"}{end}');
  return out.split('\n').filter(Boolean).sort();
}

/** `<node> <phase>` of each NodeAssignment of `workload`, sorted. */
async function placements(workload: string): Promise<string[]> {
  return (await assignments(workload)).map((l) => l.split(' ').slice(1).join(' ')).sort();
}

/** The bodies of `count` HTTP GETs of host:port, asked from inside the namespace. */
async function httpBodies(host: string, port: number, count: number): Promise<string[]> {
  const script = `const http = require('node:http');
(async () => {
  for (let i = 0; i < ${count}; i++) {
    console.log(await new Promise((resolve) => {
      const req = http.get({ host: '${host}', port: ${port}, path: '/', agent: false, timeout: 3000 }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body.trim()));
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => resolve(e.code));
    }));
  }
})();`;
  return (await nsExec(process.execPath, '-e', script)).stdout.split('\n').filter(Boolean);
}

/**
 * Applies a NodeWorkload of busybox web servers, each answering with its host name (the name of
 * its NodeAssignment). `spec` is the YAML of its placement (and service), indented two spaces.
 */
async function applyWhoami(name: string, spec: string): Promise<void> {
  const file = join(dir1, `${name}.yaml`);
  writeFileSync(file, `apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorkload
metadata:
  name: ${name}
spec:
${spec}
  template:
    containers:
      - name: web
        image: shopfloor.dev/busybox:test
        command: [sh, -c, "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports:
          - name: http
            containerPort: 8080
    terminationGracePeriodSeconds: 1
`);
  await kubectl('apply', '-f', file);
}

beforeAll(async () => {
  await createHostNetns(ns);
  up = inNs([process.execPath, '--import', 'tsx', 'cli/main.ts', 'up', '--data-dir', dir1, '--port', '0',
    '--metrics-address', '127.0.0.1:0', '--agent-metrics-address', '127.0.0.1:0', '--node-loss-grace', String(GRACE_SECONDS)]);
  await eventually('shopfloor up to say it is up', () => {
    if (up!.child.exitCode !== null) throw new Error('shopfloor up exited');
    return up!.output().includes('Shopfloor is up');
  }, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${up!.output().slice(-4000)}`);
  });
  agent2 = startAgent2();
}, 70_000);

afterAll(async () => {
  await stop(agent2, 'SIGKILL');
  // SIGTERM first: `up` removes its pods through CRI, so their network goes too.
  if (up && up.child.exitCode === null) {
    up.child.kill('SIGTERM');
    const done = await Promise.race([up.exited.then(() => true), new Promise<boolean>((res) => setTimeout(() => res(false), 30_000))]);
    if (!done) await stop(up, 'SIGKILL');
  }
  for (const dir of runtimeDirs) await removeRuntimeLeftovers(dir).catch(() => undefined);
  for (const pid of processesNaming(join(dir1, 'etcd'))) process.kill(pid, 'SIGKILL');
  await deleteHostNetns(ns);
  rmSync(dir1, { recursive: true, force: true });
  rmSync(dir2, { recursive: true, force: true });
}, 60_000);

describe('two nodes on one host', () => {
  it('registers both agents Ready, each with its own nftables table', async () => {
    await eventually('both NodeAgents to be Ready', async () => {
      if (agent2!.child.exitCode !== null) throw new Error(`the second agent exited:\n${agent2!.output().slice(-4000)}`);
      const out = await kubectl('get', 'nodeagents', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
      const ready = out.split('\n').filter(Boolean).sort();
      return JSON.stringify(ready) === JSON.stringify([`${node1}=True`, `${node2}=True`].sort());
    }, 60_000, POLL_MS);
    const tables = (await nsExec('nft', 'list', 'tables')).stdout;
    expect(tables).toContain('table ip shopfloor');
    expect(tables).toContain('table ip sf1');
  }, 70_000);

  it('runs an EveryNode workload once on each node', async () => {
    await applyWhoami('everywhere', `  placement:
    mode: EveryNode`);
    await eventually('one Running replica on each node', async () => {
      const p = await placements('everywhere');
      return JSON.stringify(p) === JSON.stringify([`${node1} Running`, `${node2} Running`].sort()) && p;
    }, 60_000, POLL_MS);
  }, 70_000);

  let vip = '';

  it('spreads a Replicas workload over both nodes, and its VIP reaches the replicas on both', async () => {
    await applyWhoami('spread', `  placement:
    mode: Replicas
    replicas: 2
  service:
    ports:
      - name: http
        port: 80
        targetPort: http
    loadBalancing: RoundRobin`);
    await nsExec('kubectl', 'wait', '--for=condition=Ready', 'nw/spread', '--timeout=60s');
    expect(await placements('spread')).toEqual([`${node1} Running`, `${node2} Running`].sort());
    vip = await kubectl('get', 'nw', 'spread', '-o', 'jsonpath={.status.clusterIP}');
    expect(vip).toMatch(/^10\.250\.\d+\.\d+$/);
    const nodeOf = new Map((await assignments('spread')).map((l) => l.split(' ') as [string, string]));
    // Each replica answers with its host name, its assignment's name.
    const seen = await eventually('the VIP to answer from both nodes', async () => {
      const nodes = new Set((await httpBodies(vip, 80, 6)).map((b) => nodeOf.get(b) ?? b));
      return nodes.size === 2 && nodes;
    }, 30_000, POLL_MS);
    expect([...seen].sort()).toEqual([node1, node2].sort());
  }, 90_000);

  it('replaces the replica of a stopped agent on the other node once the operator takes the node for lost', async () => {
    // Like kubelet, a stopped agent leaves its pods running: only its Lease stops.
    expect(await stop(agent2, 'SIGTERM')).toBe(0);
    const started = Date.now();
    await eventually('two Running replicas on the first node', async () => {
      const running = (await placements('spread')).filter((p) => p === `${node1} Running`);
      return running.length === 2;
    }, 60_000, POLL_MS);
    // Its EveryNode replica stays on the node, Unknown while the node is gone.
    expect(await placements('everywhere')).toEqual([`${node1} Running`, `${node2} Unknown`].sort());
    // Not before the Lease (renewed every quarter of it) ran out and the grace period passed.
    expect(Date.now() - started).toBeGreaterThanOrEqual((LEASE_SECONDS * 0.75 + GRACE_SECONDS) * 1000 - 500);
  }, 70_000);

  it('removes the replaced replica when the node comes back, and runs its EveryNode replica again', async () => {
    agent2 = startAgent2();
    await eventually('the replaced replica to go and the EveryNode one to run again', async () => {
      if (agent2!.child.exitCode !== null) throw new Error(`the second agent exited:\n${agent2!.output().slice(-4000)}`);
      const spread = await placements('spread');
      const everywhere = await placements('everywhere');
      return JSON.stringify(spread) === JSON.stringify([`${node1} Running`, `${node1} Running`]) && JSON.stringify(everywhere) === JSON.stringify([`${node1} Running`, `${node2} Running`].sort());
    }, 60_000, POLL_MS);
  }, 70_000);

  it('removes only its own rules: `up` its table, the second agent\'s cleanup its table', async () => {
    await kubectl('delete', 'nw', 'everywhere', 'spread', '--wait=true', '--timeout=60s');
    await eventually('the second node\'s pods to be gone', () => processesNaming(runtimeDirs[1]!).length === 1, 30_000);
    expect(await stop(agent2, 'SIGTERM')).toBe(0);
    expect(await stop(up, 'SIGTERM')).toBe(0);
    const tables = (await nsExec('nft', 'list', 'tables')).stdout;
    expect(tables).not.toContain('table ip shopfloor');
    expect(tables).toContain('table ip sf1');
    await nsExec(process.execPath, '--import', 'tsx', 'cli/main.ts', 'agent', 'cleanup', '--proxy-table', 'sf1');
    expect((await nsExec('nft', 'list', 'tables')).stdout).not.toContain('table ip sf1');
    expect([...runtimeDirs.flatMap(processesNaming), ...processesNaming(join(dir1, 'etcd'))]).toEqual([]);
  }, 90_000);
});
