/**
 * Exponential backoff with jitter for reconnecting: the n-th consecutive failure waits a random
 * time in [d/2, d] where d = initial·2^(n-1), capped at max. Jitter spreads the reconnects of
 * many clients after an API server restart.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly initialMs = 200,
    private readonly maxMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {
    if (!(initialMs > 0) || !(maxMs >= initialMs)) {
      throw new Error(`backoff: need 0 < initialMs (${initialMs}) <= maxMs (${maxMs})`);
    }
  }

  /** Counts one more failure and returns how long to wait before the next attempt. */
  next(): number {
    this.failures++;
    const d = Math.min(this.maxMs, this.initialMs * 2 ** (this.failures - 1));
    return d / 2 + (d / 2) * this.random();
  }

  /** Consecutive failures so far. */
  attempts(): number {
    return this.failures;
  }

  reset(): void {
    this.failures = 0;
  }
}
