// The real kube-proxy on the proxy benchmark's services: one kube-apiserver (with etcd and the
// controller manager, as `shopfloor up --api-server kube-apiserver` runs them) on the host's
// loopback holds N Services and their EndpointSlices; then kube-proxy runs once per mode, each
// time in a fresh network namespace of its own, reaching the API through a Unix-socket relay.
// Cold: kube-proxy started (every object already in the API) → a connection to the last VIP is
// forwarded. Change: one Service and its EndpointSlice created → a connection to its VIP is
// forwarded. The probe is the one the benchmark uses on Shopfloor's proxy (proxy-netns.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { runChecked, spawnRunner } from '../agent/exec.js';
import { startKubeControlPlane, type KubeControlPlane } from '../cli/kube-control-plane.js';
import { toolBinary } from '../cli/tools-bin.js';
import { freePort } from '../devcluster/storage/etcd-process.js';
import { KubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { silentLogger } from '../kube/logger.js';
import { NAMESPACES, type ResourceType } from '../kube/resource.js';
import { pool } from './pool.js';
import { relayToLoopback } from './proxy-netns.js';
import { ENDPOINTS, NAMESPACE, VIP_RANGE, kubeEndpointSlice, kubeProxyConfig, kubeService, vip } from './service-objects.js';

const SERVICES: ResourceType = { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true };
const ENDPOINT_SLICES: ResourceType = { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true };
const NODES: ResourceType = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false };
const NEEDED_FOR = 'the proxy-sync benchmark\'s kube-proxy comparison';
const NODE_NAME = 'sfbench-node';
const CREATE_CONCURRENCY = 32;
/** kube-proxy's default minSyncPeriod is 1 s: a change waits this long after the last sync, so it is synced at once. */
const SETTLE_MS = 2000;
const STOP_TIMEOUT_MS = 10_000;
const FORWARD_TIMEOUT_MS = 600_000;

export interface KubeProxyFigures {
  mode: 'nftables' | 'iptables';
  coldS: number;
  /** Median of the one-service changes, ms. */
  changeMs: number;
  rssMb: number;
  /** kube-proxy's error and fatal log lines. */
  errors: string[];
}

export interface KubeProxyApi {
  controlPlane: KubeControlPlane;
  client: KubeClient;
  port: number;
  createSeconds: number;
  stop(): Promise<void>;
}

async function createService(client: KubeClient, i: number, endpointBase?: number): Promise<void> {
  await Promise.all([client.create(SERVICES, kubeService(i)), client.create(ENDPOINT_SLICES, kubeEndpointSlice(i, endpointBase))]);
}

async function deleteService(client: KubeClient, i: number): Promise<void> {
  await Promise.all([client.delete(SERVICES, `svc-${i}`, { namespace: NAMESPACE }), client.delete(ENDPOINT_SLICES, `svc-${i}-0`, { namespace: NAMESPACE })]);
}

