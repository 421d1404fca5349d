import { describe, expect, it } from '@jest/globals';
import { VipAllocator } from './vip-allocator.js';
import { VipClaims } from './vip-claims.js';

function setup() {
  const woken: string[] = [];
  const claims = new VipClaims(new VipAllocator('10.250.0.0/29'), (w) => woken.push(w));
  return { claims, woken };
}

describe('VipClaims', () => {
  it('claims an address once and says when it moved', () => {
    const { claims } = setup();
    expect(claims.claim('ns/a', undefined)).toEqual({ result: { ok: true, ip: '10.250.0.1' }, moved: { from: undefined, to: '10.250.0.1' } });
    expect(claims.claim('ns/a', undefined)).toEqual({ result: { ok: true, ip: '10.250.0.1' } });
    expect(claims.held('ns/a')).toBe('10.250.0.1');
  });

  it('wakes a workload refused a taken address when its holder releases it', () => {
    const { claims, woken } = setup();
    claims.claim('ns/a', '10.250.0.3');
    expect(claims.claim('ns/b', '10.250.0.3').result).toMatchObject({ ok: false, reason: 'ClusterIPTaken' });
    expect(claims.release('ns/a')).toBe('10.250.0.3');
    expect(woken).toEqual(['ns/b']);
    expect(claims.claim('ns/b', '10.250.0.3').result).toEqual({ ok: true, ip: '10.250.0.3' });
    // No longer waiting: a later release wakes nobody.
    claims.claim('ns/c', undefined);
    claims.release('ns/c');
    expect(woken).toEqual(['ns/b']);
  });

  it('wakes the waiting when a holder moves to another address', () => {
    const { claims, woken } = setup();
    claims.claim('ns/a', '10.250.0.3');
    claims.claim('ns/b', '10.250.0.3');
    expect(claims.claim('ns/a', '10.250.0.4').moved).toEqual({ from: '10.250.0.3', to: '10.250.0.4' });
    expect(woken).toEqual(['ns/b']);
  });

  it('releases nothing, and wakes nobody, for a workload that holds no address', () => {
    const { claims, woken } = setup();
    claims.claim('ns/a', '10.250.0.3');
    claims.claim('ns/b', '10.250.0.3');
    expect(claims.release('ns/b')).toBeUndefined();
    expect(woken).toEqual([]);
    // ns/b stopped waiting when it released: freeing the address wakes nobody.
    claims.release('ns/a');
    expect(woken).toEqual([]);
  });
});
