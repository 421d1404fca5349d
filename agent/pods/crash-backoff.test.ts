import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../kube/fake-clock.js';
import { CrashBackoff, ImagePullBackoff } from './crash-backoff.js';

const key = 'uid-1/app/hash-1';

/**
 * Fails `failures` times, each failure `runMs` after the try before it, trying again as soon as
 * the backoff allows; returns how long each try waited after its failure.
 */
async function loop(clock: FakeClock, backoff: CrashBackoff | ImagePullBackoff, failures: number, runMs = 1_000): Promise<number[]> {
  const waits: number[] = [];
  for (let i = 0; i < failures; i++) {
    await clock.advance(runMs);
    const failedAt = clock.now();
    for (let wait = backoff.remainingMs(key, failedAt); wait > 0; wait = backoff.remainingMs(key, failedAt)) await clock.advance(wait);
    waits.push(clock.now() - failedAt);
    backoff.tried(key, failedAt);
  }
  return waits;
}

describe('CrashBackoff', () => {
  it('restarts at once after the first crash, then waits 10 s doubling to a 300 s cap', async () => {
    const clock = new FakeClock();
    expect(await loop(clock, new CrashBackoff({ clock }), 9)).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('counts the wait from when the container exited, not from when the exit was noticed', async () => {
    const clock = new FakeClock();
    const backoff = new CrashBackoff({ clock });
    await loop(clock, backoff, 1);
    const finishedAt = clock.now();
    await clock.advance(4_000);
    expect(backoff.remainingMs(key, finishedAt)).toBe(6_000);
    await clock.advance(6_000);
    expect(backoff.remainingMs(key, finishedAt)).toBe(0);
  });

  it('starts over once the container ran for 10 minutes since its last restart', async () => {
    const clock = new FakeClock();
    const backoff = new CrashBackoff({ clock });
    expect(await loop(clock, backoff, 4)).toEqual([0, 10_000, 20_000, 40_000]);
    expect(await loop(clock, backoff, 1, 600_000)).toEqual([80_000]);
    expect(await loop(clock, backoff, 3, 600_001)).toEqual([0, 0, 0]);
    expect(await loop(clock, backoff, 2)).toEqual([10_000, 20_000]);
  });

  it('keeps keys apart, forgets one on reset and quiet ones on gc', async () => {
    const clock = new FakeClock();
    const backoff = new CrashBackoff({ clock });
    await loop(clock, backoff, 2);
    const other = 'uid-1/app/hash-2';
    expect(backoff.remainingMs(other, clock.now())).toBe(0);
    backoff.tried(other, clock.now());
    backoff.reset(key);
    expect(backoff.remainingMs(key, clock.now())).toBe(0);
    backoff.tried(key, clock.now());
    expect(backoff.size).toBe(2);
    await clock.advance(600_000);
    backoff.gc();
    expect(backoff.size).toBe(2);
    await clock.advance(1);
    backoff.gc();
    expect(backoff.size).toBe(0);
  });

  it('picks up an adopted container\'s loop from its restart count after an agent restart', async () => {
    const clock = new FakeClock();
    const backoff = new CrashBackoff({ clock });
    backoff.restore(key, 3, clock.now());
    await clock.advance(1_000);
    expect(backoff.remainingMs(key, clock.now())).toBe(40_000);
    backoff.restore('never-restarted', 0, clock.now());
    expect(backoff.remainingMs('never-restarted', clock.now())).toBe(0);
    expect(backoff.size).toBe(1);
  });

  it('follows a lower cap, which lowers the initial delay too', async () => {
    const clock = new FakeClock();
    expect(await loop(clock, new CrashBackoff({ clock, maxMs: 5_000 }), 3)).toEqual([0, 5_000, 5_000]);
    expect(await loop(clock, new CrashBackoff({ clock, initialMs: 1_000, maxMs: 60_000 }), 9)).toEqual([0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(() => new CrashBackoff({ clock, maxMs: 0 })).toThrow('maxMs (0) above 0');
  });
});

describe('ImagePullBackoff', () => {
  it('waits 10 s after the first failed pull, doubling per failure to 300 s, and starts over after a reset', async () => {
    const clock = new FakeClock();
    const pulls = new ImagePullBackoff({ clock });
    expect(await loop(clock, pulls, 8)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    pulls.reset(key);
    expect(await loop(clock, pulls, 2)).toEqual([10_000, 20_000]);
  });
});
