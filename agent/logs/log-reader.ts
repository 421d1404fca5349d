// Reads one container's CRI log file for a request and writes the selected lines, as kubelet's
// ReadLogs does: the file as it is, then (follow) what the runtime appends, waking on inotify
// events of the log directory. A rotation (the file renamed, a new one at the path) is followed
// into the new file. Following ends when the request goes, when limitBytes is sent, or once
// the container no longer runs and its last lines are read (checked after a quiet period).
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock } from '../../kube/clock.js';
import { CriLogDecoder } from './cri-log.js';
import { LogSelection, type SelectionOptions } from './log-selection.js';

/** kubelet's stateCheckPeriod: how long a follow waits for lines before it asks whether the container still runs. */
export const DEFAULT_STATE_CHECK_PERIOD_MS = 5_000;
const CHUNK_BYTES = 64 * 1024;

export interface ReadLogOptions extends SelectionOptions {
  path: string;
  follow: boolean;
  /** Whether the container still runs (a follow ends once it does not). */
  running: () => Promise<boolean>;
  /** Sends bytes to the client; resolves when it may take more. */
  write: (chunk: Buffer) => Promise<void>;
  /** Aborts when the client went away. */
  signal: AbortSignal;
  clock: Clock;
  stateCheckPeriodMs?: number;
}

/** Resolves when everything asked for was written, or the request ended. */
export async function readLog(o: ReadLogOptions): Promise<void> {
  const selection = new LogSelection(o);
  const decoder = new CriLogDecoder();
  const send = async (chunks: Buffer[]): Promise<void> => {
    for (const c of chunks) if (!o.signal.aborted) await o.write(c);
  };
  const wake = new Wakeup(o.follow ? dirname(o.path) : undefined);
  let file: FileHandle | undefined;
  let inode: number | undefined;
  let position = 0;
  const buffer = Buffer.alloc(CHUNK_BYTES);
  /** Reads to the end of the open file; whether anything was read. */
  const drain = async (): Promise<boolean> => {
    if (!file) return false;
    let any = false;
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, position);
      if (bytesRead === 0) return any;
      any = true;
      position += bytesRead;
      await send(selection.add(decoder.push(buffer.subarray(0, bytesRead))));
      if (selection.full || o.signal.aborted) return any;
    }
  };
  /** Opens the file at the path if it is another than the open one (first open, or a rotation). */
  const reopen = async (): Promise<void> => {
    const now = await statOrUndefined(o.path);
    if (!now || now.ino === inode) return;
    // What the old file still held was drained before: the rest of the log is in the new one.
    await file?.close();
    file = await open(o.path, 'r').catch(() => undefined);
    inode = file ? now.ino : undefined;
    position = 0;
  };
  try {
    await reopen();
    await drain();
    await send(selection.caughtUp());
    while (o.follow && !selection.full && !o.signal.aborted) {
      const woke = await wake.next(o.clock, o.stateCheckPeriodMs ?? DEFAULT_STATE_CHECK_PERIOD_MS, o.signal);
      if (o.signal.aborted) break;
      let read = await drain();
      await reopen();
      read = (await drain()) || read;
      if (!woke && !read && !(await o.running())) {
        // The container ended: its last lines may have come after the last read.
        await reopen();
        await drain();
        break;
      }
    }
    if (!o.signal.aborted && !selection.full) await send(selection.add(decoder.end()));
  } finally {
    wake.close();
    await file?.close();
  }
}

async function statOrUndefined(path: string): Promise<{ ino: number } | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** inotify events of a directory as a wait: `next` resolves true on an event, false on timeout or abort. */
class Wakeup {
  private watcher: FSWatcher | undefined;
  private pending = false;
  private notify: (() => void) | undefined;

  constructor(dir: string | undefined) {
    if (dir === undefined) return;
    try {
      this.watcher = watch(dir, () => {
        this.pending = true;
        this.notify?.();
      });
      // A directory removed under the watch (the pod went away) ends the events, not the request.
      this.watcher.on('error', () => this.close());
    } catch {
      // No directory yet: the periodic check reads it once it exists.
      this.watcher = undefined;
    }
  }

  next(clock: Clock, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const done = (woke: boolean): void => {
        cancel();
        signal.removeEventListener('abort', onAbort);
        this.notify = undefined;
        this.pending = false;
        resolve(woke);
      };
      const onAbort = (): void => done(false);
      const cancel = clock.setTimer(() => done(false), timeoutMs);
      this.notify = () => done(true);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
