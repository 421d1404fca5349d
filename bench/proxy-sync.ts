// Service-rule sync speed, in private network namespaces. First Shopfloor's nftables proxier,
// fed in-process as the agent feeds it, at each of --sizes services × 3 endpoints (default
// 1,000, 10,000, 40,000 and 100,000; a process per size, so that its RSS is that size's): cold
// full sync, one-service add, endpoint change and delete, and how they grow (`change_growth`,
// `cold_growth`). Then, at --services N (default 10,000), the kube-proxy-like layout generated
// here (a vmap into a chain per service that numgen-jumps into a chain per endpoint) and
// Shopfloor's iptables mode; then, through one kube-apiserver holding the same services both
// ways (kube-proxy-run.ts), the real kube-proxy (Services and EndpointSlices) and the agent's
// service proxy (NodeWorkloads and NodeAssignments), nftables and iptables modes, each run a
// process of its own in a fresh namespace (--no-api leaves this part out). Cold and add end once
// a connection to the VIP is forwarded (proxy-netns.ts). Ends with one JSON line of the figures.
//
//   SHOPFLOOR_TOOLS_BIN=$(bash scripts/build-tools.sh --bin-dir) npm run bench -- proxy-sync [--sizes 1000,10000,40000,100000] [--services 10000] [--no-api]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import type { ProxyBackend } from '../agent/proxy/backend.js';
import { runChecked, spawnRunner, type Runner } from '../agent/exec.js';
import { IptablesBackend } from '../agent/proxy/iptables-backend.js';
import { proxyMetrics } from '../agent/proxy/metrics.js';
import type { Service } from '../agent/proxy/model.js';
import { ServiceCatalog } from '../agent/proxy/service-catalog.js';
import { NftBackend } from '../agent/proxy/nft-backend.js';
import { DEFAULT_PROXY_TABLE } from '../agent/proxy/proxy-names.js';
import { Proxier } from '../agent/proxy/proxier.js';
import { systemClock } from '../kube/clock.js';
import { silentLogger } from '../kube/logger.js';
import { runKubeProxy, runShopfloorProxy, startProxyApi, type ProxyRunFigures } from './kube-proxy-run.js';
import { median } from './median.js';
import { listenAsEndpoints, routeProbeRanges, untilForwarded } from './proxy-netns.js';
import { ENDPOINTS, endpointIP, modelService, vip } from './service-objects.js';

const REPEATS = 5;
/** Shopfloor's nftables changes take a few ms each: more of them make a steadier median. */
const NFT_REPEATS = 15;

