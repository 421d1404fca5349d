import { describe, expect, it } from '@jest/globals';
import { planWorkload, resolveMaxUnavailable, type AssignmentView, type PlanInput, type PlanNode } from './plan.js';
import type { NodeUsage } from './scheduler.js';

const GiB = 2 ** 30;
const REQ = { cpuMillis: 500, memoryBytes: GiB / 4 };

function node(name: string, over: Partial<PlanNode> = {}): PlanNode {
  return { name, labels: {}, allocatable: { cpuMillis: 4000, memoryBytes: 8 * GiB }, unschedulable: false, live: true, health: 'Live', ...over };
}

function lost(name: string, health: 'Expired' | 'Lost' = 'Lost', over: Partial<PlanNode> = {}): PlanNode {
  return node(name, { live: false, health, ...over });
}

let seq = 0;
function na(nodeName: string, over: Partial<AssignmentView> = {}): AssignmentView {
  seq++;
  return { name: `web-${seq}`, nodeName, revision: 'r1', ready: true, phase: 'Running', replaced: false, requests: REQ, createdAt: seq, ...over };
}

function usageOf(assignments: AssignmentView[]): Map<string, NodeUsage> {
  const m = new Map<string, NodeUsage>();
  for (const a of assignments) {
    const u = m.get(a.nodeName) ?? { cpuMillis: 0, memoryBytes: 0, pods: 0 };
    m.set(a.nodeName, { cpuMillis: u.cpuMillis + a.requests.cpuMillis, memoryBytes: u.memoryBytes + a.requests.memoryBytes, pods: u.pods + 1 });
  }
  return m;
}

function input(over: Partial<PlanInput> & { assignments?: AssignmentView[] }): PlanInput {
  const assignments = over.assignments ?? [];
  return {
    mode: 'Replicas',
    replicas: 3,
    selector: undefined,
    maxPerNode: undefined,
    maxUnavailable: 1,
    revision: 'r1',
    request: REQ,
    nodes: [node('w1'), node('w2'), node('w3')],
    usage: usageOf(assignments),
    ...over,
    assignments,
  };
}

const names = (xs: { name: string }[]) => xs.map((x) => x.name);

describe('resolveMaxUnavailable', () => {
  it.each<[number | string, number, number]>([
    [2, 10, 2],
    ['25%', 10, 3],
    ['25%', 3, 1],
    ['100%', 3, 3],
    ['0%', 5, 0],
  ])('%s of %i is %i', (value, desired, want) => {
    expect(resolveMaxUnavailable(value, desired)).toBe(want);
  });
});

