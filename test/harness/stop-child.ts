// How the harnesses end a child process they started: a signal, then SIGKILL once a grace period
// has passed, resolving when it has exited.
import type { ChildProcess } from 'node:child_process';

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
