// The static manifest source: a directory of NodeWorkload files on the node, read like kubelet
// reads its staticPodPath. It is watched (fs.watch) and read again in full every 20 s, since
// watches miss changes on some filesystems; files whose names start with "." are skipped. It
// serves the static assignments as an event source with a cache, the same shape as an informer,
// so the pod lifecycle runs static and API assignments alike.
//
// A missing directory is an empty set (watched for again with a backoff of 1 s to 20 s). A file
// with errors is reported and skipped; when it had a valid version before, that version stays,
// so a half-written save does not stop the workloads it holds. A deleted file removes them.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeAssignment } from '../../api/index.js';
import { Backoff } from '../../kube/backoff.js';
import { systemClock, type Clock } from '../../kube/clock.js';
import { SyncBarrier } from '../../kube/sync-barrier.js';
import { silentLogger, type Logger } from '../../kube/logger.js';
import { objectKey, type EventSource, type ResourceEventHandler } from '../../kube/types.js';
import type { Part } from '../../kube/part.js';
import { formatProblem, parseStaticManifest, type ManifestProblem } from './static-manifest.js';

/** kubelet's fileCheckFrequency. */
export const DEFAULT_RESYNC_INTERVAL_MS = 20_000;

export interface StaticManifestsOptions {
  /** The directory of static manifests. */
  dir: string;
  nodeName: string;
  /** Full re-read period. Default 20 s. */
  resyncIntervalMs?: number;
  clock?: Clock;
  logger?: Logger;
}

