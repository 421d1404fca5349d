// Both proxies fed through one API server: one kube-apiserver (with etcd and the controller
// manager, as `shopfloor up --api-server kube-apiserver` runs them, and Shopfloor's CRDs) on the
// host's loopback holds N Services with their EndpointSlices, and the same N services as
// NodeWorkloads with ENDPOINTS ready NodeAssignments each. Then each proxy (the real kube-proxy,
// and the agent's service proxy, shopfloor-proxy-main.ts) runs once per mode, each time in a
// fresh network namespace of its own, reaching the API through a Unix-socket relay. Cold: the
// proxy started (every object already in the API) → a connection to the last VIP is forwarded.
// Change: one service's objects created → a connection to its VIP is forwarded. The probe is the
// same for both (proxy-netns.ts).
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
import { installCrds } from '../cli/install-crds.js';
import { startKubeControlPlane, type KubeControlPlane } from '../cli/kube-control-plane.js';
import { toolBinary } from '../cli/tools-bin.js';
import { freePort } from '../devcluster/storage/etcd-process.js';
import { KubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { silentLogger } from '../kube/logger.js';
import { NAMESPACES, NODE_ASSIGNMENTS, NODE_WORKLOADS, type ResourceType } from '../kube/resource.js';
import { median } from './median.js';
import { pool } from './pool.js';
import { relayToLoopback } from './proxy-netns.js';
import { assignmentStatus, ENDPOINTS, NAMESPACE, VIP_RANGE, kubeEndpointSlice, kubeProxyConfig, kubeService, shopfloorAssignment, shopfloorWorkload, vip, workloadStatus } from './service-objects.js';

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

export interface ProxyRunFigures {
  proxy: 'kube-proxy' | 'shopfloor';
  mode: 'nftables' | 'iptables';
  coldS: number;
  /** Median of the one-service changes, ms. */
  changeMs: number;
  rssMb: number;
  /** The proxy's error and fatal log lines. */
  errors: string[];
}

export interface ProxyApi {
  controlPlane: KubeControlPlane;
  client: KubeClient;
  port: number;
  /** Creating the N Services and EndpointSlices. */
  kubeCreateSeconds: number;
  /** Creating the N NodeWorkloads and their NodeAssignments, with status. */
  shopfloorCreateSeconds: number;
  stop(): Promise<void>;
}

async function createService(client: KubeClient, i: number, endpointBase = i * ENDPOINTS): Promise<void> {
  await Promise.all([client.create(SERVICES, kubeService(i)), client.create(ENDPOINT_SLICES, kubeEndpointSlice(i, endpointBase))]);
}

async function deleteService(client: KubeClient, i: number): Promise<void> {
  await Promise.all([client.delete(SERVICES, `svc-${i}`, { namespace: NAMESPACE }), client.delete(ENDPOINT_SLICES, `svc-${i}-0`, { namespace: NAMESPACE })]);
}

/** Service i as the operator and the agents leave it: the NodeWorkload with its VIP, and ENDPOINTS ready replicas. */
async function createWorkload(client: KubeClient, i: number, endpointBase = i * ENDPOINTS): Promise<void> {
  const ns = { namespace: NAMESPACE };
  await client.create(NODE_WORKLOADS, shopfloorWorkload(i));
  await client.patchStatus(NODE_WORKLOADS, `svc-${i}`, workloadStatus(i), ns);
  await Promise.all(Array.from({ length: ENDPOINTS }, async (_, k) => {
    await client.create(NODE_ASSIGNMENTS, shopfloorAssignment(i, k, NODE_NAME));
    await client.patchStatus(NODE_ASSIGNMENTS, `svc-${i}-${k}`, assignmentStatus(k, endpointBase), ns);
  }));
}

async function deleteWorkload(client: KubeClient, i: number): Promise<void> {
  const ns = { namespace: NAMESPACE };
  await Promise.all([client.delete(NODE_WORKLOADS, `svc-${i}`, ns), ...Array.from({ length: ENDPOINTS }, (_, k) => client.delete(NODE_ASSIGNMENTS, `svc-${i}-${k}`, ns))]);
}

async function timedSeconds(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** Starts the control plane and fills it with services 0..n-1 for both proxies (and the Node kube-proxy runs as). */
export async function startProxyApi(n: number): Promise<ProxyApi> {
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
    await installCrds(c);
    const kubeCreateSeconds = await timedSeconds(() => pool(n, CREATE_CONCURRENCY, (i) => createService(c, i)));
    const shopfloorCreateSeconds = await timedSeconds(() => pool(n, CREATE_CONCURRENCY, (i) => createWorkload(c, i)));
    return { controlPlane, client: c, port, kubeCreateSeconds, shopfloorCreateSeconds, stop };
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

function rssMb(pid: number, proxy: string): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${pid}/status has no VmRSS line; did ${proxy} exit?`);
  return Number(m[1]) / 1024;
}

/** klog's error and fatal lines (`E1203 ...`, `F1203 ...`). */
export function klogErrors(log: string): string[] {
  return log.split('\n').filter((l) => /^[EF]\d{4} /.test(l));
}

/** pino's error and fatal lines (level 50 and up). */
export function pinoErrors(log: string): string[] {
  return log.split('\n').filter((l) => /^\{.*"level":(5|6)\d\b/.test(l));
}

/** What runs as one proxy: its command line in the namespace, its log's errors, how a service is added and removed. */
interface ProxySide {
  proxy: ProxyRunFigures['proxy'];
  command(mode: ProxyRunFigures['mode'], api: ProxyApi, dir: string): Promise<string[]>;
  errors(log: string): string[];
  create(client: KubeClient, i: number, endpointBase: number): Promise<void>;
  remove(client: KubeClient, i: number): Promise<void>;
}

const KUBE_PROXY: ProxySide = {
  proxy: 'kube-proxy',
  async command(mode, api, dir) {
    const config = join(dir, 'config.json');
    writeFileSync(config, kubeProxyConfig({ mode, kubeconfig: api.controlPlane.kubeconfigPath, nodeName: NODE_NAME, healthzPort: await freePort(), metricsPort: await freePort() }));
    return [toolBinary('kube-proxy', NEEDED_FOR), `--config=${config}`];
  },
  errors: klogErrors,
  create: createService,
  remove: deleteService,
};

const SHOPFLOOR: ProxySide = {
  proxy: 'shopfloor',
  command: async (mode, api) => [process.execPath, '--import', 'tsx', fileURLToPath(new URL('./shopfloor-proxy-main.ts', import.meta.url)), '--kubeconfig', api.controlPlane.kubeconfigPath, '--mode', mode, '--node-name', NODE_NAME],
  errors: pinoErrors,
  create: createWorkload,
  remove: deleteWorkload,
};

/** One kube-proxy run in `mode`, in a fresh network namespace; `changes` one-service changes after the cold sync. */
export function runKubeProxy(api: ProxyApi, mode: ProxyRunFigures['mode'], n: number, changes: number): Promise<ProxyRunFigures> {
  return runProxy(KUBE_PROXY, api, mode, n, changes);
}

/** One run of the agent's service proxy (shopfloor-proxy-main.ts) in `mode`, in a fresh network namespace. */
export function runShopfloorProxy(api: ProxyApi, mode: ProxyRunFigures['mode'], n: number, changes: number): Promise<ProxyRunFigures> {
  return runProxy(SHOPFLOOR, api, mode, n, changes);
}

async function runProxy(side: ProxySide, api: ProxyApi, mode: ProxyRunFigures['mode'], n: number, changes: number): Promise<ProxyRunFigures> {
  const name = `${side.proxy} (${mode})`;
  const ip = spawnRunner();
  const netns = `sfkp-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `shopfloor-bench-${side.proxy}-`));
  const socketPath = join(dir, 'api.sock');
  const logPath = join(dir, 'proxy.log');
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
    const command = await side.command(mode, api, dir);
    const errors = () => side.errors(readFileSync(logPath, 'utf8'));
    const log = openSync(logPath, 'w');
    const t0 = performance.now();
    try {
      proxy = spawn('ip', ['netns', 'exec', netns, ...command], { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    const lost = once(proxy, 'exit').then(([code]) => {
      throw new Error(`${name} exited with ${String(code)}: ${errors().join(' | ') || `see ${logPath}`}`);
    });
    const forwarded = async (i: number) => {
      helper!.stdin!.write(`${vip(i)}\n`);
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} did not forward ${vip(i)}:80 within ${FORWARD_TIMEOUT_MS / 1000} s; its log: ${logPath}, errors: ${errors().join(' | ')}`)), FORWARD_TIMEOUT_MS);
      });
      try {
        await Promise.race([expect(`forwarded ${vip(i)}`), lost, late]);
      } finally {
        clearTimeout(timer);
      }
    };
    await forwarded(n - 1);
    const coldS = (performance.now() - t0) / 1000;
    const rss = rssMb(proxy.pid!, name);
    const times: number[] = [];
    for (let r = 0; r < changes; r++) {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const i = n + r;
      const t = performance.now();
      await Promise.all([side.create(api.client, i, 3 * 65536 - ENDPOINTS * (r + 1)), forwarded(i)]);
      times.push(performance.now() - t);
      await side.remove(api.client, i);
    }
    lost.catch(() => undefined);
    return { proxy: side.proxy, mode, coldS, changeMs: changes ? median(times) : NaN, rssMb: rss, errors: errors() };
  } finally {
    await stopProcess(proxy);
    helper?.stdin?.end();
    await stopProcess(helper);
    relay.close();
    await ip('ip', ['netns', 'del', netns]);
    rmSync(dir, { recursive: true, force: true });
  }
}
