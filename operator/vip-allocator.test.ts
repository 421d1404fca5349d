import { describe, expect, it } from '@jest/globals';
import { VipAllocator } from './vip-allocator.js';

describe('VipAllocator', () => {
  it('never hands out an address twice, and skips network and broadcast', () => {
    const a = new VipAllocator('10.9.0.0/28');
    const got = Array.from({ length: 14 }, (_, i) => a.ensure(`ns/w${i}`));
    const ips = got.map((r) => (r.ok ? r.ip : r.reason));
    expect(new Set(ips).size).toBe(14);
    expect(ips).not.toContain('10.9.0.0');
    expect(ips).not.toContain('10.9.0.15');
    expect(ips[0]).toBe('10.9.0.1');
    expect(a.ensure('ns/one-more')).toMatchObject({ ok: false, reason: 'ClusterIPRangeFull' });
  });

  it('keeps an owner on its address', () => {
    const a = new VipAllocator();
    const first = a.ensure('ns/web');
    expect(a.ensure('ns/web')).toEqual(first);
  });

  it('does not reuse a released address at once', () => {
    const a = new VipAllocator('10.9.0.0/29');
    const first = a.ensure('ns/a');
    a.release('ns/a');
    expect(a.ensure('ns/b')).not.toEqual(first);
  });

  it('honours a requested address and moves an owner to it', () => {
    const a = new VipAllocator();
    a.ensure('ns/web');
    expect(a.ensure('ns/web', '10.250.3.3')).toEqual({ ok: true, ip: '10.250.3.3' });
    expect(a.ipOf('ns/web')).toBe('10.250.3.3');
    expect(a.ownerOf('10.250.0.1')).toBeUndefined();
  });

  it.each([
    ['outside the range', '10.1.0.1', 'ClusterIPOutOfRange', 'spec.service.clusterIP 10.1.0.1 is outside the operator\'s VIP range 10.250.0.0/16'],
    ['the network address', '10.250.0.0', 'ClusterIPOutOfRange', 'outside'],
    ['the broadcast address', '10.250.255.255', 'ClusterIPOutOfRange', 'outside'],
    ['taken by another workload', '10.250.0.1', 'ClusterIPTaken', 'already used by NodeWorkload ns/first'],
  ])('rejects a requested address %s', (_name, ip, reason, message) => {
    const a = new VipAllocator();
    a.ensure('ns/first');
    const r = a.ensure('ns/second', ip);
    expect(r).toMatchObject({ ok: false, reason });
    expect(r.ok ? '' : r.message).toContain(message);
    expect(a.ipOf('ns/second')).toBeUndefined();
  });

  it('rebuilds from status: restored addresses are not handed out again', () => {
    const a = new VipAllocator('10.9.0.0/29');
    expect(a.restore('ns/a', '10.9.0.1')).toBe(true);
    expect(a.restore('ns/b', '10.9.0.1')).toBe(false);
    expect(a.restore('ns/c', '10.8.0.1')).toBe(false);
    expect(a.ensure('ns/b')).toEqual({ ok: true, ip: '10.9.0.2' });
    expect(a.ensure('ns/a')).toEqual({ ok: true, ip: '10.9.0.1' });
  });
});
