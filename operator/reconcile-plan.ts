// The second step of a reconcile, pure: from what was observed, what to do — as a list of
// actions for the executor, with the placement plan (planWorkload) the report reads. A workload
// that is gone, being deleted, invalid or placing each has its own plan.
import { createHash } from 'node:crypto';
import {
  API_VERSION,
  ANNOTATION_REPLACED_AT,
  FINALIZER_VIP,
  LABEL_MANAGED_BY,
  LABEL_NODE,
  LABEL_REVISION,
  LABEL_WORKLOAD,
  MANAGED_BY_VALUE,
  rfc3339,
  setCondition,
  type NodeWorkload,
} from '../api/index.js';
import type { Action } from './actions.js';
import { assignmentRequests, type NodeAssignmentObject, type NodeWorkloadObject } from './objects.js';
import { planWorkload, type AssignmentView, type Plan } from './plan.js';
import { templateRequests } from './scheduler.js';
import type { Observation } from './workload-observe.js';
import { checkWorkload } from './workload-spec.js';

export type ReconcilePlan =
  /** The workload is gone: its VIP is released and what is left of its assignments deleted. */
  | { kind: 'gone'; actions: Action[] }
  /** The workload is being deleted: its assignments go, then its VIP, then its finalizer. */
  | { kind: 'deleting'; workload: NodeWorkloadObject; actions: Action[] }
  /** The spec cannot be acted on: nothing is changed and the status says why. */
  | { kind: 'invalid'; workload: NodeWorkloadObject; errors: string[]; actions: [] }
  | {
      kind: 'placing';
      workload: NodeWorkloadObject;
      spec: NodeWorkload['spec'];
      revision: string;
      placement: Plan;
      /** The workload's own assignments that are not terminating (leftovers of an earlier workload of the same name excluded). */
      replicas: NodeAssignmentObject[];
      actions: Action[];
    };

