// The real kubelet (from SHOPFLOOR_TOOLS_BIN) as a node of a TestCluster on kube-apiserver, for
// benchmarks that measure Shopfloor's agent beside it. It runs on a fresh test containerd of its
// own: a kubelet removes every sandbox it does not know, so it never shares a runtime.
//
// It is set up for a machine that is not a dedicated node: a private root dir, pod log dir and
// cgroup root (pods' cgroups go under /<cgroupRoot>/kubepods in each hierarchy, never the host's
// /kubepods); cgroup v1 accepted (failCgroupV1: false), swap tolerated; disk eviction and image
// GC off (a busy shared disk would evict the pods being measured); no static pods; its API served
// on loopback only (callers authenticated and authorized through the API server, as in a
// cluster); the harness's admin kubeconfig as its identity. Everything else keeps the
// kubelet's defaults, so what is measured is the kubelet as a cluster runs it.
//
// It must run in a network namespace of its own, like the benchmark that starts it: the kubelet
// writes iptables canary chains, and its pods' bridge and masquerade rules go there too.
// stop() ends the kubelet, then its containerd (removing every pod), and removes what the kubelet
// made: mounts and files under its root dir, its symlinks in /var/log/containers, its cgroups.
import { existsSync, readFileSync, readdirSync, readlinkSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Component, httpsGet } from '../../cli/component.js';
import { freePort } from '../../devcluster/storage/etcd-process.js';
import { KubeClient } from '../../kube/client.js';
import type { ResourceType } from '../../kube/resource.js';
import type { KubeObject } from '../../kube/types.js';
import { ensureServingCertificate } from '../../pki/serving-certificate.js';
import { startTestContainerd, unmountUnder, type TestContainerd, type TestContainerdOptions } from './containerd.js';
import { eventually } from './eventually.js';
import type { TestCluster } from './test-cluster.js';
import { toolBinary } from '../../cli/tools-bin.js';

export const PODS: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true };
export const NODES: ResourceType = { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false };

/** Where the kubelet links every container's log, whatever its pod log dir (fixed in the kubelet). */
const CONTAINER_LOG_LINKS = '/var/log/containers';
const CGROUP_MOUNTS = '/sys/fs/cgroup';
const NAMED_NETNS = '/run/netns';
const NODE_READY_TIMEOUT_MS = 120_000;

export interface TestKubeletOptions {
  /** A kube-apiserver test cluster: the kubelet uses its admin kubeconfig, metrics() its token. */
  cluster: Pick<TestCluster, 'kubeconfigPath' | 'kubeConfig' | 'token'>;
  nodeName: string;
  /** The Node's InternalIP: an address on an interface of this network namespace, not loopback (the kubelet refuses it). */
  nodeIP: string;
  /** For the kubelet's own containerd. */
  containerd?: TestContainerdOptions;
}

export interface TestKubelet {
  nodeName: string;
  /** The containerd it runs pods on; stopped by stop(). */
  containerd: TestContainerd;
  pid: number;
  /** The kubelet's stderr, until stop() removes it. */
  logPath: string;
  running(): boolean;
  /** The last lines the kubelet wrote. */
  tail(): string;
  /** The kubelet's /metrics text (Prometheus). */
  metrics(): Promise<string>;
  /** Ends the kubelet and its containerd and removes everything they made; throws what it could not clean. */
  stop(): Promise<void>;
}

export interface KubeletConfigInput {
  criEndpoint: string;
  cgroupRoot: string;
  podLogsDir: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  /** FlexVolume plugins; the kubelet makes the dir if it is missing (its default is under /usr/libexec). */
  volumePluginDir: string;
  port: number;
  healthzPort: number;
}

/** The KubeletConfiguration (kubelet.config.k8s.io/v1beta1) for a kubelet on a shared test machine. */
export function kubeletConfiguration(input: KubeletConfigInput): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: input.criEndpoint,
    address: '127.0.0.1',
    port: input.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: input.healthzPort,
    tlsCertFile: input.tlsCertFile,
    tlsPrivateKeyFile: input.tlsPrivateKeyFile,
    // As a cluster's kubelets: callers' tokens and rights checked with the API server.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
    authorization: { mode: 'Webhook' },
    // The runtime's runc runs with cgroupfs (containerd reports it through RuntimeConfig too).
    cgroupDriver: 'cgroupfs',
    cgroupRoot: input.cgroupRoot,
    failCgroupV1: false,
    failSwapOn: false,
    podLogsDir: input.podLogsDir,
    volumePluginDir: input.volumePluginDir,
    // The disk signals at 0% never fire; memory keeps the kubelet's default.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%', 'imagefs.inodesFree': '0%' },
    // 100 turns image garbage collection off: the test images are preloaded, never pulled again.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    registerNode: true,
    rotateCertificates: false,
  };
}

