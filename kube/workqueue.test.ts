import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { FakeClock, flushMicrotasks } from './fake-clock.js';
import { ExponentialFailureRateLimiter } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

function newQueue(clock = new FakeClock(), registry?: Registry): WorkQueue {
  return new WorkQueue({ name: 'test', clock, rateLimiter: new ExponentialFailureRateLimiter(5, 1000), registry });
}

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = newQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands one key to two workers, and re-queues a key added while processing', async () => {
    const q = newQueue();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a');
    q.add('a');
    // A second worker waiting now must not receive 'a' while the first still holds it.
    let second: string | undefined = 'none';
    void q.get().then((k) => (second = k));
    await flushMicrotasks();
    expect(second).toBe('none');
    expect(q.len()).toBe(0);
    q.done('a');
    await flushMicrotasks();
    expect(second).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
    expect(q.inFlight()).toBe(0);
  });

  it('does not re-queue a processed key nobody added again', async () => {
    const q = newQueue();
    q.add('a');
    const k = await q.get();
    q.done(k as string);
    expect(q.len()).toBe(0);
  });

  it('hands a key to a worker that was already waiting', async () => {
    const q = newQueue();
    const got = q.get();
    q.add('x');
    expect(await got).toBe('x');
    expect(q.inFlight()).toBe(1);
  });

  it('hands a key added twice in one burst to a waiting worker once', async () => {
    const q = newQueue();
    const got = q.get();
    q.add('x');
    q.add('x');
    expect(await got).toBe('x');
    q.done('x');
    expect(q.len()).toBe(0);
    expect(q.inFlight()).toBe(0);
  });

  it('addAfter adds when the delay passes and keeps the earliest schedule', async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    q.addAfter('a', 1000);
    q.addAfter('a', 300);
    q.addAfter('a', 5000);
    await clock.advance(299);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    await clock.advance(10_000);
    expect(q.len()).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('addRateLimited backs off exponentially per key until forget', async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.now();
      q.addRateLimited('a');
      while (q.len() === 0) await clock.advance(1);
      delays.push(clock.now() - start);
      q.done((await q.get()) as string);
    }
    expect(delays).toEqual([5, 10, 20, 40]);
    expect(q.numRequeues('a')).toBe(4);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('shutDown stops handing out keys at once and releases waiting workers', async () => {
    const clock = new FakeClock();
    const q = newQueue(clock);
    const waiter = q.get();
    q.shutDown();
    expect(await waiter).toBeUndefined();
    q.add('late');
    q.addAfter('later', 10);
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('shutDownWithDrain hands out queued keys and resolves when the last is done', async () => {
    const q = newQueue();
    q.add('a');
    q.add('b');
    const held = (await q.get()) as string;
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    q.add('c');
    expect(await q.get()).toBe('b');
    expect(await q.get()).toBeUndefined();
    q.done('b');
    await flushMicrotasks();
    expect(drained).toBe(false);
    q.done(held);
    await drain;
    expect(drained).toBe(true);
  });

  it('reports controller-runtime metrics labelled with its name', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const q = newQueue(clock, registry);
    q.add('a');
    q.add('a');
    q.add('b');
    await clock.advance(2000);
    const key = (await q.get()) as string;
    await clock.advance(3000);
    q.addRateLimited('b');
    const text = await registry.metrics();
    expect(text).toContain('workqueue_depth{name="test",controller="test"} 1');
    expect(text).toContain('workqueue_adds_total{name="test",controller="test"} 2');
    expect(text).toContain('workqueue_retries_total{name="test",controller="test"} 1');
    expect(text).toContain('workqueue_unfinished_work_seconds{name="test",controller="test"} 3');
    expect(text).toContain('workqueue_longest_running_processor_seconds{name="test",controller="test"} 3');
    expect(text).toMatch(/workqueue_queue_duration_seconds_sum\{name="test",controller="test"\} 2\b/);
    q.done(key);
    const after = await registry.metrics();
    expect(after).toMatch(/workqueue_work_duration_seconds_sum\{name="test",controller="test"\} 3\b/);
    expect(after).toContain('workqueue_unfinished_work_seconds{name="test",controller="test"} 0');
  });
});
