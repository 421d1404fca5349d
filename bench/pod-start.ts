// Pod start through the agent against the physical limit under it (raw CRI calls) and against
// the real kubelet, in one run: N single-container busybox pods (default 50), N/concurrency at a
// time (default 8), three times, each time on a fresh containerd of the test harness:
// - raw: RunPodSandbox → ImageStatus → CreateContainer → StartContainer, with the very configs
//   the agent sends (agent/pods/runtime-config.ts); a pod's latency is RunPodSandbox sent →
//   StartContainer returned;
// - agent: `shopfloor agent` compiled, as its own process (so its RSS is its own); this process
//   creates NodeAssignments and a pod's latency is its create sent → its status seen Running
//   (container Running) on a watch;
// - kubelet: the real kubelet (SHOPFLOOR_TOOLS_BIN, test/harness/kubelet.ts) on its own
//   containerd; this process creates Pods with nodeName set and a pod's latency is its create
//   sent → its status seen with the container running on a watch.
// All runs are closed loops of the same concurrency: a slot starts its next pod when its last
// one runs, so a pod's latency never includes waiting for a slot, in any run. The agent and the
// kubelet talk to the same kube-apiserver; without the built Kubernetes parts the agent runs on
// the devcluster and the kubelet's line (and kubelet_error) says what is missing, as it says
// any other reason the kubelet could not run here.
// All three run the same containerd build, the one SHOPFLOOR_TEST_CONTAINERD names (default
// Debian's; `pinned`: the containerd 2 of SHOPFLOOR_TOOLS_BIN); its version is in the figures.
// Everything runs in a network namespace of its own (the benchmark re-runs itself inside it):
// the agent's nftables rules, the kubelet's iptables chains, the pods' bridge and masquerade
// rules never reach the host.
// Ends with one JSON line: wall_ratio, agent_p99_ms, rss_mb, vs_kubelet (kubelet ÷ agent wall),
// kubelet_wall_s, kubelet_p99_ms, kubelet_rss_mb, raw_wall_s, agent_wall_s, ...
//
//   npm run bench -- pod-start [--pods 50] [--concurrency 8]
//   SHOPFLOOR_TEST_CONTAINERD=pinned npm run bench -- pod-start
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { API_VERSION, DEFAULT_SYSTEM_NAMESPACE, LABEL_MANAGED_BY, LABEL_NODE, LABEL_WORKLOAD, MANAGED_BY_VALUE, templateSchema, type NodeAssignment } from '../api/index.js';
import { CriClient } from '../agent/cri/client.js';
import { runChecked, spawnRunner } from '../agent/exec.js';
import { containerConfig, podLogDirectory, sandboxConfig } from '../agent/pods/runtime-config.js';
import { nodeSelector, type PodIdentity } from '../agent/pods/runtime-labels.js';
import { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import { NAMESPACES, NODE_ASSIGNMENTS, type ResourceType } from '../kube/resource.js';
import type { KubeObject } from '../kube/types.js';
import { BUSYBOX_IMAGE, startTestContainerd, type TestContainerd } from '../test/harness/containerd.js';
import { parseSamples, type Sample } from '../test/harness/metrics.js';
import { startDevclusterTestCluster } from '../test/harness/devcluster.js';
import { createHostNetns, deleteHostNetns, HOST_ADDRESS } from '../test/harness/host-netns.js';
import { startKubeApiserverTestCluster } from '../test/harness/kube-apiserver.js';
import { PODS, startTestKubelet } from '../test/harness/kubelet.js';
import type { TestCluster } from '../test/harness/test-cluster.js';
import { toolBinary } from '../cli/tools-bin.js';
import { buildCli, cliArgv, compiledCliEntry } from './compiled-cli.js';
import { pool } from './pool.js';

const BUILD = 'shopfloor-bench-pod-start';
const NODE = 'bench-node';
const NAMESPACE = 'bench';
const WORKLOAD = 'bench';
const REVISION = 'r1';
/** What one pod may take before the run is declared stuck. */
const POD_TIMEOUT_MS = 60_000;
const TEMPLATE = templateSchema.parse({
  containers: [{ name: 'main', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
});
const CONTAINER = TEMPLATE.containers[0]!;

interface Flags {
  pods: number;
  concurrency: number;
}

function readFlags(argv: string[]): Flags & { inNetns: boolean } {
  const { values } = parseArgs({ args: argv, options: { pods: { type: 'string', default: '50' }, concurrency: { type: 'string', default: '8' }, 'in-netns': { type: 'boolean', default: false } } });
  const count = (flag: string, v: string, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${flag} "${v}" must be a whole number from 1 to ${max}`);
    return n;
  };
  // The agent takes at most 64 pod workers; the run gives it one per slot.
  return { pods: count('pods', values.pods, 1000), concurrency: count('concurrency', values.concurrency, 64), inNetns: values['in-netns'] };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function podName(i: number): string {
  return `pod-${String(i).padStart(3, '0')}`;
}

/** Per value of `label`: a histogram's call count and mean in ms. */
function histogramBy(samples: Sample[], name: string, label: string): Map<string, { count: number; meanMs: number; totalS: number }> {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const s of samples) {
    const key = s.labels[label] ?? '';
    if (s.name === `${name}_sum`) sums.set(key, (sums.get(key) ?? 0) + s.value);
    if (s.name === `${name}_count`) counts.set(key, (counts.get(key) ?? 0) + s.value);
  }
  const out = new Map<string, { count: number; meanMs: number; totalS: number }>();
  for (const [key, count] of counts) {
    const total = sums.get(key) ?? 0;
    out.set(key, { count, meanMs: count > 0 ? (total / count) * 1000 : 0, totalS: total });
  }
  return out;
}

function sumOf(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v)).reduce((t, s) => t + s.value, 0);
}

/** CPU seconds a process (and its reaped children) used so far; 0 once it is gone. */
async function cpuSeconds(pid: number | undefined, ticksPerSecond: number): Promise<number> {
  if (pid === undefined) return 0;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields 14-17 (utime stime cutime cstime), counted after the parenthesised command name.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [11, 12, 13, 14].reduce((t, i) => t + Number(f[i]), 0) / ticksPerSecond;
  } catch {
    return 0;
  }
}

async function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no ${field} line`);
  return Number(m[1]);
}

/** Checks that the runtime runs `n` pods matching `labels`, each sandbox ready with an IP and its container running. */
async function expectRunning(cri: CriClient, n: number, run: string, labels: Record<string, string>): Promise<void> {
  const sandboxes = await cri.listPodSandbox({ labelSelector: labels });
  const ready = sandboxes.filter((s) => s.state === 'SANDBOX_READY');
  const withIP = (await Promise.all(ready.map((s) => cri.podSandboxStatus(s.id)))).filter((s) => s.network?.ip);
  const running = await cri.listContainers({ labelSelector: labels, state: { state: 'CONTAINER_RUNNING' } });
  if (sandboxes.length !== n || withIP.length !== n || running.length !== n) {
    throw new Error(`${run} run: expected ${n} pods in the runtime, found ${sandboxes.length} sandboxes (${ready.length} ready, ${withIP.length} with an IP) and ${running.length} running containers`);
  }
}

interface RunResult {
  wallS: number;
  /** The machine's 1-minute load average before and after the run: other work shares the cores. */
  load: [number, number];
  latenciesMs: number[];
  /** Metrics text: the raw run's own CRI client, or the agent's /metrics. */
  metrics: Sample[];
  containerdCpuS: number;
  /** containerd's version, as its CRI Version call says. */
  containerdVersion: string;
}

/** Asked through the harness's own CRI client, so that no run's call counts include it. */
async function containerdVersion(ctd: TestContainerd): Promise<string> {
  return (await ctd.cri.version()).runtimeVersion;
}

async function rawRun(f: Flags, ticks: number): Promise<RunResult> {
  const ctd = await startTestContainerd();
  const logRoot = await mkdtemp(join(tmpdir(), 'sf-bench-raw-logs-'));
  const registry = new Registry();
  const cri = new CriClient({ endpoint: ctd.endpoint, registry });
  try {
    const latencies: number[] = [];
    const cpuBefore = await cpuSeconds(ctd.containerd.pid(), ticks);
    const loadBefore = loadavg()[0]!;
    const start = performance.now();
    await pool(f.pods, f.concurrency, async (i) => {
      const pod: PodIdentity = { namespace: NAMESPACE, name: podName(i), uid: randomUUID(), workload: WORKLOAD };
      const subject = `pod ${NAMESPACE}/${pod.name}`;
      const t = performance.now();
      // What the agent's first sync of a new pod does, in its order, without its observing.
      const logDirectory = podLogDirectory(logRoot, pod);
      await mkdir(logDirectory, { recursive: true });
      const sandbox = sandboxConfig({ pod, nodeName: NODE, attempt: 0, revision: REVISION, logDirectory });
      const sandboxId = await cri.runPodSandbox(sandbox, TEMPLATE.runtimeClassName, subject);
      const image = await cri.imageStatus({ image: CONTAINER.image });
      if (!image) throw new Error(`raw run: image ${CONTAINER.image} is not in the test containerd; the harness should have preloaded it`);
      const config = containerConfig({ pod, nodeName: NODE, template: TEMPLATE, container: CONTAINER, restartCount: 0, imageRef: image.id, volumePaths: new Map() });
      await mkdir(dirname(join(logDirectory, config.logPath ?? '')), { recursive: true });
      const id = await cri.createContainer(sandboxId, config, sandbox, subject);
      await cri.startContainer(id, subject);
      latencies.push(performance.now() - t);
    });
    const wallS = (performance.now() - start) / 1000;
    const load: [number, number] = [loadBefore, loadavg()[0]!];
    const containerdCpuS = (await cpuSeconds(ctd.containerd.pid(), ticks)) - cpuBefore;
    // Read before the check below adds calls of its own.
    const metrics = parseSamples(await registry.metrics());
    await expectRunning(cri, f.pods, 'raw', nodeSelector(NODE));
    return { wallS, load, latenciesMs: latencies, metrics, containerdCpuS, containerdVersion: await containerdVersion(ctd) };
  } finally {
    cri.close();
    await ctd.stop();
    await rm(logRoot, { recursive: true, force: true });
  }
}

function isRunning(a: NodeAssignment): boolean {
  const containers = a.status?.containers ?? [];
  return a.status?.phase === 'Running' && containers.length === TEMPLATE.containers.length && containers.every((c) => c.state === 'Running');
}

function assignment(i: number): NodeAssignment {
  return {
    apiVersion: API_VERSION,
    kind: 'NodeAssignment',
    metadata: {
      name: podName(i),
      namespace: NAMESPACE,
      labels: { [LABEL_NODE]: NODE, [LABEL_WORKLOAD]: WORKLOAD, [LABEL_MANAGED_BY]: MANAGED_BY_VALUE },
    },
    spec: { nodeName: NODE, workloadRef: { name: WORKLOAD }, revision: REVISION, template: TEMPLATE },
  } as NodeAssignment;
}

/** The agent as a child process: its pino lines are read for its metrics URL; warnings and errors are echoed. */
class AgentProcess {
  readonly child: ChildProcess;
  readonly metricsUrl: Promise<string>;
  private readonly exited: Promise<void>;
  private stderr = '';
  warnings = 0;

  constructor(entry: string, args: string[]) {
    this.child = spawn(process.execPath, cliArgv(entry, ['agent', ...args]), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    this.child.stderr?.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-4000)));
    this.metricsUrl = new Promise<string>((resolve, reject) => {
      let buf = '';
      this.child.stdout?.on('data', (c: Buffer) => {
        buf += c.toString();
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          let rec: { msg?: string; url?: string; level?: number };
          try {
            rec = JSON.parse(line) as typeof rec;
          } catch {
            continue;
          }
          if (rec.msg === 'serving /metrics, /healthz, /readyz' && rec.url) resolve(rec.url);
          if ((rec.level ?? 0) >= 40) {
            this.warnings++;
            if (this.warnings <= 10) console.error(`agent: ${line}`);
          }
        }
      });
      this.child.once('exit', (code, signal) => reject(new Error(`the agent exited (code ${code}, signal ${signal}) before serving its metrics; stderr: ${this.stderr.trim()}`)));
    });
    // Rejections after start are reported by the wait that meets them.
    this.metricsUrl.catch(() => undefined);
  }

  alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitReady(timeoutMs: number): Promise<string> {
    const url = await this.metricsUrl;
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.alive()) throw new Error(`the agent exited while starting; stderr: ${this.stderr.trim()}`);
      const res = await fetch(`${url}/readyz?verbose`).catch((err: unknown) => ({ status: 0, text: async () => String(err) }));
      if (res.status === 200) return url;
      last = await res.text();
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the agent was not ready within ${timeoutMs / 1000} s; /readyz said: ${last.trim()}`);
  }

  async stop(): Promise<void> {
    if (!this.alive()) return;
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(killer);
  }
}

/** A run through a node (our agent or the kubelet): its process's memory and CPU, and its creates. */
interface NodeResult extends RunResult {
  idleRssMb: number;
  rssMb: number;
  peakRssMb: number;
  cpuS: number;
  /** Create sent → created answered, per object. */
  createMs: number[];
}

interface AgentResult extends NodeResult {
  warnings: number;
}

/** The kubelet's run, or why it could not run here. */
type KubeletOutcome = { result: NodeResult } | { error: string };

type Cleanups = Array<() => Promise<unknown>>;

async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
}

/** A watch of the objects a node run creates, telling when each is first seen running. */
interface RunningWatch {
  /** Resolves with the time the object was first seen running; fails after POD_TIMEOUT_MS. */
  running(name: string): Promise<number>;
}

async function watchRunning<T extends KubeObject>(
  client: KubeClient,
  resource: ResourceType,
  isRunning: (obj: T) => boolean,
  /** What a timeout says of an object that did not run. */
  stuck: (name: string, obj: T | undefined) => string,
  cleanups: Cleanups,
): Promise<RunningWatch> {
  const observedAt = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const watcher = new Informer<T>({ client, resource, namespace: NAMESPACE });
  cleanups.push(() => watcher.stop());
  const seen = (obj: T): void => {
    const name = obj.metadata?.name ?? '';
    if (observedAt.has(name) || !isRunning(obj)) return;
    observedAt.set(name, performance.now());
    waiters.get(name)?.();
  };
  watcher.addEventHandler({ onAdd: seen, onUpdate: (_old, obj) => seen(obj) });
  watcher.start();
  if (!(await watcher.waitForSync())) throw new Error(`the benchmark's watch of ${resource.plural} did not sync`);
  return {
    running: (name) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(stuck(name, watcher.get(`${NAMESPACE}/${name}`)))), POD_TIMEOUT_MS);
        timer.unref();
        waiters.set(name, () => {
          clearTimeout(timer);
          resolve(observedAt.get(name)!);
        });
      }),
  };
}

