// One Kubernetes binary (kube-apiserver, kube-controller-manager, a kubelet) as a child process.
//
// It runs detached and logs straight into its file: a terminal's Ctrl-C reaches only the parent,
// which stops it when it means to, and a parent killed outright leaves it running without a
// broken pipe to die on; its pid file lets the next start find that leftover.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { basename, join } from 'node:path';
import { readText, stopChild, writePidFile, type LeftoverProcess } from '../devcluster/child-process.js';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

/**
 * A Kubernetes binary running detached, its stderr in `<dir>/<name>.log`. Its first argument
 * names a file of this dir, which tells its process (a leftover included) from another dir's.
 */
export class Component {
  private child: ChildProcess | undefined;
  private exitedAt: Promise<void> = Promise.resolve();
  private stopping = false;
  private args: string[] = [];
  /** A spawn that failed (no such binary) emits no exit: this tells it has ended all the same. */
  private spawnFailed = false;

  constructor(
    readonly name: string,
    private readonly binary: string,
    private readonly firstArg: string,
    private readonly dir: string,
    private readonly onLost: (what: string) => void,
  ) {}

  get log(): string {
    return join(this.dir, `${this.name}.log`);
  }

  get leftover(): LeftoverProcess {
    return {
      pidFile: join(this.dir, `${this.name}.pid`),
      isOurs: (argv) => basename(argv[0] ?? '') === basename(this.binary) && argv[1] === this.firstArg,
      what: `the ${this.name} of ${this.dir}`,
    };
  }

  pid(): number | undefined {
    return this.child?.pid;
  }

  running(): boolean {
    return this.child !== undefined && !this.spawnFailed && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it with `args` after its first one; without, with the arguments of its last start. */
  start(args = this.args): void {
    this.args = args;
    this.stopping = false;
    this.spawnFailed = false;
    const fd = openSync(this.log, 'a');
    try {
      const child = spawn(this.binary, [this.firstArg, ...args], { detached: true, stdio: ['ignore', 'ignore', fd] });
      this.child = child;
      writePidFile(this.leftover.pidFile, child.pid);
      this.exitedAt = new Promise((resolve) => {
        child.once('error', (err) => {
          this.spawnFailed = true;
          writeFileSync(this.log, `cannot run ${this.binary}: ${err.message}\n`, { flag: 'a' });
          resolve();
        });
        child.once('exit', (code, signal) => {
          if (!this.stopping) this.onLost(`${this.name} exited (code ${code}, signal ${signal}); see ${this.log}`);
          resolve();
        });
      });
    } finally {
      closeSync(fd);
    }
  }

  /** Waits until `url` answers 200, failing with the log's tail if it exits or never does. */
  async untilHealthy(url: string, ca: Buffer, token: string): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let last = 'no answer yet';
    for (;;) {
      if (!this.running()) throw new Error(`${this.name} exited during start; see ${this.log}: ${this.tail()}`);
      const answer = await httpsGet(url, ca, token).catch((err: Error) => ({ status: 0, body: err.message }));
      if (answer.status === 200) return;
      last = `${answer.status || ''} ${answer.body.slice(-500)}`.trim();
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`${this.name} did not answer 200 at ${url} within ${START_TIMEOUT_MS / 1000} s (last answer: ${last}); see ${this.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after 15 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child) await stopChild(this.child, this.exitedAt, STOP_TIMEOUT_MS);
    rmSync(this.leftover.pidFile, { force: true });
  }

  /** The last of what it wrote, for errors. */
  tail(): string {
    return readText(this.log).slice(-2000);
  }
}

/** GET over HTTPS, trusting only `ca`; resolves with the status and body. */
export function httpsGet(url: string, ca: Buffer, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
      r.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
