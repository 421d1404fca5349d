// Where replicas may go and where they go: pure functions over a snapshot of the nodes, so that
// every placement decision is table-tested without a server.
import { cpuMillis, memoryBytes, type Template } from '../api/index.js';

export interface Resources {
  cpuMillis: number;
  memoryBytes: number;
}

export interface Allocatable extends Resources {
  /** Replicas the node accepts; no limit when absent. */
  pods?: number;
}

/** A node as the scheduler sees it: its NodeAgent and its liveness. */
export interface SchedulerNode {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Undefined while the agent has not reported what the node can hold. */
  allocatable: Allocatable | undefined;
  unschedulable: boolean;
  /** Lease renewed within its duration. */
  live: boolean;
}

/** What is already placed on a node, over all workloads. */
export interface NodeUsage extends Resources {
  pods: number;
}

export const NO_USAGE: NodeUsage = { cpuMillis: 0, memoryBytes: 0, pods: 0 };

/** The requests of one replica: the sum over its containers (a limit stands in for a missing request, as in Kubernetes). */
export function templateRequests(t: Pick<Template, 'containers'>): Resources {
  let cpu = 0;
  let memory = 0;
  for (const c of t.containers) {
    const cpuQ = c.resources?.requests?.cpu ?? c.resources?.limits?.cpu;
    const memQ = c.resources?.requests?.memory ?? c.resources?.limits?.memory;
    if (cpuQ !== undefined) cpu += cpuMillis(cpuQ);
    if (memQ !== undefined) memory += memoryBytes(memQ);
  }
  return { cpuMillis: cpu, memoryBytes: memory };
}

export function addUsage(u: NodeUsage, r: Resources, sign: 1 | -1 = 1): NodeUsage {
  return { cpuMillis: u.cpuMillis + sign * r.cpuMillis, memoryBytes: u.memoryBytes + sign * r.memoryBytes, pods: u.pods + sign };
}