/** The closed loop of a node run: a slot creates object i, then waits until the watch sees it running. */
async function createLoop(f: Flags, watch: RunningWatch, create: (i: number) => Promise<unknown>): Promise<{ latenciesMs: number[]; createMs: number[]; wallS: number; load: [number, number] }> {
  const latenciesMs: number[] = [];
  const createMs: number[] = [];
  const loadBefore = loadavg()[0]!;
  const start = performance.now();
  await pool(f.pods, f.concurrency, async (i) => {
    const isRunningNow = watch.running(podName(i));
    // Handled here so that a failed create is what the run reports; awaited below all the same.
    isRunningNow.catch(() => undefined);
    const t = performance.now();
    await create(i);
    createMs.push(performance.now() - t);
    latenciesMs.push((await isRunningNow) - t);
  });
  return { latenciesMs, createMs, wallS: (performance.now() - start) / 1000, load: [loadBefore, loadavg()[0]!] };
}

async function agentRun(f: Flags, entry: string, ticks: number, cluster: TestCluster): Promise<AgentResult> {
  const cleanups: Cleanups = [];
  try {
    const client = new KubeClient(cluster.kubeConfig, { timeoutMs: 60_000 });
    const dataDir = await mkdtemp(join(tmpdir(), 'sf-bench-agent-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const ctd: TestContainerd = await startTestContainerd();
    cleanups.push(() => ctd.stop());
    // Removes the agent's rules from this network namespace (which goes away anyway), as a user would after an agent.
    cleanups.push(() => runChecked(spawnRunner(), process.execPath, cliArgv(entry, ['agent', 'cleanup'])));

    const agent = new AgentProcess(entry, [
      '--kubeconfig', cluster.kubeconfigPath,
      '--node-name', NODE,
      '--cri-endpoint', ctd.endpoint,
      '--pod-cidr', ctd.podCIDR,
      '--data-dir', dataDir,
      '--pod-workers', String(f.concurrency),
      '--metrics-address', '127.0.0.1:0',
      '--proxy-mode', 'nftables',
      '--node-addresses', '127.0.0.1',
      '--log-level', 'info',
    ]);
    // Stopped first: the pods stay and go with the containerd; assignments deleted while it ran
    // would make it stop every pod with its grace period, which is no part of what is measured.
    // The assignments go with the API server.
    cleanups.push(() => agent.stop());
    const metricsUrl = await agent.waitReady(120_000);
    const pid = agent.child.pid!;
    const idleRssMb = (await procStatusKb(pid, 'VmRSS')) / 1024;
    const watch = await watchRunning<NodeAssignment>(client, NODE_ASSIGNMENTS, isRunning, (name, a) =>
      `assignment ${NAMESPACE}/${name} was not Running within ${POD_TIMEOUT_MS / 1000} s (agent ${agent.alive() ? 'alive' : 'exited'}); its status: ${JSON.stringify(a?.status ?? null)}`, cleanups);

    const cpu = async () => ({ node: await cpuSeconds(pid, ticks), containerd: await cpuSeconds(ctd.containerd.pid(), ticks) });
    const cpuBefore = await cpu();
    const loop = await createLoop(f, watch, (i) => client.create(NODE_ASSIGNMENTS, assignment(i)));
    const rssMb = (await procStatusKb(pid, 'VmRSS')) / 1024;
    const peakRssMb = (await procStatusKb(pid, 'VmHWM')) / 1024;
    const cpuAfter = await cpu();
    const metrics = parseSamples(await (await fetch(`${metricsUrl}/metrics`)).text());
    await expectRunning(ctd.cri, f.pods, 'agent', nodeSelector(NODE));
    for (const a of (await client.listAll<NodeAssignment>(NODE_ASSIGNMENTS, { namespace: NAMESPACE })).items) {
      if (!a.status?.podIP) throw new Error(`agent run: assignment ${NAMESPACE}/${a.metadata.name} is Running without a podIP in its status`);
    }
    return {
      ...loop, metrics, containerdCpuS: cpuAfter.containerd - cpuBefore.containerd, containerdVersion: await containerdVersion(ctd),
      idleRssMb, rssMb, peakRssMb, cpuS: cpuAfter.node - cpuBefore.node, warnings: agent.warnings,
    };
  } finally {
    await runCleanups(cleanups);
  }
}

interface Pod extends KubeObject {
  spec?: { nodeName?: string; containers: unknown[] };
  status?: { phase?: string; podIP?: string; containerStatuses?: Array<{ name: string; state?: { running?: unknown; waiting?: { reason?: string } } }> };
}

/** The assignment's pod as a Pod: the same container, bound to the kubelet's node by nodeName. */
function kubeletPod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: podName(i), namespace: NAMESPACE, labels: { [LABEL_WORKLOAD]: WORKLOAD } },
    spec: {
      nodeName: NODE,
      // The API server runs no service-account controller: there is no token to mount.
      automountServiceAccountToken: false,
      containers: TEMPLATE.containers.map((c) => ({ name: c.name, image: c.image, imagePullPolicy: c.imagePullPolicy, command: c.command })),
    } as Pod['spec'],
  };
}

