// Placement against the devcluster, read back with real kubectl: EveryNode and Replicas over
// simulated agents with different labels and capacity, the conditions a user sees when replicas
// cannot be placed, `kubectl wait --for=condition=Ready`, relabelled nodes, invalid specs and
// deletion with the VIP finalizer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import {
  condition,
  eventually,
  getWorkload,
  listAssignments,
  mustKubectl,
  notYet,
  perNode,
  startOperatorSuite,
  suffix,
  workloadYaml,
  type OperatorSuite,
} from './support.js';

const ns = `place-${suffix()}`;
let env: OperatorSuite | undefined;

beforeAll(async () => {
  env = await startOperatorSuite(ns, [
    { name: 'n1', labels: { disk: 'ssd', zone: 'a' }, cpu: '4', memory: '8Gi' },
    { name: 'n2', labels: { disk: 'ssd', zone: 'b' }, cpu: '1', memory: '2Gi' },
    { name: 'n3', labels: { disk: 'hdd', zone: 'a' }, cpu: '4', memory: '8Gi' },
    { name: 'n4', labels: { zone: 'b' }, cpu: '2', memory: '4Gi' },
  ], 300);
}, 120_000);

afterAll(async () => {
  await env?.stop();
}, 60_000);

const apply = (yaml: string) => mustKubectl(env!.cluster, ['apply', '-f', '-'], yaml);

