// The devcluster's Prometheus metrics, served on its API port at /metrics (as kube-apiserver
// serves its own): the Node.js process metrics and what is the devcluster's own, under
// `shopfloor_devcluster_`.
import { Counter, type Registry } from 'prom-client';
import { createProcessRegistry } from '../../kube/metrics.js';

export interface DevclusterMetrics {
  registry: Registry;
  /** Stored values left out because they do not decode, each time a list, watch or get meets one. */
  undecodableValues: Counter;
}

export function createDevclusterMetrics(): DevclusterMetrics {
  const registry = createProcessRegistry();
  const undecodableValues = new Counter({
    name: 'shopfloor_devcluster_storage_undecodable_values_total',
    help: 'Values in etcd that do not decode as an object (written past the API, or damaged), counted each time a list, watch or get meets one; the log names the key',
    registers: [registry],
  });
  return { registry, undecodableValues };
}
