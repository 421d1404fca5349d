import { describe, expect, it } from '@jest/globals';
import { diffProxyState } from './model-diff.js';
import { buildProxyState } from './service-catalog.js';
import { affinityList, iptablesChains, iptablesRuleCount, parseOurChains, renderIptablesCleanup, renderIptablesDiff, renderIptablesFull, svcChain } from './iptables-render.js';
import { DEFAULT_PROXY_TABLE, proxyNames } from './proxy-names.js';
import { dns, eps, web } from './test-fixtures.js';

const C = iptablesChains(proxyNames(DEFAULT_PROXY_TABLE).chainPrefix);

const state = (...args: Parameters<typeof buildProxyState>) => buildProxyState(...args).state;
const lines = (text: string) => text.trimEnd().split('\n');
const none = { nat: new Set<string>(), filter: new Set<string>() };

describe('renderIptablesFull', () => {
  const s = state([web(eps('10.1.0.1', '10.1.0.2', '10.1.0.3'), 'Random', 30080), dns([])], ['192.168.1.1']);
  const f = s.frontends.get('10.96.0.10/TCP/80')!;
  const svc = svcChain(C, f);

  it('names chains within iptables limits and only with our prefix', () => {
    expect(svc).toMatch(/^SHOPFLOOR-SVC-[A-Z2-7]{12}$/);
    expect(affinityList(C, f, f.endpoints[0]!)).toMatch(/^SHOPFLOOR-SEP-[A-Z2-7]{12}$/);
    const declared = lines(renderIptablesFull(C, s, none)).filter((l) => l.startsWith(':'));
    expect(declared.every((l) => l.startsWith(':SHOPFLOOR-'))).toBe(true);
  });

  it('has one chain per frontend, none per endpoint', () => {
    const declared = lines(renderIptablesFull(C, s, none)).filter((l) => l.startsWith(':SHOPFLOOR-SVC-') || l.startsWith(':SHOPFLOOR-SEP-'));
    expect(declared).toEqual([`:${svc} - [0:0]`]);
  });

  it('spreads with statistic random over the remaining endpoints, DNATing in the SVC chain', () => {
    expect(lines(renderIptablesFull(C, s, none))).toEqual(
      expect.arrayContaining([
        '-A SHOPFLOOR-SERVICES -d 10.96.0.0/24 -j SHOPFLOOR-SVCS-0A6000',
        `-A SHOPFLOOR-SVCS-0A6000 -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/web:http" -j ${svc}`,
        `-A ${svc} -p tcp -m tcp -m statistic --mode random --probability 0.3333333333 -j DNAT --to-destination 10.1.0.1:8080`,
        `-A ${svc} -p tcp -m tcp -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 10.1.0.2:8080`,
        `-A ${svc} -p tcp -m tcp -j DNAT --to-destination 10.1.0.3:8080`,
        '-A SHOPFLOOR-POSTROUTING -m conntrack --ctstate DNAT -j SHOPFLOOR-DNAT-MASQ',
        '-A SHOPFLOOR-DNAT-MASQ -d 10.1.0.0/24 -j SHOPFLOOR-MASQ-0A0100',
        '-A SHOPFLOOR-MASQ-0A0100 -s 10.1.0.1/32 -d 10.1.0.1/32 -j MASQUERADE',
        '-A SHOPFLOOR-SERVICES -d 192.168.1.1/32 -j SHOPFLOOR-NODEPORTS',
        '-A SHOPFLOOR-NODEPORTS -p tcp -m tcp --dport 30080 -j SHOPFLOOR-MARK-MASQ',
        `-A SHOPFLOOR-NODEPORTS -p tcp -m tcp --dport 30080 -m comment --comment "shop/web:http" -j ${svc}`,
        '-A SHOPFLOOR-NO-ENDPOINTS -d 10.96.0.53/32 -p udp -m udp --dport 53 -m comment --comment "kube/dns:dns has no endpoints" -j REJECT --reject-with icmp-port-unreachable',
      ]),
    );
  });

  it('cycles with statistic nth for RoundRobin and keeps clients with recent for SourceIP', () => {
    const rr = state([web(eps('10.1.0.1', '10.1.0.2'), 'RoundRobin')], []);
    const g = rr.frontends.get('10.96.0.10/TCP/80')!;
    expect(renderIptablesFull(C, rr, none)).toContain(`-A ${svcChain(C, g)} -p tcp -m tcp -m statistic --mode nth --every 2 --packet 0 -j DNAT --to-destination 10.1.0.1:8080`);
    const src = state([web(eps('10.1.0.1', '10.1.0.2'), 'SourceIP')], []);
    const h = src.frontends.get('10.96.0.10/TCP/80')!;
    const [a, b] = h.endpoints.map((ep) => affinityList(C, h, ep));
    const text = lines(renderIptablesFull(C, src, none));
    const svcRules = text.filter((l) => l.startsWith(`-A ${svcChain(C, h)} `));
    expect(svcRules).toEqual([
      `-A ${svcChain(C, h)} -p tcp -m tcp -m recent --name ${a} --update --seconds 10800 --reap -j DNAT --to-destination 10.1.0.1:8080`,
      `-A ${svcChain(C, h)} -p tcp -m tcp -m recent --name ${b} --update --seconds 10800 --reap -j DNAT --to-destination 10.1.0.2:8080`,
      `-A ${svcChain(C, h)} -p tcp -m tcp -m statistic --mode random --probability 0.5000000000 -m recent --name ${a} --set -j DNAT --to-destination 10.1.0.1:8080`,
      `-A ${svcChain(C, h)} -p tcp -m tcp -m recent --name ${b} --set -j DNAT --to-destination 10.1.0.2:8080`,
    ]);
  });

  it('deletes stale chains of ours and never touches other chains', () => {
    const text = renderIptablesFull(C, s, { nat: new Set(['SHOPFLOOR-SVC-GONEGONEGONE', 'KUBE-SERVICES']), filter: new Set(['OTHER']) });
    expect(lines(text)).toContain('-X SHOPFLOOR-SVC-GONEGONEGONE');
    expect(text).not.toContain('KUBE-SERVICES');
    expect(text).not.toContain('OTHER');
  });
});