/** A service's catalog id as the agent makes it (kube/types.ts objectKey: one flat string). */
function serviceId(svc: Service): string {
  return [svc.namespace, svc.name].join('/');
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

function proxierFor(backend: ProxyBackend, run: Runner): Proxier {
  return new Proxier({
    backend, run, logger: silentLogger(), metrics: proxyMetrics(new Registry(), backend.mode), clock: systemClock,
    minSyncPeriodMs: 1000, fullResyncPeriodMs: 3_600_000,
  });
}

async function mustSync(p: Proxier, full: boolean): Promise<void> {
  if (!(await p.sync(full))) throw new Error(`a ${full ? 'full' : 'partial'} sync failed; run with the agent's logger to see nft's stderr`);
}

/** One size's figures of Shopfloor's proxier: seconds, and the process's memory in MB. */
interface OursFigures {
  cold: number;
  rssMb: number;
  maxRssMb: number;
  add?: number;
  change?: number;
  del?: number;
}

/**
 * Shopfloor's layout, through the real proxier fed as the agent feeds it: a service catalog
 * changed one service at a time, handed over with the keys each change touched. Cold full sync,
 * then incremental changes.
 */
async function ours(run: Runner, backend: ProxyBackend, n: number, changes: boolean): Promise<OursFigures> {
  await backend.cleanup();
  const p = proxierFor(backend, run);
  const catalog = new ServiceCatalog();
  // One service at a time, as the agent hands them over: the agent never holds every Service
  // at once (it builds one per change, model-from-api.ts), so neither does this process, whose
  // RSS is the figure (a list of them all was 59 MB of it at 100,000).
  for (let i = 0; i < n; i++) {
    const svc = modelService(i);
    catalog.setService(serviceId(svc), svc);
  }
  p.setState(catalog.state);
  const set = (svc: Service, present = true) => p.setState(catalog.state, catalog.setService(serviceId(svc), present ? svc : undefined).changed);
  // Synced, then forwarded: the check kube-proxy's run ends on too (kube-proxy-run.ts).
  const cold = await timed(async () => {
    await mustSync(p, true);
    await untilForwarded(vip(n - 1));
  });
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  const maxRssMb = () => process.resourceUsage().maxRSS / 1024;
  if (!changes) {
    await p.stop();
    return { cold, rssMb, maxRssMb: maxRssMb() };
  }
  const adds: number[] = [];
  const edits: number[] = [];
  const dels: number[] = [];
  const reps = backend.mode === 'iptables' ? REPEATS : NFT_REPEATS;
  // Endpoint addresses past every service's, so that each change brings new ones.
  const fresh = (r: number) => (n + NFT_REPEATS + r) * ENDPOINTS;
  for (let r = 0; r < reps; r++) {
    const extra = modelService(n + r);
    set(extra);
    adds.push(
      await timed(async () => {
        await mustSync(p, false);
        await untilForwarded(extra.clusterIP);
      }),
    );
    set(modelService(n >> 1, fresh(r)));
    edits.push(await timed(() => mustSync(p, false)));
    set(extra, false);
    dels.push(await timed(() => mustSync(p, false)));
  }
  await p.stop();
  await backend.cleanup();
  return { cold, rssMb, maxRssMb: maxRssMb(), add: median(adds), change: median(edits), del: median(dels) };
}

// The kube-proxy-like layout, written here only for comparison.
const KP = 'ip kube-proxy-like';

function kpEndpointLines(id: string, ip: string): string[] {
  return [
    `add chain ${KP} endpoint-${id}-${ip}`,
    `add rule ${KP} endpoint-${id}-${ip} ip saddr ${ip} jump mark-for-masquerade`,
    `add rule ${KP} endpoint-${id}-${ip} meta l4proto tcp dnat to ${ip}:8080`,
  ];
}

function kpServiceLines(i: number, endpointBase: number, withElement: boolean): string[] {
  const id = `svc-${i}`;
  const eps = Array.from({ length: ENDPOINTS }, (_, k) => endpointIP(endpointBase + k));
  const lines = [`add chain ${KP} service-${id}`];
  for (const ip of eps) lines.push(...kpEndpointLines(id, ip));
  lines.push(`add rule ${KP} service-${id} ip daddr ${vip(i)} tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`);
  lines.push(`add rule ${KP} service-${id} numgen random mod ${ENDPOINTS} vmap { ${eps.map((ip, k) => `${k} : goto endpoint-${id}-${ip}`).join(', ')} }`);
  if (withElement) lines.push(`add element ${KP} service-ips { ${vip(i)} . tcp . 80 : goto service-${id} }`);
  return lines;
}

function kpFull(n: number): string {
  const lines = [
    `add table ${KP}`,
    `delete table ${KP}`,
    `add table ${KP}`,
    `add map ${KP} service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }`,
    `add chain ${KP} mark-for-masquerade`,
    `add rule ${KP} mark-for-masquerade meta mark set meta mark | 0x4000`,
    `add chain ${KP} services`,
    `add rule ${KP} services ip daddr . meta l4proto . th dport vmap @service-ips`,
    `add chain ${KP} nat-prerouting { type nat hook prerouting priority -100; policy accept; }`,
    `add rule ${KP} nat-prerouting jump services`,
  ];
  const elements: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(...kpServiceLines(i, i * ENDPOINTS, false));
    elements.push(`${vip(i)} . tcp . 80 : goto service-svc-${i}`);
  }
  for (let i = 0; i < elements.length; i += 1000) lines.push(`add element ${KP} service-ips { ${elements.slice(i, i + 1000).join(', ')} }`);
  return lines.join('\n') + '\n';
}

