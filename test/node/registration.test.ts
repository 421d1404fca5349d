// Node registration against a real API server (the devcluster): the NodeAgent and Lease carry
// what the operator reads (checked with the operator's own NodeMonitor), status is written only
// when it changed, Ready follows the runtime, and what is deleted comes back.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpuMillis, findCondition, memoryBytes, type NodeAgent } from '../../api/index.js';
import { Informer } from '../../kube/informer.js';
import type { Lease } from '../../kube/leader-election.js';
import { LEASES, NODE_AGENTS } from '../../kube/resource.js';
import { NodeMonitor, type NodeAgentObject } from '../../operator/node-monitor.js';
import { eventually, mustKubectl, startOperatorTestCluster, SYSTEM_NAMESPACE, testNode, type TestNode } from './support.js';
import type { OperatorTestCluster } from '../operator/support.js';

describe('NodeRegistration', () => {
  let t: OperatorTestCluster;
  const nodes: TestNode[] = [];

  beforeAll(async () => {
    t = await startOperatorTestCluster('node-registration');
  });

  afterAll(async () => {
    for (const n of nodes) await n.registration.stop();
    for (const n of nodes) n.client.close();
    t?.client.close();
    await t?.cluster.stop();
  });

  function start(name: string, over: Parameters<typeof testNode>[2] = {}): TestNode {
    const n = testNode(t.cluster.kubeConfig, name, over);
    nodes.push(n);
    return n;
  }

  const agent = (name: string): Promise<NodeAgent> => t.client.get<NodeAgent>(NODE_AGENTS, name);
  const lease = (name: string): Promise<Lease> => t.client.get<Lease>(LEASES, name, { namespace: SYSTEM_NAMESPACE });

  it('registers a NodeAgent and a Lease with what the operator reads', async () => {
    const n = start('node-a');
    await n.registration.start();
    await eventually('registration ready', () => n.registration.ready() === true);

    const a = await agent('node-a');
    expect(a.metadata.labels).toMatchObject({
      'topology.kubernetes.io/zone': 'zone-a',
      'kubernetes.io/hostname': 'node-a',
      'kubernetes.io/os': 'linux',
      'app.kubernetes.io/managed-by': 'shopfloor',
    });
    expect(a.spec).toEqual({ podCIDR: '10.244.7.0/24' });
    const s = a.status!;
    expect(cpuMillis(s.capacity!.cpu)).toBeGreaterThanOrEqual(1000);
    expect(memoryBytes(s.capacity!.memory)).toBeGreaterThan(2 ** 28);
    expect(s.allocatable).toEqual(s.capacity);
    expect(s.capacity?.pods).toBe(110);
    expect(s.nodeInfo).toEqual({ runtimeName: 'containerd', runtimeVersion: '1.6.20', agentVersion: '0.1.0-test', proxyMode: 'nftables' });
    expect(s.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.7' },
      { type: 'Hostname', address: 'node-a' },
    ]);
    expect(findCondition(s.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'AgentReady' });

    // The first Lease may predate the NodeAgent; the renewal after registration adds the owner.
    const l = await eventually('the Lease owned by the NodeAgent', async () => {
      const x = await lease('node-a');
      return (x.metadata?.ownerReferences?.length ?? 0) > 0 && x;
    });
    expect(l.metadata?.ownerReferences).toEqual([{ apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeAgent', name: 'node-a', uid: a.metadata.uid }]);
    expect(l.spec).toMatchObject({ holderIdentity: 'node-a', leaseDurationSeconds: 40 });
    expect(Date.parse(l.spec?.renewTime ?? '')).toBeGreaterThan(Date.now() - 60_000);

    // The operator's own view of the node: live, schedulable, with the allocatable it reported.
    const agents = new Informer<NodeAgentObject>({ client: t.client, resource: NODE_AGENTS });
    const leases = new Informer<Lease>({ client: t.client, resource: LEASES, namespace: SYSTEM_NAMESPACE });
    const monitor = new NodeMonitor({ agents, leases, nodeLossGraceMs: 60_000 });
    agents.start();
    leases.start();
    try {
      // As the operator does, the monitor is asked once both caches have synced: before that, a
      // node whose Lease has not been listed yet reads as expired.
      const seen = await eventually('the operator to see node-a', () => agents.hasSynced() && leases.hasSynced() && monitor.nodes().find((x) => x.name === 'node-a' && x.allocatable));
      expect(seen).toMatchObject({
        live: true,
        health: 'Live',
        unschedulable: false,
        allocatable: { cpuMillis: cpuMillis(s.allocatable!.cpu), memoryBytes: memoryBytes(s.allocatable!.memory), pods: 110 },
      });
    } finally {
      await monitor.stop();
      await Promise.all([agents.stop(), leases.stop()]);
    }

    const table = await mustKubectl(t.cluster, ['get', 'nodeagents', 'node-a']);
    expect(table).toMatch(/node-a\s+True\s+containerd/);
  });

  it('renews the Lease, and creates it again when it is deleted', async () => {
    const first = await lease('node-a');
    await eventually('a renewal', async () => (await lease('node-a')).spec?.renewTime !== first.spec?.renewTime);
    await mustKubectl(t.cluster, ['delete', 'lease', 'node-a', '-n', SYSTEM_NAMESPACE]);
    const again = await eventually('the Lease to be created again', async () => {
      try {
        const l = await lease('node-a');
        return l.metadata?.uid !== first.metadata?.uid && l;
      } catch {
        return false;
      }
    });
    expect(again.spec).toMatchObject({ holderIdentity: 'node-a', leaseDurationSeconds: 40 });
  });

  it('writes the status only when it changed', async () => {
    const n = nodes[0]!;
    // Past the first rounds, whose writes may have raced the watch.
    const settled = n.statusTicks() + 3;
    await eventually('three status rounds', () => n.statusTicks() >= settled);
    const patches = await n.requests('PATCH');
    const ticks = n.statusTicks();
    await eventually('five more status rounds', () => n.statusTicks() >= ticks + 5);
    expect(await n.requests('PATCH')).toBe(patches);

    n.setPods(3);
    await eventually('the running replicas to be reported', async () => (await agent('node-a')).status?.pods === 3);
    expect(await n.requests('PATCH')).toBe(patches + 1);
  });

  it('reports Ready False with the CRI error while the runtime is unreachable, and True again when it answers', async () => {
    const n = nodes[0]!;
    n.runtime.down = new Error('Version: 14 UNAVAILABLE: No connection established. Last error: connect ENOENT /run/containerd/containerd.sock');
    const down = await eventually('Ready False', async () => {
      const c = findCondition((await agent('node-a')).status?.conditions, 'Ready');
      return c?.status === 'False' && c;
    });
    expect(down).toMatchObject({
      reason: 'RuntimeUnreachable',
      message: 'container runtime unreachable: Version: 14 UNAVAILABLE: No connection established. Last error: connect ENOENT /run/containerd/containerd.sock',
    });
    // The runtime last seen stays; rounds while it stays down write nothing.
    expect((await agent('node-a')).status?.nodeInfo?.runtimeName).toBe('containerd');
    const patches = await n.requests('PATCH');
    const ticks = n.statusTicks();
    await eventually('three rounds while down', () => n.statusTicks() >= ticks + 3);
    expect(await n.requests('PATCH')).toBe(patches);
    expect(findCondition((await agent('node-a')).status?.conditions, 'Ready')?.lastTransitionTime).toBe(down.lastTransitionTime);

    n.runtime.down = undefined;
    await eventually('Ready True again', async () => findCondition((await agent('node-a')).status?.conditions, 'Ready')?.reason === 'AgentReady');
  });

  it('keeps what an admin set across a restart, and registers again when the NodeAgent is deleted', async () => {
    await mustKubectl(t.cluster, ['patch', 'nodeagent', 'node-a', '--type', 'merge', '-p', '{"spec":{"unschedulable":true}}']);
    const before = await agent('node-a');
    await nodes[0]!.registration.stop();
    const n = start('node-a', { labels: { 'topology.kubernetes.io/zone': 'zone-b' } });
    await n.registration.start();
    await eventually('the new label', async () => (await agent('node-a')).metadata.labels?.['topology.kubernetes.io/zone'] === 'zone-b');
    const after = await agent('node-a');
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.spec).toEqual({ podCIDR: '10.244.7.0/24', unschedulable: true });

    await mustKubectl(t.cluster, ['delete', 'nodeagent', 'node-a']);
    const again = await eventually('the NodeAgent to be registered again', async () => {
      try {
        const a = await agent('node-a');
        return a.metadata.uid !== before.metadata.uid && findCondition(a.status?.conditions, 'Ready') && a;
      } catch {
        return false;
      }
    });
    expect(again.spec).toEqual({ podCIDR: '10.244.7.0/24' });
    // The Lease went with its owner, and comes back owned by the new NodeAgent.
    await eventually('the Lease owned by the new NodeAgent', async () => {
      try {
        return (await lease('node-a')).metadata?.ownerReferences?.[0]?.uid === again.metadata.uid;
      } catch {
        return false;
      }
    });
    await eventually('ready again', () => n.registration.ready() === true);
  });

  it('leaves the NodeAgent and the Lease when it stops', async () => {
    const n = nodes[nodes.length - 1]!;
    await n.registration.stop();
    expect((await agent('node-a')).metadata.name).toBe('node-a');
    expect((await lease('node-a')).spec?.holderIdentity).toBe('node-a');
  });
});
