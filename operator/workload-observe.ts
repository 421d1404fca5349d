// The first step of a reconcile: what the operator knows of one workload's world, read from its
// caches at one moment — the workload, its assignments (with the writes of this operator the
// cache has not shown yet), the nodes and what they hold, and the VIP the workload holds.
import { BY_WORKLOAD } from '../api/index.js';
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
  /** Undefined when the workload is gone. */
  workload: NodeWorkloadObject | undefined;
  /** The workload's assignments, terminating ones included. */
  assignments: NodeAssignmentObject[];
  /** Assignment names in use (in the cache, or being created or deleted): a new one never reuses them. */
  takenNames: ReadonlySet<string>;
  nodes: PlanNode[];
  /** What every node holds, over every workload. */
  usage: ReadonlyMap<string, NodeUsage>;
  /** The VIP the workload holds. */
  vip: string | undefined;
}

export interface ObserveSources {
  workloads: { get(key: string): NodeWorkloadObject | undefined };
  assignments: { byIndex(index: string, value: string): NodeAssignmentObject[] };
  nodes: { nodes(): PlanNode[] };
  usage: AssumedUsage;
  expectations: Expectations<NodeAssignmentObject>;
  vips: VipClaims;
  clock: Clock;
}

export function observeWorkload(s: ObserveSources, key: string): Observation {
  const cached = s.assignments.byIndex(BY_WORKLOAD, key);
  const assignments = s.expectations.view(key, cached);
  return {
    key,
    now: s.clock.now(),
    workload: s.workloads.get(key),
    assignments,
    takenNames: new Set([...cached, ...assignments].map((a) => a.metadata?.name ?? '')),
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
