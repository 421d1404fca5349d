// The agent process: composes its parts — the container runtime (managed containerd, or an
// external CRI endpoint), the pod lifecycle, the container log server, the node's registration
// and Lease, and the service proxy — around one API client, one cache of NodeWorkloads and
// NodeAssignments, and one metrics and health server.
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { BY_WORKLOAD, DEFAULT_SYSTEM_NAMESPACE, workloadIndex, type NodeAssignment, type NodeWorkload } from '../api/index.js';
import { KubeClient } from '../kube/client.js';
import { systemClock, type Clock } from '../kube/clock.js';
import type { KubeConfig } from '../kube/credentials.js';
import { parseListenAddress, startHealthServer, syncedCheck, type Check, type HealthServer } from '../kube/health-server.js';
import { Informer } from '../kube/informer.js';
import type { Logger } from '../kube/logger.js';
import { createProcessRegistry } from '../kube/metrics.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import { stripUnreadMetadata } from '../kube/strip-metadata.js';
import { CriClient } from './cri/client.js';
import { spawnRunner, type Runner } from './exec.js';
import { DEFAULT_LOG_SERVER_ADDRESS, LogServer } from './logs/log-server.js';
import { WebhookReviewer } from '../kube/webhook-auth.js';
import { POD_CIDR_ALLOCATED, allocatedPodCidr } from './node/allocated-pod-cidr.js';
import { MirrorAssignments } from './node/mirror-assignments.js';
import { nodeLabels } from './node/node-status.js';
import { NodeRegistration } from './node/registration.js';
import { StaticManifests } from './node/static-manifests.js';
import { cachesPart, startParts, type Part, type StartedParts } from '../kube/part.js';
import { CrashBackoff, ImagePullBackoff } from './pods/crash-backoff.js';
import { ContainerLogRotation } from './pods/log-rotation.js';
import { PodLifecycle } from './pods/pod-lifecycle.js';
import { PodProbeManager } from './pods/pod-probes.js';
import type { ProxyMode } from './proxy/backend.js';
import { DEFAULT_PROXY_TABLE } from './proxy/proxy-names.js';
import { ServiceProxy } from './proxy/service-proxy.js';
import { ManagedContainerd } from './runtime/managed-containerd.js';
import { preloadImages } from './runtime/image-preload.js';

/** kube-proxy's metrics port, on loopback. */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:10249';
export const AGENT_VERSION = '0.1.0';

/** The container runtime the agent drives. */
export type RuntimeChoice =
  | {
      mode: 'managed';
      /** The Linux bridge pods attach to (≤ 15 characters). */
      bridgeName: string;
      sandboxImage: string;
      /** containerd 1.x or 2.x, by path; default `containerd` on PATH. */
      containerdBinary?: string;
    }
  | {
      mode: 'external';
      /** `unix:///run/containerd/containerd.sock`, or CRI-O's, or cri-dockerd's. */
      endpoint: string;
    };

export interface AgentOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  /** Holds the managed runtime, pod volumes and, by default, container logs. */
  dataDir: string;
  runtime: RuntimeChoice;
  /**
   * The node's pod IP range (IPv4 CIDR): the managed runtime's CNI hands out its addresses. Or
   * `allocated` (POD_CIDR_ALLOCATED): the operator's to hand out; `runAgent` waits for it.
   */
  podCIDR: string;
  /** OCI image archives imported into the runtime at start. */
  imagePreloadDir?: string;
  /** Static workload manifests (like kubelet's static pods). */
  staticManifestDir?: string;
  /** Root of the container log directories; default `<dataDir>/logs`. */
  logDir?: string;
  /** Labels of this node's NodeAgent. */
  nodeLabels?: Record<string, string>;
  proxyMode: ProxyMode;
  /** The nftables table (and, upper-cased, the iptables chain prefix) of this agent's rules; default shopfloor. */
  proxyTable?: string;
  /** Addresses nodePorts answer on; the first is the node's InternalIP. */
  nodeAddresses: string[];
  hostname: string;
  /** Namespace of the node Lease; default shopfloor-system. */
  namespace?: string;
  minSyncPeriodMs?: number;
  fullResyncPeriodMs?: number;
  /** Pods synced at once; default 8. */
  podWorkers?: number;
  /** The node Lease's duration, renewed every quarter of it; default 40. */
  leaseDurationSeconds?: number;
  /** host:port of /metrics, /healthz, /readyz (port 0: any free port); false for none. */
  metricsAddress: string | false;
  /** host:port of the HTTPS log server (port 0: any free port); absent for none. */
  logServerAddress?: string;
  logger: Logger;
  registry?: Registry;
  clock?: Clock;
  /** Runs nft, iptables, conntrack, ctr, mount; default: in this process's network namespace. */
  run?: Runner;
}