function kpDeleteService(i: number, eps: string[]): string {
  const id = `svc-${i}`;
  return [
    `delete element ${KP} service-ips { ${vip(i)} . tcp . 80 }`,
    `flush chain ${KP} service-${id}`,
    `delete chain ${KP} service-${id}`,
    ...eps.flatMap((ip) => [`flush chain ${KP} endpoint-${id}-${ip}`, `delete chain ${KP} endpoint-${id}-${ip}`]),
  ].join('\n') + '\n';
}

async function kubeProxyLike(run: Runner, n: number, changes: boolean): Promise<{ cold: number; add?: number; change?: number; del?: number }> {
  const nft = (text: string) => runChecked(run, 'nft', ['-f', '-'], text);
  const full = kpFull(n);
  const cold = await timed(() => nft(full));
  if (!changes) {
    await nft(`delete table ${KP}\n`);
    return { cold };
  }
  const adds: number[] = [];
  const edits: number[] = [];
  const dels: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const i = n + r;
    const base = 3 * 65536 - ENDPOINTS * (r + 1);
    adds.push(await timed(() => nft(kpServiceLines(i, base, true).join('\n') + '\n')));
    // Endpoint change, as kube-proxy does it: rewrite the service chain, add the new endpoint's
    // chain, drop the old one.
    const id = `svc-${i}`;
    const oldIP = endpointIP(base);
    const newIP = endpointIP(base - 100);
    const eps = [newIP, endpointIP(base + 1), endpointIP(base + 2)];
    const edit = [
      ...kpEndpointLines(id, newIP),
      `flush chain ${KP} service-${id}`,
      `add rule ${KP} service-${id} ip daddr ${vip(i)} tcp dport 80 ip saddr != 10.0.0.0/8 jump mark-for-masquerade`,
      `add rule ${KP} service-${id} numgen random mod ${ENDPOINTS} vmap { ${eps.map((ip, k) => `${k} : goto endpoint-${id}-${ip}`).join(', ')} }`,
      `flush chain ${KP} endpoint-${id}-${oldIP}`,
      `delete chain ${KP} endpoint-${id}-${oldIP}`,
    ].join('\n') + '\n';
    edits.push(await timed(() => nft(edit)));
    dels.push(await timed(() => nft(kpDeleteService(i, eps))));
  }
  await nft(`delete table ${KP}\n`);
  return { cold, add: median(adds), change: median(edits), del: median(dels) };
}

type Figures = Record<string, number>;

const ms = (s: number | undefined) => (s === undefined ? NaN : Math.round(s * 1e4) / 10);
const sec = (s: number) => Math.round(s * 1000) / 1000;
const mb = (m: number) => Math.round(m * 10) / 10;

/** Shopfloor's nftables proxier at one size, in this process's own network namespace (a process per size, so that its RSS is that size's alone). */
async function sweep(n: number): Promise<Figures> {
  const run = spawnRunner();
  const at = n.toLocaleString('en');
  const o = await ours(run, new NftBackend(run, DEFAULT_PROXY_TABLE), n, true);
  const slowest = Math.max(o.add!, o.change!, o.del!);
  console.log(`shopfloor nftables   ${at.padStart(7)} services: cold ${sec(o.cold)} s; add ${ms(o.add)} ms, endpoint change ${ms(o.change)} ms, delete ${ms(o.del)} ms; RSS ${mb(o.rssMb)} MB after the cold sync, ${mb(o.maxRssMb)} MB at most`);
  return { cold_s: sec(o.cold), change_ms: ms(slowest), add_ms: ms(o.add), endpoint_change_ms: ms(o.change), delete_ms: ms(o.del), rss_mb: mb(o.rssMb), max_rss_mb: mb(o.maxRssMb) };
}

