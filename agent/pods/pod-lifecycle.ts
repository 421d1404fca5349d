// The agent's pod lifecycle as one part: the assignments of this node (from the API and from
// static manifests) are the desired state, the runtime's sandboxes and containers the actual
// state; per-assignment syncs on a work queue bring one to the other. The queue is fed by
// assignment changes, by the relist (what changed in the runtime), by probe verdicts and by
// back-off timers, so every cause of change ends in the same level-triggered sync.
import type { Registry } from 'prom-client';
import { LABEL_NODE, LABEL_STATIC, type NodeAssignment } from '../../api/index.js';
import type { KubeClient } from '../../kube/client.js';
import type { Clock } from '../../kube/clock.js';
import { Controller } from '../../kube/controller.js';
import type { Logger } from '../../kube/logger.js';
import { objectKey, type EventSource } from '../../kube/types.js';
import type { Runner } from '../exec.js';
import type { CriClient } from '../cri/client.js';
import type { Part } from '../../kube/part.js';
import { podMetrics } from './metrics.js';
import type { ObservedPod } from './observed.js';
import { PodSync, type CrashLoopBackoff, type DesiredAssignment, type FailureBackoff, type PodProbes } from './pod-sync.js';
import { DEFAULT_RELIST_PERIOD_MS, Relister } from './relist.js';
import { assignmentKeyOf, nodeSelector } from './runtime-labels.js';
import { RuntimeObserver } from './runtime-observer.js';
import { StatusWriter } from './status-writer.js';
import { PodVolumes } from './volumes.js';

/** A source of assignments the lifecycle reads by key: the API's informer, or the static manifests. */
export interface AssignmentSource extends EventSource<NodeAssignment> {
  get(key: string): NodeAssignment | undefined;
  list(): NodeAssignment[];
  hasSynced(): boolean;
}

export interface PodLifecycleOptions {
  cri: CriClient;
  client: KubeClient;
  nodeName: string;
  /** Every NodeAssignment the agent caches; the lifecycle takes those of its node. */
  assignments: AssignmentSource;
  /** Assignments from the node's static manifest directory, if any. */
  staticAssignments?: AssignmentSource;
  /** Directories of pod volumes (`<dataDir>/pods`) and of container logs. */
  podsDir: string;
  logRoot: string;
  run: Runner;
  probes: PodProbes;
  crashBackoff: CrashLoopBackoff;
  pullBackoff: FailureBackoff;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  /** Pods synced at once. Default 8. */
  workers?: number;
  relistPeriodMs?: number;
}

/** Whether an update touched what a pod sync reads: the spec (generation), labels, uid or deletion. */
export function specOrMetadataChanged(a: NodeAssignment, b: NodeAssignment): boolean {
  const m = a.metadata;
  const n = b.metadata;
  return m.generation !== n.generation || m.uid !== n.uid || m.deletionTimestamp !== n.deletionTimestamp || JSON.stringify(m.labels ?? {}) !== JSON.stringify(n.labels ?? {});
}

export class PodLifecycle implements Part {
  readonly name = 'pods';
  readonly status: StatusWriter;
  private readonly controller: Controller;
  private readonly relister: Relister;
  private readonly sync: PodSync;
  private readonly observer: RuntimeObserver;
  private running: Promise<void> | undefined;
  private tearingDown = false;

