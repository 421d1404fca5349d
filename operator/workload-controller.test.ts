// The reconcile's deletion path with a fake API (an apiserver cannot be made to fail one delete
// on demand): a delete that failed must not let the VIP finalizer go while the replica exists.
import { describe, expect, it } from '@jest/globals';
import { BY_WORKLOAD, FINALIZER_VIP, LABEL_WORKLOAD, workloadIndex } from '../api/index.js';
import { KubeApiError } from '../kube/errors.js';
import { EventRecorder } from '../kube/events.js';
import { Informer } from '../kube/informer.js';
import { KubeClient } from '../kube/client.js';
import type { Lease } from '../kube/leader-election.js';
import { silentLogger } from '../kube/logger.js';
import { LEASES, NODE_AGENTS, NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import { NodeMonitor, type NodeAgentObject } from './node-monitor.js';
import { PendingWrites } from './pending-writes.js';
import { UsageLedger } from './usage-ledger.js';
import { VipAllocator } from './vip-allocator.js';
import { WorkloadReconciler, type NodeAssignmentObject, type NodeWorkloadObject } from './workload-controller.js';
import { unreachableKubeConfig } from '../kube/test-fixtures.js';

const kc = unreachableKubeConfig();

/** A fake API client: records writes; the first `failDeletes` deletes answer 500. */
class FakeApi extends KubeClient {
  readonly calls: string[] = [];
  constructor(private failDeletes: number) {
    super(kc);
  }
  override delete(_r: unknown, name: string): Promise<never> {
    this.calls.push(`delete ${name}`);
    if (this.failDeletes-- > 0) return Promise.reject(new KubeApiError(500, 'InternalError', { message: 'etcd hiccup' }, 'DELETE', name));
    return Promise.resolve({} as never);
  }
  override patch(_r: unknown, name: string, patch: unknown): Promise<never> {
    this.calls.push(`patch ${name} ${JSON.stringify(patch)}`);
    return Promise.resolve({} as never);
  }
}

describe('WorkloadReconciler deletion', () => {
  it('keeps the VIP and the finalizer when deleting a replica failed, and retries the delete', async () => {
    const api = new FakeApi(1);
    const workloads = new Informer<NodeWorkloadObject>({ client: api, resource: NODE_WORKLOADS });
    const assignments = new Informer<NodeAssignmentObject>({ client: api, resource: NODE_ASSIGNMENTS, indexers: { [BY_WORKLOAD]: workloadIndex } });
    const agents = new Informer<NodeAgentObject>({ client: api, resource: NODE_AGENTS });
    const leases = new Informer<Lease>({ client: api, resource: LEASES });
    const vips = new VipAllocator();
    const reconciler = new WorkloadReconciler({
      client: api,
      workloads,
      assignments,
      nodes: new NodeMonitor({ agents, leases, nodeLossGraceMs: 60_000, onNodeChange: () => {} }),
      vips,
      ledger: new UsageLedger(),
      pending: new PendingWrites<NodeAssignmentObject>(),
      events: new EventRecorder({ client: api, component: 'test' }),
      logger: silentLogger(),
      now: () => Date.now(),
      requeue: () => {},
    });
    workloads.store.upsert({
      metadata: { namespace: 'ns', name: 'web', uid: 'u1', resourceVersion: '5', deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: [FINALIZER_VIP] },
      spec: {},
    });
    assignments.store.upsert({
      metadata: { namespace: 'ns', name: 'web-1', uid: 'a1', resourceVersion: '6', labels: { [LABEL_WORKLOAD]: 'web' } },
      spec: { nodeName: 'n1', workloadRef: { name: 'web', uid: 'u1' }, revision: 'r', template: { containers: [] } },
    } as unknown as NodeAssignmentObject);
    const ip = vips.ensure('ns/web');
    expect(ip.ok).toBe(true);

    const signal = new AbortController().signal;
    await expect(reconciler.reconcile('ns/web', signal)).rejects.toThrow(/etcd hiccup/);
    // The retry: the replica is still there, so it is deleted again, and the VIP stays held.
    await reconciler.reconcile('ns/web', signal);
    expect(api.calls).toEqual(['delete web-1', 'delete web-1']);
    expect(vips.ipOf('ns/web')).toBe(ip.ok ? ip.ip : undefined);
  });
});
