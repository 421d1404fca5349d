// The agent process: for now its service proxy (the pod lifecycle joins it here later). Watches
// NodeWorkloads and NodeAssignments and keeps this node's service rules in step.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { NodeAssignment, NodeWorkload } from '../api/index.js';
import { KubeClient } from '../kube/client.js';
import { systemClock } from '../kube/clock.js';
import { stripUnreadMetadata } from '../kube/strip-metadata.js';
import { parseListenAddress, startHealthServer, syncedCheck, type HealthServer } from '../kube/health-server.js';
import { Informer } from '../kube/informer.js';
import type { Logger } from '../kube/logger.js';
import { createProcessRegistry } from '../kube/metrics.js';
import type { ProxyBackend, ProxyMode } from './proxy/backend.js';
import { spawnRunner, type Runner } from './exec.js';
import { IptablesBackend } from './proxy/iptables-backend.js';
import { proxyMetrics } from './proxy/metrics.js';
import { NftBackend } from './proxy/nft-backend.js';
import { Proxier } from './proxy/proxier.js';
import { ServiceCatalog } from './proxy/service-catalog.js';
import { BY_WORKLOAD, assignmentWorkloadIndex, watchServices } from './proxy/service-watch.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';

/** kube-proxy's metrics port, on loopback. */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:10249';
export const DEFAULT_MIN_SYNC_PERIOD_MS = 1_000;
export const DEFAULT_FULL_RESYNC_PERIOD_MS = 3_600_000;

export interface AgentOptions {
  kubeConfig: KubeConfig;
  nodeName: string;
  proxyMode: ProxyMode;
  /** Addresses nodePorts answer on. */
  nodeAddresses: string[];
  minSyncPeriodMs?: number;
  fullResyncPeriodMs?: number;
  /** host:port of /metrics, /healthz, /readyz (port 0: any free port); false for none. */
  metricsAddress: string | false;
  logger: Logger;
  registry?: Registry;
  /** Runs nft, iptables and conntrack; default: in this process's network namespace. */
  run?: Runner;
}

export interface RunningAgent {
  /** `http://host:port` of /metrics, /healthz and /readyz, when served. */
  readonly metricsUrl: string | undefined;
  /** Stops watching and syncing. The rules stay, so services keep working across a restart. */
  stop(): Promise<void>;
}

export function backendFor(mode: ProxyMode, run: Runner): ProxyBackend {
  return mode === 'nftables' ? new NftBackend(run) : new IptablesBackend(run);
}

export async function runAgent(o: AgentOptions): Promise<RunningAgent> {
  const logger = o.logger.child({ node: o.nodeName });
  const registry = o.registry ?? createProcessRegistry();
  const run = o.run ?? spawnRunner();
  const client = new KubeClient(o.kubeConfig, { registry, userAgent: `shopfloor-agent/${o.nodeName}` });
  // The agent only reads these objects (it never writes a cached one back whole), so what it
  // does not read is dropped before caching.
  const workloads = new Informer<NodeWorkload>({ client, resource: NODE_WORKLOADS, registry, logger, metricsPrefix: 'shopfloor_agent', transform: stripUnreadMetadata });
  const assignments = new Informer<NodeAssignment>({
    client,
    resource: NODE_ASSIGNMENTS,
    registry,
    logger,
    metricsPrefix: 'shopfloor_agent',
    transform: stripUnreadMetadata,
    indexers: { [BY_WORKLOAD]: assignmentWorkloadIndex },
  });

  // Rules left by the other mode would keep answering with stale endpoints.
  const other = backendFor(o.proxyMode === 'nftables' ? 'iptables' : 'nftables', run);
  try {
    await other.cleanup();
  } catch (err) {
    logger.warn({ mode: other.mode, err: (err as Error).message }, 'could not remove the rules of the other proxy mode');
  }

  const backend = backendFor(o.proxyMode, run);
  const metrics = proxyMetrics(registry, o.proxyMode);
  const catalog = new ServiceCatalog();
  catalog.setNodeAddresses(o.nodeAddresses);
  for (const problem of catalog.problems()) logger.warn({ problem }, 'node address left out');
  metrics.problems = () => catalog.problems().length;
  const proxier = new Proxier({
    backend,
    run,
    logger: logger.child({ component: 'proxy' }),
    metrics,
    clock: systemClock,
    minSyncPeriodMs: o.minSyncPeriodMs ?? DEFAULT_MIN_SYNC_PERIOD_MS,
    fullResyncPeriodMs: o.fullResyncPeriodMs ?? DEFAULT_FULL_RESYNC_PERIOD_MS,
  });
  watchServices({ workloads, assignments, catalog, proxier, nodeName: o.nodeName, logger: logger.child({ component: 'proxy' }) });

  let server: HealthServer | undefined;
  if (o.metricsAddress !== false) {
    const { host, port } = parseListenAddress(o.metricsAddress, DEFAULT_METRICS_ADDRESS);
    server = await startHealthServer({
      registry,
      host,
      port,
      readiness: {
        nodeworkloads: syncedCheck('nodeworkloads', workloads),
        nodeassignments: syncedCheck('nodeassignments', assignments),
        proxy: () => proxier.hasSynced() || 'the service rules have not been applied yet',
      },
    });
  }

  workloads.start();
  assignments.start();
  const abort = new AbortController();
  // The first sync waits for both caches, so it never programs a partial set of services.
  const started = Promise.all([workloads.waitForSync(abort.signal), assignments.waitForSync(abort.signal)]).then(([a, b]) => {
    if (!a || !b || abort.signal.aborted) return;
    proxier.setState(catalog.state);
    proxier.start();
    logger.info({ mode: o.proxyMode, nodeAddresses: catalog.state.nodeAddresses }, 'service proxy started');
  });

  return {
    metricsUrl: server?.url,
    async stop() {
      abort.abort();
      await started;
      await proxier.stop();
      await Promise.all([workloads.stop(), assignments.stop()]);
      await server?.close();
    },
  };
}
