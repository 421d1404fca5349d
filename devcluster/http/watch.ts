import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../objects/object.js';
import { groupVersion } from '../objects/registry.js';
import { selectorsOf, type ResourceApi, type ResourceRequest } from './resource-api.js';
import { flagParam, intParam, parseResourceVersion } from './query-params.js';
import { matchesFields, matchesLabels } from '../objects/selectors.js';
import { collectionPrefix, toServed } from '../objects/served-object.js';
import { ApiError } from '../objects/status.js';
import type { StorageEvent } from '../storage/storage.js';
import type { WatchHub } from '../storage/watch-hub.js';
import { buildTable, type IncludeObject } from './tables.js';

export interface WatchOptions {
  table: boolean;
  include: IncludeObject;
  /** How often a bookmark goes out when the client allows them. */
  bookmarkIntervalMs: number;
  /** Registers a way to end the stream (the devcluster ends all watches when etcd goes down or on stop). */
  register: (end: () => void) => () => void;
}

type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject };

/**
 * Serves `?watch=true` as a stream of JSON lines. Without a resourceVersion (or with "0") the
 * current objects come first as ADDED; then every change after that revision, from etcd.
 * Selector watches get DELETED when an object stops matching and ADDED when it starts to.
 */
export async function serveWatch(res: ServerResponse, req: ResourceRequest, api: ResourceApi, hub: WatchHub, opts: WatchOptions): Promise<void> {
  const { info, version, path, query } = req;
  const { labels, fields } = selectorsOf(info, query);
  const matches = (o: KubeObject | undefined): boolean => o !== undefined && matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o);
  // Like kube-apiserver: no timeout (or 0) means a random 30 to 60 minutes.
  const timeout = intParam(query, 'timeoutSeconds') || 1800 + Math.floor(Math.random() * 1800);
  const bookmarks = flagParam(query, 'allowWatchBookmarks');
  const rvParam = query.get('resourceVersion');
  // sendInitialEvents (the watch-list protocol) asks for the current objects first whatever the resourceVersion.
  const initialEvents = flagParam(query, 'sendInitialEvents');
  let start = rvParam === '0' || initialEvents ? undefined : parseResourceVersion(rvParam, 'resourceVersion');
  let initial: KubeObject[] = [];
  if (start === undefined) {
    const list = await api.list({ ...req, query: new URLSearchParams([...query.entries()].filter(([k]) => k === 'labelSelector' || k === 'fieldSelector')) });
    initial = list.items;
    start = Number(list.resourceVersion);
  }
  let lastRevision = start;
  let firstTable = true;
  const columns = version.printerColumns;

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' });
  res.flushHeaders();

  const send = (type: string, object: unknown): void => {
    res.write(JSON.stringify({ type, object }) + '\n');
  };
  const sendEvent = (ev: WatchEvent): void => {
    if (!opts.table) {
      writeShared(res, eventLine(ev.type, ev.object));
      return;
    }
    const table = buildTable(columns, [ev.object], { resourceVersion: ev.object.metadata.resourceVersion ?? '' }, opts.include);
    if (!firstTable) table.columnDefinitions = null;
    firstTable = false;
    send(ev.type, table);
  };

  let closed = false;
  let cancel: (() => Promise<void>) | undefined;
  let unregister: () => void = () => undefined;
  const timers: NodeJS.Timeout[] = [];
  const end = (): void => {
    if (closed) return;
    closed = true;
    timers.forEach((t) => clearTimeout(t));
    unregister();
    if (cancel) void cancel().catch(() => undefined);
    res.end();
  };
  res.on('close', end);
  unregister = opts.register(end);

  for (const object of initial) sendEvent({ type: 'ADDED', object });
  if (initialEvents && bookmarks) {
    send('BOOKMARK', { kind: info.kind, apiVersion: groupVersion(info.group, version.name), metadata: { resourceVersion: String(start), annotations: { 'k8s.io/initial-events-end': 'true' } } });
  }

  const bookmark = (): void => {
    send('BOOKMARK', { kind: info.kind, apiVersion: groupVersion(info.group, version.name), metadata: { resourceVersion: String(lastRevision) } });
  };
  timers.push(setTimeout(() => {
    if (bookmarks && !closed) bookmark();
    end();
  }, timeout * 1000));
  if (bookmarks) {
    const tick = setInterval(() => {
      if (!closed) bookmark();
    }, opts.bookmarkIntervalMs);
    timers.push(tick);
  }

  const onEvents = (events: StorageEvent[]): void => {
    if (closed) return;
    for (const ev of events) {
      lastRevision = ev.revision;
      const served = servedOnce(info, version.name, ev.object);
      const now = matches(served);
      const before = matches(ev.previous && servedOnce(info, version.name, ev.previous));
      if (ev.type === 'DELETED') {
        if (before) sendEvent({ type: 'DELETED', object: served });
      } else if (now && before) sendEvent({ type: 'MODIFIED', object: served });
      else if (now) sendEvent({ type: 'ADDED', object: served });
      else if (before) sendEvent({ type: 'DELETED', object: leftSelector(servedOnce(info, version.name, ev.previous as KubeObject), served) });
    }
  };
  const onError = (err: ApiError): void => {
    if (closed) return;
    send('ERROR', err.toStatus());
    end();
  };
  try {
    const onProgress = (revision: number): void => {
      lastRevision = Math.max(lastRevision, revision);
    };
    cancel = await hub.watch(info.storagePrefix, collectionPrefix(info, path.namespace), start, onEvents, onError, onProgress);
    if (closed) await cancel();
  } catch (err) {
    onError(err instanceof ApiError ? err : new ApiError(500, (err as Error).message));
  }
}

