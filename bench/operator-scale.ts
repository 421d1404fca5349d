// Operator at scale: 100 simulated nodes (simulated agents register, renew Leases and report
// replicas ready; no containers run) and 1,000 NodeWorkloads of mixed modes (3,000+
// assignments). The devcluster and the operator run as their own processes; the operator runs
// compiled, as its container image runs it (built here into node_modules/.cache so that dist/
// is left alone); this process plays the nodes and the user. Measures time to converge, API
// writes per converged assignment, the operator's RSS and its reconcile errors.
//
//   npm run bench -- operator-scale [--nodes 100] [--workloads 1000]
import { execFileSync, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { API_VERSION } from '../api/index.js';
import { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import type { NodeWorkloadObject } from '../operator/objects.js';
import { startTestCluster } from '../test/harness/test-cluster.js';
import { SimulatedAgents } from '../test/sim/simulated-agents.js';

const GROUPS = 10;

/** The size of the run: the full one by default, smaller ones while developing. */
function readFlags(argv: string[]): { nodes: number; workloads: number } {
  const { values } = parseArgs({ args: argv, options: { nodes: { type: 'string', default: '100' }, workloads: { type: 'string', default: '1000' } } });
  const nodes = Number(values.nodes);
  const workloads = Number(values.workloads);
  // EveryNode workloads each select one of GROUPS equal groups of nodes.
  if (!Number.isInteger(nodes) || nodes < GROUPS || nodes > 1000 || nodes % GROUPS !== 0) throw new Error(`--nodes "${values.nodes}" must be a multiple of ${GROUPS} from ${GROUPS} to 1000`);
  if (!Number.isInteger(workloads) || workloads < 1 || workloads > 10_000) throw new Error(`--workloads "${values.workloads}" must be a whole number from 1 to 10000`);
  return { nodes, workloads };
}
const { nodes: NODES, workloads: WORKLOADS } = readFlags(process.argv.slice(2));
const NAMESPACE = 'bench';
const SYSTEM_NAMESPACE = 'shopfloor-system';
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = resolve(repoRoot, 'node_modules', '.cache', 'shopfloor-bench-dist');

/** Compiles the sources the way `npm run build` does, into a directory of the benchmark's own. */
function build(): string {
  const t = Date.now();
  execFileSync(process.execPath, [resolve(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', buildDir], { cwd: repoRoot, stdio: 'inherit' });
  console.log(`compiled the operator in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  return resolve(buildDir, 'cli', 'main.js');
}

interface Planned {
  name: string;
  spec: Record<string, unknown>;
  replicas: number;
}

/** 85% Replicas (1–5), 10% EveryNode on a tenth of the nodes, 5% Replicas with a service VIP. */
function plan(): Planned[] {
  const out: Planned[] = [];
  const template = { containers: [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] };
  for (let i = 0; i < WORKLOADS; i++) {
    const name = `wl-${i}`;
    if (i % 20 === 0) {
      out.push({ name, replicas: 2, spec: { placement: { mode: 'Replicas', replicas: 2 }, template, service: { ports: [{ port: 80 }] } } });
    } else if (i % 10 === 5) {
      out.push({ name, replicas: NODES / GROUPS, spec: { placement: { mode: 'EveryNode', nodeSelector: { group: `g${i % GROUPS}` } }, template } });
    } else {
      const replicas = (i % 5) + 1;
      out.push({ name, replicas, spec: { placement: { mode: 'Replicas', replicas }, template } });
    }
  }
  return out;
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
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

async function main(): Promise<void> {
  const entry = build();
  const cluster = await startTestCluster({ crds: true });
  const stopAll: Array<() => Promise<void>> = [() => cluster.stop()];
  try {
    const ns = [SYSTEM_NAMESPACE, NAMESPACE].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`).join('---\n');
    const made = await cluster.kubectl(['apply', '-f', '-'], { input: ns });
    if (made.code !== 0) throw new Error(`namespaces: ${made.stderr}`);
    const client = new KubeClient(cluster.kubeConfig, { timeoutMs: 120_000 });

    const sim = new SimulatedAgents({ client, namespace: SYSTEM_NAMESPACE, readyAfterMs: 50 });
    stopAll.unshift(() => sim.stop());
    const t0 = Date.now();
    await sim.add(Array.from({ length: NODES }, (_, i) => ({ name: `node-${String(i).padStart(3, '0')}`, labels: { group: `g${i % GROUPS}` }, cpu: '8', memory: '32Gi', pods: 110 })));
    console.log(`registered ${NODES} simulated nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const operator = spawn(
      process.execPath,
      ['--input-type=module', '-e', `import { run } from ${JSON.stringify(entry)}; process.exitCode = await run(process.argv.slice(1));`,
        'operator', '--kubeconfig', cluster.kubeconfigPath, '--metrics-address', '127.0.0.1:0', '--leader-elect', 'false', '--log-level', 'info', '--namespace', SYSTEM_NAMESPACE],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    const exited = new Promise<void>((r) => operator.once('exit', () => r()));
    stopAll.unshift(async () => {
      operator.kill('SIGTERM');
      await exited;
    });
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
            else if ((rec.level ?? 0) >= 50) console.error(line);
          } catch {
            // not a log line
          }
        }
      });
      operator.once('exit', (code) => rej(new Error(`operator exited with ${code}`)));
    });
    for (;;) {
      if ((await fetch(`${metricsUrl}/readyz`)).status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const scrape = async () => parseMetrics(await (await fetch(`${metricsUrl}/metrics`)).text());
    let rssPeak = 0;
    const sampler = setInterval(() => {
      void scrape().then((m) => (rssPeak = Math.max(rssPeak, m('process_resident_memory_bytes'))), () => undefined);
    }, 500);
    stopAll.unshift(async () => clearInterval(sampler));

    const workloads = plan();
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

    console.log(`creating ${WORKLOADS} NodeWorkloads (${expected} assignments expected)…`);
    const start = Date.now();
    await pool(workloads, 16, async (w) => {
      await client.create(NODE_WORKLOADS, { apiVersion: API_VERSION, kind: 'NodeWorkload', metadata: { name: w.name, namespace: NAMESPACE }, spec: w.spec } as NodeWorkloadObject);
    });
    console.log(`created in ${((Date.now() - start) / 1000).toFixed(1)} s; waiting for every workload to be Ready…`);
    const progress = setInterval(() => console.log(`  ${done.size}/${WORKLOADS} workloads ready after ${((Date.now() - start) / 1000).toFixed(0)} s`), 5000);
    const timeout = new Promise<never>((_r, rej) => setTimeout(() => rej(new Error(`not converged after 300 s: ${done.size}/${WORKLOADS} workloads ready`)), 300_000).unref());
    try {
      await Promise.race([converged, timeout]);
    } finally {
      clearInterval(progress);
    }
    const convergeS = (convergedAt - start) / 1000;

    // Let stragglers (the last status writes, events) land, then count.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await scrape();
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

    console.log('');
    console.log(`converged:           ${convergeS.toFixed(1)} s for ${WORKLOADS} workloads, ${assignments} assignments (expected ${expected}) on ${NODES} nodes`);
    console.log(`API writes:          ${opWrites} by the operator (${opByMethod.join(', ')}) + ${simWrites} assignment status writes by the simulated agents`);
    console.log(`writes/assignment:   ${writesPerAssignment.toFixed(2)} in all, ${(opWrites / assignments).toFixed(2)} by the operator (goal ≤ 3)`);
    console.log(`operator RSS peak:   ${rssMb.toFixed(0)} MB (goal ≤ 250); ${idleRssMb.toFixed(0)} MB idle before the workloads; after: heap used ${(after('nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(0)} MB of ${(after('nodejs_heap_size_total_bytes') / 2 ** 20).toFixed(0)} MB, external ${(after('nodejs_external_memory_bytes') / 2 ** 20).toFixed(0)} MB`);
    console.log(`reconciles:          ${reconciles}, errors ${errors}`);
    console.log(`operator CPU:        ${cpuS.toFixed(1)} s (${((cpuS * 1000) / assignments).toFixed(2)} ms per assignment)`);
    console.log(
      JSON.stringify({
        converge_s: Number(convergeS.toFixed(2)),
        writes_per_assignment: Number(writesPerAssignment.toFixed(3)),
        operator_writes_per_assignment: Number((opWrites / assignments).toFixed(3)),
        rss_mb: Number(rssMb.toFixed(1)),
        operator_cpu_s: Number(cpuS.toFixed(2)),
        errors,
        assignments,
        workloads: WORKLOADS,
        nodes: NODES,
      }),
    );
  } finally {
    for (const stop of stopAll) await stop().catch((err: unknown) => console.error(`cleanup: ${String(err)}`));
  }
}

await main();