export interface RunningAgent {
  /** `http://host:port` of /metrics, /healthz and /readyz, when served. */
  readonly metricsUrl: string | undefined;
  readonly pods: PodLifecycle;
  /** The runtime's CRI endpoint. */
  readonly criEndpoint: string;
  /**
   * Stops the agent's work. Pods keep running, the managed containerd stops (their shims keep
   * the containers alive), and the service rules stay, so the next agent takes over with no
   * container restarted and no service interrupted.
   */
  stop(): Promise<void>;
  /** Stops and removes every pod of this node, then stops the agent and removes its rules. */
  teardown(): Promise<void>;
}

/**
 * The agent's parts, made and wired to each other but not started: what `runAgent` starts, and
 * every metric the agent serves already registered on `registry` (the dashboard test reads it).
 * Making them starts nothing and contacts neither the API server nor the runtime.
 */
export interface AgentAssembly {
  readonly registry: Registry;
  readonly logger: Logger;
  /** In start order. */
  readonly parts: readonly Part[];
  /** The /readyz checks: the caches, then every part. */
  readonly readiness: Record<string, Check>;
  /** The API client every part shares; closed last. */
  readonly client: KubeClient;
  readonly cri: CriClient;
  /** The runtime's CRI endpoint. */
  readonly endpoint: string;
  readonly lifecycle: PodLifecycle;
  readonly proxy: ServiceProxy;
}

