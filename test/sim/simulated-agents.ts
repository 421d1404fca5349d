// Simulated Shopfloor agents for operator tests and benchmarks: they register NodeAgents, renew
// node Leases and mark the NodeAssignments of their nodes Running and ready, without containers.
// They stand in for the real agent where only the operator is under test, and say so in names.
import { API_VERSION, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from '../../api/index.js';
import type { KubeClient } from '../../kube/client.js';
import { isNotFound } from '../../kube/errors.js';
import { Informer } from '../../kube/informer.js';
import { microTime, type Lease } from '../../kube/leader-election.js';
import { LEASES } from '../../kube/resource.js';
import { objectKey, type KubeObject } from '../../kube/types.js';
import { NODE_AGENTS, NODE_ASSIGNMENTS } from '../../kube/resource.js';
import type { NodeAssignmentObject } from '../../operator/objects.js';

export interface SimulatedNode {
  name: string;
  labels?: Record<string, string>;
  /** Allocatable cpu; default "4". */
  cpu?: string;
  /** Allocatable memory; default "8Gi". */
  memory?: string;
  pods?: number;
  unschedulable?: boolean;
}

export interface SimulatedAgentsOptions {
  client: KubeClient;
  /** Namespace of the node Leases (the operator's system namespace). */
  namespace: string;
  /** Lease duration the simulated agents announce. Default 40 s. */
  leaseDurationSeconds?: number;
  /** Renewal period. Default 10 s. */
  renewEveryMs?: number;
  /** Delay between seeing an assignment and reporting it ready. Default 0. */
  readyAfterMs?: number;
}

/**
 * A fleet of simulated agents. A node is "up" from `add` until `pause`: while up its Lease is
 * renewed and its assignments are reported Running and ready (unless held with `holdReady`).
 */
export class SimulatedAgents {
  /** API writes the simulated agents made (registration, status, leases), by kind. */
  readonly writes = { registration: 0, leases: 0, assignmentStatus: 0 };
  private readonly nodes = new Map<string, SimulatedNode>();
  private readonly paused = new Set<string>();
  private readonly held = new Set<string>();
  private readonly informer: Informer<NodeAssignmentObject>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private renewTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private inflight = new Set<Promise<unknown>>();

  constructor(private readonly options: SimulatedAgentsOptions) {
    this.informer = new Informer<NodeAssignmentObject>({
      client: options.client,
      resource: NODE_ASSIGNMENTS,
      labelSelector: `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`,
      watchTimeoutSeconds: 60,
    });
    this.informer.addEventHandler({ onAdd: (a) => this.consider(a), onUpdate: (_o, a) => this.consider(a) });
  }

  get leaseDurationSeconds(): number {
    return this.options.leaseDurationSeconds ?? 40;
  }

  /** Registers the nodes (NodeAgent + status, Lease) and starts their heartbeats. */
  async add(nodes: SimulatedNode[], concurrency = 16): Promise<void> {
    const queue = [...nodes];
    const work = async (): Promise<void> => {
      for (let n = queue.shift(); n; n = queue.shift()) await this.register(n);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, nodes.length) }, work));
    this.informer.start();
    await this.informer.waitForSync();
    this.renewTimer ??= setInterval(() => this.renewAll(), this.options.renewEveryMs ?? 10_000);
    for (const a of this.informer.list()) this.consider(a);
  }

  /** Stops renewing `node`'s Lease and reporting its assignments, as if the node died. */
  pause(node: string): void {
    this.paused.add(node);
  }

  /** The node comes back: Lease renewed at once, assignments reported again. */
  async resume(node: string): Promise<void> {
    this.paused.delete(node);
    await this.renew(node);
    for (const a of this.informer.list()) this.consider(a);
  }

  /** Deletes the node's NodeAgent and Lease, as if it was removed from the cluster. */
  async remove(node: string): Promise<void> {
    this.nodes.delete(node);
    this.paused.delete(node);
    await ignoreNotFound(this.options.client.delete(NODE_AGENTS, node));
    await ignoreNotFound(this.options.client.delete(LEASES, node, { namespace: this.options.namespace }));
  }

  /** New assignments on `node` stay not ready until `releaseReady`. */
  holdReady(node: string): void {
    this.held.add(node);
  }

  releaseReady(node: string): void {
    this.held.delete(node);
    for (const a of this.informer.list()) this.consider(a);
  }

  /** Replaces the labels of a registered node's NodeAgent. */
  async relabel(node: string, labels: Record<string, string>): Promise<void> {
    const n = this.nodes.get(node);
    if (!n) throw new Error(`simulated node ${node} is not registered`);
    const old = n.labels ?? {};
    const patch: Record<string, string | null> = { ...labels };
    for (const k of Object.keys(old)) if (!(k in labels)) patch[k] = null;
    n.labels = labels;
    await this.options.client.patch(NODE_AGENTS, node, { metadata: { labels: patch } });
    this.writes.registration++;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    for (const t of this.timers) clearTimeout(t);
    await this.informer.stop();
    await Promise.allSettled([...this.inflight]);
  }

  private async register(n: SimulatedNode): Promise<void> {
    const { client, namespace } = this.options;
    this.nodes.set(n.name, n);
    await client.create<KubeObject>(NODE_AGENTS, {
      apiVersion: API_VERSION,
      kind: 'NodeAgent',
      metadata: { name: n.name, labels: { ...(n.labels ?? {}) } },
      spec: { unschedulable: n.unschedulable ?? false },
    } as KubeObject);
    const resources = { cpu: n.cpu ?? '4', memory: n.memory ?? '8Gi', ...(n.pods !== undefined ? { pods: n.pods } : {}) };
    await client.patchStatus(NODE_AGENTS, n.name, {
      status: {
        capacity: resources,
        allocatable: resources,
        nodeInfo: { runtimeName: 'simulated', runtimeVersion: '0', agentVersion: 'simulated', proxyMode: 'nftables' },
        conditions: [{ type: 'Ready', status: 'True', reason: 'SimulatedAgentReady', message: 'simulated agent, no containers run', lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') }],
      },
    });
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: n.name, namespace },
      spec: { holderIdentity: n.name, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: microTime(Date.now()) },
    };
    await client.create(LEASES, lease);
    this.writes.registration += 3;
  }

  private renewAll(): void {
    for (const node of this.nodes.keys()) if (!this.paused.has(node)) this.track(this.renew(node));
  }

  private async renew(node: string): Promise<void> {
    if (this.stopped) return;
    try {
      await this.options.client.patch(LEASES, node, { spec: { renewTime: microTime(Date.now()) } }, { namespace: this.options.namespace });
      this.writes.leases++;
    } catch {
      // A missed renewal is what a flaky node does; the next period tries again.
    }
  }

  private consider(a: NodeAssignmentObject): void {
    const node = a.spec?.nodeName;
    if (this.stopped || !node || !this.nodes.has(node) || this.paused.has(node) || this.held.has(node)) return;
    if (a.status?.ready === true && a.status.phase === 'Running') return;
    const key = objectKey(a);
    const delay = this.options.readyAfterMs ?? 0;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.track(this.markReady(key));
    }, delay);
    this.timers.add(t);
  }

  private async markReady(key: string): Promise<void> {
    const a = this.informer.get(key);
    const node = a?.spec?.nodeName;
    if (!a || this.stopped || !node || this.paused.has(node) || this.held.has(node)) return;
    if (a.status?.ready === true && a.status.phase === 'Running') return;
    try {
      await this.options.client.patchStatus(NODE_ASSIGNMENTS, a.metadata?.name ?? '', readyStatusPatch(a), { namespace: a.metadata?.namespace });
      this.writes.assignmentStatus++;
    } catch (err) {
      // Gone is final; any other failure is retried, as an agent would, or the replica would
      // stay not ready until some other change to it came by.
      if (!isNotFound(err)) this.consider(a);
    }
  }

  private track(p: Promise<unknown>): void {
    const guarded = p.catch(() => undefined);
    this.inflight.add(guarded);
    void guarded.finally(() => this.inflight.delete(guarded));
  }
}

/** The status patch a simulated agent writes once it has "started" an assignment: Running and ready. */
export function readyStatusPatch(a: NodeAssignmentObject): { status: Record<string, unknown> } {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    status: {
      phase: 'Running',
      ready: true,
      podIP: '10.244.0.2',
      observedGeneration: a.metadata?.generation ?? 1,
      containers: a.spec.template.containers.map((c) => ({ name: c.name, state: 'Running', ready: true, restartCount: 0, startedAt: now })),
      conditions: [{ type: 'Ready', status: 'True', reason: 'SimulatedReady', message: 'simulated agent reports ready', lastTransitionTime: now }],
    },
  };
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
