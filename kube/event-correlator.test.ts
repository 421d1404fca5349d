import { describe, expect, it } from '@jest/globals';
import { EventCorrelator } from './event-correlator.js';
import { FakeClock } from './fake-clock.js';

describe('EventCorrelator', () => {
  it('creates the first event and patches repeats with a growing count', () => {
    const c = new EventCorrelator(new FakeClock());
    const key = 'nw/a|Placed|3 replicas';
    expect(c.observe('nw/a', key)).toEqual({ action: 'create', key });
    // A repeat before the create finished is already a patch; the name is looked up at send time.
    expect(c.observe('nw/a', key)).toEqual({ action: 'patch', key, count: 2 });
    expect(c.nameOf(key)).toBeUndefined();
    c.recorded(key, 'a.17f3');
    expect(c.nameOf(key)).toBe('a.17f3');
    expect(c.observe('nw/a', key)).toEqual({ action: 'patch', key, count: 3 });
    expect(c.observe('nw/a', 'nw/a|Placed|4 replicas').action).toBe('create');
  });

  it('drops events past an object burst and lets them through as the bucket refills', async () => {
    const clock = new FakeClock();
    const c = new EventCorrelator(clock, { burst: 3, qps: 1 / 60 });
    const actions = Array.from({ length: 5 }, (_, i) => c.observe('nw/a', `e${i}`).action);
    expect(actions).toEqual(['create', 'create', 'create', 'drop', 'drop']);
    // Another object has its own allowance.
    expect(c.observe('nw/b', 'x').action).toBe('create');
    await clock.advance(60_000);
    expect(c.observe('nw/a', 'e9').action).toBe('create');
    expect(c.observe('nw/a', 'e10').action).toBe('drop');
  });

  it('forgets the oldest events beyond its cache size', () => {
    const c = new EventCorrelator(new FakeClock(), { cacheSize: 2 });
    c.recorded('k1', 'n1');
    c.recorded('k2', 'n2');
    c.recorded('k3', 'n3');
    expect(c.nameOf('k1')).toBeUndefined();
    expect(c.nameOf('k3')).toBe('n3');
    expect(c.observe('o', 'k3').action).toBe('patch');
    expect(c.observe('o', 'k1').action).toBe('create');
  });
});
