import { EtcdKv, type KeyValue, type TxnResponse, type WatchEvent } from './etcd-kv.js';
import { ApiError, gone, unavailable } from '../objects/status.js';
import { isPlainObject, type KubeObject } from '../objects/object.js';

/** One change seen by a storage watch. `object` carries the resourceVersion of the change. */
export interface StorageEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  object: KubeObject;
  /** The object before the change (for MODIFIED and DELETED). */
  previous?: KubeObject;
  revision: number;
  /** Bytes of the stored values behind the event (for bounding what is kept in memory). */
  bytes: number;
}

export interface ListPage {
  /** `value` is the stored bytes the object decoded from (see servedJson in served-object.ts). */
  items: { key: string; object: KubeObject; value: Buffer }[];
  /** The snapshot revision the page was read at. */
  revision: number;
  /** Whether keys after the last item exist at that revision. */
  more: boolean;
  /** How many keys the whole range (from the page's start) held at that revision. */
  count: number;
}

export type WriteResult =
  | { ok: true; object: KubeObject; revision: number }
  | { ok: false; current?: KubeObject };

/** How soon a watch tries to resume after etcd went away, and how far that wait grows. */
const RESUME_FIRST_MS = 100;
const RESUME_MAX_MS = 1000;

/** Told of a stored value that is not a JSON object with metadata (written past the API, or damaged). */
export type OnUndecodable = (key: string, reason: string) => void;

/**
 * Kubernetes objects in etcd: one key per object, JSON values, and resourceVersion equal to the
 * key's mod revision (never stored in the value). Every write is a compare-and-swap transaction.
 * A value that does not decode is left out of lists and watches (one bad key must not stop
 * every list of its resource, nor a watch's event handler) and reported to `onUndecodable`;
 * a get of it answers 500 naming the key.
 */
export class Storage {
  /** Reads and writes (one unary call each, 5 s deadline), and watches (long-lived streams). */
  private readonly kv: EtcdKv;
  /** Set by close(): watches then stop rather than resume. */
  private closed = false;

  constructor(endpoint: string, private readonly onUndecodable: OnUndecodable) {
    this.kv = new EtcdKv(endpoint, 5000);
  }

  close(): void {
    this.closed = true;
    this.kv.close();
  }

  async get(key: string): Promise<KubeObject | undefined> {
    // Serializable reads skip etcd's read-index round; on a single member they see every applied write.
    const res = await call(() => this.kv.range({ key: Buffer.from(key), serializable: true }));
    const kv = res.kvs[0];
    return kv ? this.decodeOrFail(kv) : undefined;
  }

  async currentRevision(): Promise<number> {
    const res = await call(() => this.kv.range({ key: Buffer.from('/registry/'), limit: 1, keysOnly: true }));
    return res.revision;
  }

  /** Reads up to `limit` keys (0 = all) of `prefix` from `startKey` on, at `revision` (0 = now). */
  async listPage(prefix: string, opts: { startKey?: string; revision?: number; limit?: number } = {}): Promise<ListPage> {
    const res = await call(() => this.kv.range({
      key: Buffer.from(opts.startKey ?? prefix),
      rangeEnd: prefixEnd(prefix),
      revision: opts.revision ?? 0,
      limit: opts.limit ?? 0,
      serializable: true,
    }));
    return {
      items: res.kvs.flatMap((kv) => {
        const object = this.decode(kv.key, kv.value, kv.modRevision);
        return object ? [{ key: kv.key.toString(), object, value: kv.value }] : [];
      }),
      revision: opts.revision || res.revision,
      more: res.more,
      count: res.count,
    };
  }

  /** Creates `key` only if it does not exist: one transaction that also reads the existing object on failure. */
  async create(key: string, object: KubeObject): Promise<WriteResult> {
    const k = Buffer.from(key);
    return this.write(object, await call(() => this.kv.txn(
      [{ key: k, target: 'version', version: 0 }],
      [{ put: { key: k, value: encode(object) } }],
      [{ range: { key: k } }],
    )));
  }