// Watchers of one resource share each change (see watch-hub.ts): convert and serialize it once.
const served = new WeakMap<KubeObject, Map<string, KubeObject>>();
const lines = new WeakMap<KubeObject, Map<string, SharedLine>>();

function servedOnce(info: ResourceRequest['info'], version: string, stored: KubeObject): KubeObject {
  const key = `${info.group}/${version}`;
  let byVersion = served.get(stored);
  if (!byVersion) {
    byVersion = new Map();
    served.set(stored, byVersion);
  }
  let out = byVersion.get(key);
  if (!out) {
    out = toServed(info, version, stored);
    byVersion.set(key, out);
  }
  return out;
}

/**
 * The DELETED of an object that stopped matching a watch's selectors: its last version that
 * matched, at the resourceVersion of the change (as kube-apiserver sends it), so that a client
 * sees why it was in the watch and where the watch has got to.
 */
function leftSelector(previous: KubeObject, current: KubeObject): KubeObject {
  return { ...previous, metadata: { ...previous.metadata, resourceVersion: current.metadata.resourceVersion } };
}

/** One event's line, serialized once for every watcher that gets it, and framed as an HTTP/1.1 chunk too. */
interface SharedLine {
  /** `<size in hex>\r\n<line>\r\n`: the chunk that chunked transfer encoding writes for the line. */
  chunk: Buffer;
  /** The line alone (a view into `chunk`). */
  line: Buffer;
}

function eventLine(type: string, object: KubeObject): SharedLine {
  let byType = lines.get(object);
  if (!byType) {
    byType = new Map();
    lines.set(object, byType);
  }
  let shared = byType.get(type);
  if (shared === undefined) {
    const line = Buffer.from(JSON.stringify({ type, object }) + '\n');
    const head = `${line.length.toString(16)}\r\n`;
    const chunk = Buffer.allocUnsafe(head.length + line.length + 2);
    chunk.write(head, 0, 'latin1');
    line.copy(chunk, head.length);
    chunk.write('\r\n', head.length + line.length, 'latin1');
    shared = { chunk, line: chunk.subarray(head.length, head.length + line.length) };
    byType.set(type, shared);
  }
  return shared;
}

/**
 * Writes a shared line. One change goes to every watcher of its resource in turn, so the time
 * each write takes adds up to the last watcher's latency: a chunked stream whose socket is
 * attached gets the ready-made chunk straight on its socket (one write of one buffer, where the
 * response would frame the same bytes anew in four writes per watcher). The stream's other lines
 * (bookmarks, errors, tables) go through the response; both reach the socket in order.
 */
function writeShared(res: ServerResponse, shared: SharedLine): void {
  if (res.chunkedEncoding && res.socket && !res.writableEnded) res.socket.write(shared.chunk);
  else res.write(shared.line);
}
