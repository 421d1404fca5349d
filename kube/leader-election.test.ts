import { describe, expect, it } from '@jest/globals';
import { leaseFor, mayAcquire, microTime, nextAttemptInMs } from './leader-election.js';

const T = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('mayAcquire', () => {
  it('takes a lease nobody holds, and keeps its own', () => {
    expect(mayAcquire(undefined, 'me', T, T, 15_000)).toBe(true);
    expect(mayAcquire({ holderIdentity: '' }, 'me', T, T, 15_000)).toBe(true);
    expect(mayAcquire({ holderIdentity: 'me', leaseDurationSeconds: 15 }, 'me', T, T, 15_000)).toBe(true);
  });

  it("waits out another holder's lease duration from when this replica saw it change", () => {
    const other = { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: microTime(T - 3_600_000) };
    // The renewTime in the record is an hour old (its clock may be off); what counts is when we saw it.
    expect(mayAcquire(other, 'me', T, T + 14_999, 15_000)).toBe(false);
    expect(mayAcquire(other, 'me', T, T + 15_000, 15_000)).toBe(true);
  });

  it("uses the record's own duration, else the default", () => {
    expect(mayAcquire({ holderIdentity: 'o', leaseDurationSeconds: 40 }, 'me', T, T + 20_000, 15_000)).toBe(false);
    expect(mayAcquire({ holderIdentity: 'o' }, 'me', T, T + 20_000, 15_000)).toBe(true);
  });
});

describe('leaseFor', () => {
  it('counts a transition when the holder changes and keeps acquireTime while renewing', () => {
    const taken = leaseFor({ holderIdentity: 'old', leaseTransitions: 4, acquireTime: microTime(T - 1000) }, 'me', T, 15);
    expect(taken).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-01T12:00:00.000000Z',
      renewTime: '2026-01-01T12:00:00.000000Z',
      leaseTransitions: 5,
    });
    const renewed = leaseFor(taken, 'me', T + 2000, 15);
    expect(renewed.acquireTime).toBe(taken.acquireTime);
    expect(renewed.renewTime).toBe('2026-01-01T12:00:02.000000Z');
    expect(renewed.leaseTransitions).toBe(5);
  });

  it('starts a new lease at zero transitions and counts taking a released one', () => {
    expect(leaseFor(undefined, 'me', T, 15).leaseTransitions).toBe(0);
    expect(leaseFor({ holderIdentity: '', leaseTransitions: 2 }, 'me', T, 15).leaseTransitions).toBe(3);
  });
});

describe('nextAttemptInMs', () => {
  it("tries again when another holder's lease runs out, if that comes before the retry period", () => {
    expect(nextAttemptInMs(T + 700, T, 2000)).toBe(700);
    expect(nextAttemptInMs(T + 15_000, T, 2000)).toBe(2000);
  });

  it('waits the retry period when nobody else holds the lease or its expiry is past (no spinning)', () => {
    expect(nextAttemptInMs(undefined, T, 2000)).toBe(2000);
    expect(nextAttemptInMs(T, T, 2000)).toBe(2000);
    expect(nextAttemptInMs(T - 1, T, 2000)).toBe(2000);
  });
});
