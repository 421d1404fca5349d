// What one NodeWorkload's assignments should become, from a snapshot of the nodes and of what is
// placed: which assignments to create, delete, mark Unknown or mark replaced. Pure, so that
// scaling, rolling updates and node loss are table-tested without a server.
import type { Phase } from '../api/index.js';
import type { NodeHealth } from './liveness.js';
import {
  NO_USAGE,
  addUsage,
  describeIneligibility,
  explainUnplaced,
  formatSelector,
  matchesSelector,
  placeOn,
  placeReplicas,
  type Ineligibility,
  type NodeUsage,
  type Resources,
  type SchedulerNode,
  type Unplaced,
} from './scheduler.js';

export interface PlanNode extends SchedulerNode {
  health: NodeHealth;
}

/** An existing NodeAssignment of the workload, reduced to what planning needs. */
export interface AssignmentView {
  name: string;
  nodeName: string;
  revision: string;
  /** status.ready as the node's agent reported it. */
  ready: boolean;
  phase?: Phase;
  /** The operator placed a replacement elsewhere because the node was lost. */
  replaced: boolean;
  requests: Resources;
  /** Creation time in ms; newer replicas go first on scale-down. */
  createdAt: number;
}

export interface PlanInput {
  mode: 'Replicas' | 'EveryNode';
  /** Replicas mode: how many. */
  replicas: number;
  selector: Readonly<Record<string, string>> | undefined;
  maxPerNode: number | undefined;
  /** Resolved against the desired count by `resolveMaxUnavailable`. */
  maxUnavailable: number | string;
  revision: string;
  /** Requests of one replica of the current template. */
  request: Resources;
  nodes: readonly PlanNode[];
  /** This workload's assignments. */
  assignments: readonly AssignmentView[];
  /** Requests placed per node over every workload, this one's assignments included. */
  usage: ReadonlyMap<string, NodeUsage>;
}

export interface PlannedDelete {
  name: string;
  nodeName: string;
  why: string;
}

export interface Plan {
  desired: number;
  /** Node names for new assignments at the current revision, one entry per replica. */
  create: string[];
  delete: PlannedDelete[];
  /** Assignments on nodes whose Lease expired, whose phase is not Unknown yet. */
  markUnknown: string[];
  /** Replicas mode: assignments on lost nodes that get a replacement in this plan. */
  markReplaced: string[];
  /** The assignments that stay and count as replicas (not those being deleted or replaced). */
  kept: AssignmentView[];
  /** Why some desired replicas have no node, when that is so. */
  unplaced?: Unplaced;
}

