// A real Kubernetes binary the harness runs as a child (kube-apiserver, kube-controller-manager,
// kubelet): its stderr kept in `<logDir>/<name>.log` for a reader after the run, and its last
// lines kept in memory for the errors a start or a wait raises.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { stopChild } from './stop-child.js';

export interface Component {
  name: string;
  child: ChildProcess;
  /** `<logDir>/<name>.log` */
  logPath: string;
  /** Resolves once it has exited (or could not be spawned). */
  exited: Promise<void>;
  running(): boolean;
  /** The last lines it wrote, for errors. */
  tail(): string;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
  stop(graceMs: number): Promise<void>;
}

export function startComponent(name: string, binary: string, args: string[], logDir: string): Component {
  const logPath = join(logDir, `${name}.log`);
  const log: WriteStream = createWriteStream(logPath, { flags: 'a' });
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  let done = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((res) => {
    const end = (): void => {
      if (done) return;
      done = true;
      log.end(() => res());
    };
    child.once('exit', end);
    child.once('error', (err) => {
      tail += `\ncannot run ${binary}: ${err.message}`;
      end();
    });
  });
  return { name, child, logPath, exited, running: () => !done, tail: () => tail, stop: (graceMs) => stopChild(child, exited, graceMs) };
}
