// Operator at scale: simulated nodes (simulated agents register, renew Leases and report
// replicas ready; no containers run) and NodeWorkloads of mixed modes, at several sizes in one
// run, each on a fresh devcluster. The devcluster and the operator run as their own processes;
// the operator runs compiled, as its container image runs it; this process plays the nodes and
// the user. Per size: time to converge, assignments per second, API writes per converged
// assignment, the operator's RSS and its reconcile errors — and, before the operator starts, the
// rate of plain NodeAssignment creates and status patches the same API server accepts at the
// operator's concurrency, so that the operator's rate reads as a share of what the server allows.
//
//   npm run bench -- operator-scale [--sizes 1000x100,2000x100,1000x500,4000x200] [--cpu-prof DIR] [--heap-snapshot DIR]
//
// --cpu-prof writes the operator's V8 CPU profile of each size into DIR (node --cpu-prof);
// --heap-snapshot writes its V8 heap snapshot of each size into DIR once the figures are taken
// (node --heapsnapshot-signal), so that what the caches keep can be read in DevTools' Memory tab.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { API_VERSION, templateSchema, type TemplateInput } from '../api/index.js';
import { KubeClient } from '../kube/client.js';
import { isAlreadyExists, KubeApiError } from '../kube/errors.js';
import { Informer } from '../kube/informer.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import type { NodeAssignmentObject, NodeWorkloadObject } from '../operator/objects.js';
import { startTestCluster, type TestCluster } from '../test/harness/test-cluster.js';
import { readyStatusPatch, SimulatedAgents } from '../test/sim/simulated-agents.js';
import { buildCli, cliArgv } from './compiled-cli.js';
import { pool } from './pool.js';

const GROUPS = 10;
/** Pods a simulated node takes: kubelet's default maxPods. */
const NODE_PODS = 110;
/**
 * The operator's concurrent reconciles (its default, passed explicitly so that the figures stay
 * tied to it); the plain API writes are measured with as many in flight.
 */
const WORKERS = 4;
/**
 * Plain creates (then as many status patches) that measure the API server's rate, once before the
 * operator starts and once after it converged: the machine's other load moves it, and the mean of
 * the two brackets the operator's run.
 */
const API_RATE_WRITES = 1000;
/** Long enough for the largest default size on a 2-core machine that other work shares. */
const CONVERGE_TIMEOUT_S = 900;
const NAMESPACE = 'bench';
const API_RATE_NAMESPACE = 'bench-api';
const SYSTEM_NAMESPACE = 'shopfloor-system';
const DEFAULT_SIZES = '1000x100,2000x100,1000x500,4000x200';
const TEMPLATE: TemplateInput = { containers: [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] };
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Size {
  workloads: number;
  nodes: number;
}

interface Planned {
  name: string;
  spec: Record<string, unknown>;
  replicas: number;
}

/**
 * 85% Replicas (1–5), 10% EveryNode on one of GROUPS groups of nodes (workload 10k+5 on group
 * k mod GROUPS, so that every group carries as many), 5% Replicas with a service VIP.
 */
function plan({ workloads, nodes }: Size): Planned[] {
  const out: Planned[] = [];
  const template = TEMPLATE;
  for (let i = 0; i < workloads; i++) {
    const name = `wl-${i}`;
    if (i % 20 === 0) {
      out.push({ name, replicas: 2, spec: { placement: { mode: 'Replicas', replicas: 2 }, template, service: { ports: [{ port: 80 }] } } });
    } else if (i % 10 === 5) {
      const group = Math.floor(i / 10) % GROUPS;
      out.push({ name, replicas: nodes / GROUPS, spec: { placement: { mode: 'EveryNode', nodeSelector: { group: `g${group}` } }, template } });
    } else {
      const replicas = (i % 5) + 1;
      out.push({ name, replicas, spec: { placement: { mode: 'Replicas', replicas }, template } });
    }
  }
  return out;
}

/** The sizes of the run, from `--sizes WxN,…`; each must fit the nodes' pods, or it could never converge. */
interface Flags {
  sizes: Size[];
  cpuProfDir: string | undefined;
  heapSnapshotDir: string | undefined;
}

