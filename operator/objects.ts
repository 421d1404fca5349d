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
 * Equal values handed out as one shared object while any holder keeps it: the key is the
 * value's JSON, and an entry goes once nothing holds its object any more.
 */
class SharedValues {
  private readonly values = new Map<string, WeakRef<object>>();
  private readonly collected = new FinalizationRegistry<string>((json) => {
    if (!this.values.get(json)?.deref()) this.values.delete(json);
  });

  share<T>(value: T): T {
    if (typeof value !== 'object' || value === null) return value;
    const json = JSON.stringify(value);
    const shared = this.values.get(json)?.deref();
    if (shared) return shared as T;
    this.values.set(json, new WeakRef(value));
    this.collected.register(value, json);
    return value;
  }
}

/**
 * Strings that recur across objects (timestamps to the second, node names, revisions, kinds),
 * handed out as one copy: JSON.parse makes a string of its own for every value longer than a
 * few characters, in each of 20,000 assignments. Strings cannot be held weakly, so the table is
 * bounded: when full it starts again, which costs a few copies and never grows without end.
 */
class StringTable {
  private readonly strings = new Map<string, string>();

  constructor(private readonly limit: number) {}

  intern<T>(s: T): T {
    if (typeof s !== 'string') return s;
    const known = this.strings.get(s);
    if (known !== undefined) return known as T;
    if (this.strings.size >= this.limit) this.strings.clear();
    this.strings.set(s, s);
    return s;
  }
}

/** Distinct strings the table keeps: about 600 KB when full. */
const STRING_TABLE_SIZE = 10_000;

/**
 * What the assignment cache keeps of an assignment: the operator's reads only, since it holds one
 * per replica for the process's lifetime. The server's bookkeeping goes (stripUnreadMetadata),
 * and so do the ownerReferences, which the operator writes but never reads. What replicas have
 * in common is kept once: the template (equal in every replica of a revision, read only for its
 * requests), the workloadRef, the agents' container statuses and conditions when equal (the
 * same ones, to the second, in most replicas), and the strings that recur (kinds, timestamps,
 * node names, revisions, label values). Cached objects are never written back whole nor changed
 * in place, so sharing their parts is safe; everything else is kept as the server sent it.
 */
export class AssignmentSlimmer {
  private readonly shared = new SharedValues();
  private readonly strings = new StringTable(STRING_TABLE_SIZE);

  readonly slim = (assignment: NodeAssignmentObject): NodeAssignmentObject => {
    // In place (the informer's transform may), assigning only fields the object already has, so
    // that its shape stays the one JSON.parse gave it and no copy is made per event.
    const out = stripUnreadMetadata(assignment);
    this.intern(out, ['apiVersion', 'kind']);
    if (out.metadata) {
      const { ownerReferences: _unread, ...metadata } = out.metadata;
      this.intern(metadata, ['namespace', 'creationTimestamp', 'deletionTimestamp']);
      if (metadata.labels) this.internValues(metadata.labels);
      if (metadata.annotations) this.internValues(metadata.annotations);
      out.metadata = metadata;
    }
    const spec = out.spec;
    if (spec) {
      this.intern(spec, ['nodeName', 'revision']);
      if (spec.workloadRef !== undefined) spec.workloadRef = this.shared.share(spec.workloadRef);
      if (spec.template !== undefined) spec.template = this.shared.share(spec.template);
    }
    const status = out.status;
    if (status) {
      this.intern(status, ['phase', 'podIP']);
      if (status.containers !== undefined) status.containers = this.shared.share(status.containers);
      if (status.conditions !== undefined) status.conditions = this.shared.share(status.conditions);
    }
    return out;
  };

  /** Makes the `fields` of `obj` that hold strings hold the table's copies. */
  private intern<T extends object>(obj: T, fields: ReadonlyArray<keyof T>): void {
    for (const f of fields) if (typeof obj[f] === 'string') obj[f] = this.strings.intern(obj[f]);
  }

  private internValues(map: Record<string, string>): void {
    for (const [k, v] of Object.entries(map)) map[k] = this.strings.intern(v);
  }
}

/** Index of the assignment cache by node name. */
export const BY_NODE = 'byNode';

/**
 * The requests of an assignment's template; malformed ones (not written by us) count as nothing.
 * Kept per template, which the assignment cache shares between the replicas of a revision.
 */
const requestsCache = new WeakMap<object, Resources>();
export function assignmentRequests(assignment: NodeAssignmentObject): Resources {
  const template: unknown = assignment.spec?.template;
  const cacheable = typeof template === 'object' && template !== null;
  let r = cacheable ? requestsCache.get(template) : undefined;
  if (!r) {
    try {
      r = templateRequests(assignment.spec.template);
    } catch {
      r = { cpuMillis: 0, memoryBytes: 0 };
    }
    if (cacheable) requestsCache.set(template, r);
  }
  return r;
}
