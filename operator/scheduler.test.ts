import { describe, expect, it } from '@jest/globals';
import { checkNode, explainUnplaced, placeOn, placeReplicas, templateRequests, type NodeUsage, type SchedulerNode } from './scheduler.js';

const GiB = 2 ** 30;

function node(name: string, over: Partial<SchedulerNode> = {}): SchedulerNode {
  return { name, labels: {}, allocatable: { cpuMillis: 4000, memoryBytes: 8 * GiB }, unschedulable: false, live: true, ...over };
}

describe('templateRequests', () => {
  it.each([
    ['sums requests over containers', [{ requests: { cpu: '250m', memory: '64Mi' } }, { requests: { cpu: 1, memory: '1Gi' } }], 1250, 64 * 2 ** 20 + GiB],
    ['takes a limit where the request is missing', [{ limits: { cpu: '500m', memory: '128Mi' } }], 500, 128 * 2 ** 20],
    ['counts nothing for a container without resources', [{}], 0, 0],
  ])('%s', (_name, resources, cpu, memory) => {
    const t = { containers: resources.map((r, i) => ({ name: `c${i}`, image: 'busybox', resources: r })) };
    expect(templateRequests(t as never)).toEqual({ cpuMillis: cpu, memoryBytes: memory });
  });
});

describe('checkNode', () => {
  const none: NodeUsage = { cpuMillis: 0, memoryBytes: 0, pods: 0 };
  const req = { cpuMillis: 1000, memoryBytes: GiB };
  it.each<[string, SchedulerNode, Record<string, string> | undefined, NodeUsage, number, number | undefined, string | undefined]>([
    ['an empty node that matches', node('a', { labels: { disk: 'ssd' } }), { disk: 'ssd' }, none, 0, undefined, undefined],
    ['a label mismatch', node('a', { labels: { disk: 'hdd' } }), { disk: 'ssd' }, none, 0, undefined, 'Selector'],
    ['a missing label', node('a'), { disk: 'ssd' }, none, 0, undefined, 'Selector'],
    ['an expired Lease', node('a', { live: false }), undefined, none, 0, undefined, 'NotLive'],
    ['a cordoned node', node('a', { unschedulable: true }), undefined, none, 0, undefined, 'Unschedulable'],
    ['no allocatable reported', node('a', { allocatable: undefined }), undefined, none, 0, undefined, 'NoAllocatable'],
    ['cpu that exactly fits', node('a'), undefined, { cpuMillis: 3000, memoryBytes: 0, pods: 3 }, 0, undefined, undefined],
    ['cpu already placed', node('a'), undefined, { cpuMillis: 3001, memoryBytes: 0, pods: 3 }, 0, undefined, 'InsufficientCpu'],
    ['memory already placed', node('a'), undefined, { cpuMillis: 0, memoryBytes: 7.5 * GiB, pods: 1 }, 0, undefined, 'InsufficientMemory'],
    ['the pods limit', node('a', { allocatable: { cpuMillis: 4000, memoryBytes: 8 * GiB, pods: 2 } }), undefined, { cpuMillis: 0, memoryBytes: 0, pods: 2 }, 0, undefined, 'TooManyPods'],
    ['maxPerNode reached', node('a'), undefined, none, 2, 2, 'MaxPerNode'],
    ['maxPerNode not reached', node('a'), undefined, none, 1, 2, undefined],
  ])('%s', (_name, n, selector, usage, own, max, want) => {
    expect(checkNode(n, selector, req, usage, own, max)?.kind).toBe(want);
  });
});

