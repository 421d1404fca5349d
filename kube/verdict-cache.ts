// Answers of the API server kept for a while, so that a burst of requests (or a follow that
// reconnects) does not cost a TokenReview and a SubjectAccessReview each: kubelet caches
// authentications for 2 minutes, allowed decisions for 5 and denials for 30 seconds. Bounded:
// past `maxEntries` the oldest entry goes. Pure but for the injected clock.
import type { Clock } from './clock.js';

export class VerdictCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxEntries = 1024,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.clock.now() >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    // A Map iterates in insertion order: the first key is the oldest write.
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}
