// The probe workers of every pod on the node: one per container and probe type, kept in step with
// the containers the pod worker reports, their verdicts read back by the pod worker, and a call
// back whenever a probe changes one (the pod worker then re-syncs the pod; a liveness or startup
// failure makes it kill and restart the container).
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Container, Probe } from '../../api/template.js';
import { systemClock, type Clock } from '../../kube/clock.js';
import { silentLogger, type Logger } from '../../kube/logger.js';
import { runProbe, type ExecSync } from './probe-handlers.js';
import { INITIAL_RESULT, ProbeWorker, type ProbeResult, type ProbeType } from './probe-worker.js';

/** A container of a pod as the runtime reports it, with its spec. */
export interface ProbedContainer {
  name: string;
  containerId: string;
  /** ms since the epoch. */
  startedAt: number;
  running: boolean;
  spec: Container;
  /**
   * What the agent last reported for this container instance (same container ID) before it
   * restarted: carried over into the new workers so Ready and Started do not flip.
   */
  reported?: { ready?: boolean; started?: boolean } | undefined;
}

/** The pod the containers belong to: its IP for HTTP and TCP probes, and its names for metrics and logs. */
export interface ProbedPod {
  podIP: string;
  namespace: string;
  name: string;
  uid: string;
}

export interface ProbeChange {
  container: string;
  probe: ProbeType;
  result: ProbeResult;
  /** The reason the last probe gave, e.g. `HTTP probe failed with statuscode: 503`. */
  output: string;
}

export interface ProbeManagerOptions {
  /** CRI ExecSync (the CriClient's `execSync`). */
  exec: ExecSync;
  /** A probe changed a verdict of the pod. Verdicts that `sync` itself resets are readable as it returns. */
  onChange: (podKey: string, change: ProbeChange) => void;
  clock?: Clock;
  random?: () => number;
  registry?: Registry;
  logger?: Logger;
}

const PROBE_FIELD: Readonly<Record<ProbeType, 'readinessProbe' | 'livenessProbe' | 'startupProbe'>> = {
  readiness: 'readinessProbe',
  liveness: 'livenessProbe',
  startup: 'startupProbe',
};
/** Startup first: a new container's startup worker must reset before the workers it gates look at it. */
const PROBE_TYPES: readonly ProbeType[] = ['startup', 'liveness', 'readiness'];
const METRIC_TYPE: Readonly<Record<ProbeType, string>> = { readiness: 'Readiness', liveness: 'Liveness', startup: 'Startup' };
const METRIC_RESULTS = ['successful', 'failed', 'unknown'] as const;

type ProbeLabel = 'probe_type' | 'result' | 'container' | 'pod' | 'namespace' | 'pod_uid';
type DurationLabel = 'probe_type' | 'container' | 'pod' | 'namespace';
/** Prometheus' default buckets, as kubelet's probe durations use. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface WorkerEntry {
  worker: ProbeWorker;
  /** What the last probe that failed said, until one passes. */
  failure?: string;
  /** The probe the worker runs, to notice a changed spec. */
  probe: string;
}

interface PodEntry {
  pod: ProbedPod;
  /** By container name, then probe type. */
  containers: Map<string, Map<ProbeType, WorkerEntry>>;
}

export class ProbeManager {
  private readonly pods = new Map<string, PodEntry>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly probes: Counter<ProbeLabel> | undefined;
  private readonly durations: Histogram<DurationLabel> | undefined;

  constructor(private readonly options: ProbeManagerOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger();
    if (options.registry) {
      this.probes =
        (options.registry.getSingleMetric('prober_probe_total') as Counter<ProbeLabel> | undefined) ??
        new Counter({
          name: 'prober_probe_total',
          help: 'Cumulative number of a liveness, readiness or startup probe for a container by result.',
          labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
          registers: [options.registry],
        });
      this.durations =
        (options.registry.getSingleMetric('prober_probe_duration_seconds') as Histogram<DurationLabel> | undefined) ??
        new Histogram({
          name: 'prober_probe_duration_seconds',
          help: 'Duration in seconds of a successful liveness, readiness or startup probe of a container.',
          labelNames: ['probe_type', 'container', 'pod', 'namespace'],
          buckets: DURATION_BUCKETS,
          registers: [options.registry],
        });
    }
  }

  /** Brings the pod's workers in line with `containers`: new ones start, gone ones stop. */
  sync(podKey: string, containers: readonly ProbedContainer[], pod: ProbedPod): void {
    let entry = this.pods.get(podKey);
    if (!entry) {
      entry = { pod, containers: new Map() };
      this.pods.set(podKey, entry);
    }
    entry.pod = pod;
    const listed = new Set<string>();
    for (const c of containers) {
      listed.add(c.name);
      let workers = entry.containers.get(c.name);
      if (!workers) {
        workers = new Map();
        entry.containers.set(c.name, workers);
      }
      for (const type of PROBE_TYPES) this.syncWorker(podKey, entry, workers, type, c);
    }
    for (const [name, workers] of entry.containers) {
      if (listed.has(name)) continue;
      for (const type of [...workers.keys()]) this.stopWorker(entry, name, workers, type);
      entry.containers.delete(name);
    }
  }

  /** Stops every worker of the pod (it is gone, or terminating: its verdicts no longer matter). */
  remove(podKey: string): void {
    const entry = this.pods.get(podKey);
    if (!entry) return;
    for (const [name, workers] of entry.containers) for (const type of [...workers.keys()]) this.stopWorker(entry, name, workers, type);
    this.pods.delete(podKey);
  }

