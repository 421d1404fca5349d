import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { Controller } from './controller.js';
import { FakeClock, flushMicrotasks } from './fake-clock.js';
import { ExponentialFailureRateLimiter } from './rate-limiter.js';
import type { EventSource, KubeObject, ResourceEventHandler } from './types.js';

/** A hand-driven stand-in for an informer. */
class FakeSource implements EventSource<KubeObject> {
  handlers: Array<ResourceEventHandler<KubeObject>> = [];
  private synced!: () => void;
  private readonly syncPromise = new Promise<void>((resolve) => (this.synced = resolve));
  addEventHandler(h: ResourceEventHandler<KubeObject>): void {
    this.handlers.push(h);
  }
  async waitForSync(): Promise<boolean> {
    await this.syncPromise;
    return true;
  }
  sync(): void {
    this.synced();
  }
  add(obj: KubeObject): void {
    for (const h of this.handlers) h.onAdd?.(obj);
  }
}

const obj = (ns: string, name: string): KubeObject => ({ metadata: { namespace: ns, name } });

describe('Controller', () => {
  it('reconciles nothing until its sources sync, then each changed key', async () => {
    const clock = new FakeClock();
    const source = new FakeSource();
    const seen: string[] = [];
    const c = new Controller({ name: 'c', clock, reconcile: async (key) => void seen.push(key) });
    c.watch(source);
    const run = c.run();
    source.add(obj('ns', 'a'));
    source.add(obj('ns', 'a'));
    await flushMicrotasks();
    expect(seen).toEqual([]);
    source.sync();
    await flushMicrotasks();
    expect(seen).toEqual(['ns/a']);
    source.add(obj('ns', 'b'));
    await flushMicrotasks();
    expect(seen).toEqual(['ns/a', 'ns/b']);
    await c.stop();
    await run;
  });

  it('maps changed objects to other keys', async () => {
    const source = new FakeSource();
    const seen: string[] = [];
    const c = new Controller({ name: 'c', reconcile: async (key) => void seen.push(key) });
    c.watch(source, (o) => [`owner-of-${o.metadata?.name}`]);
    source.sync();
    const run = c.run();
    source.add(obj('ns', 'child'));
    await flushMicrotasks();
    expect(seen).toEqual(['owner-of-child']);
    await c.stop();
    await run;
  });

  it('gathers the changes of a delayed watch into one reconcile, and tells the mapping which change it was', async () => {
    const clock = new FakeClock();
    const source = new FakeSource();
    const seen: string[] = [];
    const c = new Controller({ name: 'c', clock, reconcile: async (key) => void seen.push(key) });
    const changes: string[] = [];
    c.watch(
      source,
      (o, change) => {
        changes.push(`${change} ${o.metadata?.name}`);
        return ['ns/owner'];
      },
      { delayMs: 1000 },
    );
    source.sync();
    const run = c.run();
    source.add(obj('ns', 'a'));
    for (const h of source.handlers) h.onUpdate?.(obj('ns', 'a'), obj('ns', 'a'));
    for (const h of source.handlers) h.onDelete?.(obj('ns', 'b'));
    await clock.advance(999);
    expect(seen).toEqual([]);
    await clock.advance(1);
    expect(seen).toEqual(['ns/owner']);
    expect(changes).toEqual(['add a', 'update a', 'update a', 'delete b']);
    await c.stop();
    await run;
  });

  it('watches a source of names, not objects, reporting an unchanged name once per update', async () => {
    const handlers: Array<ResourceEventHandler<string>> = [];
    const nodes: EventSource<string> = { addEventHandler: (h) => void handlers.push(h), waitForSync: async () => true };
    const seen: string[] = [];
    const c = new Controller({ name: 'c', reconcile: async (key) => void seen.push(key) });
    const mapped: string[] = [];
    c.watch(nodes, (node) => (mapped.push(node), [`ns/on-${node}`]));
    const run = c.run();
    for (const h of handlers) h.onUpdate?.('n1', 'n1');
    await flushMicrotasks();
    expect(mapped).toEqual(['n1']);
    expect(seen).toEqual(['ns/on-n1']);
    await c.stop();
    await run;
  });

  it('retries a failing key with backoff and counts results', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const source = new FakeSource();
    const attempts: number[] = [];
    let failuresLeft = 3;
    const c = new Controller({
      name: 'retry',
      clock,
      registry,
      rateLimiter: new ExponentialFailureRateLimiter(100, 10_000),
      reconcile: async () => {
        attempts.push(clock.now());
        if (failuresLeft-- > 0) throw new Error('API said no');
      },
    });
    c.watch(source);
    source.sync();
    const run = c.run();
    source.add(obj('ns', 'a'));
    await clock.advance(1000);
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    expect(gaps).toEqual([100, 200, 400]);
    expect(c.queue.numRequeues('ns/a')).toBe(0);
    const text = await registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="retry",result="error"} 3');
    expect(text).toContain('controller_runtime_reconcile_total{controller="retry",result="success"} 1');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="retry"} 3');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="retry"} 4');
    expect(text).toContain('controller_runtime_active_workers{controller="retry"} 0');
    await c.stop();
    await run;
  });

  it('honours requeueAfterMs and requeue', async () => {
    const clock = new FakeClock();
    const registry = new Registry();
    const source = new FakeSource();
    const times: number[] = [];
    const c = new Controller({
      name: 'periodic',
      clock,
      registry,
      rateLimiter: new ExponentialFailureRateLimiter(50, 10_000),
      reconcile: async () => {
        times.push(clock.now());
        return times.length === 1 ? { requeueAfterMs: 30_000 } : times.length === 2 ? { requeue: true } : {};
      },
    });
    c.watch(source);
    source.sync();
    const run = c.run();
    const t0 = clock.now();
    source.add(obj('ns', 'a'));
    await clock.advance(60_000);
    expect(times.map((t) => t - t0)).toEqual([0, 30_000, 30_050]);
    const text = await registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="periodic",result="requeue_after"} 1');
    expect(text).toContain('controller_runtime_reconcile_total{controller="periodic",result="requeue"} 1');
    await c.stop();
    await run;
  });

  it('runs different keys in parallel but one key at a time', async () => {
    const source = new FakeSource();
    let active = 0;
    let maxActive = 0;
    let overlapped = false;
    let calls = 0;
    const perKey = new Map<string, number>();
    const releases: Array<() => void> = [];
    const c = new Controller({
      name: 'par',
      workers: 3,
      reconcile: async (key) => {
        active++;
        calls++;
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
        if (perKey.get(key) !== 1) overlapped = true;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((r) => releases.push(r));
        perKey.set(key, (perKey.get(key) ?? 0) - 1);
        active--;
      },
    });
    c.watch(source);
    source.sync();
    const run = c.run();
    for (const n of ['a', 'b', 'c', 'd']) source.add(obj('ns', n));
    await flushMicrotasks();
    expect(maxActive).toBe(3);
    // 'a' changes while a worker holds it: it must wait, then run once more.
    source.add(obj('ns', 'a'));
    while (releases.length > 0) {
      releases.shift()?.();
      await flushMicrotasks();
    }
    // a, b, c, d and the second a: five reconciles, never two of one key at once.
    expect(calls).toBe(5);
    expect(overlapped).toBe(false);
    expect(maxActive).toBe(3);
    await c.stop();
    await run;
  });

  it('stop aborts running reconciles and drops queued keys', async () => {
    const source = new FakeSource();
    const seen: string[] = [];
    let aborted = false;
    const c = new Controller({
      name: 'stop',
      reconcile: (key, signal) =>
        new Promise<void>((resolve) => {
          seen.push(key);
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          });
        }),
    });
    c.watch(source);
    source.sync();
    const run = c.run();
    source.add(obj('ns', 'a'));
    source.add(obj('ns', 'b'));
    await flushMicrotasks();
    await c.stop();
    await run;
    expect(aborted).toBe(true);
    expect(seen).toEqual(['ns/a']);
  });

  it('rejects a worker count that is not a positive whole number', () => {
    expect(() => new Controller({ name: 'x', workers: 0, reconcile: async () => {} })).toThrow(/workers must be/);
  });
});
