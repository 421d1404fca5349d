// When the proxier syncs: coalesced requests at most once per minimum interval, a full resync at
// start, after a failure and periodically. Level-triggered: a sync always applies the latest
// desired state, so any number of requests in between collapse into one. Syncs that keep
// failing back off exponentially up to a cap, requests and resyncs included: a kernel that
// refuses the rules is not asked again with a full sync every interval.
import type { Backoff } from '../../kube/backoff.js';
import type { Clock } from '../../kube/clock.js';

export interface SyncLoopOptions {
  clock: Clock;
  /** Least time between the starts of two syncs (ms). */
  minIntervalMs: number;
  /** Time after a full sync until the next one is forced (ms). */
  fullResyncMs: number;
  /** The wait after each failed sync in a row (kube/backoff.ts: doubling, capped, jittered); reset by a success. */
  retry: Backoff;
  /** One sync; resolves false when it failed (the loop then retries with a full sync). */
  sync: (full: boolean) => Promise<boolean>;
}

export class SyncLoop {
  private wantSync = false;
  private wantFull = true;
  private running: Promise<void> | undefined;
  private lastStart = Number.NEGATIVE_INFINITY;
  /** No sync starts before this (ms): the backoff after a failure. */
  private retryAt = Number.NEGATIVE_INFINITY;
  private cancelTimer: (() => void) | undefined;
  private cancelFullTimer: (() => void) | undefined;
  private stopped = true;

  constructor(private readonly options: SyncLoopOptions) {}

  /** Starts with a full sync right away. */
  start(): void {
    this.stopped = false;
    this.wantFull = true;
    this.schedule();
  }

  /** Asks for a sync of what changed. */
  request(): void {
    this.wantSync = true;
    this.schedule();
  }

  /** Asks for a full sync. */
  requestFull(): void {
    this.wantFull = true;
    this.schedule();
  }

  /** Stops scheduling and waits for a sync in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelFullTimer?.();
    this.cancelTimer = this.cancelFullTimer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped || this.running || this.cancelTimer || !(this.wantSync || this.wantFull)) return;
    const now = this.options.clock.now();
    const delay = Math.max(0, this.lastStart + this.options.minIntervalMs - now, this.retryAt - now);
    this.cancelTimer = this.options.clock.setTimer(() => {
      this.cancelTimer = undefined;
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, delay);
  }

  private async runOnce(): Promise<void> {
    const full = this.wantFull;
    this.wantFull = this.wantSync = false;
    this.lastStart = this.options.clock.now();
    const ok = await this.options.sync(full);
    if (ok) {
      this.options.retry.reset();
      this.retryAt = Number.NEGATIVE_INFINITY;
    } else {
      this.wantFull = true;
      this.retryAt = this.lastStart + this.options.retry.next();
    }
    if (full && !this.stopped) {
      this.cancelFullTimer?.();
      this.cancelFullTimer = this.options.clock.setTimer(() => {
        this.cancelFullTimer = undefined;
        this.requestFull();
      }, this.options.fullResyncMs);
    }
  }
}
