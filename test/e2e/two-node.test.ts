// Two nodes on one host: `shopfloor up` (the cluster and the first node) and a second `shopfloor
// agent` with a data dir, containerd, bridge, proxy table and metrics address of its own, all in a
// network namespace standing in for the machine; each node's pod range is the operator's to hand
// out (`--pod-cidr allocated`). Through kubectl only: both NodeAgents are Ready with a range of
// their own, their pods' IPs in it, an EveryNode workload runs on both, a Replicas workload spreads over both
// and its VIP reaches both, the second agent stopping gets its replica replaced on the first node
// once the operator takes the node for lost, and when it comes back its replaced replica goes.
// Each agent removes only its own rules.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PAUSE_IMAGE } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';
import { AgentProcess, MachineNetns, UpProcess, whoamiWorkloadYaml } from './up-harness.js';

/** The second node's Lease and the operator's grace period: a lost node is replaced within seconds. */
const LEASE_SECONDS = 6;
const GRACE_SECONDS = 2;
/** kubectl costs a process start: polls that run it go twice a second. */
const POLL_MS = 500;

const netns = new MachineNetns();
const dir1 = mkdtempSync(join(tmpdir(), 'sf-2n-a-'));
const dir2 = mkdtempSync(join(tmpdir(), 'sf-2n-b-'));
/** Both nodes take their pod ranges from the operator, one /24 each. */
const CLUSTER_POD_CIDR = '10.244.0.0/16';
const up = new UpProcess(netns, dir1, { extraArgs: ['--node-loss-grace', String(GRACE_SECONDS), '--pod-cidr', 'allocated', '--cluster-pod-cidr', CLUSTER_POD_CIDR] });
const node1 = hostname().toLowerCase();
const node2 = 'second-node';
const agent2 = new AgentProcess(netns, dir2, ['--kubeconfig', up.kubeconfig, '--node-name', node2,
  '--pod-cidr', 'allocated', '--bridge', 'sf1', '--proxy-table', 'sf1', '--metrics-address', '127.0.0.1:0',
  '--sandbox-image', PAUSE_IMAGE, '--image-preload-dir', up.imagesDir, '--node-lease-duration', String(LEASE_SECONDS)]);

async function kubectl(...args: string[]): Promise<string> {
  return (await up.kubectl(...args)).stdout;
}

