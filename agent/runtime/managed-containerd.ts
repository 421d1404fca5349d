// The agent's own containerd ("managed mode", as k3s runs one): its config, root, state and
// sockets all live under one data dir, so it never meets a containerd the host already runs.
//
// Lifetime. containerd runs detached from the agent (its own session and process group; output
// to <dataDir>/containerd.log), so a Ctrl-C to the agent's terminal or an agent killed with -9
// leaves it, and the containers its shims hold, running. The next start() on the same data dir
// finds it (pid file, else a scan of /proc, matched by `--config <dataDir>/containerd.toml` on
// its command line) and adopts it instead of starting a second one; if the config changed, or it
// runs as another binary, it is restarted instead, which the containers survive too (shims
// outlive containerd).
//
// Versions. start() asks the binary its version (`containerd --version`) and writes the config
// in the layout that version reads (config version 2 for containerd 1.x, 3 for 2.x), serving crun
// only where crun can run that version's containers. A binary given by path runs with its own
// directory first on PATH, so the shim (containerd-shim-runc-v2) that comes with it is the one
// it starts, not another containerd's from the host's PATH.
//
// API. start() writes the config and the CNI conflist, adopts or spawns containerd, waits until
// its CRI answers on the socket (ready), then imports the archives of `preloadDir`. While running, a
// containerd that dies is started again after RestartBackoff's delay (1 s doubling to 30 s).
// stop() ends containerd (SIGTERM, SIGKILL after 10 s) and waits for it to exit;
// stop({ keepRunning: true }) only lets go of it, for an agent that hands its pods to the next one.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { sleep, systemClock, type Clock } from '../../kube/clock.js';
import type { Logger } from '../../kube/logger.js';
import { CriClient } from '../cri/client.js';
import { spawnRunner, type Runner } from '../exec.js';
import type { Part } from '../../kube/part.js';
import { checkContainerdConfigInput, containerdPaths, renderCniConflist, renderContainerdConfig, type ContainerdConfigInput, type ContainerdPaths, type RuntimeHandler } from './containerd-config.js';
import { configVersionFor, crunProblem, parseContainerdVersion, type ContainerdVersion } from './containerd-version.js';
import { preloadImages, type PreloadResult } from './image-preload.js';
import { RestartBackoff } from './restart-backoff.js';

export const CRUN_BINARY = '/usr/bin/crun';
const DEFAULT_READY_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const VERSION_TIMEOUT_MS = 10_000;
const KILL_WAIT_MS = 5_000;
const POLL_MS = 100;
/** The deadline of one readiness probe. */
const PROBE_TIMEOUT_MS = 5_000;
/** How often an adopted containerd (not our child, so no exit event) is checked for life. */
const ADOPTED_POLL_MS = 1_000;
const MAX_LOG_BYTES = 10 * 1024 * 1024;

export interface ManagedContainerdOptions {
  /** Absolute; holds config, root, state, sockets, CNI config and IPAM state, log and pid file. */
  dataDir: string;
  /** The node's pod CIDR (IPv4), handed to host-local IPAM. */
  podCIDR: string;
  /** The Linux bridge pods attach to (at most 15 characters of a-z, 0-9, '-'). */
  bridgeName: string;
  /** The pod sandbox image; it must be local (preloaded), nothing is pulled for it. */
  sandboxImage: string;
  /** The first is the default; default: detectRuntimeHandlers(), less a crun too old for this containerd. */
  runtimeHandlers?: readonly RuntimeHandler[];
  /** A directory of image archives (`*.tar`) to import once containerd answers. */
  preloadDir?: string;
  logger: Logger;
  clock?: Clock;
  /** containerd 1.x or 2.x (2.1 and newer); a path, or a name looked up on PATH. Default `containerd`. */
  containerdBinary?: string;
  /** Runs ctr; default spawnRunner(). */
  run?: Runner;
  /** How long containerd may take to answer after it was spawned or adopted; default 30 s. */
  readyTimeoutMs?: number;
  /** How long containerd may take to exit after SIGTERM before it is killed; default 10 s. */
  stopTimeoutMs?: number;
}

export interface StopOptions {
  /** Leave containerd, and with it every container, running for the next agent to adopt. */
  keepRunning?: boolean;
}

