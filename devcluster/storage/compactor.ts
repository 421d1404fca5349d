import type { Logger } from 'pino';
import type { Storage } from './storage.js';

/**
 * Compacts etcd's history like kube-apiserver: every interval, up to the revision seen one
 * interval earlier, so watches may resume from anything newer than about one interval ago and
 * older revisions answer 410 Gone.
 */
export class Compactor {
  private timer: NodeJS.Timeout | undefined;
  private pending: number | undefined;

  constructor(private readonly storage: Storage, private readonly logger: Logger, private readonly intervalMs: number) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const current = await this.storage.currentRevision();
      if (this.pending !== undefined && this.pending > 1) {
        await this.storage.compact(this.pending);
        this.logger.debug({ revision: this.pending }, 'compacted etcd history');
      }
      this.pending = current;
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'etcd compaction skipped');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
