// What the end-to-end suites need to drive `shopfloor up` as a user does: a network namespace
// that stands in for the machine (so the host's nftables, addresses and routes are never
// touched), the `up` process itself, kubectl and HTTP from inside that namespace, and the
// processes `up` leaves or must not leave behind.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processesNaming, removeRuntimeLeftovers } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';
import { createHostNetns, deleteHostNetns } from '../harness/host-netns.js';

const run = promisify(execFile);

/** A network namespace standing in for the machine (see host-netns.ts). */
export class MachineNetns {
  readonly name = `sf-e2e-${randomBytes(3).toString('hex')}`;

  create(): Promise<void> {
    return createHostNetns(this.name);
  }

  remove(): Promise<void> {
    return deleteHostNetns(this.name);
  }

  /**
   * The command and arguments that run `cmd` inside the namespace. nsenter keeps the host's
   * mounts (`ip netns exec` remounts /sys, which takes the cgroups runc needs away).
   */
  argv(cmd: string, ...args: string[]): [string, string[]] {
    return ['nsenter', [`--net=/run/netns/${this.name}`, cmd, ...args]];
  }

  exec(env: Record<string, string>, cmd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
    const [file, argv] = this.argv(cmd, ...args);
    return run(file, argv, { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
  }

  /**
   * `count` HTTP GETs of http://host:port/, each on a connection of its own (so each picks an
   * endpoint afresh), from inside the namespace: the status line's code and the body, or the
   * error code of a request that got no answer.
   */
  async httpGets(host: string, port: number, count: number): Promise<string[]> {
    const script = `const http = require('node:http');
const one = () => new Promise((done) => {
  const req = http.get({ host: '${host}', port: ${port}, path: '/', agent: false, timeout: 3000 }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => done(res.statusCode + ' ' + body.trim()));
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  req.on('error', (e) => done(e.code || e.message));
});
(async () => { const out = []; for (let i = 0; i < ${count}; i++) out.push(await one()); console.log(JSON.stringify(out)); })();`;
    const { stdout } = await this.exec({}, process.execPath, '-e', script);
    return JSON.parse(stdout) as string[];
  }
}

/** `shopfloor up` run from source inside `netns` on `dataDir`, with every listener on a free port. */
export class UpProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<number | null> = Promise.resolve(null);
  stdout = '';
  stderr = '';

  constructor(
    private readonly netns: MachineNetns,
    readonly dataDir: string,
  ) {}

  get kubeconfig(): string {
    return join(this.dataDir, 'kubeconfig');
  }

  /** Starts `up` and resolves once it prints that Shopfloor is up. */
  async start(): Promise<void> {
    this.stdout = '';
    this.stderr = '';
    const [file, argv] = this.netns.argv(process.execPath, '--import', 'tsx', 'cli/main.ts', 'up', '--data-dir', this.dataDir, '--port', '0',
      '--metrics-address', '127.0.0.1:0', '--agent-metrics-address', '127.0.0.1:0');
    // A process group of its own, as a shell gives a foreground job: Ctrl-C signals all of it.
    const child = spawn(file, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    await eventually('shopfloor up to say it is up', () => {
      if (child.exitCode !== null) throw new Error(`shopfloor up exited with ${child.exitCode}`);
      return this.stdout.includes('Shopfloor is up');
    }, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.stdout}\n${this.stderr.slice(-4000)}`);
    });
  }

  /** Sends `signal` and resolves with the exit code (null when a signal ended it). */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    child.kill(signal);
    return this.exit;
  }

  /** Ctrl-C at the terminal: SIGINT to every process of the foreground job; resolves with the exit code. */
  async interrupt(): Promise<number | null> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    process.kill(-child.pid!, 'SIGINT');
    return this.exit;
  }

  /** A metrics URL `up` printed: `which` is "operator" or "agent". */
  metricsUrl(which: 'operator' | 'agent'): string {
    const urls = [...this.stdout.matchAll(/http:\/\/127\.0\.0\.1:\d+\/metrics/g)].map((m) => m[0]);
    const url = urls[which === 'operator' ? 0 : 1];
    if (url === undefined) throw new Error(`shopfloor up printed no ${which} metrics URL:\n${this.stdout}`);
    return url;
  }

  kubectl(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return this.netns.exec({ KUBECONFIG: this.kubeconfig }, 'kubectl', ...args);
  }

  /** A `shopfloor` command from source, as the user runs it beside `up` (KUBECONFIG set). */
  shopfloor(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return this.netns.exec({ KUBECONFIG: this.kubeconfig }, process.execPath, '--import', 'tsx', 'cli/main.ts', ...args);
  }

  /** `ctr` against the agent's own containerd, in the namespace the CRI plugin keeps pods in. */
  ctr(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run('ctr', ['--address', join(this.dataDir, 'agent', 'containerd', 'containerd.sock'), '--namespace', 'k8s.io', ...args]);
  }

  /** Pids of etcd and containerd serving this data dir (they name it on their command lines). */
  partPids(): { etcd: number[]; containerd: number[] } {
    return { etcd: processesNaming(join(this.dataDir, 'etcd')), containerd: processesNaming(join(this.dataDir, 'agent', 'containerd')) };
  }

  /**
   * Ends whatever is left, for a suite's afterAll whether it passed or not: SIGTERM first, so
   * that `up` removes its pods, then SIGKILL of `up` and etcd, and whatever containerd, shims,
   * containers and mounts are left of the runtime.
   */
  async kill(): Promise<void> {
    const child = this.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await this.stop('SIGTERM');
      clearTimeout(timer);
    }
    await this.stop('SIGKILL');
    await removeRuntimeLeftovers(join(this.dataDir, 'agent', 'containerd'));
    for (const pid of processesNaming(join(this.dataDir, 'etcd'))) process.kill(pid, 'SIGKILL');
  }
}
