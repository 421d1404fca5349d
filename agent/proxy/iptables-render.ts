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
// endpoints.
//
// iptables-restore rewrites every chain it declares, and the dispatch chains (SERVICES,
// NODEPORTS, NO-ENDPOINTS) and DNAT-MASQ hold a rule or a few per frontend or endpoint address:
// rewriting them costs O(services) in the kernel (about 0.9 s at 10,000 services). An
// incremental apply therefore declares only the SVC chains of changed frontends, and changes
// the long chains rule by rule: `-D` by rule spec for a rule that goes, `-I` at the position a
// full render gives a rule that comes, so that the chains read as a full render writes them
// (their rules are in frontend key or address order). Only a change of the node addresses,
// which every nodePort rule of NO-ENDPOINTS repeats, rewrites the dispatch chains. iptables-nft
// reads a whole chain from the kernel to find the rule a `-D` or `-I` names (0.4 s in a chain of
// 10,000 rules here), so the two chains that grow with every service, SERVICES and DNAT-MASQ,
// are split by the /24 of the address their rules match: the top chain jumps to a chain per /24
// in use (`SVCS-0A6003` for 10.96.3.0/24, `MASQ-…`), which holds that /24's rules in order.
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

/** The /24 an address is in, e.g. `10.96.3` for 10.96.3.7. */
function slash24(ip: string): string {
  return ip.slice(0, ip.lastIndexOf('.'));
}

/** A /24 as a chain name suffix: 6 hex digits (10.96.3 → 0A6003), which sort as the addresses do. */
function slash24Id(ip: string): string {
  return slash24(ip)
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase())
    .join('');
}

/** A rule of a chain split by /24: the address it matches, and what orders it among its /24's rules. */
interface BucketItem {
  addr: string;
  key: string;
  rules: readonly string[];
}

/**
 * A split chain: the top chain, the name of each /24's chain, and the rules a state puts in
 * those, of every /24 or of the /24s in `only` (`10.96.3`): an incremental render reads every
 * frontend and endpoint address, and renders the rules of its own /24s only.
 */
interface Bucketed {
  top: string;
  chain: (addr: string) => string;
  items: (state: ProxyState, only?: ReadonlySet<string>) => Iterable<BucketItem>;
}

function topJump(b: Bucketed, addr: string): string {
  return `-A ${b.top} -d ${slash24(addr)}.0/24 -j ${b.chain(addr)}`;
}

/** A split chain whole: the top chain's jumps in /24 order, then each /24's chain. */
function bucketedChains(b: Bucketed, state: ProxyState): Map<string, string[]> {
  const byId = new Map<string, BucketItem[]>();
  for (const it of b.items(state)) {
    if (it.rules.length === 0) continue;
    const id = slash24Id(it.addr);
    const list = byId.get(id);
    if (list) list.push(it);
    else byId.set(id, [it]);
  }
  const ids = [...byId.keys()].sort();
  const chains = new Map([[b.top, ids.map((id) => topJump(b, byId.get(id)![0]!.addr))]]);
  for (const id of ids) chains.set(b.chain(byId.get(id)![0]!.addr), byKey(byId.get(id)!).flatMap((it) => it.rules));
  return chains;
}

