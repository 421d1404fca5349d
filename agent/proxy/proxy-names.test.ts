import { describe, expect, it } from '@jest/globals';
import type { Runner } from '../exec.js';
import { iptablesChains, svcChain } from './iptables-render.js';
import { DEFAULT_PROXY_TABLE, MAX_PROXY_TABLE_LENGTH, proxyNames, proxyTableProblem } from './proxy-names.js';
import { buildProxyState } from './service-catalog.js';
import { backendFor } from './service-proxy.js';
import { eps, web } from './test-fixtures.js';

describe('proxyNames', () => {
  it('keeps the default names: table ip shopfloor, chains SHOPFLOOR-*', () => {
    expect(proxyNames(DEFAULT_PROXY_TABLE)).toEqual({ table: 'shopfloor', chainPrefix: 'SHOPFLOOR-' });
  });

  it('upper-cases a second agent\'s table name into its chain prefix', () => {
    expect(proxyNames('sf1')).toEqual({ table: 'sf1', chainPrefix: 'SF1-' });
    expect(proxyNames('sf_node2')).toEqual({ table: 'sf_node2', chainPrefix: 'SF_NODE2-' });
    expect(proxyNames('shopfloor2')).toEqual({ table: 'shopfloor2', chainPrefix: 'SHOPFLOOR2-' });
  });

  it('leaves room for the longest chain within iptables\' 28 characters', () => {
    expect(MAX_PROXY_TABLE_LENGTH).toBe(11);
    const longest = 'sf_abcdefg1';
    expect(longest).toHaveLength(MAX_PROXY_TABLE_LENGTH);
    const f = buildProxyState([web(eps('10.1.0.1'))], []).state.frontends.get('10.96.0.10/TCP/80')!;
    expect(svcChain(iptablesChains(proxyNames(longest).chainPrefix), f)).toHaveLength(28);
    expect(proxyTableProblem(`${longest}x`)).toMatch(/at most 11 characters/);
  });

  it('refuses names that could meet an nft keyword, another program\'s chains, another agent\'s prefix, or a rule\'s syntax', () => {
    for (const bad of ['', 'counter', 'nat', 'kube', 'cni', 'docker', 'sf-node2', 'shopfloor-b', 'SF1', 'Shopfloor', 'sf node', 'sf;flush', 'sf.b', 'sf/b', 's', 'shop']) {
      expect([bad, proxyTableProblem(bad)]).toEqual([bad, expect.stringContaining('must start with "sf" or "shopfloor"')]);
    }
  });

  it('names the field and what is allowed', () => {
    expect(() => proxyNames('kube', '--proxy-table')).toThrow(/^--proxy-table "kube" must start with "sf" or "shopfloor", continue with a-z, 0-9 and "_" \(no "-"\), and be at most 11 characters, e\.g\. shopfloor2 or sf_node2/);
  });
});

describe('the backends', () => {
  it('refuse a bad name before anything runs', () => {
    const ran: string[] = [];
    const run = ((program: string) => {
      ran.push(program);
      throw new Error('nothing may run');
    }) as unknown as Runner;
    expect(() => backendFor('nftables', run, 'counter')).toThrow(/^proxyTable "counter" must start with "sf"/);
    expect(() => backendFor('iptables', run, 'kube')).toThrow(/^proxyTable "kube" must start with "sf"/);
    expect(ran).toEqual([]);
  });
});
