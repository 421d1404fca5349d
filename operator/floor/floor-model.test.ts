import { describe, expect, it } from '@jest/globals';
import { crashLoopBackOffMessage } from '../../api/index.js';
import type { NodeAgentObject } from '../node-monitor.js';
import { assignmentObject, currentRevision, liveNode, NOW, workloadObject } from '../test-fixtures.js';
import { assignmentRow, nodeCard, nodeUsage, replacementNodes, serviceView, workloadView, type RowContext } from './floor-model.js';

const GRACE = 60_000;
const live = { health: 'Live' as const, changesAt: NOW + 30_000 };
const ctx = (over: Partial<RowContext> = {}): RowContext => ({ currentRevision: 'r0', verdict: live, graceMs: GRACE, replacements: [], seenAt: NOW, ...over });
const agent = (name: string, over: Partial<NodeAgentObject> = {}): NodeAgentObject => ({
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status: 'True', reason: 'AgentReady', message: 'runtime answers', lastTransitionTime: '2026-03-01T11:00:00Z' }] },
  ...over,
});

describe('nodeCard', () => {
  it('shows what is in use beside what the node offers, and its Lease', () => {
    const usage = nodeUsage([assignmentObject('web-a', 'n1'), assignmentObject('web-b', 'n1')]);
    const card = nodeCard({
      agent: agent('n1'),
      lease: { metadata: { name: 'n1' }, spec: { renewTime: '2026-03-01T11:59:50.000000Z' } },
      verdict: live,
      plan: liveNode('n1', { allocatable: { cpuMillis: 2000, memoryBytes: 2 ** 30, pods: 110 } }),
      graceMs: GRACE,
      usage,
    });
    expect(card).toEqual(expect.objectContaining({ key: 'n1', state: 'Ready', leaseRenewTime: '2026-03-01T11:59:50.000Z', cpu: { requested: 200, allocatable: 2000 }, memory: { requested: 64 * 2 ** 20, allocatable: 2 ** 30 }, pods: { requested: 2, allocatable: 110 } }));
  });

  it('is Unknown once the Lease expired, and says when the node counts as lost', () => {
    const expiredAt = NOW - 5_000;
    const card = nodeCard({ agent: agent('n1'), lease: undefined, verdict: { health: 'Expired', expiredAt, changesAt: expiredAt + GRACE }, plan: undefined, graceMs: GRACE, usage: nodeUsage([]) });
    expect(card.state).toBe('Unknown');
    expect(card.stateWords).toEqual({ text: 'stopped reporting {time}: its Lease expired; replicas move after 60 s', time: new Date(expiredAt).toISOString() });
    expect(card.cpu).toEqual({ requested: 0 });
  });

  it('is NotReady when the agent says its runtime does not answer', () => {
    const down = agent('n1', { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'RuntimeUnreachable', message: 'container runtime unreachable: ECONNREFUSED', lastTransitionTime: '2026-03-01T11:00:00Z' }] } });
    expect(nodeCard({ agent: down, lease: undefined, verdict: live, plan: undefined, graceMs: GRACE, usage: nodeUsage([]) })).toEqual(
      expect.objectContaining({ state: 'NotReady', stateWords: { text: 'container runtime unreachable: ECONNREFUSED' } }),
    );
  });
});

