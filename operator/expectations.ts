// Expectations, the pattern of Kubernetes' ReplicaSet controller: the assignments this operator
// created or deleted that its cache has not shown yet. The informer's cache is not enough
// because it lags behind the operator's own writes: a reconcile that runs again before the watch
// catches up (another event of the workload, a node change) would see a created replica missing
// and a deleted one still there, and place a second replica or keep counting a removed one.
// Reading the cache through these expectations, it does neither.
import { objectKey, type KubeObject } from '../kube/types.js';

interface Expected<T> {
  group: string;
  obj?: T;
  at: number;
}

/**
 * Entries are grouped (by owning workload) and expire after `ttlMs`: should a watch event never
 * come (the write failed after all), the cache is trusted again. A deleted object the cache shows
 * as terminating (held by a finalizer) is shown again: callers must see it until it is gone.
 */
export class Expectations<T extends KubeObject> {
  private readonly created = new Map<string, Expected<T>>();
  /**
   * The keys of `created` by group: a view reads only its group's, where scanning them all cost
   * every reconcile time in proportion to the creates in flight for every workload.
   */
  private readonly createdByGroup = new Map<string, Set<string>>();
  private readonly deleted = new Map<string, Expected<T>>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 30_000,
  ) {}

  /** This operator is creating `obj` (of `group`): show it before the cache does. */
  expectCreate(group: string, obj: T): void {
    const key = objectKey(obj);
    this.forgetCreate(key);
    this.created.set(key, { group, obj, at: this.now() });
    let keys = this.createdByGroup.get(group);
    if (!keys) this.createdByGroup.set(group, (keys = new Set()));
    keys.add(key);
  }

  /** This operator is deleting the object `key` (of `group`): hide it before the cache does. */
  expectDelete(group: string, key: string): void {
    this.forgetCreate(key);
    this.deleted.set(key, { group, at: this.now() });
  }

  /** The create of `key` failed: it will not come. */
  createFailed(key: string): void {
    this.forgetCreate(key);
  }

  /** The delete of `key` failed: the object stays. */
  deleteFailed(key: string): void {
    this.deleted.delete(key);
  }

  /** The cache saw the object (add or update). */
  observedPresent(key: string): void {
    this.forgetCreate(key);
  }

  /** The cache saw the object go. */
  observedGone(key: string): void {
    this.forgetCreate(key);
    this.deleted.delete(key);
  }

  /** `cached` (the group's objects in the cache) with expected creates added and expected deletes removed. */
  view(group: string, cached: readonly T[]): T[] {
    const now = this.now();
    const out: T[] = [];
    const seen = new Set<string>();
    for (const obj of cached) {
      const key = objectKey(obj);
      seen.add(key);
      const d = this.deleted.get(key);
      if (d) {
        // A finalizer holds it: the delete took (the object is terminating) but it is not gone.
        if (obj.metadata?.deletionTimestamp) this.deleted.delete(key);
        else if (now - d.at < this.ttlMs) continue;
        else this.deleted.delete(key);
      }
      out.push(obj);
    }
    for (const key of [...(this.createdByGroup.get(group) ?? [])]) {
      const c = this.created.get(key) as Expected<T>;
      if (seen.has(key)) continue;
      if (now - c.at >= this.ttlMs) {
        this.forgetCreate(key);
        continue;
      }
      out.push(c.obj as T);
    }
    return out;
  }

  private forgetCreate(key: string): void {
    const c = this.created.get(key);
    if (!c) return;
    this.created.delete(key);
    const keys = this.createdByGroup.get(c.group);
    keys?.delete(key);
    if (keys?.size === 0) this.createdByGroup.delete(c.group);
  }
}