/** The kube-proxy-like layout and Shopfloor's iptables mode at n, in this process's own network namespace. */
async function compare(n: number): Promise<Figures> {
  const run = spawnRunner();
  const at = n.toLocaleString('en');
  const kp1k = await kubeProxyLike(run, 1000, false);
  console.log(`kube-proxy-like nft  cold  1,000 services: ${sec(kp1k.cold)} s`);
  const kpN = await kubeProxyLike(run, n, true);
  console.log(`kube-proxy-like nft  cold ${at} services: ${sec(kpN.cold)} s; at ${at}: add ${ms(kpN.add)} ms, endpoint change ${ms(kpN.change)} ms, delete ${ms(kpN.del)} ms`);
  const iptN = await ours(run, new IptablesBackend(run, DEFAULT_PROXY_TABLE), n, true);
  const version = (await runChecked(run, 'iptables', ['--version'])).stdout.trim();
  console.log(`shopfloor iptables   cold ${at} services: ${sec(iptN.cold)} s; at ${at}: add ${ms(iptN.add)} ms, endpoint change ${ms(iptN.change)} ms, delete ${ms(iptN.del)} ms (${version})`);
  return {
    kubeproxy_cold1k_s: sec(kp1k.cold),
    kubeproxy_cold_s: sec(kpN.cold),
    kubeproxy_add_ms: ms(kpN.add),
    kubeproxy_endpoint_change_ms: ms(kpN.change),
    kubeproxy_delete_ms: ms(kpN.del),
    iptables_cold_s: sec(iptN.cold),
    iptables_add_ms: ms(iptN.add),
    iptables_endpoint_change_ms: ms(iptN.change),
    iptables_delete_ms: ms(iptN.del),
    iptables_change_ms: ms(Math.max(iptN.add!, iptN.change!, iptN.del!)),
  };
}

/**
 * How the sweep's figures grow: `change_growth`, the slowest one-service change at the largest
 * size ÷ at the smallest; `cold_growth`, the cold sync's largest growth between two neighbouring
 * sizes, scaled to 4× the services (4 is linear).
 */
