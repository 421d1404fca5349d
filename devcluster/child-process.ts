// Ending the child processes Shopfloor supervises (etcd, kube-apiserver), and those a killed
// parent left behind. A supervised child runs detached (in a process group of its own, so a
// terminal's Ctrl-C reaches only its parent) and so outlives a parent killed outright. It leaves
// a pid file beside its data; the next start finds it by that file and stops it before starting
// its own, because the leftover holds what the new one needs (a data dir's lock, a port).
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';

export interface LeftoverProcess {
  pidFile: string;
  /** True when a command line (argv) is this child's: a reused pid or a zombie (empty command line) is not. */
  isOurs(argv: string[]): boolean;
  /** What it is, for logs and errors: "the etcd of /data". */
  what: string;
}

/** `signal` to `child` (unless it has already ended), SIGKILL after `graceMs`; resolves once `exited` does. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.kill(signal);
    await exited;
    clearTimeout(killer);
  }
  await exited;
}

export function writePidFile(path: string, pid: number | undefined): void {
  if (pid !== undefined) writeFileSync(path, `${pid}\n`);
}

/** Stops the process the pid file names if it is still ours: SIGTERM, then SIGKILL. */
export async function stopLeftover(leftover: LeftoverProcess, logger: Logger): Promise<void> {
  const pid = Number.parseInt(readText(leftover.pidFile), 10);
  const ours = (): boolean => leftover.isOurs(readText(`/proc/${pid}/cmdline`).split('\0'));
  if (!(pid > 0) || !ours()) return;
  logger.warn({ pid }, `stopping ${leftover.what}, left running by a start that was killed`);
  for (const [signal, waitMs] of [['SIGTERM', 10_000], ['SIGKILL', 5_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw err;
    }
    const deadline = Date.now() + waitMs;
    while (ours()) {
      if (Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!ours()) return;
  }
  throw new Error(`${leftover.what} (pid ${pid}), left running by a start that was killed, does not exit; kill it and start again`);
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
