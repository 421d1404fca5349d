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
  private readonly deleted = new Map<string, Expected<T>>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 30_000,
  ) {}

  /** This operator is creating `obj` (of `group`): show it before the cache does. */
  expectCreate(group: string, obj: T): void {
    this.created.set(objectKey(obj), { group, obj, at: this.now() });
  }

  /** This operator is deleting the object `key` (of `group`): hide it before the cache does. */
  expectDelete(group: string, key: string): void {
    this.created.delete(key);
    this.deleted.set(key, { group, at: this.now() });
  }

  /** The create of `key` failed: it will not come. */
  createFailed(key: string): void {
    this.created.delete(key);
  }

  /** The delete of `key` failed: the object stays. */
  deleteFailed(key: string): void {
    this.deleted.delete(key);
  }

  /** The cache saw the object (add or update). */
  observedPresent(key: string): void {
    this.created.delete(key);
  }

  /** The cache saw the object go. */
  observedGone(key: string): void {
    this.created.delete(key);
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
    for (const [key, c] of this.created) {
      if (c.group !== group || seen.has(key)) continue;
      if (now - c.at >= this.ttlMs) {
        this.created.delete(key);
        continue;
      }
      out.push(c.obj as T);
    }
    return out;
  }
}