function growth(bySize: ReadonlyMap<number, Figures>): Figures {
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const at = (n: number) => bySize.get(n)!;
  let cold = 0;
  for (let i = 1; i < sizes.length; i++) {
    const [a, b] = [sizes[i - 1]!, sizes[i]!];
    cold = Math.max(cold, (at(b).cold_s! / at(a).cold_s!) ** (Math.log(4) / Math.log(b / a)));
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  return { change_growth: round(at(sizes.at(-1)!).change_ms! / at(sizes[0]!).change_ms!), cold_growth: round(cold) };
}

/** One proxy run's figures, named `<prefix>_cold_s`, `<prefix>_change_ms`, `<prefix>_rss_mb`. */
function runFigures(prefix: string, f: ProxyRunFigures): Figures {
  return { [`${prefix}_cold_s`]: sec(f.coldS), [`${prefix}_change_ms`]: ms(f.changeMs / 1000), [`${prefix}_rss_mb`]: mb(f.rssMb) };
}

/**
 * Both proxies through the API server, each mode in a namespace of its own: kube-proxy and the
 * agent's service proxy, from process start (every object already in the API) to forwarding.
 */
async function throughTheApi(n: number): Promise<Figures> {
  const at = n.toLocaleString('en');
  const api = await startProxyApi(n);
  const runs: ProxyRunFigures[] = [];
  try {
    console.log(`\nthrough kube-apiserver: ${at} Services and EndpointSlices created in ${api.kubeCreateSeconds.toFixed(1)} s, ${at} NodeWorkloads with ${(n * ENDPOINTS).toLocaleString('en')} NodeAssignments (and status) in ${api.shopfloorCreateSeconds.toFixed(1)} s; each proxy starts after, so its cold time leaves creation out`);
    for (const mode of ['nftables', 'iptables'] as const) {
      const changes = mode === 'nftables' ? REPEATS : IPTABLES_CHANGES;
      runs.push(await runKubeProxy(api, mode, n, changes), await runShopfloorProxy(api, mode, n, changes));
    }
  } finally {
    await api.stop();
  }
  for (const f of runs) {
    console.log(`${f.proxy.padEnd(10)} ${f.mode.padEnd(9)} cold ${at} services: ${sec(f.coldS)} s (start → forwarded); one-service add (create → forwarded) ${ms(f.changeMs / 1000)} ms; proxy process RSS ${mb(f.rssMb)} MB; ${f.errors.length} error lines`);
    for (const e of f.errors) console.log(`  ${f.proxy} ${f.mode}: ${e}`);
  }
  const [kpNft, sfNft, kpIpt, sfIpt] = runs as [ProxyRunFigures, ProxyRunFigures, ProxyRunFigures, ProxyRunFigures];
  const ratio = (x: number) => Math.round(x * 10) / 10;
  const vsCold = kpNft.coldS / sfNft.coldS;
  const vsChange = kpNft.changeMs / sfNft.changeMs;
  console.log(`kube-proxy ÷ shopfloor (nftables): cold ${vsCold.toFixed(1)}x, one-service add ${vsChange.toFixed(1)}x; RSS kube-proxy ${mb(kpNft.rssMb)} MB, shopfloor ${mb(sfNft.rssMb)} MB`);
  console.log(`kube-proxy ÷ shopfloor (iptables): cold ${(kpIpt.coldS / sfIpt.coldS).toFixed(1)}x, one-service add ${(kpIpt.changeMs / sfIpt.changeMs).toFixed(1)}x; RSS kube-proxy ${mb(kpIpt.rssMb)} MB, shopfloor ${mb(sfIpt.rssMb)} MB`);
  return {
    api_kube_create_s: sec(api.kubeCreateSeconds),
    api_shopfloor_create_s: sec(api.shopfloorCreateSeconds),
    ...runFigures('kube_proxy_nft', kpNft),
    ...runFigures('kube_proxy_ipt', kpIpt),
    ...runFigures('api_nft', sfNft),
    ...runFigures('api_ipt', sfIpt),
    vs_kube_proxy_cold: ratio(vsCold),
    vs_kube_proxy_change: ratio(vsChange),
    vs_kube_proxy_ipt_cold: ratio(kpIpt.coldS / sfIpt.coldS),
    vs_kube_proxy_ipt_change: ratio(kpIpt.changeMs / sfIpt.changeMs),
    proxy_errors: runs.reduce((sum, f) => sum + f.errors.length, 0),
  };
}

const IPTABLES_CHANGES = 3;
const IN_NETNS = '--in-netns';
/** Through the API, and the kube-proxy-like layout, whose changes take endpoint addresses from 3 × 65,536 down. */
const MAX_SERVICES = 40_000;
/** vip() and endpointIP() run out past this many. */
const MAX_SWEEP = 1_000_000;
const DEFAULT_SIZES = '1000,10000,40000,100000';

interface Args {
  /** The comparisons' size: the kube-proxy-like layout, iptables mode, and both proxies through the API. */
  services: number;
  /** Shopfloor's nftables proxier at each of these. */
  sizes: number[];
  api: boolean;
  /** Inside the namespace: which part this process measures. */
  part?: 'sweep' | 'compare';
}

function wholeNumber(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 10 || n > max) throw new Error(`${flag} "${value}" must be a whole number from 10 to ${max.toLocaleString('en')}`);
  return n;
}

