// Assignments this operator created or deleted that its cache has not seen yet. A reconcile that
// runs again before the watch catches up reads the cache through this overlay, so it neither
// creates a replica twice nor forgets one it just removed.
import { objectKey, type KubeObject } from '../kube/types.js';

interface Pending<T> {
  group: string;
  obj?: T;
  at: number;
}

/**
 * Entries are grouped (by owning workload) and expire after `ttlMs`: should a watch event never
 * come (the write failed after all), the cache is trusted again. A deleted object the cache shows
 * as terminating (held by a finalizer) is shown again: callers must see it until it is gone.
 */
export class PendingWrites<T extends KubeObject> {
  private readonly created = new Map<string, Pending<T>>();
  private readonly deleted = new Map<string, Pending<T>>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 30_000,
  ) {}

  recordCreate(group: string, obj: T): void {
    this.created.set(objectKey(obj), { group, obj, at: this.now() });
  }

  recordDelete(group: string, key: string): void {
    this.created.delete(key);
    this.deleted.set(key, { group, at: this.now() });
  }

  /** Forgets a create that failed. */
  forgetCreate(key: string): void {
    this.created.delete(key);
  }

  /** Forgets a delete that failed. */
  forgetDelete(key: string): void {
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

  /** `cached` (the group's objects in the cache) with pending creates added and pending deletes removed. */
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
