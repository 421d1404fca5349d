// The agent's service proxy as one part: keeps this node's service rules (nftables or iptables)
// in step with the NodeWorkloads and NodeAssignments the agent caches.
import type { Registry } from 'prom-client';
import type { NodeAssignment, NodeWorkload } from '../../api/index.js';
import { systemClock } from '../../kube/clock.js';
import type { Informer } from '../../kube/informer.js';
import type { Logger } from '../../kube/logger.js';
import type { Runner } from '../exec.js';
import type { Part } from '../../kube/part.js';
import type { ProxyBackend, ProxyMode } from './backend.js';
import { IptablesBackend } from './iptables-backend.js';
import { proxyMetrics } from './metrics.js';
import { NftBackend } from './nft-backend.js';
import { Proxier, type ProxySyncReport } from './proxier.js';
import { ServiceCatalog } from './service-catalog.js';
import { watchServices } from './service-watch.js';

export const DEFAULT_MIN_SYNC_PERIOD_MS = 1_000;
export const DEFAULT_FULL_RESYNC_PERIOD_MS = 3_600_000;

/** The backend of `mode` over the agent's own proxy table (nftables) or chains (iptables). */
export function backendFor(mode: ProxyMode, run: Runner, table: string): ProxyBackend {
  return mode === 'nftables' ? new NftBackend(run, table) : new IptablesBackend(run, table);
}

export interface ServiceProxyOptions {
  mode: ProxyMode;
  /** The agent's proxy table: its nftables table and, upper-cased, its iptables chain prefix (proxy-names.ts). */
  table: string;
  nodeName: string;
  /** Addresses nodePorts answer on. */
  nodeAddresses: string[];
  workloads: Informer<NodeWorkload>;
  /** Must carry the BY_WORKLOAD index (api/nodeassignment.ts). */
  assignments: Informer<NodeAssignment>;
  run: Runner;
  registry: Registry;
  logger: Logger;
  minSyncPeriodMs?: number;
  fullResyncPeriodMs?: number;
  /** Longest wait between syncs that keep failing (ms). */
  retryMaxMs?: number;
}

export class ServiceProxy implements Part {
  readonly name = 'proxy';
  private readonly proxier: Proxier;
  private readonly catalog = new ServiceCatalog();
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private started: Promise<void> | undefined;

  constructor(private readonly o: ServiceProxyOptions) {
    this.logger = o.logger.child({ component: 'proxy' });
    const metrics = proxyMetrics(o.registry, o.mode);
    this.catalog.setNodeAddresses(o.nodeAddresses);
    for (const problem of this.catalog.problems()) this.logger.warn({ problem }, 'node address left out');
    metrics.problems = () => this.catalog.problems().length;
    this.proxier = new Proxier({
      backend: backendFor(o.mode, o.run, o.table),
      run: o.run,
      logger: this.logger,
      metrics,
      clock: systemClock,
      minSyncPeriodMs: o.minSyncPeriodMs ?? DEFAULT_MIN_SYNC_PERIOD_MS,
      fullResyncPeriodMs: o.fullResyncPeriodMs ?? DEFAULT_FULL_RESYNC_PERIOD_MS,
      ...(o.retryMaxMs === undefined ? {} : { retryMaxMs: o.retryMaxMs }),
    });
    watchServices({ workloads: o.workloads, assignments: o.assignments, catalog: this.catalog, proxier: this.proxier, nodeName: o.nodeName, logger: this.logger, invalidObjects: metrics.invalidObjects });
  }

  async start(): Promise<void> {
    // Rules left by the other mode would keep answering with stale endpoints.
    const other = backendFor(this.o.mode === 'nftables' ? 'iptables' : 'nftables', this.o.run, this.o.table);
    try {
      await other.cleanup();
    } catch (err) {
      this.logger.warn({ mode: other.mode, err: (err as Error).message }, 'could not remove the rules of the other proxy mode');
    }
    const signal = this.abort.signal;
    // The first sync waits for both caches, so it never programs a partial set of services.
    this.started = Promise.all([this.o.workloads.waitForSync(signal), this.o.assignments.waitForSync(signal)]).then(([a, b]) => {
      if (!a || !b || signal.aborted) return;
      this.proxier.setState(this.catalog.state);
      this.proxier.start();
      this.logger.info({ mode: this.o.mode, table: this.o.table, nodeAddresses: this.catalog.state.nodeAddresses }, 'service proxy started');
    });
  }

  /** Ready while the rules match the API: false before the first sync and while syncs fail. */
  ready(): true | string {
    const failing = this.proxier.failing();
    if (failing) return `the service rules could not be applied (${failing.attempts} failed syncs since ${new Date(failing.since).toISOString()}; retrying with backoff): ${failing.message.slice(0, 300)}`;
    return this.proxier.hasSynced() || 'the service rules have not been applied yet';
  }

  /** The rules' last sync, size and whether they match the API now (the NodeAgent's status.proxy). */
  report(): ProxySyncReport {
    return this.proxier.report();
  }

  /** Stops syncing. The rules stay, so services keep working across an agent restart. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.started;
    await this.proxier.stop();
  }

  /** Removes this mode's rules (when the whole local Shopfloor goes down). */
  async removeRules(): Promise<void> {
    await backendFor(this.o.mode, this.o.run, this.o.table).cleanup();
  }
}
