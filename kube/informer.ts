import type { Registry } from 'prom-client';
import { Backoff } from './backoff.js';
import type { KubeClient, Selectors } from './client.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { isGone } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { informerMetrics, type InformerMetrics } from './metrics.js';
import { resourceName, type ResourceType } from './resource.js';
import { SyncBarrier } from './sync-barrier.js';
import { Store, type IndexFunc, type StoreChange } from './store.js';
import type { EventSource, KubeObject, ResourceEventHandler } from './types.js';

export interface InformerOptions<T> extends Selectors {
  client: KubeClient;
  resource: ResourceType;
  /** Watch one namespace; all namespaces when omitted. */
  namespace?: string;
  /** Named indexes of the cache, e.g. `{ byNode: labelIndex('shopfloor.dev/node') }`. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Items per list page. Default 500. */
  pageSize?: number;
  /**
   * The server ends each watch after a random time in [t, 2t) seconds (default t = 300) so that
   * connections are renewed and load spreads.
   */
  watchTimeoutSeconds?: number;
  /**
   * A watch that delivers nothing (not even a bookmark) for this long is taken for dead: it is
   * dropped and the resource relisted. Default: the watch's server timeout plus 30 s.
   */
  watchdogMs?: number;
  /**
   * Rewrites each object (listed or watched) before it is cached and given to handlers, e.g.
   * `stripUnreadMetadata` so the cache does not hold what no caller reads. It may change the
   * object in place; it must keep metadata name, namespace, uid and resourceVersion.
   */
  transform?: (obj: T) => T;
  /** Reconnect backoff after failures. Default 200 ms doubling to 30 s, with jitter. */
  backoff?: { initialMs: number; maxMs: number };
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
  /** Prefix of the informer metrics: the binary's own (`shopfloor_operator`, `shopfloor_agent`). Required with `registry`. */
  metricsPrefix?: string;
}

export type RelistReason = 'initial' | 'gone' | 'watchdog' | 'error';

/** What the informer is doing, for logs and the health server. */
export type InformerStatus =
  | { type: 'synced' }
  | { type: 'listed'; reason: RelistReason; items: number; resourceVersion: string }
  | { type: 'watch-ended'; error?: unknown; retryInMs: number };

/** Thrown inside the loop when the watchdog dropped a silent watch. */
class WatchSilent extends Error {}

/**
 * A self-healing list-watch of one resource into a cache:
 * - lists page by page, then watches from the list's resourceVersion (with bookmarks);
 * - a watch the server ends is resumed from the last resourceVersion seen;
 * - 410 Gone (the version was compacted away) relists at once; the cache is diffed against the
 *   new list so handlers see exactly what changed meanwhile, deletions included;
 * - every other failure (connection refused or cut, server errors) retries with backoff;
 * - a watchdog relists when a watch goes silent longer than `watchdogMs`.
 * Handlers see add/update/delete once per change; an object seen again with the same
 * resourceVersion (a relist, a replayed event) is not a change.
 */
export class Informer<T extends KubeObject> implements EventSource<T> {
  readonly store: Store<T>;
  readonly resource: ResourceType;
  private readonly options: InformerOptions<T>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: InformerMetrics | undefined;
  private readonly label: string;
  private readonly handlers: Array<ResourceEventHandler<T>> = [];
  private readonly statusListeners: Array<(s: InformerStatus) => void> = [];
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private readonly syncBarrier = new SyncBarrier();
  private loop: Promise<void> | undefined;
  private lastEvent = 0;