describe('placement against the devcluster', () => {
  it('places an EveryNode workload on every node matching its selector, with labels and an owner', async () => {
    await apply(workloadYaml(ns, 'agent-ssd', { mode: 'EveryNode', nodeSelector: { disk: 'ssd' } }));
    const ready = await env!.cluster.kubectl(['wait', '--for=condition=Ready', `nw/agent-ssd`, '-n', ns, '--timeout=60s']);
    expect(ready.stderr).toBe('');
    expect(ready.code).toBe(0);
    const nas = await listAssignments(env!.cluster, ns, 'agent-ssd');
    expect(perNode(nas)).toEqual({ n1: 1, n2: 1 });
    const wl = await getWorkload(env!.cluster, ns, 'agent-ssd');
    for (const a of nas) {
      expect(a.metadata?.labels).toMatchObject({ 'shopfloor.dev/node': a.spec.nodeName, 'shopfloor.dev/workload': 'agent-ssd', 'app.kubernetes.io/managed-by': 'shopfloor', 'shopfloor.dev/revision': wl.status?.currentRevision });
      expect(a.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'NodeWorkload', name: 'agent-ssd', uid: wl.metadata?.uid, controller: true })]);
    }
    expect(wl.status).toMatchObject({ desiredReplicas: 2, replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2, observedGeneration: 1 });
    const described = await mustKubectl(env!.cluster, ['describe', 'nw', 'agent-ssd', '-n', ns]);
    expect(described).toContain(`placed 2 replicas of revision ${wl.status?.currentRevision} on n1, n2`);
  });

  it('spreads Replicas over the nodes that have room, honouring maxPerNode, and kubectl wait returns once they are ready', async () => {
    await apply(workloadYaml(ns, 'web', { replicas: 5, cpu: '1500m', maxPerNode: 2 }));
    const ready = await env!.cluster.kubectl(['wait', '--for=condition=Ready', 'nw/web', '-n', ns, '--timeout=60s']);
    expect(ready.code).toBe(0);
    expect(perNode(await listAssignments(env!.cluster, ns, 'web'))).toEqual({ n1: 2, n3: 2, n4: 1 });
    const table = await mustKubectl(env!.cluster, ['get', 'nw', 'web', '-n', ns]);
    expect(table).toMatch(/web\s+Replicas\s+5\s+5/);
  });

  it('says which node lacks cpu when a replica fits nowhere', async () => {
    await apply(workloadYaml(ns, 'big', { replicas: 1, cpu: '3' }));
    const wl = await eventually('big to be Degraded', async () => {
      const w = await getWorkload(env!.cluster, ns, 'big');
      return condition(w, 'Degraded')?.status === 'True' && w;
    });
    expect(condition(wl, 'Degraded')).toMatchObject({ reason: 'InsufficientResources', observedGeneration: 1 });
    expect(condition(wl, 'Degraded')?.message).toContain('Insufficient cpu on n1 (requests 3, 900m free)');
    expect(condition(wl, 'Ready')).toMatchObject({ status: 'False', reason: 'InsufficientResources' });
    expect(await listAssignments(env!.cluster, ns, 'big')).toEqual([]);
    const event = await eventually('a FailedScheduling event about big', async () => {
      const events = JSON.parse(await mustKubectl(env!.cluster, ['get', 'events', '-n', ns, '-o', 'json'])) as { items: Array<{ reason: string; message: string; involvedObject: { name: string } }> };
      return events.items.find((e) => e.involvedObject.name === 'big' && e.reason === 'FailedScheduling');
    });
    expect(event.message).toContain('Insufficient cpu on n1');
  });

  it('says how many nodes match a selector that matches none', async () => {
    await apply(workloadYaml(ns, 'nvme', { replicas: 3, nodeSelector: { disk: 'nvme' } }));
    const wl = await eventually('nvme to be Degraded', async () => {
      const w = await getWorkload(env!.cluster, ns, 'nvme');
      return condition(w, 'Degraded')?.status === 'True' && w;
    });
    expect(condition(wl, 'Degraded')).toMatchObject({ reason: 'Unschedulable', message: '0 of 4 nodes match nodeSelector disk=nvme' });
    const shown = await mustKubectl(env!.cluster, ['get', 'nw', 'nvme', '-n', ns, '-o', 'jsonpath={.status.conditions[?(@.type=="Degraded")].message}']);
    expect(shown).toBe('0 of 4 nodes match nodeSelector disk=nvme');
  });

  it('takes the replica off a node that stops matching, and places on one that starts to', async () => {
    await env!.sim.relabel('n2', { disk: 'hdd', zone: 'b' });
    await env!.sim.relabel('n4', { disk: 'ssd', zone: 'b' });
    await eventually('agent-ssd to move from n2 to n4', async () => {
      const nas = await listAssignments(env!.cluster, ns, 'agent-ssd');
      const nodes = perNode(nas);
      return nodes['n2'] === undefined && nodes['n4'] === 1 && nodes['n1'] === 1 && nas.length === 2;
    });
    const ready = await env!.cluster.kubectl(['wait', '--for=condition=Ready', 'nw/agent-ssd', '-n', ns, '--timeout=60s']);
    expect(ready.code).toBe(0);
  });

  it('scales a Replicas workload down and up', async () => {
    await apply(workloadYaml(ns, 'web', { replicas: 2, cpu: '1500m', maxPerNode: 2 }));
    await eventually('web to scale to 2', async () => (await listAssignments(env!.cluster, ns, 'web')).length === 2);
    await apply(workloadYaml(ns, 'web', { replicas: 3, cpu: '1500m', maxPerNode: 2 }));
    await eventually('web to scale to 3 and be ready', async () => {
      const w = await getWorkload(env!.cluster, ns, 'web');
      return w.status?.observedGeneration === 3 && condition(w, 'Ready')?.status === 'True' && w.status.replicas === 3;
    });
  });

  it('reports a spec that got past the schema as Degraded naming the field, and changes no assignment', async () => {
    const before = (await listAssignments(env!.cluster, ns, 'web')).map((a) => a.metadata?.name).sort();
    const broken = parse(workloadYaml(ns, 'web', { cpu: '1500m', maxPerNode: 2 }));
    delete broken.spec.placement.replicas;
    await apply(stringify(broken));
    const wl = await eventually('web to report the invalid spec', async () => {
      const w = await getWorkload(env!.cluster, ns, 'web');
      return condition(w, 'Degraded')?.reason === 'InvalidSpec' && w;
    });
    expect(condition(wl, 'Degraded')?.message).toContain('spec.placement.replicas: is required when mode is Replicas');
    expect(wl.status?.observedGeneration).toBe(wl.metadata?.generation);
    expect((await listAssignments(env!.cluster, ns, 'web')).map((a) => a.metadata?.name).sort()).toEqual(before);
  });

  it('deletes the assignments with their workload and releases the VIP before the workload goes', async () => {
    await apply(workloadYaml(ns, 'svc', { replicas: 2, service: true }));
    const wl = await eventually('svc to get a VIP and replicas', async () => {
      const w = await getWorkload(env!.cluster, ns, 'svc');
      return w.status?.clusterIP && w.status.replicas === 2 ? w : undefined;
    });
    expect(wl.metadata?.finalizers).toContain('shopfloor.dev/vip');
    expect(wl.status?.clusterIP).toMatch(/^10\.250\.\d+\.\d+$/);
    await mustKubectl(env!.cluster, ['delete', 'nw', 'svc', '-n', ns, '--wait=true', '--timeout=60s']);
    expect(await listAssignments(env!.cluster, ns, 'svc')).toEqual([]);
    const gone = await env!.cluster.kubectl(['get', 'nw', 'svc', '-n', ns]);
    expect(gone.stderr).toContain('NotFound');
  });

  it('keeps the VIP reserved while an agent still holds an assignment of a deleted workload', async () => {
    await apply(workloadYaml(ns, 'held', { replicas: 1, service: true }));
    const wl = await eventually('held to get a VIP and its replica', async () => {
      const w = await getWorkload(env!.cluster, ns, 'held');
      return w.status?.clusterIP && w.status.replicas === 1 ? w : undefined;
    });
    const ip = wl.status?.clusterIP as string;
    const [na] = await listAssignments(env!.cluster, ns, 'held');
    const name = na!.metadata?.name as string;
    // What an agent does while it stops containers: a finalizer of its own on the assignment.
    await mustKubectl(env!.cluster, ['patch', 'na', name, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":["test.shopfloor.dev/simulated-agent-hold"]}}']);
    await mustKubectl(env!.cluster, ['delete', 'nw', 'held', '-n', ns, '--wait=false']);
    await apply(workloadYaml(ns, 'wants-ip', { replicas: 0, clusterIP: ip }));
    const refused = await eventually('wants-ip to be refused while held', async () => {
      const w = await getWorkload(env!.cluster, ns, 'wants-ip');
      return condition(w, 'Degraded')?.status === 'True' && w;
    });
    expect(condition(refused, 'Degraded')?.reason).toBe('ClusterIPTaken');
    // Markers that the operator has got past the deletion instead of a wait: it has reconciled
    // held's deletion (its assignment is asked to go), and then wants-ip once more (a spec
    // change it reports as observed) — still without the address.
    await eventually('held\'s assignment to be deleting', async () => {
      const [a] = await listAssignments(env!.cluster, ns, 'held');
      return a?.metadata?.deletionTimestamp !== undefined || notYet(JSON.stringify(a?.metadata));
    });
    await apply(workloadYaml(ns, 'wants-ip', { replicas: 0, clusterIP: ip, maxUnavailable: 2 }));
    const again = await eventually('wants-ip\'s spec change to be reconciled', async () => {
      const w = await getWorkload(env!.cluster, ns, 'wants-ip');
      const generation = w.metadata?.generation ?? 0;
      return (generation > (refused.metadata?.generation ?? 0) && w.status?.observedGeneration === generation && w) || notYet(JSON.stringify({ generation, status: w.status }));
    });
    expect(condition(again, 'Degraded')?.reason).toBe('ClusterIPTaken');
    expect((await getWorkload(env!.cluster, ns, 'held')).metadata?.deletionTimestamp).toBeDefined();

    await mustKubectl(env!.cluster, ['patch', 'na', name, '-n', ns, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually('held to be gone', async () => (await env!.cluster.kubectl(['get', 'nw', 'held', '-n', ns])).stderr.includes('NotFound'));
    const got = await eventually('wants-ip to get the address', async () => {
      const w = await getWorkload(env!.cluster, ns, 'wants-ip');
      return w.status?.clusterIP === ip && w;
    });
    expect(condition(got, 'Degraded')?.status).toBe('False');
  });
});