describe('planWorkload: Replicas mode', () => {
  it('places every replica on an empty cluster, spread', () => {
    const p = planWorkload(input({}));
    expect(p.desired).toBe(3);
    expect(p.create.sort()).toEqual(['w1', 'w2', 'w3']);
    expect(p.delete).toEqual([]);
    expect(p.unplaced).toBeUndefined();
  });

  it('does nothing when converged', () => {
    const as = [na('w1'), na('w2'), na('w3')];
    const p = planWorkload(input({ assignments: as }));
    expect(p).toMatchObject({ create: [], delete: [], markUnknown: [], markReplaced: [] });
    expect(names(p.kept)).toEqual(names(as));
  });

  it('scales up onto the least loaded nodes', () => {
    const as = [na('w1'), na('w2'), na('w3')];
    const p = planWorkload(input({ replicas: 5, assignments: as, nodes: [node('w1'), node('w2'), node('w3'), node('w4')] }));
    expect(p.create).toEqual(['w4', 'w1']);
  });

  it('scales down, unavailable replicas first, then the newest', () => {
    const notReady = na('w2', { ready: false });
    const as = [na('w1'), notReady, na('w3'), na('w1')];
    const p = planWorkload(input({ replicas: 2, assignments: as }));
    expect(p.delete.map((d) => d.name)).toEqual([notReady.name, as[3]!.name]);
    expect(p.delete[0]?.why).toBe('scaled down to 2 replicas');
    expect(p.create).toEqual([]);
  });

  it('scales to zero', () => {
    const p = planWorkload(input({ replicas: 0, assignments: [na('w1'), na('w2')] }));
    expect(p.delete).toHaveLength(2);
    expect(p.kept).toEqual([]);
  });

  it('takes the replica off a node that stops matching the selector and places it elsewhere', () => {
    const nodes = [node('w1', { labels: { disk: 'ssd' } }), node('w2', { labels: { disk: 'hdd' } }), node('w3', { labels: { disk: 'ssd' } })];
    const as = [na('w1'), na('w2')];
    const p = planWorkload(input({ replicas: 2, selector: { disk: 'ssd' }, nodes, assignments: as }));
    expect(p.delete).toEqual([{ name: as[1]!.name, nodeName: 'w2', why: 'w2 no longer matches nodeSelector disk=ssd' }]);
    expect(p.create).toEqual(['w3']);
  });

  it('deletes replicas of a NodeAgent that is gone', () => {
    const as = [na('gone')];
    const p = planWorkload(input({ replicas: 1, assignments: as }));
    expect(p.delete[0]?.why).toBe('NodeAgent gone is gone');
    expect(p.create).toHaveLength(1);
  });

  it('honours maxPerNode when the user lowers it', () => {
    const as = [na('w1'), na('w1'), na('w2')];
    const p = planWorkload(input({ maxPerNode: 1, assignments: as }));
    expect(p.delete.map((d) => d.why)).toEqual(['more than maxPerNode 1 replicas on w1']);
    expect(p.create).toEqual(['w3']);
  });

  it('reports why replicas do not fit, and places what fits', () => {
    const nodes = [node('w1', { allocatable: { cpuMillis: 1000, memoryBytes: 8 * GiB } })];
    const p = planWorkload(input({ replicas: 3, nodes }));
    expect(p.create).toEqual(['w1', 'w1']);
    expect(p.unplaced).toEqual({ reason: 'InsufficientResources', message: '1 of 3 replicas could not be placed: Insufficient cpu on w1 (requests 500m, 0 free)' });
  });

  it('counts other workloads\' replicas against the node', () => {
    const nodes = [node('w1', { allocatable: { cpuMillis: 1000, memoryBytes: 8 * GiB } }), node('w2')];
    const usage = new Map([['w1', { cpuMillis: 800, memoryBytes: 0, pods: 1 }]]);
    const p = planWorkload({ ...input({ replicas: 2, nodes }), usage });
    expect(p.create).toEqual(['w2', 'w2']);
  });
});

describe('planWorkload: EveryNode mode', () => {
  const every = (over: Partial<PlanInput> & { assignments?: AssignmentView[] }) => input({ mode: 'EveryNode', replicas: 0, ...over });

  it('places one replica on every matching live node', () => {
    const nodes = [node('w1', { labels: { role: 'edge' } }), node('w2'), node('w3', { labels: { role: 'edge' } }), lost('w4', 'Expired', { labels: { role: 'edge' } })];
    const p = planWorkload(every({ selector: { role: 'edge' }, nodes }));
    expect(p.desired).toBe(2);
    expect(p.create).toEqual(['w1', 'w3']);
  });

  it('skips cordoned nodes but keeps the replica already there', () => {
    const as = [na('w1')];
    const p = planWorkload(every({ nodes: [node('w1', { unschedulable: true }), node('w2', { unschedulable: true })], assignments: as }));
    expect(p.desired).toBe(1);
    expect(p).toMatchObject({ create: [], delete: [] });
  });

  it('removes a second replica on one node', () => {
    const as = [na('w1'), na('w1', { ready: false }), na('w2'), na('w3')];
    const p = planWorkload(every({ assignments: as }));
    expect(p.delete).toEqual([{ name: as[1]!.name, nodeName: 'w1', why: 'more than one replica on w1' }]);
  });

  it('says which node lacks memory', () => {
    const nodes = [node('w1'), node('worker-2', { allocatable: { cpuMillis: 4000, memoryBytes: GiB / 8 } })];
    const p = planWorkload(every({ nodes }));
    expect(p.desired).toBe(2);
    expect(p.create).toEqual(['w1']);
    expect(p.unplaced).toEqual({ reason: 'InsufficientResources', message: '1 of 2 nodes could not take a replica: Insufficient memory on worker-2 (requests 256Mi, 128Mi free)' });
  });

  it('says that no node matches the selector', () => {
    const p = planWorkload(every({ selector: { disk: 'ssd' } }));
    expect(p.desired).toBe(0);
    expect(p.unplaced).toEqual({ reason: 'Unschedulable', message: '0 of 3 nodes match nodeSelector disk=ssd' });
  });

  it('places on a node that joins', () => {
    const as = [na('w1'), na('w2')];
    const p = planWorkload(every({ assignments: as }));
    expect(p.create).toEqual(['w3']);
  });
});

