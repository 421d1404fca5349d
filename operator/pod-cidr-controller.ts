// Hands every node that asks for one a pod IP range of its own (kube-controller-manager's node
// IPAM): an agent started with `--pod-cidr allocated` registers its NodeAgent without
// spec.podCIDR and waits; this controller, run by the leader only, writes it. Level-triggered
// over all NodeAgents at once, since one node's range depends on every other node's: observe
// (the cache, plus what this replica wrote that the cache has not shown yet) → plan
// (pod-cidr-plan.ts) → act (a merge patch per node, conditional on the resourceVersion seen, so
// that a write racing the agent's is retried rather than lost) → report (an Event per node).
import type { Registry } from 'prom-client';
import type { KubeClient } from '../kube/client.js';
import type { Clock } from '../kube/clock.js';
import { Controller, type ReconcileResult } from '../kube/controller.js';
import { isConflict, isNotFound } from '../kube/errors.js';
import type { EventRecorder } from '../kube/events.js';
import type { LeaderRunnable } from '../kube/leadership.js';
import type { Logger } from '../kube/logger.js';
import { NODE_AGENTS } from '../kube/resource.js';
import type { Cache, NodeAgentObject } from './node-monitor.js';
import { planPodCidrs, type PodCidrRange } from './pod-cidr-plan.js';

/** The one key: the plan covers every node. */
const ALL_NODES = 'nodes';

export interface PodCidrControllerOptions {
  client: KubeClient;
  agents: Cache<NodeAgentObject>;
  range: PodCidrRange;
  events: EventRecorder;
  logger: Logger;
  registry?: Registry;
  clock?: Clock;
}

export class PodCidrController implements LeaderRunnable {
  readonly name = 'pod-cidr-allocator';
  private readonly controller: Controller;
  private readonly logger: Logger;
  /** Ranges this replica wrote that the cache does not show yet, by node: never handed out twice meanwhile. */
  private readonly written = new Map<string, string>();

  constructor(private readonly o: PodCidrControllerOptions) {
    this.logger = o.logger.child({ controller: this.name });
    this.controller = new Controller({
      name: this.name,
      reconcile: (_key, signal) => this.reconcile(signal),
      logger: o.logger,
      ...(o.registry ? { registry: o.registry } : {}),
      ...(o.clock ? { clock: o.clock } : {}),
    });
    // A node that comes, goes or changes its range may free or need one.
    this.controller.watch(o.agents, () => [ALL_NODES], { updateMatters: (a, b) => a.spec?.podCIDR !== b.spec?.podCIDR });
  }

  async run(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    signal.addEventListener('abort', () => void this.controller.stop(), { once: true });
    if (!(await this.o.agents.waitForSync(signal)) || signal.aborted) return;
    this.controller.queue.add(ALL_NODES);
    await this.controller.run();
  }

  private async reconcile(signal: AbortSignal): Promise<ReconcileResult> {
    // Observe.
    const agents = this.o.agents.list();
    const names = new Set(agents.map((a) => a.metadata?.name ?? ''));
    for (const [node] of this.written) if (!names.has(node)) this.written.delete(node);
    const nodes = agents.map((a) => {
      const name = a.metadata?.name ?? '';
      if (a.spec?.podCIDR) this.written.delete(name);
      return { name, podCIDR: a.spec?.podCIDR ?? this.written.get(name) };
    });
    // Plan.
    const plan = planPodCidrs(nodes, this.o.range);
    // Act, and report.
    let conflicted = false;
    for (const { node, podCIDR } of plan.allocate) {
      const agent = this.o.agents.get(node);
      if (!agent) continue;
      try {
        await this.o.client.patch(NODE_AGENTS, node, { metadata: { resourceVersion: agent.metadata?.resourceVersion }, spec: { podCIDR } }, { signal });
      } catch (err) {
        if (isNotFound(err)) continue;
        if (isConflict(err)) {
          conflicted = true;
          continue;
        }
        throw err;
      }
      this.written.set(node, podCIDR);
      this.logger.info({ node, podCIDR }, 'allocated the node its pod range');
      this.o.events.event(agent, 'Normal', 'PodCIDRAssigned', `Node ${node} runs its pods on ${podCIDR}, from the cluster pod range ${this.o.range.cluster.text}.`);
    }
    for (const node of plan.exhausted) {
      const agent = this.o.agents.get(node);
      if (!agent) continue;
      this.logger.warn({ node, clusterPodCIDR: this.o.range.cluster.text, maskSize: this.o.range.maskSize }, 'no pod range left for the node');
      this.o.events.event(
        agent,
        'Warning',
        'CIDRNotAvailable',
        `Node ${node} gets no pod range: every /${this.o.range.maskSize} of the cluster pod range ${this.o.range.cluster.text} is held by another node. Remove NodeAgents of nodes that are gone, or give the operator a larger --cluster-pod-cidr.`,
      );
    }
    for (const { node, podCIDR, with: other } of plan.overlapping) {
      const agent = this.o.agents.get(node);
      if (!agent) continue;
      this.logger.warn({ node, podCIDR, overlaps: other }, "the node's pod range overlaps another node's");
      this.o.events.event(
        agent,
        'Warning',
        'PodCIDROverlap',
        `Node ${node}'s pod range ${podCIDR} overlaps that of node ${other}, so pods of the two may share addresses: give one agent another --pod-cidr, or --pod-cidr allocated on every node.`,
      );
    }
    // A lost race is tried again on the node as it is now; a full range waits for a node to go.
    return conflicted ? { requeue: true } : {};
  }
}