function podRunning(p: Pod): boolean {
  const statuses = p.status?.containerStatuses ?? [];
  return statuses.length === TEMPLATE.containers.length && statuses.every((c) => c.state?.running !== undefined);
}

/** The same pods through the real kubelet on a containerd of its own; what stops it is the outcome's error. */
async function kubeletRun(f: Flags, ticks: number, cluster: TestCluster): Promise<KubeletOutcome> {
  const cleanups: Cleanups = [];
  try {
    const client = new KubeClient(cluster.kubeConfig, { timeoutMs: 60_000 });
    const kubelet = await startTestKubelet({ cluster, nodeName: NODE, nodeIP: HOST_ADDRESS });
    cleanups.push(() => kubelet.stop());
    const ctd = kubelet.containerd;
    const idleRssMb = (await procStatusKb(kubelet.pid, 'VmRSS')) / 1024;
    const watch = await watchRunning<Pod>(client, PODS, podRunning, (name, p) =>
      `pod ${NAMESPACE}/${name} was not running within ${POD_TIMEOUT_MS / 1000} s (kubelet ${kubelet.running() ? 'alive' : 'exited'}); its status: ${JSON.stringify(p?.status ?? null)}; the kubelet's last lines: ${kubelet.tail().slice(-1500)}`, cleanups);

    const cpu = async () => ({ node: await cpuSeconds(kubelet.pid, ticks), containerd: await cpuSeconds(ctd.containerd.pid(), ticks) });
    const cpuBefore = await cpu();
    const loop = await createLoop(f, watch, (i) => client.create(PODS, kubeletPod(i)));
    const rssMb = (await procStatusKb(kubelet.pid, 'VmRSS')) / 1024;
    const peakRssMb = (await procStatusKb(kubelet.pid, 'VmHWM')) / 1024;
    const cpuAfter = await cpu();
    const metrics = parseSamples(await kubelet.metrics());
    await expectRunning(ctd.cri, f.pods, 'kubelet', { 'io.kubernetes.pod.namespace': NAMESPACE });
    for (const p of (await client.listAll<Pod>(PODS, { namespace: NAMESPACE })).items) {
      if (!p.status?.podIP) throw new Error(`kubelet run: pod ${NAMESPACE}/${p.metadata?.name} is running without a podIP in its status`);
    }
    return { result: { ...loop, metrics, containerdCpuS: cpuAfter.containerd - cpuBefore.containerd, containerdVersion: await containerdVersion(ctd), idleRssMb, rssMb, peakRssMb, cpuS: cpuAfter.node - cpuBefore.node } };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    await runCleanups(cleanups);
  }
}