function readArgs(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      services: { type: 'string', default: '10000' },
      sizes: { type: 'string', default: DEFAULT_SIZES },
      'no-api': { type: 'boolean', default: false },
      'in-netns': { type: 'string' },
    },
  });
  const part = values['in-netns'];
  if (part !== undefined && part !== 'sweep' && part !== 'compare') throw new Error(`${IN_NETNS} "${part}" must be sweep or compare`);
  // A sweep process measures one size: any of --sizes.
  const services = wholeNumber('--services', values.services, part === 'sweep' ? MAX_SWEEP : MAX_SERVICES);
  // The comparisons' size is always swept too: the cold speedup is taken there.
  const sizes = [...new Set([...values.sizes.split(',').map((s) => wholeNumber('--sizes', s.trim(), MAX_SWEEP)), services])].sort((a, b) => a - b);
  return { services, sizes, api: !values['no-api'], part };
}

/** Runs this file with `args` in a fresh network namespace; resolves with the JSON line it prints last, passing on the rest. */
async function inFreshNetns(args: string[]): Promise<Figures> {
  const ip = spawnRunner();
  const netns = `sfbench-${randomBytes(3).toString('hex')}`;
  await runChecked(ip, 'ip', ['netns', 'add', netns]);
  let last = '';
  try {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l.startsWith('{')) last = l;
      else console.log(l);
    });
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    if (code !== 0) throw new Error(`proxy-sync ${args.join(' ')} exited with ${code}; its output above says why`);
  } finally {
    await ip('ip', ['netns', 'del', netns]);
  }
  return JSON.parse(last) as Figures;
}

// Shopfloor's side re-runs this file inside network namespaces of its own, so that its rules
// never touch the host and nft is spawned directly, as the agent spawns it: one process per
// sweep size, then one for the comparisons. Each prints its figures as a JSON line last, which
// this process takes up.
const args = readArgs(process.argv.slice(2));
if (args.part) {
  await routeProbeRanges(spawnRunner());
  const endpoints = await listenAsEndpoints();
  try {
    console.log(JSON.stringify(args.part === 'sweep' ? await sweep(args.services) : await compare(args.services)));
  } finally {
    endpoints.close();
  }
} else {
  const n = args.services;
  const at = n.toLocaleString('en');
  console.log(`proxy-sync: ${ENDPOINTS} endpoints per service, Shopfloor's nftables changes are medians of ${NFT_REPEATS}, the kube-proxy-like layout's and Shopfloor's iptables mode's of ${REPEATS}; cold and add end on a connection to the VIP forwarded`);
  const bySize = new Map<number, Figures>();
  for (const size of args.sizes) bySize.set(size, await inFreshNetns([IN_NETNS, 'sweep', '--services', String(size)]));
  const perSize: Figures = {};
  for (const [size, f] of bySize) for (const [k, v] of Object.entries(f)) perSize[k.replace(/_(s|ms|mb)$/, `_${size}_$1`)] = v;
  const grew = growth(bySize);
  const cmp = await inFreshNetns([IN_NETNS, 'compare', '--services', String(n)]);
  const speedup = cmp.kubeproxy_cold_s! / bySize.get(n)!.cold_s!;
  console.log(`change_growth ${grew.change_growth} (slowest one-service change at ${args.sizes.at(-1)!.toLocaleString('en')} ÷ at ${args.sizes[0]!.toLocaleString('en')}; goal ≤ 1.5), cold_growth ${grew.cold_growth} per 4× services (4 is linear)`);
  console.log(`cold ${at} speedup over the kube-proxy-like layout: ${speedup.toFixed(1)}x (goal ≥ 10x); iptables one-service change at ${at}: ${cmp.iptables_change_ms} ms`);
  const ours: Figures = { services: n, ...perSize, ...grew, ...cmp, cold_speedup: Math.round(speedup * 10) / 10 };
  console.log(JSON.stringify(args.api ? { ...ours, ...(await throughTheApi(n)) } : ours));
}
