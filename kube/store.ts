import { objectKey, type KubeObject } from './types.js';

/** Maps an object to the index values it is found under (none = not indexed). */
export type IndexFunc<T> = (obj: T) => string[];

/** Indexes objects by the value of one label. */
export function labelIndex<T extends KubeObject>(label: string): IndexFunc<T> {
  return (obj) => {
    const v = obj.metadata?.labels?.[label];
    return v === undefined ? [] : [v];
  };
}

/** Indexes objects by a field the caller picks (e.g. `o => [o.spec.nodeName]`). */
export function fieldIndex<T>(pick: (obj: T) => string | readonly string[] | undefined | null): IndexFunc<T> {
  return (obj) => {
    const v = pick(obj);
    if (v === undefined || v === null || v === '') return [];
    return typeof v === 'string' ? [v] : [...v];
  };
}

export type StoreChange<T> =
  | { type: 'add'; obj: T }
  | { type: 'update'; oldObj: T; obj: T }
  | { type: 'delete'; obj: T };

/**
 * The informer's cache: objects by `namespace/name`, plus named indexes. Writes report what
 * changed; an object whose resourceVersion did not change is not a change.
 */
export class Store<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  /** index name → index value → keys */
  private readonly indexes = new Map<string, Map<string, Set<string>>>();

  constructor(private readonly indexers: Record<string, IndexFunc<T>> = {}) {
    for (const name of Object.keys(indexers)) this.indexes.set(name, new Map());
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** Objects whose index `indexName` includes `value`. */
  byIndex(indexName: string, value: string): T[] {
    const index = this.indexes.get(indexName);
    if (!index) throw new Error(`store: no index named "${indexName}"; known: ${[...this.indexes.keys()].join(', ') || 'none'}`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.items.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** The values index `indexName` currently holds. */
  indexValues(indexName: string): string[] {
    const index = this.indexes.get(indexName);
    if (!index) throw new Error(`store: no index named "${indexName}"; known: ${[...this.indexes.keys()].join(', ') || 'none'}`);
    return [...index.keys()];
  }

  /** Inserts or replaces `obj`; returns the change, or undefined when its version is unchanged. */
  upsert(obj: T): StoreChange<T> | undefined {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (old && sameVersion(old, obj)) return undefined;
    this.items.set(key, obj);
    if (old) this.reindex(key, old, obj);
    else this.index(key, obj);
    return old ? { type: 'update', oldObj: old, obj } : { type: 'add', obj };
  }

  /** Removes the object under `obj`'s key; `obj` (its final state) is what the change carries. */
  remove(obj: T): StoreChange<T> | undefined {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return { type: 'delete', obj };
  }

  /** Makes the store hold exactly `objs` (a fresh list); returns the changes that took. */
  replace(objs: readonly T[]): Array<StoreChange<T>> {
    const changes: Array<StoreChange<T>> = [];
    const listed = new Set<string>();
    for (const obj of objs) {
      listed.add(objectKey(obj));
      const change = this.upsert(obj);
      if (change) changes.push(change);
    }
    for (const [key, old] of [...this.items]) {
      if (listed.has(key)) continue;
      const change = this.remove(old);
      if (change) changes.push(change);
    }
    return changes;
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.indexes.get(name) as Map<string, Set<string>>;
      for (const value of fn(obj)) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  /**
   * Moves `key` between index values only where they changed: most updates (a status write)
   * change none, and an entry left alone keeps the one copy of the key that `items` holds too
   * (Map.set keeps the key it has), instead of a fresh string per update in every index.
   */
  private reindex(key: string, old: T, obj: T): void {
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.indexes.get(name) as Map<string, Set<string>>;
      const before = fn(old);
      const after = fn(obj);
      if (before.length === after.length && before.every((v, i) => v === after[i])) continue;
      for (const value of before) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
      for (const value of after) {
        let keys = index.get(value);
        if (!keys) index.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.indexes.get(name) as Map<string, Set<string>>;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const ra = a.metadata?.resourceVersion;
  return ra !== undefined && ra === b.metadata?.resourceVersion && a.metadata?.uid === b.metadata?.uid;
}
