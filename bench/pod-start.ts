// Pod start through the agent against the physical limit under it (raw CRI calls), in one run:
// N single-container busybox pods (default 50), N/concurrency at a time (default 8), twice,
// each time on a fresh containerd of the test harness:
// - raw: RunPodSandbox → ImageStatus → CreateContainer → StartContainer, with the very configs
//   the agent sends (agent/pods/runtime-config.ts); a pod's latency is RunPodSandbox sent →
//   StartContainer returned;
// - agent: `shopfloor agent` compiled, as its own process (so its RSS is its own), on a
//   devcluster; this process creates NodeAssignments and a pod's latency is its create sent →
//   its status seen Running (container Running) on a watch.
// Both runs are closed loops of the same concurrency: a slot starts its next pod when its last
// one runs, so a pod's latency never includes waiting for a slot, in either run.
// Everything runs in a network namespace of its own (the benchmark re-runs itself inside it):
// the agent's nftables rules, the pods' bridge and masquerade rules never reach the host.
// Ends with one JSON line: wall_ratio, agent_p99_ms, rss_mb, raw_wall_s, agent_wall_s, ...
//
//   npm run bench -- pod-start [--pods 50] [--concurrency 8]
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
import { NAMESPACES, NODE_ASSIGNMENTS } from '../kube/resource.js';
import { BUSYBOX_IMAGE, startTestContainerd, type TestContainerd } from '../test/harness/containerd.js';
import { parseSamples, type Sample } from '../test/harness/metrics.js';
import { startTestCluster, type TestCluster } from '../test/harness/test-cluster.js';
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

/** Checks that the runtime runs `n` of our pods, each sandbox ready with an IP and its container running. */
async function expectRunning(cri: CriClient, n: number, run: string): Promise<void> {
  const sandboxes = await cri.listPodSandbox({ labelSelector: nodeSelector(NODE) });
  const ready = sandboxes.filter((s) => s.state === 'SANDBOX_READY');
  const withIP = (await Promise.all(ready.map((s) => cri.podSandboxStatus(s.id)))).filter((s) => s.network?.ip);
  const running = await cri.listContainers({ labelSelector: nodeSelector(NODE), state: { state: 'CONTAINER_RUNNING' } });
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
    await expectRunning(cri, f.pods, 'raw');
    return { wallS, load, latenciesMs: latencies, metrics, containerdCpuS };
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

interface AgentResult extends RunResult {
  idleRssMb: number;
  rssMb: number;
  peakRssMb: number;
  agentCpuS: number;
  /** Create sent → created answered, per assignment. */
  createMs: number[];
  warnings: number;
}

async function agentRun(f: Flags, entry: string, ticks: number, cluster: TestCluster): Promise<AgentResult> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error(`cleanup: ${(err as Error).message}`));
  };
  try {
    const client = new KubeClient(cluster.kubeConfig, { timeoutMs: 60_000 });
    for (const name of [DEFAULT_SYSTEM_NAMESPACE, NAMESPACE]) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

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
    // The assignments go with the devcluster.
    cleanups.push(() => agent.stop());
    const metricsUrl = await agent.waitReady(120_000);
    const pid = agent.child.pid!;
    const idleRssMb = (await procStatusKb(pid, 'VmRSS')) / 1024;

    const observedAt = new Map<string, number>();
    const waiters = new Map<string, () => void>();
    const watcher = new Informer<NodeAssignment>({ client, resource: NODE_ASSIGNMENTS, namespace: NAMESPACE });
    cleanups.push(() => watcher.stop());
    const seen = (a: NodeAssignment): void => {
      const name = a.metadata.name ?? '';
      if (observedAt.has(name) || !isRunning(a)) return;
      observedAt.set(name, performance.now());
      waiters.get(name)?.();
    };
    watcher.addEventHandler({ onAdd: seen, onUpdate: (_old, a) => seen(a) });
    watcher.start();
    if (!(await watcher.waitForSync())) throw new Error('the benchmark\'s watch of NodeAssignments did not sync');

    const running = (name: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const status = JSON.stringify(watcher.get(`${NAMESPACE}/${name}`)?.status ?? null);
          reject(new Error(`assignment ${NAMESPACE}/${name} was not Running within ${POD_TIMEOUT_MS / 1000} s (agent ${agent.alive() ? 'alive' : 'exited'}); its status: ${status}`));
        }, POD_TIMEOUT_MS);
        timer.unref();
        waiters.set(name, () => {
          clearTimeout(timer);
          resolve();
        });
      });

    const cpu = async () => ({ agent: await cpuSeconds(pid, ticks), containerd: await cpuSeconds(ctd.containerd.pid(), ticks) });
    const cpuBefore = await cpu();
    const latencies: number[] = [];
    const createMs: number[] = [];
    const loadBefore = loadavg()[0]!;
    const start = performance.now();
    await pool(f.pods, f.concurrency, async (i) => {
      const name = podName(i);
      const isRunningNow = running(name);
      // Handled here so that a failed create is what the run reports; awaited below all the same.
      isRunningNow.catch(() => undefined);
      const t = performance.now();
      await client.create(NODE_ASSIGNMENTS, assignment(i));
      createMs.push(performance.now() - t);
      await isRunningNow;
      latencies.push(observedAt.get(name)! - t);
    });
    const wallS = (performance.now() - start) / 1000;
    const load: [number, number] = [loadBefore, loadavg()[0]!];
    const rssMb = (await procStatusKb(pid, 'VmRSS')) / 1024;
    const peakRssMb = (await procStatusKb(pid, 'VmHWM')) / 1024;
    const cpuAfter = await cpu();
    const metrics = parseSamples(await (await fetch(`${metricsUrl}/metrics`)).text());
    await expectRunning(ctd.cri, f.pods, 'agent');
    for (const a of watcher.list()) {
      if (!a.status?.podIP) throw new Error(`agent run: assignment ${NAMESPACE}/${a.metadata.name} is Running without a podIP in its status`);
    }
    return {
      wallS, load, latenciesMs: latencies, metrics, containerdCpuS: cpuAfter.containerd - cpuBefore.containerd,
      idleRssMb, rssMb, peakRssMb, agentCpuS: cpuAfter.agent - cpuBefore.agent, createMs, warnings: agent.warnings,
    };
  } finally {
    await cleanUp();
  }
}

