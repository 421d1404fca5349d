// The operator process: caches of workloads, assignments, NodeAgents and node Leases; the
// NodeWorkload controller on top of them, run only by the leader; and the metrics/health server.
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { BY_WORKLOAD, DEFAULT_SYSTEM_NAMESPACE, LABEL_MANAGED_BY, LABEL_NODE, MANAGED_BY_VALUE, workloadIndex, workloadKeyOf } from '../api/index.js';
import { KubeClient } from '../kube/client.js';
import { Controller } from '../kube/controller.js';
import type { KubeConfig } from '../kube/credentials.js';
import { EventRecorder } from '../kube/events.js';
import { parseListenAddress, startHealthServer, syncedCheck, type HealthServer } from '../kube/health-server.js';
import { Informer } from '../kube/informer.js';
import { LeaderElector, type Lease } from '../kube/leader-election.js';
import { silentLogger, type Logger } from '../kube/logger.js';
import { createProcessRegistry } from '../kube/metrics.js';
import { LEASES, NODE_AGENTS, NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import { labelIndex } from '../kube/store.js';
import { stripUnreadMetadata } from '../kube/strip-metadata.js';
import { objectKey, type KubeObject } from '../kube/types.js';
import { DEFAULT_NODE_LOSS_GRACE_MS } from './liveness.js';
import { NodeMonitor, type NodeAgentObject } from './node-monitor.js';
import { PendingWrites } from './pending-writes.js';
import { UsageLedger } from './usage-ledger.js';
import { DEFAULT_VIP_CIDR, VipAllocator } from './vip-allocator.js';
import {
  BY_NODE,
  WorkloadReconciler,
  assignmentRequests,
  type NodeAssignmentObject,
  type NodeWorkloadObject,
} from './workload-controller.js';

export { DEFAULT_VIP_CIDR } from './vip-allocator.js';
export { DEFAULT_NODE_LOSS_GRACE_MS } from './liveness.js';

/** Name of the leader-election Lease in the system namespace. */
export const LEADER_LEASE_NAME = 'shopfloor-operator';
/** Default address of /metrics, /healthz and /readyz. */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:8080';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** Where agents keep their Leases and the operator its leader Lease. Default shopfloor-system. */
  namespace?: string;
  /** Range service VIPs come from. Default 10.250.0.0/16. */
  vipCidr?: string;
  /** Campaign for the leader Lease before acting. Default true. */
  leaderElect?: boolean;
  /** host:port of the metrics/health server (port 0: any free port); false for none. */
  metricsAddress?: string | false;
  logger?: Logger;
  registry?: Registry;
  /** How long a node may be gone before Replicas workloads get replacements. Default 60 s. */
  nodeLossGraceMs?: number;
  /** Concurrent reconciles. Default 4. */
  workers?: number;
  /** This replica's leader-election identity. Default `<hostname>_<uuid>`. */
  identity?: string;
  /** Leader-election timing; defaults 15 s / 10 s / 2 s. */
  leaderElection?: { leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
}

export interface RunningOperator {
  /** `http://host:port` of /metrics, /healthz and /readyz, when served. */
  readonly metricsUrl: string | undefined;
  /** Resolves if this replica led and lost the lease: it has stopped acting; exit non-zero. */
  readonly lost: Promise<void>;
  isLeader(): boolean;
  /** Stops everything (releasing the leader Lease) and resolves when done. */
  stop(): Promise<void>;
}

/** Milliseconds that assignment changes of one workload are gathered before it is reconciled. */
const ASSIGNMENT_BATCH_MS = 1_000;
/** Milliseconds that node changes are gathered before the workloads they affect are reconciled. */
const NODE_BATCH_MS = 500;

function isEveryNode(wl: NodeWorkloadObject): boolean {
  const spec = wl.spec as { placement?: { mode?: unknown } } | undefined;
  return spec?.placement?.mode === 'EveryNode';
}

/** Changes to a workload that a reconcile must see; its own status writes are not among them. */
function specChanged(a: KubeObject, b: KubeObject): boolean {
  const ma = a.metadata ?? {};
  const mb = b.metadata ?? {};
  return (
    ma.generation !== mb.generation ||
    ma.uid !== mb.uid ||
    ma.deletionTimestamp !== mb.deletionTimestamp ||
    (ma.finalizers ?? []).join() !== (mb.finalizers ?? []).join()
  );
}

export async function runOperator(options: OperatorOptions): Promise<RunningOperator> {
  const logger = options.logger ?? silentLogger();
  const registry = options.registry ?? createProcessRegistry();
  const namespace = options.namespace ?? DEFAULT_SYSTEM_NAMESPACE;
  const vips = new VipAllocator(options.vipCidr ?? DEFAULT_VIP_CIDR);
  const metricsAddress = options.metricsAddress === undefined ? DEFAULT_METRICS_ADDRESS : options.metricsAddress;
  const address = metricsAddress === false ? undefined : parseListenAddress(metricsAddress, DEFAULT_METRICS_ADDRESS);
  const client = new KubeClient(options.kubeConfig, { registry, userAgent: 'shopfloor-operator' });
  // The caches hold every object for the process's lifetime; the server's bookkeeping (about
  // half of each object) is dropped before caching. The operator only patches, never PUTs them.
  const common = { client, registry, logger, metricsPrefix: 'shopfloor_operator', transform: stripUnreadMetadata };

  const workloads = new Informer<NodeWorkloadObject>({ ...common, resource: NODE_WORKLOADS });
  const assignments = new Informer<NodeAssignmentObject>({
    ...common,
    resource: NODE_ASSIGNMENTS,
    labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`,
    indexers: { [BY_WORKLOAD]: workloadIndex, [BY_NODE]: labelIndex(LABEL_NODE) },
  });
  const agents = new Informer<NodeAgentObject>({ ...common, resource: NODE_AGENTS });
  const leases = new Informer<Lease>({ ...common, resource: LEASES, namespace });
  const informers = [workloads, assignments, agents, leases];

  const ledger = new UsageLedger();
  const pending = new PendingWrites<NodeAssignmentObject>();
  const identity = options.identity ?? `${hostname()}_${process.pid}_${Math.random().toString(16).slice(2, 8)}`;
  const events = new EventRecorder({ client, component: 'shopfloor-operator', instance: identity, registry, logger });

  const controller = new Controller({
    name: 'nodeworkload',
    workers: options.workers ?? 4,
    registry,
    logger,
    reconcile: async (key, signal) => {
      // Every write of every worker listens on this one signal; dozens at once are expected.
      setMaxListeners(0, signal);
      await reconciler.reconcile(key, signal);
    },
  });
  const queue = controller.queue;
  const nodes = new NodeMonitor({
    agents,
    leases,
    nodeLossGraceMs: options.nodeLossGraceMs ?? DEFAULT_NODE_LOSS_GRACE_MS,
    onNodeChange: (node) => {
      const keys = new Set<string>(reconciler.blocked);
      for (const a of assignments.byIndex(BY_NODE, node)) {
        const k = workloadKeyOf(a);
        if (k) keys.add(k);
      }
      for (const wl of workloads.list()) if (isEveryNode(wl)) keys.add(objectKey(wl));
      for (const k of keys) queue.addAfter(k, NODE_BATCH_MS);
    },
  });
  // Closures above use it only once informers deliver events, after this line.
  const reconciler = new WorkloadReconciler({
    client,
    workloads,
    assignments,
    nodes,
    vips,
    ledger,
    pending,
    events,
    logger,
    now: () => Date.now(),
    requeue: (key) => queue.add(key),
  });
  const blocked = reconciler.blocked;

  workloads.addEventHandler({
    onAdd: (wl) => queue.add(objectKey(wl)),
    onUpdate: (old, wl) => {
      if (specChanged(old, wl)) queue.add(objectKey(wl));
    },
    onDelete: (wl) => queue.add(objectKey(wl)),
  });
  const assignmentSeen = (a: NodeAssignmentObject): void => {
    const key = objectKey(a);
    ledger.set(key, a.spec?.nodeName ?? '', assignmentRequests(a));
    pending.observedPresent(key);
    const owner = workloadKeyOf(a);
    if (owner) queue.addAfter(owner, ASSIGNMENT_BATCH_MS);
  };
  assignments.addEventHandler({
    onAdd: assignmentSeen,
    onUpdate: (_old, a) => assignmentSeen(a),
    onDelete: (a) => {
      const key = objectKey(a);
      ledger.remove(key);
      pending.observedGone(key);
      const owner = workloadKeyOf(a);
      if (owner) queue.addAfter(owner, ASSIGNMENT_BATCH_MS);
      // Freed capacity may let a stuck workload place its replicas.
      for (const k of blocked) queue.addAfter(k, ASSIGNMENT_BATCH_MS);
    },
  });

  // The server first: should its address be taken, nothing else has started yet.
  let server: HealthServer | undefined;
  if (address) {
    server = await startHealthServer({
      registry,
      host: address.host,
      port: address.port,
      readiness: {
        nodeworkloads: syncedCheck('nodeworkloads', workloads),
        nodeassignments: syncedCheck('nodeassignments', assignments),
        nodeagents: syncedCheck('nodeagents', agents),
        leases: syncedCheck('leases', leases),
      },
    });
    logger.info({ url: server.url }, 'serving /metrics, /healthz, /readyz');
  }
  for (const i of informers) i.start();

  /** Starts reconciling once the caches are complete; stops the moment `signal` aborts. */
  const lead = async (signal: AbortSignal): Promise<void> => {
    signal.addEventListener('abort', () => void controller.stop(), { once: true });
    for (const i of informers) if (!(await i.waitForSync(signal))) return;
    if (signal.aborted) return;
    // The VIP table is rebuilt from what earlier leaders wrote, oldest workload first, so that
    // a clash (which only hand edits can cause) keeps the address with its first owner.
    const byAge = workloads.list().sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || objectKey(a).localeCompare(objectKey(b)));
    for (const wl of byAge) {
      const ip = wl.status?.clusterIP;
      if (ip && !vips.restore(objectKey(wl), ip)) logger.warn({ namespace: wl.metadata?.namespace, name: wl.metadata?.name, clusterIP: ip }, 'status.clusterIP is outside the VIP range or held by another workload; a new address will be allocated');
    }
    logger.info({ workloads: byAge.length, vips: vips.allocated, vipCidr: vips.cidr.text }, 'caches synced; reconciling');
    for (const wl of byAge) queue.add(objectKey(wl));
    // Assignments whose workload is gone are cleaned up by reconciling the missing key.
    for (const owner of assignments.store.indexValues(BY_WORKLOAD)) queue.add(owner);
    await controller.run();
  };

  let elector: LeaderElector | undefined;
  let resolveLost: () => void = () => {};
  const lost = new Promise<void>((resolve) => (resolveLost = resolve));
  let leading = false;
  const standalone = new AbortController();
  let electing: Promise<unknown> | undefined;
  if (options.leaderElect ?? true) {
    elector = new LeaderElector({
      client,
      namespace,
      name: LEADER_LEASE_NAME,
      identity,
      registry,
      logger,
      ...options.leaderElection,
    });
    electing = elector
      .run({
        onStartedLeading: (signal) => {
          leading = true;
          signal.addEventListener('abort', () => (leading = false), { once: true });
          lead(signal).catch((err: unknown) => logger.error({ err }, 'operator stopped with an error'));
        },
      })
      .then((end) => {
        if (end === 'lost') resolveLost();
      });
  } else {
    leading = true;
    electing = lead(standalone.signal).catch((err: unknown) => logger.error({ err }, 'operator stopped with an error'));
  }

  let stopping: Promise<void> | undefined;
  return {
    metricsUrl: server?.url,
    lost,
    isLeader: () => leading,
    stop: () =>
      (stopping ??= (async () => {
        elector?.stop();
        standalone.abort();
        await controller.stop();
        await electing;
        nodes.stop();
        await Promise.all(informers.map((i) => i.stop()));
        await events.flush();
        await server?.close();
        client.close();
      })()),
  };
}
