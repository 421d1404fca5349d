// kubelet's container log manager: every 10 s it looks at each running container's CRI log file
// (<podLogsDir>/<ns>_<name>_<uid>/<container>/<restartCount>.log) and, once the file reaches the
// size limit, renames it to `<file>.<UTC timestamp>` and has the runtime reopen the log, keeping
// at most maxFiles files per container (the one being written counts). Older rotated files are
// gzipped; the newest stays plain because a log shipper may still be reading it.
//
// Unlike kubelet, the file is renamed before older files are compressed or deleted: a container
// that writes fast is cut off at once instead of growing while a large file compresses.
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { systemClock, type Clock } from '../../kube/clock.js';
import { silentLogger, type Logger } from '../../kube/logger.js';
import type { Part } from '../../kube/part.js';

export interface LogRotationPolicy {
  /** A log file is rotated once it is this big (kubelet's containerLogMaxSize). */
  maxSizeBytes: number;
  /** Files kept per container, the one being written included (containerLogMaxFiles). */
  maxFiles: number;
  /** Gzip rotated files but the newest. */
  compress: boolean;
}

export const DEFAULT_LOG_ROTATION: Readonly<LogRotationPolicy> = { maxSizeBytes: 10 * 1024 * 1024, maxFiles: 5, compress: true };
/** kubelet's log monitor period. */
export const DEFAULT_LOG_CHECK_INTERVAL_MS = 10_000;

const GZ = '.gz';
const TMP = '.tmp';

/** A running container and the log file the runtime writes for it (ContainerStatus.logPath). */
export interface ContainerLog {
  containerId: string;
  logPath: string;
}

export interface RotationPass {
  /** Containers whose log was rotated. */
  rotated: string[];
  failures: Array<{ containerId: string; error: string }>;
}

/**
 * What to do with the rotated files beside a log (paths, any order) once the newest has been
 * rotated: delete leftovers of an interrupted compression and the oldest beyond `maxFiles - 1`,
 * and compress the rest but the newest.
 */
export function planCleanup(rotated: readonly string[], policy: LogRotationPolicy): { remove: string[]; compress: string[] } {
  const present = new Set(rotated);
  // A .tmp is a compression that did not finish; a plain file whose .gz exists did finish.
  const leftover = (f: string): boolean => f.endsWith(TMP) || (!f.endsWith(GZ) && present.has(f + GZ));
  const remove = rotated.filter(leftover);
  // The timestamp format sorts by time.
  const kept = rotated.filter((f) => !leftover(f)).sort();
  const excess = Math.max(0, kept.length - (policy.maxFiles - 1));
  remove.push(...kept.slice(0, excess));
  const compress = policy.compress ? kept.slice(excess, -1).filter((f) => !f.endsWith(GZ)) : [];
  return { remove, compress };
}

