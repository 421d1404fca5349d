// Keeps the kernel's rules in step with the desired proxy state: diff against what was last
// applied, apply through the backend, delete stale UDP conntrack entries, record metrics.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Backoff } from '../../kube/backoff.js';
import type { Clock } from '../../kube/clock.js';
import type { ProxyBackend } from './backend.js';
import { deleteStaleFlows } from './conntrack.js';
import { CommandError, type Runner } from '../exec.js';
import type { ProxyMetrics } from './metrics.js';
import { advanceState, diffProxyState, isEmptyDiff, staleUdpFlows } from './model-diff.js';
import { cloneState, emptyState, type ProxyState } from './model.js';
import { SyncLoop } from './sync-loop.js';

export interface ProxierOptions {
  backend: ProxyBackend;
  /** Runs conntrack (same namespace as the backend's programs). */
  run: Runner;
  logger: Logger;
  metrics: ProxyMetrics;
  clock: Clock;
  minSyncPeriodMs: number;
  fullResyncPeriodMs: number;
  /** Longest wait between syncs that keep failing (ms); the first waits minSyncPeriodMs. Default DEFAULT_SYNC_RETRY_MAX_MS. */
  retryMaxMs?: number;
  /** In [0, 1): jitters the retry waits. Default Math.random. */
  random?: () => number;
}

export const DEFAULT_SYNC_RETRY_MAX_MS = 30_000;

/** Why the rules are not what the API asks for: the last failed apply, and how many in a row. */
export interface SyncFailure {
  message: string;
  /** Milliseconds since the epoch of the first failure in the row. */
  since: number;
  attempts: number;
}

/** What Proxier.report says: the rules' last sync, size, and whether they match what was asked. */
export interface ProxySyncReport {
  /** ms since the epoch; absent before the first sync. */
  lastSyncTime?: number;
  /** Service ports (virtual IP or node port, port and protocol) in the rules. */
  servicePorts: number;
  /** Rules and, in nftables, set elements. */
  rules: number;
  inSync: boolean;
  /** The last failed sync's error, while syncs fail. */
  error?: string;
}

