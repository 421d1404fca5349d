// The last step of a reconcile, pure: the workload's status and events from what was observed,
// planned and done. The controller writes the status (only when it differs) and records the events.
import { findCondition, type NodeWorkloadStatus } from '../api/index.js';
import type { Action, Outcome } from './actions.js';
import type { NodeAssignmentObject } from './objects.js';
import type { ReconcilePlan } from './reconcile-plan.js';
import { invalidSpecStatus, plural, workloadStatus, type Problem } from './status.js';
import type { Observation } from './workload-observe.js';
import { shorten } from '../kube/shorten.js';

export interface WorkloadEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface Report {
  /** Events about what was done, recorded whatever becomes of the status. */
  events: WorkloadEvent[];
  /**
   * The status to write. Undefined while assignments move: the watch events of the writes bring
   * the next reconcile, which writes the status once they stand still (fewer writes per replica).
   */
  status?: NodeWorkloadStatus;
  /** Events recorded once the status is written: they tell of what it changed. */
  statusEvents: WorkloadEvent[];
}

/** Container states that mean a replica will not become ready without the user's help. */
const FAILING_REASONS = new Set(['CrashLoopBackOff', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerError', 'CreateContainerConfigError', 'RunContainerError']);

function failing(replicas: readonly NodeAssignmentObject[]): Problem | undefined {
  const lines: string[] = [];
  for (const a of replicas) {
    const bad = a.status?.containers?.find((c) => c.reason && FAILING_REASONS.has(c.reason));
    if (bad) lines.push(`${a.metadata?.name} on ${a.spec.nodeName}: container ${bad.name} ${bad.reason}`);
    else if (a.status?.phase === 'Failed') lines.push(`${a.metadata?.name} on ${a.spec.nodeName}: phase Failed`);
  }
  if (!lines.length) return undefined;
  const shown = lines.sort().slice(0, 3).join('; ') + (lines.length > 3 ? `; and ${lines.length - 3} more` : '');
  return { reason: 'ReplicaFailing', message: shown };
}

function eventsOfActions(plan: Extract<ReconcilePlan, { kind: 'placing' }>, outcome: Outcome): WorkloadEvent[] {
  const events: WorkloadEvent[] = [];
  const { placement, revision } = plan;
  if (placement.create.length && !outcome.createsSkipped) {
    const where = [...placement.create].sort().join(', ');
    events.push({ type: 'Normal', reason: 'Scheduled', message: `placed ${plural(placement.create.length, 'replica')} of revision ${revision} on ${where}` });
  }
  const deletes = plan.actions.filter((a): a is Extract<Action, { kind: 'deleteAssignment' }> => a.kind === 'deleteAssignment');
  if (deletes.length) {
    const lines = deletes.map((d) => `${d.assignment.metadata?.name} on ${d.assignment.spec?.nodeName ?? ''} (${d.why})`);
    events.push({ type: 'Normal', reason: 'Descheduled', message: `removed ${plural(deletes.length, 'replica')}: ${lines.join('; ')}` });
  }
  if (placement.markReplaced.length) {
    events.push({ type: 'Warning', reason: 'NodeLost', message: `replaced ${plural(placement.markReplaced.length, 'replica')} of lost nodes elsewhere: ${placement.markReplaced.join(', ')}` });
  }
  return events;
}

/** What a report is made from: the four steps' results. */
export interface ReportInput {
  observation: Observation;
  plan: ReconcilePlan;
  outcome: Outcome;
}

export function reportFor({ observation: o, plan, outcome }: ReportInput): Report {
  const now = new Date(o.now);
  if (plan.kind === 'gone' || plan.kind === 'deleting') return { events: [], statusEvents: [] };
  const current = outcome.workload ?? plan.workload;
  const generation = current.metadata?.generation ?? 0;
  const before = findCondition(current.status?.conditions, 'Degraded');

  // Only a status write replaces a bad stored status, so its fields are named until one has.
  const statusProblems: Problem[] = o.statusErrors.length ? [{ reason: 'InvalidStatus', message: `the stored status had fields the operator could not read, replaced by this status: ${o.statusErrors.join('; ')}` }] : [];

  if (plan.kind === 'invalid') {
    const status = invalidSpecStatus(current.status, generation, plan.errors, now, statusProblems);
    const after = findCondition(status.conditions, 'Degraded');
    const statusEvents: WorkloadEvent[] = after?.message !== before?.message ? [{ type: 'Warning', reason: 'InvalidSpec', message: after?.message ?? '' }] : [];
    return { events: [], status, statusEvents };
  }

  const events = eventsOfActions(plan, outcome);
  const assignmentWrites = outcome.creates + outcome.patches + outcome.deletes;
  if (assignmentWrites > 0 && !outcome.error) return { events, statusEvents: [] };

  const { placement } = plan;
  const problems: Problem[] = [];
  if (outcome.error) {
    const message = shorten(outcome.error.message, 400);
    problems.push({ reason: 'WriteFailed', message: `could not write NodeAssignments (retrying): ${message}` });
  }
  const vip = outcome.vip?.result;
  if (vip && !vip.ok) problems.push({ reason: vip.reason, message: vip.message });
  if (placement.unplaced) problems.push(placement.unplaced);
  const live = new Set(o.nodes.filter((n) => n.live).map((n) => n.name));
  const lost = placement.kept.filter((a) => !live.has(a.nodeName));
  if (lost.length) {
    const where = [...new Set(lost.map((a) => a.nodeName))].sort().join(', ');
    problems.push({ reason: 'NodeLost', message: `${plural(lost.length, 'replica')} on ${where} in state Unknown: the node stopped renewing its Lease` });
  }
  const kept = new Set(placement.kept.map((a) => a.name));
  const failed = failing(plan.replicas.filter((a) => kept.has(a.metadata?.name ?? '')));
  if (failed) problems.push(failed);
  problems.push(...statusProblems);

  const status = workloadStatus({
    name: current.metadata?.name ?? '',
    generation,
    revision: plan.revision,
    desired: placement.desired,
    replicas: placement.kept,
    nodeLive: (n) => live.has(n),
    clusterIP: vip?.ok ? vip.ip : undefined,
    problems,
    blocked: placement.unplaced !== undefined,
    previous: current.status,
    now,
  });
  const after = findCondition(status.conditions, 'Degraded');
  const statusEvents: WorkloadEvent[] =
    after?.status === 'True' && after.message !== before?.message
      ? [{ type: 'Warning', reason: after.reason === 'InsufficientResources' || after.reason === 'Unschedulable' ? 'FailedScheduling' : after.reason, message: after.message }]
      : [];
  return { events, status, statusEvents };
}
