// The floor's items built from what the operator's caches hold: a node's card, an assignment's
// row, a workload's view and a service's view (floor-view.ts). Pure: the caches, the node
// monitor's verdicts and the clock come in as arguments; floor-feed.ts decides which items to
// build again when something changes.
//
// Desired beside actual is said in words wherever they differ: the revision the workload asks for
// beside the one a replica runs, a replica placed but not started, a node that stopped reporting
// and where its replicas went, why a node did not take a replica (the scheduler's own words).
import { crashLoopBackOffSeconds, findCondition, type ContainerStatus, type NodeWorkload, type Phase } from '../../api/index.js';
import type { Lease } from '../../kube/leader-election.js';
import { objectKey } from '../../kube/types.js';
import type { HealthVerdict } from '../liveness.js';
import type { NodeAgentObject } from '../node-monitor.js';
import { assignmentRequests, type NodeAssignmentObject, type NodeWorkloadObject } from '../objects.js';
import type { PlanNode } from '../plan.js';
import { addUsage, checkNode, describeIneligibility, NO_USAGE, templateRequests, type NodeUsage } from '../scheduler.js';
import { checkWorkload } from '../workload-spec.js';
import type { AssignmentRow, NodeCard, NodeRefusal, NodeState, ServiceView, Words, WorkloadView } from './floor-view.js';

const iso = (ms: number): string => new Date(ms).toISOString();
/** Revisions are hashes: their first characters tell them apart on a page. */
const short = (revision: string): string => `${revision.slice(0, 8)}…`;

/** What is placed on a node, over all workloads: the scheduler's own sum. */
export function nodeUsage(assignments: readonly NodeAssignmentObject[]): NodeUsage {
  let usage = NO_USAGE;
  for (const a of assignments) usage = addUsage(usage, assignmentRequests(a));
  return usage;
}

export interface NodeCardInput {
  agent: NodeAgentObject;
  lease: Lease | undefined;
  /** The node monitor's verdict on its Lease; its times are on the operator's clock. */
  verdict: HealthVerdict | undefined;
  plan: PlanNode | undefined;
  graceMs: number;
  usage: NodeUsage;
}

function leaseRenewTime(lease: Lease | undefined): string | undefined {
  const t = lease?.spec?.renewTime;
  if (t === undefined) return undefined;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : iso(ms);
}

function nodeState(i: NodeCardInput): { state: NodeState; stateWords: Words } {
  const v = i.verdict;
  if (v?.health === 'Lost' && v.expiredAt !== undefined) {
    return { state: 'Unknown', stateWords: { text: 'lost {time}: the agent stopped renewing its Lease; replicas of Replicas workloads are placed elsewhere, EveryNode ones wait for it', time: iso(v.expiredAt + i.graceMs) } };
  }
  if (v?.health === 'Expired' && v.expiredAt !== undefined) {
    return { state: 'Unknown', stateWords: { text: `stopped reporting {time}: its Lease expired; replicas move after ${Math.round(i.graceMs / 1000)} s`, time: iso(v.expiredAt) } };
  }
  if (v?.health !== 'Live') return { state: 'Unknown', stateWords: { text: 'no Lease yet: the agent has not reported' } };
  const ready = findCondition(i.agent.status?.conditions, 'Ready');
  if (ready?.status === 'False') return { state: 'NotReady', stateWords: { text: ready.message ?? ready.reason ?? 'the agent reports the node not ready' } };
  return { state: 'Ready', stateWords: { text: ready?.message ?? 'the Lease is renewed' } };
}

export function nodeCard(i: NodeCardInput): NodeCard {
  const name = i.agent.metadata?.name ?? '';
  const a = i.plan?.allocatable;
  const proxy = i.agent.status?.proxy;
  const renewed = leaseRenewTime(i.lease);
  return {
    kind: 'node',
    key: name,
    ...nodeState(i),
    ...(renewed ? { leaseRenewTime: renewed } : {}),
    unschedulable: i.agent.spec?.unschedulable ?? false,
    cpu: { requested: i.usage.cpuMillis, ...(a ? { allocatable: a.cpuMillis } : {}) },
    memory: { requested: i.usage.memoryBytes, ...(a ? { allocatable: a.memoryBytes } : {}) },
    pods: { requested: i.usage.pods, ...(a?.pods !== undefined ? { allocatable: a.pods } : {}) },
    ...(i.agent.spec?.podCIDR ? { podCIDR: i.agent.spec.podCIDR } : {}),
    ...(proxy
      ? { proxy: { inSync: proxy.inSync, rules: proxy.rules, servicePorts: proxy.servicePorts, ...(proxy.lastSyncTime ? { lastSyncTime: proxy.lastSyncTime } : {}), ...(proxy.message ? { message: proxy.message } : {}) } }
      : {}),
  };
}

