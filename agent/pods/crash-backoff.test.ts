import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../kube/fake-clock.js';
import { CrashBackoff, ImagePullBackoff, crashBackoffKey } from './crash-backoff.js';

const key = crashBackoffKey('uid-1', 'app', 'hash-1');

/**
 * Crash-loops a container that runs `runMs` each time and is restarted as soon as the backoff
 * allows; returns how long each restart waited after the exit.
 */
async function crashLoop(clock: FakeClock, backoff: CrashBackoff, crashes: number, runMs = 1_000): Promise<number[]> {
  const waits: number[] = [];
  for (let i = 0; i < crashes; i++) {
    await clock.advance(runMs);
    const finishedAt = clock.now();
    let decision = backoff.next(key, finishedAt);
    while (decision.waitMs > 0) {
      await clock.advance(decision.waitMs);
      decision = backoff.next(key, finishedAt);
    }
    waits.push(clock.now() - finishedAt);
  }
  return waits;
}

describe('CrashBackoff', () => {
  it('restarts at once after the first crash, then waits 10 s doubling to a 300 s cap', async () => {
    const clock = new FakeClock();
    const backoff = new CrashBackoff({ clock });
    expect(await crashLoop(clock, backoff, 9)).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('counts the wait from when the container exited, not from when it was noticed', async () => {
    const clock = new FakeClock();
    const backoff = new CrashBackoff({ clock });
    await crashLoop(clock, backoff, 1);
    const finishedAt = clock.now();
    await clock.advance(4_000);
    expect(backoff.next(key, finishedAt)).toEqual({ waitMs: 6_000, backoffMs: 10_000 });
    expect(backoff.inBackOff(key, finishedAt)).toBe(true);
    await clock.advance(6_000);
    expect(backoff.inBackOff(key, finishedAt)).toBe(false);
  });

  it('starts over once the container ran for 10 minutes since its last restart', async () => {
    const clock = new FakeClock();
    const backoff = new CrashBackoff({ clock });
    expect(await crashLoop(clock, backoff, 4)).toEqual([0, 10_000, 20_000, 40_000]);
    expect(await crashLoop(clock, backoff, 1, 600_000)).toEqual([40_000 * 2]);
    expect(await crashLoop(clock, backoff, 3, 600_001)).toEqual([0, 0, 0]);
    expect(await crashLoop(clock, backoff, 2)).toEqual([10_000, 20_000]);
  });

  it('keeps keys apart, forgets one on reset and quiet ones on gc', async () => {
    const clock = new FakeClock();
    const backoff = new CrashBackoff({ clock });
    await crashLoop(clock, backoff, 2);
    const other = crashBackoffKey('uid-1', 'app', 'hash-2');
    expect(backoff.next(other, clock.now())).toEqual({ waitMs: 0, backoffMs: 10_000 });
    backoff.reset(key);
    expect(backoff.next(key, clock.now()).waitMs).toBe(0);
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
    expect(backoff.next(key, clock.now())).toEqual({ waitMs: 40_000, backoffMs: 40_000 });
    backoff.restore('never-restarted', 0, clock.now());
    expect(backoff.next('never-restarted', clock.now()).waitMs).toBe(0);
  });

  it('follows a lower cap, which lowers the initial delay too', async () => {
    const clock = new FakeClock();
    expect(await crashLoop(clock, new CrashBackoff({ clock, maxMs: 5_000 }), 3)).toEqual([0, 5_000, 5_000]);
    expect(await crashLoop(clock, new CrashBackoff({ clock, initialMs: 1_000, maxMs: 60_000 }), 9)).toEqual([0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    expect(() => new CrashBackoff({ clock, maxMs: 0 })).toThrow('maxMs (0) above 0');
  });
});

describe('ImagePullBackoff', () => {
  it('waits 10 s after a failed pull, doubling per failure to 300 s, and starts over after a success', async () => {
    const clock = new FakeClock();
    const pulls = new ImagePullBackoff({ clock });
    const image = 'uid-1_shopfloor.dev/app:1';
    expect(pulls.waitMs(image)).toBe(0);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(pulls.failed(image));
      await clock.advance(1_000);
      expect(pulls.waitMs(image)).toBe(delays.at(-1)! - 1_000);
      await clock.advance(pulls.waitMs(image));
    }
    expect(delays).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    pulls.succeeded(image);
    expect(pulls.failed(image)).toBe(10_000);
    await clock.advance(600_001);
    expect(pulls.waitMs(image)).toBe(0);
    pulls.gc();
    expect(pulls.size).toBe(0);
  });
});