/** The cgroup hierarchies mounted under /sys/fs/cgroup (v1 controllers, named ones, the unified one). */
function cgroupHierarchies(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => {
      const fsType = f[f.indexOf('-') + 1];
      return (fsType === 'cgroup' || fsType === 'cgroup2') && f[4]?.startsWith(`${CGROUP_MOUNTS}/`);
    })
    .map((f) => f[4]!);
}

/**
 * Makes `/<name>` in every hierarchy (the kubelet refuses a cgroupRoot that is missing in one it
 * needs); a new cpuset gets its parent's cpus and mems, without which no task may join it.
 */
async function makeCgroupRoot(name: string): Promise<void> {
  for (const hierarchy of cgroupHierarchies()) {
    const dir = join(hierarchy, name);
    await mkdir(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(hierarchy, file))) await copyFile(join(hierarchy, file), join(dir, file));
    }
  }
}

/** Removes `/<name>` and the cgroups under it in every hierarchy, deepest first; they must be empty of tasks. */
function removeCgroupRoot(name: string): void {
  const rmTree = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) rmTree(join(dir, entry.name));
    rmdirSync(dir);
  };
  for (const hierarchy of cgroupHierarchies()) {
    const dir = join(hierarchy, name);
    if (existsSync(dir)) rmTree(dir);
  }
}

/** Removes the links in /var/log/containers that point into `podLogs`, and the dir if the kubelet made it and it is empty. */
function removeLogLinks(podLogs: string, dirWasThere: boolean): void {
  if (!existsSync(CONTAINER_LOG_LINKS)) return;
  for (const entry of readdirSync(CONTAINER_LOG_LINKS)) {
    const link = join(CONTAINER_LOG_LINKS, entry);
    let target: string;
    try {
      target = readlinkSync(link);
    } catch {
      continue;
    }
    if (target.startsWith(`${podLogs}/`)) unlinkSync(link);
  }
  if (!dirWasThere && readdirSync(CONTAINER_LOG_LINKS).length === 0) rmdirSync(CONTAINER_LOG_LINKS);
}

/** Whether this process runs in a network namespace made by `ip netns add` (one of /run/netns). */
function inNamedNetworkNamespace(): boolean {
  const self = statSync('/proc/self/ns/net').ino;
  const named = existsSync(NAMED_NETNS) ? readdirSync(NAMED_NETNS) : [];
  return named.some((name) => {
    try {
      return statSync(join(NAMED_NETNS, name)).ino === self;
    } catch {
      return false;
    }
  });
}

interface NodeCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** The Node's Ready condition, undefined while the Node is not registered. */
async function readyCondition(client: KubeClient, nodeName: string): Promise<NodeCondition | undefined> {
  try {
    const node = await client.get<KubeObject & { status?: { conditions?: NodeCondition[] } }>(NODES, nodeName);
    return node.status?.conditions?.find((c) => c.type === 'Ready') ?? { type: 'Ready', status: 'Unknown', reason: 'no Ready condition yet' };
  } catch {
    return undefined;
  }
}

