// The NodeWorkload controller. A reconcile is four steps: observe (workload-observe.ts: the
// workload, its assignments, the nodes and their use, from the caches), plan (reconcile-plan.ts,
// pure, over planWorkload), act (actions.ts: one executor carries the actions out) and report
// (workload-report.ts, pure: status and events). Level-triggered and keyed by namespace/name;
// it declares the watches that bring a workload back to it, and runs only while leading.
import { setMaxListeners } from 'node:events';
import type { Registry } from 'prom-client';
import { BY_WORKLOAD, workloadKeyOf } from '../api/index.js';
import type { KubeClient } from '../kube/client.js';
import { systemClock, type Clock } from '../kube/clock.js';
import { Controller, type ReconcileResult } from '../kube/controller.js';
import type { EventRecorder } from '../kube/events.js';
import type { Informer } from '../kube/informer.js';
import type { LeaderRunnable } from '../kube/leadership.js';
import type { Logger } from '../kube/logger.js';
import { NODE_WORKLOADS } from '../kube/resource.js';
import { patchStatusIfChanged } from '../kube/status.js';
import { objectKey, type EventSource, type KubeObject } from '../kube/types.js';
import { ActionExecutor, type Outcome } from './actions.js';
import { AssumedUsage } from './assumed-usage.js';
import { Expectations } from './expectations.js';
import { BY_NODE, type NodeAssignmentObject, type NodeWorkloadObject } from './objects.js';
import type { PlanNode } from './plan.js';
import { planReconcile, type ReconcilePlan } from './reconcile-plan.js';
import type { VipAllocator } from './vip-allocator.js';
import { VipClaims } from './vip-claims.js';
import { checkStatus, followAssignmentCache, observeWorkload, type ObserveSources } from './workload-observe.js';
import { reportFor, type ReportInput } from './workload-report.js';

const FIELD_MANAGER = 'shopfloor-operator';
/** Milliseconds that assignment changes of one workload are gathered before it is reconciled. */
export const ASSIGNMENT_BATCH_MS = 1_000;
/** Milliseconds that node changes are gathered before the workloads they affect are reconciled. */
export const NODE_BATCH_MS = 500;
/**
 * A reconciled workload is looked at again after this long, plus up to a tenth more at random
 * so that workloads do not come back all at once: what the caches of this operator hold (node
 * usage, expectations, VIPs) may drift from the cluster without an event to say so.
 */
export const RESYNC_MS = 10 * 60_000;
const RESYNC_JITTER = 0.1;

/** The delay of the next look at a reconciled workload: RESYNC_MS, jittered by `random()` in [0, 1). */
export function resyncAfterMs(random: () => number): number {
  return Math.round(RESYNC_MS * (1 + RESYNC_JITTER * random()));
}

export interface WorkloadControllerDeps {
  client: KubeClient;
  workloads: Informer<NodeWorkloadObject>;
  assignments: Informer<NodeAssignmentObject>;
  /** The nodes as placement sees them, and their changes (the NodeMonitor). */
  nodes: EventSource<string> & { nodes(): readonly PlanNode[] };
  vips: VipAllocator;
  events: EventRecorder;
  logger: Logger;
  registry?: Registry;
  /** Concurrent reconciles. Default 4. */
  workers?: number;
  clock?: Clock;
  /** In [0, 1): jitters the resync. Default Math.random. */
  random?: () => number;
}

function isEveryNode(workload: NodeWorkloadObject): boolean {
  const spec = workload.spec as { placement?: { mode?: unknown } } | undefined;
  return spec?.placement?.mode === 'EveryNode';
}

/** Changes to a workload that a reconcile must see; its own status writes are not among them. */
function specChanged(a: KubeObject, b: KubeObject): boolean {
  const ma = a.metadata ?? {};
  const mb = b.metadata ?? {};
  return (
    ma.generation !== mb.generation ||
    ma.uid !== mb.uid ||
    ma.deletionTimestamp !== mb.deletionTimestamp ||
    (ma.finalizers ?? []).join() !== (mb.finalizers ?? []).join()
  );
}

export class WorkloadController implements LeaderRunnable {
  readonly name = 'nodeworkload';
  /** Workloads whose last plan left replicas without a node: node changes and freed capacity retry them. */
  readonly blocked = new Set<string>();
  private readonly controller: Controller;
  private readonly vips: VipClaims;
  private readonly sources: ObserveSources;
  private readonly executor: ActionExecutor;
  private readonly random: () => number;
  private readonly logger: Logger;

  constructor(private readonly d: WorkloadControllerDeps) {
    const clock = d.clock ?? systemClock;
    this.random = d.random ?? Math.random;
    this.logger = d.logger;
    this.controller = new Controller({
      name: this.name,
      workers: d.workers ?? 4,
      clock,
      registry: d.registry,
      logger: d.logger,
      reconcile: (key, signal) => this.reconcile(key, signal),
    });
    const queue = this.controller.queue;
    this.vips = new VipClaims(d.vips, (key) => queue.add(key));
    const usage = new AssumedUsage();
    const expectations = new Expectations<NodeAssignmentObject>(() => clock.now());
    d.assignments.addEventHandler(followAssignmentCache(usage, expectations));
    this.sources = { workloads: d.workloads, assignments: d.assignments, nodes: d.nodes, usage, expectations, vips: this.vips, clock };
    this.executor = new ActionExecutor({ client: d.client, vips: this.vips, usage, expectations, fieldManager: FIELD_MANAGER });

    // What brings a workload back: its own changes, those of its assignments (gathered), freed
    // capacity for the blocked, and node changes for the workloads they may move.
    this.controller.watch(d.workloads, undefined, { updateMatters: specChanged });
    this.controller.watch(
      d.assignments,
      (assignment, change) => {
        const owner = workloadKeyOf(assignment);
        return [...(owner ? [owner] : []), ...(change === 'delete' ? this.blocked : [])];
      },
      { delayMs: ASSIGNMENT_BATCH_MS },
    );
    this.controller.watch(d.nodes, (node) => this.affectedBy(node), { delayMs: NODE_BATCH_MS });
  }