  /** Replaces `key` only if its mod revision is still `expected`. */
  async update(key: string, object: KubeObject, expected: number): Promise<WriteResult> {
    const k = Buffer.from(key);
    return this.write(object, await call(() => this.kv.txn(
      [{ key: k, target: 'mod', modRevision: expected }],
      [{ put: { key: k, value: encode(object) } }],
      [{ range: { key: k } }],
    )));
  }

  private write(object: KubeObject, res: TxnResponse): WriteResult {
    if (!res.succeeded) return this.failed(res);
    return { ok: true, object: withRevision(object, res.revision), revision: res.revision };
  }

  /** Deletes `key` only if its mod revision is still `expected`; the result holds the deleted object at the delete revision. */
  async delete(key: string, expected: number): Promise<WriteResult> {
    const k = Buffer.from(key);
    const res = await call(() => this.kv.txn(
      [{ key: k, target: 'mod', modRevision: expected }],
      [{ deleteRange: { key: k, prevKv: true } }],
      [{ range: { key: k } }],
    ));
    if (!res.succeeded) return this.failed(res);
    const prev = res.responses[0]?.deletedPrevKvs?.[0];
    if (!prev) return { ok: false };
    return { ok: true, object: withRevision(this.decodeOrFail(prev), res.revision), revision: res.revision };
  }

  /** Compacts etcd's history up to `revision`: watches and lists from before it then answer 410. */
  async compact(revision: number): Promise<void> {
    await call(() => this.kv.compact(revision));
  }

