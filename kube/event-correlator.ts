import type { Clock } from './clock.js';

/** What the recorder should do with one event. */
export type EventDecision =
  | { action: 'create'; key: string }
  | { action: 'patch'; key: string; name: string; count: number }
  | { action: 'drop'; key: string };

export interface CorrelatorOptions {
  /** Events one object may get at once from this component. Default 25. */
  burst?: number;
  /** Refill of that allowance, events per second. Default one per 5 minutes. */
  qps?: number;
  /** Distinct events remembered for aggregation. Default 4096 (oldest forgotten first). */
  cacheSize?: number;
}

interface Bucket {
  tokens: number;
  last: number;
}

/**
 * Decides, without I/O, how an event is written:
 * - an event identical to one already written (same object, type, reason, message) bumps that
 *   event's count instead of creating a new one;
 * - each object gets a token bucket, so a hot loop cannot flood the API server with events.
 * The recorder calls `recorded` once a created event has a name to patch later.
 */
export class EventCorrelator {
  private readonly burst: number;
  private readonly qps: number;
  private readonly cacheSize: number;
  private readonly seen = new Map<string, { name: string; count: number }>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: Clock,
    options: CorrelatorOptions = {},
  ) {
    this.burst = options.burst ?? 25;
    this.qps = options.qps ?? 1 / 300;
    this.cacheSize = options.cacheSize ?? 4096;
  }

  /** `objectKey` identifies the object; `eventKey` the object plus type, reason and message. */
  observe(objectKey: string, eventKey: string): EventDecision {
    if (!this.take(objectKey)) return { action: 'drop', key: eventKey };
    const prior = this.seen.get(eventKey);
    if (!prior) return { action: 'create', key: eventKey };
    prior.count++;
    // Refresh its place so the most recently repeated events are the last forgotten.
    this.seen.delete(eventKey);
    this.seen.set(eventKey, prior);
    return { action: 'patch', key: eventKey, name: prior.name, count: prior.count };
  }

  /** Notes that `eventKey` was written as event `name` with `count`. */
  recorded(eventKey: string, name: string, count = 1): void {
    this.seen.delete(eventKey);
    this.seen.set(eventKey, { name, count });
    while (this.seen.size > this.cacheSize) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
  }

  /** Forgets `eventKey` (e.g. its event expired on the server), so the next one is created. */
  forget(eventKey: string): void {
    this.seen.delete(eventKey);
  }

  private take(objectKey: string): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(objectKey);
    if (!b) {
      b = { tokens: this.burst, last: now };
      this.buckets.set(objectKey, b);
      if (this.buckets.size > this.cacheSize) this.buckets.delete(this.buckets.keys().next().value as string);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.last) / 1000) * this.qps);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
