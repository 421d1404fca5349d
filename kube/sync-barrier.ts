/**
 * The "has synced" of a source of objects (an informer, a directory of manifests): false until
 * the first full read is in, then true for good. `wait` resolves true once synced, or false
 * when the caller's signal aborts or the source closes first, so nobody waits on a source that
 * will never sync.
 */
export class SyncBarrier {
  private done = false;
  private closed = false;
  private waiters: Array<() => void> = [];

  get synced(): boolean {
    return this.done;
  }

  markSynced(): void {
    if (this.done) return;
    this.done = true;
    this.release();
  }

  /** The source stopped: every waiter resolves with what is true now. */
  close(): void {
    this.closed = true;
    this.release();
  }

  wait(signal?: AbortSignal): Promise<boolean> {
    if (this.done) return Promise.resolve(true);
    if (signal?.aborted || this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(this.done);
      });
    });
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