export function matchesSelector(labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

export function formatSelector(selector: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(selector ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/** Why a node cannot take one more replica, most basic first. */
export type Ineligibility =
  | { kind: 'Selector' }
  | { kind: 'NotLive' }
  | { kind: 'Unschedulable' }
  | { kind: 'NoAllocatable' }
  | { kind: 'MaxPerNode'; max: number }
  | { kind: 'InsufficientCpu'; request: number; free: number }
  | { kind: 'InsufficientMemory'; request: number; free: number }
  | { kind: 'TooManyPods'; max: number };

/** Whether `node` can take one more replica with `request`, given what is placed there. */
export function checkNode(
  node: SchedulerNode,
  selector: Readonly<Record<string, string>> | undefined,
  request: Resources,
  usage: NodeUsage,
  ownOnNode = 0,
  maxPerNode?: number,
): Ineligibility | undefined {
  if (!matchesSelector(node.labels, selector)) return { kind: 'Selector' };
  if (!node.live) return { kind: 'NotLive' };
  if (node.unschedulable) return { kind: 'Unschedulable' };
  const a = node.allocatable;
  if (!a) return { kind: 'NoAllocatable' };
  if (maxPerNode !== undefined && ownOnNode >= maxPerNode) return { kind: 'MaxPerNode', max: maxPerNode };
  if (a.pods !== undefined && usage.pods + 1 > a.pods) return { kind: 'TooManyPods', max: a.pods };
  if (usage.cpuMillis + request.cpuMillis > a.cpuMillis) return { kind: 'InsufficientCpu', request: request.cpuMillis, free: a.cpuMillis - usage.cpuMillis };
  if (usage.memoryBytes + request.memoryBytes > a.memoryBytes) {
    return { kind: 'InsufficientMemory', request: request.memoryBytes, free: a.memoryBytes - usage.memoryBytes };
  }
  return undefined;
}

/** A reason the user can act on, for a Degraded condition or an event. */
export interface Unplaced {
  reason: 'Unschedulable' | 'InsufficientResources';
  message: string;
}

function formatCpu(m: number): string {
  return m % 1000 === 0 ? `${m / 1000}` : `${m}m`;
}

function formatMemory(b: number): string {
  for (const [unit, size] of [['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (b >= size && b % size === 0) return `${b / size}${unit}`;
  }
  return `${b}`;
}

export function describeIneligibility(name: string, why: Ineligibility): string {
  switch (why.kind) {
    case 'Selector':
      return `${name} does not match the nodeSelector`;
    case 'NotLive':
      return `${name} is not ready (its Lease is not renewed)`;
    case 'Unschedulable':
      return `${name} is unschedulable`;
    case 'NoAllocatable':
      return `${name} has not reported allocatable resources`;
    case 'MaxPerNode':
      return `maxPerNode ${why.max} reached on ${name}`;
    case 'TooManyPods':
      return `Too many replicas on ${name} (allocatable pods ${why.max})`;
    case 'InsufficientCpu':
      return `Insufficient cpu on ${name} (requests ${formatCpu(why.request)}, ${formatCpu(Math.max(0, why.free))} free)`;
    case 'InsufficientMemory':
      return `Insufficient memory on ${name} (requests ${formatMemory(why.request)}, ${formatMemory(Math.max(0, why.free))} free)`;
  }
}

const RESOURCE_KINDS = new Set<Ineligibility['kind']>(['InsufficientCpu', 'InsufficientMemory', 'TooManyPods']);

/**
 * Explains why replicas found no node. `rejected` holds the reason each node gave; when no node
 * matches the selector that alone is said, because that is what users fix first.
 */
export function explainUnplaced(
  nodeCount: number,
  selector: Readonly<Record<string, string>> | undefined,
  rejected: ReadonlyMap<string, Ineligibility>,
  head = '',
): Unplaced {
  const matching = [...rejected.values()].filter((r) => r.kind !== 'Selector').length + (nodeCount - rejected.size);
  if (matching === 0) {
    const sel = formatSelector(selector);
    const message = sel
      ? `0 of ${nodeCount} nodes match nodeSelector ${sel}`
      : `no NodeAgent is registered: start a Shopfloor agent on a node`;
    return { reason: 'Unschedulable', message };
  }
  const parts = [...rejected.entries()]
    .filter(([, why]) => why.kind !== 'Selector')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, why]) => describeIneligibility(name, why));
  const onlyResources = [...rejected.values()].every((r) => r.kind === 'Selector' || RESOURCE_KINDS.has(r.kind));
  return { reason: onlyResources ? 'InsufficientResources' : 'Unschedulable', message: head + (parts.join('; ') || `${matching} matching nodes are full`) };
}

/** How full a node would be, 0..1 per resource averaged; the tie-break is the replica count. */
function allocatedScore(node: SchedulerNode, usage: NodeUsage): number {
  const a = node.allocatable;
  if (!a) return Infinity;
  const frac = (used: number, cap: number): number => (cap > 0 ? used / cap : used > 0 ? Infinity : 0);
  return (frac(usage.cpuMillis, a.cpuMillis) + frac(usage.memoryBytes, a.memoryBytes)) / 2;
}

export interface PlaceRequest {
  count: number;
  selector: Readonly<Record<string, string>> | undefined;
  request: Resources;
  maxPerNode?: number;
  nodes: readonly SchedulerNode[];
  /** Usage per node over every workload, this one included; updated in place as replicas are placed. */
  usage: Map<string, NodeUsage>;
  /** This workload's replicas per node; updated in place. */
  own: Map<string, number>;
}

export interface PlaceResult {
  /** One node name per placed replica, in placement order. */
  placed: string[];
  unplaced?: Unplaced;
}

/**
 * Replicas mode: places `count` replicas one by one, each on the eligible node holding the
 * fewest replicas of this workload (spread), then the least allocated, then the fewest replicas
 * overall, then by name so that the result is stable.
 */
export function placeReplicas(req: PlaceRequest): PlaceResult {
  const placed: string[] = [];
  const rejected = new Map<string, Ineligibility>();
  for (let i = 0; i < req.count; i++) {
    let best: { node: SchedulerNode; key: [number, number, number, string] } | undefined;
    rejected.clear();
    for (const node of req.nodes) {
      const usage = req.usage.get(node.name) ?? NO_USAGE;
      const own = req.own.get(node.name) ?? 0;
      const why = checkNode(node, req.selector, req.request, usage, own, req.maxPerNode);
      if (why) {
        rejected.set(node.name, why);
        continue;
      }
      const key: [number, number, number, string] = [own, allocatedScore(node, addUsage(usage, req.request)), usage.pods, node.name];
      if (!best || compareKeys(key, best.key) < 0) best = { node, key };
    }
    if (!best) {
      const head = `${req.count - i} of ${req.count} replicas could not be placed: `;
      return { placed, unplaced: explainUnplaced(req.nodes.length, req.selector, rejected, head) };
    }
    const name = best.node.name;
    placed.push(name);
    req.usage.set(name, addUsage(req.usage.get(name) ?? NO_USAGE, req.request));
    req.own.set(name, (req.own.get(name) ?? 0) + 1);
  }
  return { placed };
}

function compareKeys(a: [number, number, number, string], b: [number, number, number, string]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0;
}

/** Tries to place one replica on a given node (EveryNode mode, or a replacement in place). */
export function placeOn(node: SchedulerNode, req: Omit<PlaceRequest, 'count' | 'nodes' | 'maxPerNode'>): Ineligibility | undefined {
  const usage = req.usage.get(node.name) ?? NO_USAGE;
  const why = checkNode(node, req.selector, req.request, usage);
  if (why) return why;
  req.usage.set(node.name, addUsage(usage, req.request));
  req.own.set(node.name, (req.own.get(node.name) ?? 0) + 1);
  return undefined;
}
