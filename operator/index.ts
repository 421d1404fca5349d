// The operator process, composed of parts (kube/part.ts) started in order and stopped in
// reverse: the caches of workloads, assignments, NodeAgents and node Leases; the node monitor on
// top of them; the event recorder; and the leader election, which runs the NodeWorkload
// controller (and, when it has a cluster pod range, the nodes' pod range allocation) only while
// this replica leads; and the floor (floor/), a read-only page of every node fed by those caches,
// served by every replica, leader or not. Around them, the metrics/health server.
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { BY_WORKLOAD, DEFAULT_SYSTEM_NAMESPACE, LABEL_MANAGED_BY, LABEL_NODE, MANAGED_BY_VALUE, workloadIndex } from '../api/index.js';
import { KubeClient } from '../kube/client.js';
import type { Clock } from '../kube/clock.js';
import type { KubeConfig } from '../kube/credentials.js';
import { EventRecorder } from '../kube/events.js';
import { parseListenAddress, startHealthServer, syncedCheck, type Check, type HealthServer } from '../kube/health-server.js';
import { Informer } from '../kube/informer.js';
import { LeaderElector, type Lease } from '../kube/leader-election.js';
import { Leadership } from '../kube/leadership.js';
import { silentLogger, type Logger } from '../kube/logger.js';
import { createProcessRegistry } from '../kube/metrics.js';
import { cachesPart, startParts, type Part, type StartedParts } from '../kube/part.js';
import { LEASES, NODE_AGENTS, NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import { labelIndex } from '../kube/store.js';
import { stripUnreadMetadata } from '../kube/strip-metadata.js';
import { DEFAULT_NODE_LOSS_GRACE_MS } from './liveness.js';
import { NodeMonitor, type NodeAgentObject } from './node-monitor.js';
import { AssignmentSlimmer, BY_NODE, type NodeAssignmentObject, type NodeWorkloadObject } from './objects.js';
import { PodCidrController } from './pod-cidr-controller.js';
import type { PodCidrRange } from './pod-cidr-plan.js';
import { DEFAULT_VIP_CIDR, VipAllocator } from './vip-allocator.js';
import { WorkloadController } from './workload-controller.js';
import { FloorFeed } from './floor/floor-feed.js';
import { DEFAULT_FLOOR_ADDRESS, FloorServer, isLoopback } from './floor/floor-server.js';
import { WebhookReviewer } from '../kube/webhook-auth.js';
import { systemClock } from '../kube/clock.js';

export { DEFAULT_VIP_CIDR } from './vip-allocator.js';
export { DEFAULT_NODE_LOSS_GRACE_MS } from './liveness.js';
export { DEFAULT_FLOOR_ADDRESS } from './floor/floor-server.js';

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
  /**
   * Where nodes whose agents ask for one (`--pod-cidr allocated`) get their pod range from, one
   * subnet each. Absent: no ranges are handed out, and every agent brings its own.
   */
  podCidrs?: PodCidrRange;
  /** Campaign for the leader Lease before acting. Default true. */
  leaderElect?: boolean;
  /** host:port of the metrics/health server (port 0: any free port); false for none. */
  metricsAddress?: string | false;
  /**
   * host:port of the floor page (port 0: any free port); false, the default, for none (the
   * command's --floor-address serves it at 127.0.0.1:8090). Off loopback its data needs a token
   * allowed to list NodeWorkloads.
   */
  floorAddress?: string | false;
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
  clock?: Clock;
  /** In [0, 1): jitters the controller's resync. Default Math.random. */
  random?: () => number;
}

export interface RunningOperator {
  /** `http://host:port` of /metrics, /healthz and /readyz, when served. */
  readonly metricsUrl: string | undefined;
  /** `http://host:port/` of the floor page, when served. */
  readonly floorUrl: string | undefined;
  /**
   * Resolves with the reason when the operator cannot go on (it lost the leader Lease, or a part
   * failed): it has stopped acting; stop it and exit non-zero. Pending while all is well.
   */
  readonly failed: Promise<Error>;
  isLeader(): boolean;
  /** Stops everything (releasing the leader Lease) and resolves when done. */
  stop(): Promise<void>;
}

/**
 * The operator's parts, made and wired to each other but not started: what `runOperator` starts.
 * Making them starts nothing and contacts no API server.
 */
export interface OperatorAssembly {
  readonly registry: Registry;
  readonly logger: Logger;
  /** The API client every part shares; closed last. */
  readonly client: KubeClient;
  /** In start order. */
  readonly parts: readonly Part[];
  /** The /readyz checks: the caches, then every part. A follower is ready too. */
  readonly readiness: Record<string, Check>;
  readonly leadership: Leadership;
  readonly floor: FloorServer | undefined;
}

