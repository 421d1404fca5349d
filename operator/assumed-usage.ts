// What every node holds, with the assignments this operator has written assumed placed: the
// pattern of kube-scheduler's cache, which assumes a pod on its node before the binding is seen
// and forgets it when the binding fails. The informer's cache is not enough because it lags
// behind the writes, and reconciles of different workloads run in parallel: two of them reading
// only the cache could both take the last free cpu of a node.
import { NO_USAGE, addUsage, type NodeUsage, type Resources } from './scheduler.js';

interface Entry {
  node: string;
  requests: Resources;
}

/**
 * Usage per node, keyed by assignment: `set` and `remove` are idempotent per assignment key, so
 * assuming a write and then seeing it arrive through the watch counts it once.
 */
export class AssumedUsage {
  private readonly entries = new Map<string, Entry>();
  private readonly byNode = new Map<string, NodeUsage>();

  /** The assignment `key` holds `requests` on `node` (written by this operator, or seen in the cache). */
  set(key: string, node: string, requests: Resources): void {
    const old = this.entries.get(key);
    if (old && old.node === node && old.requests.cpuMillis === requests.cpuMillis && old.requests.memoryBytes === requests.memoryBytes) return;
    if (old) this.subtract(old);
    this.entries.set(key, { node, requests });
    this.byNode.set(node, addUsage(this.byNode.get(node) ?? NO_USAGE, requests));
  }

  /** The assignment `key` holds nothing any more (deleted by this operator, or gone from the cache). */
  remove(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.subtract(old);
  }

  usage(): ReadonlyMap<string, NodeUsage> {
    return this.byNode;
  }

  private subtract(e: Entry): void {
    const next = addUsage(this.byNode.get(e.node) ?? NO_USAGE, e.requests, -1);
    if (next.pods <= 0) this.byNode.delete(e.node);
    else this.byNode.set(e.node, next);
  }
}
