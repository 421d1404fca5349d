// Renders the proxy state into nftables transactions (text for `nft -f -`) in one table, `ip
// shopfloor` unless the agent was given another (proxy-names.ts). Pure.
//
// Layout, chosen for sync speed: per-service state lives only in set and map elements, never in
// chains or rules. Services with the same protocol, load-balancing mode and endpoint count N form
// a group, with a chain and a set of its frontends (VIP . proto . port); the `services` chain has
// one rule per group, a lookup in its set that goes to its chain, whose one rule picks a slot
// (numgen random / numgen inc / jhash of the source, mod N) and DNATs through one lookup in
// `tcp-endpoints` or `udp-endpoints` (VIP . port . slot → endpoint). Adding a service therefore
// adds N+1 elements and no chain or rule, and the number of chains and rules is bounded by the
// groups, not by the services. NodePorts use the same scheme keyed by the port. The group is not
// found by a verdict map (VIP . proto . port → goto chain), which would take one lookup instead
// of one per group: the kernel checks every element of every verdict map, for loops, in each
// transaction that adds a jump or goto element, so adding a service would cost O(services) (1.9
// ms at 1,000 services, 12 ms at 40,000, on this project's machine). Element changes of plain
// sets and data maps are checked alone. The endpoint maps are per protocol because nft
// 1.0.6 cannot add a rule that reads a `typeof` map with a protocol-neutral (`th dport`) value
// once that map is in the kernel. Services without endpoints sit in a set that filter chains
// reject from. Hairpin traffic (an endpoint reaching its own service) is found by one
// (source . destination) lookup after DNAT and masqueraded; nodePort traffic carries a packet
// mark that the postrouting chain turns into a masquerade; connections DNATed to an endpoint on
// another node (`remote-endpoints`) leave the node and are masqueraded too.
//
// RoundRobin's counter belongs to its rule, which all services with the same endpoint count
// share: each service still spreads its connections over all its endpoints, and one client
// talking to one service sees an exact cycle.
import type { ProxyDiff } from './model-diff.js';
import { PROTOCOLS, frontendGroups, kernelProtocol, unhandled, type Frontend, type KernelProtocol, type LoadBalancing, type ProxyState, type SelectionGroup } from './model.js';

/** Packet mark bit meaning "masquerade this connection"; cleared again before it leaves. */
export const MASQUERADE_MARK = 0x2000;
/** Fixed hash seed: SourceIP keeps sending a client to the same slot across rule reloads. */
const SOURCE_HASH_SEED = 0x5f0f1007;
/** Elements per `add element` / `delete element` statement, to keep nft's parser lines bounded. */
const ELEMENTS_PER_STATEMENT = 1000;

const MASQ = `0x${MASQUERADE_MARK.toString(16)}`;

interface Element {
  /** A fixed set or map, or a group's set of frontends. */
  map: string;
  key: string;
  /** Absent for set elements. */
  value?: string;
}

const MODE_NAME: Record<LoadBalancing, string> = { Random: 'random', RoundRobin: 'roundrobin', SourceIP: 'sourceip' };

function selector(mode: LoadBalancing, n: number): string {
  switch (mode) {
    case 'Random':
      return `numgen random mod ${n}`;
    case 'RoundRobin':
      return `numgen inc mod ${n}`;
    case 'SourceIP':
      return `jhash ip saddr mod ${n} seed 0x${SOURCE_HASH_SEED.toString(16)}`;
    default:
      return unhandled(mode);
  }
}

/**
 * A group's load-balancing chain (`lb-…` for VIPs, `np-…` for nodePorts), the set of the
 * frontends it serves, and the rule of the `services` chain that sends them there.
 */
interface LbChain {
  name: string;
  rule: string;
  set: string;
  setType: string;
  dispatch: string;
}

function vipChain(p: KernelProtocol, mode: LoadBalancing, n: number): LbChain {
  const name = `lb-${p}-${MODE_NAME[mode]}-${n}`;
  const set = `${name}-frontends`;
  return {
    name,
    rule: `dnat to ip daddr . ${p} dport . ${selector(mode, n)} map @${p}-endpoints`,
    set,
    setType: 'ipv4_addr . inet_proto . inet_service',
    dispatch: `ip daddr . meta l4proto . th dport @${set} goto ${name}`,
  };
}

