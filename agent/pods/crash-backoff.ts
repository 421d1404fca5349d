// kubelet's restart and image-pull backoffs (client-go flowcontrol.Backoff without jitter): per
// key, 10 s doubling to a 300 s cap, counted from the failure, forgotten once the key went twice
// the cap without failing. A crash-looping container restarts at once after its first crash,
// then waits 10 s, 20 s, 40 s … after each exit; one that ran for 10 minutes starts over at once.
// A failed image pull waits 10 s, 20 s, 40 s … before the next try.
import type { Clock } from '../../kube/clock.js';

export const DEFAULT_INITIAL_BACKOFF_MS = 10_000;
export const DEFAULT_MAX_BACKOFF_MS = 300_000;

export interface BackoffOptions {
  clock: Clock;
  initialMs?: number;
  /** The cap; a cap below the initial delay lowers that too (kubelet's maxContainerRestartPeriod). */
  maxMs?: number;
}

interface Entry {
  /** Tries since the key last went quiet. */
  tries: number;
  /** When the last try started. */
  lastTry: number;
}

/**
 * Tries after failures, per key: `remainingMs` says how long the next try must wait after a
 * failure, `tried` counts a try, which doubles the wait after the next failure.
 */
abstract class RetryBackoff {
  protected readonly clock: Clock;
  protected readonly initialMs: number;
  protected readonly maxMs: number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: BackoffOptions) {
    const initialMs = options.initialMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    const maxMs = options.maxMs ?? DEFAULT_MAX_BACKOFF_MS;
    if (!(maxMs > 0) || !(initialMs > 0)) throw new Error(`backoff: need initialMs (${initialMs}) and maxMs (${maxMs}) above 0`);
    this.clock = options.clock;
    this.maxMs = maxMs;
    this.initialMs = Math.min(initialMs, maxMs);
  }

  /** The wait after a failure that followed `tries` tries. */
  protected abstract delayMs(tries: number): number;

  /** Milliseconds still to wait after the failure at `failedAtMs`; 0 when the next try may start. */
  remainingMs(key: string, failedAtMs: number): number {
    return Math.max(0, this.delayMs(this.tries(key, failedAtMs)) - (this.clock.now() - failedAtMs));
  }

  /** Counts a try after the failure at `failedAtMs`: the wait after the next failure doubles. */
  tried(key: string, failedAtMs: number): void {
    this.entries.set(key, { tries: this.tries(key, failedAtMs) + 1, lastTry: this.clock.now() });
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets keys quiet for twice the cap (kubelet runs this with its housekeeping). */
  gc(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (now - entry.lastTry > 2 * this.maxMs) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  protected restoreTries(key: string, tries: number, lastTryMs: number): void {
    if (tries > 0) this.entries.set(key, { tries, lastTry: lastTryMs });
  }

  protected doubled(times: number): number {
    return Math.min(this.maxMs, this.initialMs * 2 ** times);
  }

  /** Tries counted for a failure at `failedAtMs`; none once it came over twice the cap after the last try ("stable"). */
  private tries(key: string, failedAtMs: number): number {
    const entry = this.entries.get(key);
    return entry && failedAtMs - entry.lastTry <= 2 * this.maxMs ? entry.tries : 0;
  }
}

/**
 * CrashLoopBackOff, per container: key it by pod UID, container name and spec hash (kubelet's
 * key), so a changed container starts afresh. `failedAtMs` is the exited instance's finishedAt.
 */
export class CrashBackoff extends RetryBackoff {
  protected delayMs(restarts: number): number {
    return restarts === 0 ? 0 : this.doubled(restarts - 1);
  }

  /**
   * Rebuilds the loop of a container adopted after an agent restart from what the runtime keeps:
   * its restart count (the attempt number) and when its current instance was created.
   */
  restore(key: string, restarts: number, lastRestartMs: number): void {
    this.restoreTries(key, restarts, lastRestartMs);
  }
}

/** ImagePullBackOff, per pod and image. `failedAtMs` is when the last pull failed. */
export class ImagePullBackoff extends RetryBackoff {
  protected delayMs(tries: number): number {
    return this.doubled(tries);
  }
}
