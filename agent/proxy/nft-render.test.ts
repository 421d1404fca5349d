import { describe, expect, it } from '@jest/globals';
import { diffProxyState } from './model-diff.js';
import { emptyState } from './model.js';
import { buildProxyState } from './service-catalog.js';
import { nftCounts, renderNftCleanup, renderNftDiff, renderNftFull } from './nft-render.js';
import { DEFAULT_PROXY_TABLE } from './proxy-names.js';
import { dns, eps, web } from './test-fixtures.js';

const TABLE = DEFAULT_PROXY_TABLE;

const state = (...args: Parameters<typeof buildProxyState>) => buildProxyState(...args).state;
const lines = (text: string) => text.trimEnd().split('\n');

describe('renderNftFull', () => {
  const full = renderNftFull(TABLE, state([web(eps('10.1.0.1', '10.1.0.2'), 'Random', 30080), dns([])], ['192.168.1.1']));

  it('replaces the whole table of our own in one transaction', () => {
    expect(lines(full).slice(0, 3)).toEqual([
      'add table ip shopfloor',
      'delete table ip shopfloor',
      'add table ip shopfloor { comment "Shopfloor service proxy: managed by the agent, do not edit"; }',
    ]);
    expect(lines(full).every((l) => l.includes(' ip shopfloor'))).toBe(true);
  });

  it('dispatches by one set lookup per group and balances in a chain shared by endpoint count', () => {
    expect(lines(full)).toEqual(
      expect.arrayContaining([
        'add rule ip shopfloor services ip daddr . meta l4proto . th dport @lb-tcp-random-2-frontends goto lb-tcp-random-2',
        'add rule ip shopfloor services ip daddr @nodeport-ips meta l4proto . th dport @np-tcp-random-2-frontends goto np-tcp-random-2',
        'add rule ip shopfloor lb-tcp-random-2 dnat to ip daddr . tcp dport . numgen random mod 2 map @tcp-endpoints',
        'add rule ip shopfloor np-tcp-random-2 meta mark set meta mark | 0x2000 dnat to tcp dport . numgen random mod 2 map @tcp-nodeport-endpoints',
        'add element ip shopfloor lb-tcp-random-2-frontends { 10.96.0.10 . tcp . 80 }',
        'add element ip shopfloor tcp-endpoints { 10.96.0.10 . 80 . 0 : 10.1.0.1 . 8080, 10.96.0.10 . 80 . 1 : 10.1.0.2 . 8080 }',
        'add element ip shopfloor np-tcp-random-2-frontends { tcp . 30080 }',
        'add element ip shopfloor tcp-nodeport-endpoints { 30080 . 0 : 10.1.0.1 . 8080, 30080 . 1 : 10.1.0.2 . 8080 }',
        'add element ip shopfloor nodeport-ips { 192.168.1.1 }',
        'add element ip shopfloor hairpin { 10.1.0.1 . 10.1.0.1, 10.1.0.2 . 10.1.0.2 }',
        'add element ip shopfloor no-endpoint-services { 10.96.0.53 . udp . 53 }',
      ]),
    );
  });

  it('selects with numgen inc for RoundRobin and a seeded source hash for SourceIP', () => {
    const rr = renderNftFull(TABLE, state([web(eps('10.1.0.1', '10.1.0.2', '10.1.0.3'), 'RoundRobin')], []));
    expect(rr).toContain('add rule ip shopfloor lb-tcp-roundrobin-3 dnat to ip daddr . tcp dport . numgen inc mod 3 map @tcp-endpoints');
    const src = renderNftFull(TABLE, state([web(eps('10.1.0.1'), 'SourceIP')], []));
    expect(src).toContain('add rule ip shopfloor lb-tcp-sourceip-1 dnat to ip daddr . tcp dport . jhash ip saddr mod 1 seed 0x5f0f1007 map @tcp-endpoints');
  });

  it('does not grow rules with services', () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ ...web(eps(`10.1.${i}.1`, `10.1.${i}.2`)), name: `s${i}`, clusterIP: `10.96.1.${i}` }));
    const rules = (text: string) => lines(text).filter((l) => l.startsWith('add rule')).length;
    expect(rules(renderNftFull(TABLE, state(many, [])))).toBe(rules(renderNftFull(TABLE, state(many.slice(0, 1), []))));
    expect(nftCounts(state(many, []))).toEqual({ rules: rules(renderNftFull(TABLE, state(many, []))), elements: 50 * 3 + 100 });
  });

  it('splits long element lists into statements of at most 1000 elements', () => {
    const many = Array.from({ length: 1500 }, (_, i) => ({ ...web([]), name: `s${i}`, clusterIP: `10.96.${i >> 8}.${i & 255}` }));
    const adds = lines(renderNftFull(TABLE, state(many, []))).filter((l) => l.startsWith('add element ip shopfloor no-endpoint-services'));
    expect(adds.map((l) => l.split(',').length)).toEqual([1000, 500]);
  });
});