describe('endpoints on other nodes', () => {
  it('masquerade every DNATed connection to them; only local endpoints get a hairpin rule', () => {
    const s = state([web([{ ip: '10.2.0.1', port: 8080, remote: true }, { ip: '10.1.0.1', port: 8080 }])], []);
    const masq = lines(renderIptablesFull(C, s, none)).filter((l) => /^-A SHOPFLOOR-(DNAT-)?MASQ/.test(l));
    expect(masq).toEqual([
      '-A SHOPFLOOR-DNAT-MASQ -d 10.1.0.0/24 -j SHOPFLOOR-MASQ-0A0100',
      '-A SHOPFLOOR-DNAT-MASQ -d 10.2.0.0/24 -j SHOPFLOOR-MASQ-0A0200',
      '-A SHOPFLOOR-MASQ-0A0100 -s 10.1.0.1/32 -d 10.1.0.1/32 -j MASQUERADE',
      '-A SHOPFLOOR-MASQ-0A0200 -d 10.2.0.1/32 -j MASQUERADE',
    ]);
  });
});

describe('renderIptablesDiff', () => {
  it('rewrites only the chains of the changed frontend, and edits the long chains rule by rule', () => {
    const before = state([web(eps('10.1.0.1', '10.1.0.2')), dns(eps('10.1.0.5'))], []);
    const after = state([web(eps('10.1.0.1')), dns(eps('10.1.0.5'))], []);
    const f = before.frontends.get('10.96.0.10/TCP/80')!;
    expect(lines(renderIptablesDiff(C, before, after, diffProxyState(before, after)))).toEqual([
      '*nat',
      `:${svcChain(C, f)} - [0:0]`,
      `-A ${svcChain(C, f)} -p tcp -m tcp -j DNAT --to-destination 10.1.0.1:8080`,
      '-D SHOPFLOOR-MASQ-0A0100 -s 10.1.0.2/32 -d 10.1.0.2/32 -j MASQUERADE',
      'COMMIT',
    ]);
  });

  it('inserts a new frontend\'s rules where a full render puts them, and deletes a removed one\'s by spec', () => {
    const web2 = { ...web(eps('10.1.0.7')), name: 'web2', clusterIP: '10.96.0.11' };
    const before = state([web(eps('10.1.0.1')), dns(eps('10.1.0.5'))], ['192.168.1.1']);
    const after = state([web(eps('10.1.0.1')), web2, dns(eps('10.1.0.5'))], ['192.168.1.1']);
    const g = after.frontends.get('10.96.0.11/TCP/80')!;
    const added = lines(renderIptablesDiff(C, before, after, diffProxyState(before, after)));
    expect(added).toEqual([
      '*nat',
      `:${svcChain(C, g)} - [0:0]`,
      `-A ${svcChain(C, g)} -p tcp -m tcp -j DNAT --to-destination 10.1.0.7:8080`,
      `-I SHOPFLOOR-SVCS-0A6000 2 -d 10.96.0.11/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/web2:http" -j ${svcChain(C, g)}`,
      '-I SHOPFLOOR-MASQ-0A0100 3 -s 10.1.0.7/32 -d 10.1.0.7/32 -j MASQUERADE',
      'COMMIT',
    ]);
    const full = lines(renderIptablesFull(C, after, none));
    expect(full.filter((l) => l.startsWith('-A SHOPFLOOR-SVCS-0A6000 '))[1]).toContain('-d 10.96.0.11/32');
    expect(full.filter((l) => l.startsWith('-A SHOPFLOOR-MASQ-0A0100 '))[2]).toContain('-s 10.1.0.7/32');
    const removed = lines(renderIptablesDiff(C, after, before, diffProxyState(after, before)));
    expect(removed).toEqual([
      '*nat',
      `:${svcChain(C, g)} - [0:0]`,
      `-D SHOPFLOOR-SVCS-0A6000 -d 10.96.0.11/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/web2:http" -j ${svcChain(C, g)}`,
      '-D SHOPFLOOR-MASQ-0A0100 -s 10.1.0.7/32 -d 10.1.0.7/32 -j MASQUERADE',
      `-X ${svcChain(C, g)}`,
      'COMMIT',
    ]);
  });

  it('gives a VIP in a /24 of its own a chain of its own, jumped to in /24 order', () => {
    const far = { ...web(eps('10.1.0.1')), name: 'far', clusterIP: '10.96.5.1' };
    const last = { ...web(eps('10.1.0.1')), name: 'last', clusterIP: '10.96.9.1' };
    const before = state([web(eps('10.1.0.1')), last], []);
    const after = state([web(eps('10.1.0.1')), far, last], []);
    const g = after.frontends.get('10.96.5.1/TCP/80')!;
    const text = lines(renderIptablesDiff(C, before, after, diffProxyState(before, after)));
    expect(text).toEqual([
      '*nat',
      ':SHOPFLOOR-SVCS-0A6005 - [0:0]',
      `:${svcChain(C, g)} - [0:0]`,
      `-A SHOPFLOOR-SVCS-0A6005 -d 10.96.5.1/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/far:http" -j ${svcChain(C, g)}`,
      `-A ${svcChain(C, g)} -p tcp -m tcp -j DNAT --to-destination 10.1.0.1:8080`,
      '-I SHOPFLOOR-SERVICES 2 -d 10.96.5.0/24 -j SHOPFLOOR-SVCS-0A6005',
      'COMMIT',
    ]);
    expect(lines(renderIptablesFull(C, after, none)).filter((l) => l.startsWith('-A SHOPFLOOR-SERVICES '))[1]).toBe('-A SHOPFLOOR-SERVICES -d 10.96.5.0/24 -j SHOPFLOOR-SVCS-0A6005');
  });

  it('leaves the long chains alone when no rule of theirs changed', () => {
    const before = state([web(eps('10.1.0.1', '10.1.0.2')), dns(eps('10.1.0.5'))], []);
    const after = state([web(eps('10.1.0.1', '10.1.0.2'), 'RoundRobin'), dns(eps('10.1.0.5'))], []);
    const text = renderIptablesDiff(C, before, after, diffProxyState(before, after));
    expect(text).not.toMatch(/SHOPFLOOR-(SERVICES|NODEPORTS|DNAT-MASQ|NO-ENDPOINTS)/);
    expect(text).not.toContain('*filter');
  });

  it('moves a frontend that lost its endpoints from SERVICES to NO-ENDPOINTS, deleting its chain and the /24 chains it leaves empty', () => {
    const before = state([web(eps('10.1.0.1'))], []);
    const after = state([web([])], []);
    const f = before.frontends.get('10.96.0.10/TCP/80')!;
    const text = lines(renderIptablesDiff(C, before, after, diffProxyState(before, after)));
    expect(text.slice(0, text.indexOf('*filter'))).toEqual([
      '*nat',
      ':SHOPFLOOR-MASQ-0A0100 - [0:0]',
      `:${svcChain(C, f)} - [0:0]`,
      ':SHOPFLOOR-SVCS-0A6000 - [0:0]',
      '-D SHOPFLOOR-SERVICES -d 10.96.0.0/24 -j SHOPFLOOR-SVCS-0A6000',
      '-D SHOPFLOOR-DNAT-MASQ -d 10.1.0.0/24 -j SHOPFLOOR-MASQ-0A0100',
      '-X SHOPFLOOR-MASQ-0A0100',
      `-X ${svcChain(C, f)}`,
      '-X SHOPFLOOR-SVCS-0A6000',
      'COMMIT',
    ]);
    expect(text.slice(text.indexOf('*filter'))).toEqual([
      '*filter',
      '-I SHOPFLOOR-NO-ENDPOINTS 1 -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/web:http has no endpoints" -j REJECT --reject-with tcp-reset',
      'COMMIT',
    ]);
  });

  it('rewrites the dispatch chains when the node addresses changed', () => {
    const before = state([web(eps('10.1.0.1'), 'Random', 30080)], ['192.168.1.1']);
    const after = state([web(eps('10.1.0.1'), 'Random', 30080)], ['192.168.1.2']);
    const text = lines(renderIptablesDiff(C, before, after, diffProxyState(before, after)));
    expect(text.filter((l) => l.startsWith(':'))).toEqual([
      ':SHOPFLOOR-SERVICES - [0:0]',
      ':SHOPFLOOR-SVCS-0A6000 - [0:0]',
      ':SHOPFLOOR-NODEPORTS - [0:0]',
      ':SHOPFLOOR-MARK-MASQ - [0:0]',
      ':SHOPFLOOR-POSTROUTING - [0:0]',
      ':SHOPFLOOR-NO-ENDPOINTS - [0:0]',
    ]);
    expect(text).toContain('-A SHOPFLOOR-SERVICES -d 192.168.1.2/32 -j SHOPFLOOR-NODEPORTS');
  });

  it('is empty when no rule changed', () => {
    const s = state([web(eps('10.1.0.1'))], []);
    expect(renderIptablesDiff(C, s, s, diffProxyState(s, s))).toBe('');
  });
});

