// The NodeWorkload reconcile: reads one workload, its assignments and the nodes from the caches,
// plans with the pure planner, writes the difference (assignments, VIP finalizer, status) and
// records the placement decisions as events. Level-triggered and keyed by namespace/name.
import { createHash } from 'node:crypto';
import {
  API_VERSION,
  BY_WORKLOAD,
  FINALIZER_VIP,
  ANNOTATION_REPLACED_AT,
  LABEL_MANAGED_BY,
  LABEL_NODE,
  LABEL_REVISION,
  LABEL_WORKLOAD,
  MANAGED_BY_VALUE,
  findCondition,
  rfc3339,
  setCondition,
  type NodeAssignmentSpec,
  type NodeAssignmentStatus,
  type NodeWorkload,
  type NodeWorkloadStatus,
} from '../api/index.js';
import type { KubeClient } from '../kube/client.js';
import { isAlreadyExists, isNotFound } from '../kube/errors.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import type { Logger } from '../kube/logger.js';
import { patchStatusIfChanged } from '../kube/status.js';
import type { KubeObject } from '../kube/types.js';
import type { NodeMonitor } from './node-monitor.js';
import type { PendingWrites } from './pending-writes.js';
import { planWorkload, type AssignmentView, type Plan } from './plan.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import { templateRequests, type Resources } from './scheduler.js';
import { invalidSpecStatus, plural, workloadStatus, type Problem } from './status.js';
import type { UsageLedger } from './usage-ledger.js';
import type { VipAllocator } from './vip-allocator.js';
import { checkWorkload } from './workload-spec.js';
import { templateRevision } from '../api/revision.js';

export interface NodeWorkloadObject extends KubeObject {
  spec?: unknown;
  status?: NodeWorkloadStatus;
}

export interface NodeAssignmentObject extends KubeObject {
  spec: NodeAssignmentSpec;
  status?: NodeAssignmentStatus;
}

/** Index of the assignment cache by node name. */
export const BY_NODE = 'byNode';

const FIELD_MANAGER = 'shopfloor-operator';