export function assembleAgent(o: AgentOptions): AgentAssembly {
  const logger = o.logger.child({ node: o.nodeName });
  const registry = o.registry ?? createProcessRegistry();
  const clock = o.clock ?? systemClock;
  const run = o.run ?? spawnRunner();
  const client = new KubeClient(o.kubeConfig, { registry, userAgent: `shopfloor-agent/${o.nodeName}` });
  // One cache of each kind serves the proxy (every assignment, for endpoints) and the pod
  // lifecycle (those of this node). The agent only reads them and writes status by patch, so
  // what it does not read is dropped before caching.
  const workloads = new Informer<NodeWorkload>({ client, resource: NODE_WORKLOADS, registry, logger, metricsPrefix: 'shopfloor_agent', transform: stripUnreadMetadata });
  const assignments = new Informer<NodeAssignment>({
    client,
    resource: NODE_ASSIGNMENTS,
    registry,
    logger,
    metricsPrefix: 'shopfloor_agent',
    transform: stripUnreadMetadata,
    indexers: { [BY_WORKLOAD]: workloadIndex },
  });

  const parts: Part[] = [];
  let containerd: ManagedContainerd | undefined;
  let endpoint: string;
  if (o.runtime.mode === 'managed') {
    containerd = new ManagedContainerd({
      dataDir: join(o.dataDir, 'containerd'),
      podCIDR: o.podCIDR,
      bridgeName: o.runtime.bridgeName,
      sandboxImage: o.runtime.sandboxImage,
      ...(o.runtime.containerdBinary ? { containerdBinary: o.runtime.containerdBinary } : {}),
      ...(o.imagePreloadDir ? { preloadDir: o.imagePreloadDir } : {}),
      logger: logger.child({ component: 'containerd' }),
      clock,
      run,
    });
    endpoint = containerd.endpoint;
    parts.push(containerd);
  } else {
    endpoint = o.runtime.endpoint;
    const preloadDir = o.imagePreloadDir;
    if (preloadDir) {
      parts.push({
        name: 'image-preload',
        start: async () => {
          await preloadImages({ dir: preloadDir, socketPath: endpoint.replace(/^unix:\/\//, ''), run, logger: logger.child({ component: 'image-preload' }) });
        },
        ready: () => true,
        stop: async () => undefined,
      });
    }
  }
  const cri = new CriClient({ endpoint, registry });

  parts.push(cachesPart({ nodeworkloads: workloads, nodeassignments: assignments }));

  const staticManifests = o.staticManifestDir
    ? new StaticManifests({ dir: o.staticManifestDir, nodeName: o.nodeName, clock, logger })
    : undefined;
  if (staticManifests) parts.push(staticManifests);

  // A changed probe verdict syncs its pod again (the lifecycle is made just below).
  const probes = new PodProbeManager({ exec: (id, cmd, timeout) => cri.execSync(id, cmd, timeout), onChange: (key) => lifecycle.resync(key), clock, registry, logger: logger.child({ component: 'probes' }) });
  const lifecycle = new PodLifecycle({
    cri,
    client,
    nodeName: o.nodeName,
    assignments,
    ...(staticManifests ? { staticAssignments: staticManifests } : {}),
    podsDir: join(o.dataDir, 'pods'),
    logRoot: o.logDir ?? join(o.dataDir, 'logs'),
    run,
    probes,
    crashBackoff: new CrashBackoff({ clock }),
    pullBackoff: new ImagePullBackoff({ clock }),
    clock,
    logger,
    registry,
    ...(o.podWorkers ? { workers: o.podWorkers } : {}),
  });
  parts.push(lifecycle);
  // Container logs for `shopfloor logs`, announced in the NodeAgent (registration comes later).
  let logServer: LogServer | undefined;
  if (o.logServerAddress !== undefined) {
    const { host, port } = parseListenAddress(o.logServerAddress, DEFAULT_LOG_SERVER_ADDRESS, 'log server address');
    logServer = new LogServer({
      host,
      port,
      nodeAddresses: o.nodeAddresses,
      hostname: o.hostname,
      certDir: join(o.dataDir, 'pki'),
      pods: lifecycle,
      reviewer: new WebhookReviewer({ client, clock }),
      clock,
      logger: logger.child({ component: 'log-server' }),
      registry,
    });
    parts.push(logServer);
  }
  parts.push(new ContainerLogRotation({ containers: () => lifecycle.runningContainerLogs(), reopen: (id) => cri.reopenContainerLog(id), clock, logger }));

  const proxy = new ServiceProxy({
    mode: o.proxyMode,
    table: o.proxyTable ?? DEFAULT_PROXY_TABLE,
    nodeName: o.nodeName,
    nodeAddresses: o.nodeAddresses,
    workloads,
    assignments,
    run,
    registry,
    logger,
    ...(o.minSyncPeriodMs !== undefined ? { minSyncPeriodMs: o.minSyncPeriodMs } : {}),
    ...(o.fullResyncPeriodMs !== undefined ? { fullResyncPeriodMs: o.fullResyncPeriodMs } : {}),
  });
  parts.push(proxy);

  const registration = new NodeRegistration({
    client,
    nodeName: o.nodeName,
    namespace: o.namespace ?? DEFAULT_SYSTEM_NAMESPACE,
    labels: o.nodeLabels ?? {},
    podCIDR: o.podCIDR,
    nodeAddresses: o.nodeAddresses,
    hostname: o.hostname,
    proxyMode: o.proxyMode,
    agentVersion: AGENT_VERSION,
    ...(o.leaseDurationSeconds !== undefined ? { leaseDurationSeconds: o.leaseDurationSeconds } : {}),
    runtimeInfo: async () => {
      const v = await cri.version();
      return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion };
    },
    runningPods: () => lifecycle.runningPods(),
    daemonEndpoints: () => {
      const endpoint = logServer?.endpoint();
      return endpoint ? { logServer: endpoint } : undefined;
    },
    proxy: () => proxy.report(),
    clock,
    logger,
    registry,
  });
  parts.push(registration);
  // Mirrors of the static assignments are owned by the NodeAgent, so they come after it.
  if (staticManifests) parts.push(new MirrorAssignments({ client, nodeName: o.nodeName, source: staticManifests, owner: registration, clock, logger, registry }));

  const readiness = {
    nodeworkloads: syncedCheck('nodeworkloads', workloads),
    nodeassignments: syncedCheck('nodeassignments', assignments),
    ...Object.fromEntries(parts.map((p) => [p.name, () => p.ready()])),
  };
  return { registry, logger, parts, readiness, client, cri, endpoint, lifecycle, proxy };
}

export async function runAgent(o: AgentOptions): Promise<RunningAgent> {
  const registry = o.registry ?? createProcessRegistry();
  // Served from the start, so that probes see an agent that waits for its pod range as alive,
  // not ready; the parts' checks join once they are made.
  const readiness: Record<string, Check> = {};
  let server: HealthServer | undefined;
  if (o.metricsAddress !== false) {
    const { host, port } = parseListenAddress(o.metricsAddress, DEFAULT_METRICS_ADDRESS);
    server = await startHealthServer({ registry, host, port, readiness });
  }
  let podCIDR = o.podCIDR;
  if (podCIDR === POD_CIDR_ALLOCATED) {
    readiness['pod-cidr'] = () => 'waiting for the operator to allocate this node its pod range (NodeAgent spec.podCIDR)';
    const client = new KubeClient(o.kubeConfig, { registry, userAgent: `shopfloor-agent/${o.nodeName}` });
    try {
      podCIDR = await allocatedPodCidr({ client, nodeName: o.nodeName, labels: nodeLabels({ hostname: o.hostname, ...(o.nodeLabels ? { labels: o.nodeLabels } : {}) }), clock: o.clock ?? systemClock, logger: o.logger.child({ node: o.nodeName }) });
    } catch (err) {
      await server?.close();
      throw err;
    } finally {
      client.close();
    }
    delete readiness['pod-cidr'];
  }
  const { logger, parts, readiness: checks, client, cri, endpoint, lifecycle, proxy } = assembleAgent({ ...o, podCIDR, registry });
  Object.assign(readiness, checks);

  let started: StartedParts;
  try {
    started = await startParts(parts, (part, err) => logger.error({ part: part.name, err: (err as Error).message }, 'stopping a part failed'));
  } catch (err) {
    cri.close();
    client.close();
    await server?.close();
    throw err;
  }
  logger.info({ runtime: o.runtime.mode, endpoint, proxyMode: o.proxyMode, podCIDR }, 'agent started');

  const stop = async (): Promise<void> => {
    await started.stop();
    cri.close();
    client.close();
    await server?.close();
  };
  return {
    metricsUrl: server?.url,
    pods: lifecycle,
    criEndpoint: endpoint,
    stop,
    async teardown() {
      await lifecycle.removeAllPods();
      await stop();
      await proxy.removeRules();
    },
  };
}
