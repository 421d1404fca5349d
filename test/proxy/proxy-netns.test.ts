// The proxy with real rules and real packets: both modes, in network namespaces of their own.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { systemClock } from '../../kube/clock.js';
import { silentLogger } from '../../kube/logger.js';
import type { ProxyBackend, ProxyMode } from '../../agent/proxy/backend.js';
import { runChecked } from '../../agent/exec.js';
import { proxyMetrics } from '../../agent/proxy/metrics.js';
import { diffProxyState } from '../../agent/proxy/model-diff.js';
import { emptyState, type LoadBalancing, type Service } from '../../agent/proxy/model.js';
import { buildProxyState } from '../../agent/proxy/service-catalog.js';
import { Proxier } from '../../agent/proxy/proxier.js';
import { DEFAULT_PROXY_TABLE } from '../../agent/proxy/proxy-names.js';
import { backendFor } from '../../agent/proxy/service-proxy.js';
import { createTopology, type Topology } from '../netns/topology.js';

const WEB_VIP = '10.96.0.10';
const DNS_VIP = '10.96.0.53';
const SELF_VIP = '10.96.0.20';
/** The VIP of a second agent's service, in its own table or chains. */
const OTHER_VIP = '10.96.0.30';

const cli = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

describe.each<ProxyMode>(['nftables', 'iptables'])('service proxy in %s mode', (mode) => {
  let topo: Topology;
  let backend: ProxyBackend;
  let proxier: Proxier;
  let registry: Registry;
  let names: string[];

  interface Spec {
    /** `remote`: endpoints (by index) said to run on another node. */
    web?: { endpoints: number[]; lb?: LoadBalancing; nodePort?: number; remote?: number[] };
    dns?: number[];
    self?: number[];
  }

  /** Sets the desired services (endpoints by index into topo.endpoints) and syncs. */
  async function apply(spec: Spec, full = false): Promise<boolean> {
    const services: Service[] = [];
    const ep = (i: number, port: number) => ({ ip: topo.endpoints[i]!.ip, port });
    if (spec.web) {
      services.push({
        namespace: 'shop', name: 'web', clusterIP: WEB_VIP, loadBalancing: spec.web.lb ?? 'Random',
        ports: [
          {
            name: 'http', protocol: 'TCP', port: 80,
            endpoints: spec.web.endpoints.map((i) => (spec.web!.remote?.includes(i) ? { ...ep(i, 8080), remote: true } : ep(i, 8080))),
            ...(spec.web.nodePort ? { nodePort: spec.web.nodePort } : {}),
          },
        ],
      });
    }
    if (spec.dns) {
      services.push({ namespace: 'shop', name: 'dns', clusterIP: DNS_VIP, loadBalancing: 'Random', ports: [{ name: 'dns', protocol: 'UDP', port: 53, endpoints: spec.dns.map((i) => ep(i, 5353)) }] });
    }
    if (spec.self) {
      services.push({ namespace: 'shop', name: 'self', clusterIP: SELF_VIP, loadBalancing: 'Random', ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: spec.self.map((i) => ep(i, 8080)) }] });
    }
    proxier.setState(buildProxyState(services, [topo.nodeAddress]).state);
    return proxier.sync(full);
  }

  const http = (host: string, port: number, count = 1, ns = topo.client) => topo.probe(ns, ['http', host, String(port), '--count', String(count)]);
  /** True when a request to the VIP (default the web one) reaches no endpoint (times out or is refused). */
  const unanswered = async (vip = WEB_VIP) => !names.includes(who(await topo.probe(topo.client, ['http', vip, '80', '--timeout-ms', '1000']))[0]!);
  const who = (answers: string[]) => answers.map((a) => a.split(' ')[0]!);

  async function otherRulesPresent(): Promise<boolean> {
    if (mode === 'nftables') return (await topo.runInNode('nft', ['list', 'table', 'ip', 'bystander'])).stdout.includes('counter');
    const save = (await runChecked(topo.runInNode, 'iptables-save', ['-t', 'filter'])).stdout;
    return save.includes(':BYSTANDER') && save.includes('-A INPUT -j BYSTANDER');
  }

  beforeAll(async () => {
    topo = await createTopology(3);
    names = topo.endpoints.map((e) => e.name);
    // Someone else's rules in the same namespace: they must survive every sync and the cleanup.
    if (mode === 'nftables') {
      await runChecked(topo.runInNode, 'nft', ['-f', '-'], 'table ip bystander {\n chain input { type filter hook input priority 0; policy accept; counter; }\n}\n');
    } else {
      await runChecked(topo.runInNode, 'iptables', ['-w', '-N', 'BYSTANDER']);
      await runChecked(topo.runInNode, 'iptables', ['-w', '-A', 'BYSTANDER', '-p', 'tcp', '--dport', '9', '-j', 'ACCEPT']);
      await runChecked(topo.runInNode, 'iptables', ['-w', '-A', 'INPUT', '-j', 'BYSTANDER']);
    }
    backend = backendFor(mode, topo.runInNode, DEFAULT_PROXY_TABLE);
    registry = new Registry();
    proxier = new Proxier({
      backend, run: topo.runInNode, logger: silentLogger(), metrics: proxyMetrics(registry, mode), clock: systemClock,
      minSyncPeriodMs: 1000, fullResyncPeriodMs: 3_600_000,
    });
  }, 60_000);

  afterAll(async () => {
    try {
      await proxier?.stop();
    } finally {
      await topo?.destroy();
    }
  });

  it('sends a TCP request to VIP:port to an endpoint', async () => {
    expect(await apply({ web: { endpoints: [0, 1, 2] } }, true)).toBe(true);
    const [answer] = await http(WEB_VIP, 80);
    expect(names).toContain(who([answer!])[0]);
    expect(answer!.split(' ')[1]).toBe(topo.clientAddress);
    expect(await otherRulesPresent()).toBe(true);
  });

  it('Random: every endpoint answers within 200 requests', async () => {
    const seen = new Set(who(await http(WEB_VIP, 80, 200)));
    expect([...seen].sort()).toEqual(names);
  });

  it('RoundRobin: one client sees an exact cycle over all endpoints', async () => {
    expect(await apply({ web: { endpoints: [0, 1, 2], lb: 'RoundRobin' } })).toBe(true);
    const order = who(await http(WEB_VIP, 80, 12));
    expect([...new Set(order.slice(0, 3))].sort()).toEqual(names);
    expect(order).toEqual(Array.from({ length: 12 }, (_, i) => order[i % 3]));
  });

  it('SourceIP: one client always lands on the same endpoint', async () => {
    expect(await apply({ web: { endpoints: [0, 1, 2], lb: 'SourceIP' } })).toBe(true);
    const seen = new Set(who(await http(WEB_VIP, 80, 30)));
    expect(seen.size).toBe(1);
    expect(names).toContain([...seen][0]);
  });

  it('removing an endpoint stops traffic to it and deletes its UDP conntrack entries', async () => {
    expect(await apply({ web: { endpoints: [0, 1, 2] }, dns: [0, 1, 2] })).toBe(true);
    // One UDP flow (fixed source port) pinned to whichever endpoint it reached first.
    const first = await topo.probe(topo.client, ['udp', DNS_VIP, '53', '--source-port', '40053', '--count', '3']);
    expect(new Set(first).size).toBe(1);
    const gone = names.indexOf(first[0]!);
    expect(gone).toBeGreaterThanOrEqual(0);
    const goneIP = topo.endpoints[gone]!.ip;
    const flows = async () => (await runChecked(topo.runInNode, 'conntrack', ['-L', '-p', 'udp', '--orig-dst', DNS_VIP])).stdout;
    expect(await flows()).toContain(`src=${goneIP}`);

    const kept = [0, 1, 2].filter((i) => i !== gone);
    expect(await apply({ web: { endpoints: kept }, dns: kept })).toBe(true);
    expect(await flows()).not.toContain(`src=${goneIP}`);
    const after = await topo.probe(topo.client, ['udp', DNS_VIP, '53', '--source-port', '40053', '--count', '3']);
    expect(after.every((a) => a !== names[gone] && names.includes(a))).toBe(true);
    const tcp = new Set(who(await http(WEB_VIP, 80, 60)));
    expect([...tcp].sort()).toEqual(kept.map((i) => names[i]));
  });

  it('rejects a service without endpoints instead of black-holing it', async () => {
    expect(await apply({ web: { endpoints: [] }, dns: [] })).toBe(true);
    expect(await http(WEB_VIP, 80)).toEqual(['ECONNREFUSED']);
    expect(await topo.probe(topo.client, ['udp', DNS_VIP, '53'])).toEqual(['ECONNREFUSED']);
  });

  it('deletes the UDP conntrack entries of a service that drops to zero endpoints', async () => {
    expect(await apply({ dns: [0] })).toBe(true);
    expect(await topo.probe(topo.client, ['udp', DNS_VIP, '53', '--source-port', '40054'])).toEqual([names[0]]);
    expect(await apply({ dns: [] })).toBe(true);
    const flows = (await runChecked(topo.runInNode, 'conntrack', ['-L', '-p', 'udp', '--orig-dst', DNS_VIP])).stdout;
    expect(flows).not.toContain(`src=${topo.endpoints[0]!.ip}`);
  });

  it('serves a nodePort on the node address from another namespace, masqueraded', async () => {
    expect(await apply({ web: { endpoints: [0, 1, 2], nodePort: 30080 } })).toBe(true);
    const answers = await http(topo.nodeAddress, 30080, 10);
    expect(who(answers).every((n) => names.includes(n))).toBe(true);
    expect(answers.every((a) => a.split(' ')[1] === topo.bridgeAddress)).toBe(true);
    expect(await apply({ web: { endpoints: [], nodePort: 30080 } })).toBe(true);
    expect(await http(topo.nodeAddress, 30080)).toEqual(['ECONNREFUSED']);
  });

  it('masquerades connections to an endpoint on another node, and keeps the client address for local ones', async () => {
    expect(await apply({ web: { endpoints: [0, 1], lb: 'RoundRobin', remote: [1] } })).toBe(true);
    const answers = await http(WEB_VIP, 80, 4);
    const from = new Map(answers.map((a) => a.split(' ') as [string, string]));
    expect(from).toEqual(new Map([[names[0], topo.clientAddress], [names[1], topo.bridgeAddress]]));
  });

  it('answers a pod that reaches its own service through the VIP (hairpin)', async () => {
    expect(await apply({ self: [0] })).toBe(true);
    const [answer] = await http(SELF_VIP, 80, 1, topo.endpoints[0]!.ns);
    expect(answer).toBe(`${names[0]} ${topo.bridgeAddress}`);
  });

  it('restores its rules with a full resync after someone deletes them', async () => {
    expect(await apply({ web: { endpoints: [0, 1] } })).toBe(true);
    if (mode === 'nftables') {
      await runChecked(topo.runInNode, 'nft', ['delete', 'table', 'ip', 'shopfloor']);
    } else {
      await runChecked(topo.runInNode, 'iptables', ['-w', '-t', 'nat', '-F']);
      await runChecked(topo.runInNode, 'iptables', ['-w', '-t', 'nat', '-X']);
    }
    expect(await unanswered()).toBe(true);
    const incremental = await apply({ web: { endpoints: [0, 1, 2] } });
    if (mode === 'nftables') {
      // The incremental transaction deletes elements of a table that is gone: nft refuses it.
      expect(incremental).toBe(false);
      expect(await registry.metrics()).toContain('kubeproxy_sync_proxy_rules_nftables_sync_failures_total 1');
    }
    expect(await proxier.sync(true)).toBe(true);
    expect([...new Set(who(await http(WEB_VIP, 80, 60)))].sort()).toEqual(names);
    expect(await otherRulesPresent()).toBe(true);
  });

  it('reports its syncs in metrics', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/);
    expect(text).toMatch(/kubeproxy_sync_proxy_rules_last_timestamp_seconds 1\d{9}/);
    expect(text).toMatch(/shopfloor_agent_proxy_programmed_rules [1-9]/);
  });

  it('leaves the table or chains of a second agent (another proxy table) alone, and that agent removes only its own', async () => {
    const other = backendFor(mode, topo.runInNode, 'sf_other');
    const otherState = buildProxyState(
      [{ namespace: 'shop', name: 'other', clusterIP: OTHER_VIP, loadBalancing: 'Random', ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: [{ ip: topo.endpoints[2]!.ip, port: 8080 }] }] }],
      [topo.nodeAddress],
    ).state;
    await other.apply(emptyState(), otherState, diffProxyState(emptyState(), otherState), true);
    other.close();
    // A full sync deletes every chain of ours it no longer needs: none of the other agent's.
    expect(await apply({ web: { endpoints: [0, 1] } }, true)).toBe(true);
    expect(who(await http(OTHER_VIP, 80, 3))).toEqual([names[2], names[2], names[2]]);
    expect(new Set(who(await http(WEB_VIP, 80, 20)))).toEqual(new Set([names[0], names[1]]));
    await backend.cleanup();
    expect(await unanswered()).toBe(true);
    expect(who(await http(OTHER_VIP, 80))).toEqual([names[2]]);
    const r = await topo.runInNode(process.execPath, ['--import', 'tsx', cli, 'agent', 'cleanup', '--proxy-table', 'sf_other']);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    expect(await unanswered(OTHER_VIP)).toBe(true);
    expect(await otherRulesPresent()).toBe(true);
    expect(await apply({ web: { endpoints: [0, 1] } }, true)).toBe(true);
  });

  it('`shopfloor agent cleanup` removes its table and chains and nothing else, and can run again', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await topo.runInNode(process.execPath, ['--import', 'tsx', cli, 'agent', 'cleanup']);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    }
    if (mode === 'nftables') {
      const tables = (await runChecked(topo.runInNode, 'nft', ['list', 'tables'])).stdout;
      expect(tables).not.toContain('shopfloor');
    } else {
      for (const table of ['nat', 'filter']) {
        expect((await runChecked(topo.runInNode, 'iptables-save', ['-t', table])).stdout).not.toContain('SHOPFLOOR');
      }
    }
    expect(await otherRulesPresent()).toBe(true);
    expect(await unanswered()).toBe(true);
  });
});