  /** Reconciles until `signal` aborts, once the caches have synced and the VIP table is rebuilt. */
  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    signal.addEventListener('abort', () => void this.controller.stop(), { once: true });
    for (const source of [this.d.workloads, this.d.assignments, this.d.nodes]) if (!(await source.waitForSync(signal))) return;
    if (signal.aborted) return;
    // The VIP table is rebuilt from what earlier leaders wrote, oldest workload first, so that
    // a clash (which only hand edits can cause) keeps the address with its first owner.
    const byAge = this.d.workloads
      .list()
      .sort((a, b) => (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') || objectKey(a).localeCompare(objectKey(b)));
    for (const workload of byAge) {
      const ip = checkStatus(workload.status).status?.clusterIP;
      if (ip && !this.d.vips.restore(objectKey(workload), ip)) {
        this.logger.warn({ namespace: workload.metadata?.namespace, name: workload.metadata?.name, clusterIP: ip }, 'status.clusterIP is outside the VIP range or held by another workload; a new address will be allocated');
      }
    }
    this.logger.info({ workloads: byAge.length, vips: this.d.vips.allocated, vipCidr: this.d.vips.cidr.text }, 'caches synced; reconciling');
    for (const workload of byAge) this.controller.queue.add(objectKey(workload));
    // Assignments whose workload is gone are cleaned up by reconciling the missing key.
    for (const owner of this.d.assignments.store.indexValues(BY_WORKLOAD)) this.controller.queue.add(owner);
    await this.controller.run();
  }

  async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    // Every write of every worker listens on this one signal; dozens at once are expected.
    setMaxListeners(0, signal);
    const observation = observeWorkload(this.sources, key);
    const plan = planReconcile(observation);
    const outcome = await this.executor.execute({ key, workload: observation.workload, actions: plan.actions, signal });
    if (plan.kind === 'placing' && plan.placement.unplaced) this.blocked.add(key);
    else this.blocked.delete(key);
    this.logCarriedOut(key, plan, outcome);

    if (outcome.stopped === 'conflict') return { requeue: true };
    if (outcome.stopped === 'failed') throw outcome.error;
    if (outcome.stopped === 'gone') return {};
    await this.report({ observation, plan, outcome }, signal);
    if (outcome.error) throw outcome.error;
    return observation.workload ? { requeueAfterMs: resyncAfterMs(this.random) } : {};
  }

  /** Records the events of the report, and writes its status when it differs from what is stored. */
  private async report(input: ReportInput, signal: AbortSignal): Promise<void> {
    const { observation, plan, outcome } = input;
    const observed = observation.workload;
    if (!observed) return;
    const report = reportFor(input);
    for (const e of report.events) this.d.events.event(observed, e.type, e.reason, e.message);
    if (!report.status) return;
    // Diffed against the status as stored, so that the write replaces the fields observe left out.
    const base = { ...(outcome.workload ?? observed), status: observation.storedStatus as NodeWorkloadObject['status'] };
    await patchStatusIfChanged(this.d.client, NODE_WORKLOADS, base, report.status, { fieldManager: FIELD_MANAGER, signal });
    for (const e of report.statusEvents) this.d.events.event(observed, e.type, e.reason, e.message);
    if (plan.kind === 'invalid' && report.statusEvents.length) {
      this.logger.warn({ namespace: observed.metadata?.namespace, name: observed.metadata?.name, errors: plan.errors }, 'spec is invalid; assignments left as they are');
    }
  }

  /** One line for each plan that changed something: what it wrote, and what became of the VIP. */
  private logCarriedOut(key: string, plan: ReconcilePlan, outcome: Outcome): void {
    const vip = outcome.vip?.moved ? `claimed ${outcome.vip.moved.to}` : outcome.released ? `released ${outcome.released}` : undefined;
    if (!outcome.creates && !outcome.patches && !outcome.deletes && !outcome.createsSkipped && !vip && !outcome.finalizer) return;
    this.logger.info(
      {
        workload: key,
        plan: plan.kind,
        creates: outcome.creates,
        patches: outcome.patches,
        deletes: outcome.deletes,
        ...(vip ? { vip } : {}),
        ...(outcome.finalizer ? { finalizer: outcome.finalizer } : {}),
        ...(outcome.createsSkipped ? { createsSkipped: true } : {}),
        ...(outcome.error ? { error: outcome.error.message } : {}),
      },
      'plan carried out',
    );
  }

  /** The workloads a change of `node` may move: those with a replica there, every EveryNode one, and the blocked. */
  private affectedBy(node: string): Set<string> {
    const keys = new Set<string>(this.blocked);
    for (const assignment of this.d.assignments.byIndex(BY_NODE, node)) {
      const owner = workloadKeyOf(assignment);
      if (owner) keys.add(owner);
    }
    for (const workload of this.d.workloads.list()) if (isEveryNode(workload)) keys.add(objectKey(workload));
    return keys;
  }
}