describe('renderNftDiff', () => {
  it('is empty when nothing changed', () => {
    const s = state([web(eps('10.1.0.1'))], []);
    expect(renderNftDiff(TABLE, s, s, diffProxyState(s, s))).toBe('');
  });

  it('sends only the elements of a changed service, new groups first and unused groups last', () => {
    const before = state([web(eps('10.1.0.1', '10.1.0.2')), dns(eps('10.1.0.5'))], []);
    const after = state([web(eps('10.1.0.1', '10.1.0.2', '10.1.0.3')), dns(eps('10.1.0.5'))], []);
    expect(lines(renderNftDiff(TABLE, before, after, diffProxyState(before, after)))).toEqual([
      'add chain ip shopfloor lb-tcp-random-3',
      'add rule ip shopfloor lb-tcp-random-3 dnat to ip daddr . tcp dport . numgen random mod 3 map @tcp-endpoints',
      'add set ip shopfloor lb-tcp-random-3-frontends { type ipv4_addr . inet_proto . inet_service; }',
      'delete element ip shopfloor lb-tcp-random-2-frontends { 10.96.0.10 . tcp . 80 }',
      'flush chain ip shopfloor services',
      'add rule ip shopfloor services ip daddr . meta l4proto . th dport @lb-tcp-random-3-frontends goto lb-tcp-random-3',
      'add rule ip shopfloor services ip daddr . meta l4proto . th dport @lb-udp-random-1-frontends goto lb-udp-random-1',
      'add element ip shopfloor hairpin { 10.1.0.3 . 10.1.0.3 }',
      'add element ip shopfloor lb-tcp-random-3-frontends { 10.96.0.10 . tcp . 80 }',
      'add element ip shopfloor tcp-endpoints { 10.96.0.10 . 80 . 2 : 10.1.0.3 . 8080 }',
      'delete set ip shopfloor lb-tcp-random-2-frontends',
      'delete chain ip shopfloor lb-tcp-random-2',
    ]);
  });

  it('leaves the services chain alone while no group comes or goes', () => {
    const before = state([web(eps('10.1.0.1', '10.1.0.2')), dns(eps('10.1.0.5'))], []);
    const after = state([web(eps('10.1.0.1', '10.1.0.3')), dns(eps('10.1.0.5'))], []);
    expect(lines(renderNftDiff(TABLE, before, after, diffProxyState(before, after)))).toEqual([
      'delete element ip shopfloor tcp-endpoints { 10.96.0.10 . 80 . 1 }',
      'delete element ip shopfloor hairpin { 10.1.0.2 . 10.1.0.2 }',
      'add element ip shopfloor hairpin { 10.1.0.3 . 10.1.0.3 }',
      'add element ip shopfloor tcp-endpoints { 10.96.0.10 . 80 . 1 : 10.1.0.3 . 8080 }',
    ]);
  });

  it('moves a service that lost every endpoint into the reject set', () => {
    const before = state([web(eps('10.1.0.1'), 'Random', 30080)], ['192.168.1.1']);
    const after = state([web([], 'Random', 30080)], ['192.168.1.1']);
    expect(lines(renderNftDiff(TABLE, before, after, diffProxyState(before, after)))).toEqual([
      'delete element ip shopfloor lb-tcp-random-1-frontends { 10.96.0.10 . tcp . 80 }',
      'delete element ip shopfloor tcp-endpoints { 10.96.0.10 . 80 . 0 }',
      'delete element ip shopfloor np-tcp-random-1-frontends { tcp . 30080 }',
      'delete element ip shopfloor tcp-nodeport-endpoints { 30080 . 0 }',
      'flush chain ip shopfloor services',
      'delete element ip shopfloor hairpin { 10.1.0.1 . 10.1.0.1 }',
      'add element ip shopfloor no-endpoint-services { 10.96.0.10 . tcp . 80 }',
      'add element ip shopfloor no-endpoint-nodeports { tcp . 30080 }',
      'delete set ip shopfloor lb-tcp-random-1-frontends',
      'delete chain ip shopfloor lb-tcp-random-1',
      'delete set ip shopfloor np-tcp-random-1-frontends',
      'delete chain ip shopfloor np-tcp-random-1',
    ]);
  });

  it('adds and removes whole services and node addresses', () => {
    const after = state([web(eps('10.1.0.1'))], ['192.168.1.2']);
    const added = renderNftDiff(TABLE, emptyState(), after, diffProxyState(emptyState(), after));
    expect(lines(added)).toContain('add element ip shopfloor tcp-endpoints { 10.96.0.10 . 80 . 0 : 10.1.0.1 . 8080 }');
    expect(lines(added)).toContain('add element ip shopfloor nodeport-ips { 192.168.1.2 }');
    const removed = renderNftDiff(TABLE, after, emptyState(), diffProxyState(after, emptyState()));
    expect(lines(removed)).toContain('delete element ip shopfloor tcp-endpoints { 10.96.0.10 . 80 . 0 }');
    expect(lines(removed)).toContain('delete element ip shopfloor nodeport-ips { 192.168.1.2 }');
  });
});