  constructor(private readonly o: PodLifecycleOptions) {
    const logger = o.logger.child({ component: 'pods' });
    const metrics = podMetrics(o.registry);
    const observer = new RuntimeObserver(o.cri, o.nodeName);
    this.observer = observer;
    this.status = new StatusWriter(o.client);
    this.sync = new PodSync({
      cri: o.cri,
      observer,
      nodeName: o.nodeName,
      logRoot: o.logRoot,
      volumes: new PodVolumes(o.podsDir, o.run),
      status: this.status,
      probes: o.probes,
      crashBackoff: o.crashBackoff,
      pullBackoff: o.pullBackoff,
      desired: (key) => this.desired(key),
      observed: (pod) => this.relister.observed(pod),
      clock: o.clock,
      logger,
      metrics,
    });
    this.controller = new Controller({
      name: 'pods',
      workers: o.workers ?? 8,
      clock: o.clock,
      registry: o.registry,
      logger,
      reconcile: (key, signal) => this.sync.sync(key, signal),
    });
    const mine = (a: NodeAssignment): string[] => (a.spec?.nodeName === this.o.nodeName || a.metadata.labels?.[LABEL_NODE] === this.o.nodeName ? [objectKey(a)] : []);
    // The agent's own status writes come back as updates: they change nothing a sync reads.
    this.controller.watch(o.assignments, mine, { updateMatters: specOrMetadataChanged });
    if (o.staticAssignments) this.controller.watch(o.staticAssignments, mine);
    this.relister = new Relister({
      cri: o.cri,
      nodeName: o.nodeName,
      clock: o.clock,
      periodMs: o.relistPeriodMs ?? DEFAULT_RELIST_PERIOD_MS,
      logger,
      metrics,
      onChange: (key) => this.controller.queue.add(key),
      syncing: (key) => this.controller.queue.isProcessing(key),
      onGone: (sandboxIds, containerIds) => {
        observer.forget(sandboxIds, containerIds);
        // Containers went away: back-off entries of pods long gone can go too.
        o.crashBackoff.gc();
        o.pullBackoff.gc();
      },
    });
  }

  /** Queues a pod for a sync now (a probe verdict changed). */
  resync(key: string): void {
    this.controller.queue.add(key);
  }

  /**
   * What should run for `key`: a static assignment wins over its own mirror in the API; an
   * API assignment counts when it is for this node.
   */
  desired(key: string): DesiredAssignment | undefined {
    if (this.tearingDown) return undefined;
    const fromFile = this.o.staticAssignments?.get(key);
    const fromApi = this.o.assignments.get(key);
    const mine = fromApi?.spec.nodeName === this.o.nodeName;
    const isMirror = fromApi?.metadata.labels?.[LABEL_STATIC] !== undefined;
    if (fromFile) return { assignment: fromFile, isStatic: true, statusTarget: mine && isMirror ? fromApi : undefined };
    if (!fromApi || !mine || isMirror) return undefined;
    return { assignment: fromApi, isStatic: false, statusTarget: fromApi };
  }

  async start(): Promise<void> {
    // The first relist queues every pod the runtime holds, so orphans are found even when no
    // assignment names them; the controller syncs nothing before the assignments have synced.
    await this.relister.start();
    this.running = this.controller.run();
  }

  ready(): true | string {
    if (!this.o.assignments.hasSynced()) return 'the assignments have not been listed yet';
    if (this.o.staticAssignments && !this.o.staticAssignments.hasSynced()) return 'the static manifests have not been read yet';
    return this.relister.healthy();
  }

  async stop(): Promise<void> {
    await this.relister.stop();
    await this.controller.stop();
    await this.running;
    this.o.probes.stop();
  }

  /** The log files of this node's running containers, for log rotation. */
  async runningContainerLogs(): Promise<Array<{ containerId: string; logPath: string }>> {
    const running = await this.o.cri.listContainers({ state: { state: 'CONTAINER_RUNNING' }, labelSelector: nodeSelector(this.o.nodeName) });
    const statuses = await Promise.all(running.map((c) => this.o.cri.containerStatus(c.id).catch(() => undefined)));
    return statuses.filter((s) => s !== undefined && s.logPath !== '').map((s) => ({ containerId: s!.id, logPath: s!.logPath }));
  }

  /** What the runtime holds for `key` now: its sandboxes and container instances with their log paths (the log server reads them). */
  observe(key: string): Promise<ObservedPod> {
    return this.observer.observe(key);
  }

  /** Pods with a ready sandbox, as of the last relist. */
  runningPods(): number {
    return this.relister.runningPods();
  }

  /**
   * Stops syncing, then stops and removes every pod of this node with its grace period, its
   * volumes and its logs: what a whole local Shopfloor going down leaves behind is nothing.
   */
  async removeAllPods(): Promise<void> {
    await this.stop();
    this.tearingDown = true;
    const keys = new Set<string>();
    for (const s of await this.o.cri.listPodSandbox({ labelSelector: nodeSelector(this.o.nodeName) })) {
      const key = assignmentKeyOf(s.labels);
      if (key) keys.add(key);
    }
    const never = new AbortController().signal;
    await Promise.all([...keys].map((key) => this.sync.sync(key, never)));
  }
}