function byKey<T extends { key: string }>(items: T[]): T[] {
  return items.sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** A split chain's edits for `changes` (items whose rules differ between the two states). */
function bucketedEdits(b: Bucketed, applied: ProxyState, desired: ProxyState, changes: readonly BucketItem[], was: (ch: BucketItem) => readonly string[]): { chains: Map<string, string[]>; gone: string[]; edits: string[] } {
  const out = { chains: new Map<string, string[]>(), gone: [] as string[], edits: [] as string[] };
  if (changes.length === 0) return out;
  /** The changes by /24 (`10.96.3`). */
  const touched = new Map<string, BucketItem[]>();
  for (const ch of changes) {
    const id = slash24(ch.addr);
    const list = touched.get(id);
    if (list) list.push(ch);
    else touched.set(id, [ch]);
  }
  // One pass over each state for the rules of the touched /24s.
  const scan = (state: ProxyState) => {
    const inNet = new Map<string, BucketItem[]>();
    for (const it of b.items(state, new Set(touched.keys()))) {
      if (it.rules.length === 0) continue;
      const id = slash24(it.addr);
      const list = inNet.get(id);
      if (list) list.push(it);
      else inNet.set(id, [it]);
    }
    return inNet;
  };
  const before = scan(applied);
  const after = scan(desired);
  const topDeletes: string[] = [];
  const topInserts: Insert[] = [];
  for (const [id, mine] of touched) {
    const addr = mine[0]!.addr;
    const chain = b.chain(addr);
    const now = after.get(id) ?? [];
    if (now.length === 0) {
      // Out of use: the chain goes whole, with the jump to it.
      out.gone.push(chain);
      topDeletes.push(topJump(b, addr));
      continue;
    }
    if (!before.has(id)) {
      out.chains.set(chain, byKey([...now]).flatMap((it) => it.rules));
      topInserts.push({ key: slash24Id(addr), rules: [topJump(b, addr)] });
      continue;
    }
    const inserts = mine.filter((ch) => ch.rules.length > 0);
    const keys = inserts.map((i) => i.key).sort();
    const at = keys.length === 0 ? () => 0 : insertPositions(keys, 1, now, (it) => it.key, (it) => [it.rules.length]);
    out.edits.push(...editLines(chain, mine.flatMap(was), inserts, (key) => at(key, 0)));
  }
  const ids = topInserts.map((i) => i.key).sort();
  // Where a /24 that comes into use goes, among those in use: a pass that renders every rule,
  // as rare as a new /24.
  const used = () => new Set([...b.items(desired)].filter((it) => it.rules.length > 0).map((it) => slash24Id(it.addr)));
  const at = ids.length === 0 ? () => 0 : insertPositions(ids, 1, used(), (id) => id, () => [1]);
  out.edits.push(...editLines(b.top, topDeletes, topInserts, (id) => at(id, 0)));
  return out;
}

/**
 * Masquerades of DNATed connections, split by /24 of the endpoint address: hairpin ones (only a
 * local endpoint can be the source of a connection this node DNATs back to it), and all of
 * those to endpoints on other nodes; local ones first, then remote ones, each by address.
 */
function masqBuckets(c: IptablesChains): Bucketed {
  const chain = (ip: string) => `${c.prefix}MASQ-${slash24Id(ip)}`;
  return {
    top: c.dnatMasq,
    chain,
    *items(state, only) {
      for (const ip of state.endpointIPs.keys()) {
        if (!only || only.has(slash24(ip))) yield { addr: ip, key: masqOrder(ip, state), rules: [dnatMasqRule(chain(ip), ip, state.remoteIPs.has(ip))] };
      }
    },
  };
}

function dnatMasqRule(chain: string, ip: string, remote: boolean): string {
  return remote ? `-A ${chain} -d ${ip}/32 -j MASQUERADE` : `-A ${chain} -s ${ip}/32 -d ${ip}/32 -j MASQUERADE`;
}

function masqOrder(ip: string, state: ProxyState): string {
  return `${state.remoteIPs.has(ip) ? 1 : 0} ${ip}`;
}

/** SERVICES, split by /24 of the VIP: each frontend's rule, by frontend key. */
function serviceBuckets(c: IptablesChains): Bucketed {
  return {
    top: c.services,
    chain: (vip) => svcsChain(c, vip),
    *items(state, only) {
      for (const f of state.frontends.values()) {
        if (!only || only.has(slash24(f.vip))) yield { addr: f.vip, key: f.key, rules: frontendDispatch(c, f, state.nodeAddresses).services };
      }
    },
  };
}

function svcsChain(c: IptablesChains, vip: string): string {
  return `${c.prefix}SVCS-${slash24Id(vip)}`;
}

function sortedFrontends(state: ProxyState): Frontend[] {
  return [...state.frontends.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The dispatch chains that hold rules of frontends (SERVICES' in its /24 chains), and the table of each. */
type DispatchChain = 'services' | 'nodePorts' | 'noEndpoints';
const DISPATCH_TABLE: Record<DispatchChain, IptablesTable> = { services: 'nat', nodePorts: 'nat', noEndpoints: 'filter' };
/** The ones that are not split by /24. */
const FLAT_DISPATCH: readonly DispatchChain[] = ['nodePorts', 'noEndpoints'];

/** The rules one frontend puts in each dispatch chain (`-A …` lines). */
function frontendDispatch(c: IptablesChains, f: Frontend, nodeAddresses: readonly string[]): Record<DispatchChain, string[]> {
  const out: Record<DispatchChain, string[]> = { services: [], nodePorts: [], noEndpoints: [] };
  const p = kernelProtocol(f.protocol);
  const match = `-p ${p} -m ${p} --dport ${f.port}`;
  if (f.endpoints.length > 0) {
    out.services.push(`-A ${svcsChain(c, f.vip)} -d ${f.vip}/32 ${match} -m comment --comment ${quote(f.service)} -j ${svcChain(c, f)}`);
    if (f.nodePort !== undefined) {
      out.nodePorts.push(`-A ${c.nodePorts} -p ${p} -m ${p} --dport ${f.nodePort} -j ${c.markMasq}`);
      out.nodePorts.push(`-A ${c.nodePorts} -p ${p} -m ${p} --dport ${f.nodePort} -m comment --comment ${quote(f.service)} -j ${svcChain(c, f)}`);
    }
  } else {
    const reject = f.protocol === 'TCP' ? '--reject-with tcp-reset' : '--reject-with icmp-port-unreachable';
    out.noEndpoints.push(`-A ${c.noEndpoints} -d ${f.vip}/32 ${match} -m comment --comment ${quote(`${f.service} has no endpoints`)} -j REJECT ${reject}`);
    if (f.nodePort !== undefined) {
      for (const addr of nodeAddresses) out.noEndpoints.push(`-A ${c.noEndpoints} -d ${addr}/32 -p ${p} -m ${p} --dport ${f.nodePort} -j REJECT ${reject}`);
    }
  }
  return out;
}

/** The dispatch chains, whole: each frontend's rules in key order, SERVICES' /24 jumps, then its jumps into NODEPORTS. */
function dispatchChains(c: IptablesChains, state: ProxyState): { nat: Map<string, string[]>; filter: Map<string, string[]> } {
  const rules: Record<DispatchChain, string[]> = { services: [], nodePorts: [], noEndpoints: [] };
  for (const f of sortedFrontends(state)) {
    const own = frontendDispatch(c, f, state.nodeAddresses);
    for (const d of FLAT_DISPATCH) rules[d].push(...own[d]);
  }
  const services = bucketedChains(serviceBuckets(c), state);
  for (const addr of state.nodeAddresses) services.get(c.services)!.push(`-A ${c.services} -d ${addr}/32 -j ${c.nodePorts}`);
  return {
    nat: new Map([
      ...services,
      [c.nodePorts, rules.nodePorts],
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
    filter: new Map([[c.noEndpoints, rules.noEndpoints]]),
  };
}

/**
 * One table's part of a restore: `chains` declared (which flushes them) and filled, then `edits`
 * (rule deletes and inserts in chains left standing), then the `deleted` chains removed.
 */
function section(table: IptablesTable, chains: Map<string, string[]>, deleted: Iterable<string>, edits: readonly string[] = []): string[] {
  const lines = [`*${table}`];
  const dels = [...deleted];
  for (const name of chains.keys()) lines.push(`:${name} - [0:0]`);
  // Declaring a chain flushes it; a chain must be empty before -X deletes it.
  for (const name of dels) lines.push(`:${name} - [0:0]`);
  for (const rules of chains.values()) lines.push(...rules);
  lines.push(...edits);
  for (const name of dels) lines.push(`-X ${name}`);
  lines.push('COMMIT');
  return lines;
}

/**
 * Where inserted rules go in `chains` chains that a full render orders by key: for each of
 * `keys` (sorted), a function of the chain's index giving 1 + the rules that the items sorting
 * before the key hold there. One pass over the items, O(items · log keys): iptables inserts by
 * position only, and the position of a rule is the count of the rules before it.
 */
function insertPositions<T>(keys: readonly string[], chains: number, items: Iterable<T>, keyOf: (item: T) => string, rulesOf: (item: T) => readonly number[]): (key: string, chain: number) => number {
  /** gaps[i][chain]: the rules of the items between keys[i - 1] and keys[i]. */
  const gaps = keys.map(() => new Array<number>(chains).fill(0));
  for (const item of items) {
    const k = keyOf(item);
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! <= k) lo = mid + 1;
      else hi = mid;
    }
    if (lo === keys.length) continue;
    rulesOf(item).forEach((n, chain) => (gaps[lo]![chain]! += n));
  }
  const before = new Array<number>(chains).fill(0);
  const positions = new Map<string, number[]>();
  keys.forEach((key, i) => {
    gaps[i]!.forEach((n, chain) => (before[chain]! += n));
    positions.set(key, before.map((n) => n + 1));
  });
  return (key, chain) => positions.get(key)![chain]!;
}

/** A rule that comes, with the key that orders it in its chain. */
interface Insert {
  key: string;
  rules: readonly string[];
}

/** `-D` by spec for each rule of `deletes`, then `-I` of each insert's rules from `position(key)` on, in key order. */
function editLines(chain: string, deletes: readonly string[], inserts: readonly Insert[], position: (key: string) => number): string[] {
  const appended = `-A ${chain} `;
  const lines = deletes.map((r) => `-D ${chain} ${r.slice(appended.length)}`);
  for (const ins of [...inserts].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    const at = position(ins.key);
    ins.rules.forEach((r, i) => lines.push(`-I ${chain} ${at + i} ${r.slice(appended.length)}`));
  }
  return lines;
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}

const NO_DISPATCH: Record<DispatchChain, string[]> = { services: [], nodePorts: [], noEndpoints: [] };

/** The dispatch chains' edits for the frontends in `diff` (node addresses unchanged): SERVICES' /24 chains come and go. */
function dispatchEdits(c: IptablesChains, applied: ProxyState, desired: ProxyState, diff: ProxyDiff): { chains: Map<string, string[]>; gone: string[]; edits: Record<IptablesTable, string[]> } {
  const pairs: [Frontend | undefined, Frontend | undefined][] = [
    ...diff.removed.map((f) => [f, undefined] as [Frontend, undefined]),
    ...diff.added.map((f) => [undefined, f] as [undefined, Frontend]),
    ...diff.changed.map(({ before, after }) => [before, after] as [Frontend, Frontend]),
  ];
  const deletes: Record<DispatchChain, string[]> = { services: [], nodePorts: [], noEndpoints: [] };
  const inserts: Record<DispatchChain, Insert[]> = { services: [], nodePorts: [], noEndpoints: [] };
  const services: BucketItem[] = [];
  const previous = new Map<BucketItem, readonly string[]>();
  for (const [before, after] of pairs) {
    const was = before ? frontendDispatch(c, before, applied.nodeAddresses) : NO_DISPATCH;
    const is = after ? frontendDispatch(c, after, desired.nodeAddresses) : NO_DISPATCH;
    if (!sameRules(was.services, is.services)) {
      const f = (after ?? before)!;
      const item = { addr: f.vip, key: f.key, rules: is.services };
      services.push(item);
      previous.set(item, was.services);
    }
    for (const d of FLAT_DISPATCH) {
      if (sameRules(was[d], is[d])) continue;
      deletes[d].push(...was[d]);
      if (is[d].length > 0) inserts[d].push({ key: after!.key, rules: is[d] });
    }
  }
  const keys = [...new Set(FLAT_DISPATCH.flatMap((d) => inserts[d].map((i) => i.key)))].sort();
  // Skipped without inserts: the pass renders every frontend's dispatch rules.
  const at = keys.length === 0 ? () => 0 : insertPositions(keys, FLAT_DISPATCH.length, desired.frontends.values(), (f) => f.key, (f) => {
    const own = frontendDispatch(c, f, desired.nodeAddresses);
    return FLAT_DISPATCH.map((d) => own[d].length);
  });
  const split = bucketedEdits(serviceBuckets(c), applied, desired, services, (item) => previous.get(item)!);
  const edits: Record<IptablesTable, string[]> = { nat: [...split.edits], filter: [] };
  FLAT_DISPATCH.forEach((d, chain) => edits[DISPATCH_TABLE[d]].push(...editLines(c[d], deletes[d], inserts[d], (key) => at(key, chain))));
  return { chains: split.chains, gone: split.gone, edits };
}

/** DNAT-MASQ's edits for the endpoint addresses of the frontends in `diff` that came, went, or became local or remote. */
function dnatMasqEdits(c: IptablesChains, applied: ProxyState, desired: ProxyState, diff: ProxyDiff): { chains: Map<string, string[]>; gone: string[]; edits: string[] } {
  const b = masqBuckets(c);
  const touched = new Set<string>();
  for (const f of [...diff.added, ...diff.removed, ...diff.changed.flatMap((ch) => [ch.before, ch.after])]) for (const ep of f.endpoints) touched.add(ep.ip);
  const rules = (state: ProxyState, ip: string) => (state.endpointIPs.has(ip) ? [dnatMasqRule(b.chain(ip), ip, state.remoteIPs.has(ip))] : []);
  const changes: BucketItem[] = [];
  const previous = new Map<BucketItem, readonly string[]>();
  for (const ip of touched) {
    const was = rules(applied, ip);
    const is = rules(desired, ip);
    if (sameRules(was, is)) continue;
    const item = { addr: ip, key: masqOrder(ip, desired), rules: is };
    changes.push(item);
    previous.set(item, was);
  }
  return bucketedEdits(b, applied, desired, changes, (item) => previous.get(item)!);
}

/** Every chain and rule, deleting any chain of ours in `existing` that the state no longer has. */
export function renderIptablesFull(c: IptablesChains, state: ProxyState, existing: ExistingChains): string {
  const { nat, filter } = dispatchChains(c, state);
  for (const [name, rules] of bucketedChains(masqBuckets(c), state)) nat.set(name, rules);
  for (const f of sortedFrontends(state)) for (const [name, rules] of frontendChains(c, f)) nat.set(name, rules);
  const staleNat = [...existing.nat].filter((name) => name.startsWith(c.prefix) && !nat.has(name)).sort();
  const staleFilter = [...existing.filter].filter((name) => name.startsWith(c.prefix) && !filter.has(name)).sort();
  return [...section('nat', nat, staleNat), ...section('filter', filter, staleFilter)].join('\n') + '\n';
}

/**
 * The SVC chains of changed frontends, whole (removed ones deleted), and the rules of the long
 * chains that came or went; the dispatch chains whole only when the node addresses changed.
 * Returns '' when nothing changed.
 */
export function renderIptablesDiff(c: IptablesChains, applied: ProxyState, desired: ProxyState, diff: ProxyDiff): string {
  const nat = new Map<string, string[]>();
  const filter = new Map<string, string[]>();
  const edits: Record<IptablesTable, string[]> = { nat: [], filter: [] };
  const gone = new Set<string>();
  if (diff.nodeAddressesChanged) {
    const whole = dispatchChains(c, desired);
    for (const [name, rules] of whole.nat) nat.set(name, rules);
    for (const [name, rules] of whole.filter) filter.set(name, rules);
    // The /24 chains of SERVICES that went out of use.
    for (const name of bucketedChains(serviceBuckets(c), applied).keys()) if (!nat.has(name)) gone.add(name);
  } else {
    const own = dispatchEdits(c, applied, desired, diff);
    for (const [name, rules] of own.chains) nat.set(name, rules);
    for (const name of own.gone) gone.add(name);
    edits.nat.push(...own.edits.nat);
    edits.filter.push(...own.edits.filter);
  }
  const masq = dnatMasqEdits(c, applied, desired, diff);
  for (const [name, rules] of masq.chains) nat.set(name, rules);
  for (const name of masq.gone) gone.add(name);
  edits.nat.push(...masq.edits);
  for (const f of diff.removed) for (const name of frontendChains(c, f).keys()) gone.add(name);
  for (const f of diff.added) for (const [name, rules] of frontendChains(c, f)) nat.set(name, rules);
  for (const { before, after } of diff.changed) {
    const next = frontendChains(c, after);
    for (const [name, rules] of next) nat.set(name, rules);
    for (const name of frontendChains(c, before).keys()) if (!next.has(name)) gone.add(name);
  }
  for (const name of nat.keys()) gone.delete(name);
  const lines: string[] = [];
  if (nat.size + gone.size + edits.nat.length > 0) lines.push(...section('nat', nat, [...gone].sort(), edits.nat));
  if (filter.size + edits.filter.length > 0) lines.push(...section('filter', filter, [], edits.filter));
  return lines.length ? lines.join('\n') + '\n' : '';
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
  for (const r of bucketedChains(masqBuckets(c), state).values()) rules += r.length;
  return rules;
}

/** The chains of `c` in `iptables-save` output of one table. */
export function parseOurChains(c: IptablesChains, save: string): Set<string> {
  const chains = new Set<string>();
  for (const line of save.split('\n')) {
    if (line.startsWith(`:${c.prefix}`)) chains.add(line.slice(1).split(' ')[0]!);
  }
  return chains;
}
