import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../kube/fake-clock.js';
import { RestartBackoff } from './restart-backoff.js';

describe('RestartBackoff', () => {
  it('waits 1 s after the first death and doubles up to 30 s while containerd keeps dying', async () => {
    const clock = new FakeClock();
    const b = new RestartBackoff(clock);
    b.running();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      await clock.advance(5_000);
      delays.push(b.failed());
      b.running();
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(b.failures()).toBe(8);
  });

  it('counts failed starts (no run in between) as failures too', () => {
    const b = new RestartBackoff(new FakeClock());
    expect([b.failed(), b.failed(), b.failed()]).toEqual([1_000, 2_000, 4_000]);
  });

  it('starts again from 1 s once a run lasted 60 s, not before', async () => {
    const clock = new FakeClock();
    const b = new RestartBackoff(clock);
    b.running();
    await clock.advance(1_000);
    b.failed();
    b.running();
    await clock.advance(1_000);
    expect(b.failed()).toBe(2_000);
    b.running();
    await clock.advance(59_999);
    expect(b.failed()).toBe(4_000);
    b.running();
    await clock.advance(60_000);
    expect(b.failed()).toBe(1_000);
    expect(b.failures()).toBe(1);
  });

  it('takes other limits', async () => {
    const clock = new FakeClock();
    const b = new RestartBackoff(clock, { initialMs: 100, maxMs: 250, resetAfterMs: 1_000 });
    expect([b.failed(), b.failed(), b.failed()]).toEqual([100, 200, 250]);
    b.running();
    await clock.advance(1_000);
    expect(b.failed()).toBe(100);
  });
});
