// What every node holds, kept up to date from the assignment cache and from this operator's own
// writes before the cache sees them, so that two workloads reconciled at the same time cannot
// both take the last free cpu of a node.
import { NO_USAGE, addUsage, type NodeUsage, type Resources } from './scheduler.js';

interface Entry {
  node: string;
  requests: Resources;
}

/**
 * Usage per node, keyed by assignment: `set` and `remove` are idempotent per assignment key, so
 * recording a write and then seeing it arrive through the watch counts it once.
 */
export class UsageLedger {
  private readonly entries = new Map<string, Entry>();
  private readonly byNode = new Map<string, NodeUsage>();

  set(key: string, node: string, requests: Resources): void {
    const old = this.entries.get(key);
    if (old && old.node === node && old.requests.cpuMillis === requests.cpuMillis && old.requests.memoryBytes === requests.memoryBytes) return;
    if (old) this.subtract(old);
    this.entries.set(key, { node, requests });
    this.byNode.set(node, addUsage(this.byNode.get(node) ?? NO_USAGE, requests));
  }

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
