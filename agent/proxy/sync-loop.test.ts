import { describe, expect, it } from '@jest/globals';
import { Backoff } from '../../kube/backoff.js';
import { FakeClock } from '../../kube/fake-clock.js';
import { SyncLoop } from './sync-loop.js';

/** `results` are the syncs' outcomes in order (then success); retries wait the whole backoff (no jitter), capped at `retryMaxMs`. */
function setup(results: boolean[] = [], retryMaxMs = 30_000) {
  const clock = new FakeClock(0);
  const calls: { at: number; full: boolean }[] = [];
  const loop = new SyncLoop({
    clock,
    minIntervalMs: 1000,
    fullResyncMs: 3_600_000,
    retry: new Backoff(1000, retryMaxMs, () => 1),
    sync: async (full) => {
      calls.push({ at: clock.now(), full });
      return results.shift() ?? true;
    },
  });
  return { clock, calls, loop };
}

describe('SyncLoop', () => {
  it('starts with a full sync, then coalesces requests to one sync per minimum interval', async () => {
    const { clock, calls, loop } = setup();
    loop.start();
    await clock.advance(0);
    loop.request();
    loop.request();
    await clock.advance(500);
    loop.request();
    await clock.advance(2000);
    expect(calls).toEqual([
      { at: 0, full: true },
      { at: 1000, full: false },
    ]);
    loop.request();
    await clock.advance(0);
    expect(calls.at(-1)).toEqual({ at: 2500, full: false });
    await loop.stop();
  });

  it('follows a failed sync with a full one, after a backoff that doubles from the minimum interval', async () => {
    const { clock, calls, loop } = setup([true, false, false, true]);
    loop.start();
    await clock.advance(0);
    loop.request();
    await clock.advance(5000);
    expect(calls).toEqual([
      { at: 0, full: true },
      { at: 1000, full: false },
      { at: 2000, full: true },
      { at: 4000, full: true },
    ]);
    await loop.stop();
  });

  it('backs off syncs that keep failing up to the cap, requests included, and resets after a success', async () => {
    const { clock, calls, loop } = setup(Array<boolean>(8).fill(false), 8000);
    loop.start();
    for (let t = 0; t < 47_250; t += 250) {
      loop.request();
      await clock.advance(250);
    }
    // Failures at 0, 1 s, 3 s, 7 s, then every 8 s (the cap); the 9th sync succeeds.
    expect(calls.map((c) => c.at)).toEqual([0, 1000, 3000, 7000, 15_000, 23_000, 31_000, 39_000, 47_000]);
    expect(calls.slice(1).every((c) => c.full)).toBe(true);
    loop.request();
    await clock.advance(1000);
    expect(calls.at(-1)).toEqual({ at: 48_000, full: false });
    await loop.stop();
  });

  it('jitters each wait into its upper half', async () => {
    const clock = new FakeClock(0);
    const calls: number[] = [];
    const loop = new SyncLoop({ clock, minIntervalMs: 1000, fullResyncMs: 3_600_000, retry: new Backoff(1000, 8000, () => 0), sync: async () => (calls.push(clock.now()), false) });
    loop.start();
    await clock.advance(20_000);
    expect(calls.slice(0, 5)).toEqual([0, 1000, 2000, 4000, 8000]);
    await loop.stop();
  });

  it('forces a full resync a full period after the last one', async () => {
    const { clock, calls, loop } = setup();
    loop.start();
    await clock.advance(0);
    await clock.advance(3_600_000);
    expect(calls).toEqual([
      { at: 0, full: true },
      { at: 3_600_000, full: true },
    ]);
    await loop.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('does nothing after stop', async () => {
    const { clock, calls, loop } = setup();
    loop.start();
    await clock.advance(0);
    await loop.stop();
    loop.request();
    await clock.advance(10_000);
    expect(calls).toHaveLength(1);
  });
});