/** What start() learns from the binaries once. */
interface Detected {
  version: ContainerdVersion;
  runtimeHandlers: readonly RuntimeHandler[];
  configText: string;
}

/** One containerd process: our child (with its exit event) or one adopted by pid. */
interface Proc {
  pid: number;
  child?: ChildProcess;
}

/** The runtime handlers this machine can serve: runc always, crun when its binary is installed. */
export function detectRuntimeHandlers(exists: (path: string) => boolean = existsSync): RuntimeHandler[] {
  return [{ name: 'runc' }, ...(exists(CRUN_BINARY) ? [{ name: 'crun', binaryName: CRUN_BINARY }] : [])];
}

/**
 * containerd's version when its CRI plugin answers, else undefined: the one readiness probe, so
 * ready means what the pod lifecycle needs (CRI refuses calls until it has initialized).
 */
async function criVersion(cri: CriClient): Promise<string | undefined> {
  try {
    return (await cri.version()).runtimeVersion;
  } catch {
    return undefined;
  }
}

export class ManagedContainerd implements Part {
  readonly name = 'containerd';
  readonly paths: ContainerdPaths;
  /** The CRI endpoint, `unix://<dataDir>/containerd.sock`. */
  readonly endpoint: string;

  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly run: Runner;
  private readonly binary: string;
  private readonly configInput: Omit<ContainerdConfigInput, 'configVersion'>;
  private detected: Detected | undefined;
  private readonly conflistText: string;
  private readonly backoff: RestartBackoff;
  private current: Proc | undefined;
  private started = false;
  private stopping = false;
  private abort = new AbortController();
  private waitingFor = 'containerd has not been started';
  /** The pending restart of a containerd that died. */
  private cancelRestart: (() => void) | undefined;
  /** The next check of an adopted containerd's life. */
  private cancelPoll: (() => void) | undefined;
  private bringingUp: Promise<void> | undefined;
  private restarting: Promise<void> | undefined;
  private preloaded: PreloadResult | undefined;
  private cri: CriClient | undefined;

  /** Checks every option (throwing an error that names the bad one); starts nothing. */
  constructor(private readonly o: ManagedContainerdOptions) {
    this.paths = containerdPaths(o.dataDir);
    this.endpoint = `unix://${this.paths.socket}`;
    this.log = o.logger.child({ part: this.name, dataDir: o.dataDir });
    this.clock = o.clock ?? systemClock;
    this.run = o.run ?? spawnRunner();
    this.binary = o.containerdBinary ?? 'containerd';
    this.configInput = { dataDir: o.dataDir, sandboxImage: o.sandboxImage, runtimeHandlers: o.runtimeHandlers ?? detectRuntimeHandlers() };
    checkContainerdConfigInput(this.configInput);
    this.conflistText = renderCniConflist({ dataDir: o.dataDir, podCIDR: o.podCIDR, bridgeName: o.bridgeName });
    this.backoff = new RestartBackoff(this.clock);
  }

  /** The pid of the containerd this part runs now, if one answers or is being started. */
  pid(): number | undefined {
    return this.current?.pid;
  }

  /** The binary's version, known once start() has asked it. */
  version(): ContainerdVersion | undefined {
    return this.detected?.version;
  }

  /** The runtime handlers it serves, the default first; known once start() has asked the binaries. */
  runtimeHandlers(): readonly RuntimeHandler[] | undefined {
    return this.detected?.runtimeHandlers;
  }

  /** What the import of `preloadDir` did at start, if it was given. */
  preloadResult(): PreloadResult | undefined {
    return this.preloaded;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error(`containerd for ${this.o.dataDir} is already started; stop() it first`);
    this.started = true;
    this.stopping = false;
    this.abort = new AbortController();
    this.waitingFor = 'containerd is starting';
    this.cri = new CriClient({ endpoint: this.endpoint, timeoutMs: PROBE_TIMEOUT_MS });
    this.bringingUp = this.bringUp();
    try {
      await this.bringingUp;
    } catch (err) {
      this.started = false;
      this.cri.close();
      this.cri = undefined;
      this.waitingFor = `containerd failed to start: ${(err as Error).message}`;
      throw err;
    }
    if (this.o.preloadDir !== undefined) {
      this.preloaded = await preloadImages({ socketPath: this.paths.socket, dir: this.o.preloadDir, logger: this.log, run: this.run });
    }
  }

