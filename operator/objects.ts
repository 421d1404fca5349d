// The operator's objects as its caches hold them: a workload (NodeWorkload) and an assignment
// (NodeAssignment), the node index of the assignment cache (the workload index is api's
// BY_WORKLOAD), and what an assignment requests.
import type { NodeAssignmentSpec, NodeAssignmentStatus, NodeWorkloadStatus } from '../api/index.js';
import type { KubeObject } from '../kube/types.js';
import { templateRequests, type Resources } from './scheduler.js';

/** A NodeWorkload as cached: its spec is checked by the reconcile, not trusted. */
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

/** The requests of an assignment's template; malformed ones (not written by us) count as nothing. */
const requestsCache = new WeakMap<NodeAssignmentObject, Resources>();
export function assignmentRequests(assignment: NodeAssignmentObject): Resources {
  let r = requestsCache.get(assignment);
  if (!r) {
    try {
      r = templateRequests(assignment.spec.template);
    } catch {
      r = { cpuMillis: 0, memoryBytes: 0 };
    }
    requestsCache.set(assignment, r);
  }
  return r;
}
