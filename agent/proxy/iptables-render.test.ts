import { describe, expect, it } from '@jest/globals';
import { diffProxyState } from './model-diff.js';
import { buildProxyState } from './service-catalog.js';
import { iptablesRuleCount, parseOurChains, renderIptablesCleanup, renderIptablesDiff, renderIptablesFull, sepChain, svcChain } from './iptables-render.js';
import { dns, eps, web } from './test-fixtures.js';

const state = (...args: Parameters<typeof buildProxyState>) => buildProxyState(...args).state;
const lines = (text: string) => text.trimEnd().split('\n');
const none = { nat: new Set<string>(), filter: new Set<string>() };

describe('renderIptablesFull', () => {
  const s = state([web(eps('10.1.0.1', '10.1.0.2', '10.1.0.3'), 'Random', 30080), dns([])], ['192.168.1.1']);
  const f = s.frontends.get('10.96.0.10/TCP/80')!;
  const svc = svcChain(f);
  const [sep1, sep2, sep3] = f.endpoints.map((ep) => sepChain(f, ep));

  it('names chains within iptables limits and only with our prefix', () => {
    for (const name of [svc, sep1!]) expect(name).toMatch(/^SHOPFLOOR-(SVC|SEP)-[A-Z2-7]{12}$/);
    const declared = lines(renderIptablesFull(s, none)).filter((l) => l.startsWith(':'));
    expect(declared.every((l) => l.startsWith(':SHOPFLOOR-'))).toBe(true);
  });

  it('spreads with statistic random over the remaining endpoints and DNATs in SEP chains', () => {
    expect(lines(renderIptablesFull(s, none))).toEqual(
      expect.arrayContaining([
        `-A SHOPFLOOR-SERVICES -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -m comment --comment "shop/web:http" -j ${svc}`,
        `-A ${svc} -m statistic --mode random --probability 0.3333333333 -j ${sep1}`,
        `-A ${svc} -m statistic --mode random --probability 0.5000000000 -j ${sep2}`,
        `-A ${svc} -j ${sep3}`,
        `-A ${sep1} -s 10.1.0.1/32 -j SHOPFLOOR-MARK-MASQ`,
        `-A ${sep1} -p tcp -m tcp -j DNAT --to-destination 10.1.0.1:8080`,
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
    expect(renderIptablesFull(rr, none)).toContain(`-A ${svcChain(g)} -m statistic --mode nth --every 2 --packet 0 -j ${sepChain(g, g.endpoints[0]!)}`);
    const src = state([web(eps('10.1.0.1', '10.1.0.2'), 'SourceIP')], []);
    const h = src.frontends.get('10.96.0.10/TCP/80')!;
    const [a, b] = h.endpoints.map((ep) => sepChain(h, ep));
    const text = lines(renderIptablesFull(src, none));
    const svcRules = text.filter((l) => l.startsWith(`-A ${svcChain(h)} `));
    expect(svcRules).toEqual([
      `-A ${svcChain(h)} -m recent --name ${a} --rcheck --seconds 10800 --reap -j ${a}`,
      `-A ${svcChain(h)} -m recent --name ${b} --rcheck --seconds 10800 --reap -j ${b}`,
      `-A ${svcChain(h)} -m statistic --mode random --probability 0.5000000000 -j ${a}`,
      `-A ${svcChain(h)} -j ${b}`,
    ]);
    expect(text).toContain(`-A ${a} -m recent --name ${a} --set`);
  });

  it('deletes stale chains of ours and never touches other chains', () => {
    const text = renderIptablesFull(s, { nat: new Set(['SHOPFLOOR-SVC-GONEGONEGONE', 'KUBE-SERVICES']), filter: new Set(['OTHER']) });
    expect(lines(text)).toContain('-X SHOPFLOOR-SVC-GONEGONEGONE');
    expect(text).not.toContain('KUBE-SERVICES');
    expect(text).not.toContain('OTHER');
  });
});

describe('endpoints on other nodes', () => {
  it('mark every connection to them for masquerade', () => {
    const s = state([web([{ ip: '10.2.0.1', port: 8080, remote: true }])], []);
    const f = s.frontends.get('10.96.0.10/TCP/80')!;
    const sep = sepChain(f, f.endpoints[0]!);
    expect(lines(renderIptablesFull(s, none))).toContain(`-A ${sep} -j SHOPFLOOR-MARK-MASQ`);
  });
});

describe('renderIptablesDiff', () => {
  it('rewrites the dispatch chains and only the chains of the changed frontend', () => {
    const before = state([web(eps('10.1.0.1', '10.1.0.2')), dns(eps('10.1.0.5'))], []);
    const after = state([web(eps('10.1.0.1')), dns(eps('10.1.0.5'))], []);
    const f = before.frontends.get('10.96.0.10/TCP/80')!;
    const d = after.frontends.get('10.96.0.53/UDP/53')!;
    const text = lines(renderIptablesDiff(after, diffProxyState(before, after)));
    expect(text.filter((l) => l.startsWith(':'))).toEqual([
      ':SHOPFLOOR-SERVICES - [0:0]',
      ':SHOPFLOOR-NODEPORTS - [0:0]',
      ':SHOPFLOOR-MARK-MASQ - [0:0]',
      ':SHOPFLOOR-POSTROUTING - [0:0]',
      `:${sepChain(f, f.endpoints[0]!)} - [0:0]`,
      `:${svcChain(f)} - [0:0]`,
      `:${sepChain(f, f.endpoints[1]!)} - [0:0]`,
      ':SHOPFLOOR-NO-ENDPOINTS - [0:0]',
    ]);
    expect(text).toContain(`-X ${sepChain(f, f.endpoints[1]!)}`);
    expect(text.join('\n')).not.toContain(svcChain(d) + ' -');
  });
});

describe('helpers', () => {
  it('parses our chains from iptables-save and cleans up only those', () => {
    const chains = parseOurChains('*nat\n:PREROUTING ACCEPT [0:0]\n:SHOPFLOOR-SERVICES - [0:0]\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j SHOPFLOOR-SERVICES\nCOMMIT\n');
    expect([...chains]).toEqual(['SHOPFLOOR-SERVICES']);
    expect(renderIptablesCleanup({ nat: chains, filter: new Set() })).toBe('*nat\n:SHOPFLOOR-SERVICES - [0:0]\n-X SHOPFLOOR-SERVICES\nCOMMIT\n*filter\nCOMMIT\n');
  });

  it('counts the rules it renders', () => {
    const s = state([web(eps('10.1.0.1', '10.1.0.2'))], []);
    const appended = lines(renderIptablesFull(s, none)).filter((l) => l.startsWith('-A')).length;
    expect(iptablesRuleCount(s)).toBe(appended);
  });
});