  ready(): true | string {
    return this.current && !this.cancelRestart && !this.restarting ? true : this.waitingFor;
  }

  /**
   * Stops restarting containerd and, unless `keepRunning`, ends it and waits for it to exit
   * (SIGTERM, then SIGKILL after stopTimeoutMs). Idempotent. Containers' shims are not
   * touched either way: containers keep running until the next containerd reconciles them.
   */
  async stop(options: StopOptions = {}): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.cancelRestart?.();
    this.cancelRestart = undefined;
    this.cancelPoll?.();
    this.cancelPoll = undefined;
    await this.bringingUp?.catch(() => undefined);
    await this.restarting;
    this.cri?.close();
    this.cri = undefined;
    const proc = this.current;
    this.current = undefined;
    this.started = false;
    this.waitingFor = 'containerd was stopped';
    if (!proc) return;
    proc.child?.removeAllListeners('exit');
    if (options.keepRunning) {
      this.log.info({ pid: proc.pid }, 'leaving containerd and its containers running for the next agent');
      return;
    }
    await this.terminate(proc);
    this.log.info({ pid: proc.pid }, 'containerd stopped');
  }

  private async bringUp(): Promise<void> {
    this.detected ??= await this.detect();
    await mkdir(this.paths.cniConfDir, { recursive: true, mode: 0o700 });
    const configChanged = await writeIfChanged(this.paths.config, this.detected.configText);
    // containerd's CRI plugin watches the CNI conf dir, so a changed conflist needs no restart.
    await writeIfChanged(this.paths.conflist, this.conflistText);

    const running = await this.findRunning();
    const ranAs = running && commandLine(running.pid)?.[0];
    if (running && (configChanged || ranAs !== this.binary)) {
      const what = configChanged ? 'containerd config changed' : `containerd runs as ${ranAs}, not ${this.binary}`;
      this.log.info({ pid: running.pid }, `${what}; restarting containerd (containers keep running)`);
      await this.terminate(running);
    } else if (running) {
      this.log.info({ pid: running.pid }, 'adopting the containerd a previous agent left running');
      this.current = running;
      try {
        await this.waitAnswering(running);
      } catch (err) {
        if (this.stopping) throw err;
        this.log.warn({ pid: running.pid, err: (err as Error).message }, 'adopted containerd does not answer; replacing it');
        await this.terminate(running);
        this.current = undefined;
      }
    }
    if (!this.current) {
      const proc = await this.launch();
      this.current = proc;
      try {
        await this.waitAnswering(proc);
      } catch (err) {
        this.current = undefined;
        await this.terminate(proc);
        throw err;
      }
    }
    this.backoff.running();
    this.watch(this.current);
    this.waitingFor = 'containerd is running';
  }

  /** The binary's version, the runtime handlers it serves, and the config in the layout it reads. */
  private async detect(): Promise<Detected> {
    const version = parseContainerdVersion(await askVersion(this.binary, 'containerd', 'install containerd (apt-get install containerd) or set the containerd binary'), this.binary);
    const configVersion = configVersionFor(version, this.binary);
    const runtimeHandlers = this.o.runtimeHandlers ?? (await this.servedHandlers(version, this.configInput.runtimeHandlers));
    this.log.info({ binary: this.binary, version: version.text, configVersion, runtimeHandlers: runtimeHandlers.map((h) => h.name) }, 'containerd version');
    return { version, runtimeHandlers, configText: renderContainerdConfig({ ...this.configInput, runtimeHandlers, configVersion }) };
  }

  /** The detected `handlers`, less a crun that cannot run the containers of this containerd. */
  private async servedHandlers(version: ContainerdVersion, handlers: readonly RuntimeHandler[]): Promise<readonly RuntimeHandler[]> {
    const crun = handlers.find((h) => h.binaryName === CRUN_BINARY);
    if (!crun) return handlers;
    const problem = await askVersion(CRUN_BINARY, 'crun', 'reinstall crun (apt-get install crun)').then(
      (out) => crunProblem(version, out),
      (err: Error) => err.message,
    );
    if (problem === undefined) return handlers;
    this.log.warn({ binary: CRUN_BINARY, problem }, 'leaving out the crun runtime handler: pods of RuntimeClass crun will not start on this node');
    return handlers.filter((h) => h !== crun);
  }

  /** A containerd with our config already running: the pid file's, else one found in /proc. */
  private async findRunning(): Promise<Proc | undefined> {
    const fromFile = Number.parseInt(await readFile(this.paths.pidFile, 'utf8').catch(() => ''), 10);
    if (fromFile > 0 && this.isOurs(fromFile)) return { pid: fromFile };
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (Number.isInteger(pid) && pid > 0 && this.isOurs(pid)) return { pid };
    }
    return undefined;
  }

  /**
   * Whether `pid` is a containerd running our config. A dead process (a zombie included, whose
   * command line reads empty) is not, and neither is a reused pid.
   */
  private isOurs(pid: number): boolean {
    const args = commandLine(pid);
    if (!args) return false;
    const at = args.indexOf('--config');
    return at > 0 && args[at + 1] === this.paths.config && basename(args[0]!) === basename(this.binary);
  }

  private alive(proc: Proc): boolean {
    if (proc.child) return proc.child.exitCode === null && proc.child.signalCode === null;
    return this.isOurs(proc.pid);
  }

  private async launch(): Promise<Proc> {
    await rotateLog(this.paths.log);
    const logFile = await open(this.paths.log, 'a');
    let child: ChildProcess;
    try {
      // containerd looks for its shim on PATH before beside itself.
      const env = this.binary.includes('/') ? { ...process.env, PATH: [dirname(this.binary), process.env['PATH']].filter(Boolean).join(':') } : process.env;
      child = spawn(this.binary, ['--config', this.paths.config], { detached: true, stdio: ['ignore', logFile.fd, logFile.fd], env });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (err) => reject(new Error(`cannot start ${this.binary}: ${err.message}; install containerd (apt-get install containerd) or set the containerd binary`)));
      });
    } finally {
      await logFile.close();
    }
    // Not waited for by this process: the agent may exit while containerd runs on.
    child.unref();
    const pid = child.pid!;
    await writeFile(this.paths.pidFile, `${pid}\n`);
    this.log.info({ pid, log: this.paths.log }, 'started containerd');
    return { pid, child };
  }

  private async waitAnswering(proc: Proc): Promise<void> {
    const deadline = this.clock.now() + (this.o.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    for (;;) {
      if (this.abort.signal.aborted) throw new Error(`stopped before containerd (pid ${proc.pid}) answered`);
      if (!this.alive(proc)) {
        const how = proc.child ? exitDescription(proc.child) : 'is gone';
        throw new Error(`containerd (pid ${proc.pid}) ${how} before it answered on ${this.paths.socket}; its log ${this.paths.log} ends with:\n${await logTail(this.paths.log)}`);
      }
      const version = this.cri ? await criVersion(this.cri) : undefined;
      if (version !== undefined) {
        this.log.info({ pid: proc.pid, version, endpoint: this.endpoint }, 'containerd answers');
        return;
      }
      if (this.clock.now() >= deadline) {
        throw new Error(`containerd (pid ${proc.pid}) did not answer on ${this.paths.socket} within ${Math.round((this.o.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS) / 1000)} s; see its log ${this.paths.log}, which ends with:\n${await logTail(this.paths.log)}`);
      }
      await sleep(this.clock, POLL_MS, this.abort.signal);
    }
  }

  /** Notices the death of `proc`: the exit event of our child, or polling an adopted pid. */
  private watch(proc: Proc): void {
    if (proc.child) {
      const child = proc.child;
      child.once('exit', () => void this.died(proc, exitDescription(child)));
      return;
    }
    const poll = (): void => {
      this.cancelPoll = undefined;
      if (this.current !== proc || this.stopping) return;
      if (!this.alive(proc)) {
        void this.died(proc, 'is gone');
        return;
      }
      this.cancelPoll = this.clock.setTimer(poll, ADOPTED_POLL_MS);
    };
    this.cancelPoll = this.clock.setTimer(poll, ADOPTED_POLL_MS);
  }

  private async died(proc: Proc, how: string): Promise<void> {
    if (this.current !== proc || this.stopping) return;
    this.current = undefined;
    const what = `containerd (pid ${proc.pid}) ${how}`;
    this.waitingFor = what;
    this.scheduleRestart(what, await logTail(this.paths.log));
  }

  private scheduleRestart(what: string, tail: string): void {
    if (this.stopping) return;
    const delayMs = this.backoff.failed();
    this.log.error({ failures: this.backoff.failures(), restartInMs: delayMs, logTail: tail }, `${what}; starting it again`);
    this.waitingFor = `${what}; starting it again in ${Math.ceil(delayMs / 1000)} s`;
    this.cancelRestart = this.clock.setTimer(() => {
      this.cancelRestart = undefined;
      this.restarting = this.restart().finally(() => {
        this.restarting = undefined;
      });
    }, delayMs);
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    this.waitingFor = 'containerd is restarting';
    let proc: Proc | undefined;
    try {
      proc = await this.launch();
      this.current = proc;
      await this.waitAnswering(proc);
    } catch (err) {
      // stop() is waiting for this restart and ends whatever it left in `current`.
      if (this.stopping) return;
      this.current = undefined;
      if (proc) await this.terminate(proc).catch((e: Error) => this.log.error({ pid: proc?.pid, err: e.message }, 'could not end a containerd that failed to come up'));
      this.scheduleRestart('containerd failed to come up again', (err as Error).message);
      return;
    }
    if (this.stopping) return;
    this.backoff.running();
    this.watch(proc);
    this.waitingFor = 'containerd is running';
    this.log.info({ pid: proc.pid }, 'containerd is running again');
  }

  /** SIGTERM, SIGKILL after the stop timeout; resolves once `proc` is gone and its pid file removed. */
  private async terminate(proc: Proc): Promise<void> {
    signal(proc.pid, 'SIGTERM');
    if (!(await this.exits(proc, this.o.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS))) {
      this.log.warn({ pid: proc.pid }, 'containerd did not exit after SIGTERM; killing it');
      signal(proc.pid, 'SIGKILL');
      if (!(await this.exits(proc, KILL_WAIT_MS))) throw new Error(`containerd (pid ${proc.pid}) is still running ${KILL_WAIT_MS / 1000} s after SIGKILL`);
    }
    await rm(this.paths.pidFile, { force: true });
  }

  private async exits(proc: Proc, withinMs: number): Promise<boolean> {
    const deadline = this.clock.now() + withinMs;
    while (this.alive(proc)) {
      if (this.clock.now() >= deadline) return false;
      await sleep(this.clock, POLL_MS);
    }
    return true;
  }
}