/** The words for one container's state that deserve a look, most pressing first; undefined for a healthy one. */
function containerWords(c: ContainerStatus, seenAt: number): Words | undefined {
  if (c.state === 'Waiting' && c.reason === 'CrashLoopBackOff') {
    const last = c.lastTerminationReason ? ` after ${c.lastTerminationReason}${c.lastTerminationExitCode !== undefined ? ` (exit ${c.lastTerminationExitCode})` : ''}` : '';
    const seconds = c.message !== undefined ? crashLoopBackOffSeconds(c.message) : undefined;
    return seconds !== undefined
      ? { text: `CrashLoopBackOff: ${c.name} restarts {time}${last}`, time: iso(seenAt + seconds * 1000) }
      : { text: `CrashLoopBackOff: ${c.name} waits to restart${last}` };
  }
  if (c.state === 'Waiting' && c.reason !== undefined && c.reason !== 'ContainerCreating') return { text: `${c.reason}: ${c.name}${c.message ? `: ${c.message}` : ''}` };
  if (c.state === 'Running' && !c.ready && c.message) return { text: `${c.name}: ${c.message}` };
  if (c.state === 'Terminated') return { text: `${c.name} ${c.reason ?? 'exited'}${c.exitCode !== undefined ? ` (exit ${c.exitCode})` : ''}${c.message ? `: ${c.message}` : ''}` };
  return undefined;
}

/** The last restart's cause, for a container that runs again. */
function lastRestartWords(containers: readonly ContainerStatus[]): Words | undefined {
  const c = containers.find((s) => s.restartCount > 0 && s.lastTerminationReason);
  return c ? { text: `${c.name} restarted after ${c.lastTerminationReason}${c.lastTerminationExitCode !== undefined ? ` (exit ${c.lastTerminationExitCode})` : ''}` } : undefined;
}

export interface RowContext {
  /** The revision the workload asks for now; undefined while its spec is invalid and it has none. */
  currentRevision: string | undefined;
  verdict: HealthVerdict | undefined;
  graceMs: number;
  /** Nodes where replicas of the same workload were placed after this one's node stopped reporting. */
  replacements: readonly string[];
  /** When this version of the assignment reached the cache, on the operator's clock: back-off times count from it. */
  seenAt: number;
}

export function assignmentRow(a: NodeAssignmentObject, ctx: RowContext): AssignmentRow {
  const s = a.status;
  const phase: Phase = s?.phase ?? 'Pending';
  const containers = s?.containers ?? [];
  const reason = containers.map((c) => containerWords(c, ctx.seenAt)).find((w) => w !== undefined) ?? lastRestartWords(containers);
  const created = a.metadata?.creationTimestamp;
  const differences: Words[] = [];
  const deleting = a.metadata?.deletionTimestamp;
  if (deleting) differences.push({ text: 'being removed since {time}', time: iso(new Date(deleting).getTime()) });
  if (ctx.currentRevision && a.spec.revision !== ctx.currentRevision) {
    differences.push({ text: `asked for revision ${short(ctx.currentRevision)}, runs ${short(a.spec.revision)}` });
  }
  if (!s?.phase || (phase === 'Pending' && !containers.some((c) => c.state === 'Running'))) {
    differences.push(created ? { text: 'placed {time}, not started', time: iso(new Date(created).getTime()) } : { text: 'placed, not started' });
  } else if (phase === 'Running' && !s.ready) {
    differences.push({ text: 'running, not ready' });
  }
  const generation = a.metadata?.generation;
  if (generation !== undefined && s?.observedGeneration !== undefined && s.observedGeneration < generation) {
    differences.push({ text: `the agent has not acted on generation ${generation} yet (it reports ${s.observedGeneration})` });
  }
  const v = ctx.verdict;
  if ((v?.health === 'Lost' || v?.health === 'Expired') && v.expiredAt !== undefined) {
    const where = ctx.replacements.length ? `replacement on ${ctx.replacements.join(', ')}` : v.health === 'Lost' ? 'no replacement yet' : `replaced if it stays gone ${Math.round(ctx.graceMs / 1000)} s`;
    differences.push(v.health === 'Lost' ? { text: `node lost {time}, ${where}`, time: iso(v.expiredAt + ctx.graceMs) } : { text: `node stopped reporting {time}; ${where}`, time: iso(v.expiredAt) });
  }
  return {
    kind: 'assignment',
    key: objectKey(a),
    node: a.spec.nodeName,
    workload: `${a.metadata?.namespace ?? ''}/${a.spec.workloadRef.name}`,
    phase,
    ready: s?.ready ?? false,
    restarts: s?.restartCount ?? 0,
    ...(reason ? { reason } : {}),
    ...(s?.podIP ? { podIP: s.podIP } : {}),
    revision: a.spec.revision,
    ...(created ? { placedAt: iso(new Date(created).getTime()) } : {}),
    differences,
  };
}

/** The nodes where replicas of the workload were placed after `since` (ms), other than `node`. */
export function replacementNodes(assignments: readonly NodeAssignmentObject[], node: string, since: number | undefined): string[] {
  if (since === undefined) return [];
  const nodes = new Set<string>();
  for (const a of assignments) {
    const created = a.metadata?.creationTimestamp ? new Date(a.metadata.creationTimestamp).getTime() : NaN;
    if (a.spec.nodeName !== node && created >= since && !a.metadata?.deletionTimestamp) nodes.add(a.spec.nodeName);
  }
  return [...nodes].sort();
}