/** Names that stay the same for the same workload, revision, node and ordinal: a second writer gets AlreadyExists, not a duplicate. */
export function assignmentName(workload: string, revision: string, node: string, ordinal: number): string {
  const h = createHash('sha256').update(`${revision}/${node}/${ordinal}`).digest('hex').slice(0, 8);
  return `${workload}-${h}`;
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

function deletes(assignments: readonly NodeAssignmentObject[], why: string): Action[] {
  return assignments.map((assignment) => ({ kind: 'deleteAssignment', assignment, why }));
}

const notTerminating = (a: NodeAssignmentObject): boolean => !a.metadata?.deletionTimestamp;

export function planReconcile(o: Observation): ReconcilePlan {
  const workload = o.workload;
  if (!workload) return { kind: 'gone', actions: [{ kind: 'releaseVip' }, ...deletes(o.assignments.filter(notTerminating), 'its NodeWorkload is gone')] };

  const hasFinalizer = workload.metadata?.finalizers?.includes(FINALIZER_VIP) === true;
  if (workload.metadata?.deletionTimestamp) {
    // Without the finalizer nothing waits for the replicas; ownerReference GC removes them.
    if (!hasFinalizer) return { kind: 'deleting', workload, actions: [{ kind: 'releaseVip' }] };
    // Terminating assignments (an agent may hold them while it stops containers) still use the
    // VIP, and so do deleted ones the cache still shows without a deletionTimestamp: the address
    // is released only once the cache shows every one of them gone.
    if (o.assignments.length || o.unconfirmedDeletes > 0) return { kind: 'deleting', workload, actions: deletes(o.assignments.filter(notTerminating), 'its NodeWorkload is being deleted') };
    return { kind: 'deleting', workload, actions: [{ kind: 'releaseVip' }, { kind: 'dropFinalizer' }] };
  }

  const check = checkWorkload(workload);
  if (!check.ok) return { kind: 'invalid', workload, errors: check.errors, actions: [] };
  const spec = check.spec;

  // The VIP: a finalizer first, so that the address is released only after the replicas are gone.
  const actions: Action[] = spec.service
    ? [...(hasFinalizer ? [] : [{ kind: 'setFinalizer' } as const]), { kind: 'claimVip', requested: spec.service.clusterIP }]
    : [{ kind: 'releaseVip' }, ...(hasFinalizer ? [{ kind: 'dropFinalizer' } as const] : [])];

  // Terminating assignments are no longer replicas, but their names stay taken and their
  // resources stay counted until they are gone. Leftovers of an earlier workload of the same
  // name are not ours to count.
  const uid = workload.metadata?.uid;
  const owned = o.assignments.filter(notTerminating);
  const stale = owned.filter((a) => uid && a.spec?.workloadRef?.uid && a.spec.workloadRef.uid !== uid);
  const replicas = owned.filter((a) => !stale.includes(a));

  const revision = check.revision;
  const placement = planWorkload({
    mode: spec.placement.mode,
    replicas: spec.placement.replicas ?? 0,
    selector: spec.placement.nodeSelector,
    maxPerNode: spec.placement.maxPerNode,
    maxUnavailable: spec.updateStrategy?.maxUnavailable ?? 1,
    revision,
    request: templateRequests(spec.template),
    nodes: o.nodes,
    assignments: replicas.map((a) => toView(a, o.now)),
    usage: o.usage,
  });

  const byName = new Map(replicas.map((a) => [a.metadata?.name ?? '', a]));
  const now = new Date(o.now);
  for (const name of placement.markUnknown) {
    const assignment = byName.get(name);
    if (!assignment) continue;
    const conditions = setCondition(
      assignment.status?.conditions,
      { type: 'Ready', status: 'Unknown', reason: 'NodeLost', message: `node ${assignment.spec.nodeName} stopped renewing its Lease; the replica's state is unknown` },
      now,
    );
    actions.push({ kind: 'patchAssignment', assignment, subresource: 'status', patch: { status: { phase: 'Unknown', ready: false, conditions } } });
  }
  for (const name of placement.markReplaced) {
    const assignment = byName.get(name);
    if (assignment) actions.push({ kind: 'patchAssignment', assignment, patch: { metadata: { annotations: { [ANNOTATION_REPLACED_AT]: rfc3339(now) } } } });
  }
  actions.push(...deletes(stale, 'left over from an earlier NodeWorkload of the same name'));
  for (const d of placement.delete) {
    const assignment = byName.get(d.name);
    if (assignment) actions.push({ kind: 'deleteAssignment', assignment, why: d.why });
  }

  const taken = new Set(o.takenNames);
  const ordinals = new Map<string, number>();
  const name = workload.metadata?.name ?? '';
  for (const node of placement.create) {
    let ordinal = ordinals.get(node) ?? 0;
    let free = assignmentName(name, revision, node, ordinal);
    while (taken.has(free)) free = assignmentName(name, revision, node, ++ordinal);
    ordinals.set(node, ordinal + 1);
    taken.add(free);
    actions.push({ kind: 'createAssignment', assignment: newAssignment(workload, spec.template, revision, node, free) });
  }
  return { kind: 'placing', workload, spec, revision, placement, replicas, actions };
}

function newAssignment(workload: NodeWorkloadObject, template: NodeWorkload['spec']['template'], revision: string, node: string, name: string): NodeAssignmentObject {
  const workloadName = workload.metadata?.name ?? '';
  const uid = workload.metadata?.uid;
  return {
    apiVersion: API_VERSION,
    kind: 'NodeAssignment',
    metadata: {
      name,
      namespace: workload.metadata?.namespace,
      labels: { [LABEL_NODE]: node, [LABEL_WORKLOAD]: workloadName, [LABEL_REVISION]: revision, [LABEL_MANAGED_BY]: MANAGED_BY_VALUE },
      ownerReferences: [{ apiVersion: API_VERSION, kind: 'NodeWorkload', name: workloadName, uid: uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: { nodeName: node, workloadRef: { name: workloadName, ...(uid ? { uid } : {}) }, revision, template },
  };
}
