import { describe, expect, it } from '@jest/globals';
import { FakeClock } from './fake-clock.js';
import {
  ExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  TokenBucketRateLimiter,
  defaultControllerRateLimiter,
} from './rate-limiter.js';

describe('ExponentialFailureRateLimiter', () => {
  it('doubles from 5 ms per failure and caps at 1000 s', () => {
    const l = new ExponentialFailureRateLimiter(5, 1_000_000);
    const delays = Array.from({ length: 5 }, () => l.when('a'));
    expect(delays).toEqual([5, 10, 20, 40, 80]);
    for (let i = 0; i < 100; i++) l.when('a');
    expect(l.when('a')).toBe(1_000_000);
    expect(l.retries('a')).toBe(106);
  });

  it('keeps keys apart and starts over after forget', () => {
    const l = new ExponentialFailureRateLimiter(5, 1_000_000);
    l.when('a');
    l.when('a');
    expect(l.when('b')).toBe(5);
    l.forget('a');
    expect(l.retries('a')).toBe(0);
    expect(l.when('a')).toBe(5);
  });

  it('rejects a base delay above the cap', () => {
    expect(() => new ExponentialFailureRateLimiter(10, 5)).toThrow(/baseDelayMs/);
  });
});

describe('TokenBucketRateLimiter', () => {
  it('lets a burst through, then spaces calls at 1/qps', async () => {
    const clock = new FakeClock();
    const l = new TokenBucketRateLimiter(10, 3, clock);
    expect([l.when(), l.when(), l.when()]).toEqual([0, 0, 0]);
    expect(l.when()).toBeCloseTo(100);
    expect(l.when()).toBeCloseTo(200);
    await clock.advance(1000);
    // 1 s refills 10 tokens, but the bucket holds at most 3 and 2 were owed.
    expect(l.when()).toBe(0);
  });

  it('refills at qps up to burst', async () => {
    const clock = new FakeClock();
    const l = new TokenBucketRateLimiter(2, 2, clock);
    l.when();
    l.when();
    await clock.advance(500);
    expect(l.when()).toBe(0);
    expect(l.when()).toBeCloseTo(500);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('takes the longer of per-key backoff and the overall bucket', async () => {
    const clock = new FakeClock();
    const l = defaultControllerRateLimiter(clock);
    // 100 keys fail once each: the burst of 100 absorbs them at the per-key 5 ms.
    for (let i = 0; i < 100; i++) expect(l.when(`k${i}`)).toBe(5);
    // The 101st retry waits for the bucket (10 qps): 100 ms, longer than its own 5 ms.
    expect(l.when('k100')).toBeCloseTo(100);
    expect(l.retries('k100')).toBe(1);
    l.forget('k100');
    expect(l.retries('k100')).toBe(0);
  });

  it('MaxOf reports the largest retry count of its parts', () => {
    const a = new ExponentialFailureRateLimiter(1, 100);
    const b = new ExponentialFailureRateLimiter(1, 100);
    const l = new MaxOfRateLimiter(a, b);
    b.when('x');
    l.when('x');
    expect(l.retries('x')).toBe(2);
  });
});
