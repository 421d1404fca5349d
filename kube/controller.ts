import type { Registry } from 'prom-client';
import { systemClock, type Clock } from './clock.js';
import { silentLogger, type Logger } from './logger.js';
import { controllerMetrics, type ControllerMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limiter.js';
import { objectKey, type EventSource, type KubeObject } from './types.js';
import { WorkQueue } from './workqueue.js';

/** What a reconcile asks for next. Nothing (or `{}`) means "done until something changes". */
export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (a scheduled re-check). */
  requeueAfterMs?: number;
  /** Reconcile again soon, through the rate limiter, without counting as an error. */
  requeue?: boolean;
}

/**
 * Level-triggered reconcile of one key (`namespace/name`): read the current state (from a cache),
 * converge, and return. `signal` aborts when the controller stops (e.g. leadership was lost):
 * long operations should give up then. A thrown error is retried with per-key backoff.
 */
export type Reconciler = (key: string, signal: AbortSignal) => Promise<ReconcileResult | void>;

export type WatchChange = 'add' | 'update' | 'delete';

export interface WatchOptions<T> {
  /** False for an update the reconcile does not read (controller-runtime's update predicate). */
  updateMatters?: (oldObj: T, newObj: T) => boolean;
  /** Enqueue this many milliseconds after the change, so that a burst of changes is one reconcile. Default 0. */
  delayMs?: number;
}

export interface ControllerOptions {
  /** The `controller` label of metrics and the queue's `name`. */
  name: string;
  reconcile: Reconciler;
  /** Concurrent reconciles (never two for one key). Default 1. */
  workers?: number;
  clock?: Clock;
  registry?: Registry;
  logger?: Logger;
  rateLimiter?: RateLimiter;
}

/**
 * Runs N workers that pull keys from a deduplicating queue and reconcile them. Sources added with
 * `watch` feed the queue; `run` waits until they have synced before the first reconcile.
 *
 * Results: success → the key's backoff is forgotten; `requeueAfterMs` → scheduled again;
 * `requeue` → rate-limited again; error → logged, counted, rate-limited retry.
 */
export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconcile: Reconciler;
  private readonly workers: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: ControllerMetrics | undefined;
  private readonly sources: Array<EventSource<never>> = [];
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    if (!Number.isInteger(options.workers ?? 1) || (options.workers ?? 1) < 1) {
      throw new Error(`controller ${options.name}: workers must be a whole number >= 1, got ${options.workers}`);
    }
    this.name = options.name;
    this.reconcile = options.reconcile;
    this.workers = options.workers ?? 1;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ controller: options.name });
    this.metrics = options.registry ? controllerMetrics(options.registry) : undefined;
    this.queue = new WorkQueue({
      name: options.name,
      clock: this.clock,
      registry: options.registry,
      ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    });
    this.metrics?.maxConcurrentReconciles.set({ controller: this.name }, this.workers);
    this.metrics?.activeWorkers.set({ controller: this.name }, 0);
  }

  /**
   * Enqueues keys when `source` reports a change. By default the key is the object's own
   * (`namespace/name`); `toKeys` maps a change to the keys of the objects it affects (e.g. an
   * owned object to its owner), and is required for a source of something other than objects
   * (e.g. node names). `updateMatters` drops updates the reconcile does not care about;
   * `delayMs` gathers the changes of that long into one reconcile per key. Call before `run`.
   */
  watch<T extends KubeObject>(source: EventSource<T>, toKeys?: (obj: T, change: WatchChange) => Iterable<string>, options?: WatchOptions<T>): void;
  watch<T>(source: EventSource<T>, toKeys: (obj: T, change: WatchChange) => Iterable<string>, options?: WatchOptions<T>): void;
  watch<T>(
    source: EventSource<T>,
    toKeys: (obj: T, change: WatchChange) => Iterable<string> = (o) => [objectKey(o as KubeObject)],
    options: WatchOptions<T> = {},
  ): void {
    const delayMs = options.delayMs ?? 0;
    const enqueue = (obj: T, change: WatchChange): void => {
      for (const key of toKeys(obj, change)) this.queue.addAfter(key, delayMs);
    };
    source.addEventHandler({
      onAdd: (obj) => enqueue(obj, 'add'),
      onUpdate: (oldObj, newObj) => {
        // controller-runtime's update predicate: an update that changes nothing the reconcile
        // reads (e.g. only the status the reconcile itself wrote) queues nothing.
        if (options.updateMatters && !options.updateMatters(oldObj, newObj)) return;
        if (oldObj !== newObj) enqueue(oldObj, 'update');
        enqueue(newObj, 'update');
      },
      onDelete: (obj) => enqueue(obj, 'delete'),
    });
    this.sources.push(source as EventSource<never>);
  }

  /**
   * Waits for the watched sources to sync, then reconciles until `stop`. Resolves once every
   * worker has returned; resolves at once if stopped before the sources synced.
   */
  run(): Promise<void> {
    this.running ??= this.runWorkers();
    return this.running;
  }

  /**
   * Stops the controller. By default at once: queued keys are dropped and running reconciles see
   * their signal abort. With `drain`, queued keys are still reconciled first. Resolves when all
   * workers have returned.
   */
  async stop(options: { drain?: boolean } = {}): Promise<void> {
    if (options.drain) {
      await this.queue.shutDownWithDrain();
    } else {
      this.queue.shutDown();
    }
    this.abort.abort();
    await this.running;
  }

  private async runWorkers(): Promise<void> {
    const signal = this.abort.signal;
    for (const source of this.sources) {
      if (!(await source.waitForSync(signal))) return;
    }
    if (signal.aborted) return;
    this.logger.info({ workers: this.workers }, 'starting workers');
    await Promise.all(Array.from({ length: this.workers }, () => this.worker(signal)));
    this.logger.info('workers stopped');
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.processKey(key, signal);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async processKey(key: string, signal: AbortSignal): Promise<void> {
    const labels = { controller: this.name };
    const start = this.clock.now();
    this.metrics?.activeWorkers.inc(labels);
    let result: ReconcileResult | void;
    try {
      result = await this.reconcile(key, signal);
    } catch (err) {
      this.metrics?.reconcileErrors.inc(labels);
      this.metrics?.reconcileTotal.inc({ ...labels, result: 'error' });
      this.logger.error({ key, err, retries: this.queue.numRequeues(key) }, 'reconcile failed; will retry with backoff');
      this.queue.addRateLimited(key);
      return;
    } finally {
      this.metrics?.activeWorkers.dec(labels);
      this.metrics?.reconcileTime.observe(labels, (this.clock.now() - start) / 1000);
    }
    if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
      this.metrics?.reconcileTotal.inc({ ...labels, result: 'requeue_after' });
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfterMs);
    } else if (result?.requeue) {
      this.metrics?.reconcileTotal.inc({ ...labels, result: 'requeue' });
      this.queue.addRateLimited(key);
    } else {
      this.metrics?.reconcileTotal.inc({ ...labels, result: 'success' });
      this.queue.forget(key);
    }
  }
}
