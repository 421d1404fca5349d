// The reconcile's four steps together, with a fake API client (an API server cannot be made to
// fail one chosen write on demand) and caches filled by hand.
import { describe, expect, it } from '@jest/globals';
import { BY_WORKLOAD, FINALIZER_VIP, workloadIndex } from '../api/index.js';
import { EventRecorder } from '../kube/events.js';
import { FakeApiClient } from '../kube/fake-api-client.js';
import { Informer } from '../kube/informer.js';
import { createLogger } from '../kube/logger.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import type { NodeAssignmentObject, NodeWorkloadObject } from './objects.js';
import { NOW, assignmentObject, liveNode, workloadObject } from './test-fixtures.js';
import { VipAllocator } from './vip-allocator.js';
import { RESYNC_MS, WorkloadController } from './workload-controller.js';

function setup(random = () => 0.5) {
  const api = new FakeApiClient();
  const workloads = new Informer<NodeWorkloadObject>({ client: api, resource: NODE_WORKLOADS });
  const assignments = new Informer<NodeAssignmentObject>({ client: api, resource: NODE_ASSIGNMENTS, indexers: { [BY_WORKLOAD]: workloadIndex } });
  const vips = new VipAllocator();
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ name: 'test', destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } });
  /** A fake of the NodeMonitor: two live nodes, and no node ever changes. */
  const nodes = { nodes: () => [liveNode('n1'), liveNode('n2')], addEventHandler: () => {}, waitForSync: async () => true };
  const controller = new WorkloadController({
    client: api,
    workloads,
    assignments,
    nodes,
    vips,
    events: new EventRecorder({ client: api, component: 'test' }),
    logger,
    clock: { now: () => NOW, setTimer: () => () => {} },
    random,
  });
  const put = (workload: NodeWorkloadObject): void => {
    workloads.store.upsert(workload);
    api.put(workload);
  };
  return { api, workloads, assignments, vips, controller, logs, put, signal: new AbortController().signal };
}

describe('WorkloadController', () => {
  it('keeps the VIP and the finalizer when deleting a replica failed, and retries the delete', async () => {
    const { api, assignments, vips, controller, put, signal } = setup();
    put(workloadObject({}, { deletionTimestamp: '2026-03-01T11:59:00Z', finalizers: [FINALIZER_VIP] }));
    assignments.store.upsert(assignmentObject('web-1', 'n1'));
    const ip = vips.ensure('ns/web');
    api.fail('delete', 'web-1', 500, { message: 'etcd hiccup' });

    await expect(controller.reconcile('ns/web', signal)).rejects.toThrow(/etcd hiccup/);
    // The retry: the replica is still there, so it is deleted again, and the VIP stays held.
    await controller.reconcile('ns/web', signal);
    expect(api.calls).toEqual(['delete web-1', 'delete web-1']);
    expect(vips.ipOf('ns/web')).toBe(ip.ok ? ip.ip : undefined);
  });

  it('asks to look at a reconciled workload again after a jittered ten minutes, and at a gone one never', async () => {
    for (const [random, after] of [
      [0, RESYNC_MS],
      [0.5, RESYNC_MS * 1.05],
      [0.999, Math.round(RESYNC_MS * 1.0999)],
    ] as const) {
      const { controller, put, signal } = setup(() => random);
      put(workloadObject({ placement: { mode: 'Replicas', replicas: 0 } }));
      expect(await controller.reconcile('ns/web', signal)).toEqual({ requeueAfterMs: after });
      expect(await controller.reconcile('ns/gone', signal)).toEqual({});
    }
  });

  it('retries soon, without an error and without writing status, when the workload changed under it', async () => {
    const { api, controller, put, signal } = setup();
    put(workloadObject({ service: { ports: [{ port: 80 }] } }));
    api.fail('patch', 'web', 409);
    expect(await controller.reconcile('ns/web', signal)).toEqual({ requeue: true });
    expect(api.calls).toHaveLength(1);
  });

  it('logs one line for each plan it carries out, and none for a plan that changes nothing', async () => {
    const { controller, logs, put, signal, workloads } = setup();
    put(workloadObject({ service: { ports: [{ port: 80 }] } }));
    await controller.reconcile('ns/web', signal);
    const carriedOut = logs.filter((l) => l['msg'] === 'plan carried out');
    expect(carriedOut).toEqual([
      expect.objectContaining({ workload: 'ns/web', plan: 'placing', creates: 2, patches: 0, deletes: 0, vip: 'claimed 10.250.0.1', finalizer: 'set' }),
    ]);

    // The creates are expected (the cache has not shown them yet) and the finalizer is there: the
    // same workload plans nothing more.
    workloads.store.upsert(workloadObject({ service: { ports: [{ port: 80 }] } }, { finalizers: [FINALIZER_VIP], resourceVersion: '6' }));
    logs.length = 0;
    await controller.reconcile('ns/web', signal);
    expect(logs.filter((l) => l['msg'] === 'plan carried out')).toEqual([]);
  });
});
