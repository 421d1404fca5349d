import type { Logger } from 'pino';
import type { ApiError } from '../objects/status.js';
import type { Storage, StorageEvent } from './storage.js';

type Listener = {
  prefix: string;
  after: number;
  onEvents: (events: StorageEvent[]) => void;
  onError: (err: ApiError) => void;
  onProgress: (revision: number) => void;
};

interface Stream {
  /** Events of the resource after `start`, oldest first, within the hub's count and byte bounds. */
  buffer: StorageEvent[];
  bytes: number;
  start: number;
  listeners: Set<Listener>;
  cancel?: () => Promise<void>;
  ready: Promise<void>;
}

/**
 * Shares one etcd watch per resource among all API watches of it (like kube-apiserver's watch
 * cache): each change is decoded once and fanned out in-process, and recent changes are kept so
 * that a watch starting from a recent resourceVersion replays them. A watch from before what the
 * hub holds gets its own etcd watch (which answers 410 when compacted).
 */
export class WatchHub {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly capacity = 10_000,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  /** Watches keys under `prefix` (inside the resource's `resourcePrefix`) for changes after `after`. */
  async watch(
    resourcePrefix: string,
    prefix: string,
    after: number,
    onEvents: (events: StorageEvent[]) => void,
    onError: (err: ApiError) => void,
    onProgress: (revision: number) => void,
  ): Promise<() => Promise<void>> {
    // A resourceVersion etcd has compacted answers 410 even while the hub still holds its events.
    await this.storage.checkRevision(prefix, after);
    let stream = this.streams.get(resourcePrefix);
    if (!stream) stream = this.open(resourcePrefix, after);
    await stream.ready;
    if (this.streams.get(resourcePrefix) !== stream || after < stream.start) {
      const own = (events: StorageEvent[]): void => onEvents(events.filter((e) => e.key.startsWith(prefix)));
      return this.storage.watch(prefix, after, own, onError, onProgress);
    }
    const listener: Listener = { prefix, after, onEvents, onError, onProgress };
    const backlog = stream.buffer.filter((e) => e.revision > after && e.key.startsWith(prefix));
    if (backlog.length > 0) onEvents(backlog);
    stream.listeners.add(listener);
    const s = stream;
    return async () => {
      s.listeners.delete(listener);
    };
  }

  private open(resourcePrefix: string, after: number): Stream {
    const stream: Stream = { buffer: [], bytes: 0, start: after, listeners: new Set(), ready: Promise.resolve() };
    this.streams.set(resourcePrefix, stream);
    stream.ready = this.storage.watch(resourcePrefix, after, (events) => {
      for (const e of events) {
        stream.buffer.push(e);
        stream.bytes += e.bytes;
      }
      // Older events go first; a watch from before what is kept gets its own etcd watch.
      let drop = 0;
      while (drop < stream.buffer.length - 1 && (stream.buffer.length - drop > this.capacity || stream.bytes > this.maxBytes)) {
        stream.bytes -= stream.buffer[drop]?.bytes ?? 0;
        drop++;
      }
      if (drop > 0) {
        const dropped = stream.buffer.splice(0, drop);
        stream.start = dropped[dropped.length - 1]?.revision ?? stream.start;
      }
      for (const l of stream.listeners) {
        const mine = events.filter((e) => e.revision > l.after && e.key.startsWith(l.prefix));
        if (mine.length > 0) l.onEvents(mine);
      }
    }, (err) => this.fail(resourcePrefix, stream, err), (revision) => {
      for (const l of stream.listeners) l.onProgress(revision);
    }).then(
      (cancel) => {
        stream.cancel = cancel;
      },
      (err: ApiError) => {
        this.streams.delete(resourcePrefix);
        throw err;
      },
    );
    return stream;
  }

  private fail(resourcePrefix: string, stream: Stream, err: ApiError, log = true): void {
    if (log) this.logger.warn({ prefix: resourcePrefix, err: err.message }, 'shared watch ended; its watchers watch again');
    if (this.streams.get(resourcePrefix) === stream) this.streams.delete(resourcePrefix);
    for (const l of stream.listeners) l.onError(err);
    stream.listeners.clear();
  }

  /** Ends every shared watch (etcd went down, or the devcluster stops); their watchers end too. */
  closeAll(err: ApiError): void {
    const streams = [...this.streams.entries()];
    this.streams.clear();
    // One line for all: the cause is logged where it happened.
    if (streams.length > 0) this.logger.info({ watches: streams.length, err: err.message }, 'ended every shared watch; their watchers watch again');
    for (const [prefix, stream] of streams) {
      this.fail(prefix, stream, err, false);
      if (stream.cancel) void stream.cancel().catch(() => undefined);
    }
  }
}