function readFlags(argv: string[]): Flags {
  const { values } = parseArgs({ args: argv, options: { sizes: { type: 'string', default: DEFAULT_SIZES }, 'cpu-prof': { type: 'string' }, 'heap-snapshot': { type: 'string' } } });
  const sizes = values.sizes.split(',').map((text): Size => {
    const m = /^(\d+)x(\d+)$/.exec(text.trim());
    if (!m) throw new Error(`--sizes: "${text}" is not WORKLOADSxNODES, e.g. 1000x100`);
    const size = { workloads: Number(m[1]), nodes: Number(m[2]) };
    // EveryNode workloads each select one of GROUPS equal groups of nodes.
    if (size.nodes < GROUPS || size.nodes > 1000 || size.nodes % GROUPS !== 0) throw new Error(`--sizes ${text}: nodes must be a multiple of ${GROUPS} from ${GROUPS} to 1000`);
    if (size.workloads < 1 || size.workloads > 10_000) throw new Error(`--sizes ${text}: workloads must be from 1 to 10000`);
    const replicas = plan(size).reduce((n, w) => n + w.replicas, 0);
    if (replicas > size.nodes * NODE_PODS * 0.95) {
      throw new Error(`--sizes ${text}: ${replicas} replicas would fill more than 95% of ${size.nodes} nodes × ${NODE_PODS} pods; give more nodes or fewer workloads`);
    }
    return size;
  });
  const dir = (flag: string | undefined) => (flag ? resolve(flag) : undefined);
  return { sizes, cpuProfDir: dir(values['cpu-prof']), heapSnapshotDir: dir(values['heap-snapshot']) };
}

