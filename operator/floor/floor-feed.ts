// The floor as it changes: fed by the operator's own caches (its informers and node monitor, so the
// page costs the API server nothing), it keeps every item of the floor and, a moment after
// something changes, builds again only the items that change can touch and sends those that
// differ to its listeners. One copy of the floor serves every open page: the server writes each
// change once to all of them.
//
// What a change touches: an assignment, its row, its node's card (what is in use there) and its
// workload (whose view counts it, and whose other rows may name it as a replacement); a workload,
// its view, its service and all its rows (the revision they are compared with); a NodeAgent or
// Lease, its card; a node's health (the node monitor's verdict), its card, its rows and the
// workloads it refused or holds. Workloads with replicas left unplaced are built again on every
// change of a node or its usage, since any of those may change why a node refuses.
import { BY_WORKLOAD, workloadKeyOf } from '../../api/index.js';
import { systemClock, type Clock } from '../../kube/clock.js';
import type { Lease } from '../../kube/leader-election.js';
import type { Part } from '../../kube/part.js';
import { objectKey, type EventSource, type ResourceEventHandler } from '../../kube/types.js';
import type { Cache, NodeAgentObject } from '../node-monitor.js';
import { BY_NODE, type NodeAssignmentObject, type NodeWorkloadObject } from '../objects.js';
import type { PlanNode } from '../plan.js';
import type { HealthVerdict } from '../liveness.js';
import { assignmentRow, currentRevision, nodeCard, nodeUsage, replacementNodes, serviceView, workloadView } from './floor-model.js';
import type { FloorChange, FloorItem, FloorKind, FloorSnapshot, ItemRef } from './floor-view.js';

/** Changes gather this long before they are built and sent: well within the page's second. */
export const DEFAULT_FLOOR_BATCH_MS = 200;

export interface IndexedCache<T> extends Cache<T> {
  byIndex(indexName: string, value: string): T[];
}

/** What the feed reads of the node monitor. */
export interface NodeVerdicts extends EventSource<string> {
  verdict(node: string): HealthVerdict | undefined;
  nodes(): readonly PlanNode[];
}

export interface FloorFeedOptions {
  workloads: IndexedCache<NodeWorkloadObject>;
  /** Indexed by BY_WORKLOAD and BY_NODE. */
  assignments: IndexedCache<NodeAssignmentObject>;
  agents: IndexedCache<NodeAgentObject>;
  /** Leases of the system namespace, where each agent's is named after its node. */
  leases: IndexedCache<Lease>;
  namespace: string;
  nodes: NodeVerdicts;
  nodeLossGraceMs: number;
  clock?: Clock;
  batchMs?: number;
}

const itemId = (kind: FloorKind, key: string): string => `${kind} ${key}`;

export class FloorFeed implements Part {
  readonly name = 'floor-feed';
  private readonly clock: Clock;
  /**
   * Every item as the JSON it is sent as: what a change is compared with, and what a snapshot is
   * joined from. Only the text is kept: a tenth of the memory of the objects it was made from.
   */
  private readonly items = new Map<string, string>();
  private readonly dirty = { nodes: new Set<string>(), workloads: new Set<string>(), assignments: new Set<string>() };
  /** Workloads whose view has replicas left unplaced. */
  private readonly blocked = new Set<string>();
  /** When each assignment's current version reached the cache. */
  private readonly seenAt = new Map<string, number>();
  private readonly listeners = new Set<(change: FloorChange) => void>();
  private cancelTimer: (() => void) | undefined;
  private started = false;

  constructor(private readonly o: FloorFeedOptions) {
    this.clock = o.clock ?? systemClock;
    const assignmentSeen = (a: NodeAssignmentObject): void => {
      const key = objectKey(a);
      this.seenAt.set(key, this.clock.now());
      this.assignmentTouched(a);
    };
    o.assignments.addEventHandler({
      onAdd: assignmentSeen,
      onUpdate: (old, a) => {
        if (old.spec.nodeName !== a.spec.nodeName) this.mark('nodes', old.spec.nodeName);
        assignmentSeen(a);
      },
      onDelete: (a) => {
        this.seenAt.delete(objectKey(a));
        this.assignmentTouched(a);
      },
    });
    const workloadTouched = (w: NodeWorkloadObject): void => this.mark('workloads', objectKey(w));
    o.workloads.addEventHandler({ onAdd: workloadTouched, onUpdate: (_old, w) => workloadTouched(w), onDelete: workloadTouched });
    const agentTouched = (a: NodeAgentObject): void => this.mark('nodes', a.metadata?.name ?? '');
    o.agents.addEventHandler({ onAdd: agentTouched, onUpdate: (_old, a) => agentTouched(a), onDelete: agentTouched });
    const leaseTouched: ResourceEventHandler<Lease>['onAdd'] = (l) => this.mark('nodes', l.metadata?.name ?? '');
    o.leases.addEventHandler({ onAdd: leaseTouched, onUpdate: (_old, l) => leaseTouched(l), onDelete: leaseTouched });
    const healthChanged = (node: string): void => {
      this.mark('nodes', node);
      for (const a of o.assignments.byIndex(BY_NODE, node)) {
        this.mark('assignments', objectKey(a));
        const w = workloadKeyOf(a);
        if (w) this.mark('workloads', w);
      }
      for (const w of this.blocked) this.mark('workloads', w);
    };
    o.nodes.addEventHandler({ onAdd: healthChanged, onUpdate: (_old, n) => healthChanged(n), onDelete: healthChanged });
  }