/** `<log>.<YYYYMMDD-hhmmss>` in UTC: kubelet's format, which log shippers already match. */
export function rotatedName(logPath: string, nowMs: number): string {
  const d = new Date(nowMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${logPath}.${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

export interface ContainerLogRotationOptions extends Partial<LogRotationPolicy> {
  /** The running containers and their log paths, read at every pass. */
  containers: () => readonly ContainerLog[] | Promise<readonly ContainerLog[]>;
  /** CRI ReopenContainerLog (the CriClient's `reopenContainerLog`). */
  reopen: (containerId: string) => Promise<void>;
  clock?: Clock;
  intervalMs?: number;
  logger?: Logger;
}

export class ContainerLogRotation implements Part {
  readonly name = 'container-log-rotation';
  private readonly policy: LogRotationPolicy;
  private readonly clock: Clock;
  private readonly intervalMs: number;
  private readonly logger: Logger;
  private cancelTimer: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: ContainerLogRotationOptions) {
    this.policy = {
      maxSizeBytes: options.maxSizeBytes ?? DEFAULT_LOG_ROTATION.maxSizeBytes,
      maxFiles: options.maxFiles ?? DEFAULT_LOG_ROTATION.maxFiles,
      compress: options.compress ?? DEFAULT_LOG_ROTATION.compress,
    };
    if (!(this.policy.maxSizeBytes > 0)) throw new Error(`container log rotation: maxSizeBytes is ${this.policy.maxSizeBytes}; give a size above 0 (kubelet's default is 10 MiB)`);
    if (!Number.isInteger(this.policy.maxFiles) || this.policy.maxFiles < 2) {
      throw new Error(`container log rotation: maxFiles is ${this.policy.maxFiles}; keep at least 2 files (the one being written and one rotated)`);
    }
    this.clock = options.clock ?? systemClock;
    this.intervalMs = options.intervalMs ?? DEFAULT_LOG_CHECK_INTERVAL_MS;
    this.logger = (options.logger ?? silentLogger()).child({ part: this.name });
  }

  /** Checks the logs at once and then every interval. */
  async start(): Promise<void> {
    this.stopped = false;
    this.arm(0);
  }

  ready(): true {
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.running;
  }

  /** One pass over `containers`: rotates each log that reached the size limit. One failure does not stop the others. */
  async rotate(containers: readonly ContainerLog[]): Promise<RotationPass> {
    const pass: RotationPass = { rotated: [], failures: [] };
    for (const c of containers) {
      try {
        if (await this.rotateOne(c)) pass.rotated.push(c.containerId);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        pass.failures.push({ containerId: c.containerId, error });
        this.logger.warn({ containerId: c.containerId, logPath: c.logPath, err: error }, 'container log rotation failed; it is tried again on the next pass');
      }
    }
    return pass;
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    this.cancelTimer = this.clock.setTimer(() => {
      this.cancelTimer = undefined;
      this.running = this.pass().finally(() => {
        this.running = undefined;
        this.arm(this.intervalMs);
      });
    }, delayMs);
  }

  private async pass(): Promise<void> {
    try {
      await this.rotate(await this.options.containers());
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot list the running containers for log rotation; trying again on the next pass');
    }
  }

  private async rotateOne({ containerId, logPath }: ContainerLog): Promise<boolean> {
    let size: number;
    try {
      size = (await stat(logPath)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // The file is gone, e.g. renamed by a rotation whose reopen failed and could not be undone:
      // the runtime creates it again on reopen.
      await this.options.reopen(containerId);
      size = (await stat(logPath)).size;
    }
    if (size < this.policy.maxSizeBytes) return false;

    const target = rotatedName(logPath, this.clock.now());
    if (await exists(target)) {
      this.logger.debug({ containerId, logPath, target }, 'log already rotated within this second; rotating on the next pass');
      return false;
    }
    await rename(logPath, target);
    try {
      await this.options.reopen(containerId);
    } catch (err) {
      await rename(target, logPath).catch((undo: Error) =>
        this.logger.error({ containerId, logPath, target, err: undo.message }, 'cannot move the rotated log back; the runtime writes to a file that is gone until it reopens the log'),
      );
      throw new Error(`reopening the log of container ${containerId} after renaming ${logPath} failed (${err instanceof Error ? err.message : String(err)}); the file was moved back for the next pass`);
    }
    this.logger.info({ containerId, logPath, rotatedTo: target, bytes: size }, 'rotated container log');
    await this.cleanup(logPath);
    return true;
  }

  private async cleanup(logPath: string): Promise<void> {
    const dir = dirname(logPath);
    const prefix = `${basename(logPath)}.`;
    const rotated = (await readdir(dir)).filter((n) => n.startsWith(prefix)).map((n) => join(dir, n));
    const plan = planCleanup(rotated, this.policy);
    for (const f of plan.remove) await rm(f, { force: true });
    for (const f of plan.compress) await gzip(f);
  }
}

/** Replaces `file` by `file.gz`, through a .tmp so that an interrupted run leaves the original whole. */
async function gzip(file: string): Promise<void> {
  const tmp = file + GZ + TMP;
  try {
    await pipeline(createReadStream(file), createGzip(), createWriteStream(tmp));
    await rename(tmp, file + GZ);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new Error(`compressing rotated log ${file} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  await rm(file);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
