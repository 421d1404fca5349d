// The third step of a reconcile: the actions a plan asks for, and the one executor that carries
// them out. It is the one place that reads what the API server answered — conflicts, not-found,
// already-exists — and that keeps the expectations and the assumed node usage true to the writes.
import { FINALIZER_VIP } from '../api/index.js';
import type { KubeClient } from '../kube/client.js';
import { isAlreadyExists, isConflict, isNotFound } from '../kube/errors.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import { objectKey } from '../kube/types.js';
import type { AssumedUsage } from './assumed-usage.js';
import type { Expectations } from './expectations.js';
import { assignmentRequests, type NodeAssignmentObject, type NodeWorkloadObject } from './objects.js';
import type { VipClaim, VipClaims } from './vip-claims.js';

export type Action =
  /** Adds the VIP finalizer to the workload, so that its address outlives its replicas. */
  | { kind: 'setFinalizer' }
  /** Removes the VIP finalizer from the workload. */
  | { kind: 'dropFinalizer' }
  /** Makes the workload hold a VIP: `requested` (spec.service.clusterIP) when given. */
  | { kind: 'claimVip'; requested: string | undefined }
  | { kind: 'releaseVip' }
  | { kind: 'createAssignment'; assignment: NodeAssignmentObject }
  /** A merge patch of the assignment, or of its status. */
  | { kind: 'patchAssignment'; assignment: NodeAssignmentObject; subresource?: 'status'; patch: Record<string, unknown> }
  | { kind: 'deleteAssignment'; assignment: NodeAssignmentObject; why: string };

export interface Outcome {
  /** The workload as its last write returned it (as observed when nothing was written to it). */
  workload: NodeWorkloadObject | undefined;
  /** What claiming the VIP gave. */
  vip?: VipClaim;
  /** The VIP released. */
  released?: string;
  finalizer?: 'set' | 'dropped';
  /** Assignment writes tried, by verb. */
  creates: number;
  patches: number;
  deletes: number;
  /** Creates were left out because a removal failed. */
  createsSkipped: boolean;
  /**
   * The rest of the actions was left out: a write of the workload found it `gone` (its delete
   * event brings the next reconcile) or changed since it was read (`conflict`: read again and
   * retry soon), or `failed`.
   */
  stopped?: 'gone' | 'conflict' | 'failed';
  /** What failed, for a retry with backoff; every assignment write was tried first. */
  error?: Error;
}

/** One run of the executor: the actions of one reconcile. */
export interface Execution {
  /** The workload's key, `namespace/name`. */
  key: string;
  /** The workload as observed; undefined when it is gone. */
  workload: NodeWorkloadObject | undefined;
  actions: readonly Action[];
  signal: AbortSignal;
}

export interface ActionExecutorDeps {
  client: KubeClient;
  vips: VipClaims;
  usage: AssumedUsage;
  expectations: Expectations<NodeAssignmentObject>;
  fieldManager: string;
}

/** How a write ended. */
type Settled = 'done' | 'gone' | 'conflict' | Error;
/** How an assignment write ended: the executor has read NotFound and Conflict for it already. */
type Written = 'done' | Error;

/**
 * What the API server's answer means for us, read once here:
 * - AlreadyExists: an assignment name is the same for the same view, so another writer with that
 *   view made it already — done;
 * - NotFound: the object is gone — for a delete or a patch of an assignment that is done; for a
 *   write of the workload, the workload is gone and the reconcile stops;
 * - Conflict: the object changed since the cache showed it — the reconcile stops and runs again
 *   once the cache has caught up;
 * - anything else fails the write, and the reconcile, after every assignment write was tried.
 */
async function settle(write: Promise<unknown>): Promise<Settled> {
  try {
    await write;
    return 'done';
  } catch (err) {
    if (isAlreadyExists(err)) return 'done';
    if (isNotFound(err)) return 'gone';
    if (isConflict(err)) return 'conflict';
    return err instanceof Error ? err : new Error(String(err));
  }
}

export class ActionExecutor {
  constructor(private readonly d: ActionExecutorDeps) {}

