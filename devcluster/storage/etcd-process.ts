import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmodSync, createWriteStream, mkdirSync, rmSync, type WriteStream } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { basename, join, resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { stopChild, stopLeftover, writePidFile, type LeftoverProcess } from '../child-process.js';
import { unixEndpoint } from './etcd-endpoint.js';

/** Asks the kernel for a free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface EtcdProcessOptions {
  /** The devcluster data dir; etcd keeps its data in `<dataDir>/etcd` and logs to `<dataDir>/etcd.log`. */
  dataDir: string;
  logger: Logger;
  binary?: string;
}

// etcd serves without authentication, so it listens on no port: its client and peer sockets
// live in a directory only the devcluster's user may enter. etcd's flags take a unix URL only
// in the form unix://host:port, which it binds as the file `host:port` in its working
// directory; etcd runs in that directory, and the sockets' names end in ":0".
const SOCKET_DIR = 'etcd-socket';
const CLIENT_SOCKET = 'client.sock:0';
const PEER_SOCKET = 'peer.sock:0';

/**
 * Runs etcd as a supervised child process, reachable only through a unix socket in
 * `<dataDir>/etcd-socket` (mode 0700). If etcd exits while the devcluster runs, it is started
 * again (after a pause that grows up to 5 s) on the same data dir and socket, so the API
 * recovers on its own. Emits `down` and `up`.
 */
export class EtcdProcess extends EventEmitter {
  /** `unix://<dataDir>/etcd-socket/client.sock:0`. */
  readonly endpoint: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private restartDelayMs = 500;
  private readonly log: WriteStream;
  private readonly socketDir: string;

  private constructor(private readonly opts: EtcdProcessOptions) {
    super();
    this.socketDir = join(opts.dataDir, SOCKET_DIR);
    this.endpoint = unixEndpoint(join(this.socketDir, CLIENT_SOCKET));
    this.log = createWriteStream(join(opts.dataDir, 'etcd.log'), { flags: 'a' });
  }

  static async start(opts: EtcdProcessOptions): Promise<EtcdProcess> {
    const dataDir = resolvePath(opts.dataDir);
    mkdirSync(dataDir, { recursive: true });
    await stopLeftover(leftoverEtcd({ ...opts, dataDir }), opts.logger);
    const proc = new EtcdProcess({ ...opts, dataDir });
    await proc.spawnAndWait();
    return proc;
  }

  private args(): string[] {
    const client = `unix://${CLIENT_SOCKET}`;
    const peer = `unix://${PEER_SOCKET}`;
    return [
      '--name', 'devcluster',
      '--data-dir', join(this.opts.dataDir, 'etcd'),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `devcluster=${peer}`,
      // Bodies up to 3 MiB are accepted by the API; etcd's default request limit is 1.5 MiB.
      '--max-request-bytes', String(4 * 1024 * 1024),
      // Progress notifications every 5 s keep watch bookmarks of quiet resources current.
      '--experimental-watch-progress-notify-interval', '5s',
      '--logger', 'zap',
      '--log-level', 'warn',
      '--log-outputs', 'stderr',
    ];
  }

  private spawnAndWait(): Promise<void> {
    const binary = this.opts.binary ?? 'etcd';
    return new Promise((resolve, reject) => {
      let ready = false;
      let exited = false;
      let tail = '';
      this.prepareSocketDir();
      // Detached: a terminal's Ctrl-C signals its whole foreground process group, and etcd must
      // outlive that signal until the parts that still write through the API have stopped.
      const child = spawn(binary, this.args(), { cwd: this.socketDir, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      this.child = child;
      this.exited = new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.once('error', () => resolve());
      });
      writePidFile(pidFile(this.opts.dataDir), child.pid);
      child.stderr?.on('data', (chunk: Buffer) => {
        this.log.write(chunk);
        tail = (tail + chunk.toString()).slice(-8192);
      });
      child.on('error', (err) => {
        if (!ready) reject(new Error(`cannot start ${binary}: ${err.message}; install Debian's etcd-server package`));
      });
      child.on('exit', (code, signal) => {
        exited = true;
        if (this.child === child) this.child = undefined;
        if (!ready) {
          reject(new Error(`etcd exited before it was ready (code ${code}, signal ${signal}); see ${join(this.opts.dataDir, 'etcd.log')}: ${lastLine(tail)}`));
          return;
        }
        if (this.stopping) return;
        this.opts.logger.error({ code, signal }, 'etcd exited; the API answers 503 until it is back');
        this.emit('down');
        this.scheduleRestart();
      });
      // Ready means etcd answers its health endpoint (it has a leader and serves reads).
      const deadline = Date.now() + 30_000;
      const poll = (): void => {
        if (exited || this.stopping) return;
        health(join(this.socketDir, CLIENT_SOCKET)).then(
          (healthy) => {
            if (healthy) {
              ready = true;
              this.restartDelayMs = 500;
              resolve();
            } else retry();
          },
          retry,
        );
      };
      const retry = (): void => {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          reject(new Error(`etcd did not become healthy within 30 s; see ${join(this.opts.dataDir, 'etcd.log')}`));
          return;
        }
        setTimeout(poll, 100);
      };
      poll();
    });
  }

  /** The socket directory, private to this user (also when it existed with wider modes), without the sockets of an etcd that was killed. */
  private prepareSocketDir(): void {
    mkdirSync(this.socketDir, { recursive: true, mode: 0o700 });
    chmodSync(this.socketDir, 0o700);
    for (const socket of [CLIENT_SOCKET, PEER_SOCKET]) rmSync(join(this.socketDir, socket), { force: true });
  }

  private scheduleRestart(): void {
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, 5000);
    setTimeout(() => {
      if (this.stopping) return;
      this.spawnAndWait().then(
        () => {
          this.opts.logger.info({ endpoint: this.endpoint }, 'etcd is back');
          this.emit('up');
        },
        (err: Error) => {
          this.opts.logger.error({ err: err.message }, 'etcd restart failed; trying again');
          this.scheduleRestart();
        },
      );
    }, delay);
  }

  /** Stops etcd (SIGTERM, then SIGKILL after 5 s) and stops supervising it. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child) await stopChild(this.child, this.exited, 5000);
    rmSync(pidFile(this.opts.dataDir), { force: true });
    await new Promise<void>((resolve) => this.log.end(resolve));
  }
}

const pidFile = (dataDir: string): string => join(dataDir, 'etcd.pid');

/**
 * A devcluster killed outright (SIGKILL, a crash) leaves its etcd running and holding the data
 * dir's lock, which a new etcd would wait on forever: an etcd of this data dir is stopped first.
 */
function leftoverEtcd(opts: EtcdProcessOptions): LeftoverProcess {
  return {
    pidFile: pidFile(opts.dataDir),
    isOurs: (args) => {
      const at = args.indexOf('--data-dir');
      return basename(args[0] ?? '') === basename(opts.binary ?? 'etcd') && at > 0 && args[at + 1] === join(opts.dataDir, 'etcd');
    },
    what: `the etcd of ${opts.dataDir}`,
  };
}

/** Whether etcd answers its health endpoint on the socket with `{"health":"true"}`; rejects when it does not answer. */
function health(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = get({ socketPath, path: '/health', timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve((JSON.parse(Buffer.concat(chunks).toString()) as { health?: string }).health === 'true');
        } catch {
          resolve(false);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('etcd did not answer /health within 2 s')));
    req.on('error', reject);
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