function nodePortChain(p: KernelProtocol, mode: LoadBalancing, n: number): LbChain {
  const name = `np-${p}-${MODE_NAME[mode]}-${n}`;
  const set = `${name}-frontends`;
  return {
    name,
    rule: `meta mark set meta mark | ${MASQ} dnat to ${p} dport . ${selector(mode, n)} map @${p}-nodeport-endpoints`,
    set,
    setType: 'inet_proto . inet_service',
    dispatch: `ip daddr @nodeport-ips meta l4proto . th dport @${set} goto ${name}`,
  };
}

function frontendElements(f: Frontend): Element[] {
  const p = kernelProtocol(f.protocol);
  const n = f.endpoints.length;
  const out: Element[] = [];
  const vipKey = `${f.vip} . ${p} . ${f.port}`;
  const npKey = `${p} . ${f.nodePort}`;
  if (n === 0) {
    out.push({ map: 'no-endpoint-services', key: vipKey });
    if (f.nodePort !== undefined) out.push({ map: 'no-endpoint-nodeports', key: npKey });
    return out;
  }
  out.push({ map: groupChain(frontendGroups(f)[0]!).set, key: vipKey });
  f.endpoints.forEach((ep, slot) => out.push({ map: `${p}-endpoints`, key: `${f.vip} . ${f.port} . ${slot}`, value: `${ep.ip} . ${ep.port}` }));
  if (f.nodePort !== undefined) {
    out.push({ map: groupChain(frontendGroups(f)[1]!).set, key: npKey });
    f.endpoints.forEach((ep, slot) => out.push({ map: `${p}-nodeport-endpoints`, key: `${f.nodePort} . ${slot}`, value: `${ep.ip} . ${ep.port}` }));
  }
  return out;
}

function groupChain(g: SelectionGroup): LbChain {
  const p = kernelProtocol(g.protocol);
  return g.nodePort ? nodePortChain(p, g.loadBalancing, g.endpoints) : vipChain(p, g.loadBalancing, g.endpoints);
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += ELEMENTS_PER_STATEMENT) out.push(items.slice(i, i + ELEMENTS_PER_STATEMENT));
  return out;
}

/** `ip <table>`, as every statement names the table. */
function tableRef(table: string): string {
  return `ip ${table}`;
}

function elementStatements(T: string, verb: 'add' | 'delete', set: string, items: readonly string[]): string[] {
  return chunks(items).map((c) => `${verb} element ${T} ${set} { ${c.join(', ')} }`);
}

/** An element as a statement lists it: `key : value` to add to a map, `key` otherwise. */
function elementText(e: Element, withValue: boolean): string {
  return withValue && e.value !== undefined ? `${e.key} : ${e.value}` : e.key;
}

function groupByMap(elements: readonly Element[], withValues: boolean): Map<string, string[]> {
  const byMap = new Map<string, string[]>();
  for (const e of elements) {
    let list = byMap.get(e.map);
    if (!list) byMap.set(e.map, (list = []));
    list.push(elementText(e, withValues));
  }
  return byMap;
}