/** Starts a fresh containerd and a kubelet on it, and waits until its Node is Ready. */
export async function startTestKubelet(opts: TestKubeletOptions): Promise<TestKubelet> {
  if (!inNamedNetworkNamespace()) {
    throw new Error(`the test kubelet must run in a network namespace of its own (it writes iptables chains, its pods a bridge and masquerade rules); make one with \`ip netns add <name>\` and enter it with \`nsenter --net=${NAMED_NETNS}/<name>\` first`);
  }
  const binary = toolBinary('kubelet', 'the test kubelet');
  const dir = await mkdtemp(join(tmpdir(), 'sf-kubelet-'));
  const rootDir = join(dir, 'root');
  const podLogs = join(dir, 'pods');
  const cgroupRoot = `shopfloor-${dir.slice(dir.lastIndexOf('-') + 1)}`;
  const logDirWasThere = existsSync(CONTAINER_LOG_LINKS);
  let containerd: TestContainerd | undefined;
  let kubelet: Component | undefined;
  const client = new KubeClient(opts.cluster.kubeConfig, { timeoutMs: 10_000 });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      const problems: string[] = [];
      const step = async (what: string, fn: () => unknown): Promise<void> => {
        try {
          await fn();
        } catch (err) {
          problems.push(`${what}: ${(err as Error).message}`);
        }
      };
      client.close();
      if (kubelet) await step('stop the kubelet', () => kubelet!.stop());
      // Its pods go with the runtime; their cgroups are empty only after that.
      if (containerd) await step('stop its containerd', () => containerd!.stop());
      await step(`unmount under ${rootDir}`, () => unmountUnder(rootDir));
      await step(`remove its links in ${CONTAINER_LOG_LINKS}`, () => removeLogLinks(podLogs, logDirWasThere));
      await step(`remove the cgroups under /${cgroupRoot}`, () => removeCgroupRoot(cgroupRoot));
      await step(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
      if (problems.length > 0) throw new Error(`test kubelet in ${dir} was not cleaned up: ${problems.join('; ')}`);
    })());

  try {
    containerd = await startTestContainerd(opts.containerd);
    await mkdir(rootDir);
    await makeCgroupRoot(cgroupRoot);
    const pki = join(dir, 'pki');
    await mkdir(pki);
    const tls = await ensureServingCertificate({ dir: pki, caCommonName: 'shopfloor-test-kubelet-ca', serverCommonName: opts.nodeName, ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], owner: 'the test kubelet' });
    const port = await freePort();
    const config = kubeletConfiguration({
      criEndpoint: containerd.endpoint,
      cgroupRoot: `/${cgroupRoot}`,
      podLogsDir: podLogs,
      tlsCertFile: join(pki, 'server.crt'),
      tlsPrivateKeyFile: join(pki, 'server.key'),
      volumePluginDir: join(dir, 'volume-plugins'),
      port,
      healthzPort: await freePort(),
    });
    const configPath = join(dir, 'kubelet-config.json');
    await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
    let lost: string | undefined;
    kubelet = new Component('kubelet', binary, `--config=${configPath}`, dir, (what) => (lost = what));
    kubelet.start([
      `--kubeconfig=${opts.cluster.kubeconfigPath}`,
      `--root-dir=${rootDir}`,
      `--cert-dir=${pki}`,
      `--hostname-override=${opts.nodeName}`,
      `--node-ip=${opts.nodeIP}`,
    ]);
    const started = kubelet;
    let last: NodeCondition | undefined;
    const verdict = await eventually(`node ${opts.nodeName} to be Ready`, async () => {
      if (!started.running()) return 'exited';
      last = await readyCondition(client, opts.nodeName);
      return last?.status === 'True' ? 'ready' : false;
    }, NODE_READY_TIMEOUT_MS, 250).catch((err: Error) => {
      throw new Error(`${err.message}; its Ready condition: ${last ? `${last.status} (${last.reason}: ${last.message})` : 'no Node registered'}; the kubelet's last lines: ${started.tail()}`);
    });
    if (verdict === 'exited') throw new Error(`${lost ?? 'the kubelet exited'} during start: ${started.tail()}`);
    // The kubelet only logs fields of its configuration it does not know, and goes on without them.
    const unknown = /strict decoding error: (?:[^"\\]|\\.)*/.exec(await readFile(started.log, 'utf8'));
    if (unknown) throw new Error(`the kubelet does not know a field of the harness's KubeletConfiguration: ${unknown[0].replaceAll('\\"', '"')}`);
    return {
      nodeName: opts.nodeName,
      containerd,
      pid: started.pid()!,
      logPath: started.log,
      running: () => started.running(),
      tail: () => started.tail(),
      async metrics() {
        const r = await httpsGet(`https://127.0.0.1:${port}/metrics`, tls.ca, opts.cluster.token);
        if (r.status !== 200) throw new Error(`the kubelet's /metrics answered ${r.status}: ${r.body.slice(0, 500)}`);
        return r.body;
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