export class Proxier {
  private desired: ProxyState = emptyState();
  /** What the kernel holds: the state of the last successful apply, advanced in place. */
  private applied: ProxyState = emptyState();
  /** Frontend keys changed since the last sync started, when the caller says which. */
  private dirty = new Set<string>();
  /** When each changed frontend key first changed and is not in the kernel yet (ms since the epoch). */
  private changedSince = new Map<string, number>();
  private dirtyAll = true;
  private synced = false;
  /** When the last sync succeeded (ms since the epoch). */
  private lastSync: number | undefined;
  private failure: SyncFailure | undefined;
  private readonly loop: SyncLoop;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ProxierOptions) {
    this.loop = new SyncLoop({
      clock: options.clock,
      minIntervalMs: options.minSyncPeriodMs,
      fullResyncMs: options.fullResyncPeriodMs,
      retry: new Backoff(options.minSyncPeriodMs, Math.max(options.minSyncPeriodMs, options.retryMaxMs ?? DEFAULT_SYNC_RETRY_MAX_MS), options.random),
      sync: (full) => this.sync(full),
    });
    options.metrics.programmed = () => options.backend.counts(this.applied);
  }

  /**
   * Sets the desired state; a sync follows within the minimum sync period. A caller that knows
   * which frontend keys it changed since its previous call passes them, and may keep changing
   * `state` in place between calls: the next sync then costs O(changes). Without keys the next
   * sync compares every frontend.
   */
  setState(state: ProxyState, changedKeys?: Iterable<string>): void {
    this.desired = state;
    const now = this.options.clock.now();
    if (changedKeys) {
      for (const k of changedKeys) {
        this.dirty.add(k);
        if (!this.changedSince.has(k)) this.changedSince.set(k, now);
      }
    } else {
      this.dirtyAll = true;
    }
    this.options.metrics.lastQueuedTimestamp.set(now / 1000);
    this.loop.request();
  }

  /** Whether a sync has succeeded since start. */
  hasSynced(): boolean {
    return this.synced;
  }

  /**
   * The rules on the node as the NodeAgent's status tells them: when they last took what was
   * asked, how many there are, and whether they still match it (no change waiting, no failure).
   */
  report(): ProxySyncReport {
    const pending = this.dirtyAll || this.dirty.size > 0;
    const counts = this.options.backend.counts(this.applied);
    return {
      ...(this.lastSync !== undefined ? { lastSyncTime: this.lastSync } : {}),
      servicePorts: this.applied.frontends.size,
      rules: counts.rules + counts.elements,
      inSync: this.synced && !pending && this.failure === undefined,
      ...(this.failure ? { error: this.failure.message } : {}),
    };
  }

  /** The failing syncs since the last success; undefined while the last sync succeeded. */
  failing(): SyncFailure | undefined {
    return this.failure;
  }

  /** Starts syncing, with a full sync first. */
  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.queue;
    this.options.backend.close();
  }

  /** One sync now (callers without the loop: tests, benchmarks). Resolves false if it failed. */
  sync(full: boolean): Promise<boolean> {
    const next = this.queue.then(() => this.syncOnce(full));
    this.queue = next;
    return next;
  }

  private async syncOnce(full: boolean): Promise<boolean> {
    const { backend, metrics, logger } = this.options;
    const started = performance.now();
    // A full sync renders from a copy: the caller may change the desired state while the
    // backend is busy, and a full render may start only after an await.
    const target = full ? cloneState(this.desired) : this.desired;
    const diff = diffProxyState(this.applied, target, full || this.dirtyAll ? undefined : this.dirty);
    const nodeAddresses = [...target.nodeAddresses];
    const changes = this.changedSince;
    this.dirty = new Set();
    this.changedSince = new Map();
    this.dirtyAll = false;
    if (!full && isEmptyDiff(diff)) {
      // Nothing to write: the kernel already holds the latest state, which is a sync too.
      this.lastSync = this.options.clock.now();
      metrics.lastSyncTimestamp.set(this.lastSync / 1000);
      this.programmed(changes);
      return true;
    }
    try {
      await backend.apply(this.applied, target, diff, full);
    } catch (err) {
      this.dirtyAll = true;
      // Still waiting: their time keeps running until a sync carries them.
      for (const [k, since] of changes) if ((this.changedSince.get(k) ?? Infinity) > since) this.changedSince.set(k, since);
      metrics.syncFailures.inc();
      const stderr = err instanceof CommandError ? err.stderr.trim() : undefined;
      const message = stderr || (err instanceof Error ? err.message : String(err));
      this.failure = { message, since: this.failure?.since ?? this.options.clock.now(), attempts: (this.failure?.attempts ?? 0) + 1 };
      logger.error(
        { mode: backend.mode, full, stderr, err: err instanceof Error ? err.message : String(err) },
        'applying the service rules failed; the next sync rewrites them in full, after a backoff',
      );
      return false;
    }
    if (full) this.applied = target;
    else advanceState(this.applied, diff, nodeAddresses);
    this.synced = true;
    if (this.failure) logger.info({ mode: backend.mode, failures: this.failure.attempts }, 'the service rules apply again');
    this.failure = undefined;
    const seconds = (performance.now() - started) / 1000;
    metrics.syncDuration.observe(seconds);
    (full ? metrics.fullSyncDuration : metrics.partialSyncDuration).observe(seconds);
    this.lastSync = this.options.clock.now();
    metrics.lastSyncTimestamp.set(this.lastSync / 1000);
    this.programmed(changes);
    logger.debug(
      { mode: backend.mode, full, seconds, added: diff.added.length, removed: diff.removed.length, changed: diff.changed.length },
      'service rules synced',
    );
    const flows = staleUdpFlows(diff);
    if (flows.length > 0) {
      for (const err of await deleteStaleFlows(this.options.run, flows)) {
        metrics.conntrackFailures.inc();
        logger.warn({ err: err.message }, 'deleting a stale UDP conntrack entry failed');
      }
    }
    return true;
  }

  /** The changes that were waiting since the given times are in the kernel now. */
  private programmed(changes: ReadonlyMap<string, number>): void {
    const now = this.options.clock.now();
    for (const since of changes.values()) this.options.metrics.networkProgrammingDuration.observe((now - since) / 1000);
  }
}