  /**
   * The verdict of a container's probe; `success` when the container has no such probe (kubelet:
   * without a readiness probe a running container is ready, without a startup probe it has
   * started). With `containerId`, the verdict about that instance: the initial verdict when the
   * last sync listed another. Undefined for a pod or container `sync` never listed. Only a
   * running container's verdicts mean anything: ready = running and readiness is `success`.
   */
  /** What the last failed probe of this type said, while the probe fails. */
  lastFailure(podKey: string, containerName: string, type: ProbeType): string | undefined {
    return this.pods.get(podKey)?.containers.get(containerName)?.get(type)?.failure;
  }

  result(podKey: string, containerName: string, type: ProbeType, containerId?: string): ProbeResult | undefined {
    const workers = this.pods.get(podKey)?.containers.get(containerName);
    if (!workers) return undefined;
    const worker = workers.get(type)?.worker;
    if (!worker) return 'success';
    return containerId === undefined || worker.containerId() === containerId ? worker.result() : INITIAL_RESULT[type];
  }

  /** Stops every worker (the agent shuts down). */
  stop(): void {
    for (const podKey of [...this.pods.keys()]) this.remove(podKey);
  }

  private syncWorker(podKey: string, entry: PodEntry, workers: Map<ProbeType, WorkerEntry>, type: ProbeType, c: ProbedContainer): void {
    const probe = c.spec[PROBE_FIELD[type]];
    const existing = workers.get(type);
    const probeText = probe ? JSON.stringify(probe) : undefined;
    if (existing && existing.probe !== probeText) this.stopWorker(entry, c.name, workers, type);
    const instance = { containerId: c.containerId, running: c.running, startedAt: c.startedAt };
    if (!probe || !probeText) return;
    const current = workers.get(type);
    if (current) {
      current.worker.update(instance);
      return;
    }
    workers.set(type, { worker: this.newWorker(podKey, entry, c, type, probe), probe: probeText });
  }

  private newWorker(podKey: string, entry: PodEntry, c: ProbedContainer, type: ProbeType, probe: Probe): ProbeWorker {
    const labels = (result: string): Record<ProbeLabel, string> => ({
      probe_type: METRIC_TYPE[type],
      result,
      container: c.name,
      pod: entry.pod.name,
      namespace: entry.pod.namespace,
      pod_uid: entry.pod.uid,
    });
    const log = this.logger.child({ namespace: entry.pod.namespace, pod: entry.pod.name, container: c.name, probe: type });
    const containers = entry.containers;
    const ports = c.spec.ports;
    const reported = type === 'readiness' ? c.reported?.ready : type === 'startup' ? c.reported?.started : undefined;
    let lastError: string | undefined;
    return new ProbeWorker(
      {
        type,
        probe,
        clock: this.clock,
        ...(this.options.random ? { random: this.options.random } : {}),
        // Only a success carries over: a startup probe seeded as failed would get a healthy container killed.
        seed: reported ? 'success' : undefined,
        run: (containerId) => runProbe(probe, { podIP: entry.pod.podIP, containerId, ports }, { exec: this.options.exec, clock: this.clock }),
        started: () => {
          const startup = containers.get(c.name)?.get('startup');
          return !startup || startup.worker.result() === 'success';
        },
        onProbe: (result, output, seconds) => {
          this.probes?.inc(labels(result));
          // kubelet times successful probes only: a failure's time is mostly its timeout.
          if (result === 'successful') this.durations?.observe(durationLabels(type, c.name, entry.pod), seconds);
          const entryOf = containers.get(c.name)?.get(type);
          if (entryOf && result !== 'unknown') {
            const failure = result === 'failed' ? output : undefined;
            // A new reason to fail is worth telling while the verdict stays failed (a verdict
            // that flips is told by onVerdict).
            const tell = failure !== undefined && failure !== entryOf.failure && entryOf.worker.result() === 'failure';
            entryOf.failure = failure;
            if (tell) this.options.onChange(podKey, { container: c.name, probe: type, result: entryOf.worker.result(), output });
          }
          if (result === 'unknown') {
            if (output !== lastError) log.warn({ err: output }, 'probe could not run; keeping the last verdict');
            lastError = output;
          } else {
            lastError = undefined;
          }
        },
        onVerdict: (result, output) => {
          log.info({ result, output }, `${type} probe verdict: ${result}`);
          if (type === 'startup' && result === 'success') {
            for (const gated of ['liveness', 'readiness'] as const) containers.get(c.name)?.get(gated)?.worker.trigger();
          }
          this.options.onChange(podKey, { container: c.name, probe: type, result, output });
        },
      },
      { containerId: c.containerId, running: c.running, startedAt: c.startedAt },
    );
  }

  private stopWorker(entry: PodEntry, name: string, workers: Map<ProbeType, WorkerEntry>, type: ProbeType): void {
    workers.get(type)?.worker.stop();
    workers.delete(type);
    for (const result of METRIC_RESULTS) {
      this.probes?.remove({ probe_type: METRIC_TYPE[type], result, container: name, pod: entry.pod.name, namespace: entry.pod.namespace, pod_uid: entry.pod.uid });
    }
    this.durations?.remove(durationLabels(type, name, entry.pod));
  }
}

function durationLabels(type: ProbeType, container: string, pod: ProbedPod): Record<DurationLabel, string> {
  return { probe_type: METRIC_TYPE[type], container, pod: pod.name, namespace: pod.namespace };
}
