import { describe, expect, it } from '@jest/globals';
import { LeaseTracker, nodeHealth } from './liveness.js';

describe('nodeHealth', () => {
  const seen = { renewedAt: 1_000_000, durationMs: 40_000 };
  it.each([
    ['just renewed', 1_000_000, { health: 'Live', changesAt: 1_040_000 }],
    ['one ms before expiry', 1_039_999, { health: 'Live', changesAt: 1_040_000 }],
    ['at expiry', 1_040_000, { health: 'Expired', expiredAt: 1_040_000, changesAt: 1_100_000 }],
    ['within the grace period', 1_099_999, { health: 'Expired', expiredAt: 1_040_000, changesAt: 1_100_000 }],
    ['after the grace period', 1_100_000, { health: 'Lost', expiredAt: 1_040_000 }],
  ])('%s', (_name, now, want) => {
    expect(nodeHealth(seen, now, 60_000)).toEqual(want);
  });
});

describe('LeaseTracker', () => {
  it('trusts the first renewTime it sees, but never one in the future', () => {
    const t = new LeaseTracker();
    const now = Date.parse('2026-01-01T00:01:00Z');
    expect(t.observe('w1', { renewTime: '2026-01-01T00:00:30Z', leaseDurationSeconds: 40 }, now)).toEqual({ renewedAt: now - 30_000, durationMs: 40_000 });
    expect(t.observe('w2', { renewTime: '2026-01-01T00:05:00Z' }, now).renewedAt).toBe(now);
  });

  it('counts a renewal from when it was seen, whatever the node clock says', () => {
    const t = new LeaseTracker();
    t.observe('w1', { renewTime: '2020-01-01T00:00:00Z', leaseDurationSeconds: 10 }, 5_000);
    expect(t.observe('w1', { renewTime: '2020-01-01T00:00:10Z', leaseDurationSeconds: 10 }, 9_000)).toEqual({ renewedAt: 9_000, durationMs: 10_000 });
  });

  it('does not move renewedAt when the Lease is seen again unchanged', () => {
    const t = new LeaseTracker();
    t.observe('w1', { renewTime: '1970-01-01T00:00:01Z' }, 2_000);
    expect(t.observe('w1', { renewTime: '1970-01-01T00:00:01Z' }, 50_000).renewedAt).toBe(1_000);
  });

  it('treats a node without a Lease as expiring now', () => {
    const t = new LeaseTracker();
    const seen = t.observe('w1', undefined, 100_000);
    expect(nodeHealth(seen, 100_000, 60_000).health).toBe('Expired');
  });
});