  constructor(options: InformerOptions<T>) {
    const positive: Array<[string, number | undefined]> = [
      ['pageSize', options.pageSize],
      ['watchTimeoutSeconds', options.watchTimeoutSeconds],
      ['watchdogMs', options.watchdogMs],
    ];
    for (const [field, value] of positive) {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
        throw new Error(`informer ${resourceName(options.resource)}: ${field} must be a positive number, got ${value}`);
      }
    }
    this.options = options;
    this.resource = options.resource;
    this.clock = options.clock ?? systemClock;
    this.label = resourceName(options.resource);
    this.logger = (options.logger ?? silentLogger()).child({ informer: this.label, namespace: options.namespace });
    if (options.registry && !options.metricsPrefix) {
      throw new Error(`informer ${this.label}: metricsPrefix is required with registry; give the binary's prefix, e.g. shopfloor_agent`);
    }
    this.metrics = options.registry && options.metricsPrefix ? informerMetrics(options.registry, options.metricsPrefix) : undefined;
    this.store = new Store<T>(options.indexers);
    this.backoff = new Backoff(options.backoff?.initialMs ?? 200, options.backoff?.maxMs ?? 30_000);
  }

  addEventHandler(handler: ResourceEventHandler<T>): void {
    this.handlers.push(handler);
  }

  onStatus(listener: (s: InformerStatus) => void): void {
    this.statusListeners.push(listener);
  }

  /** Starts listing and watching in the background; idempotent. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops watching; resolves when the loop has ended. The cache keeps its last contents. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.syncBarrier.close();
    await this.loop;
  }

  /** True once the first list has been delivered to the handlers. */
  hasSynced(): boolean {
    return this.syncBarrier.synced;
  }

  /** Resolves true when synced, false if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    return this.syncBarrier.wait(signal);
  }


  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return this.store.list();
  }

  byIndex(indexName: string, value: string): T[] {
    return this.store.byIndex(indexName, value);
  }

  private async run(): Promise<void> {
    const stop = this.abort.signal;
    let resourceVersion = '';
    let relist: RelistReason | undefined = 'initial';
    while (!stop.aborted) {
      try {
        if (relist) {
          resourceVersion = await this.relist(relist);
          relist = undefined;
        } else {
          this.metrics?.watchReconnects.inc({ resource: this.label });
        }
        resourceVersion = await this.watchOnce(resourceVersion);
      } catch (err) {
        if (stop.aborted) break;
        let delay = 0;
        if (isGone(err)) {
          relist = 'gone';
          this.logger.info({ resourceVersion }, 'watch version expired (410 Gone); relisting');
        } else if (err instanceof WatchSilent) {
          relist = 'watchdog';
          this.logger.warn({ resourceVersion, silentMs: this.clock.now() - this.lastEvent }, 'watch went silent; relisting');
        } else {
          // A failed list must be retried as a list; a failed watch resumes from its version.
          if (relist === undefined && !resourceVersion) relist = 'error';
          delay = this.backoff.next();
          this.logger.warn({ err, retryInMs: Math.round(delay), attempt: this.backoff.attempts() }, 'list/watch failed; retrying');
        }
        this.emitStatus({ type: 'watch-ended', error: err, retryInMs: delay });
        if (delay > 0) await sleep(this.clock, delay, stop);
      }
    }
  }

  /** Lists every page, diffs the cache against it, and returns the list's resourceVersion. */
  private async relist(reason: RelistReason): Promise<string> {
    const { items, resourceVersion } = await this.options.client.listAll<T>(this.resource, {
      namespace: this.options.namespace,
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
      pageSize: this.options.pageSize ?? 500,
      signal: this.abort.signal,
    });
    this.metrics?.relists.inc({ resource: this.label, reason });
    this.touch();
    const transform = this.options.transform;
    this.dispatch(this.store.replace(transform ? items.map(transform) : items));
    this.backoff.reset();
    this.logger.debug({ reason, items: items.length, resourceVersion }, 'listed');
    this.emitStatus({ type: 'listed', reason, items: items.length, resourceVersion });
    if (!this.syncBarrier.synced) {
      this.syncBarrier.markSynced();
      this.emitStatus({ type: 'synced' });
    }
    return resourceVersion;
  }

  /**
   * Watches from `resourceVersion` until the server ends the watch; returns the last version
   * seen. Throws what the watch threw, or WatchSilent when the watchdog dropped it.
   */
  private async watchOnce(resourceVersion: string): Promise<string> {
    const base = this.options.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(base + Math.random() * base);
    const watchdogMs = this.options.watchdogMs ?? (timeoutSeconds + 30) * 1000;
    const watchAbort = new AbortController();
    const stop = (): void => watchAbort.abort();
    this.abort.signal.addEventListener('abort', stop, { once: true });
    let silent = false;
    let cancelWatchdog = (): void => {};
    const armWatchdog = (): void => {
      cancelWatchdog();
      cancelWatchdog = this.clock.setTimer(() => {
        silent = true;
        watchAbort.abort();
      }, watchdogMs);
    };
    const opened = this.clock.now();
    let events = 0;
    let healthy = false;
    let rv = resourceVersion;
    armWatchdog();
    try {
      const stream = this.options.client.watch<T>(
        this.resource,
        {
          namespace: this.options.namespace,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
          resourceVersion,
          timeoutSeconds,
          allowWatchBookmarks: true,
        },
        watchAbort.signal,
      );
      for await (const event of stream) {
        armWatchdog();
        events++;
        this.touch();
        rv = event.object.metadata?.resourceVersion || rv;
        if (event.type === 'BOOKMARK') continue;
        const obj = this.options.transform ? this.options.transform(event.object) : event.object;
        const change = event.type === 'DELETED' ? this.store.remove(obj) : this.store.upsert(obj);
        if (change) this.dispatch([change]);
      }
    } finally {
      cancelWatchdog();
      this.abort.signal.removeEventListener('abort', stop);
      // A watch that carried events or lasted was healthy: whatever ended it, the next failure
      // starts a fresh backoff.
      healthy = events > 0 || this.clock.now() - opened > 10_000;
      if (healthy) this.backoff.reset();
    }
    if (silent) throw new WatchSilent(`no watch event for ${watchdogMs} ms`);
    // A server that ends watches at once must not be hammered with reconnects.
    if (!healthy && !this.abort.signal.aborted) await sleep(this.clock, this.backoff.next(), this.abort.signal);
    return rv;
  }

  private dispatch(changes: Array<StoreChange<T>>): void {
    for (const change of changes) {
      for (const h of this.handlers) {
        try {
          if (change.type === 'add') h.onAdd?.(change.obj);
          else if (change.type === 'update') h.onUpdate?.(change.oldObj, change.obj);
          else h.onDelete?.(change.obj);
        } catch (err) {
          this.logger.error({ err, change: change.type, name: change.obj.metadata?.name, namespace: change.obj.metadata?.namespace }, 'event handler threw');
        }
      }
    }
  }

  private touch(): void {
    this.lastEvent = this.clock.now();
    this.metrics?.lastEvent.set({ resource: this.label }, this.lastEvent / 1000);
  }

  private emitStatus(status: InformerStatus): void {
    for (const l of this.statusListeners) l(status);
  }

}
