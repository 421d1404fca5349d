// The first step of a reconcile: what the operator knows of one workload's world, read from its
// caches at one moment — the workload, its assignments (with the writes of this operator the
// cache has not shown yet), the nodes and what they hold, and the VIP the workload holds. The
// workload's status is checked here, field by field: an object stored past its CRD's schema (an
// older CRD, one without validation, a direct write) may carry any value there, and every later
// step reads the status as typed.
import { BY_WORKLOAD, formatFieldError, nodeWorkloadStatusSchema, validateField, type NodeWorkloadStatus } from '../api/index.js';
import type { Clock } from '../kube/clock.js';
import { objectKey, type ResourceEventHandler } from '../kube/types.js';
import type { AssumedUsage } from './assumed-usage.js';
import type { Expectations } from './expectations.js';
import { assignmentRequests, type NodeAssignmentObject, type NodeWorkloadObject } from './objects.js';
import type { PlanNode } from './plan.js';
import type { NodeUsage } from './scheduler.js';
import type { VipClaims } from './vip-claims.js';

export interface Observation {
  /** The workload's key, `namespace/name`. */
  key: string;
  /** Milliseconds since the epoch when it was observed. */
  now: number;
  /** Undefined when the workload is gone. Its status holds only the fields that passed checkStatus. */
  workload: NodeWorkloadObject | undefined;
  /** The status as stored, bad fields and all: the base a status write is diffed against, so that it replaces them. */
  storedStatus: unknown;
  /** The status fields that were left out, each as `status.field: what it must be`. */
  statusErrors: string[];
  /** The workload's assignments, terminating ones included. */
  assignments: NodeAssignmentObject[];
  /** Assignment names in use (in the cache, or being created or deleted): a new one never reuses them. */
  takenNames: ReadonlySet<string>;
  /**
   * Assignments the cache still shows that `assignments` leaves out, because this operator has
   * deleted them and the cache has not shown that yet: they may still use the workload's VIP.
   */
  unconfirmedDeletes: number;
  nodes: readonly PlanNode[];
  /** What every node holds, over every workload. */
  usage: ReadonlyMap<string, NodeUsage>;
  /** The VIP the workload holds. */
  vip: string | undefined;
}

export interface ObserveSources {
  workloads: { get(key: string): NodeWorkloadObject | undefined };
  assignments: { byIndex(index: string, value: string): NodeAssignmentObject[] };
  nodes: { nodes(): readonly PlanNode[] };
  usage: AssumedUsage;
  expectations: Expectations<NodeAssignmentObject>;
  vips: VipClaims;
  clock: Clock;
}

export interface StatusCheck {
  /** The fields that passed, parsed; undefined when there is no status or it is not an object. */
  status: NodeWorkloadStatus | undefined;
  /** One `status.field: what it must be` for each field left out. */
  errors: string[];
}

const STATUS_FIELDS = nodeWorkloadStatusSchema.shape;

/**
 * A stored status, checked field by field: a bad field is left out (the next status write
 * replaces it) and the others are kept, so that a bad `conditions` does not lose the counts or
 * the clusterIP. Fields the schema does not know are dropped, as the API server prunes them.
 */
export function checkStatus(stored: unknown): StatusCheck {
  if (stored === undefined || stored === null) return { status: undefined, errors: [] };
  if (typeof stored !== 'object' || Array.isArray(stored)) {
    const whole = validateField(nodeWorkloadStatusSchema, stored, ['status']);
    return { status: undefined, errors: whole.ok ? [] : whole.errors.map(formatFieldError) };
  }
  const status: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [field, value] of Object.entries(stored)) {
    const schema = STATUS_FIELDS[field as keyof typeof STATUS_FIELDS];
    if (!schema || value === undefined) continue;
    const checked = validateField(schema, value, ['status', field]);
    if (checked.ok) status[field] = checked.value;
    else errors.push(...checked.errors.map(formatFieldError));
  }
  return { status: status as NodeWorkloadStatus, errors };
}

/** The workload with only the status fields that passed checkStatus (the cached object is not changed). */
function withCheckedStatus(workload: NodeWorkloadObject | undefined): { workload: NodeWorkloadObject | undefined; errors: string[] } {
  if (!workload || workload.status === undefined) return { workload, errors: [] };
  const { status, errors } = checkStatus(workload.status);
  if (!errors.length) return { workload, errors };
  const { status: _bad, ...rest } = workload;
  return { workload: status ? { ...rest, status } : rest, errors };
}

export function observeWorkload(s: ObserveSources, key: string): Observation {
  const cached = s.assignments.byIndex(BY_WORKLOAD, key);
  const assignments = s.expectations.view(key, cached);
  const shown = new Set(assignments);
  const stored = s.workloads.get(key);
  const { workload, errors } = withCheckedStatus(stored);
  return {
    key,
    now: s.clock.now(),
    workload,
    storedStatus: stored?.status,
    statusErrors: errors,
    assignments,
    takenNames: new Set([...cached, ...assignments].map((a) => a.metadata?.name ?? '')),
    unconfirmedDeletes: cached.length - cached.filter((a) => shown.has(a)).length,
    nodes: s.nodes.nodes(),
    usage: s.usage.usage(),
    vip: s.vips.held(key),
  };
}

/**
 * Keeps the node usage and the expectations in step with the assignment cache: what the cache
 * shows is counted, and the writes it confirms are no longer expected.
 */
export function followAssignmentCache(usage: AssumedUsage, expectations: Expectations<NodeAssignmentObject>): ResourceEventHandler<NodeAssignmentObject> {
  const seen = (a: NodeAssignmentObject): void => {
    const key = objectKey(a);
    usage.set(key, a.spec?.nodeName ?? '', assignmentRequests(a));
    expectations.observedPresent(key);
  };
  return {
    onAdd: seen,
    onUpdate: (_old, a) => seen(a),
    onDelete: (a) => {
      const key = objectKey(a);
      usage.remove(key);
      expectations.observedGone(key);
    },
  };
}