describe('planWorkload: node loss', () => {
  it('marks replicas on an expired node Unknown and keeps counting them during the grace period', () => {
    const as = [na('w1'), na('w2'), na('w3')];
    const p = planWorkload(input({ nodes: [node('w1'), lost('w2', 'Expired'), node('w3')], assignments: as }));
    expect(p.markUnknown).toEqual([as[1]!.name]);
    expect(p).toMatchObject({ create: [], delete: [], markReplaced: [] });
  });

  it('does not mark twice', () => {
    const as = [na('w1', { phase: 'Unknown', ready: false })];
    const p = planWorkload(input({ replicas: 1, nodes: [lost('w1', 'Expired')], assignments: as }));
    expect(p.markUnknown).toEqual([]);
  });

  it('replaces replicas of a lost node elsewhere after the grace period (Replicas mode)', () => {
    const as = [na('w1'), na('w2'), na('w3')];
    const p = planWorkload(input({ nodes: [node('w1'), lost('w2'), node('w3')], assignments: as }));
    expect(p.markUnknown).toEqual([as[1]!.name]);
    expect(p.markReplaced).toEqual([as[1]!.name]);
    expect(p.create).toHaveLength(1);
    expect(p.create[0]).not.toBe('w2');
    expect(p.delete).toEqual([]);
  });

  it('keeps the stale replica while the node is still away, and places nothing more', () => {
    const stale = na('w2', { replaced: true, phase: 'Unknown', ready: false });
    const as = [na('w1'), stale, na('w3'), na('w1')];
    const p = planWorkload(input({ nodes: [node('w1'), lost('w2'), node('w3')], assignments: as }));
    expect(p).toMatchObject({ create: [], delete: [], markReplaced: [] });
  });

  it('deletes the stale replica once the node is back', () => {
    const stale = na('w2', { replaced: true, phase: 'Unknown', ready: false });
    const as = [na('w1'), stale, na('w3'), na('w1')];
    const p = planWorkload(input({ assignments: as }));
    expect(p.delete).toEqual([{ name: stale.name, nodeName: 'w2', why: 'w2 is back and this replica was replaced while it was lost' }]);
    expect(p.create).toEqual([]);
  });

  it('deletes the stale replica once the node is gone', () => {
    const stale = na('gone', { replaced: true });
    const p = planWorkload(input({ replicas: 1, assignments: [stale, na('w1')] }));
    expect(p.delete.map((d) => d.name)).toEqual([stale.name]);
  });

  it('never replaces an EveryNode replica: it stays Unknown on its node', () => {
    const as = [na('w1'), na('w2')];
    const p = planWorkload(input({ mode: 'EveryNode', nodes: [node('w1'), lost('w2')], assignments: as }));
    expect(p.desired).toBe(2);
    expect(p.markUnknown).toEqual([as[1]!.name]);
    expect(p).toMatchObject({ create: [], delete: [], markReplaced: [] });
  });
});

