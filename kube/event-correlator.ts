import type { Clock } from './clock.js';

/** What the recorder should do with one event. */
export type EventDecision =
  | { action: 'create'; key: string }
  | { action: 'patch'; key: string; count: number }
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
 * A repeat may come before the first write finished: the recorder writes in order and looks
 * the event's name up (`nameOf`) when it sends the patch.
 */
export class EventCorrelator {
  private readonly burst: number;
  private readonly qps: number;
  private readonly cacheSize: number;
  /** eventKey → the Event's name once created ('' while the create is pending) and its count. */
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
    // Refresh its place so the most recently repeated events are the last forgotten.
    this.seen.delete(eventKey);
    if (!prior) {
      this.remember(eventKey, { name: '', count: 1 });
      return { action: 'create', key: eventKey };
    }
    prior.count++;
    this.remember(eventKey, prior);
    return { action: 'patch', key: eventKey, count: prior.count };
  }

  /** Notes that `eventKey` was written as the Event `name`. */
  recorded(eventKey: string, name: string): void {
    const entry = this.seen.get(eventKey);
    if (entry) entry.name = name;
    else this.remember(eventKey, { name, count: 1 });
  }

  /** The name of the Event written for `eventKey`; undefined until its create succeeded. */
  nameOf(eventKey: string): string | undefined {
    return this.seen.get(eventKey)?.name || undefined;
  }

  private remember(eventKey: string, entry: { name: string; count: number }): void {
    this.seen.set(eventKey, entry);
    while (this.seen.size > this.cacheSize) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
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