  /**
   * Watches every key under `prefix` for changes after `afterRevision`. Answers 410 at once when
   * that revision is compacted. `onError` gets an ApiError when the watch cannot go on;
   * `onProgress` gets revisions up to which every change has been delivered. When etcd goes away
   * (a restart) the watch resumes from the first revision it has not delivered, once etcd is back.
   */
  async watch(
    prefix: string,
    afterRevision: number,
    onEvents: (events: StorageEvent[]) => void,
    onError: (err: ApiError) => void,
    onProgress?: (revision: number) => void,
  ): Promise<() => Promise<void>> {
    await this.checkRevision(prefix, afterRevision);
    /** The first revision not delivered yet: where a resumed watch starts. */
    let next = afterRevision + 1;
    let stopped = false;
    let cancelStream: (() => void) | undefined;
    let retry: NodeJS.Timeout | undefined;
    let retryMs = RESUME_FIRST_MS;
    // etcd cancels a watch whose start revision was compacted away meanwhile.
    const canceled = (): Promise<ApiError> => this.checkRevision(prefix, next - 1).then(
      () => new ApiError(500, `the storage watch on ${prefix} was canceled by etcd; watch again`),
      (err: ApiError) => err,
    );
    const open = (first: { resolve: () => void; reject: (err: unknown) => void } | undefined): void => {
      let created = false;
      cancelStream = this.kv.watch({ key: Buffer.from(prefix), rangeEnd: prefixEnd(prefix), startRevision: next, prevKv: true, progressNotify: true }, (res) => {
        if (res.canceled) {
          stopped = true;
          cancelStream?.();
          void canceled().then((err) => (first && !created ? first.reject(err) : onError(err)));
          return;
        }
        if (res.created) {
          created = true;
          retryMs = RESUME_FIRST_MS;
          first?.resolve();
          return;
        }
        if (res.events.length === 0) {
          // A progress notification: every change up to res.revision has been sent.
          next = Math.max(next, res.revision + 1);
          onProgress?.(res.revision);
          return;
        }
        const events = this.storageEvents(res.events);
        next = Math.max(next, (res.events[res.events.length - 1]?.kv.modRevision ?? 0) + 1);
        if (events.length) onEvents(events);
      }, (err) => {
        if (stopped || this.closed) return;
        if (first && !created) {
          first.reject(err);
          return;
        }
        retry = setTimeout(() => {
          retry = undefined;
          if (!stopped && !this.closed) open(undefined);
        }, retryMs);
        retryMs = Math.min(2 * retryMs, RESUME_MAX_MS);
      });
    };
    await call(() => new Promise<void>((resolve, reject) => open({ resolve, reject })));
    return async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      cancelStream?.();
    };
  }

  /** The changes a watch response holds, as objects: values that do not decode are left out. */
  private storageEvents(changes: WatchEvent[]): StorageEvent[] {
    const events: StorageEvent[] = [];
    for (const ev of changes) {
      const revision = ev.kv.modRevision;
      const key = ev.kv.key.toString();
      const previous = ev.prevKv ? this.decode(ev.prevKv.key, ev.prevKv.value, ev.prevKv.modRevision) : undefined;
      if (ev.type === 'delete') {
        // A key that never decoded was never shown to a watcher: its deletion is not either.
        if (!ev.prevKv || !previous) continue;
        events.push({ type: 'DELETED', key, object: withRevision(previous, revision), previous, revision, bytes: 2 * ev.prevKv.value.length });
      } else {
        const object = this.decode(ev.kv.key, ev.kv.value, revision);
        if (!object) continue;
        // A value that decodes again after it did not is new to every watcher.
        const added = ev.kv.createRevision === ev.kv.modRevision || !previous;
        const bytes = ev.kv.value.length + (ev.prevKv?.value.length ?? 0);
        events.push({ type: added ? 'ADDED' : 'MODIFIED', key, object, ...(previous ? { previous } : {}), revision, bytes });
      }
    }
    return events;
  }

  /** Throws 410 Gone when `revision` has been compacted away. */
  async checkRevision(prefix: string, revision: number): Promise<void> {
    if (revision <= 0) return;
    await call(() => this.kv.range({ key: Buffer.from(prefix), rangeEnd: prefixEnd(prefix), revision, limit: 1, keysOnly: true }));
  }

  /** The object stored at `key`, or undefined (reported to onUndecodable) when its value does not decode. */
  private decode(key: Buffer, value: Buffer, revision: number): KubeObject | undefined {
    const parsed = parseStored(value);
    if (typeof parsed !== 'string') {
      // Freshly parsed and not shared yet: set in place rather than copied (lists decode thousands).
      parsed.metadata.resourceVersion = String(revision);
      return parsed;
    }
    this.onUndecodable(key.toString(), parsed);
    return undefined;
  }

  /** The object at a key a request names: one that does not decode answers 500 with the key to repair. */
  private decodeOrFail(kv: KeyValue): KubeObject {
    const object = this.decode(kv.key, kv.value, kv.modRevision);
    if (object) return object;
    throw new ApiError(500, `the value stored at ${kv.key.toString()} does not decode as an object; delete that etcd key or put a valid object there`, 'InternalError');
  }

  /** A transaction whose compare failed: its failure branch read the key's current object, if any. */
  private failed(res: TxnResponse): WriteResult {
    const kv = res.responses[0]?.range?.kvs[0];
    return { ok: false, current: kv ? this.decodeOrFail(kv) : undefined };
  }
}

/** Runs an etcd call, turning its failures into API errors: compaction → 410, anything else → 503. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    if (message.includes('compacted')) {
      throw gone('too old resource version: the requested revision has been compacted');
    }
    if (message.includes('future revision')) {
      throw new ApiError(504, 'Too large resource version: the requested revision is newer than the storage', 'Timeout');
    }
    throw unavailable(`etcd is unavailable: ${message}`);
  }
}


function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  return end;
}

function encode(object: KubeObject): Buffer {
  const { resourceVersion: _rv, ...metadata } = object.metadata;
  return Buffer.from(JSON.stringify({ ...object, metadata }));
}

/** The object a stored value holds, or why it holds none. */
function parseStored(value: Buffer): KubeObject | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString());
  } catch (err) {
    return `not valid JSON: ${(err as Error).message}`;
  }
  if (!isPlainObject(parsed)) return 'not a JSON object';
  if (!isPlainObject(parsed.metadata)) return 'a JSON object without a metadata object';
  return parsed as unknown as KubeObject;
}

function withRevision(object: KubeObject, revision: number): KubeObject {
  return { ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } };
}