/** Container states that mean a replica will not become ready without the user's help. */
const FAILING_REASONS = new Set(['CrashLoopBackOff', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerError', 'CreateContainerConfigError', 'RunContainerError']);

export interface WorkloadReconcilerDeps {
  client: KubeClient;
  workloads: Informer<NodeWorkloadObject>;
  assignments: Informer<NodeAssignmentObject>;
  nodes: NodeMonitor;
  vips: VipAllocator;
  ledger: UsageLedger;
  pending: PendingWrites<NodeAssignmentObject>;
  events: EventRecorder;
  logger: Logger;
  now: () => number;
  /** Reconcile `key` again soon (workloads waiting for a VIP that was just released). */
  requeue: (key: string) => void;
}

/** The requests of an assignment's template; malformed ones (not written by us) count as nothing. */
const requestsCache = new WeakMap<NodeAssignmentObject, Resources>();
export function assignmentRequests(a: NodeAssignmentObject): Resources {
  let r = requestsCache.get(a);
  if (!r) {
    try {
      r = templateRequests(a.spec.template);
    } catch {
      r = { cpuMillis: 0, memoryBytes: 0 };
    }
    requestsCache.set(a, r);
  }
  return r;
}

function toView(a: NodeAssignmentObject, now: number): AssignmentView {
  const created = Date.parse(a.metadata?.creationTimestamp ?? '');
  return {
    name: a.metadata?.name ?? '',
    nodeName: a.spec?.nodeName ?? '',
    revision: a.spec?.revision ?? '',
    ready: a.status?.ready === true,
    ...(a.status?.phase ? { phase: a.status.phase } : {}),
    replaced: a.metadata?.annotations?.[ANNOTATION_REPLACED_AT] !== undefined,
    requests: assignmentRequests(a),
    createdAt: Number.isFinite(created) ? created : now,
  };
}

/** Names that stay the same for the same workload, revision, node and ordinal: a second writer gets AlreadyExists, not a duplicate. */
export function assignmentName(workload: string, revision: string, node: string, ordinal: number): string {
  const h = createHash('sha256').update(`${revision}/${node}/${ordinal}`).digest('hex').slice(0, 8);
  return `${workload}-${h}`;
}

export class WorkloadReconciler {
  /** Workloads whose last plan left replicas without a node: node changes and freed capacity retry them. */
  readonly blocked = new Set<string>();
  /** Workloads whose requested clusterIP is taken: a release may be what they wait for. */
  private readonly vipWaiters = new Set<string>();

  constructor(private readonly d: WorkloadReconcilerDeps) {}

  async reconcile(key: string, signal: AbortSignal): Promise<void> {
    const { workloads, assignments, pending } = this.d;
    const wl = workloads.get(key);
    const cached = assignments.byIndex(BY_WORKLOAD, key);
    const all = pending.view(key, cached);
    if (!wl) {
      this.blocked.delete(key);
      this.vipWaiters.delete(key);
      this.releaseVip(key);
      await this.deleteAll(key, all.filter((a) => !a.metadata?.deletionTimestamp), 'its NodeWorkload is gone', signal);
      return;
    }
    if (wl.metadata?.deletionTimestamp) {
      this.blocked.delete(key);
      await this.finalize(key, wl, all, signal);
      return;
    }
    // Terminating assignments (an agent may hold them while it stops containers) are no longer
    // replicas, but their names stay taken and their resources stay counted until they are gone.
    const owned = all.filter((a) => !a.metadata?.deletionTimestamp);
    const takenNames = new Set([...cached, ...all].map((a) => a.metadata?.name ?? ''));
    const log = this.d.logger.child({ namespace: wl.metadata?.namespace, name: wl.metadata?.name });
    const generation = wl.metadata?.generation ?? 0;
    const check = checkWorkload(wl);
    if (!check.ok) {
      this.blocked.delete(key);
      const previous = findCondition(wl.status?.conditions, 'Degraded');
      const status = invalidSpecStatus(wl.status, generation, check.errors, new Date(this.d.now()));
      const written = await patchStatusIfChanged(this.d.client, NODE_WORKLOADS, wl, status, { fieldManager: FIELD_MANAGER, signal });
      const now = findCondition(status.conditions, 'Degraded');
      if (written.changed && now?.message !== previous?.message) {
        this.d.events.event(wl, 'Warning', 'InvalidSpec', now?.message ?? '');
        log.warn({ errors: check.errors }, 'spec is invalid; assignments left as they are');
      }
      return;
    }
    const workload = check.workload;
    const spec = workload.spec;
    const uid = wl.metadata?.uid;

    // The VIP: a finalizer first, so that the address is released only after the replicas are gone.
    const problems: Problem[] = [];
    let clusterIP: string | undefined;
    let current: NodeWorkloadObject = wl;
    if (spec.service) {
      current = await this.setFinalizer(current, true, signal);
      const held = this.d.vips.ipOf(key);
      const r = this.d.vips.ensure(key, spec.service.clusterIP);
      if (r.ok) {
        clusterIP = r.ip;
        this.vipWaiters.delete(key);
        // Moving to a requested address frees the old one, which someone may be waiting for.
        if (held !== undefined && held !== r.ip) for (const k of this.vipWaiters) this.d.requeue(k);
      } else {
        problems.push({ reason: r.reason, message: r.message });
        this.vipWaiters.add(key);
      }
    } else {
      this.vipWaiters.delete(key);
      this.releaseVip(key);
      current = await this.setFinalizer(current, false, signal);
    }

    // Leftovers of an earlier workload of the same name are not ours to count.
    const stale = owned.filter((a) => uid && a.spec?.workloadRef?.uid && a.spec.workloadRef.uid !== uid);
    const mine = owned.filter((a) => !stale.includes(a));

    const now = this.d.now();
    const revision = templateRevision(spec.template);
    const nodes = this.d.nodes.nodes();
    const views = mine.map((a) => toView(a, now));
    const plan = planWorkload({
      mode: spec.placement.mode,
      replicas: spec.placement.replicas ?? 0,
      selector: spec.placement.nodeSelector,
      maxPerNode: spec.placement.maxPerNode,
      maxUnavailable: spec.updateStrategy?.maxUnavailable ?? 1,
      revision,
      request: templateRequests(spec.template),
      nodes,
      assignments: views,
      usage: this.d.ledger.usage(),
    });

    let changed = false;
    let writeError: Error | undefined;
    try {
      changed = await this.apply(key, workload, current, revision, plan, mine, stale, takenNames, signal);
    } catch (err) {
      writeError = err instanceof Error ? err : new Error(String(err));
    }

    if (plan.unplaced) this.blocked.add(key);
    else this.blocked.delete(key);

    // Writes above come back as watch events that reconcile again; the status is written once
    // the assignments stand still, which keeps writes per replica low. A failed write is shown
    // at once (and retried with backoff), because it may not go away by itself.
    if (changed && !writeError) return;
    if (writeError) {
      const message = writeError.message.length > 400 ? `${writeError.message.slice(0, 397)}...` : writeError.message;
      problems.unshift({ reason: 'WriteFailed', message: `could not write NodeAssignments (retrying): ${message}` });
    }
    const live = new Set(nodes.filter((n) => n.live).map((n) => n.name));
    if (plan.unplaced) problems.push(plan.unplaced);
    const lost = plan.kept.filter((a) => !live.has(a.nodeName));
    if (lost.length) {
      const where = [...new Set(lost.map((a) => a.nodeName))].sort().join(', ');
      problems.push({ reason: 'NodeLost', message: `${plural(lost.length, 'replica')} on ${where} in state Unknown: the node stopped renewing its Lease` });
    }
    const failing = this.failing(mine.filter((a) => plan.kept.some((k) => k.name === a.metadata?.name)));
    if (failing) problems.push(failing);

    const status = workloadStatus({
      generation,
      revision,
      desired: plan.desired,
      replicas: plan.kept,
      nodeLive: (n) => live.has(n),
      clusterIP,
      problems,
      blocked: plan.unplaced !== undefined,
      previous: current.status,
      now: new Date(now),
    });
    const before = findCondition(current.status?.conditions, 'Degraded');
    const written = await patchStatusIfChanged(this.d.client, NODE_WORKLOADS, current, status, { fieldManager: FIELD_MANAGER, signal });
    const after = findCondition(status.conditions, 'Degraded');
    if (written.changed && after?.status === 'True' && after.message !== before?.message) {
      this.d.events.event(wl, 'Warning', after.reason === 'InsufficientResources' || after.reason === 'Unschedulable' ? 'FailedScheduling' : after.reason, after.message);
    }
    if (writeError) throw writeError;
  }

  /** Writes the plan; true when anything was written. Throws (for a retry) after trying every write. */
  private async apply(
    key: string,
    workload: NodeWorkload,
    wl: NodeWorkloadObject,
    revision: string,
    plan: Plan,
    mine: NodeAssignmentObject[],
    stale: NodeAssignmentObject[],
    takenNames: ReadonlySet<string>,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { client, pending, ledger } = this.d;
    const namespace = wl.metadata?.namespace ?? '';
    const byName = new Map(mine.map((a) => [a.metadata?.name ?? '', a]));
    const writes: Array<Promise<unknown>> = [];
    const nowIso = rfc3339(new Date(this.d.now()));

    for (const name of plan.markUnknown) {
      const a = byName.get(name);
      if (!a) continue;
      const conditions = setCondition(
        a.status?.conditions,
        { type: 'Ready', status: 'Unknown', reason: 'NodeLost', message: `node ${a.spec.nodeName} stopped renewing its Lease; the replica's state is unknown` },
        new Date(this.d.now()),
      );
      writes.push(ignoreNotFound(client.patchStatus(NODE_ASSIGNMENTS, name, { status: { phase: 'Unknown', ready: false, conditions } }, { namespace, fieldManager: FIELD_MANAGER, signal })));
    }
    for (const name of plan.markReplaced) {
      writes.push(ignoreNotFound(client.patch(NODE_ASSIGNMENTS, name, { metadata: { annotations: { [ANNOTATION_REPLACED_AT]: nowIso } } }, { namespace, fieldManager: FIELD_MANAGER, signal })));
    }
    const deletes = [
      ...stale.map((a) => ({ name: a.metadata?.name ?? '', nodeName: a.spec?.nodeName ?? '', why: 'left over from an earlier NodeWorkload of the same name' })),
      ...plan.delete,
    ];
    const everyOwned = new Map([...byName, ...stale.map((a) => [a.metadata?.name ?? '', a] as const)]);
    for (const d of deletes) writes.push(this.deleteAssignment(key, namespace, d.name, everyOwned.get(d.name), signal));

    // Replicas are replaced, never surged: what goes is gone before what comes is created, and
    // nothing is created while a removal failed.
    const removals = await Promise.allSettled(writes);
    const removalFailed = removals.some((r) => r.status === 'rejected');
    const creates: Array<Promise<unknown>> = [];
    const taken = new Set(takenNames);
    const ordinals = new Map<string, number>();
    for (const node of removalFailed ? [] : plan.create) {
      let ordinal = ordinals.get(node) ?? 0;
      let name = assignmentName(wl.metadata?.name ?? '', revision, node, ordinal);
      while (taken.has(name)) name = assignmentName(wl.metadata?.name ?? '', revision, node, ++ordinal);
      ordinals.set(node, ordinal + 1);
      taken.add(name);
      const obj = this.assignmentFor(wl, workload, revision, node, name);
      const k = `${namespace}/${name}`;
      pending.recordCreate(key, obj);
      ledger.set(k, node, assignmentRequests(obj));
      creates.push(
        client.create(NODE_ASSIGNMENTS, obj, { fieldManager: FIELD_MANAGER, signal }).catch((err: unknown) => {
          if (isAlreadyExists(err)) return;
          pending.forgetCreate(k);
          ledger.remove(k);
          throw err;
        }),
      );
    }

    const results = [...removals, ...(await Promise.allSettled(creates))];
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');

    if (plan.create.length && !removalFailed) {
      const where = [...plan.create].sort().join(', ');
      this.d.events.event(wl, 'Normal', 'Scheduled', `placed ${plural(plan.create.length, 'replica')} of revision ${revision} on ${where}`);
    }
    if (deletes.length) {
      const lines = deletes.map((d) => `${d.name} on ${d.nodeName} (${d.why})`);
      this.d.events.event(wl, 'Normal', 'Descheduled', `removed ${plural(deletes.length, 'replica')}: ${lines.join('; ')}`);
    }
    if (plan.markReplaced.length) {
      this.d.events.event(wl, 'Warning', 'NodeLost', `replaced ${plural(plan.markReplaced.length, 'replica')} of lost nodes elsewhere: ${plan.markReplaced.join(', ')}`);
    }
    if (failed.length) {
      const first = failed[0]!.reason as Error;
      throw new Error(`${failed.length} of ${results.length} writes for NodeWorkload ${key} failed; first: ${first.message}`, { cause: first });
    }
    return results.length > 0;
  }

  private assignmentFor(wl: NodeWorkloadObject, workload: NodeWorkload, revision: string, node: string, name: string): NodeAssignmentObject {
    const wlName = wl.metadata?.name ?? '';
    return {
      apiVersion: API_VERSION,
      kind: 'NodeAssignment',
      metadata: {
        name,
        namespace: wl.metadata?.namespace,
        labels: { [LABEL_NODE]: node, [LABEL_WORKLOAD]: wlName, [LABEL_REVISION]: revision, [LABEL_MANAGED_BY]: MANAGED_BY_VALUE },
        ownerReferences: [{ apiVersion: API_VERSION, kind: 'NodeWorkload', name: wlName, uid: wl.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec: { nodeName: node, workloadRef: { name: wlName, ...(wl.metadata?.uid ? { uid: wl.metadata.uid } : {}) }, revision, template: workload.spec.template },
    };
  }

  /** Adds (want) or removes the VIP finalizer, guarded by resourceVersion; returns the object as it is now. */
  private async setFinalizer(wl: NodeWorkloadObject, want: boolean, signal: AbortSignal): Promise<NodeWorkloadObject> {
    const finalizers = wl.metadata?.finalizers ?? [];
    const has = finalizers.includes(FINALIZER_VIP);
    if (has === want) return wl;
    const next = want ? [...finalizers, FINALIZER_VIP] : finalizers.filter((f) => f !== FINALIZER_VIP);
    return this.d.client.patch<NodeWorkloadObject>(
      NODE_WORKLOADS,
      wl.metadata?.name ?? '',
      { metadata: { finalizers: next.length ? next : null, resourceVersion: wl.metadata?.resourceVersion } },
      { namespace: wl.metadata?.namespace, fieldManager: FIELD_MANAGER, signal },
    );
  }

  /** Deletion: remove the replicas, then release the VIP, then let the workload go. */
  private async finalize(key: string, wl: NodeWorkloadObject, owned: NodeAssignmentObject[], signal: AbortSignal): Promise<void> {
    this.vipWaiters.delete(key);
    if (!wl.metadata?.finalizers?.includes(FINALIZER_VIP)) {
      this.releaseVip(key);
      return;
    }
    if (owned.length) {
      await this.deleteAll(key, owned.filter((a) => !a.metadata?.deletionTimestamp), 'its NodeWorkload is being deleted', signal);
      return;
    }
    this.releaseVip(key);
    await ignoreNotFound(this.setFinalizer(wl, false, signal));
    this.d.logger.info({ namespace: wl.metadata?.namespace, name: wl.metadata?.name }, 'replicas gone; VIP released');
  }

  private async deleteAll(key: string, owned: NodeAssignmentObject[], why: string, signal: AbortSignal): Promise<void> {
    if (!owned.length) return;
    this.d.logger.info({ workload: key, replicas: owned.length }, `deleting replicas: ${why}`);
    const results = await Promise.allSettled(owned.map((a) => this.deleteAssignment(key, a.metadata?.namespace ?? '', a.metadata?.name ?? '', a, signal)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Deletes one assignment of workload `key`, counting it gone at once (pending deletes, node
   * usage). A delete that fails counts it again: the retry must still see it, and a finalizer
   * must not release the VIP while it exists.
   */
  private deleteAssignment(key: string, namespace: string, name: string, a: NodeAssignmentObject | undefined, signal: AbortSignal): Promise<unknown> {
    const k = `${namespace}/${name}`;
    this.d.pending.recordDelete(key, k);
    this.d.ledger.remove(k);
    return ignoreNotFound(this.d.client.delete(NODE_ASSIGNMENTS, name, { namespace, signal })).catch((err: unknown) => {
      this.d.pending.forgetDelete(k);
      if (a) this.d.ledger.set(k, a.spec?.nodeName ?? '', assignmentRequests(a));
      throw err;
    });
  }

  private releaseVip(key: string): void {
    if (this.d.vips.ipOf(key) === undefined) return;
    this.d.vips.release(key);
    for (const k of this.vipWaiters) this.d.requeue(k);
  }

  private failing(list: NodeAssignmentObject[]): Problem | undefined {
    const lines: string[] = [];
    for (const a of list) {
      const bad = a.status?.containers?.find((c) => c.reason && FAILING_REASONS.has(c.reason));
      if (bad) lines.push(`${a.metadata?.name} on ${a.spec.nodeName}: container ${bad.name} ${bad.reason}`);
      else if (a.status?.phase === 'Failed') lines.push(`${a.metadata?.name} on ${a.spec.nodeName}: phase Failed`);
    }
    if (!lines.length) return undefined;
    const shown = lines.sort().slice(0, 3).join('; ') + (lines.length > 3 ? `; and ${lines.length - 3} more` : '');
    return { reason: 'ReplicaFailing', message: shown };
  }
}

async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

