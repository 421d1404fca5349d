// Service-rule sync speed, in a private network namespace: Shopfloor's nftables layout (per-service
// state only in map elements) against a kube-proxy-like layout generated here (a vmap into a chain
// per service that numgen-jumps into a chain per endpoint), and Shopfloor's iptables mode.
// Cold full syncs of 1,000 and 10,000 services × 3 endpoints; one-service add, endpoint change and
// delete at 10,000. Ends with one JSON line of the figures.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
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

const ENDPOINTS = 3;
const REPEATS = 5;

function vip(i: number): string {
  return `10.96.${i >> 8}.${i & 255}`;
}

function endpointIP(j: number): string {
  return `10.${128 + (j >> 16)}.${(j >> 8) & 255}.${j & 255}`;
}

function service(i: number, endpointBase = i * ENDPOINTS): Service {
  return {
    namespace: 'bench',
    name: `svc-${i}`,
    clusterIP: vip(i),
    loadBalancing: 'Random',
    ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints: Array.from({ length: ENDPOINTS }, (_, k) => ({ ip: endpointIP(endpointBase + k), port: 8080 })) }],
  };
}

function services(n: number): Service[] {
  return Array.from({ length: n }, (_, i) => service(i));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
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
async function ours(run: Runner, backend: ProxyBackend, n: number, changes: boolean): Promise<{ cold: number; add?: number; change?: number; del?: number }> {
  await backend.cleanup();
  const p = proxierFor(backend, run);
  const base = services(n);
  p.setState(buildProxyState(base, []).state);
  const cold = await timed(() => mustSync(p, true));
  if (!changes) {
    await p.stop();
    return { cold };
  }
  const adds: number[] = [];
  const edits: number[] = [];
  const dels: number[] = [];
  const reps = backend.mode === 'iptables' ? 1 : REPEATS;
  // The proxier is told which frontend changed, as the agent's service catalog tells it.
  const keyOf = (s: Service) => `${s.clusterIP}/TCP/80`;
  for (let r = 0; r < reps; r++) {
    const extra = service(n + r, 3 * 65536 - ENDPOINTS * (r + 1));
    p.setState(buildProxyState([...base, extra], []).state, [keyOf(extra)]);
    adds.push(await timed(() => mustSync(p, false)));
    const edited = [...base];
    edited[n >> 1] = service(n >> 1, 3 * 65536 - 100 - r * ENDPOINTS);
    p.setState(buildProxyState([...edited, extra], []).state, [keyOf(edited[n >> 1]!)]);
    edits.push(await timed(() => mustSync(p, false)));
    p.setState(buildProxyState(edited, []).state, [keyOf(extra)]);
    dels.push(await timed(() => mustSync(p, false)));
  }
  await p.stop();
  await backend.cleanup();
  return { cold, add: median(adds), change: median(edits), del: median(dels) };
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

async function measure(): Promise<void> {
  const run = spawnRunner();
  const ms = (s: number | undefined) => (s === undefined ? NaN : Math.round(s * 1e4) / 10);
  const sec = (s: number) => Math.round(s * 1000) / 1000;
  console.log(`proxy-sync: ${ENDPOINTS} endpoints per service, changes are medians of ${REPEATS} (iptables: one)`);

  const nft = new NftBackend(run, DEFAULT_PROXY_TABLE);
  const ours1k = await ours(run, nft, 1000, false);
  console.log(`shopfloor nftables   cold  1,000 services: ${sec(ours1k.cold)} s`);
  const ours10k = await ours(run, nft, 10_000, true);
  console.log(`shopfloor nftables   cold 10,000 services: ${sec(ours10k.cold)} s; at 10,000: add ${ms(ours10k.add)} ms, endpoint change ${ms(ours10k.change)} ms, delete ${ms(ours10k.del)} ms`);

  const kp1k = await kubeProxyLike(run, 1000, false);
  console.log(`kube-proxy-like nft  cold  1,000 services: ${sec(kp1k.cold)} s`);
  const kp10k = await kubeProxyLike(run, 10_000, true);
  console.log(`kube-proxy-like nft  cold 10,000 services: ${sec(kp10k.cold)} s; at 10,000: add ${ms(kp10k.add)} ms, endpoint change ${ms(kp10k.change)} ms, delete ${ms(kp10k.del)} ms`);

  const ipt = new IptablesBackend(run, DEFAULT_PROXY_TABLE);
  const ipt10k = await ours(run, ipt, 10_000, true);
  const version = (await runChecked(run, 'iptables', ['--version'])).stdout.trim();
  console.log(`shopfloor iptables   cold 10,000 services: ${sec(ipt10k.cold)} s; at 10,000: add ${ms(ipt10k.add)} ms, endpoint change ${ms(ipt10k.change)} ms, delete ${ms(ipt10k.del)} ms (${version})`);

  const change = Math.max(ours10k.add!, ours10k.change!, ours10k.del!);
  const speedup = kp10k.cold / ours10k.cold;
  console.log(`cold 10k speedup over the kube-proxy-like layout: ${speedup.toFixed(1)}x (goal ≥ 10x); cold 10k ${sec(ours10k.cold)} s (goal ≤ 2 s); slowest one-service change ${ms(change)} ms (goal ≤ 20 ms)`);
  console.log(
    JSON.stringify({
      cold1k_s: sec(ours1k.cold),
      cold10k_s: sec(ours10k.cold),
      change10k_ms: ms(change),
      add10k_ms: ms(ours10k.add),
      endpoint_change10k_ms: ms(ours10k.change),
      delete10k_ms: ms(ours10k.del),
      kubeproxy_cold1k_s: sec(kp1k.cold),
      kubeproxy_cold10k_s: sec(kp10k.cold),
      kubeproxy_add10k_ms: ms(kp10k.add),
      kubeproxy_endpoint_change10k_ms: ms(kp10k.change),
      kubeproxy_delete10k_ms: ms(kp10k.del),
      cold_speedup: Math.round(speedup * 10) / 10,
      iptables_cold10k_s: sec(ipt10k.cold),
      iptables_change10k_ms: ms(Math.max(ipt10k.add!, ipt10k.change!, ipt10k.del!)),
    }),
  );
}

// The benchmark re-runs itself inside a network namespace of its own, so that its rules never
// touch the host and nft is spawned directly, as the agent spawns it.
const IN_NETNS = '--in-netns';
if (process.argv.includes(IN_NETNS)) {
  await measure();
} else {
  const ip = spawnRunner();
  const netns = `sfbench-${randomBytes(3).toString('hex')}`;
  await runChecked(ip, 'ip', ['netns', 'add', netns]);
  try {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', fileURLToPath(import.meta.url), IN_NETNS], { stdio: 'inherit' });
    const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
    process.exitCode = code;
  } finally {
    await ip('ip', ['netns', 'del', netns]);
  }
}
