// The pod lifecycle's metrics, under kubelet's names and labels so that kubelet dashboards and
// alerts read them unchanged; `shopfloor_agent_` for what kubelet leaves to kube-state-metrics
// (pods by phase, container restarts), which a Shopfloor cluster does not have for its pods.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { PHASES, type Phase } from '../../api/index.js';
import { splitKey } from '../../kube/types.js';

export interface PodMetrics {
  runningPods: Gauge;
  runningContainers: Gauge<'container_state'>;
  podStartDuration: Histogram;
  podStartSliDuration: Histogram<'first_with_network'>;
  podWorkerDuration: Histogram<'operation_type'>;
  relistDuration: Histogram;
  restartedPods: Counter<'static'>;
  /** The phase each pod of the node last reported, counted by phase when scraped. */
  phases: PodPhases;
  containerRestarts: ContainerRestarts;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The last phase of each pod, by pod key; a pod leaves when the agent stops running it. */
export class PodPhases {
  private readonly byPod = new Map<string, Phase>();

  set(key: string, phase: Phase): void {
    this.byPod.set(key, phase);
  }

  forget(key: string): void {
    this.byPod.delete(key);
  }

  /** Pods per phase, every phase present (0 when none): a dashboard sees a phase empty, not gone. */
  counts(): Map<Phase, number> {
    const counts = new Map<Phase, number>(PHASES.map((p) => [p, 0]));
    for (const phase of this.byPod.values()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
    return counts;
  }
}

type RestartLabel = 'namespace' | 'pod' | 'container';

/**
 * Container restarts per pod and container (kube-state-metrics' restart count as a counter).
 * A pod's series go when the pod goes, so the agent keeps no series of pods long gone.
 */
export class ContainerRestarts {
  private readonly containersByPod = new Map<string, Set<string>>();

  constructor(private readonly counter: Counter<RestartLabel>) {}

  inc(key: string, container: string): void {
    let containers = this.containersByPod.get(key);
    if (!containers) this.containersByPod.set(key, (containers = new Set()));
    containers.add(container);
    this.counter.inc(labels(key, container));
  }

  forget(key: string): void {
    for (const container of this.containersByPod.get(key) ?? []) this.counter.remove(labels(key, container));
    this.containersByPod.delete(key);
  }
}

function labels(key: string, container: string): Record<RestartLabel, string> {
  const { namespace, name } = splitKey(key);
  return { namespace: namespace ?? '', pod: name, container };
}

const byRegistry = new WeakMap<Registry, PodMetrics>();

/** The pod metrics of `registry`, made on first use: every caller on one registry shares them. */
export function podMetrics(registry: Registry): PodMetrics {
  const known = byRegistry.get(registry);
  if (known) return known;
  const registers = [registry];
  const phases = new PodPhases();
  const metrics: PodMetrics = {
    runningPods: new Gauge({ name: 'kubelet_running_pods', help: 'Number of pods that have a running pod sandbox.', registers }),
    runningContainers: new Gauge({ name: 'kubelet_running_containers', help: 'Number of containers currently running, by state.', labelNames: ['container_state'], registers }),
    podStartDuration: new Histogram({
      name: 'kubelet_pod_start_duration_seconds',
      help: 'Duration in seconds from the agent first seeing an assignment to every container of it running.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    podStartSliDuration: new Histogram({
      name: 'kubelet_pod_start_sli_duration_seconds',
      help: 'Duration in seconds from the agent first seeing an assignment to every container of it running, less the time spent pulling images; first_with_network is true for the first pod the agent started.',
      labelNames: ['first_with_network'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    podWorkerDuration: new Histogram({
      name: 'kubelet_pod_worker_duration_seconds',
      help: 'Duration in seconds to sync a single pod, by operation type: create, update or sync.',
      labelNames: ['operation_type'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    relistDuration: new Histogram({ name: 'kubelet_pleg_relist_duration_seconds', help: 'Duration in seconds for relisting pods in the runtime.', buckets: LATENCY_BUCKETS, registers }),
    restartedPods: new Counter({ name: 'kubelet_restarted_pods_total', help: 'Number of pods whose sandbox was made again for the same assignment.', labelNames: ['static'], registers }),
    phases,
    containerRestarts: new ContainerRestarts(
      new Counter({
        name: 'shopfloor_agent_container_restarts_total',
        help: 'Containers started again after an earlier instance of them in the same pod, per pod and container (the restartCount the agent reports).',
        labelNames: ['namespace', 'pod', 'container'],
        registers,
      }),
    ),
  };
  new Gauge({
    name: 'shopfloor_agent_pods',
    help: 'Pods (NodeAssignments) the agent runs on this node, by the phase it last reported (Unknown is the operator\'s word for a lost node and stays 0 here).',
    labelNames: ['phase'],
    registers,
    collect() {
      for (const [phase, n] of phases.counts()) this.set({ phase }, n);
    },
  });
  byRegistry.set(registry, metrics);
  return metrics;
}