function report(f: Flags, apiServer: string, raw: RunResult, agent: AgentResult, kubelet: KubeletOutcome): void {
  const ms = (x: number) => x.toFixed(0).padStart(6);
  const line = (what: string, r: RunResult) =>
    console.log(`${what} wall ${r.wallS.toFixed(2)} s (${(f.pods / r.wallS).toFixed(1)} pods/s); per pod p50 ${ms(percentile(r.latenciesMs, 50))} ms, p99 ${ms(percentile(r.latenciesMs, 99))} ms, max ${ms(Math.max(...r.latenciesMs))} ms, mean ${ms(mean(r.latenciesMs))} ms; containerd ${r.containerdVersion} cpu ${r.containerdCpuS.toFixed(1)} s; load ${r.load.map((l) => l.toFixed(1)).join(' → ')}`);
  const processLine = (what: string, r: NodeResult, extra: string) =>
    console.log(`${what} process: RSS ${r.rssMb.toFixed(0)} MB with ${f.pods} pods running (peak ${r.peakRssMb.toFixed(0)} MB, ${r.idleRssMb.toFixed(0)} MB when ready with none), cpu ${r.cpuS.toFixed(1)} s during the run${extra}`);
  const k = 'result' in kubelet ? kubelet.result : undefined;
  console.log('');
  line('raw CRI:', raw);
  line('agent:  ', agent);
  if (k) line('kubelet:', k);
  else console.log(`kubelet: did not run: ${'error' in kubelet ? kubelet.error : ''}`);
  const mb = (name: string) => (sumOf(agent.metrics, name) / 2 ** 20).toFixed(0);
  processLine('agent', agent, `, ${agent.warnings} warnings or errors logged`);
  console.log(`agent memory after the run: heap used ${mb('nodejs_heap_size_used_bytes')} MB of ${mb('nodejs_heap_size_total_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB`);
  if (k) processLine('kubelet', k, '');

  // The agent names its CRI metrics as the kubelet does, so the kubelet's own fill the third column.
  const runs: Array<[string, Sample[]]> = [['raw', raw.metrics], ['agent', agent.metrics], ...(k ? [['kubelet', k.metrics] as [string, Sample[]]] : [])];
  const ops = runs.map(([, m]) => histogramBy(m, 'kubelet_runtime_operations_duration_seconds', 'operation_type'));
  console.log(`\nCRI calls (calls, mean ms)     ${runs.map(([name]) => name.padStart(17)).join('   ')}`);
  for (const op of [...new Set(ops.flatMap((o) => [...o.keys()]))].sort()) {
    const cell = (h: { count: number; meanMs: number } | undefined) => (h ? `${String(h.count).padStart(5)} × ${h.meanMs.toFixed(1).padStart(6)} ms` : ''.padStart(17));
    console.log(`  ${op.padEnd(30)} ${ops.map((o) => cell(o.get(op))).join('   ')}`);
  }
  const workers = histogramBy(agent.metrics, 'kubelet_pod_worker_duration_seconds', 'operation_type');
  console.log(`agent pod syncs: ${[...workers].map(([op, h]) => `${op} ${h.count} × ${h.meanMs.toFixed(0)} ms`).join(', ')}`);
  const startDuration = histogramBy(agent.metrics, 'kubelet_pod_start_duration_seconds', '').get('');
  if (startDuration) console.log(`agent first seen → containers running (kubelet_pod_start_duration_seconds): mean ${startDuration.meanMs.toFixed(0)} ms over ${startDuration.count}`);
  // Its kubelet_pod_start_duration_seconds counts some pods twice; the SLI histogram once each.
  const kubeletStart = k ? histogramBy(k.metrics, 'kubelet_pod_start_sli_duration_seconds', '').get('') : undefined;
  if (kubeletStart) console.log(`kubelet pod created → containers started, seen on its watch (kubelet_pod_start_sli_duration_seconds): mean ${kubeletStart.meanMs.toFixed(0)} ms over ${kubeletStart.count}`);
  const queued = histogramBy(agent.metrics, 'workqueue_queue_duration_seconds', 'name').get('pods');
  if (queued) console.log(`agent pod queue wait (added → taken, including waiting for its own sync in progress): mean ${queued.meanMs.toFixed(1)} ms over ${queued.count} syncs`);
  const creates = (what: string, r: NodeResult) => console.log(`${what} create (POST answered): mean ${mean(r.createMs).toFixed(1)} ms, p99 ${percentile(r.createMs, 99).toFixed(0)} ms`);
  creates('assignment', agent);
  if (k) creates('pod', k);
  for (const [name, metrics] of runs.slice(1)) {
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => `${m} ${sumOf(metrics, 'rest_client_requests_total', { method: m })}`);
    console.log(`${name} API requests since start: ${methods.join(', ')}`);
  }

  const ratio = agent.wallS / raw.wallS;
  const p99 = percentile(agent.latenciesMs, 99);
  console.log(`\nwall ratio agent ÷ raw ${ratio.toFixed(3)} (goal ≤ 1.15); agent p99 ${p99.toFixed(0)} ms (goal ≤ 1000); agent RSS ${agent.rssMb.toFixed(0)} MB (goal ≤ 120)`);
  if (k) console.log(`kubelet ÷ agent wall ${(k.wallS / agent.wallS).toFixed(3)}; kubelet p99 ${percentile(k.latenciesMs, 99).toFixed(0)} ms; kubelet RSS ${k.rssMb.toFixed(0)} MB`);
  const fixed = (x: number, digits: number) => Number(x.toFixed(digits));
  console.log(
    JSON.stringify({
      wall_ratio: fixed(ratio, 3),
      agent_p99_ms: fixed(p99, 0),
      rss_mb: fixed(agent.rssMb, 1),
      ...(k
        ? {
            vs_kubelet: fixed(k.wallS / agent.wallS, 3),
            kubelet_wall_s: fixed(k.wallS, 3),
            kubelet_p99_ms: fixed(percentile(k.latenciesMs, 99), 0),
            kubelet_rss_mb: fixed(k.rssMb, 1),
          }
        : { kubelet_error: 'error' in kubelet ? kubelet.error : '' }),
      raw_wall_s: fixed(raw.wallS, 3),
      agent_wall_s: fixed(agent.wallS, 3),
      peak_rss_mb: fixed(agent.peakRssMb, 1),
      agent_p50_ms: fixed(percentile(agent.latenciesMs, 50), 0),
      raw_p50_ms: fixed(percentile(raw.latenciesMs, 50), 0),
      raw_p99_ms: fixed(percentile(raw.latenciesMs, 99), 0),
      agent_cpu_s: fixed(agent.cpuS, 2),
      ...(k
        ? {
            kubelet_peak_rss_mb: fixed(k.peakRssMb, 1),
            kubelet_p50_ms: fixed(percentile(k.latenciesMs, 50), 0),
            kubelet_cpu_s: fixed(k.cpuS, 2),
          }
        : {}),
      api_server: apiServer,
      containerd: raw.containerdVersion,
      pods: f.pods,
      concurrency: f.concurrency,
    }),
  );
}