interface FileState {
  /** The text last read; undefined when the file could not be read. */
  text: string | undefined;
  /** The assignments of the file's last valid version (none if it never had one). */
  assignments: NodeAssignment[];
  problems: ManifestProblem[];
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export class StaticManifests implements Part, EventSource<NodeAssignment> {
  readonly name = 'static-manifests';
  private readonly dir: string;
  private readonly nodeName: string;
  private readonly resyncIntervalMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly handlers: Array<ResourceEventHandler<NodeAssignment>> = [];
  private readonly watchBackoff = new Backoff(1_000, 20_000);
  private files = new Map<string, FileState>();
  private current = new Map<string, NodeAssignment>();
  private reported = new Map<string, ManifestProblem>();
  private watcher: FSWatcher | undefined;
  private cancelWatchRetry: (() => void) | undefined;
  private cancelResync: (() => void) | undefined;
  private reading: Promise<void> | undefined;
  private readAgain = false;
  private missing = false;
  private readonly syncBarrier = new SyncBarrier();
  private stopped = false;

  constructor(options: StaticManifestsOptions) {
    this.dir = options.dir;
    this.nodeName = options.nodeName;
    this.resyncIntervalMs = options.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'static-manifests', dir: options.dir });
  }

  /** Watches the directory and resolves once it has been read (an empty set if it is missing). */
  async start(): Promise<void> {
    this.ensureWatch();
    await this.refresh();
    this.scheduleResync();
  }

  ready(): true | string {
    return this.syncBarrier.synced || `the static manifest directory ${this.dir} has not been read yet (see the log for why)`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.cancelWatchRetry?.();
    this.cancelResync?.();
    await this.reading;
    this.syncBarrier.close();
  }

  addEventHandler(handler: ResourceEventHandler<NodeAssignment>): void {
    this.handlers.push(handler);
  }

  /** True once the directory has been read (or found missing). */
  hasSynced(): boolean {
    return this.syncBarrier.synced;
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    return this.syncBarrier.wait(signal);
  }


  /** The static assignment under `namespace/name`. */
  get(key: string): NodeAssignment | undefined {
    return this.current.get(key);
  }

  list(): NodeAssignment[] {
    return [...this.current.values()];
  }

  /** What is wrong with the files now, one entry per bad file or document. */
  problems(): ManifestProblem[] {
    return [...this.reported.values()];
  }

  private ensureWatch(): void {
    if (this.watcher || this.stopped || this.cancelWatchRetry) return;
    try {
      const watcher = watch(this.dir, { persistent: false }, () => void this.refresh());
      watcher.on('error', (err) => {
        this.logger.warn({ err }, 'watch of the static manifest directory failed; watching again');
        this.dropWatch(watcher);
      });
      this.watcher = watcher;
      this.watchBackoff.reset();
      if (this.missing) void this.refresh();
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') this.logger.warn({ err }, 'cannot watch the static manifest directory; retrying');
      this.retryWatch();
    }
  }

  private dropWatch(watcher: FSWatcher): void {
    watcher.close();
    if (this.watcher === watcher) this.watcher = undefined;
    this.retryWatch();
  }

  private retryWatch(): void {
    if (this.stopped || this.cancelWatchRetry) return;
    this.cancelWatchRetry = this.clock.setTimer(() => {
      this.cancelWatchRetry = undefined;
      this.ensureWatch();
    }, this.watchBackoff.next());
  }

  private scheduleResync(): void {
    if (this.stopped) return;
    this.cancelResync = this.clock.setTimer(() => {
      void this.refresh().finally(() => this.scheduleResync());
    }, this.resyncIntervalMs);
  }

  /** Reads the directory; reads that are asked for meanwhile collapse into one more. */
  private refresh(): Promise<void> {
    if (this.reading) {
      this.readAgain = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.readAgain = false;
        try {
          await this.read();
        } catch (err) {
          this.logger.error({ err }, 'reading the static manifests failed; the next read tries again');
        }
      } while (this.readAgain && !this.stopped);
    })().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => !n.startsWith('.')).sort();
      if (this.missing) this.logger.info('static manifest directory appeared');
      this.missing = false;
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') {
        // Unreadable is not empty: what runs keeps running, and a source never read does not
        // count as synced, so nothing is stopped for lack of its manifests. The next read retries.
        this.logger.error({ err }, 'cannot read the static manifest directory; static workloads stay as they are');
        return;
      }
      if (!this.missing) this.logger.info('static manifest directory does not exist; no static workloads until it does');
      this.missing = true;
      names = [];
      if (this.watcher) this.dropWatch(this.watcher);
    }
    const files = new Map<string, FileState>();
    for (const name of names) {
      const path = join(this.dir, name);
      const state = await this.readFileState(path);
      if (state) files.set(path, state);
    }
    if (this.stopped) return;
    this.files = files;
    this.publish();
    this.markSynced();
  }

  /** The file's state now; undefined when it is not a file (a directory) or is gone. */
  private async readFileState(path: string): Promise<FileState | undefined> {
    const before = this.files.get(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const code = errorCode(err);
      if (code === 'EISDIR' || code === 'ENOENT') return undefined;
      return { text: undefined, assignments: before?.assignments ?? [], problems: [{ file: path, errors: [{ path: '(file)', message: `cannot be read: ${(err as Error).message}` }] }] };
    }
    if (before && before.text === text) return before;
    const parsed = parseStaticManifest(text, path, this.nodeName);
    if (!parsed.problems.length) return { text, assignments: parsed.assignments, problems: [] };
    if (before?.assignments.length) this.logger.warn({ file: path }, 'static manifest has errors; its last valid version keeps running');
    return { text, assignments: before?.assignments ?? [], problems: parsed.problems };
  }

  /** Merges the files (a workload defined twice counts in the first file by name) and emits what changed. */
  private publish(): void {
    const next = new Map<string, NodeAssignment>();
    const from = new Map<string, string>();
    const problems: ManifestProblem[] = [];
    for (const [path, state] of this.files) {
      problems.push(...state.problems);
      for (const a of state.assignments) {
        const key = objectKey(a);
        const first = from.get(key);
        if (first !== undefined) {
          problems.push({ file: path, workload: key, errors: [{ path: 'metadata.name', message: `NodeAssignment ${key} is already defined by ${first}; this one is skipped: rename the workload` }] });
          continue;
        }
        from.set(key, path);
        next.set(key, a);
      }
    }
    this.report(problems);

    const previous = this.current;
    this.current = next;
    for (const [key, a] of next) {
      const old = previous.get(key);
      if (!old) this.dispatch((h) => h.onAdd?.(a), 'add', a);
      else if (old.metadata?.uid !== a.metadata?.uid) this.dispatch((h) => h.onUpdate?.(old, a), 'update', a);
    }
    for (const [key, old] of previous) if (!next.has(key)) this.dispatch((h) => h.onDelete?.(old), 'delete', old);
  }

  /** Logs each problem once, when it appears. */
  private report(problems: ManifestProblem[]): void {
    const now = new Map(problems.map((p) => [formatProblem(p), p]));
    for (const [text, p] of now) if (!this.reported.has(text)) this.logger.warn({ file: p.file, document: p.document, workload: p.workload, errors: p.errors }, `static manifest skipped: ${text}`);
    this.reported = now;
  }

  private dispatch(call: (h: ResourceEventHandler<NodeAssignment>) => void, change: string, a: NodeAssignment): void {
    this.logger.info({ change, namespace: a.metadata?.namespace, name: a.metadata?.name, uid: a.metadata?.uid }, 'static assignment changed');
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (err) {
        this.logger.error({ err, change, namespace: a.metadata?.namespace, name: a.metadata?.name }, 'event handler threw');
      }
    }
  }

  private markSynced(): void {
    this.syncBarrier.markSynced();
  }

}
