import { describe, expect, it } from '@jest/globals';
import { pool } from './pool.js';

describe('pool', () => {
  it('runs every index once with no more than the concurrency in flight', async () => {
    const seen: number[] = [];
    let inFlight = 0;
    let most = 0;
    await pool(20, 3, async (i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(i);
      inFlight--;
    });
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(most).toBe(3);
  });

  it('starts no task after one fails and throws its error', async () => {
    const started: number[] = [];
    await expect(
      pool(10, 2, async (i) => {
        started.push(i);
        await new Promise((resolve) => setImmediate(resolve));
        if (i === 1) throw new Error('task 1 failed');
      }),
    ).rejects.toThrow('task 1 failed');
    expect(started.length).toBeLessThan(10);
  });
});
