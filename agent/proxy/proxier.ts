// Keeps the kernel's rules in step with the desired proxy state: diff against what was last
// applied, apply through the backend, delete stale UDP conntrack entries, record metrics.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Clock } from '../../kube/clock.js';
import type { ProxyBackend } from './backend.js';
import { deleteStaleFlows } from './conntrack.js';
import { CommandError, type Runner } from './exec.js';
import type { ProxyMetrics } from './metrics.js';
import { diffProxyState, isEmptyDiff, staleUdpFlows } from './model-diff.js';
import { EMPTY_STATE, type ProxyState } from './model.js';
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
}

export class Proxier {
  private desired: ProxyState = EMPTY_STATE;
  private applied: ProxyState = EMPTY_STATE;
  private readonly loop: SyncLoop;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: ProxierOptions) {
    this.loop = new SyncLoop({
      clock: options.clock,
      minIntervalMs: options.minSyncPeriodMs,
      fullResyncMs: options.fullResyncPeriodMs,
      sync: (full) => this.sync(full),
    });
  }

  /** Sets the desired state; a sync follows within the minimum sync period. */
  setState(state: ProxyState): void {
    this.desired = state;
    this.loop.request();
  }

  /** Starts syncing, with a full sync first. */
  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.queue;
  }

  /** One sync now (callers without the loop: tests, benchmarks). Resolves false if it failed. */
  sync(full: boolean): Promise<boolean> {
    const next = this.queue.then(() => this.syncOnce(full));
    this.queue = next;
    return next;
  }

  private async syncOnce(full: boolean): Promise<boolean> {
    const { backend, metrics, logger } = this.options;
    const desired = this.desired;
    const diff = diffProxyState(this.applied, desired);
    if (!full && isEmptyDiff(diff)) return true;
    const started = performance.now();
    try {
      await backend.apply(this.applied, desired, diff, full);
    } catch (err) {
      metrics.syncFailures.inc();
      const stderr = err instanceof CommandError ? err.stderr.trim() : undefined;
      logger.error(
        { mode: backend.mode, full, stderr, err: err instanceof Error ? err.message : String(err) },
        'applying the service rules failed; the next sync rewrites them in full',
      );
      return false;
    }
    const seconds = (performance.now() - started) / 1000;
    this.applied = desired;
    metrics.syncDuration.observe(seconds);
    (full ? metrics.fullSyncDuration : metrics.partialSyncDuration).observe(seconds);
    metrics.lastSyncTimestamp.set(this.options.clock.now() / 1000);
    const counts = backend.counts(desired);
    metrics.programmedRules.set(counts.rules);
    metrics.programmedElements.set(counts.elements);
    logger.debug(
      { mode: backend.mode, full, seconds, added: diff.added.length, removed: diff.removed.length, changed: diff.changed.length },
      'service rules synced',
    );
    const flows = staleUdpFlows(diff);
    if (flows.length > 0) {
      for (const err of await deleteStaleFlows(this.options.run, flows)) {
        metrics.conntrackFailures.inc();
        logger.warn({ stderr: err.stderr.trim(), args: err.args }, 'deleting a stale UDP conntrack entry failed');
      }
    }
    return true;
  }
}
