// The proxy's metrics. kube-proxy's names where kube-proxy has the metric (so its dashboards
// and alerts apply), `shopfloor_agent_proxy_` for ours.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ProxyMode } from './backend.js';

export interface ProxyMetrics {
  syncDuration: Histogram;
  fullSyncDuration: Histogram;
  partialSyncDuration: Histogram;
  lastSyncTimestamp: Gauge;
  lastQueuedTimestamp: Gauge;
  networkProgrammingDuration: Histogram;
  syncFailures: Counter;
  conntrackFailures: Counter;
  /** NodeWorkloads whose service was left out because a field failed the proxy's check. */
  invalidObjects: Counter;
  /**
   * What the rules last applied program; the proxier sets it. Read when metrics are scraped,
   * because counting is O(services) and a sync must stay O(changes).
   */
  programmed: () => { rules: number; elements: number };
  /** How many service ports, nodePorts or addresses are left out of the rules; read at scrape time. */
  problems: () => number;
}

/** kube-proxy's buckets: 1 ms doubling to about 16 s. */
const SYNC_BUCKETS = Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i);
/** 1 ms doubling to about 131 s: a change waits out the minimum sync period, and a failed sync's retry. */
const PROGRAMMING_BUCKETS = Array.from({ length: 18 }, (_, i) => 0.001 * 2 ** i);

function histogram(registry: Registry, name: string, help: string, buckets = SYNC_BUCKETS): Histogram {
  return (registry.getSingleMetric(name) as Histogram | undefined) ?? new Histogram({ name, help, buckets, registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] });
}

function counter(registry: Registry, name: string, help: string): Counter {
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
}

export function proxyMetrics(registry: Registry, mode: ProxyMode): ProxyMetrics {
  const metrics: ProxyMetrics = {
    syncDuration: histogram(registry, 'kubeproxy_sync_proxy_rules_duration_seconds', 'Seconds a sync of the service rules took (full or partial).'),
    fullSyncDuration: histogram(registry, 'kubeproxy_sync_full_proxy_rules_duration_seconds', 'Seconds a full sync of the service rules took.'),
    partialSyncDuration: histogram(registry, 'kubeproxy_sync_partial_proxy_rules_duration_seconds', 'Seconds an incremental sync of the service rules took.'),
    lastSyncTimestamp: gauge(registry, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', 'Unix time of the last successful sync of the service rules.'),
    lastQueuedTimestamp: gauge(
      registry,
      'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
      'Unix time a change to the services was last queued for a sync; far ahead of the last sync\'s time means syncs are stuck.',
    ),
    networkProgrammingDuration: histogram(
      registry,
      'kubeproxy_network_programming_duration_seconds',
      'Seconds from the agent seeing a change to a service frontend (its endpoints, ports or address) to the rules that carry it being in the kernel.',
      PROGRAMMING_BUCKETS,
    ),
    syncFailures:
      mode === 'nftables'
        ? counter(registry, 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total', 'nft transactions the kernel refused.')
        : counter(registry, 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total', 'iptables-restore runs that failed.'),
    conntrackFailures: counter(registry, 'shopfloor_agent_proxy_conntrack_cleanup_failures_total', 'conntrack deletions of stale UDP flows that failed.'),
    invalidObjects: counter(
      registry,
      'shopfloor_agent_proxy_invalid_objects_total',
      'NodeWorkloads whose service was left out of the rules because a field failed the proxy\'s check, counted once for each change of what is wrong; the agent logs the fields.',
    ),
    programmed: () => ({ rules: 0, elements: 0 }),
    problems: () => 0,
  };
  if (!registry.getSingleMetric('shopfloor_agent_proxy_programmed_rules')) {
    new Gauge({
      name: 'shopfloor_agent_proxy_programmed_rules',
      help: 'Rules in the proxy\'s own table or chains after the last successful sync.',
      registers: [registry],
      collect() {
        this.set(metrics.programmed().rules);
      },
    });
    new Gauge({
      name: 'shopfloor_agent_proxy_programmed_elements',
      help: 'Set and map elements in the proxy\'s nftables table after the last successful sync (0 in iptables mode).',
      registers: [registry],
      collect() {
        this.set(metrics.programmed().elements);
      },
    });
    new Gauge({
      name: 'shopfloor_agent_proxy_service_problems',
      help: 'Service ports, nodePorts, endpoints or node addresses left out of the rules (clashes, bad addresses); the agent logs each.',
      registers: [registry],
      collect() {
        this.set(metrics.problems());
      },
    });
  }
  return metrics;
}