  private assignmentTouched(a: NodeAssignmentObject): void {
    this.mark('assignments', objectKey(a));
    this.mark('nodes', a.spec.nodeName);
    const w = workloadKeyOf(a);
    if (w) this.mark('workloads', w);
    for (const b of this.blocked) this.mark('workloads', b);
  }

  private mark(what: keyof FloorFeed['dirty'], key: string): void {
    if (!key) return;
    this.dirty[what].add(key);
    if (this.started && !this.cancelTimer) this.cancelTimer = this.clock.setTimer(() => this.flush(), this.o.batchMs ?? DEFAULT_FLOOR_BATCH_MS);
  }

  async start(): Promise<void> {
    const caches = [this.o.workloads, this.o.assignments, this.o.agents, this.o.leases];
    for (const cache of caches) await cache.waitForSync();
    for (const a of this.o.agents.list()) this.dirty.nodes.add(a.metadata?.name ?? '');
    for (const w of this.o.workloads.list()) this.dirty.workloads.add(objectKey(w));
    for (const a of this.o.assignments.list()) this.dirty.assignments.add(objectKey(a));
    this.build();
    this.started = true;
  }

  ready(): true | string {
    return this.started || 'the floor waits for the caches to sync';
  }

  async stop(): Promise<void> {
    this.started = false;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.listeners.clear();
  }

  /** The whole floor now, as a FloorSnapshot's JSON. */
  snapshotJson(): string {
    const head: Omit<FloorSnapshot, 'items'> = { serverTime: new Date(this.clock.now()).toISOString() };
    return `${JSON.stringify(head).slice(0, -1)},"items":[${[...this.items.values()].join(',')}]}`;
  }

  /** Calls `listener` with every change from now on; the returned function stops that. */
  subscribe(listener: (change: FloorChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Builds and sends what changed since the last flush. */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const change = this.build();
    if (change.upsert.length === 0 && change.remove.length === 0) return;
    for (const listener of this.listeners) listener(change);
  }

  private build(): FloorChange {
    const upsert: FloorItem[] = [];
    const remove: ItemRef[] = [];
    const put = (kind: FloorKind, key: string, item: FloorItem | undefined): void => {
      const id = itemId(kind, key);
      if (!item) {
        if (this.items.delete(id)) remove.push({ kind, key });
        return;
      }
      const json = JSON.stringify(item);
      if (this.items.get(id) === json) return;
      this.items.set(id, json);
      upsert.push(item);
    };
    const { nodes, workloads, assignments } = this.dirty;
    // A workload's rows compare their revision with it: they are built again with it.
    for (const w of workloads) for (const a of this.o.assignments.byIndex(BY_WORKLOAD, w)) assignments.add(objectKey(a));

    const usage = new Map<string, ReturnType<typeof nodeUsage>>();
    const usageOf = (node: string) => {
      let u = usage.get(node);
      if (!u) usage.set(node, (u = nodeUsage(this.o.assignments.byIndex(BY_NODE, node))));
      return u;
    };
    const planNodes = this.o.nodes.nodes();
    const planNode = new Map(planNodes.map((n) => [n.name, n]));

    for (const name of nodes) {
      const agent = this.o.agents.get(name);
      put('node', name, agent && nodeCard({ agent, lease: this.o.leases.get(`${this.o.namespace}/${name}`), verdict: this.o.nodes.verdict(name), plan: planNode.get(name), graceMs: this.o.nodeLossGraceMs, usage: usageOf(name) }));
    }
    for (const key of workloads) {
      const workload = this.o.workloads.get(key);
      const own = this.o.assignments.byIndex(BY_WORKLOAD, key);
      const view = workload && workloadView({ workload, assignments: own, nodes: planNodes, usageOf });
      if (view?.unplaced.length) this.blocked.add(key);
      else this.blocked.delete(key);
      put('workload', key, view);
      put('service', key, workload && serviceView(workload, own));
    }
    for (const key of assignments) {
      const a = this.o.assignments.get(key);
      if (!a) {
        put('assignment', key, undefined);
        continue;
      }
      const w = workloadKeyOf(a);
      const workload = w ? this.o.workloads.get(w) : undefined;
      const verdict = this.o.nodes.verdict(a.spec.nodeName);
      const lostSince = verdict?.health === 'Live' ? undefined : verdict?.expiredAt;
      put('assignment', key, assignmentRow(a, {
        currentRevision: workload ? currentRevision(workload) : undefined,
        verdict,
        graceMs: this.o.nodeLossGraceMs,
        replacements: w && lostSince !== undefined ? replacementNodes(this.o.assignments.byIndex(BY_WORKLOAD, w), a.spec.nodeName, lostSince) : [],
        seenAt: this.seenAt.get(key) ?? this.clock.now(),
      }));
    }
    nodes.clear();
    workloads.clear();
    assignments.clear();
    return { serverTime: new Date(this.clock.now()).toISOString(), upsert, remove };
  }
}
