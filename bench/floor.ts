// The floor at scale: the operator's floor feed and server over caches of N assignments (100
// nodes, four replicas a workload), in this process. The caches are fakes, in-memory stores fed by
// hand (the floor reads only the operator's caches, never the API server, so what is measured is
// the floor's own work); the server and its event streams are real HTTP on loopback. Per size:
// the first build of every item, one replica's status change built and sent (the work a change
// costs, which must not grow with the floor), the snapshot's size and the feed's own heap per
// assignment (beyond the caches it reads). Then, at the largest size, the operator's heap with 0 and with PAGES open pages after
// the same burst of changes: what a page costs the operator. Last, the whole path on a real
// devcluster: a replica's status written to the API (as its agent writes it; simulated agents
// stand in for the nodes) until the change reaches an open page, LATENCY_SAMPLES times.
//
//   npm run bench -- floor [--sizes 1000,5000,20000] [--pages 50]
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { BY_WORKLOAD, LABEL_NODE, LABEL_WORKLOAD, workloadIndex } from '../api/index.js';
import type { Lease } from '../kube/leader-election.js';
import { silentLogger } from '../kube/logger.js';
import { labelIndex, Store } from '../kube/store.js';
import type { ResourceEventHandler } from '../kube/types.js';
import { FloorFeed, type IndexedCache } from '../operator/floor/floor-feed.js';
import { FloorServer } from '../operator/floor/floor-server.js';
import type { NodeAgentObject } from '../operator/node-monitor.js';
import { BY_NODE, type NodeAssignmentObject, type NodeWorkloadObject } from '../operator/objects.js';
import type { PlanNode } from '../operator/plan.js';
import { median } from './median.js';
import { KubeClient } from '../kube/client.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS, NAMESPACES } from '../kube/resource.js';
import { runOperator } from '../operator/index.js';
import { FloorStream } from '../test/harness/floor-stream.js';
import { startTestCluster } from '../test/harness/test-cluster.js';
import { SimulatedAgents } from '../test/sim/simulated-agents.js';

const NODES = 100;
const PER_WORKLOAD = 4;
const CHANGES = 200;
const LATENCY_SAMPLES = 50;
const TEMPLATE = { containers: [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] };

/** Fake of an informer's cache: a store fed by hand, calling the handlers an informer would. */
class MemoryCache<T extends { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }> implements IndexedCache<T> {
  private readonly store: Store<T>;
  private readonly handlers: ResourceEventHandler<T>[] = [];
  private version = 0;

  constructor(indexers: ConstructorParameters<typeof Store<T>>[0] = {}) {
    this.store = new Store<T>(indexers);
  }
  addEventHandler(h: ResourceEventHandler<T>): void {
    this.handlers.push(h);
  }
  get(key: string): T | undefined {
    return this.store.get(key);
  }
  list(): T[] {
    return this.store.list();
  }
  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }
  async waitForSync(): Promise<boolean> {
    return true;
  }
  put(obj: T): void {
    const versioned = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.version) } };
    const change = this.store.upsert(versioned);
    for (const h of this.handlers) {
      if (change?.type === 'add') h.onAdd?.(change.obj);
      else if (change?.type === 'update') h.onUpdate?.(change.oldObj, change.obj);
    }
  }
}

function assignment(w: number, r: number, ready: boolean): NodeAssignmentObject {
  const node = `n${(w * PER_WORKLOAD + r) % NODES}`;
  return {
    metadata: { namespace: 'bench', name: `w${w}-r${r}`, creationTimestamp: '2026-12-01T00:00:00Z', labels: { [LABEL_WORKLOAD]: `w${w}`, [LABEL_NODE]: node } },
    spec: { nodeName: node, workloadRef: { name: `w${w}` }, revision: 'r1', template: TEMPLATE },
    status: { phase: 'Running', ready, restartCount: 0, podIP: `10.244.${w % 250}.${r + 2}` },
  } as unknown as NodeAssignmentObject;
}

interface Floor {
  feed: FloorFeed;
  assignments: MemoryCache<NodeAssignmentObject>;
}