function report(f: Flags, raw: RunResult, agent: AgentResult): void {
  const ms = (x: number) => x.toFixed(0).padStart(6);
  const line = (what: string, r: RunResult) =>
    console.log(`${what} wall ${r.wallS.toFixed(2)} s (${(f.pods / r.wallS).toFixed(1)} pods/s); per pod p50 ${ms(percentile(r.latenciesMs, 50))} ms, p99 ${ms(percentile(r.latenciesMs, 99))} ms, max ${ms(Math.max(...r.latenciesMs))} ms, mean ${ms(mean(r.latenciesMs))} ms; containerd cpu ${r.containerdCpuS.toFixed(1)} s; load ${r.load.map((l) => l.toFixed(1)).join(' → ')}`);
  console.log('');
  line('raw CRI:', raw);
  line('agent:  ', agent);
  const mb = (name: string) => (sumOf(agent.metrics, name) / 2 ** 20).toFixed(0);
  console.log(`agent process: RSS ${agent.rssMb.toFixed(0)} MB with ${f.pods} pods running (peak ${agent.peakRssMb.toFixed(0)} MB, ${agent.idleRssMb.toFixed(0)} MB when ready with none), cpu ${agent.agentCpuS.toFixed(1)} s during the run, ${agent.warnings} warnings or errors logged`);
  console.log(`agent memory after the run: heap used ${mb('nodejs_heap_size_used_bytes')} MB of ${mb('nodejs_heap_size_total_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB`);

  console.log('\nCRI calls (calls, mean ms)          raw                agent');
  const rawOps = histogramBy(raw.metrics, 'kubelet_runtime_operations_duration_seconds', 'operation_type');
  const agentOps = histogramBy(agent.metrics, 'kubelet_runtime_operations_duration_seconds', 'operation_type');
  for (const op of [...new Set([...rawOps.keys(), ...agentOps.keys()])].sort()) {
    const cell = (h: { count: number; meanMs: number } | undefined) => (h ? `${String(h.count).padStart(5)} × ${h.meanMs.toFixed(1).padStart(6)} ms` : ''.padStart(17));
    console.log(`  ${op.padEnd(30)} ${cell(rawOps.get(op))}   ${cell(agentOps.get(op))}`);
  }
  const workers = histogramBy(agent.metrics, 'kubelet_pod_worker_duration_seconds', 'operation_type');
  console.log(`agent pod syncs: ${[...workers].map(([op, h]) => `${op} ${h.count} × ${h.meanMs.toFixed(0)} ms`).join(', ')}`);
  const startDuration = histogramBy(agent.metrics, 'kubelet_pod_start_duration_seconds', '').get('');
  const queued = histogramBy(agent.metrics, 'workqueue_queue_duration_seconds', 'name').get('pods');
  if (startDuration) console.log(`agent first seen → containers running (kubelet_pod_start_duration_seconds): mean ${startDuration.meanMs.toFixed(0)} ms over ${startDuration.count}`);
  if (queued) console.log(`agent pod queue wait (added → taken, including waiting for its own sync in progress): mean ${queued.meanMs.toFixed(1)} ms over ${queued.count} syncs`);
  console.log(`assignment create (POST answered): mean ${mean(agent.createMs).toFixed(1)} ms, p99 ${percentile(agent.createMs, 99).toFixed(0)} ms`);
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => `${m} ${sumOf(agent.metrics, 'rest_client_requests_total', { method: m })}`);
  console.log(`agent API requests since start: ${methods.join(', ')}`);

  const ratio = agent.wallS / raw.wallS;
  const p99 = percentile(agent.latenciesMs, 99);
  console.log(`\nwall ratio agent ÷ raw ${ratio.toFixed(3)} (goal ≤ 1.15); agent p99 ${p99.toFixed(0)} ms (goal ≤ 1000); agent RSS ${agent.rssMb.toFixed(0)} MB (goal ≤ 120)`);
  console.log(
    JSON.stringify({
      wall_ratio: Number(ratio.toFixed(3)),
      agent_p99_ms: Number(p99.toFixed(0)),
      rss_mb: Number(agent.rssMb.toFixed(1)),
      raw_wall_s: Number(raw.wallS.toFixed(3)),
      agent_wall_s: Number(agent.wallS.toFixed(3)),
      peak_rss_mb: Number(agent.peakRssMb.toFixed(1)),
      agent_p50_ms: Number(percentile(agent.latenciesMs, 50).toFixed(0)),
      raw_p50_ms: Number(percentile(raw.latenciesMs, 50).toFixed(0)),
      raw_p99_ms: Number(percentile(raw.latenciesMs, 99).toFixed(0)),
      agent_cpu_s: Number(agent.agentCpuS.toFixed(2)),
      pods: f.pods,
      concurrency: f.concurrency,
    }),
  );
}

