// The operator's objects as its caches hold them: a workload (NodeWorkload) and an assignment
// (NodeAssignment), the node index of the assignment cache (the workload index is api's
// BY_WORKLOAD), and what an assignment requests.
import type { NodeAssignmentSpec, NodeAssignmentStatus, NodeWorkloadStatus } from '../api/index.js';
import { stripUnreadMetadata } from '../kube/strip-metadata.js';
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

/**
 * What the assignment cache keeps of an assignment: the operator's reads only, since it holds one
 * per replica for the process's lifetime. The server's bookkeeping goes (stripUnreadMetadata),
 * and so do the ownerReferences, which the operator writes but never reads; the template, equal
 * in every replica of a revision and read only for its requests, is one object shared by all
 * the cached assignments that carry it. Cached objects are never written back whole nor changed
 * in place, so sharing it is safe.
 */
export class AssignmentSlimmer {
  private readonly templates = new Map<string, WeakRef<NodeAssignmentSpec['template']>>();
  private readonly collected = new FinalizationRegistry<string>((json) => {
    if (!this.templates.get(json)?.deref()) this.templates.delete(json);
  });

  readonly slim = (assignment: NodeAssignmentObject): NodeAssignmentObject => {
    const stripped = stripUnreadMetadata(assignment);
    const { ownerReferences: _unread, ...metadata } = stripped.metadata ?? {};
    const template = stripped.spec?.template;
    if (template === undefined) return { ...stripped, metadata };
    const json = JSON.stringify(template);
    let shared = this.templates.get(json)?.deref();
    if (!shared) {
      shared = template;
      this.templates.set(json, new WeakRef(shared));
      this.collected.register(shared, json);
    }
    return { ...stripped, metadata, spec: { ...stripped.spec, template: shared } };
  };
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