/** Why the kubelet cannot run here (a binary of SHOPFLOOR_TOOLS_BIN missing), or undefined. */
function kubeletPartsMissing(): string | undefined {
  try {
    for (const name of ['kube-apiserver', 'kube-controller-manager', 'kubelet']) toolBinary(name, 'the kubelet run of pod-start');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

async function measure(f: Flags): Promise<void> {
  const entry = compiledCliEntry(BUILD);
  const ticks = Number((await runChecked(spawnRunner(), 'getconf', ['CLK_TCK'])).stdout.trim());
  console.log(`pod-start: ${f.pods} single-container pods (${CONTAINER.image}, ${CONTAINER.command?.join(' ')}), ${f.concurrency} at a time; raw CRI, then the agent, then the kubelet, each on a fresh containerd`);
  // The kubelet needs the real API server; the agent runs on the same one, so that what
  // vs_kubelet compares is the nodes, not the API servers. Where it cannot be had, the agent
  // runs on the devcluster and the kubelet's line says why it did not run.
  const missing = kubeletPartsMissing();
  const apiServer = missing ? 'devcluster' : 'kube-apiserver';
  // The API server runs through all three runs, so all share the same background load.
  const cluster = missing ? await startDevclusterTestCluster({ crds: true }) : await startKubeApiserverTestCluster({ crds: true });
  try {
    const client = new KubeClient(cluster.kubeConfig, { timeoutMs: 60_000 });
    for (const name of [DEFAULT_SYSTEM_NAMESPACE, NAMESPACE]) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const raw = await rawRun(f, ticks);
    console.log(`raw run done in ${raw.wallS.toFixed(2)} s; starting the agent…`);
    const agent = await agentRun(f, entry, ticks, cluster);
    console.log(`agent run done in ${agent.wallS.toFixed(2)} s; starting the kubelet…`);
    const kubelet = missing ? { error: missing } : await kubeletRun(f, ticks, cluster);
    report(f, apiServer, raw, agent, kubelet);
  } finally {
    await cluster.stop();
  }
}

const IN_NETNS = '--in-netns';
const flags = readFlags(process.argv.slice(2));
if (flags.inNetns) {
  await measure(flags);
} else {
  const t = Date.now();
  buildCli(BUILD);
  console.log(`compiled the agent in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const netns = `sfpodstart-${randomBytes(3).toString('hex')}`;
  // A host of its own: loopback for the API server, and an address for the kubelet's node IP.
  await createHostNetns(netns);
  try {
    // nsenter joins only the network namespace: `ip netns exec` would also remount /sys, hiding
    // the cgroup hierarchy runc needs.
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), IN_NETNS, '--pods', String(flags.pods), '--concurrency', String(flags.concurrency)], { stdio: 'inherit' });
    process.exitCode = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  } finally {
    await deleteHostNetns(netns);
  }
}