describe('placeReplicas', () => {
  const base = { selector: undefined, request: { cpuMillis: 1000, memoryBytes: GiB } };

  it('spreads replicas over nodes before doubling up', () => {
    const r = placeReplicas({ ...base, count: 4, nodes: [node('w1'), node('w2'), node('w3')], usage: new Map(), own: new Map() });
    expect(r.unplaced).toBeUndefined();
    expect(r.placed.slice(0, 3).sort()).toEqual(['w1', 'w2', 'w3']);
    expect(r.placed).toHaveLength(4);
  });

  it('puts each replica on the least allocated node first', () => {
    const usage = new Map<string, NodeUsage>([
      ['w1', { cpuMillis: 3000, memoryBytes: 4 * GiB, pods: 3 }],
      ['w2', { cpuMillis: 0, memoryBytes: 0, pods: 0 }],
      ['w3', { cpuMillis: 1000, memoryBytes: GiB, pods: 1 }],
    ]);
    const r = placeReplicas({ ...base, count: 2, nodes: [node('w1'), node('w2'), node('w3')], usage, own: new Map() });
    expect(r.placed).toEqual(['w2', 'w3']);
    expect(usage.get('w2')).toEqual({ cpuMillis: 1000, memoryBytes: GiB, pods: 1 });
  });

  it('counts replicas this workload already has when spreading', () => {
    const own = new Map([['w1', 1]]);
    const r = placeReplicas({ ...base, count: 1, nodes: [node('w1'), node('w2')], usage: new Map(), own });
    expect(r.placed).toEqual(['w2']);
  });

  it('respects maxPerNode and says so', () => {
    const r = placeReplicas({ ...base, count: 3, maxPerNode: 1, nodes: [node('w1'), node('w2')], usage: new Map(), own: new Map() });
    expect(r.placed.sort()).toEqual(['w1', 'w2']);
    expect(r.unplaced).toEqual({ reason: 'Unschedulable', message: '1 of 3 replicas could not be placed: maxPerNode 1 reached on w1; maxPerNode 1 reached on w2' });
  });

  it('names the node that lacks cpu', () => {
    const nodes = [node('worker-1', { labels: { disk: 'hdd' } }), node('worker-2', { labels: { disk: 'ssd' }, allocatable: { cpuMillis: 500, memoryBytes: 8 * GiB } })];
    const r = placeReplicas({ ...base, selector: { disk: 'ssd' }, count: 1, nodes, usage: new Map(), own: new Map() });
    expect(r.placed).toEqual([]);
    expect(r.unplaced?.reason).toBe('InsufficientResources');
    expect(r.unplaced?.message).toBe('1 of 1 replicas could not be placed: Insufficient cpu on worker-2 (requests 1, 500m free)');
  });

  it('says how many nodes match a selector that matches none', () => {
    const nodes = [node('w1'), node('w2'), node('w3')];
    const r = placeReplicas({ ...base, selector: { disk: 'ssd' }, count: 3, nodes, usage: new Map(), own: new Map() });
    expect(r.unplaced).toEqual({ reason: 'Unschedulable', message: '0 of 3 nodes match nodeSelector disk=ssd' });
  });

  it('mixes reasons across nodes into one message', () => {
    const nodes = [node('w1', { live: false }), node('w2', { unschedulable: true }), node('w3', { allocatable: { cpuMillis: 4000, memoryBytes: GiB / 2 } })];
    const r = placeReplicas({ ...base, count: 1, nodes, usage: new Map(), own: new Map() });
    expect(r.unplaced).toEqual({
      reason: 'Unschedulable',
      message:
        '1 of 1 replicas could not be placed: w1 is not ready (its Lease is not renewed); w2 is unschedulable; Insufficient memory on w3 (requests 1Gi, 512Mi free)',
    });
  });

  it('is stable: the same input gives the same placement', () => {
    const run = () => placeReplicas({ ...base, count: 5, nodes: [node('c'), node('a'), node('b')], usage: new Map(), own: new Map() }).placed;
    expect(run()).toEqual(run());
    expect(run()).toEqual(['a', 'b', 'c', 'a', 'b']);
  });
});

describe('placeOn', () => {
  it('reserves the node when the replica fits', () => {
    const usage = new Map<string, NodeUsage>();
    const own = new Map<string, number>();
    expect(placeOn(node('w1'), { selector: undefined, request: { cpuMillis: 100, memoryBytes: 1 }, usage, own })).toBeUndefined();
    expect(usage.get('w1')).toEqual({ cpuMillis: 100, memoryBytes: 1, pods: 1 });
    expect(own.get('w1')).toBe(1);
  });

  it('leaves usage alone when it does not fit', () => {
    const usage = new Map<string, NodeUsage>();
    expect(placeOn(node('w1'), { selector: undefined, request: { cpuMillis: 5000, memoryBytes: 1 }, usage, own: new Map() })?.kind).toBe('InsufficientCpu');
    expect(usage.size).toBe(0);
  });
});

describe('explainUnplaced', () => {
  it('says when no agent is registered at all', () => {
    expect(explainUnplaced(0, undefined, new Map())).toEqual({ reason: 'Unschedulable', message: 'no NodeAgent is registered: start a Shopfloor agent on a node' });
  });
});
