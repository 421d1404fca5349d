// The pod lifecycle's metrics, under kubelet's names and labels so that kubelet dashboards and
// alerts read them unchanged.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface PodMetrics {
  runningPods: Gauge;
  runningContainers: Gauge<'container_state'>;
  podStartDuration: Histogram;
  podWorkerDuration: Histogram<'operation_type'>;
  relistDuration: Histogram;
  restartedPods: Counter<'static'>;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function once<M>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

export function podMetrics(registry: Registry): PodMetrics {
  const registers = [registry];
  return {
    runningPods: once(registry, 'kubelet_running_pods', () => new Gauge({ name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox.', registers })),
    runningContainers: once(registry, 'kubelet_running_containers', () => new Gauge({ name: 'kubelet_running_containers', help: 'Number of containers currently running, by state.', labelNames: ['container_state'], registers })),
    podStartDuration: once(registry, 'kubelet_pod_start_duration_seconds', () => new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: 'Duration in seconds from the agent first seeing an assignment to every container of it running.',
      buckets: LATENCY_BUCKETS,
      registers,
    })),
    podWorkerDuration: once(registry, 'kubelet_pod_worker_duration_seconds', () => new Histogram({
      name: 'kubelet_pod_worker_duration_seconds',
      help: 'Duration in seconds to sync a single pod, by operation type: create, update or sync.',
      labelNames: ['operation_type'],
      buckets: LATENCY_BUCKETS,
      registers,
    })),
    relistDuration: once(registry, 'kubelet_pleg_relist_duration_seconds', () => new Histogram({ name: 'kubelet_pleg_relist_duration_seconds', help: 'Duration in seconds for relisting pods in the runtime.', buckets: LATENCY_BUCKETS, registers })),
    restartedPods: once(registry, 'kubelet_restarted_pods_total', () => new Counter({ name: 'kubelet_restarted_pods_total', help: 'Number of pods whose sandbox was made again for the same assignment.', labelNames: ['static'], registers })),
  };
}
