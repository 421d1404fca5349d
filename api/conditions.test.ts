import { describe, expect, it } from '@jest/globals';
import { findCondition, isConditionTrue, rfc3339, setCondition, type Condition } from './conditions.js';

const t0 = new Date('2026-01-02T03:04:05.678Z');
const t1 = new Date('2026-01-02T03:09:00.000Z');

describe('setCondition', () => {
  it('appends a new type with lastTransitionTime now, at second precision', () => {
    const out = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Pending', message: 'no replica ready', observedGeneration: 1 }, t0);
    expect(out).toEqual([{ type: 'Ready', status: 'False', reason: 'Pending', message: 'no replica ready', observedGeneration: 1, lastTransitionTime: '2026-01-02T03:04:05Z' }]);
  });

  it('keeps lastTransitionTime while the status stays, taking reason, message and observedGeneration from the update', () => {
    const before = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Pending', message: '0/2 ready', observedGeneration: 1 }, t0);
    const after = setCondition(before, { type: 'Ready', status: 'False', reason: 'Starting', message: '1/2 ready', observedGeneration: 2 }, t1);
    expect(after).toEqual([{ type: 'Ready', status: 'False', reason: 'Starting', message: '1/2 ready', observedGeneration: 2, lastTransitionTime: '2026-01-02T03:04:05Z' }]);
  });

  it('moves lastTransitionTime when the status changes', () => {
    const before = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Pending', message: '' }, t0);
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'AllReady', message: '2/2 ready' }, t1);
    expect(after[0]?.lastTransitionTime).toBe('2026-01-02T03:09:00Z');
  });

  it('keeps the order of the other conditions and does not change its input', () => {
    const input: Condition[] = [
      { type: 'Ready', status: 'True', reason: 'AllReady', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'Degraded', status: 'False', reason: 'Valid', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' },
    ];
    const frozen = JSON.parse(JSON.stringify(input)) as Condition[];
    const out = setCondition(input, { type: 'Ready', status: 'False', reason: 'NodeLost', message: 'node-2 stopped renewing its lease' }, t1);
    expect(input).toEqual(frozen);
    expect(out.map((c) => c.type)).toEqual(['Ready', 'Degraded']);
    expect(out[0]).toEqual({ type: 'Ready', status: 'False', reason: 'NodeLost', message: 'node-2 stopped renewing its lease', lastTransitionTime: '2026-01-02T03:09:00Z' });
    expect(out[1]).toBe(input[1]);
  });

  it('leaves observedGeneration out when the update has none', () => {
    const before = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'A', message: '', observedGeneration: 3 }, t0);
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'A', message: '' }, t1);
    expect(after[0]).not.toHaveProperty('observedGeneration');
  });
});

describe('findCondition / isConditionTrue', () => {
  const list = setCondition(setCondition(undefined, { type: 'Ready', status: 'True', reason: 'A', message: '' }, t0), { type: 'Degraded', status: 'Unknown', reason: 'B', message: '' }, t0);
  it('finds by type', () => {
    expect(findCondition(list, 'Degraded')?.reason).toBe('B');
    expect(findCondition(list, 'Progressing')).toBeUndefined();
    expect(findCondition(undefined, 'Ready')).toBeUndefined();
  });
  it('is true only for status True', () => {
    expect(isConditionTrue(list, 'Ready')).toBe(true);
    expect(isConditionTrue(list, 'Degraded')).toBe(false);
    expect(isConditionTrue(list, 'Progressing')).toBe(false);
  });
});

describe('rfc3339', () => {
  it('writes UTC at second precision, as metav1.Time', () => {
    expect(rfc3339(t0)).toBe('2026-01-02T03:04:05Z');
  });
});
