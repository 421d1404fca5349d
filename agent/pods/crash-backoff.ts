// kubelet's restart and image-pull backoffs (client-go flowcontrol.Backoff without jitter): per
// key, 10 s doubling to a 300 s cap, forgotten once the key has been quiet for twice the cap. A
// crash-looping container restarts at once after its first crash, then waits 10 s, 20 s, 40 s …
// counted from the moment it exited; one that ran for 10 minutes starts over at once.
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
  backoffMs: number;
  /** When the delay was last raised (a restart, or a failed pull). */
  lastUpdate: number;
}

/** The per-key arithmetic both backoffs share. */
class KeyedBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly entries = new Map<string, Entry>();

  constructor(readonly clock: Clock, initialMs: number, maxMs: number) {
    if (!(maxMs > 0) || !(initialMs > 0)) throw new Error(`backoff: need initialMs (${initialMs}) and maxMs (${maxMs}) above 0`);
    this.maxMs = maxMs;
    this.initialMs = Math.min(initialMs, maxMs);
  }

  get(key: string): Entry | undefined {
    return this.entries.get(key);
  }

  /** Whether `key` was quiet long enough at `eventMs` to start over ("stable for twice the cap"). */
  expired(entry: Entry, eventMs: number): boolean {
    return eventMs - entry.lastUpdate > 2 * this.maxMs;
  }

  /** Raises the delay of `key` (doubling, capped), or starts it at the initial delay. */
  raise(key: string, eventMs: number): Entry {
    const entry = this.entries.get(key);
    const backoffMs = !entry || this.expired(entry, eventMs) ? this.initialMs : Math.min(entry.backoffMs * 2, this.maxMs);
    const next = { backoffMs, lastUpdate: this.clock.now() };
    this.entries.set(key, next);
    return next;
  }

  set(key: string, entry: Entry): void {
    this.entries.set(key, entry);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  gc(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (this.expired(entry, now)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** kubelet's key of a container's crash loop: a changed spec is a new container and starts afresh. */
export function crashBackoffKey(podUid: string, containerName: string, specHash: string): string {
  return `${podUid}_${containerName}_${specHash}`;
}

/** CrashLoopBackOff: when an exited container may be restarted. */
export class CrashBackoff {
  private readonly backoff: KeyedBackoff;

  constructor(options: BackoffOptions) {
    this.backoff = new KeyedBackoff(options.clock, options.initialMs ?? DEFAULT_INITIAL_BACKOFF_MS, options.maxMs ?? DEFAULT_MAX_BACKOFF_MS);
  }

  /**
   * Asks to restart the container of `key` whose last instance finished at `finishedAtMs`.
   * `waitMs` 0: restart now (the restart is counted, raising the next delay). Otherwise it is in
   * CrashLoopBackOff for `waitMs` more, `backoffMs` in all; ask again then.
   */
  next(key: string, finishedAtMs: number): { waitMs: number; backoffMs: number } {
    const waitMs = this.waitMs(key, finishedAtMs);
    if (waitMs > 0) return { waitMs, backoffMs: this.backoff.get(key)?.backoffMs ?? 0 };
    return { waitMs: 0, backoffMs: this.backoff.raise(key, finishedAtMs).backoffMs };
  }

  /** Whether a restart of `key` must still wait; asks without counting anything. */
  inBackOff(key: string, finishedAtMs: number): boolean {
    return this.waitMs(key, finishedAtMs) > 0;
  }

  /**
   * Rebuilds the loop of a container adopted after an agent restart, from what the runtime keeps:
   * `restarts` (the container's attempt number) and when its current instance was created.
   */
  restore(key: string, restarts: number, lastRestartMs: number): void {
    if (restarts < 1) return;
    const backoffMs = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (restarts - 1));
    this.backoff.set(key, { backoffMs, lastUpdate: lastRestartMs });
  }

  reset(key: string): void {
    this.backoff.delete(key);
  }

  /** Forgets keys quiet for twice the cap (kubelet runs this with its housekeeping). */
  gc(): void {
    this.backoff.gc();
  }

  get size(): number {
    return this.backoff.size;
  }

  private waitMs(key: string, finishedAtMs: number): number {
    const entry = this.backoff.get(key);
    // It ran long enough since the last restart: the loop is over.
    if (!entry || this.backoff.expired(entry, finishedAtMs)) return 0;
    return Math.max(0, entry.backoffMs - (this.backoff.clock.now() - finishedAtMs));
  }
}

/** kubelet's key of an image pull: per pod, so one pod's bad credentials do not hold back another. */
export function imagePullBackoffKey(podUid: string, image: string): string {
  return `${podUid}_${image}`;
}

/** ImagePullBackOff: when a failed pull may be tried again. */
export class ImagePullBackoff {
  private readonly backoff: KeyedBackoff;

  constructor(options: BackoffOptions) {
    this.backoff = new KeyedBackoff(options.clock, options.initialMs ?? DEFAULT_INITIAL_BACKOFF_MS, options.maxMs ?? DEFAULT_MAX_BACKOFF_MS);
  }

  /** ms before `key` may be pulled again; 0 now. */
  waitMs(key: string): number {
    const entry = this.backoff.get(key);
    const now = this.backoff.clock.now();
    if (!entry || this.backoff.expired(entry, now)) return 0;
    return Math.max(0, entry.backoffMs - (now - entry.lastUpdate));
  }

  /** Counts a failed pull; returns the delay before the next try. */
  failed(key: string): number {
    return this.backoff.raise(key, this.backoff.clock.now()).backoffMs;
  }

  /** A pull succeeded: the next failure starts at the initial delay again. */
  succeeded(key: string): void {
    this.backoff.delete(key);
  }

  gc(): void {
    this.backoff.gc();
  }

  get size(): number {
    return this.backoff.size;
  }
}
