// What the operator's unit tests share (tests only): workloads and assignments as the caches hold
// them, nodes as the planner takes them, and an observation of one workload's world.
import { LABEL_WORKLOAD } from '../api/index.js';
import type { NodeAssignmentObject, NodeWorkloadObject } from './objects.js';
import type { PlanNode } from './plan.js';
import type { Observation } from './workload-observe.js';
import { checkWorkload } from './workload-spec.js';

export const NOW = Date.parse('2026-03-01T12:00:00Z');
export const TEMPLATE = { containers: [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '100m', memory: '32Mi' } } }] };
/** The revision of a workload's template as the operator computes it (after its check, defaults applied). */
export function currentRevision(workload: NodeWorkloadObject): string {
  const check = checkWorkload(workload);
  if (!check.ok) throw new Error(`test workload is invalid: ${check.errors.join('; ')}`);
  return check.revision;
}

export function workloadObject(spec: Record<string, unknown> = {}, metadata: NodeWorkloadObject['metadata'] = {}): NodeWorkloadObject {
  return {
    apiVersion: 'shopfloor.dev/v1alpha1',
    kind: 'NodeWorkload',
    metadata: { namespace: 'ns', name: 'web', uid: 'u1', generation: 1, resourceVersion: '5', creationTimestamp: '2026-03-01T11:00:00Z', ...metadata },
    spec: { placement: { mode: 'Replicas', replicas: 2 }, template: TEMPLATE, ...spec },
  };
}

export function assignmentObject(name: string, nodeName: string, over: { revision?: string; uid?: string; ready?: boolean; metadata?: NodeAssignmentObject['metadata']; status?: NodeAssignmentObject['status'] } = {}): NodeAssignmentObject {
  return {
    metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: '7', creationTimestamp: '2026-03-01T11:30:00Z', labels: { [LABEL_WORKLOAD]: 'web' }, ...over.metadata },
    spec: { nodeName, workloadRef: { name: 'web', uid: over.uid ?? 'u1' }, revision: over.revision ?? 'r0', template: TEMPLATE as NodeAssignmentObject['spec']['template'] },
    status: over.status ?? { phase: 'Running', ready: over.ready ?? true },
  } as NodeAssignmentObject;
}

export function liveNode(name: string, over: Partial<PlanNode> = {}): PlanNode {
  return { name, labels: {}, allocatable: { cpuMillis: 4000, memoryBytes: 8 * 2 ** 30 }, unschedulable: false, live: true, health: 'Live', ...over };
}

export function observation(over: Partial<Observation> = {}): Observation {
  const assignments = over.assignments ?? [];
  return {
    key: 'ns/web',
    now: NOW,
    workload: workloadObject(),
    assignments,
    takenNames: new Set(assignments.map((a) => a.metadata?.name ?? '')),
    unconfirmedDeletes: 0,
    nodes: [liveNode('n1'), liveNode('n2'), liveNode('n3')],
    usage: new Map(),
    vip: undefined,
    storedStatus: over.workload?.status,
    statusErrors: [],
    ...over,
  };
}