/** Starts the control plane and fills it with services 0..n-1 (and the Node kube-proxy runs as). */
export async function startKubeProxyApi(n: number): Promise<KubeProxyApi> {
  const dir = mkdtempSync(join(tmpdir(), 'shopfloor-bench-kube-proxy-api-'));
  let controlPlane: KubeControlPlane | undefined;
  let client: KubeClient | undefined;
  const stop = async () => {
    client?.close();
    await controlPlane?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const binaries = { kubeApiserver: toolBinary('kube-apiserver', NEEDED_FOR), kubeControllerManager: toolBinary('kube-controller-manager', NEEDED_FOR) };
    const port = await freePort();
    controlPlane = await startKubeControlPlane({ dir, port, binaries, logger: silentLogger(), serviceClusterIPRange: VIP_RANGE });
    client = new KubeClient(loadKubeConfig({ kubeconfig: controlPlane.kubeconfigPath }).kubeConfig, { userAgent: 'shopfloor-bench' });
    const c = client;
    await c.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
    // Node status is kept on create, as a kubelet registers it: kube-proxy takes its node IP from it.
    await c.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE_NAME }, status: { addresses: [{ type: 'InternalIP', address: '10.255.0.1' }] } } as never);
    const t = performance.now();
    await pool(n, CREATE_CONCURRENCY, (i) => createService(c, i));
    return { controlPlane, client: c, port, createSeconds: (performance.now() - t) / 1000, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A line reader on a child's stdout that hands out the lines one awaited call at a time. */
function lines(rl: Interface): () => Promise<string> {
  const queued: string[] = [];
  const waiting: ((l: string) => void)[] = [];
  rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : queued.push(l)));
  rl.on('close', () => waiting.splice(0).forEach((w) => w('')));
  return () => (queued.length ? Promise.resolve(queued.shift()!) : new Promise((resolve) => waiting.push(resolve)));
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status has no VmRSS line; did kube-proxy exit?`);
  return Number(m[1]) / 1024;
}

/** klog's error and fatal lines (`E1203 ...`, `F1203 ...`). */
export function klogErrors(log: string): string[] {
  return log.split('\n').filter((l) => /^[EF]\d{4} /.test(l));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** One kube-proxy run in `mode`, in a fresh network namespace; `changes` one-service changes after the cold sync. */
export async function runKubeProxy(api: KubeProxyApi, mode: 'nftables' | 'iptables', n: number, changes: number): Promise<KubeProxyFigures> {
  const kubeProxy = toolBinary('kube-proxy', NEEDED_FOR);
  const ip = spawnRunner();
  const netns = `sfkp-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'shopfloor-bench-kube-proxy-'));
  const socketPath = join(dir, 'api.sock');
  const logPath = join(dir, 'kube-proxy.log');
  let helper: ChildProcess | undefined;
  let proxy: ChildProcess | undefined;
  const relay = await relayToLoopback(socketPath, api.port);
  try {
    await runChecked(ip, 'ip', ['netns', 'add', netns]);
    helper = spawn('ip', ['netns', 'exec', netns, process.execPath, '--import', 'tsx', fileURLToPath(new URL('./proxy-netns.ts', import.meta.url)), '--api-port', String(api.port), '--relay', socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    const next = lines(createInterface({ input: helper.stdout! }));
    const expect = async (want: string) => {
      const got = await next();
      if (got !== want) throw new Error(`the in-namespace probe said "${got}" where "${want}" was due; its stderr above says why`);
    };
    await expect('ready');
    const config = join(dir, 'config.json');
    writeFileSync(config, kubeProxyConfig({ mode, kubeconfig: api.controlPlane.kubeconfigPath, nodeName: NODE_NAME, healthzPort: await freePort(), metricsPort: await freePort() }));
    const log = openSync(logPath, 'w');
    const t0 = performance.now();
    try {
      proxy = spawn('ip', ['netns', 'exec', netns, kubeProxy, `--config=${config}`], { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const lost = once(proxy, 'exit').then(([code]) => {
      throw new Error(`kube-proxy (${mode}) exited with ${String(code)}: ${klogErrors(readFileSync(logPath, 'utf8')).join(' | ') || `see ${logPath}`}`);
    });
    const forwarded = async (i: number) => {
      helper!.stdin!.write(`${vip(i)}\n`);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`kube-proxy (${mode}) did not forward ${vip(i)}:80 within ${FORWARD_TIMEOUT_MS / 1000} s; its log: ${logPath}, errors: ${klogErrors(readFileSync(logPath, 'utf8')).join(' | ')}`)), FORWARD_TIMEOUT_MS);
      });
      try {
        await Promise.race([expect(`forwarded ${vip(i)}`), lost, late]);
      } finally {
        clearTimeout(timer);
      }
    };
    await forwarded(n - 1);
    const coldS = (performance.now() - t0) / 1000;
    const rss = rssMb(proxy.pid!);
    const times: number[] = [];
    for (let r = 0; r < changes; r++) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const i = n + r;
      const t = performance.now();
      await Promise.all([createService(api.client, i, 3 * 65536 - ENDPOINTS * (r + 1)), forwarded(i)]);
      times.push(performance.now() - t);
      await deleteService(api.client, i);
    }
    lost.catch(() => undefined);
    return { mode, coldS, changeMs: changes ? median(times) : NaN, rssMb: rss, errors: klogErrors(readFileSync(logPath, 'utf8')) };
  } finally {
    await stopProcess(proxy);
    helper?.stdin?.end();
    await stopProcess(helper);
    relay.close();
    await ip('ip', ['netns', 'del', netns]);
    rmSync(dir, { recursive: true, force: true });
  }
}
