import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Metric families of the controller plumbing. Names and labels follow controller-runtime's so
 * that existing dashboards and alerts work. Each family is created once per Registry and shared
 * by every queue/controller/informer registered on it (they differ by label).
 */

/** A Registry for one process, with the Node.js process metrics (`process_*`, `nodejs_*`). */
export function createProcessRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The counter `name` of `registry`, made on first use: every part that counts it shares one. */
export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** The gauge `name` of `registry`, made on first use. */
export function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[],
  buckets: number[],
): Histogram<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Histogram<L>;
  return new Histogram({ name, help, labelNames, buckets, registers: [registry] });
}

/** 10 ns … 1000 s, by powers of ten: queue waits span that whole range. */
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
/** Reconcile durations: 5 ms … 60 s. */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60];

/** What a work queue reports at scrape time about the items being processed right now. */
export interface InFlightSource {
  readonly name: string;
  /** Seconds of work in progress summed over items, and the oldest item's seconds. */
  inFlightSeconds(): { total: number; longest: number };
}

/**
 * controller-runtime labels every work queue series with `name` and `controller`, both the
 * queue's name: dashboards select by either.
 */
export type WorkqueueLabel = 'name' | 'controller';

/** The labels of a queue's series. */
export function workqueueLabels(name: string): Record<WorkqueueLabel, string> {
  return { name, controller: name };
}

export interface WorkqueueMetrics {
  depth: Gauge<WorkqueueLabel>;
  adds: Counter<WorkqueueLabel>;
  queueDuration: Histogram<WorkqueueLabel>;
  workDuration: Histogram<WorkqueueLabel>;
  retries: Counter<WorkqueueLabel>;
  /** Queues whose in-flight work is read at scrape time. */
  sources: Set<InFlightSource>;
}

const workqueueByRegistry = new WeakMap<Registry, WorkqueueMetrics>();

export function workqueueMetrics(registry: Registry): WorkqueueMetrics {
  const known = workqueueByRegistry.get(registry);
  if (known) return known;
  const sources = new Set<InFlightSource>();
  const metrics: WorkqueueMetrics = {
    depth: gauge(registry, 'workqueue_depth', 'Current depth of the work queue.', ['name', 'controller']),
    adds: counter(registry, 'workqueue_adds_total', 'Total number of adds handled by the work queue.', ['name', 'controller']),
    queueDuration: histogram(
      registry,
      'workqueue_queue_duration_seconds',
      'How long in seconds an item stays in the work queue before being requested.',
      ['name', 'controller'],
      QUEUE_BUCKETS,
    ),
    workDuration: histogram(
      registry,
      'workqueue_work_duration_seconds',
      'How long in seconds processing an item from the work queue takes.',
      ['name', 'controller'],
      QUEUE_BUCKETS,
    ),
    retries: counter(registry, 'workqueue_retries_total', 'Total number of retries handled by the work queue.', ['name', 'controller']),
    sources,
  };
  new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help: 'How many seconds of work has been done that is in progress and has not been observed by work_duration. Large values indicate stuck threads.',
    labelNames: ['name', 'controller'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources) this.set(workqueueLabels(s.name), s.inFlightSeconds().total);
    },
  });
  new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds the longest running item of the work queue has been processed for.',
    labelNames: ['name', 'controller'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sources) this.set(workqueueLabels(s.name), s.inFlightSeconds().longest);
    },
  });
  workqueueByRegistry.set(registry, metrics);
  return metrics;
}

export interface ControllerMetrics {
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileErrors: Counter<'controller'>;
  reconcileTime: Histogram<'controller'>;
  activeWorkers: Gauge<'controller'>;
  maxConcurrentReconciles: Gauge<'controller'>;
}

export function controllerMetrics(registry: Registry): ControllerMetrics {
  return {
    reconcileTotal: counter(
      registry,
      'controller_runtime_reconcile_total',
      'Total number of reconciliations per controller, by result (success, error, requeue, requeue_after).',
      ['controller', 'result'],
    ),
    reconcileErrors: counter(
      registry,
      'controller_runtime_reconcile_errors_total',
      'Total number of reconciliation errors per controller.',
      ['controller'],
    ),
    reconcileTime: histogram(
      registry,
      'controller_runtime_reconcile_time_seconds',
      'Length of time per reconciliation per controller.',
      ['controller'],
      RECONCILE_BUCKETS,
    ),
    activeWorkers: gauge(registry, 'controller_runtime_active_workers', 'Number of currently used workers per controller.', ['controller']),
    maxConcurrentReconciles: gauge(
      registry,
      'controller_runtime_max_concurrent_reconciles',
      'Maximum number of concurrent reconciles per controller.',
      ['controller'],
    ),
  };
}

export interface InformerMetrics {
  watchReconnects: Counter<'resource'>;
  relists: Counter<'resource' | 'reason'>;
  lastEvent: Gauge<'resource'>;
}

/** Informer metrics under the binary's own prefix (e.g. `shopfloor_operator`). */
export function informerMetrics(registry: Registry, prefix: string): InformerMetrics {
  return {
    watchReconnects: counter(
      registry,
      `${prefix}_watch_reconnects_total`,
      'Watch connections re-opened after they ended or failed, per resource.',
      ['resource'],
    ),
    relists: counter(
      registry,
      `${prefix}_relists_total`,
      'Full lists of a resource, by reason (initial, gone, watchdog, error).',
      ['resource', 'reason'],
    ),
    lastEvent: gauge(
      registry,
      `${prefix}_informer_last_event_timestamp_seconds`,
      'Unix time of the last watch event (including bookmarks) per resource.',
      ['resource'],
    ),
  };
}

export function leaderElectionMetrics(registry: Registry): Gauge<'name'> {
  return gauge(
    registry,
    'leader_election_master_status',
    'Whether this process currently holds the leader lease (1) or not (0), per lease name.',
    ['name'],
  );
}

export function restClientMetrics(registry: Registry): Counter<'code' | 'method'> {
  return counter(
    registry,
    'rest_client_requests_total',
    'API server requests by HTTP status code (0 = no response) and method.',
    ['code', 'method'],
  );
}

/** Under the binary's own prefix (e.g. `shopfloor_operator`). */
export function eventsDroppedMetric(registry: Registry, prefix: string): Counter<'component'> {
  return counter(
    registry,
    `${prefix}_events_dropped_total`,
    'Events not written because their object exceeded its event rate, per reporting component.',
    ['component'],
  );
}