  /**
   * Carries out the actions for the workload: first the workload's own (finalizer, VIP) in
   * order; then every assignment patch and delete together; then the creates, only if no removal
   * failed — replicas are replaced, never surged.
   */
  async execute({ key, workload, actions, signal }: Execution): Promise<Outcome> {
    const out: Outcome = { workload, creates: 0, patches: 0, deletes: 0, createsSkipped: false };
    for (const action of actions) {
      if (action.kind === 'claimVip') out.vip = this.d.vips.claim(key, action.requested);
      else if (action.kind === 'releaseVip') out.released = this.d.vips.release(key);
      else if ((action.kind === 'setFinalizer' || action.kind === 'dropFinalizer') && out.workload) {
        const want = action.kind === 'setFinalizer';
        let written: NodeWorkloadObject | undefined;
        const settled = await settle(this.patchFinalizer(out.workload, want, signal).then((w) => (written = w)));
        if (settled === 'done') {
          // A finalizer patch leaves the status as it was: the observed one, checked, stays.
          out.workload = written && { ...written, status: out.workload.status };
          out.finalizer = want ? 'set' : 'dropped';
        } else if (settled instanceof Error) {
          return { ...out, stopped: 'failed', error: settled };
        } else {
          return { ...out, stopped: settled };
        }
      }
    }

    const removals: Array<Promise<Written>> = [];
    for (const action of actions) {
      if (action.kind === 'patchAssignment') {
        out.patches++;
        removals.push(this.patch(action, signal));
      } else if (action.kind === 'deleteAssignment') {
        out.deletes++;
        removals.push(this.delete(key, action.assignment, signal));
      }
    }
    const removed = await Promise.all(removals);
    const failures = removed.filter((s): s is Error => s instanceof Error);
    const creates = actions.filter((a): a is Extract<Action, { kind: 'createAssignment' }> => a.kind === 'createAssignment');
    if (failures.length) {
      out.createsSkipped = creates.length > 0;
    } else {
      out.creates = creates.length;
      const created = await Promise.all(creates.map((a) => this.create(key, a.assignment, signal)));
      failures.push(...created.filter((s): s is Error => s instanceof Error));
    }
    if (failures.length) {
      const tried = out.creates + out.patches + out.deletes;
      const first = failures[0]!;
      out.error = new Error(`${failures.length} of ${tried} writes for NodeWorkload ${key} failed; first: ${first.message}`, { cause: first });
    }
    return out;
  }

  /** Adds (want) or removes the VIP finalizer, guarded by resourceVersion; returns the object as it is now. */
  private patchFinalizer(workload: NodeWorkloadObject, want: boolean, signal: AbortSignal): Promise<NodeWorkloadObject> {
    const finalizers = workload.metadata?.finalizers ?? [];
    const next = want ? [...finalizers, FINALIZER_VIP] : finalizers.filter((f) => f !== FINALIZER_VIP);
    return this.d.client.patch<NodeWorkloadObject>(
      NODE_WORKLOADS,
      workload.metadata?.name ?? '',
      { metadata: { finalizers: next.length ? next : null, resourceVersion: workload.metadata?.resourceVersion } },
      { namespace: workload.metadata?.namespace, fieldManager: this.d.fieldManager, signal },
    );
  }

  private async patch(action: Extract<Action, { kind: 'patchAssignment' }>, signal: AbortSignal): Promise<Written> {
    const { name, namespace } = action.assignment.metadata ?? {};
    const options = { namespace, fieldManager: this.d.fieldManager, signal };
    const write =
      action.subresource === 'status'
        ? this.d.client.patchStatus(NODE_ASSIGNMENTS, name ?? '', action.patch, options)
        : this.d.client.patch(NODE_ASSIGNMENTS, name ?? '', action.patch, options);
    const settled = await settle(write);
    if (settled === 'done' || settled === 'gone') return 'done';
    return settled === 'conflict' ? new Error(`patching NodeAssignment ${namespace}/${name}: it changed meanwhile`) : settled;
  }

  /**
   * Counts the assignment gone at once (expected delete, node usage); a delete that fails counts
   * it again: the retry must still see it, and a finalizer must not release the VIP while it exists.
   */
  private async delete(key: string, assignment: NodeAssignmentObject, signal: AbortSignal): Promise<Written> {
    const k = objectKey(assignment);
    this.d.expectations.expectDelete(key, k);
    this.d.usage.remove(k);
    const settled = await settle(this.d.client.delete(NODE_ASSIGNMENTS, assignment.metadata?.name ?? '', { namespace: assignment.metadata?.namespace, signal }));
    if (settled === 'done' || settled === 'gone') return 'done';
    this.d.expectations.deleteFailed(k);
    this.d.usage.set(k, assignment.spec?.nodeName ?? '', assignmentRequests(assignment));
    return settled === 'conflict' ? new Error(`deleting NodeAssignment ${k}: it changed meanwhile`) : settled;
  }

  /** Counts the assignment placed at once; a create that fails takes it back. */
  private async create(key: string, assignment: NodeAssignmentObject, signal: AbortSignal): Promise<Written> {
    const k = objectKey(assignment);
    this.d.expectations.expectCreate(key, assignment);
    this.d.usage.set(k, assignment.spec.nodeName, assignmentRequests(assignment));
    const settled = await settle(this.d.client.create(NODE_ASSIGNMENTS, assignment, { fieldManager: this.d.fieldManager, signal }));
    if (settled === 'done') return 'done';
    this.d.expectations.createFailed(k);
    this.d.usage.remove(k);
    return settled instanceof Error ? settled : new Error(`creating NodeAssignment ${k}: ${settled === 'gone' ? 'its namespace is gone' : 'it changed meanwhile'}`);
  }
}