/** The conditions of a workload that are not as they should be, in words. */
function workloadProblems(w: NodeWorkloadObject, specErrors: readonly string[]): string[] {
  const out = specErrors.map((e) => `invalid spec: ${e}`);
  const conditions = w.status?.conditions;
  const degraded = findCondition(conditions, 'Degraded');
  if (degraded?.status === 'True') out.push(`Degraded (${degraded.reason}): ${degraded.message}`);
  const ready = findCondition(conditions, 'Ready');
  if (ready?.status === 'False') out.push(`not ready (${ready.reason}): ${ready.message}`);
  return out;
}

export interface WorkloadInput {
  workload: NodeWorkloadObject;
  assignments: readonly NodeAssignmentObject[];
  nodes: readonly PlanNode[];
  usageOf(node: string): NodeUsage;
}

/** Why nodes did not take the replicas still missing, in the scheduler's words; empty when none are missing. */
function refusals(i: WorkloadInput, spec: NodeWorkload['spec'], placed: readonly NodeAssignmentObject[]): NodeRefusal[] {
  const placement = spec.placement;
  const own = new Map<string, number>();
  for (const a of placed) own.set(a.spec.nodeName, (own.get(a.spec.nodeName) ?? 0) + 1);
  const everyNode = placement.mode === 'EveryNode';
  if (!everyNode && placed.length >= (placement.replicas ?? 0)) return [];
  const request = templateRequests(spec.template);
  const out: NodeRefusal[] = [];
  for (const node of i.nodes) {
    if (everyNode && own.has(node.name)) continue;
    const why = checkNode(node, placement.nodeSelector, request, i.usageOf(node.name), own.get(node.name) ?? 0, everyNode ? undefined : placement.maxPerNode);
    if (everyNode && why?.kind === 'Selector') continue;
    out.push({ node: node.name, reason: why ? describeIneligibility(node.name, why) : `${node.name} can take a replica: the operator has not placed it yet` });
  }
  if (out.length === 0 && !everyNode) out.push({ node: '', reason: 'no NodeAgent is registered: start a Shopfloor agent on a node' });
  return out.sort((x, y) => (x.node < y.node ? -1 : x.node > y.node ? 1 : 0));
}

/** The revision a workload asks for: its template's, or while its spec is invalid the last one the operator reported. */
export function currentRevision(w: NodeWorkloadObject): string | undefined {
  const check = checkWorkload(w);
  return check.ok ? check.revision : w.status?.currentRevision;
}

export function workloadView(i: WorkloadInput): WorkloadView {
  const w = i.workload;
  const check = checkWorkload(w);
  const placed = i.assignments.filter((a) => !a.metadata?.deletionTimestamp);
  const byName = (x: NodeAssignmentObject, y: NodeAssignmentObject) => (objectKey(x) < objectKey(y) ? -1 : 1);
  const status = w.status;
  const revision = currentRevision(w);
  const mode = check.ok ? check.spec.placement.mode : ((w.spec as { placement?: { mode?: string } } | undefined)?.placement?.mode === 'EveryNode' ? 'EveryNode' : 'Replicas');
  return {
    kind: 'workload',
    key: objectKey(w),
    mode,
    desired: status?.desiredReplicas ?? (check.ok && mode === 'Replicas' ? (check.spec.placement.replicas ?? 0) : 0),
    placed: placed.length,
    ready: placed.filter((a) => a.status?.ready).length,
    available: status?.availableReplicas ?? 0,
    ...(revision ? { currentRevision: revision } : {}),
    replicas: [...placed].sort(byName).map((a) => ({ assignment: objectKey(a), node: a.spec.nodeName })),
    unplaced: check.ok ? refusals(i, check.spec, placed) : [],
    problems: workloadProblems(w, check.ok ? [] : check.errors),
  };
}

/** The service of a workload with every replica as an endpoint, ready or not; undefined when it has none. */
export function serviceView(workload: NodeWorkloadObject, assignments: readonly NodeAssignmentObject[]): ServiceView | undefined {
  const check = checkWorkload(workload);
  if (!check.ok || !check.spec.service) return undefined;
  const clusterIP = workload.status?.clusterIP;
  return {
    kind: 'service',
    key: objectKey(workload),
    ...(clusterIP ? { clusterIP } : {}),
    ports: check.spec.service.ports.map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      port: p.port,
      protocol: p.protocol,
      targetPort: String(p.targetPort ?? p.port),
      ...(p.nodePort !== undefined ? { nodePort: p.nodePort } : {}),
    })),
    endpoints: assignments
      .filter((a) => !a.metadata?.deletionTimestamp)
      .map((a) => ({ assignment: objectKey(a), node: a.spec.nodeName, ...(a.status?.podIP ? { podIP: a.status.podIP } : {}), ready: a.status?.ready === true }))
      .sort((x, y) => (x.assignment < y.assignment ? -1 : 1)),
  };
}
