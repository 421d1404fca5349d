import { describe, expect, it } from '@jest/globals';
import { deepEqual, mergePatchBetween, withConditions } from './status.js';

describe('deepEqual', () => {
  it('ignores key order and undefined keys, not array order', () => {
    expect(deepEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(deepEqual({ a: 1, x: undefined }, { a: 1 })).toBe(true);
    expect(deepEqual([1, 2], [2, 1])).toBe(false);
    expect(deepEqual({ a: 0 }, { a: null })).toBe(false);
    expect(deepEqual({}, [])).toBe(false);
  });
});

describe('mergePatchBetween', () => {
  it('is undefined when nothing changed', () => {
    expect(mergePatchBetween({ replicas: 3, conditions: [{ type: 'Ready' }] }, { conditions: [{ type: 'Ready' }], replicas: 3 })).toBeUndefined();
  });

  it('holds only changed fields, nulls for removed ones, arrays whole', () => {
    const current = { replicas: 3, readyReplicas: 1, clusterIP: '10.250.0.7', conditions: [{ type: 'Ready', status: 'False' }], nested: { a: 1, b: 2 } };
    const desired = { replicas: 3, readyReplicas: 3, conditions: [{ type: 'Ready', status: 'True' }], nested: { a: 1, c: 3 } };
    expect(mergePatchBetween(current, desired)).toEqual({
      readyReplicas: 3,
      clusterIP: null,
      conditions: [{ type: 'Ready', status: 'True' }],
      nested: { b: null, c: 3 },
    });
  });
});

describe('withConditions', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:05:00Z');

  it('stamps observedGeneration and moves lastTransitionTime only on a status flip', () => {
    const first = withConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'Waiting', message: '0 of 3 ready' }], 1, t0);
    expect(first).toEqual([{ type: 'Ready', status: 'False', reason: 'Waiting', message: '0 of 3 ready', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }]);
    const same = withConditions(first, [{ type: 'Ready', status: 'False', reason: 'Waiting', message: '1 of 3 ready' }], 2, t1);
    expect(same[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(same[0]?.observedGeneration).toBe(2);
    const flipped = withConditions(same, [{ type: 'Ready', status: 'True', reason: 'AllReady', message: '3 of 3 ready' }], 2, t1);
    expect(flipped[0]?.lastTransitionTime).toBe('2026-01-01T00:05:00Z');
  });
});
