// What the end-to-end suites need to drive `shopfloor up` as a user does: a network namespace
// that stands in for the machine (so the host's nftables, addresses and routes are never
// touched), the `up` process itself and further `shopfloor agent` processes joining its cluster,
// kubectl and HTTP from inside that namespace, and the processes they leave or must not leave
// behind.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processesNaming, removeRuntimeLeftovers } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';
import { stopChild } from '../../devcluster/child-process.js';
import { createHostNetns, deleteHostNetns } from '../harness/host-netns.js';
import { testApiServer, type TestApiServer } from '../harness/test-cluster.js';

const run = promisify(execFile);
/** The `shopfloor` command of this checkout, run from source. */
const SHOPFLOOR: [string, ...string[]] = [process.execPath, '--import', 'tsx', 'cli/main.ts'];

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

  /** Runs a `shopfloor` command from source inside the namespace, to its end. */
  shopfloor(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return this.exec({}, ...SHOPFLOOR, ...args);
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

/**
 * A `shopfloor` command run from source inside a namespace, which a suite starts, stops and starts
 * again; the output of its latest run is kept for assertions and failure messages.
 */
class ShopfloorCommand {
  stdout = '';
  stderr = '';
  /** Both streams, in the order they came. */
  output = '';
  private child: ChildProcess | undefined;
  private exit: Promise<number | null> = Promise.resolve(null);

  constructor(
    protected readonly netns: MachineNetns,
    private readonly args: string[],
  ) {}

  /** Starts a run, with its output afresh. */
  protected spawn(): void {
    this.stdout = '';
    this.stderr = '';
    this.output = '';
    const [file, argv] = this.netns.argv(...SHOPFLOOR, ...this.args);
    // A process group of its own, as a shell gives a foreground job: Ctrl-C signals all of it.
    const child = spawn(file, argv, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (const [stream, kept] of [[child.stdout!, 'stdout'], [child.stderr!, 'stderr']] as const) {
      stream.on('data', (d: Buffer) => {
        this[kept] += d.toString();
        this.output += d.toString();
      });
    }
  }

  get exited(): boolean {
    return this.child !== undefined && (this.child.exitCode !== null || this.child.signalCode !== null);
  }

  /** For the checks of a wait on something the process does: fails them, with its last output, once it has ended. */
  throwIfExited(): void {
    const child = this.running();
    if (this.exited) throw new Error(`shopfloor ${this.args[0]} exited with ${child.exitCode ?? child.signalCode}:\n${this.output.slice(-4000)}`);
  }

  /**
   * Sends `signal` and resolves with the exit code (null when a signal ended it). A process that
   * had already ended fails it, with its last output: what is stopped must have been running.
   */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    this.throwIfExited();
    this.running().kill(signal);
    return this.exit;
  }

  /** Ctrl-C at the terminal: SIGINT to every process of the foreground job; resolves with the exit code. */
  async interrupt(): Promise<number | null> {
    this.throwIfExited();
    process.kill(-this.running().pid!, 'SIGINT');
    return this.exit;
  }

  /** For a suite's afterAll: `signal`, then SIGKILL if it has not ended within `graceMs`; nothing once it has ended. */
  protected async end(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (this.child !== undefined) await stopChild(this.child, this.exit, graceMs, signal);
  }

  private running(): ChildProcess {
    if (this.child === undefined) throw new Error(`shopfloor ${this.args[0]} was not started: call start() first`);
    return this.child;
  }
}

/**
 * `shopfloor up` run from source inside `netns` on `dataDir`, on the API server
 * SHOPFLOOR_TEST_API_SERVER names, with every listener on a free port and `extraArgs` after those.
 */
export class UpProcess extends ShopfloorCommand {
  readonly apiServer: TestApiServer = testApiServer();

  constructor(
    netns: MachineNetns,
    readonly dataDir: string,
    options: { extraArgs?: string[] } = {},
  ) {
    const apiServer = testApiServer();
    super(netns, ['up', '--data-dir', dataDir, '--api-server', apiServer, '--port', '0', '--metrics-address', '127.0.0.1:0', '--agent-metrics-address', '127.0.0.1:0',
      ...(options.extraArgs ?? [])]);
  }

  /** Where the API server keeps its etcd's data: the cluster's objects. */
  get etcdDataDir(): string {
    return this.apiServer === 'kube-apiserver' ? join(this.dataDir, 'kube-apiserver', 'etcd') : join(this.dataDir, 'etcd');
  }

  /** What the control plane's processes name on their command lines: etcd's data, or kube-apiserver's dir. */
  private get controlPlaneDir(): string {
    return this.apiServer === 'kube-apiserver' ? join(this.dataDir, 'kube-apiserver') : this.etcdDataDir;
  }

  get kubeconfig(): string {
    return join(this.dataDir, 'kubeconfig');
  }

  /** The images `up` builds and preloads into its agent's containerd; a further agent can preload them too. */
  get imagesDir(): string {
    return join(this.dataDir, 'agent', 'images');
  }

  private get containerdDir(): string {
    return join(this.dataDir, 'agent', 'containerd');
  }

  /** Starts `up` and resolves once it prints that Shopfloor is up. */
  async start(): Promise<void> {
    this.spawn();
    await eventually('shopfloor up to say it is up', () => {
      this.throwIfExited();
      return this.stdout.includes('Shopfloor is up');
    }, 90_000).catch((err: Error) => {
      throw this.exited ? err : new Error(`${err.message}\n${this.output.slice(-4000)}`);
    });
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
    return this.netns.exec({ KUBECONFIG: this.kubeconfig }, ...SHOPFLOOR, ...args);
  }

  /** `ctr` against the agent's own containerd, in the namespace the CRI plugin keeps pods in. */
  ctr(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run('ctr', ['--address', join(this.containerdDir, 'containerd.sock'), '--namespace', 'k8s.io', ...args]);
  }

  /** Pids of the control plane (etcd, kube-apiserver) and containerd serving this data dir (they name it on their command lines). */
  partPids(): { controlPlane: number[]; containerd: number[] } {
    return { controlPlane: processesNaming(this.controlPlaneDir), containerd: processesNaming(this.containerdDir) };
  }

  /**
   * Ends whatever is left, for a suite's afterAll whether it passed or not: SIGTERM first, so
   * that `up` removes its pods, then SIGKILL of `up` and the control plane, and whatever
   * containerd, shims, containers and mounts are left of the runtime.
   */
  async kill(): Promise<void> {
    await this.end('SIGTERM', 60_000);
    await removeRuntimeLeftovers(this.containerdDir);
    for (const pid of processesNaming(this.controlPlaneDir)) process.kill(pid, 'SIGKILL');
  }
}

/** A further `shopfloor agent` run from source inside `netns` on `dataDir`, with `flags` after that. */
export class AgentProcess extends ShopfloorCommand {
  constructor(
    netns: MachineNetns,
    readonly dataDir: string,
    flags: string[],
  ) {
    super(netns, ['agent', '--data-dir', dataDir, ...flags]);
  }

  private get containerdDir(): string {
    return join(this.dataDir, 'containerd');
  }

  /** Starts the agent; whether it came up is for the cluster to show. */
  start(): void {
    this.spawn();
  }

  /** Pids of the agent's containerd and of the shims of its pods (they name its dir). */
  runtimePids(): number[] {
    return processesNaming(this.containerdDir);
  }

  /**
   * Ends whatever is left, for a suite's afterAll whether it passed or not: SIGKILL of the agent
   * (which leaves its pods running when stopped, as kubelet does), then whatever containerd,
   * shims, containers and mounts are left of its runtime.
   */
  async kill(): Promise<void> {
    await this.end('SIGKILL', 0);
    await removeRuntimeLeftovers(this.containerdDir);
  }
}

/**
 * A NodeWorkload of busybox web servers on port 8080 (named http), each answering with its host
 * name (the name of its NodeAssignment). `spec` is the YAML of its placement (and service),
 * indented two spaces.
 */
export function whoamiWorkloadYaml(name: string, spec: string): string {
  return `apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorkload
metadata:
  name: ${name}
spec:
${spec}
  template:
    containers:
      - name: web
        image: shopfloor.dev/busybox:test
        command: [sh, -c, "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports:
          - name: http
            containerPort: 8080
    terminationGracePeriodSeconds: 1
`;
}
