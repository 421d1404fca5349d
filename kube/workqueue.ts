import type { Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import { workqueueLabels, workqueueMetrics, type InFlightSource, type WorkqueueLabel, type WorkqueueMetrics } from './metrics.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

export interface WorkQueueOptions {
  /** The `name` (and `controller`) label of the queue's metrics, usually the controller's name. */
  name: string;
  clock?: Clock;
  /** Delays for `addRateLimited`; default per-key 5 ms → 1000 s plus 10 qps overall. */
  rateLimiter?: RateLimiter;
  /** Where the `workqueue_*` metrics go; none when omitted. */
  registry?: Registry;
}

/**
 * A deduplicating work queue of keys, with the semantics controllers rely on:
 * - a key is queued once however often it is added before a worker takes it;
 * - a key is never handed to two workers at once: adding a key that is being processed marks it
 *   dirty, and `done` queues it again, so no change is lost;
 * - `addAfter` schedules an add (the earliest pending time per key wins), `addRateLimited`
 *   schedules it after the rate limiter's delay, and `forget` resets the key's backoff.
 *
 * Workers loop `get()` → work → `done(key)`. `get()` resolves `undefined` once the queue is shut
 * down. `shutDown()` stops handing out keys at once (queued keys are dropped);
 * `shutDownWithDrain()` stops accepting adds, hands out what is queued, and resolves when every
 * handed-out key is done.
 */
export class WorkQueue implements InFlightSource {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkqueueMetrics | undefined;
  private readonly labels: Record<WorkqueueLabel, string>;

  private queue: string[] = [];
  private head = 0;
  /** Keys that need processing: queued, or added again while processing. Value = first add time. */
  private dirty = new Map<string, number>();
  /** Keys handed to a worker and not yet done. Value = time handed out. */
  private processing = new Map<string, number>();
  private waiting = new Map<string, { at: number; cancel: () => void }>();
  private getters: Array<(key: string | undefined) => void> = [];
  private wakeScheduled = false;
  private shuttingDown = false;
  private draining = false;
  private drained: Array<() => void> = [];

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.labels = workqueueLabels(options.name);
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics = options.registry ? workqueueMetrics(options.registry) : undefined;
    if (this.metrics) {
      this.metrics.sources.add(this);
      this.metrics.depth.set(this.labels, 0);
    }
  }

  /** Marks `key` as needing work. */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return;
    this.metrics?.adds.inc(this.labels);
    this.dirty.set(key, this.clock.now());
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Adds `key` after `delayMs`; an earlier pending add of the same key is kept. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel();
    const cancel = this.clock.setTimer(() => {
      this.waiting.delete(key);
      this.add(key);
    }, delayMs);
    this.waiting.set(key, { at, cancel });
  }

  /** Adds `key` after the rate limiter's delay for it (one more failure for its backoff). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics?.retries.inc(this.labels);
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Ends `key`'s backoff: call after it was processed successfully. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  /** Failures recorded for `key` since it was last forgotten. */
  numRequeues(key: string): number {
    return this.rateLimiter.retries(key);
  }

  /** Waits for the next key; `undefined` once the queue is shut down. */
  get(): Promise<string | undefined> {
    const key = this.take();
    if (key !== undefined || this.stopped()) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks `key`, handed out by `get`, as processed; re-queues it if it was added meanwhile. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    this.metrics?.workDuration.observe(this.labels, (this.clock.now() - started) / 1000);
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
    else this.dirty.delete(key);
    this.checkDrained();
  }

  /** Keys waiting to be handed out. */
  len(): number {
    return this.queue.length - this.head;
  }

  /** Keys handed out and not yet done. */
  /** Whether a worker holds `key` right now. */
  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  inFlight(): number {
    return this.processing.size;
  }

  /** Stops at once: queued and scheduled keys are dropped, waiting workers get `undefined`. */
  shutDown(): void {
    this.beginShutdown();
    this.queue = [];
    this.head = 0;
    this.dirty.clear();
    this.setDepth();
    this.releaseGetters();
    this.checkDrained();
  }

  /** Stops accepting adds, lets workers finish what is queued, and resolves when all is done. */
  shutDownWithDrain(): Promise<void> {
    this.beginShutdown();
    this.draining = true;
    const done = new Promise<void>((resolve) => this.drained.push(resolve));
    if (this.len() === 0) this.releaseGetters();
    this.checkDrained();
    return done;
  }

  inFlightSeconds(): { total: number; longest: number } {
    const now = this.clock.now();
    let total = 0;
    let longest = 0;
    for (const started of this.processing.values()) {
      const s = (now - started) / 1000;
      total += s;
      longest = Math.max(longest, s);
    }
    return { total, longest };
  }

  private beginShutdown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) w.cancel();
    this.waiting.clear();
    this.metrics?.sources.delete(this);
  }

  private stopped(): boolean {
    return this.shuttingDown && (!this.draining || this.len() === 0);
  }

  private enqueue(key: string): void {
    this.queue.push(key);
    this.setDepth();
    // Waiting workers get keys on the next microtask, not inside add(): a key added twice in one
    // burst (an update handler adding old and new object) is then still dirty and queued once.
    if (this.getters.length > 0 && !this.wakeScheduled) {
      this.wakeScheduled = true;
      queueMicrotask(() => this.wake());
    }
  }

  private wake(): void {
    this.wakeScheduled = false;
    while (this.getters.length > 0) {
      const key = this.take();
      if (key === undefined) return;
      (this.getters.shift() as (key: string | undefined) => void)(key);
    }
  }

  private take(): string | undefined {
    if (this.shuttingDown && !this.draining) return undefined;
    if (this.head >= this.queue.length) return undefined;
    const key = this.queue[this.head] as string;
    this.head++;
    // Compact now and then so the array does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.setDepth();
    this.handOut(key);
    if (this.draining && this.len() === 0) this.releaseGetters();
    return key;
  }

  private handOut(key: string): void {
    const added = this.dirty.get(key) ?? this.clock.now();
    const now = this.clock.now();
    this.metrics?.queueDuration.observe(this.labels, (now - added) / 1000);
    this.dirty.delete(key);
    this.processing.set(key, now);
  }

  private releaseGetters(): void {
    const getters = this.getters;
    this.getters = [];
    for (const g of getters) g(undefined);
  }

  private checkDrained(): void {
    if (!this.shuttingDown || this.processing.size > 0 || this.len() > 0) return;
    const waiters = this.drained;
    this.drained = [];
    for (const w of waiters) w();
  }

  private setDepth(): void {
    this.metrics?.depth.set(this.labels, this.len());
  }
}
