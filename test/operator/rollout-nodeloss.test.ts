// Rolling updates and node loss against the devcluster, driven by simulated agents (they renew
// node Leases and report assignments ready after a delay, running no containers). A watcher
// records every state the assignments pass through, so the maxUnavailable bound is checked at
// each step, not only at the end.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeClient } from '../../kube/client.js';
import { Informer } from '../../kube/informer.js';
import { runOperator, type RunningOperator } from '../../operator/index.js';
import { NODE_ASSIGNMENTS } from '../../kube/resource.js';
import type { NodeAssignmentObject } from '../../operator/objects.js';
import { SimulatedAgents } from '../sim/simulated-agents.js';
import {
  SYSTEM_NAMESPACE,
  condition,
  eventually,
  getWorkload,
  listAssignments,
  mustKubectl,
  perNode,
  startOperatorTestCluster,
  suffix,
  workloadYaml,
  type OperatorTestCluster,
} from './support.js';

const ns = `roll-${suffix()}`;
let env: OperatorTestCluster | undefined;
let sim: SimulatedAgents | undefined;
let op: RunningOperator | undefined;
let watcher: Informer<NodeAssignmentObject> | undefined;

/** Node Leases of 3 s renewed every second, and 3 s of grace: node loss plays out in seconds. */
const LEASE_SECONDS = 3;
const GRACE_MS = 3000;

beforeAll(async () => {
  env = await startOperatorTestCluster(ns);
  sim = new SimulatedAgents({ client: env.client, namespace: SYSTEM_NAMESPACE, readyAfterMs: 400, leaseDurationSeconds: LEASE_SECONDS, renewEveryMs: 1000 });
  await sim.add(['a', 'b', 'c', 'd', 'e'].map((n) => ({ name: `node-${n}`, labels: { pool: 'main' } })));
  op = await runOperator({ kubeConfig: env.cluster.kubeConfig, leaderElect: false, metricsAddress: false, nodeLossGraceMs: GRACE_MS });
  watcher = new Informer<NodeAssignmentObject>({ client: new KubeClient(env.cluster.kubeConfig), resource: NODE_ASSIGNMENTS, namespace: ns });
  watcher.start();
  await watcher.waitForSync();
}, 120_000);

afterAll(async () => {
  await watcher?.stop();
  await op?.stop();
  await sim?.stop();
  await env?.cluster.stop();
}, 60_000);

const apply = (yaml: string) => mustKubectl(env!.cluster, ['apply', '-f', '-'], yaml);

/**
 * Records, after every watch event, how many of `workload`'s assignments exist and are ready,
 * from the moment the watch has caught up with the `ready` replicas the API already shows (a
 * watch that lags on a loaded machine would otherwise count the replicas' start as unavailability).
 */
async function track(workload: string, ready: number): Promise<{ minReady: number; maxReplicas: number }> {
  const seen = { minReady: Infinity, maxReplicas: 0 };
  const mine = () => watcher!.list().filter((a) => a.metadata?.labels?.['shopfloor.dev/workload'] === workload);
  await eventually(`the watch to show ${ready} ready replicas of ${workload}`, () => mine().filter((a) => a.status?.ready === true).length === ready);
  const observe = (): void => {
    const now = mine();
    seen.minReady = Math.min(seen.minReady, now.filter((a) => a.status?.ready === true).length);
    seen.maxReplicas = Math.max(seen.maxReplicas, now.length);
  };
  watcher!.addEventHandler({ onAdd: observe, onUpdate: observe, onDelete: observe });
  return seen;
}

async function waitReady(name: string, generation: number): Promise<void> {
  await eventually(`${name} to be Ready at generation ${generation}`, async () => {
    const w = await getWorkload(env!.cluster, ns, name);
    return w.status?.observedGeneration === generation && condition(w, 'Ready')?.status === 'True';
  }, 90_000);
}

