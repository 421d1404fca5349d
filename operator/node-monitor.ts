// Node liveness as the controllers see it: NodeAgents (what a node offers) joined with their
// Leases (whether it is alive). A source of node events for controllers to watch: it reports a
// node (by name) only when something placement depends on changes, and wakes itself when a Lease
// is about to expire, so renewals every 10 s cost nothing.
import { cpuMillis, memoryBytes, type NodeAgentStatus } from '../api/index.js';
import { systemClock, type Clock } from '../kube/clock.js';
import type { Lease } from '../kube/leader-election.js';
import type { Part } from '../kube/part.js';
import type { EventSource, KubeObject, ResourceEventHandler } from '../kube/types.js';
import { LeaseTracker, nodeHealth, type HealthVerdict, type NodeHealth } from './liveness.js';
import type { PlanNode } from './plan.js';
import type { Allocatable } from './scheduler.js';

export interface NodeAgentObject extends KubeObject {
  spec?: { unschedulable?: boolean; podCIDR?: string };
  status?: NodeAgentStatus;
}

/** The part of an informer the monitor reads. */
export interface Cache<T> {
  addEventHandler(handler: ResourceEventHandler<T>): void;
  get(key: string): T | undefined;
  list(): T[];
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

export interface NodeMonitorOptions {
  agents: Cache<NodeAgentObject>;
  /** Leases of the system namespace; those named after a NodeAgent are its heartbeat. */
  leases: Cache<Lease>;
  nodeLossGraceMs: number;
  clock?: Clock;
}

function allocatableOf(status: NodeAgentStatus | undefined): Allocatable | undefined {
  const a = status?.allocatable;
  if (!a) return undefined;
  try {
    return { cpuMillis: cpuMillis(a.cpu), memoryBytes: memoryBytes(a.memory), ...(a.pods !== undefined ? { pods: a.pods } : {}) };
  } catch {
    // A malformed quantity from an agent makes the node unusable, not the operator.
    return undefined;
  }
}

/** What placement reads from a NodeAgent; a change here may move replicas. */
function placementFacts(agent: NodeAgentObject): string {
  return JSON.stringify([agent.metadata?.labels ?? {}, agent.spec?.unschedulable ?? false, agent.status?.allocatable ?? null]);
}

/**
 * Its events carry node names: add when a NodeAgent appears, update when what it offers or its
 * health changes, delete when it goes.
 */
export class NodeMonitor implements EventSource<string>, Part {
  readonly name = 'node-monitor';
  private readonly clock: Clock;
  private readonly handlers: ResourceEventHandler<string>[] = [];
  private readonly tracker = new LeaseTracker();
  private readonly health = new Map<string, NodeHealth>();
  private readonly timers = new Map<string, () => void>();
  private readonly allocatable = new WeakMap<NodeAgentObject, Allocatable | undefined>();
  private stopped = false;
  /**
   * The nodes as the planner takes them, built again only when one of them changes (what it
   * offers, or its health): every reconcile reads them, and at 500 nodes building them was a
   * tenth of a reconcile's CPU.
   */
  private planNodes: readonly PlanNode[] | undefined;

  constructor(private readonly options: NodeMonitorOptions) {
    this.clock = options.clock ?? systemClock;
    options.leases.addEventHandler({
      onAdd: (l) => this.leaseSeen(l),
      onUpdate: (_old, l) => this.leaseSeen(l),
      onDelete: (l) => {
        const node = l.metadata?.name ?? '';
        this.tracker.forget(node);
        if (options.agents.get(node)) this.tracker.observe(node, undefined, this.clock.now());
        this.evaluate(node);
      },
    });
    options.agents.addEventHandler({
      onAdd: (a) => this.agentSeen(a),
      onUpdate: (old, a) => {
        if (placementFacts(old) !== placementFacts(a)) this.agentSeen(a);
      },
      onDelete: (a) => {
        const node = a.metadata?.name ?? '';
        this.planNodes = undefined;
        this.health.delete(node);
        this.timers.get(node)?.();
        this.timers.delete(node);
        for (const h of this.handlers) h.onDelete?.(node);
      },
    });
  }

  addEventHandler(handler: ResourceEventHandler<string>): void {
    this.handlers.push(handler);
  }

  /** Resolves once both the NodeAgent and the Lease caches have synced. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    return (await this.options.agents.waitForSync(signal)) && (await this.options.leases.waitForSync(signal));
  }

  /** The monitor only reacts to its caches' events: there is nothing to start. */
  async start(): Promise<void> {}

  ready(): true {
    return true;
  }

  /** The node's health now; undefined when no NodeAgent of that name exists. */
  verdict(node: string): HealthVerdict | undefined {
    if (!this.options.agents.get(node)) return undefined;
    const seen = this.tracker.get(node) ?? this.tracker.observe(node, undefined, this.clock.now());
    return nodeHealth(seen, this.clock.now(), this.options.nodeLossGraceMs);
  }

  /** Every registered node, as the planner takes them; shared, not to be changed. */
  nodes(): readonly PlanNode[] {
    return (this.planNodes ??= this.buildNodes());
  }

  private buildNodes(): PlanNode[] {
    const out: PlanNode[] = [];
    for (const agent of this.options.agents.list()) {
      const name = agent.metadata?.name;
      if (!name) continue;
      const health = this.verdict(name)?.health ?? 'Expired';
      if (!this.allocatable.has(agent)) this.allocatable.set(agent, allocatableOf(agent.status));
      out.push({
        name,
        labels: agent.metadata?.labels ?? {},
        allocatable: this.allocatable.get(agent),
        unschedulable: agent.spec?.unschedulable ?? false,
        live: health === 'Live',
        health,
      });
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private leaseSeen(lease: Lease): void {
    const node = lease.metadata?.name ?? '';
    this.tracker.observe(node, lease.spec, this.clock.now());
    this.evaluate(node);
  }

  private agentSeen(agent: NodeAgentObject): void {
    const node = agent.metadata?.name ?? '';
    this.evaluate(node, true);
  }

  /** Recomputes one node's health, reports a change, and arms a timer for the next one. */
  private evaluate(node: string, force = false): void {
    if (this.stopped) return;
    const verdict = this.verdict(node);
    this.timers.get(node)?.();
    this.timers.delete(node);
    if (!verdict) return;
    const before = this.health.get(node);
    this.health.set(node, verdict.health);
    if (verdict.changesAt !== undefined) {
      this.timers.set(
        node,
        this.clock.setTimer(() => this.evaluate(node), verdict.changesAt - this.clock.now()),
      );
    }
    if (!force && before === verdict.health) return;
    this.planNodes = undefined;
    for (const h of this.handlers) {
      if (before === undefined) h.onAdd?.(node);
      else h.onUpdate?.(node, node);
    }
  }
}