describe('helpers', () => {
  it('parses our chains from iptables-save and cleans up only those', () => {
    const chains = parseOurChains(C, '*nat\n:PREROUTING ACCEPT [0:0]\n:SHOPFLOOR-SERVICES - [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j SHOPFLOOR-SERVICES\nCOMMIT\n');
    expect([...chains]).toEqual(['SHOPFLOOR-SERVICES']);
    expect(renderIptablesCleanup(C, { nat: chains, filter: new Set() })).toBe('*nat\n:SHOPFLOOR-SERVICES - [0:0]\n-X SHOPFLOOR-SERVICES\nCOMMIT\n*filter\nCOMMIT\n');
  });

  it('counts the rules it renders', () => {
    const s = state([web(eps('10.1.0.1', '10.1.0.2'))], []);
    const appended = lines(renderIptablesFull(C, s, none)).filter((l) => l.startsWith('-A')).length;
    expect(iptablesRuleCount(C, s)).toBe(appended);
  });
});

describe('another agent\'s chains', () => {
  const other = iptablesChains(proxyNames('sf_node2').chainPrefix);
  const s = state([web(eps('10.1.0.1', '10.1.0.2'), 'SourceIP', 30080), dns([])], ['192.168.1.1']);

  it('renders the same rules under its own prefix, every name within 28 characters', () => {
    const text = renderIptablesFull(other, s, none);
    expect(text).toBe(renderIptablesFull(C, s, none).replaceAll('SHOPFLOOR-', 'SF_NODE2-'));
    const names = lines(text).filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]!);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((n) => n.startsWith('SF_NODE2-') && n.length <= 28)).toBe(true);
    expect(text).not.toContain('SHOPFLOOR-');
  });

  it('jumps from the built-in chains into its own chains only', () => {
    expect(other.jumps.map((j) => j.rule.at(-1))).toEqual(['SF_NODE2-SERVICES', 'SF_NODE2-SERVICES', 'SF_NODE2-POSTROUTING', 'SF_NODE2-NO-ENDPOINTS', 'SF_NODE2-NO-ENDPOINTS', 'SF_NODE2-NO-ENDPOINTS']);
  });

  it('takes only its own chains for its own: not those of an agent whose name it begins', () => {
    const sf = iptablesChains(proxyNames('sf').chainPrefix);
    const save = '*nat\n:SF-SERVICES - [0:0]\n:SF-SVC-GONEGONEGONE - [0:0]\n:SF1-SERVICES - [0:0]\n:SF_NODE2-SVC-AAAAAAAAAAAA - [0:0]\n:SHOPFLOOR-SERVICES - [0:0]\nCOMMIT\n';
    const ours = parseOurChains(sf, save);
    expect([...ours].sort()).toEqual(['SF-SERVICES', 'SF-SVC-GONEGONEGONE']);
    const everyone = { nat: new Set(['SF-SVC-GONEGONEGONE', 'SF1-SERVICES', 'SF_NODE2-SVC-AAAAAAAAAAAA', 'SHOPFLOOR-SERVICES']), filter: new Set(['SF1-NO-ENDPOINTS']) };
    const deleted = lines(renderIptablesFull(sf, s, everyone)).filter((l) => l.startsWith('-X'));
    expect(deleted).toEqual(['-X SF-SVC-GONEGONEGONE']);
    expect(lines(renderIptablesCleanup(sf, everyone)).filter((l) => l.startsWith('-X'))).toEqual(['-X SF-SVC-GONEGONEGONE']);
  });
});