describe('planWorkload: rolling update', () => {
  /** Runs the plan the way the controller would, with replicas turning ready between rounds. */
  function rollout(start: PlanInput, readyAfterCreate: boolean): { rounds: number; maxUnavailable: number; final: AssignmentView[] } {
    let assignments = [...start.assignments];
    let worst = 0;
    for (let round = 1; round <= 50; round++) {
      const p = planWorkload({ ...start, assignments, usage: usageOf(assignments) });
      const deleted = new Set(p.delete.map((d) => d.name));
      assignments = assignments.filter((a) => !deleted.has(a.name));
      assignments.push(...p.create.map((n) => na(n, { revision: start.revision, ready: false, phase: 'Pending' })));
      const unavailable = p.desired - assignments.filter((a) => a.ready).length;
      worst = Math.max(worst, unavailable);
      if (p.create.length === 0 && p.delete.length === 0) return { rounds: round, maxUnavailable: worst, final: assignments };
      if (readyAfterCreate) assignments = assignments.map((a) => ({ ...a, ready: true, phase: 'Running' }));
    }
    throw new Error('rollout did not converge in 50 rounds');
  }

  it.each<[string, 'Replicas' | 'EveryNode', number | string, number]>([
    ['Replicas, maxUnavailable 1', 'Replicas', 1, 1],
    ['Replicas, maxUnavailable 2', 'Replicas', 2, 2],
    ['Replicas, maxUnavailable 40%', 'Replicas', '40%', 2],
    ['EveryNode, maxUnavailable 1', 'EveryNode', 1, 1],
    ['EveryNode, maxUnavailable 50%', 'EveryNode', '50%', 3],
  ])('%s never leaves more than maxUnavailable replicas unavailable', (_name, mode, mu, bound) => {
    const nodes = ['a', 'b', 'c', 'd', 'e'].map((n) => node(n));
    const assignments = nodes.map((n) => na(n.name, { revision: 'r1' }));
    const r = rollout(input({ mode, replicas: 5, nodes, assignments, revision: 'r2', maxUnavailable: mu }), true);
    expect(r.maxUnavailable).toBeLessThanOrEqual(bound);
    expect(r.final).toHaveLength(5);
    expect(r.final.every((a) => a.revision === 'r2')).toBe(true);
    expect(new Set(r.final.map((a) => a.nodeName)).size).toBe(5);
  });

  it('waits for new replicas to become ready before replacing more', () => {
    const nodes = ['a', 'b', 'c'].map((n) => node(n));
    const assignments = nodes.map((n) => na(n.name));
    const first = planWorkload(input({ nodes, assignments, revision: 'r2' }));
    expect(first.delete).toHaveLength(1);
    expect(first.create).toHaveLength(1);
    const after = assignments.filter((a) => a.name !== first.delete[0]!.name).concat(na(first.create[0]!, { revision: 'r2', ready: false }));
    const second = planWorkload(input({ nodes, assignments: after, usage: usageOf(after), revision: 'r2' }));
    expect(second).toMatchObject({ create: [], delete: [] });
  });

  it('replaces old replicas that are not ready without waiting', () => {
    const as = [na('a', { ready: false }), na('b', { ready: false }), na('c')];
    const p = planWorkload(input({ nodes: ['a', 'b', 'c'].map((n) => node(n)), assignments: as, revision: 'r2' }));
    expect(p.delete.map((d) => d.nodeName).sort()).toEqual(['a', 'b']);
  });

  it('keeps the old replica running when the new revision does not fit', () => {
    const as = [na('a')];
    const p = planWorkload(input({ mode: 'EveryNode', nodes: [node('a')], assignments: as, revision: 'r2', request: { cpuMillis: 8000, memoryBytes: 0 } }));
    expect(p).toMatchObject({ create: [], delete: [] });
    expect(p.unplaced?.message).toBe('the new revision does not fit: Insufficient cpu on a (requests 8, 4 free)');
  });

  it('does not touch replicas on an expired node during a rollout', () => {
    const as = [na('a'), na('b', { phase: 'Unknown', ready: false }), na('c')];
    const p = planWorkload(input({ nodes: [node('a'), lost('b', 'Expired'), node('c')], assignments: as, revision: 'r2', maxUnavailable: 2 }));
    expect(p.delete.map((d) => d.nodeName)).toEqual(['a']);
  });
});
