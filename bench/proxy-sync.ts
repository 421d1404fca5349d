// Service-rule sync speed, in a private network namespace: Shopfloor's nftables layout (per-service
// state only in map elements) against a kube-proxy-like layout generated here (a vmap into a chain
// per service that numgen-jumps into a chain per endpoint), and Shopfloor's iptables mode, fed
// in-process; then, through one kube-apiserver holding the same services both ways
// (kube-proxy-run.ts), the real kube-proxy (Services and EndpointSlices) and the agent's service
// proxy (NodeWorkloads and NodeAssignments), nftables and iptables modes, each run a process of
// its own in a fresh namespace. Cold full syncs of 1,000 and N services (default 10,000) × 3
// endpoints; one-service add, endpoint change and delete at N. Cold and add end once a connection
// to the VIP is forwarded (proxy-netns.ts). Ends with one JSON line of the figures.
//
//   SHOPFLOOR_TOOLS_BIN=$(bash scripts/build-tools.sh --bin-dir) npm run bench -- proxy-sync [--services 10000]
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
import { buildProxyState } from '../agent/proxy/service-catalog.js';
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

function services(n: number): Service[] {
  return Array.from({ length: n }, (_, i) => modelService(i));
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

/** Shopfloor's layout, through the real proxier: cold full sync, then incremental changes. */
async function ours(run: Runner, backend: ProxyBackend, n: number, changes: boolean): Promise<{ cold: number; rssMb: number; add?: number; change?: number; del?: number }> {
  await backend.cleanup();
  const p = proxierFor(backend, run);
  const base = services(n);
  p.setState(buildProxyState(base, []).state);
  // Synced, then forwarded: the check kube-proxy's run ends on too (kube-proxy-run.ts).
  const cold = await timed(async () => {
    await mustSync(p, true);
    await untilForwarded(vip(n - 1));
  });
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  if (!changes) {
    await p.stop();
    return { cold, rssMb };
  }
  const adds: number[] = [];
  const edits: number[] = [];
  const dels: number[] = [];
  const reps = backend.mode === 'iptables' ? 1 : REPEATS;
  // The proxier is told which frontend changed, as the agent's service catalog tells it.
  const keyOf = (s: Service) => `${s.clusterIP}/TCP/80`;
  for (let r = 0; r < reps; r++) {
    const extra = modelService(n + r, 3 * 65536 - ENDPOINTS * (r + 1));
    p.setState(buildProxyState([...base, extra], []).state, [keyOf(extra)]);
    adds.push(
      await timed(async () => {
        await mustSync(p, false);
        await untilForwarded(extra.clusterIP);
      }),
    );
    const edited = [...base];
    edited[n >> 1] = modelService(n >> 1, 3 * 65536 - 100 - r * ENDPOINTS);
    p.setState(buildProxyState([...edited, extra], []).state, [keyOf(edited[n >> 1]!)]);
    edits.push(await timed(() => mustSync(p, false)));
    p.setState(buildProxyState(edited, []).state, [keyOf(extra)]);
    dels.push(await timed(() => mustSync(p, false)));
  }
  await p.stop();
  await backend.cleanup();
  return { cold, rssMb, add: median(adds), change: median(edits), del: median(dels) };
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

/** Shopfloor's proxy and the kube-proxy-like layout, in this process's own network namespace; returns the JSON figures. */
async function measure(n: number): Promise<Figures> {
  const run = spawnRunner();
  const at = n.toLocaleString('en');
  console.log(`proxy-sync: ${ENDPOINTS} endpoints per service, changes are medians of ${REPEATS} (iptables: one); cold and add end on a connection to the VIP forwarded`);

  const nft = new NftBackend(run, DEFAULT_PROXY_TABLE);
  const ours1k = await ours(run, nft, 1000, false);
  console.log(`shopfloor nftables   cold  1,000 services: ${sec(ours1k.cold)} s`);
  const oursN = await ours(run, nft, n, true);
  console.log(`shopfloor nftables   cold ${at} services: ${sec(oursN.cold)} s; at ${at}: add ${ms(oursN.add)} ms, endpoint change ${ms(oursN.change)} ms, delete ${ms(oursN.del)} ms; bench process RSS ${mb(oursN.rssMb)} MB`);

  const kp1k = await kubeProxyLike(run, 1000, false);
  console.log(`kube-proxy-like nft  cold  1,000 services: ${sec(kp1k.cold)} s`);
  const kpN = await kubeProxyLike(run, n, true);
  console.log(`kube-proxy-like nft  cold ${at} services: ${sec(kpN.cold)} s; at ${at}: add ${ms(kpN.add)} ms, endpoint change ${ms(kpN.change)} ms, delete ${ms(kpN.del)} ms`);

  const ipt = new IptablesBackend(run, DEFAULT_PROXY_TABLE);
  const iptN = await ours(run, ipt, n, true);
  const version = (await runChecked(run, 'iptables', ['--version'])).stdout.trim();
  console.log(`shopfloor iptables   cold ${at} services: ${sec(iptN.cold)} s; at ${at}: add ${ms(iptN.add)} ms, endpoint change ${ms(iptN.change)} ms, delete ${ms(iptN.del)} ms (${version})`);

  const change = Math.max(oursN.add!, oursN.change!, oursN.del!);
  const speedup = kpN.cold / oursN.cold;
  console.log(`cold ${at} speedup over the kube-proxy-like layout: ${speedup.toFixed(1)}x (goal ≥ 10x); cold ${at} ${sec(oursN.cold)} s (goal ≤ 2 s at 10,000); slowest one-service change ${ms(change)} ms (goal ≤ 20 ms)`);
  return {
    services: n,
    cold1k_s: sec(ours1k.cold),
    cold10k_s: sec(oursN.cold),
    change10k_ms: ms(change),
    add10k_ms: ms(oursN.add),
    endpoint_change10k_ms: ms(oursN.change),
    delete10k_ms: ms(oursN.del),
    rss_mb: mb(oursN.rssMb),
    kubeproxy_cold1k_s: sec(kp1k.cold),
    kubeproxy_cold10k_s: sec(kpN.cold),
    kubeproxy_add10k_ms: ms(kpN.add),
    kubeproxy_endpoint_change10k_ms: ms(kpN.change),
    kubeproxy_delete10k_ms: ms(kpN.del),
    cold_speedup: Math.round(speedup * 10) / 10,
    iptables_cold10k_s: sec(iptN.cold),
    iptables_add10k_ms: ms(iptN.add),
    iptables_change10k_ms: ms(Math.max(iptN.add!, iptN.change!, iptN.del!)),
  };
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
const MAX_SERVICES = 40_000;

function readServices(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { services: { type: 'string', default: '10000' }, 'in-netns': { type: 'boolean', default: false } } });
  const n = Number(values.services);
  if (!Number.isInteger(n) || n < 10 || n > MAX_SERVICES) throw new Error(`--services "${values.services}" must be a whole number from 10 to ${MAX_SERVICES}`);
  return n;
}

// Shopfloor's side re-runs this file inside a network namespace of its own, so that its rules
// never touch the host and nft is spawned directly, as the agent spawns it; it prints its
// figures as a JSON line last, which this process takes up.
const n = readServices(process.argv.slice(2));
if (process.argv.includes(IN_NETNS)) {
  await routeProbeRanges(spawnRunner());
  const endpoints = await listenAsEndpoints();
  try {
    console.log(JSON.stringify(await measure(n)));
  } finally {
    endpoints.close();
  }
} else {
  const ip = spawnRunner();
  const netns = `sfbench-${randomBytes(3).toString('hex')}`;
  await runChecked(ip, 'ip', ['netns', 'add', netns]);
  let last = '';
  try {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), IN_NETNS, '--services', String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: child.stdout }).on('line', (l) => {
      if (l.startsWith('{')) last = l;
      else console.log(l);
    });
    process.exitCode = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  } finally {
    await ip('ip', ['netns', 'del', netns]);
  }
  if (process.exitCode === 0) {
    const ours = JSON.parse(last) as Figures;
    console.log(JSON.stringify({ ...ours, ...(await throughTheApi(n)) }));
  }
}
