import { describe, expect, it } from '@jest/globals';
import { workloadIndex, workloadKeyOf } from './nodeassignment.js';

describe('workloadKeyOf', () => {
  it('is the namespace and the shopfloor.dev/workload label of an assignment', () => {
    const a = { metadata: { namespace: 'shop', name: 'web-abc', labels: { 'shopfloor.dev/workload': 'web', 'shopfloor.dev/node': 'n1' } } };
    expect(workloadKeyOf(a)).toBe('shop/web');
    expect(workloadIndex(a)).toEqual(['shop/web']);
  });

  it('gives a static assignment\'s mirror no workload, so it never joins a same-named NodeWorkload\'s replicas or service', () => {
    const mirror = { metadata: { namespace: 'shop', name: 'web-n1', labels: { 'shopfloor.dev/static': 'true', 'shopfloor.dev/node': 'n1' } } };
    expect(workloadKeyOf(mirror)).toBeUndefined();
    expect(workloadIndex(mirror)).toEqual([]);
  });

  it('is undefined without a namespace', () => {
    expect(workloadKeyOf({ metadata: { labels: { 'shopfloor.dev/workload': 'web' } } })).toBeUndefined();
  });
});
