// A NodeWorkload's status from its assignments and what the reconcile found: counts, clusterIP
// and the Ready / Progressing / Degraded conditions. Pure; the controller patches the result
// only when it differs from what is stored (kube/status.ts).
import { LABEL_WORKLOAD, setCondition, type ConditionUpdate, type NodeWorkloadStatus } from '../api/index.js';
import type { AssignmentView } from './plan.js';

/** A reason the workload is not as asked, in the order the user should look at them. */
export interface Problem {
  reason: string;
  message: string;
}

export interface StatusInput {
  /** The workload's name: its replicas carry it in their workload label. */
  name: string;
  generation: number;
  revision: string;
  desired: number;
  /** Assignments that count as replicas once the plan is applied (deleted and replaced ones excluded, new ones included). */
  replicas: readonly AssignmentView[];
  /** Whether a replica's node is live; replicas elsewhere are not ready whatever they say. */
  nodeLive: (nodeName: string) => boolean;
  clusterIP: string | undefined;
  /** Degraded reasons, most important first. */
  problems: readonly Problem[];
  /** The plan could not place every desired replica. */
  blocked: boolean;
  previous: NodeWorkloadStatus | undefined;
  now: Date;
}

/** `1 replica`, `2 replicas`: counts in status messages and events. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function workloadStatus(input: StatusInput): NodeWorkloadStatus {
  const { generation, revision, desired } = input;
  const ready = input.replicas.filter((a) => a.ready && input.nodeLive(a.nodeName));
  const replicas = input.replicas.length;
  const updated = input.replicas.filter((a) => a.revision === revision).length;
  const available = ready.filter((a) => a.revision === revision).length;
  const converged = available >= desired && replicas === desired && updated === replicas && !input.blocked;

  const counts = `${available} of ${plural(desired, 'replica')} ready at revision ${revision}`;
  const readyCond: ConditionUpdate = converged
    ? { type: 'Ready', status: 'True', reason: 'ReplicasReady', message: desired === 0 ? '0 replicas requested' : counts, observedGeneration: generation }
    : { type: 'Ready', status: 'False', reason: input.blocked ? (input.problems[0]?.reason ?? 'ReplicasNotReady') : 'ReplicasNotReady', message: counts, observedGeneration: generation };

  let progressing: ConditionUpdate;
  if (converged) {
    progressing = { type: 'Progressing', status: 'False', reason: 'Complete', message: `revision ${revision} is rolled out`, observedGeneration: generation };
  } else if (updated < replicas) {
    progressing = { type: 'Progressing', status: 'True', reason: 'RollingUpdate', message: `${updated} of ${plural(replicas, 'replica')} updated to revision ${revision}`, observedGeneration: generation };
  } else if (replicas < desired && !input.blocked) {
    progressing = { type: 'Progressing', status: 'True', reason: 'ScalingUp', message: `${replicas} of ${plural(desired, 'replica')} placed`, observedGeneration: generation };
  } else if (replicas > desired) {
    progressing = { type: 'Progressing', status: 'True', reason: 'ScalingDown', message: `${replicas} replicas placed, ${desired} wanted`, observedGeneration: generation };
  } else if (input.blocked) {
    progressing = { type: 'Progressing', status: 'False', reason: input.problems[0]?.reason ?? 'Blocked', message: `${replicas} of ${plural(desired, 'replica')} placed; see the Degraded condition`, observedGeneration: generation };
  } else {
    progressing = { type: 'Progressing', status: 'True', reason: 'WaitingForReady', message: counts, observedGeneration: generation };
  }

  const degraded: ConditionUpdate = input.problems.length
    ? { type: 'Degraded', status: 'True', reason: input.problems[0]!.reason, message: input.problems.map((p) => p.message).join('; '), observedGeneration: generation }
    : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems found', observedGeneration: generation };

  let conditions = input.previous?.conditions;
  for (const c of [readyCond, progressing, degraded]) conditions = setCondition(conditions, c, input.now);

  const status: NodeWorkloadStatus = {
    observedGeneration: generation,
    replicas,
    readyReplicas: ready.length,
    updatedReplicas: updated,
    availableReplicas: available,
    desiredReplicas: desired,
    currentRevision: revision,
    selector: `${LABEL_WORKLOAD}=${input.name}`,
    conditions,
  };
  if (input.clusterIP !== undefined) status.clusterIP = input.clusterIP;
  return status;
}

/**
 * The status for a spec the operator cannot act on: counts and Ready stay as they were (the
 * replicas keep running), Degraded names every bad field (and `more` problems after them),
 * Progressing says nothing moves.
 */
export function invalidSpecStatus(previous: NodeWorkloadStatus | undefined, generation: number, fieldErrors: readonly string[], now: Date, more: readonly Problem[] = []): NodeWorkloadStatus {
  const message = [`the spec cannot be acted on, nothing was changed: ${fieldErrors.join('; ')}`, ...more.map((p) => p.message)].join('; ');
  let conditions = setCondition(previous?.conditions, { type: 'Degraded', status: 'True', reason: 'InvalidSpec', message, observedGeneration: generation }, now);
  conditions = setCondition(conditions, { type: 'Progressing', status: 'False', reason: 'InvalidSpec', message: 'fix the fields named in the Degraded condition', observedGeneration: generation }, now);
  return { ...previous, observedGeneration: generation, conditions };
}
