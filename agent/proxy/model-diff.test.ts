import { describe, expect, it } from '@jest/globals';
import { advanceState, diffProxyState, isEmptyDiff, staleUdpFlows } from './model-diff.js';
import { emptyState } from './model.js';
import { buildProxyState } from './service-catalog.js';
import { dns, eps, web } from './test-fixtures.js';

const state = (...args: Parameters<typeof buildProxyState>) => buildProxyState(...args).state;

describe('diffProxyState', () => {
  it('finds added, removed and changed frontends and node address changes', () => {
    const before = state([web(eps('10.1.0.1')), dns(eps('10.1.0.5'))], ['192.168.1.1']);
    const after = state([web(eps('10.1.0.1', '10.1.0.2'))], ['192.168.1.2']);
    const diff = diffProxyState(before, after);
    expect(diff.added).toEqual([]);
    expect(diff.removed.map((f) => f.key)).toEqual(['10.96.0.53/UDP/53']);
    expect(diff.changed.map((c) => [c.before.endpoints.length, c.after.endpoints.length])).toEqual([[1, 2]]);
    expect(diff.nodeAddressesChanged).toBe(true);
    expect(diffProxyState(emptyState(), after).added.map((f) => f.key)).toEqual(['10.96.0.10/TCP/80']);
  });

  it('is empty for equal states built separately', () => {
    const a = state([web(eps('10.1.0.2', '10.1.0.1'), 'SourceIP', 30080)], ['192.168.1.1']);
    const b = state([web(eps('10.1.0.1', '10.1.0.2'), 'SourceIP', 30080)], ['192.168.1.1']);
    expect(isEmptyDiff(diffProxyState(a, b))).toBe(true);
    expect(isEmptyDiff(diffProxyState(a, state([web(eps('10.1.0.1', '10.1.0.2'), 'Random', 30080)], ['192.168.1.1'])))).toBe(false);
  });
});

describe('diffProxyState with the changed keys', () => {
  it('looks only at those keys, and advanceState brings the applied state to the desired one', () => {
    const before = state([web(eps('10.1.0.1')), dns(eps('10.1.0.5'))], []);
    const after = state([web(eps('10.1.0.1', '10.1.0.2')), dns(eps('10.1.0.6'))], ['192.168.1.1']);
    const partial = diffProxyState(before, after, ['10.96.0.10/TCP/80', '10.96.0.99/TCP/1']);
    expect(partial.changed.map((c) => c.after.key)).toEqual(['10.96.0.10/TCP/80']);
    expect(partial.added.length + partial.removed.length).toBe(0);
    const applied = state([web(eps('10.1.0.1')), dns(eps('10.1.0.5'))], []);
    advanceState(applied, diffProxyState(applied, after), after.nodeAddresses);
    expect(applied).toEqual(after);
    advanceState(applied, diffProxyState(applied, before), before.nodeAddresses);
    expect(applied).toEqual(before);
  });
});

describe('staleUdpFlows', () => {
  it('lists the UDP flows of endpoints that left, also when a service drops to zero or goes away', () => {
    const withTwo = state([dns(eps('10.1.0.5', '10.1.0.6')), web(eps('10.1.0.1'))], []);
    const withOne = state([dns(eps('10.1.0.6')), web([])], []);
    expect(staleUdpFlows(diffProxyState(withTwo, withOne))).toEqual([{ vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.5' }]);
    expect(staleUdpFlows(diffProxyState(withOne, state([dns([])], [])))).toEqual([{ vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.6' }]);
    expect(staleUdpFlows(diffProxyState(withOne, emptyState()))).toEqual([{ vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.6' }]);
  });

  it('includes the nodePort flows of a UDP service', () => {
    const svc = dns(eps('10.1.0.5'));
    svc.ports[0]!.nodePort = 30053;
    expect(staleUdpFlows(diffProxyState(state([svc], []), emptyState()))).toEqual([
      { vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.5' },
      { port: 30053, endpointIP: '10.1.0.5' },
    ]);
  });
});