describe('rolling updates', () => {
  it.each<[string, 'Replicas' | 'EveryNode', number | string, number]>([
    ['Replicas with maxUnavailable 2', 'Replicas', 2, 2],
    ['EveryNode with maxUnavailable 20%', 'EveryNode', '20%', 1],
  ])('%s never has more than that many of 5 replicas unavailable', async (_name, mode, maxUnavailable, bound) => {
    const name = `roll-${mode.toLowerCase()}`;
    await apply(workloadYaml(ns, name, { mode, replicas: 5, maxPerNode: mode === 'Replicas' ? 1 : undefined, maxUnavailable, image: 'busybox:1.36' }));
    await waitReady(name, 1);
    const before = await listAssignments(env!.cluster, ns, name);
    const seen = await track(name, 5);
    await apply(workloadYaml(ns, name, { mode, replicas: 5, maxPerNode: mode === 'Replicas' ? 1 : undefined, maxUnavailable, image: 'busybox:1.37' }));
    await waitReady(name, 2);
    const after = await listAssignments(env!.cluster, ns, name);
    const wl = await getWorkload(env!.cluster, ns, name);
    expect(after).toHaveLength(5);
    expect(new Set(after.map((a) => a.spec.revision))).toEqual(new Set([wl.status?.currentRevision]));
    expect(after.every((a) => a.spec.template.containers[0]?.image === 'busybox:1.37')).toBe(true);
    expect(after.map((a) => a.metadata?.name).filter((n) => before.some((b) => b.metadata?.name === n))).toEqual([]);
    expect(Object.values(perNode(after))).toEqual([1, 1, 1, 1, 1]);
    expect(5 - seen.minReady).toBeLessThanOrEqual(bound);
    expect(seen.minReady).toBeLessThan(5);
    expect(seen.maxReplicas).toBeLessThanOrEqual(5);
    expect(wl.status).toMatchObject({ replicas: 5, readyReplicas: 5, updatedReplicas: 5, availableReplicas: 5 });
  }, 120_000);
});

describe('node loss', () => {
  it('marks replicas of a node whose Lease expired Unknown, replaces Replicas ones after the grace period, and removes the stale ones when the node is back', async () => {
    await apply(workloadYaml(ns, 'lossy', { replicas: 3, maxPerNode: 1, nodeSelector: { pool: 'main' } }));
    await apply(workloadYaml(ns, 'daemon', { mode: 'EveryNode', nodeSelector: { pool: 'main' } }));
    await waitReady('lossy', 1);
    await waitReady('daemon', 1);
    const victim = (await listAssignments(env!.cluster, ns, 'lossy'))[0]!.spec.nodeName;

    sim!.pause(victim);
    await eventually(`replicas on ${victim} to turn Unknown`, async () => {
      const onVictim = [...(await listAssignments(env!.cluster, ns, 'lossy')), ...(await listAssignments(env!.cluster, ns, 'daemon'))].filter((a) => a.spec.nodeName === victim);
      return onVictim.length === 2 && onVictim.every((a) => a.status?.phase === 'Unknown' && a.status.ready === false);
    });
    const degraded = await eventually('daemon to report the lost node', async () => {
      const c = condition(await getWorkload(env!.cluster, ns, 'daemon'), 'Degraded');
      return c?.reason === 'NodeLost' && c;
    });
    expect(degraded).toMatchObject({ status: 'True', message: `1 replica on ${victim} in state Unknown: the node stopped renewing its Lease` });

    // After the grace period: a replacement on a live node; the stale one stays, marked.
    await eventually('lossy to be Ready again on other nodes', async () => {
      const w = await getWorkload(env!.cluster, ns, 'lossy');
      return condition(w, 'Ready')?.status === 'True';
    }, 60_000);
    const during = await listAssignments(env!.cluster, ns, 'lossy');
    const stale = during.filter((a) => a.spec.nodeName === victim);
    expect(stale).toHaveLength(1);
    expect(stale[0]!.metadata?.annotations?.['shopfloor.dev/replaced-at']).toBeDefined();
    expect(during.filter((a) => a.spec.nodeName !== victim && a.status?.ready === true)).toHaveLength(3);
    // EveryNode replicas are never moved: the one on the lost node waits for it.
    expect(perNode(await listAssignments(env!.cluster, ns, 'daemon'))[victim]).toBe(1);

    await sim!.resume(victim);
    await eventually('the stale replica to be deleted once the node is back', async () => {
      const nas = await listAssignments(env!.cluster, ns, 'lossy');
      return nas.length === 3 && nas.every((a) => a.metadata?.annotations?.['shopfloor.dev/replaced-at'] === undefined);
    });
    await eventually('daemon to be Ready again', async () => condition(await getWorkload(env!.cluster, ns, 'daemon'), 'Ready')?.status === 'True');
  }, 120_000);

  it('deletes the replicas of a node that is removed from the cluster', async () => {
    const node = 'node-e';
    expect(perNode(await listAssignments(env!.cluster, ns, 'daemon'))[node]).toBe(1);
    await sim!.remove(node);
    await eventually(`daemon's replica on ${node} to be deleted`, async () => perNode(await listAssignments(env!.cluster, ns, 'daemon'))[node] === undefined);
    await eventually('daemon to be Ready on the 4 nodes left', async () => {
      const w = await getWorkload(env!.cluster, ns, 'daemon');
      return w.status?.desiredReplicas === 4 && condition(w, 'Ready')?.status === 'True';
    });
  }, 60_000);
});