async function floorOf(assignmentCount: number): Promise<Floor> {
  const workloads = new MemoryCache<NodeWorkloadObject>();
  const assignments = new MemoryCache<NodeAssignmentObject>({ [BY_WORKLOAD]: workloadIndex, [BY_NODE]: labelIndex(LABEL_NODE) });
  const agents = new MemoryCache<NodeAgentObject>();
  const leases = new MemoryCache<Lease>();
  const planNodes: PlanNode[] = [];
  for (let n = 0; n < NODES; n++) {
    agents.put({ metadata: { name: `n${n}` }, status: { allocatable: { cpu: '64', memory: '256Gi', pods: 1000 }, conditions: [{ type: 'Ready', status: 'True', reason: 'AgentReady', message: 'runtime answers', lastTransitionTime: '2026-12-01T00:00:00Z' }] } });
    leases.put({ metadata: { name: `n${n}`, namespace: 'shopfloor-system' }, spec: { renewTime: '2026-12-01T00:00:00.000000Z', leaseDurationSeconds: 40 } });
    planNodes.push({ name: `n${n}`, labels: {}, allocatable: { cpuMillis: 64_000, memoryBytes: 256 * 2 ** 30, pods: 1000 }, unschedulable: false, live: true, health: 'Live' });
  }
  const count = assignmentCount / PER_WORKLOAD;
  for (let w = 0; w < count; w++) {
    workloads.put({ apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { namespace: 'bench', name: `w${w}`, generation: 1 }, spec: { placement: { replicas: PER_WORKLOAD }, template: TEMPLATE, ...(w % 2 ? { service: { ports: [{ port: 80 }] } } : {}) }, status: { desiredReplicas: PER_WORKLOAD, clusterIP: `10.250.${w >> 8}.${w & 255}` } });
    for (let r = 0; r < PER_WORKLOAD; r++) assignments.put(assignment(w, r, true));
  }
  const nodes = { addEventHandler: () => {}, waitForSync: async () => true, verdict: () => ({ health: 'Live' as const, changesAt: Date.now() + 40_000 }), nodes: () => planNodes };
  // The batch timer never fires here: every flush below is called by hand, and timed.
  const feed = new FloorFeed({ workloads, assignments, agents, leases, namespace: 'shopfloor-system', nodes, nodeLossGraceMs: 60_000, batchMs: 3_600_000 });
  return { feed, assignments };
}

function heapMb(): number {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** Flips one replica's readiness and times the build and send of that change. */
function timeChanges(f: Floor, workloadCount: number): number {
  const times: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const w = (i * 7919) % workloadCount;
    f.assignments.put(assignment(w, i % PER_WORKLOAD, i % 2 === 1));
    const t0 = performance.now();
    f.feed.flush();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Opens a page's event stream and reads it until closed; resolves once the snapshot arrived. */
function openPage(port: number): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/floor/events' }, (res) => {
      res.once('data', () => resolve(() => req.destroy()));
      res.resume();
    });
    req.on('error', reject);
    req.end();
  });
}