async function nftTables(): Promise<string> {
  return (await netns.exec({}, 'nft', 'list', 'tables')).stdout;
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

/** Applies whoamiWorkloadYaml(name, spec). */
async function applyWhoami(name: string, spec: string): Promise<void> {
  const file = join(dir1, `${name}.yaml`);
  writeFileSync(file, whoamiWorkloadYaml(name, spec));
  await kubectl('apply', '-f', file);
}

beforeAll(async () => {
  await netns.create();
  await up.start();
  agent2.start();
}, 120_000);

afterAll(async () => {
  await agent2.kill();
  await up.kill();
  await netns.remove();
  rmSync(dir1, { recursive: true, force: true });
  rmSync(dir2, { recursive: true, force: true });
}, 90_000);

describe('two nodes on one host', () => {
  it('registers both agents Ready, each with its own nftables table', async () => {
    await eventually('both NodeAgents to be Ready', async () => {
      agent2.throwIfExited();
      const out = await kubectl('get', 'nodeagents', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}');
      const ready = out.split('\n').filter(Boolean).sort();
      return JSON.stringify(ready) === JSON.stringify([`${node1}=True`, `${node2}=True`].sort());
    }, 60_000, POLL_MS);
    const tables = await nftTables();
    expect(tables).toContain('table ip shopfloor');
    expect(tables).toContain('table ip sf1');
    const ranges = (await kubectl('get', 'nodeagents', '-o', 'jsonpath={range .items[*]}{.spec.podCIDR}{"\\n"}{end}')).split('\n').filter(Boolean).sort();
    expect(ranges).toEqual(['10.244.0.0/24', '10.244.1.0/24']);
  }, 70_000);

  it('runs an EveryNode workload once on each node', async () => {
    await applyWhoami('everywhere', `  placement:
    mode: EveryNode`);
    await eventually('one Running replica on each node', async () => {
      const p = await placements('everywhere');
      return JSON.stringify(p) === JSON.stringify([`${node1} Running`, `${node2} Running`].sort()) && p;
    }, 60_000, POLL_MS);
    // Each replica's IP comes from its own node's range.
    const rangeOf = new Map((await kubectl('get', 'nodeagents', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.podCIDR}{"\\n"}{end}')).split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
    const ips = (await kubectl('get', 'na', '-l', 'shopfloor.dev/workload=everywhere', '-o', 'jsonpath={range .items[*]}{.spec.nodeName} {.status.podIP}{"\\n"}{end}')).split('\n').filter(Boolean);
    expect(ips).toHaveLength(2);
    for (const line of ips) {
      const [node, ip] = line.split(' ') as [string, string];
      expect(`${ip.split('.').slice(0, 3).join('.')}.0/24`).toBe(rangeOf.get(node));
    }
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
    await kubectl('wait', '--for=condition=Ready', 'nw/spread', '--timeout=60s');
    expect(await placements('spread')).toEqual([`${node1} Running`, `${node2} Running`].sort());
    vip = await kubectl('get', 'nw', 'spread', '-o', 'jsonpath={.status.clusterIP}');
    expect(vip).toMatch(/^10\.250\.\d+\.\d+$/);
    const nodeOf = new Map((await assignments('spread')).map((l) => l.split(' ') as [string, string]));
    // Each replica answers with its host name, its assignment's name.
    const seen = await eventually('the VIP to answer from both nodes', async () => {
      const nodes = new Set((await netns.httpGets(vip, 80, 6)).map((a) => nodeOf.get(/^200 (\S+)$/.exec(a)?.[1] ?? '') ?? a));
      return nodes.size === 2 && nodes;
    }, 30_000, POLL_MS);
    expect([...seen].sort()).toEqual([node1, node2].sort());
  }, 90_000);

  it('replaces the replica of a stopped agent on the other node once the operator takes the node for lost', async () => {
    // Like kubelet, a stopped agent leaves its pods running: only its Lease stops.
    expect(await agent2.stop('SIGTERM')).toBe(0);
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
    agent2.start();
    await eventually('the replaced replica to go and the EveryNode one to run again', async () => {
      agent2.throwIfExited();
      const spread = await placements('spread');
      const everywhere = await placements('everywhere');
      return JSON.stringify(spread) === JSON.stringify([`${node1} Running`, `${node1} Running`]) && JSON.stringify(everywhere) === JSON.stringify([`${node1} Running`, `${node2} Running`].sort());
    }, 60_000, POLL_MS);
  }, 70_000);

  it('removes only its own rules: `up` its table, the second agent\'s cleanup its table', async () => {
    await kubectl('delete', 'nw', 'everywhere', 'spread', '--wait=true', '--timeout=60s');
    // Its containerd alone is left: the shims of its pods are gone.
    await eventually('the second node\'s pods to be gone', () => agent2.runtimePids().length === 1, 30_000);
    expect(await agent2.stop('SIGTERM')).toBe(0);
    expect(await up.stop('SIGTERM')).toBe(0);
    const tables = await nftTables();
    expect(tables).not.toContain('table ip shopfloor');
    expect(tables).toContain('table ip sf1');
    await netns.shopfloor('agent', 'cleanup', '--proxy-table', 'sf1');
    expect(await nftTables()).not.toContain('table ip sf1');
    expect(up.partPids()).toEqual({ controlPlane: [], containerd: [] });
    expect(agent2.runtimePids()).toEqual([]);
  }, 90_000);
});