/** maxUnavailable as a count: a percentage of `desired` rounds up so that any percentage above 0% lets a rollout move. */
export function resolveMaxUnavailable(value: number | string, desired: number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d{1,3})%$/.exec(value);
  if (!m) throw new Error(`maxUnavailable "${value}" is neither a whole number nor a percentage such as 25%`);
  return Math.ceil((desired * Number(m[1])) / 100);
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function planWorkload(input: PlanInput): Plan {
  const nodes = new Map(input.nodes.map((n) => [n.name, n]));
  const usage = new Map(input.usage);
  const own = new Map<string, number>();
  const sel = formatSelector(input.selector);
  const plan: Plan = { desired: 0, create: [], delete: [], markUnknown: [], markReplaced: [], kept: [] };
  const live = (a: AssignmentView): boolean => nodes.get(a.nodeName)?.health === 'Live';
  const available = (a: AssignmentView): boolean => a.ready && live(a);
  const free = (a: AssignmentView): void => {
    usage.set(a.nodeName, addUsage(usage.get(a.nodeName) ?? NO_USAGE, a.requests, -1));
    own.set(a.nodeName, (own.get(a.nodeName) ?? 1) - 1);
  };
  const remove = (a: AssignmentView, why: string): void => {
    plan.delete.push({ name: a.name, nodeName: a.nodeName, why });
    free(a);
  };

  // 1. Sort each assignment into: must go, stale (replaced), or counted.
  let kept: AssignmentView[] = [];
  const ordered = [...input.assignments].sort((a, b) => a.createdAt - b.createdAt || byName(a, b));
  for (const a of ordered) own.set(a.nodeName, (own.get(a.nodeName) ?? 0) + 1);
  for (const a of ordered) {
    const node = nodes.get(a.nodeName);
    if (!node) {
      remove(a, `NodeAgent ${a.nodeName} is gone`);
      continue;
    }
    if (a.replaced) {
      if (node.health === 'Live') remove(a, `${a.nodeName} is back and this replica was replaced while it was lost`);
      continue;
    }
    if (!matchesSelector(node.labels, input.selector)) {
      remove(a, `${a.nodeName} no longer matches nodeSelector ${sel}`);
      continue;
    }
    if (node.health !== 'Live' && a.phase !== 'Unknown') plan.markUnknown.push(a.name);
    if (node.health === 'Lost' && input.mode === 'Replicas') {
      plan.markReplaced.push(a.name);
      continue;
    }
    kept.push(a);
  }

  // Removal order: unavailable before available, old revision before current, crowded nodes
  // before spread ones, newest first.
  const removalRank = (list: AssignmentView[]): AssignmentView[] =>
    [...list].sort(
      (a, b) =>
        Number(available(a)) - Number(available(b)) ||
        Number(a.revision === input.revision) - Number(b.revision === input.revision) ||
        (own.get(b.nodeName) ?? 0) - (own.get(a.nodeName) ?? 0) ||
        b.createdAt - a.createdAt ||
        byName(b, a),
    );

  // 2. One replica per node in EveryNode mode, at most maxPerNode in Replicas mode.
  const perNodeLimit = input.mode === 'EveryNode' ? 1 : input.maxPerNode;
  if (perNodeLimit !== undefined) {
    const byNode = new Map<string, AssignmentView[]>();
    for (const a of kept) byNode.set(a.nodeName, [...(byNode.get(a.nodeName) ?? []), a]);
    for (const [nodeName, list] of byNode) {
      if (list.length <= perNodeLimit) continue;
      const surplus = removalRank(list).slice(0, list.length - perNodeLimit);
      const why = input.mode === 'EveryNode' ? `more than one replica on ${nodeName}` : `more than maxPerNode ${perNodeLimit} replicas on ${nodeName}`;
      for (const a of surplus) remove(a, why);
      kept = kept.filter((a) => !surplus.includes(a));
    }
  }

  // 3. How many replicas the workload wants.
  if (input.mode === 'Replicas') {
    plan.desired = input.replicas;
  } else {
    const hosting = new Set(kept.map((a) => a.nodeName));
    plan.desired = input.nodes.filter(
      (n) => matchesSelector(n.labels, input.selector) && (hosting.has(n.name) || (n.health === 'Live' && !n.unschedulable)),
    ).length;
  }

  // 4. Scale down.
  if (input.mode === 'Replicas' && kept.length > plan.desired) {
    const surplus = removalRank(kept).slice(0, kept.length - plan.desired);
    for (const a of surplus) remove(a, `scaled down to ${plan.desired} replicas`);
    kept = kept.filter((a) => !surplus.includes(a));
  }

  // 5. Scale up: place what is missing at the current revision.
  const placeCtx = { selector: input.selector, request: input.request, usage, own };
  if (input.mode === 'Replicas') {
    const missing = plan.desired - kept.length;
    if (missing > 0) {
      const r = placeReplicas({ ...placeCtx, count: missing, maxPerNode: input.maxPerNode, nodes: input.nodes });
      plan.create.push(...r.placed);
      if (r.unplaced) plan.unplaced = r.unplaced;
    }
  } else {
    const hosting = new Set(kept.map((a) => a.nodeName));
    const rejected = new Map<string, Ineligibility>();
    let matching = 0;
    for (const n of [...input.nodes].sort(byName)) {
      if (!matchesSelector(n.labels, input.selector)) continue;
      matching++;
      if (hosting.has(n.name) || n.health !== 'Live' || n.unschedulable) continue;
      const why = placeOn(n, placeCtx);
      if (why) rejected.set(n.name, why);
      else plan.create.push(n.name);
    }
    if (matching === 0) {
      const all = new Map<string, Ineligibility>(input.nodes.map((n) => [n.name, { kind: 'Selector' }]));
      plan.unplaced = explainUnplaced(input.nodes.length, input.selector, all);
    }
    else if (rejected.size > 0) {
      plan.unplaced = explainUnplaced(input.nodes.length, input.selector, rejected, `${rejected.size} of ${plan.desired} nodes could not take a replica: `);
    }
  }

  // 6. Rolling update: replace old-revision replicas on live nodes while no more than
  // maxUnavailable of the desired replicas are unavailable. A replica is only taken away once
  // its replacement has a place, so a rollout that cannot fit stalls with the old one running.
  const maxUnavailable = resolveMaxUnavailable(input.maxUnavailable, plan.desired);
  let availableCount = kept.filter(available).length;
  const old = kept
    .filter((a) => a.revision !== input.revision && live(a))
    .sort((a, b) => Number(a.ready) - Number(b.ready) || a.nodeName.localeCompare(b.nodeName) || byName(a, b));
  const replaced = new Set<AssignmentView>();
  for (const a of old) {
    const wasAvailable = available(a);
    if (wasAvailable && availableCount - 1 < plan.desired - maxUnavailable) continue;
    const before = { usage: usage.get(a.nodeName), own: own.get(a.nodeName) };
    free(a);
    let target: string | undefined;
    if (input.mode === 'EveryNode') {
      const node = nodes.get(a.nodeName) as PlanNode;
      const why = placeOn(node, placeCtx);
      if (!why) target = node.name;
      else plan.unplaced ??= { reason: 'InsufficientResources', message: `the new revision does not fit: ${describeIneligibility(node.name, why)}` };
    } else {
      const r = placeReplicas({ ...placeCtx, count: 1, maxPerNode: input.maxPerNode, nodes: input.nodes });
      target = r.placed[0];
      if (!target && r.unplaced) plan.unplaced ??= { reason: r.unplaced.reason, message: `the new revision does not fit: ${r.unplaced.message}` };
    }
    if (target === undefined) {
      if (before.usage) usage.set(a.nodeName, before.usage);
      else usage.delete(a.nodeName);
      own.set(a.nodeName, before.own ?? 0);
      continue;
    }
    plan.delete.push({ name: a.name, nodeName: a.nodeName, why: `replaced by revision ${input.revision}` });
    plan.create.push(target);
    replaced.add(a);
    if (wasAvailable) availableCount--;
  }
  plan.kept = kept.filter((a) => !replaced.has(a));
  return plan;
}