/** What `binary --version` prints; rejects naming the binary, and `install` when it cannot be run at all. */
function askVersion(binary: string, what: string, install: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['--version'], { timeout: VERSION_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (!err) resolve(stdout);
      else if (typeof err.code === 'string') reject(new Error(`cannot start ${binary}: ${err.message}; ${install}`));
      else reject(new Error(`${binary} --version ${err.killed ? `did not exit within ${VERSION_TIMEOUT_MS / 1000} s` : `exited with code ${err.code}`}: ${stderr.trim() || '(no stderr)'}; is ${binary} ${what}?`));
    });
  });
}

/** The arguments `pid` runs with (a zombie's: one empty string); undefined once it is gone. */
function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

function exitDescription(child: ChildProcess): string {
  return child.signalCode ? `was killed by ${child.signalCode}` : `exited with code ${child.exitCode ?? 'unknown'}`;
}

/** Writes `text` to `path` unless it already holds exactly that; tells whether it wrote. */
async function writeIfChanged(path: string, text: string): Promise<boolean> {
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === text) return false;
  await writeFile(path, text, { mode: 0o600 });
  return true;
}

/** Keeps one previous log, so a node that restarts containerd often does not fill its disk. */
async function rotateLog(path: string): Promise<void> {
  const size = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  if (size > MAX_LOG_BYTES) await rename(path, `${path}.1`);
}

/** The last lines of containerd's log, for the error that reports its death. */
async function logTail(path: string, lines = 20): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const length = Math.min(size, 8192);
      const buffer = Buffer.alloc(length);
      await file.read(buffer, 0, length, size - length);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await file.close();
    }
  } catch (err) {
    return `(cannot read ${path}: ${(err as Error).message})`;
  }
}