describe('assignmentRow', () => {
  it('agrees with what was asked: no differences', () => {
    const row = assignmentRow(assignmentObject('web-a', 'n1', { status: { phase: 'Running', ready: true, podIP: '10.244.0.5', restartCount: 0 } }), ctx());
    expect(row).toEqual(expect.objectContaining({ key: 'ns/web-a', node: 'n1', workload: 'ns/web', phase: 'Running', ready: true, restarts: 0, podIP: '10.244.0.5', differences: [] }));
    expect(row.reason).toBeUndefined();
  });

  it('says a replica was placed and not started, and which revision it runs beside the asked one', () => {
    const row = assignmentRow(assignmentObject('web-a', 'n1', { revision: '9c1b2d3e4f', status: {} }), ctx({ currentRevision: '4f2a9e8d7c' }));
    expect(row.phase).toBe('Pending');
    expect(row.differences).toEqual([{ text: 'asked for revision 4f2a9e8d…, runs 9c1b2d3e…' }, { text: 'placed {time}, not started', time: '2026-03-01T11:30:00.000Z' }]);
  });

  it('gives a crash loop its next try, counted from when the status was seen', () => {
    const status = {
      phase: 'Running' as const,
      ready: false,
      restartCount: 3,
      containers: [{ name: 'main', state: 'Waiting' as const, reason: 'CrashLoopBackOff', message: crashLoopBackOffMessage(40_000, 'main', 'ns/web-a'), ready: false, restartCount: 3, lastTerminationReason: 'Error', lastTerminationExitCode: 1 }],
    };
    const row = assignmentRow(assignmentObject('web-a', 'n1', { status }), ctx({ seenAt: NOW }));
    expect(row.restarts).toBe(3);
    expect(row.reason).toEqual({ text: 'CrashLoopBackOff: main restarts {time} after Error (exit 1)', time: new Date(NOW + 40_000).toISOString() });
    expect(row.differences).toEqual([{ text: 'running, not ready' }]);
  });

  it('names a failing probe and an image that cannot be pulled', () => {
    const probe = { phase: 'Running' as const, ready: false, containers: [{ name: 'main', state: 'Running' as const, ready: false, restartCount: 0, message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' }] };
    expect(assignmentRow(assignmentObject('web-a', 'n1', { status: probe }), ctx()).reason).toEqual({ text: 'main: Readiness probe failed: HTTP probe failed with statuscode: 503' });
    const pull = { phase: 'Pending' as const, containers: [{ name: 'main', state: 'Waiting' as const, ready: false, restartCount: 0, reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope:1"' }] };
    expect(assignmentRow(assignmentObject('web-a', 'n1', { status: pull }), ctx()).reason).toEqual({ text: 'ImagePullBackOff: main: Back-off pulling image "nope:1"' });
  });

  it('says where a lost node\'s replica was replaced', () => {
    const expiredAt = NOW - 70_000;
    const row = assignmentRow(assignmentObject('web-a', 'n1'), ctx({ verdict: { health: 'Lost', expiredAt }, replacements: ['n2'] }));
    expect(row.differences).toEqual([{ text: 'node lost {time}, replacement on n2', time: new Date(expiredAt + GRACE).toISOString() }]);
  });
});

describe('replacementNodes', () => {
  it('are the other nodes holding replicas placed since the node stopped reporting', () => {
    const since = Date.parse('2026-03-01T11:45:00Z');
    const later = { creationTimestamp: '2026-03-01T11:46:00Z', namespace: 'ns', name: 'web-c' };
    const assignments = [assignmentObject('web-a', 'n1'), assignmentObject('web-b', 'n2'), assignmentObject('web-c', 'n3', { metadata: later })];
    expect(replacementNodes(assignments, 'n1', since)).toEqual(['n3']);
    expect(replacementNodes(assignments, 'n1', undefined)).toEqual([]);
  });
});

describe('workloadView', () => {
  const usageOf = () => nodeUsage([]);

  it('counts its replicas and lists no refusals when all are placed', () => {
    const workload = workloadObject();
    const view = workloadView({ workload, assignments: [assignmentObject('web-a', 'n1'), assignmentObject('web-b', 'n2', { ready: false })], nodes: [liveNode('n1'), liveNode('n2')], usageOf });
    expect(view).toEqual(expect.objectContaining({ key: 'ns/web', mode: 'Replicas', placed: 2, ready: 1, currentRevision: currentRevision(workload), unplaced: [], problems: [] }));
    expect(view.replicas).toEqual([{ assignment: 'ns/web-a', node: 'n1' }, { assignment: 'ns/web-b', node: 'n2' }]);
  });

  it('says for each node why a missing replica is not there', () => {
    const workload = workloadObject({ placement: { mode: 'Replicas', replicas: 3, maxPerNode: 1, nodeSelector: { disk: 'ssd' } } });
    const nodes = [liveNode('n1', { labels: { disk: 'ssd' } }), liveNode('n2', { labels: { disk: 'ssd' }, live: false, health: 'Expired' }), liveNode('n3')];
    const view = workloadView({ workload, assignments: [assignmentObject('web-a', 'n1')], nodes, usageOf });
    expect(view.unplaced).toEqual([
      { node: 'n1', reason: 'maxPerNode 1 reached on n1' },
      { node: 'n2', reason: 'n2 is not ready (its Lease is not renewed)' },
      { node: 'n3', reason: 'n3 does not match the nodeSelector' },
    ]);
  });

  it('reports an invalid spec as a problem, without refusals', () => {
    const view = workloadView({ workload: workloadObject({ placement: { mode: 'Sometimes' } }), assignments: [], nodes: [liveNode('n1')], usageOf });
    expect(view.problems).toEqual(['invalid spec: spec.placement.mode: must be one of Replicas, EveryNode']);
    expect(view.unplaced).toEqual([]);
  });
});

describe('serviceView', () => {
  it('lists every replica as an endpoint with its readiness, and the allocated VIP', () => {
    const workload = { ...workloadObject({ service: { ports: [{ port: 80, targetPort: 8080 }] } }), status: { clusterIP: '10.250.0.10' } };
    const view = serviceView(workload, [assignmentObject('web-b', 'n2', { ready: false }), assignmentObject('web-a', 'n1', { status: { phase: 'Running', ready: true, podIP: '10.244.0.5' } })]);
    expect(view).toEqual({
      kind: 'service',
      key: 'ns/web',
      clusterIP: '10.250.0.10',
      ports: [{ port: 80, protocol: 'TCP', targetPort: '8080' }],
      endpoints: [{ assignment: 'ns/web-a', node: 'n1', podIP: '10.244.0.5', ready: true }, { assignment: 'ns/web-b', node: 'n2', ready: false }],
    });
    expect(serviceView(workloadObject(), [])).toBeUndefined();
  });
});
