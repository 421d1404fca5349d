// Renders the proxy state into `iptables-restore --noflush` input. Pure.
//
// Layout: chains of our own, named with the agent's prefix (`SHOPFLOOR-` unless the agent was
// given another proxy table, see proxy-names.ts) and shown here with the default one, entered
// from the built-in chains by one jump each (IptablesChains.jumps; the executor ensures those).
// nat SHOPFLOOR-SERVICES holds one rule per VIP:port jumping to a per-frontend
// SHOPFLOOR-SVC-<hash> chain, then one rule per node address into SHOPFLOOR-NODEPORTS. A SVC chain DNATs to one endpoint per rule: Random by `statistic --mode
// random` with probability 1/(remaining endpoints), RoundRobin by `statistic --mode nth` (an
// exact cycle, since only a connection's first packet reaches the nat table), SourceIP by
// `recent` (a client returns to the endpoint it got first while it keeps talking, three hours at
// most). There is no chain per endpoint: with nft-backed iptables-restore the time of a sync
// grows with the number of chains (a cold sync of 10,000 services × 3 endpoints took 151 s here
// with a chain per endpoint, 4.5 s without), so the masquerade decisions that depend on the endpoint are
// taken after DNAT instead, as in the nftables layout: SHOPFLOOR-DNAT-MASQ, entered by DNATed
// connections only, masquerades hairpin connections (source = endpoint) and connections to
// endpoints on other nodes. filter SHOPFLOOR-NO-ENDPOINTS rejects traffic to frontends without
// endpoints. iptables-restore rewrites every chain it names, so an incremental apply names the
// three dispatch chains (they are O(services), iptables has no map), SHOPFLOOR-DNAT-MASQ when
// an endpoint address came or went, and the SVC chains of changed frontends only.
import { createHash } from 'node:crypto';
import type { ProxyDiff } from './model-diff.js';
import { kernelProtocol, unhandled, type Endpoint, type Frontend, type ProxyState } from './model.js';
import { MASQUERADE_MARK } from './nft-render.js';

const MASQ = `0x${MASQUERADE_MARK.toString(16)}`;
/** How long SourceIP keeps a quiet client on its endpoint (seconds), as kube-proxy's ClientIP affinity. */
const SOURCE_AFFINITY_SECONDS = 10800;
/** Characters of the hash that names a frontend's chain and an endpoint's `recent` list. */
const HASH_LENGTH = 12;
/** The longest name after the prefix: `SVC-<hash>` (and `SEP-<hash>` for `recent` lists). */
export const LONGEST_CHAIN_SUFFIX = 'SVC-'.length + HASH_LENGTH;

export type IptablesTable = 'nat' | 'filter';

/** A jump from a built-in chain into ours: one rule each, ensured outside the restore. */
export interface Jump {
  table: IptablesTable;
  chain: string;
  rule: string[];
}

/** The chains of one agent: every name starts with its prefix (see proxy-names.ts). */
export interface IptablesChains {
  prefix: string;
  services: string;
  nodePorts: string;
  postrouting: string;
  dnatMasq: string;
  markMasq: string;
  noEndpoints: string;
  /** The jumps from the built-in chains into these. */
  jumps: readonly Jump[];
}

/** The chain names for `prefix`, e.g. `SHOPFLOOR-`. */
export function iptablesChains(prefix: string): IptablesChains {
  const services = `${prefix}SERVICES`;
  const postrouting = `${prefix}POSTROUTING`;
  const noEndpoints = `${prefix}NO-ENDPOINTS`;
  const jump = (table: IptablesTable, chain: string, comment: string, target: string): Jump => ({ table, chain, rule: ['-m', 'comment', '--comment', comment, '-j', target] });
  return {
    prefix,
    services,
    nodePorts: `${prefix}NODEPORTS`,
    postrouting,
    dnatMasq: `${prefix}DNAT-MASQ`,
    markMasq: `${prefix}MARK-MASQ`,
    noEndpoints,
    jumps: [
      jump('nat', 'PREROUTING', 'shopfloor service portals', services),
      jump('nat', 'OUTPUT', 'shopfloor service portals', services),
      jump('nat', 'POSTROUTING', 'shopfloor masquerade', postrouting),
      jump('filter', 'INPUT', 'shopfloor services without endpoints', noEndpoints),
      jump('filter', 'FORWARD', 'shopfloor services without endpoints', noEndpoints),
      jump('filter', 'OUTPUT', 'shopfloor services without endpoints', noEndpoints),
    ],
  };
}

/** Our chains that exist in the kernel now, per table (from `iptables-save`). */
export interface ExistingChains {
  nat: ReadonlySet<string>;
  filter: ReadonlySet<string>;
}

function hash(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  for (let i = 0; i < HASH_LENGTH; i++) out += alphabet[digest[i]! % 32];
  return out;
}

