// How long to wait before starting containerd again after it died: 1 s, doubling to 30 s, and
// back to 1 s once a run lasted a minute, so a crash loop backs off but a rare crash is quick.
import { Backoff } from '../../kube/backoff.js';
import type { Clock } from '../../kube/clock.js';

export interface RestartBackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** A run at least this long forgives the failures before it. */
  resetAfterMs?: number;
}

export class RestartBackoff {
  private readonly backoff: Backoff;
  private readonly resetAfterMs: number;
  private runningSince: number | undefined;

  constructor(
    private readonly clock: Clock,
    options: RestartBackoffOptions = {},
  ) {
    // No jitter: there is one containerd per node, so no herd of restarts to spread.
    this.backoff = new Backoff(options.initialMs ?? 1_000, options.maxMs ?? 30_000, () => 1);
    this.resetAfterMs = options.resetAfterMs ?? 60_000;
  }

  /** containerd answers: its run starts now. */
  running(): void {
    this.runningSince = this.clock.now();
  }

  /** containerd died, or failed to come up; returns the delay before the next start. */
  failed(): number {
    if (this.runningSince !== undefined && this.clock.now() - this.runningSince >= this.resetAfterMs) this.backoff.reset();
    this.runningSince = undefined;
    return this.backoff.next();
  }

  /** Failures since the last run that lasted long enough. */
  failures(): number {
    return this.backoff.attempts();
  }
}