describe('endpoints on other nodes', () => {
  it('are masqueraded: listed in remote-endpoints, added and removed with their frontends', () => {
    const remote = [{ ip: '10.2.0.1', port: 8080, remote: true }, ...eps('10.1.0.1')];
    const s = state([web(remote)], []);
    expect(renderNftFull(TABLE, s)).toContain('add rule ip shopfloor masquerading ct status dnat ip daddr @remote-endpoints masquerade');
    expect(renderNftFull(TABLE, s)).toContain('add element ip shopfloor remote-endpoints { 10.2.0.1 }');
    const local = state([web(eps('10.1.0.1', '10.2.0.1'))], []);
    expect(lines(renderNftDiff(TABLE, s, local, diffProxyState(s, local)))).toContain('delete element ip shopfloor remote-endpoints { 10.2.0.1 }');
    expect(lines(renderNftDiff(TABLE, local, s, diffProxyState(local, s)))).toContain('add element ip shopfloor remote-endpoints { 10.2.0.1 }');
  });
});

describe('renderNftCleanup', () => {
  it('deletes only our table, whether or not it exists', () => {
    expect(renderNftCleanup(TABLE)).toBe('add table ip shopfloor\ndelete table ip shopfloor\n');
  });
});

describe('another agent\'s table', () => {
  const before = state([web(eps('10.1.0.1'), 'Random', 30080), dns(eps('10.1.0.5'))], ['192.168.1.1']);
  const after = state([web(eps('10.1.0.1', '10.1.0.2'), 'Random', 30080), dns([])], ['192.168.1.2']);
  const texts = (table: string) => [renderNftFull(table, after), renderNftDiff(table, before, after, diffProxyState(before, after)), renderNftCleanup(table)];

  it('writes the same statements into that table and no other', () => {
    const other = texts('sf_node2');
    expect(other.flatMap(lines).every((l) => / ip sf_node2( |$)/.test(l))).toBe(true);
    expect(other.join('')).not.toContain('ip shopfloor');
    expect(other).toEqual(texts(TABLE).map((t) => t.replaceAll(' ip shopfloor', ' ip sf_node2')));
  });
});