export function svcChain(c: IptablesChains, f: Frontend): string {
  return `${c.prefix}SVC-${hash(f.key)}`;
}

/** The `recent` list that remembers the clients SourceIP sent to `ep` of `f`. */
export function affinityList(c: IptablesChains, f: Frontend, ep: Endpoint): string {
  return `${c.prefix}SEP-${hash(`${f.key}>${ep.ip}:${ep.port}`)}`;
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '')}"`;
}

function probability(n: number): string {
  return (1 / n).toFixed(10);
}

/** A frontend's SVC chain with its rules (none when it has no endpoints). */
function frontendChains(c: IptablesChains, f: Frontend): Map<string, string[]> {
  const chains = new Map<string, string[]>();
  const n = f.endpoints.length;
  if (n === 0) return chains;
  const svc = svcChain(c, f);
  const affinity: string[] = [];
  const picks: string[] = [];
  const p = kernelProtocol(f.protocol);
  f.endpoints.forEach((ep, i) => {
    const rule = (matches: string) => `-A ${svc} -p ${p} -m ${p} ${matches}-j DNAT --to-destination ${ep.ip}:${ep.port}`;
    // Each rule but the last takes 1/(endpoints left) of what reaches it; the last takes the rest.
    const left = n - i;
    const random = left > 1 ? `-m statistic --mode random --probability ${probability(left)} ` : '';
    switch (f.loadBalancing) {
      case 'Random':
        picks.push(rule(random));
        break;
      case 'RoundRobin':
        picks.push(rule(left > 1 ? `-m statistic --mode nth --every ${left} --packet 0 ` : ''));
        break;
      case 'SourceIP': {
        // Matches run in order and stop at the first miss: `recent --set` records only the
        // client of the endpoint that statistic picked.
        const recent = `-m recent --name ${affinityList(c, f, ep)}`;
        affinity.push(rule(`${recent} --update --seconds ${SOURCE_AFFINITY_SECONDS} --reap `));
        picks.push(rule(`${random}${recent} --set `));
        break;
      }
      default:
        unhandled(f.loadBalancing);
    }
  });
  chains.set(svc, [...affinity, ...picks]);
  return chains;
}

/**
 * Masquerades of DNATed connections: hairpin ones (only a local endpoint can be the source of a
 * connection this node DNATs back to it), and all of those to endpoints on other nodes.
 */
function dnatMasqRules(c: IptablesChains, state: ProxyState): string[] {
  const rules: string[] = [];
  for (const ip of [...state.endpointIPs.keys()].sort()) if (!state.remoteIPs.has(ip)) rules.push(`-A ${c.dnatMasq} -s ${ip}/32 -d ${ip}/32 -j MASQUERADE`);
  for (const ip of [...state.remoteIPs.keys()].sort()) rules.push(`-A ${c.dnatMasq} -d ${ip}/32 -j MASQUERADE`);
  return rules;
}