function parseMetrics(text: string): (name: string, match?: (labels: string) => boolean) => number {
  return (name, match = () => true) => {
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const rest = line.slice(name.length);
      const labels = rest.startsWith('{') ? rest.slice(1, rest.indexOf('}')) : '';
      if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
      if (match(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  };
}

interface ApiRate {
  creates_per_s: number;
  status_patches_per_s: number;
  /** Assignments per second were each one create and one status patch: what the operator and agents write at the least. */
  assignments_per_s: number;
}

/**
 * Plain NodeAssignment creates, then a status patch of each (the simulated agents' patch), with
 * WORKERS in flight. They carry no managed-by label and name no simulated node, so that neither
 * the operator nor the agents act on them.
 */
async function measureApiRate(client: KubeClient, round: string): Promise<ApiRate> {
  // With its defaults filled in, as the operator writes it.
  const template = templateSchema.parse(TEMPLATE);
  const made = Array.from({ length: API_RATE_WRITES }, (_, i): NodeAssignmentObject => ({
    apiVersion: API_VERSION,
    kind: 'NodeAssignment',
    metadata: { name: `plain-${round}-${i}`, namespace: API_RATE_NAMESPACE, labels: { 'bench.shopfloor.dev/plain': 'true' } },
    spec: { nodeName: 'no-such-node', workloadRef: { name: 'plain' }, revision: 'plain', template },
  }));
  let t = performance.now();
  await pool(made.length, WORKERS, (i) => whenAvailable(() => client.create(NODE_ASSIGNMENTS, made[i] as NodeAssignmentObject)));
  const createS = (performance.now() - t) / 1000;
  t = performance.now();
  await pool(made.length, WORKERS, async (i) => {
    const a = made[i] as NodeAssignmentObject;
    await whenAvailable(() => client.patchStatus(NODE_ASSIGNMENTS, a.metadata?.name ?? '', readyStatusPatch(a), { namespace: API_RATE_NAMESPACE }));
  });
  const patchS = (performance.now() - t) / 1000;
  return {
    creates_per_s: Math.round(API_RATE_WRITES / createS),
    status_patches_per_s: Math.round(API_RATE_WRITES / patchS),
    assignments_per_s: Math.round(API_RATE_WRITES / (createS + patchS)),
  };
}

/**
 * Runs a write of this benchmark again while the server answers 503 (its etcd too slow on a
 * loaded machine) or 429; a create that took before its answer was lost counts as done.
 */
async function whenAvailable(write: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (err) {
      if (isAlreadyExists(err) && attempt > 1) return;
      if (!(err instanceof KubeApiError && (err.code === 503 || err.code === 429)) || attempt === 10) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function meanRate(a: ApiRate, b: ApiRate): ApiRate {
  const m = (x: number, y: number) => Math.round((x + y) / 2);
  return { creates_per_s: m(a.creates_per_s, b.creates_per_s), status_patches_per_s: m(a.status_patches_per_s, b.status_patches_per_s), assignments_per_s: m(a.assignments_per_s, b.assignments_per_s) };
}

interface Profiles {
  /** Where the profile and snapshot go, and the file name they start with. */
  name: string;
  cpuProfDir: string | undefined;
  heapSnapshotDir: string | undefined;
}

interface StartedOperator {
  metricsUrl: string;
  /** Writes a heap snapshot into the --heap-snapshot directory; resolves once it is written. */
  heapSnapshot: () => Promise<void>;
  stop: () => Promise<void>;
}

/** Starts the compiled operator on `cluster`; resolves with its metrics URL once it is ready, and how to stop it. */
async function startOperator(entry: string, cluster: TestCluster, profiles: Profiles): Promise<StartedOperator> {
  const { name, cpuProfDir, heapSnapshotDir } = profiles;
  const profile = [
    ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `${name}.cpuprofile`] : []),
    ...(heapSnapshotDir ? ['--heapsnapshot-signal', 'SIGUSR2', '--diagnostic-dir', heapSnapshotDir] : []),
  ];
  const operator = spawn(
    process.execPath,
    [
      ...profile,
      // Without the floor: its cost is bench/floor's to measure (1.2 KB an assignment), and
      // these figures stay comparable with those measured before it existed.
      ...cliArgv(entry, ['operator', '--kubeconfig', cluster.kubeconfigPath, '--metrics-address', '127.0.0.1:0', '--floor-address', 'off', '--leader-elect', 'false', '--log-level', 'info', '--namespace', SYSTEM_NAMESPACE, '--workers', String(WORKERS)]),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  const exited = new Promise<void>((r) => operator.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    operator.kill('SIGTERM');
    await exited;
  };
  try {
    const metricsUrl = await new Promise<string>((res, rej) => {
      let buf = '';
      operator.stdout?.on('data', (c: Buffer) => {
        buf += c.toString();
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          try {
            const rec = JSON.parse(line) as { msg?: string; url?: string; level?: number };
            if (rec.msg === 'serving /metrics, /healthz, /readyz' && rec.url) res(rec.url);
            else if ((rec.level ?? 0) >= 50) console.error(line.length > 400 ? `${line.slice(0, 400)}…` : line);
          } catch {
            // not a log line
          }
        }
      });
      operator.once('exit', (code) => rej(new Error(`operator exited with ${code}`)));
    });
    while ((await fetch(`${metricsUrl}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
    const heapSnapshot = async (): Promise<void> => {
      if (!heapSnapshotDir) return;
      const before = new Set(readdirSync(heapSnapshotDir));
      operator.kill('SIGUSR2');
      // Node names the file itself; it is complete once its size stops changing.
      let last = -1;
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        const made = readdirSync(heapSnapshotDir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
        if (!made) continue;
        const size = statSync(resolve(heapSnapshotDir, made)).size;
        if (size > 0 && size === last) {
          renameSync(resolve(heapSnapshotDir, made), resolve(heapSnapshotDir, `${name}.heapsnapshot`));
          return;
        }
        last = size;
      }
    };
    return { metricsUrl, heapSnapshot, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

type Figures = Record<string, number | string>;

async function runSize(entry: string, size: Size, flags: Flags): Promise<Figures> {
  const label = `${size.workloads}x${size.nodes}`;
  console.log(`\n== ${size.workloads} workloads on ${size.nodes} nodes`);
  const cluster = await startTestCluster({ crds: true });
  const stopAll: Array<() => Promise<void>> = [() => cluster.stop()];
  try {
    const ns = [SYSTEM_NAMESPACE, NAMESPACE, API_RATE_NAMESPACE].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`).join('---\n');
    const made = await cluster.kubectl(['apply', '-f', '-'], { input: ns });
    if (made.code !== 0) throw new Error(`namespaces: ${made.stderr}`);
    const client = new KubeClient(cluster.kubeConfig, { timeoutMs: 120_000 });

    const sim = new SimulatedAgents({ client, namespace: SYSTEM_NAMESPACE, readyAfterMs: 50 });
    stopAll.unshift(() => sim.stop());
    const t0 = Date.now();
    await sim.add(Array.from({ length: size.nodes }, (_, i) => ({ name: `node-${String(i).padStart(3, '0')}`, labels: { group: `g${i % GROUPS}` }, cpu: '8', memory: '32Gi', pods: NODE_PODS })));
    console.log(`registered ${size.nodes} simulated nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const apiBefore = await measureApiRate(client, 'before');

    const operator = await startOperator(entry, cluster, { name: `operator-${label}`, cpuProfDir: flags.cpuProfDir, heapSnapshotDir: flags.heapSnapshotDir });
    stopAll.unshift(operator.stop);
    const scrape = async () => parseMetrics(await (await fetch(`${operator.metricsUrl}/metrics`)).text());
    let rssPeak = 0;
    const sampler = setInterval(() => {
      void scrape().then((m) => (rssPeak = Math.max(rssPeak, m('process_resident_memory_bytes'))), () => undefined);
    }, 1000);
    stopAll.unshift(async () => clearInterval(sampler));

    const workloads = plan(size);
    const expected = workloads.reduce((n, w) => n + w.replicas, 0);
    const want = new Map(workloads.map((w) => [w.name, w.replicas]));
    const watcher = new Informer<NodeWorkloadObject>({ client, resource: NODE_WORKLOADS, namespace: NAMESPACE });
    stopAll.unshift(() => watcher.stop());
    const done = new Set<string>();
    let convergedAt = 0;
    const converged = new Promise<void>((res) => {
      const check = (w: NodeWorkloadObject): void => {
        const name = w.metadata?.name ?? '';
        const ready = w.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
        if (ready && w.status?.observedGeneration === w.metadata?.generation && w.status?.availableReplicas === want.get(name)) done.add(name);
        else done.delete(name);
        if (done.size === workloads.length && !convergedAt) {
          convergedAt = Date.now();
          res();
        }
      };
      watcher.addEventHandler({ onAdd: check, onUpdate: (_o, w) => check(w) });
    });
    watcher.start();
    await watcher.waitForSync();

    const before = await scrape();
    const idleRssMb = before('process_resident_memory_bytes') / 2 ** 20;
    const writeMethods = (l: string) => /method="(POST|PUT|PATCH|DELETE)"/.test(l);
    const opWritesBefore = before('rest_client_requests_total', writeMethods);
    const simStatusBefore = sim.writes.assignmentStatus;

    console.log(`creating ${size.workloads} NodeWorkloads (${expected} assignments expected)…`);
    const start = Date.now();
    await pool(workloads.length, 16, async (i) => {
      const w = workloads[i] as Planned;
      await whenAvailable(() => client.create(NODE_WORKLOADS, { apiVersion: API_VERSION, kind: 'NodeWorkload', metadata: { name: w.name, namespace: NAMESPACE }, spec: w.spec } as NodeWorkloadObject));
    });
    console.log(`created in ${((Date.now() - start) / 1000).toFixed(1)} s; waiting for every workload to be Ready…`);
    const progress = setInterval(() => console.log(`  ${done.size}/${size.workloads} workloads ready after ${((Date.now() - start) / 1000).toFixed(0)} s`), 5000);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_r, rej) => (timer = setTimeout(() => rej(new Error(`${label}: not converged after ${CONVERGE_TIMEOUT_S} s: ${done.size}/${size.workloads} workloads ready`)), CONVERGE_TIMEOUT_S * 1000)));
    try {
      await Promise.race([converged, timeout]);
    } finally {
      clearInterval(progress);
      clearTimeout(timer);
    }
    const convergeS = (convergedAt - start) / 1000;

    // Let stragglers (the last status writes, events) land, then count.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await scrape();
    const apiAfter = await measureApiRate(client, 'after');
    const api = meanRate(apiBefore, apiAfter);
    const assignments = (await client.listAll(NODE_ASSIGNMENTS, { namespace: NAMESPACE })).items.length;
    const opWrites = after('rest_client_requests_total', writeMethods) - opWritesBefore;
    const opByMethod = ['POST', 'PATCH', 'PUT', 'DELETE'].map((m) => `${m} ${after('rest_client_requests_total', (l) => l.includes(`method="${m}"`)) - before('rest_client_requests_total', (l) => l.includes(`method="${m}"`))}`);
    const simWrites = sim.writes.assignmentStatus - simStatusBefore;
    const errors = after('controller_runtime_reconcile_errors_total');
    const reconciles = after('controller_runtime_reconcile_total');
    const rssMb = Math.max(rssPeak, after('process_resident_memory_bytes')) / 2 ** 20;
    // CPU time is what the operator spent, whatever else the machine was doing meanwhile.
    const cpuS = after('process_cpu_seconds_total') - before('process_cpu_seconds_total');
    const writesPerAssignment = (opWrites + simWrites) / assignments;
    const perSecond = assignments / convergeS;

    // Where a key's time goes: waiting in the work queue for a worker, then being reconciled.
    const mean = (name: string) => (after(`${name}_sum`) - before(`${name}_sum`)) / Math.max(1, after(`${name}_count`) - before(`${name}_count`));
    const queueWaitS = mean('workqueue_queue_duration_seconds');
    const reconcileS = mean('controller_runtime_reconcile_time_seconds');

    console.log(`API server:          ${api.creates_per_s} creates/s, ${api.status_patches_per_s} status patches/s of plain NodeAssignments (${WORKERS} in flight): ${api.assignments_per_s} assignments/s (${apiBefore.assignments_per_s} before, ${apiAfter.assignments_per_s} after)`);
    console.log(`converged:           ${convergeS.toFixed(1)} s for ${size.workloads} workloads, ${assignments} assignments (expected ${expected}) on ${size.nodes} nodes`);
    console.log(`assignments/s:       ${perSecond.toFixed(0)}, ${((100 * perSecond) / api.assignments_per_s).toFixed(0)}% of the API server's ${api.assignments_per_s} (goal ≥ 80%)`);
    console.log(`API writes:          ${opWrites} by the operator (${opByMethod.join(', ')}) + ${simWrites} assignment status writes by the simulated agents`);
    console.log(`writes/assignment:   ${writesPerAssignment.toFixed(2)} in all, ${(opWrites / assignments).toFixed(2)} by the operator (goal ≤ 1.2)`);
    console.log(`operator RSS peak:   ${rssMb.toFixed(0)} MB (goal ≤ 200); ${idleRssMb.toFixed(0)} MB idle before the workloads; after: heap used ${(after('nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(0)} MB of ${(after('nodejs_heap_size_total_bytes') / 2 ** 20).toFixed(0)} MB, external ${(after('nodejs_external_memory_bytes') / 2 ** 20).toFixed(0)} MB`);
    console.log(`reconciles:          ${reconciles}, errors ${errors}; ${(reconcileS * 1000).toFixed(1)} ms each on average, after ${(queueWaitS * 1000).toFixed(0)} ms in the work queue`);
    console.log(`operator CPU:        ${cpuS.toFixed(1)} s (${((cpuS * 1000) / assignments).toFixed(2)} ms per assignment)`);
    const figures: Figures = {
      size: label,
      converge_s: Number(convergeS.toFixed(2)),
      assignments_per_s: Math.round(perSecond),
      api_assignments_per_s: api.assignments_per_s,
      api_creates_per_s: api.creates_per_s,
      api_status_patches_per_s: api.status_patches_per_s,
      share_of_api_rate: Number((perSecond / api.assignments_per_s).toFixed(3)),
      writes_per_assignment: Number(writesPerAssignment.toFixed(3)),
      operator_writes_per_assignment: Number((opWrites / assignments).toFixed(3)),
      rss_mb: Number(rssMb.toFixed(1)),
      reconcile_ms: Number((reconcileS * 1000).toFixed(1)),
      queue_wait_ms: Math.round(queueWaitS * 1000),
      operator_cpu_s: Number(cpuS.toFixed(2)),
      errors,
      assignments,
      workloads: size.workloads,
      nodes: size.nodes,
    };
    console.log(JSON.stringify(figures));
    // After the figures: writing a snapshot takes about as much memory again as the heap.
    if (flags.heapSnapshotDir) {
      await operator.heapSnapshot();
      console.log(`heap snapshot:       ${resolve(flags.heapSnapshotDir, `operator-${label}.heapsnapshot`)}`);
    }
    return figures;
  } finally {
    for (const stop of stopAll) await stop().catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
  }
}

async function main(): Promise<void> {
  const flags = readFlags(process.argv.slice(2));
  for (const dir of [flags.cpuProfDir, flags.heapSnapshotDir]) if (dir) mkdirSync(dir, { recursive: true });
  const t = Date.now();
  const entry = buildCli('shopfloor-bench-dist');
  console.log(`compiled the operator in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const all: Figures = {};
  for (const size of flags.sizes) {
    const figures = await runSize(entry, size, flags);
    for (const [name, value] of Object.entries(figures)) if (name !== 'size') all[`${name}_${figures.size}`] = value;
  }
  // The benchmark's last line (scripts/bench.sh): every size's figures, named with the size.
  console.log('');
  console.log(JSON.stringify(all));
}

await main();
