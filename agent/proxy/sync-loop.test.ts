import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../kube/fake-clock.js';
import { SyncLoop } from './sync-loop.js';

function setup(results: boolean[] = []) {
  const clock = new FakeClock(0);
  const calls: { at: number; full: boolean }[] = [];
  const loop = new SyncLoop({
    clock,
    minIntervalMs: 1000,
    fullResyncMs: 3_600_000,
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

  it('follows a failed sync with a full one, retried at the minimum interval', async () => {
    const { clock, calls, loop } = setup([true, false, false, true]);
    loop.start();
    await clock.advance(0);
    loop.request();
    await clock.advance(5000);
    expect(calls).toEqual([
      { at: 0, full: true },
      { at: 1000, full: false },
      { at: 2000, full: true },
      { at: 3000, full: true },
    ]);
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
