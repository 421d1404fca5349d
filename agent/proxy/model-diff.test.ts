import { describe, expect, it } from '@jest/globals';
import { diffProxyState, isEmptyDiff, staleUdpFlows } from './model-diff.js';
import { EMPTY_STATE, buildProxyState } from './model.js';
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
    expect(diffProxyState(EMPTY_STATE, after).added.map((f) => f.key)).toEqual(['10.96.0.10/TCP/80']);
  });

  it('is empty for equal states built separately', () => {
    const a = state([web(eps('10.1.0.2', '10.1.0.1'), 'SourceIP', 30080)], ['192.168.1.1']);
    const b = state([web(eps('10.1.0.1', '10.1.0.2'), 'SourceIP', 30080)], ['192.168.1.1']);
    expect(isEmptyDiff(diffProxyState(a, b))).toBe(true);
    expect(isEmptyDiff(diffProxyState(a, state([web(eps('10.1.0.1', '10.1.0.2'), 'Random', 30080)], ['192.168.1.1'])))).toBe(false);
  });
});

describe('staleUdpFlows', () => {
  it('lists the UDP flows of endpoints that left, also when a service drops to zero or goes away', () => {
    const withTwo = state([dns(eps('10.1.0.5', '10.1.0.6')), web(eps('10.1.0.1'))], []);
    const withOne = state([dns(eps('10.1.0.6')), web([])], []);
    expect(staleUdpFlows(diffProxyState(withTwo, withOne))).toEqual([{ vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.5' }]);
    expect(staleUdpFlows(diffProxyState(withOne, state([dns([])], [])))).toEqual([{ vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.6' }]);
    expect(staleUdpFlows(diffProxyState(withOne, EMPTY_STATE))).toEqual([{ vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.6' }]);
  });

  it('includes the nodePort flows of a UDP service', () => {
    const svc = dns(eps('10.1.0.5'));
    svc.ports[0]!.nodePort = 30053;
    expect(staleUdpFlows(diffProxyState(state([svc], []), EMPTY_STATE))).toEqual([
      { vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.5' },
      { port: 30053, endpointIP: '10.1.0.5' },
    ]);
  });
});