/** The table's fixed part: maps, sets, hooks and the rules that lead to `services`. */
function skeleton(T: string): string[] {
  return [
    `add table ${T} { comment "Shopfloor service proxy: managed by the agent, do not edit"; }`,
    ...PROTOCOLS.map(kernelProtocol).flatMap((p) => [
      `add map ${T} ${p}-endpoints { typeof ip daddr . ${p} dport . numgen random mod 1 : ip daddr . ${p} dport; }`,
      `add map ${T} ${p}-nodeport-endpoints { typeof ${p} dport . numgen random mod 1 : ip daddr . ${p} dport; }`,
    ]),
    `add set ${T} nodeport-ips { type ipv4_addr; }`,
    `add set ${T} no-endpoint-services { type ipv4_addr . inet_proto . inet_service; }`,
    `add set ${T} no-endpoint-nodeports { type inet_proto . inet_service; }`,
    `add set ${T} hairpin { type ipv4_addr . ipv4_addr; }`,
    `add set ${T} remote-endpoints { type ipv4_addr; }`,
    `add chain ${T} services`,
    `add chain ${T} reject-no-endpoints`,
    `add rule ${T} reject-no-endpoints meta l4proto tcp reject with tcp reset`,
    `add rule ${T} reject-no-endpoints reject`,
    `add chain ${T} endpoints-check`,
    `add rule ${T} endpoints-check ip daddr . meta l4proto . th dport @no-endpoint-services goto reject-no-endpoints`,
    `add rule ${T} endpoints-check ip daddr @nodeport-ips meta l4proto . th dport @no-endpoint-nodeports goto reject-no-endpoints`,
    `add chain ${T} masquerading`,
    `add rule ${T} masquerading meta mark & ${MASQ} == ${MASQ} meta mark set meta mark ^ ${MASQ} masquerade fully-random`,
    `add rule ${T} masquerading ct status dnat ip saddr . ip daddr @hairpin masquerade`,
    `add rule ${T} masquerading ct status dnat ip daddr @remote-endpoints masquerade`,
    `add chain ${T} nat-prerouting { type nat hook prerouting priority -100; policy accept; }`,
    `add rule ${T} nat-prerouting jump services`,
    `add chain ${T} nat-output { type nat hook output priority -100; policy accept; }`,
    `add rule ${T} nat-output jump services`,
    `add chain ${T} nat-postrouting { type nat hook postrouting priority 100; policy accept; }`,
    `add rule ${T} nat-postrouting jump masquerading`,
    `add chain ${T} filter-input { type filter hook input priority -10; policy accept; }`,
    `add rule ${T} filter-input jump endpoints-check`,
    `add chain ${T} filter-forward { type filter hook forward priority -10; policy accept; }`,
    `add rule ${T} filter-forward jump endpoints-check`,
    `add chain ${T} filter-output { type filter hook output priority -10; policy accept; }`,
    `add rule ${T} filter-output jump endpoints-check`,
  ];
}

/** The fixed rules, as many whatever the table's name. */
const SKELETON_RULES = skeleton('').filter((l) => l.startsWith('add rule')).length;

function addGroupLines(T: string, c: LbChain): string[] {
  return [`add chain ${T} ${c.name}`, `add rule ${T} ${c.name} ${c.rule}`, `add set ${T} ${c.set} { type ${c.setType}; }`];
}

/**
 * The `services` chain's rules: one per group, in group key order, so that a chain rebuilt after
 * a change of groups reads as a full render writes it.
 */
function servicesRules(T: string, state: ProxyState): string[] {
  const keys = [...state.groups.keys()].sort();
  return keys.map((k) => `add rule ${T} services ${groupChain(state.groups.get(k)!.group).dispatch}`);
}

/**
 * The whole table, replacing whatever is there in the same transaction (add + delete + add makes
 * it work whether or not the table exists), one statement (with its newline) at a time, so that
 * the backend streams it to nft: at 100,000 services it is 25 MB of text, and built whole
 * (with an element object per element) it held about 190 MB at once. Elements go out in
 * statements of ELEMENTS_PER_STATEMENT as each map's fill. Used at start, for the periodic full
 * resync, and after a failed apply.
 */
export function* renderNftFullStatements(table: string, state: ProxyState): Generator<string> {
  const T = tableRef(table);
  for (const l of [`add table ${T}`, `delete table ${T}`, ...skeleton(T)]) yield l + '\n';
  for (const { group } of state.groups.values()) for (const l of addGroupLines(T, groupChain(group))) yield l + '\n';
  for (const l of servicesRules(T, state)) yield l + '\n';
  const pending = new Map<string, string[]>();
  function* add(map: string, item: string): Generator<string> {
    let list = pending.get(map);
    if (!list) pending.set(map, (list = []));
    list.push(item);
    if (list.length < ELEMENTS_PER_STATEMENT) return;
    yield `add element ${T} ${map} { ${list.join(', ')} }\n`;
    pending.set(map, []);
  }
  for (const f of state.frontends.values()) for (const e of frontendElements(f)) yield* add(e.map, elementText(e, true));
  for (const a of state.nodeAddresses) yield* add('nodeport-ips', a);
  for (const ip of state.endpointIPs.keys()) yield* add('hairpin', `${ip} . ${ip}`);
  for (const ip of state.remoteIPs.keys()) yield* add('remote-endpoints', ip);
  for (const [map, list] of pending) if (list.length > 0) yield `add element ${T} ${map} { ${list.join(', ')} }\n`;
}

/** renderNftFullStatements as one text (tests, and the fakes' history checks). */
export function renderNftFull(table: string, state: ProxyState): string {
  return [...renderNftFullStatements(table, state)].join('');
}