async function measure(f: Flags): Promise<void> {
  const entry = compiledCliEntry(BUILD);
  const ticks = Number((await runChecked(spawnRunner(), 'getconf', ['CLK_TCK'])).stdout.trim());
  console.log(`pod-start: ${f.pods} single-container pods (${CONTAINER.image}, ${CONTAINER.command?.join(' ')}), ${f.concurrency} at a time; raw CRI, then the agent, each on a fresh containerd`);
  // The API server runs through both runs, so both share the same background load; only the
  // agent's run talks to it.
  const cluster = await startTestCluster({ crds: true });
  try {
    const raw = await rawRun(f, ticks);
    console.log(`raw run done in ${raw.wallS.toFixed(2)} s; starting the agent…`);
    const agent = await agentRun(f, entry, ticks, cluster);
    report(f, raw, agent);
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
  const ip = spawnRunner();
  const netns = `sfpodstart-${randomBytes(3).toString('hex')}`;
  await runChecked(ip, 'ip', ['netns', 'add', netns]);
  try {
    await runChecked(ip, 'ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    // nsenter joins only the network namespace: `ip netns exec` would also remount /sys, hiding
    // the cgroup hierarchy runc needs.
    const child = spawn('nsenter', [`--net=/run/netns/${netns}`, '--', process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), IN_NETNS, '--pods', String(flags.pods), '--concurrency', String(flags.concurrency)], { stdio: 'inherit' });
    process.exitCode = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  } finally {
    await ip('ip', ['netns', 'del', netns]);
  }
}
