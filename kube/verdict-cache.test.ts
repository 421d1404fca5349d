import { describe, expect, it } from '@jest/globals';
import { FakeClock } from './fake-clock.js';
import { VerdictCache } from './verdict-cache.js';

describe('VerdictCache', () => {
  it('keeps a verdict for its TTL and not a moment longer', async () => {
    const clock = new FakeClock();
    const c = new VerdictCache<string>(clock);
    c.set('a', 'allowed', 1000);
    await clock.advance(999);
    expect(c.get('a')).toBe('allowed');
    await clock.advance(1);
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('holds at most maxEntries, dropping the oldest write', () => {
    const c = new VerdictCache<number>(new FakeClock(), 2);
    c.set('a', 1, 1000);
    c.set('b', 2, 1000);
    c.set('a', 3, 1000);
    c.set('c', 4, 1000);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([3, undefined, 4]);
  });
});