/**
 * Only what changed: element deletes and adds for changed frontends, new groups' chains and sets
 * before the elements that use them, unused ones after. O(changed frontends): shared chains and
 * hairpin elements are decided from the states' reference counts, never by a scan; the
 * `services` chain is rewritten, O(groups), only when a group came or went. Returns '' when
 * nothing changed.
 */
export function renderNftDiff(table: string, applied: ProxyState, desired: ProxyState, diff: ProxyDiff): string {
  const T = tableRef(table);
  const dels: Element[] = [];
  const adds: Element[] = [];
  const touchedGroups = new Set<string>();
  const touchedIPs = new Set<string>();
  const touch = (f: Frontend): void => {
    for (const g of frontendGroups(f)) touchedGroups.add(g.key);
    for (const ep of f.endpoints) touchedIPs.add(ep.ip);
  };
  for (const f of diff.removed) {
    touch(f);
    dels.push(...frontendElements(f));
  }
  for (const f of diff.added) {
    touch(f);
    adds.push(...frontendElements(f));
  }
  for (const { before, after } of diff.changed) {
    touch(before);
    touch(after);
    const next = new Map(frontendElements(after).map((e) => [`${e.map} ${e.key}`, e]));
    const prev = new Map(frontendElements(before).map((e) => [`${e.map} ${e.key}`, e]));
    for (const [id, e] of prev) {
      const now = next.get(id);
      if (!now || now.value !== e.value) dels.push(e);
    }
    for (const [id, e] of next) {
      const old = prev.get(id);
      if (!old || old.value !== e.value) adds.push(e);
    }
  }
  const lines: string[] = [];
  const newGroups = [...touchedGroups].filter((k) => !applied.groups.has(k)).map((k) => desired.groups.get(k)!.group);
  const oldGroups = [...touchedGroups].filter((k) => !desired.groups.has(k)).map((k) => applied.groups.get(k)!.group);
  for (const g of newGroups) lines.push(...addGroupLines(T, groupChain(g)));
  for (const [map, items] of groupByMap(dels, false)) lines.push(...elementStatements(T, 'delete', map, items));
  if (newGroups.length + oldGroups.length > 0) lines.push(`flush chain ${T} services`, ...servicesRules(T, desired));
  if (diff.nodeAddressesChanged) {
    const next = new Set(desired.nodeAddresses);
    const prev = new Set(applied.nodeAddresses);
    lines.push(...elementStatements(T, 'delete', 'nodeport-ips', applied.nodeAddresses.filter((a) => !next.has(a))));
    lines.push(...elementStatements(T, 'add', 'nodeport-ips', desired.nodeAddresses.filter((a) => !prev.has(a))));
  }
  const ips = [...touchedIPs];
  lines.push(...elementStatements(T, 'delete', 'hairpin', ips.filter((ip) => applied.endpointIPs.has(ip) && !desired.endpointIPs.has(ip)).map((ip) => `${ip} . ${ip}`)));
  lines.push(...elementStatements(T, 'add', 'hairpin', ips.filter((ip) => !applied.endpointIPs.has(ip) && desired.endpointIPs.has(ip)).map((ip) => `${ip} . ${ip}`)));
  lines.push(...elementStatements(T, 'delete', 'remote-endpoints', ips.filter((ip) => applied.remoteIPs.has(ip) && !desired.remoteIPs.has(ip))));
  lines.push(...elementStatements(T, 'add', 'remote-endpoints', ips.filter((ip) => !applied.remoteIPs.has(ip) && desired.remoteIPs.has(ip))));
  for (const [map, items] of groupByMap(adds, true)) lines.push(...elementStatements(T, 'add', map, items));
  for (const g of oldGroups) lines.push(`delete set ${T} ${groupChain(g).set}`, `delete chain ${T} ${groupChain(g).name}`);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** Removes the table and nothing else; succeeds whether or not the table exists. */
export function renderNftCleanup(table: string): string {
  const T = tableRef(table);
  return `add table ${T}\ndelete table ${T}\n`;
}

/** What a state programs: rules (fixed ones plus two per group: its chain's and its `services` rule) and elements. */
export function nftCounts(state: ProxyState): { rules: number; elements: number } {
  let elements = state.nodeAddresses.length + state.endpointIPs.size + state.remoteIPs.size;
  for (const f of state.frontends.values()) elements += frontendElements(f).length;
  return { rules: SKELETON_RULES + 2 * state.groups.size, elements };
}