export function assembleOperator(options: OperatorOptions): OperatorAssembly {
  const logger = options.logger ?? silentLogger();
  const registry = options.registry ?? createProcessRegistry();
  const namespace = options.namespace ?? DEFAULT_SYSTEM_NAMESPACE;
  const client = new KubeClient(options.kubeConfig, { registry, userAgent: 'shopfloor-operator' });
  // The caches hold every object for the process's lifetime; the server's bookkeeping (about
  // half of each object) is dropped before caching. The operator only patches, never PUTs them.
  const common = { client, registry, logger, metricsPrefix: 'shopfloor_operator', transform: stripUnreadMetadata };
  const workloads = new Informer<NodeWorkloadObject>({ ...common, resource: NODE_WORKLOADS });
  const assignments = new Informer<NodeAssignmentObject>({
    ...common,
    transform: new AssignmentSlimmer().slim,
    resource: NODE_ASSIGNMENTS,
    labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`,
    indexers: { [BY_WORKLOAD]: workloadIndex, [BY_NODE]: labelIndex(LABEL_NODE) },
  });
  const agents = new Informer<NodeAgentObject>({ ...common, resource: NODE_AGENTS });
  const leases = new Informer<Lease>({ ...common, resource: LEASES, namespace });
  const caches = { nodeworkloads: workloads, nodeassignments: assignments, nodeagents: agents, leases };

  const identity = options.identity ?? `${hostname()}_${process.pid}_${Math.random().toString(16).slice(2, 8)}`;
  const events = new EventRecorder({ client, component: 'shopfloor-operator', instance: identity, registry, logger });
  const nodeLossGraceMs = options.nodeLossGraceMs ?? DEFAULT_NODE_LOSS_GRACE_MS;
  const nodes = new NodeMonitor({ agents, leases, nodeLossGraceMs, ...(options.clock ? { clock: options.clock } : {}) });
  const workloadController = new WorkloadController({
    client,
    workloads,
    assignments,
    nodes,
    vips: new VipAllocator(options.vipCidr ?? DEFAULT_VIP_CIDR),
    events,
    logger,
    registry,
    workers: options.workers ?? 4,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const elector =
    (options.leaderElect ?? true)
      ? new LeaderElector({ client, namespace, name: LEADER_LEASE_NAME, identity, registry, logger, ...options.leaderElection })
      : undefined;
  const podCidrs = options.podCidrs ? new PodCidrController({ client, agents, range: options.podCidrs, events, logger, registry, ...(options.clock ? { clock: options.clock } : {}) }) : undefined;
  const leadership = new Leadership({ elector, runnables: [workloadController, ...(podCidrs ? [podCidrs] : [])] });
  const floorListen = options.floorAddress ? parseListenAddress(options.floorAddress, DEFAULT_FLOOR_ADDRESS, 'floor address') : undefined;
  const feed = floorListen ? new FloorFeed({ workloads, assignments, agents, leases, namespace, nodes, nodeLossGraceMs, ...(options.clock ? { clock: options.clock } : {}) }) : undefined;
  const floor =
    feed && floorListen
      ? new FloorServer({
          ...floorListen,
          feed,
          logger,
          registry,
          ...(isLoopback(floorListen.host) ? {} : { reviewer: new WebhookReviewer({ client, clock: options.clock ?? systemClock }) }),
        })
      : undefined;

  const parts: Part[] = [
    cachesPart(caches),
    nodes,
    // Events still queued when the controllers stop are written before the client closes.
    { name: 'events', start: async () => {}, ready: () => true, stop: () => events.flush() },
    ...(feed && floor ? [feed, floor] : []),
    leadership,
  ];
  const readiness = {
    ...Object.fromEntries(Object.entries(caches).map(([resource, cache]) => [resource, syncedCheck(resource, cache)])),
    ...Object.fromEntries(parts.map((p) => [p.name, () => p.ready()])),
  };
  return { registry, logger, client, parts, readiness, leadership, floor };
}

export async function runOperator(options: OperatorOptions): Promise<RunningOperator> {
  const metricsAddress = options.metricsAddress === undefined ? DEFAULT_METRICS_ADDRESS : options.metricsAddress;
  const address = metricsAddress === false ? undefined : parseListenAddress(metricsAddress, DEFAULT_METRICS_ADDRESS);
  const { registry, logger, client, parts, readiness, leadership, floor } = assembleOperator(options);

  // The server first: should its address be taken, nothing else has started yet.
  let server: HealthServer | undefined;
  if (address) {
    server = await startHealthServer({ registry, host: address.host, port: address.port, readiness });
    logger.info({ url: server.url }, 'serving /metrics, /healthz, /readyz');
  }
  let started: StartedParts;
  try {
    started = await startParts(parts, (part, err) => logger.error({ part: part.name, err: (err as Error).message }, 'stopping a part failed'));
  } catch (err) {
    client.close();
    await server?.close();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    metricsUrl: server?.url,
    floorUrl: floor?.url,
    failed: started.failed,
    isLeader: () => leadership.isLeader(),
    stop: () =>
      (stopping ??= (async () => {
        await started.stop();
        await server?.close();
        client.close();
      })()),
  };
}