function sortedFrontends(state: ProxyState): Frontend[] {
  return [...state.frontends.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The dispatch chains, always written whole. */
function dispatchChains(c: IptablesChains, state: ProxyState): { nat: Map<string, string[]>; filter: Map<string, string[]> } {
  const services: string[] = [];
  const nodePorts: string[] = [];
  const noEndpoints: string[] = [];
  for (const f of sortedFrontends(state)) {
    const p = kernelProtocol(f.protocol);
    const match = `-p ${p} -m ${p} --dport ${f.port}`;
    if (f.endpoints.length > 0) {
      services.push(`-A ${c.services} -d ${f.vip}/32 ${match} -m comment --comment ${quote(f.service)} -j ${svcChain(c, f)}`);
      if (f.nodePort !== undefined) {
        nodePorts.push(`-A ${c.nodePorts} -p ${p} -m ${p} --dport ${f.nodePort} -j ${c.markMasq}`);
        nodePorts.push(`-A ${c.nodePorts} -p ${p} -m ${p} --dport ${f.nodePort} -m comment --comment ${quote(f.service)} -j ${svcChain(c, f)}`);
      }
    } else {
      const reject = f.protocol === 'TCP' ? '--reject-with tcp-reset' : '--reject-with icmp-port-unreachable';
      noEndpoints.push(`-A ${c.noEndpoints} -d ${f.vip}/32 ${match} -m comment --comment ${quote(`${f.service} has no endpoints`)} -j REJECT ${reject}`);
      if (f.nodePort !== undefined) {
        for (const addr of state.nodeAddresses) {
          noEndpoints.push(`-A ${c.noEndpoints} -d ${addr}/32 -p ${p} -m ${p} --dport ${f.nodePort} -j REJECT ${reject}`);
        }
      }
    }
  }
  for (const addr of state.nodeAddresses) services.push(`-A ${c.services} -d ${addr}/32 -j ${c.nodePorts}`);
  return {
    nat: new Map([
      [c.services, services],
      [c.nodePorts, nodePorts],
      [c.markMasq, [`-A ${c.markMasq} -j MARK --or-mark ${MASQ}`]],
      [
        c.postrouting,
        [
          `-A ${c.postrouting} -m conntrack --ctstate DNAT -j ${c.dnatMasq}`,
          `-A ${c.postrouting} -m mark ! --mark ${MASQ}/${MASQ} -j RETURN`,
          `-A ${c.postrouting} -j MARK --xor-mark ${MASQ}`,
          `-A ${c.postrouting} -j MASQUERADE --random-fully`,
        ],
      ],
    ]),
    filter: new Map([[c.noEndpoints, noEndpoints]]),
  };
}

function section(table: IptablesTable, chains: Map<string, string[]>, deleted: Iterable<string>): string[] {
  const lines = [`*${table}`];
  const dels = [...deleted];
  for (const name of chains.keys()) lines.push(`:${name} - [0:0]`);
  // Declaring a chain flushes it; a chain must be empty before -X deletes it.
  for (const name of dels) lines.push(`:${name} - [0:0]`);
  for (const rules of chains.values()) lines.push(...rules);
  for (const name of dels) lines.push(`-X ${name}`);
  lines.push('COMMIT');
  return lines;
}

/** Every chain and rule, deleting any chain of ours in `existing` that the state no longer has. */
export function renderIptablesFull(c: IptablesChains, state: ProxyState, existing: ExistingChains): string {
  const { nat, filter } = dispatchChains(c, state);
  nat.set(c.dnatMasq, dnatMasqRules(c, state));
  for (const f of sortedFrontends(state)) for (const [name, rules] of frontendChains(c, f)) nat.set(name, rules);
  const staleNat = [...existing.nat].filter((name) => name.startsWith(c.prefix) && !nat.has(name)).sort();
  const staleFilter = [...existing.filter].filter((name) => name.startsWith(c.prefix) && !filter.has(name)).sort();
  return [...section('nat', nat, staleNat), ...section('filter', filter, staleFilter)].join('\n') + '\n';
}

/**
 * The dispatch chains plus the chains of changed frontends; removed chains are deleted. The
 * DNAT masquerade chain is rewritten only when an endpoint address came or went since `applied`.
 */
export function renderIptablesDiff(c: IptablesChains, applied: ProxyState, desired: ProxyState, diff: ProxyDiff): string {
  const { nat, filter } = dispatchChains(c, desired);
  const moved = (ip: string) => applied.endpointIPs.has(ip) !== desired.endpointIPs.has(ip) || applied.remoteIPs.has(ip) !== desired.remoteIPs.has(ip);
  const touched = [...diff.added, ...diff.removed, ...diff.changed.flatMap((ch) => [ch.before, ch.after])];
  if (touched.some((f) => f.endpoints.some((ep) => moved(ep.ip)))) nat.set(c.dnatMasq, dnatMasqRules(c, desired));
  const gone = new Set<string>();
  for (const f of diff.removed) for (const name of frontendChains(c, f).keys()) gone.add(name);
  for (const f of diff.added) for (const [name, rules] of frontendChains(c, f)) nat.set(name, rules);
  for (const { before, after } of diff.changed) {
    const next = frontendChains(c, after);
    for (const [name, rules] of next) nat.set(name, rules);
    for (const name of frontendChains(c, before).keys()) if (!next.has(name)) gone.add(name);
  }
  for (const name of nat.keys()) gone.delete(name);
  return [...section('nat', nat, [...gone].sort()), ...section('filter', filter, [])].join('\n') + '\n';
}

/** Flushes and deletes the given chains of ours (the jumps into them must be gone first). */
export function renderIptablesCleanup(c: IptablesChains, existing: ExistingChains): string {
  const ours = (s: ReadonlySet<string>) => [...s].filter((name) => name.startsWith(c.prefix)).sort();
  return [...section('nat', new Map(), ours(existing.nat)), ...section('filter', new Map(), ours(existing.filter))].join('\n') + '\n';
}

/** Rules a state programs (the jumps from built-in chains not counted). */
export function iptablesRuleCount(c: IptablesChains, state: ProxyState): number {
  const { nat, filter } = dispatchChains(c, state);
  let rules = 0;
  for (const r of nat.values()) rules += r.length;
  for (const r of filter.values()) rules += r.length;
  for (const f of state.frontends.values()) for (const r of frontendChains(c, f).values()) rules += r.length;
  return rules + dnatMasqRules(c, state).length;
}

/** The chains of `c` in `iptables-save` output of one table. */
export function parseOurChains(c: IptablesChains, save: string): Set<string> {
  const chains = new Set<string>();
  for (const line of save.split('\n')) {
    if (line.startsWith(`:${c.prefix}`)) chains.add(line.slice(1).split(' ')[0]!);
  }
  return chains;
}