/** Milliseconds from a status write's answer to the page holding it, per sample. */
async function apiToPage(): Promise<number[]> {
  const cluster = await startTestCluster({ crds: true });
  const client = new KubeClient(cluster.kubeConfig);
  const sim = new SimulatedAgents({ client, namespace: 'shopfloor-system', readyAfterMs: 0 });
  let op: Awaited<ReturnType<typeof runOperator>> | undefined;
  let page: FloorStream | undefined;
  try {
    for (const name of ['shopfloor-system', 'bench']) await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    await sim.add(Array.from({ length: 10 }, (_, i) => ({ name: `n${i}` })));
    op = await runOperator({ kubeConfig: cluster.kubeConfig, leaderElect: false, metricsAddress: false, floorAddress: '127.0.0.1:0', logger: silentLogger() });
    let waiting: { key: string; restarts: number; done: () => void } | undefined;
    page = new FloorStream(new URL('/floor/events', op.floorUrl), undefined, () => {
      const row = waiting && page!.items.get(`assignment ${waiting.key}`);
      if (row?.kind === 'assignment' && row.restarts === waiting!.restarts) waiting!.done();
    });
    await client.create(NODE_WORKLOADS, { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { namespace: 'bench', name: 'web' }, spec: { placement: { replicas: 10 }, template: TEMPLATE } }, { namespace: 'bench' });
    const rows = (): string[] => page!.of('assignment').filter((r) => r.ready).map((r) => r.key);
    while (rows().length < 10) await new Promise((r) => setTimeout(r, 50));
    const keys = rows();
    const samples: number[] = [];
    for (let i = 1; i <= LATENCY_SAMPLES; i++) {
      const key = keys[i % keys.length]!;
      const [namespace, name] = key.split('/') as [string, string];
      const shown = new Promise<void>((done) => (waiting = { key, restarts: i, done }));
      await client.patchStatus(NODE_ASSIGNMENTS, name, { status: { restartCount: i } }, { namespace });
      const t0 = performance.now();
      await shown;
      samples.push(performance.now() - t0);
    }
    return samples;
  } finally {
    page?.stop();
    await op?.stop();
    await sim.stop();
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '1000,5000,20000' }, pages: { type: 'string', default: '50' } } });
  const sizes = values.sizes.split(',').map(Number);
  const pages = Number(values.pages);
  if (sizes.some((s) => !Number.isInteger(s) || s < PER_WORKLOAD) || !Number.isInteger(pages) || pages < 1) throw new Error('--sizes takes assignment counts such as 1000,5000,20000; --pages a count such as 50');
  if (!globalThis.gc) console.log('(run with node --expose-gc for steadier heap figures: NODE_OPTIONS=--expose-gc)');

  const rows: Record<string, number>[] = [];
  let last: Floor | undefined;
  for (const size of sizes) {
    const t0 = performance.now();
    const floor = await floorOf(size);
    const made = performance.now();
    // The feed's own memory: its items, indexes and times, beyond the caches it reads.
    const before = heapMb();
    await floor.feed.start();
    const buildMs = performance.now() - made;
    const heapPerAssignment = ((heapMb() - before) * 2 ** 20) / size;
    const changeMs = timeChanges(floor, size / PER_WORKLOAD);
    const snapshotBytes = Buffer.byteLength(floor.feed.snapshotJson());
    rows.push({ assignments: size, build_ms: Math.round(buildMs), change_ms: Number(changeMs.toFixed(3)), snapshot_kb: Math.round(snapshotBytes / 1024), feed_heap_bytes_per_assignment: Math.round(heapPerAssignment), setup_ms: Math.round(made - t0) });
    console.log(JSON.stringify(rows.at(-1)));
    await floor.feed.stop();
    last = floor;
  }
  const largest = sizes.at(-1)!;

  // What pages cost: the same burst sent to none and to `pages` open streams.
  const floor = last!;
  await floor.feed.start();
  const server = new FloorServer({ host: '127.0.0.1', port: 0, feed: floor.feed, logger: silentLogger() });
  await server.start();
  const port = Number(new URL(server.url!).port);
  const burst = (): void => {
    timeChanges(floor, largest / PER_WORKLOAD);
  };
  burst();
  const alone = heapMb();
  const closers = [];
  for (let i = 0; i < pages; i++) closers.push(await openPage(port));
  burst();
  await new Promise((r) => setTimeout(r, 500));
  const withPages = heapMb();
  for (const close of closers) close();
  await server.stop();
  await floor.feed.stop();

  const perPageKb = ((withPages - alone) * 1024) / pages;
  const latency = (await apiToPage()).sort((a, b) => a - b);
  const p = (q: number): number => Number(latency[Math.min(latency.length - 1, Math.floor(q * latency.length))]!.toFixed(1));
  console.log(`a replica's status written to the API reaches an open page in ${p(0.5)} ms (p50), ${p(0.99)} ms (p99) over ${latency.length} writes`);
  const changeGrowth = rows.at(-1)!.change_ms! / rows[0]!.change_ms!;
  console.log(`one change at ${largest} assignments costs ${changeGrowth.toFixed(2)}× what it costs at ${sizes[0]}; ${pages} open pages add ${perPageKb.toFixed(0)} KiB each to the heap`);
  console.log(JSON.stringify({ sizes: rows, change_growth: Number(changeGrowth.toFixed(2)), pages, heap_mb_without_pages: Number(alone.toFixed(1)), heap_mb_with_pages: Number(withPages.toFixed(1)), heap_kib_per_page: Math.round(perPageKb), api_to_page_p50_ms: p(0.5), api_to_page_p99_ms: p(0.99) }));
}

await main();
