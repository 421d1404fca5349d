// `shopfloor agent`: runs the node agent — containers through the node's CRI runtime (a managed
// containerd, or an external endpoint), the node's registration and Lease, and the service
// proxy — against the cluster of a kubeconfig (or in-cluster). `shopfloor agent cleanup` removes
// the agent's nftables table and iptables chains and nothing else.
import { hostname, networkInterfaces } from 'node:os';
import { isAbsolute } from 'node:path';
import { DEFAULT_LOG_SERVER_ADDRESS } from '../agent/logs/log-server.js';
import { DEFAULT_METRICS_ADDRESS, runAgent, type RuntimeChoice } from '../agent/main.js';
import { DEFAULT_LEASE_DURATION_SECONDS } from '../agent/node/lease.js';
import { PROXY_MODES, type ProxyMode } from '../agent/proxy/backend.js';
import { DEFAULT_PROXY_TABLE, MAX_PROXY_TABLE_LENGTH, proxyTableProblem } from '../agent/proxy/proxy-names.js';
import { DEFAULT_FULL_RESYNC_PERIOD_MS, DEFAULT_MIN_SYNC_PERIOD_MS, backendFor } from '../agent/proxy/service-proxy.js';
import { validatePodCidr } from '../agent/runtime/containerd-config.js';
import { spawnRunner } from '../agent/exec.js';
import { POD_CIDR_ALLOCATED } from '../agent/node/allocated-pod-cidr.js';
import { isIPv4 } from '../agent/proxy/model.js';
import { DEFAULT_SYSTEM_NAMESPACE } from '../api/index.js';
import { describeSource } from '../kube/config.js';
import { createLogger, type LogLevel } from '../kube/logger.js';
import { UsageError, type Command } from './command.js';
import { LOG_LEVEL_FLAG, NAMESPACE_FLAG, checked, flag, listenAddress, oneOf, optionalFlag, parseFlags, seconds, text, wholeNumber, type FlagParser } from './flags.js';
import { loadKubeConfigOrLog, untilStopped } from './lifetime.js';

export const DEFAULT_DATA_DIR = '/var/lib/shopfloor';
export const DEFAULT_POD_CIDR = '10.244.0.0/24';
export const DEFAULT_BRIDGE = 'sf0';
export const DEFAULT_SANDBOX_IMAGE = 'registry.k8s.io/pause:3.10';

const usage = `usage: shopfloor agent [options]
       shopfloor agent cleanup [--proxy-table <name>]

Runs on every node, as root: runs the NodeAssignments of this node as pods on the container
runtime (like kubelet), registers the node's NodeAgent and renews its Lease, and makes each
NodeWorkload's service VIP (and nodePort) reach its ready replicas with nftables (default) or
iptables (like kube-proxy). Every flag has an environment variable; the flag wins.
\`cleanup\` removes the agent's nftables table and iptables chains, nothing else.

By default the agent runs its own containerd (managed mode, like k3s) under the data dir. With
--cri-endpoint it drives an existing CRI runtime instead (containerd, CRI-O, cri-dockerd). Never
point it at a runtime a kubelet uses: a kubelet removes the sandboxes it does not know.

  --kubeconfig <file>           kubeconfig to use (else KUBECONFIG, ~/.kube/config, in-cluster)
  --node-name <name>            this node's name (NODE_NAME; default the host name)
  --namespace <ns>              Shopfloor's namespace, where the node Lease is kept and the operator watches it
                                (SHOPFLOOR_NAMESPACE or POD_NAMESPACE; default ${DEFAULT_SYSTEM_NAMESPACE})
  --data-dir <dir>              managed containerd, pod volumes, logs (SHOPFLOOR_DATA_DIR; default ${DEFAULT_DATA_DIR})
  --cri-endpoint <unix://...>   an external CRI runtime instead of the managed containerd (SHOPFLOOR_CRI_ENDPOINT)
  --pod-cidr <cidr|${POD_CIDR_ALLOCATED}>   IPv4 range of this node's pod IPs, or "${POD_CIDR_ALLOCATED}": a range of its own from the
                                operator (its --cluster-pod-cidr), waited for before the runtime starts
                                (SHOPFLOOR_POD_CIDR; default ${DEFAULT_POD_CIDR})
  --bridge <name>               Linux bridge of the managed runtime's pods (SHOPFLOOR_BRIDGE; default ${DEFAULT_BRIDGE})
  --sandbox-image <ref>         pod sandbox image of the managed runtime (SHOPFLOOR_SANDBOX_IMAGE; default ${DEFAULT_SANDBOX_IMAGE})
  --containerd-binary <path>    the managed runtime's containerd, 1.x or 2.x (2.1 and newer), with its shim
                                containerd-shim-runc-v2 beside it (SHOPFLOOR_CONTAINERD_BINARY; default containerd on PATH)
  --image-preload-dir <dir>     OCI image archives (*.tar) imported at start (SHOPFLOOR_IMAGE_PRELOAD_DIR)
  --static-manifest-dir <dir>   NodeWorkload files this node runs without the API (SHOPFLOOR_STATIC_MANIFEST_DIR)
  --log-dir <dir>               container log directories (SHOPFLOOR_LOG_DIR; default <data-dir>/logs)
  --node-labels <k=v,...>       labels of this node's NodeAgent (SHOPFLOOR_NODE_LABELS)
  --pod-workers <n>             pods synced at once (SHOPFLOOR_POD_WORKERS; default 8)
  --proxy-mode <mode>           nftables or iptables (SHOPFLOOR_PROXY_MODE; default nftables)
  --proxy-table <name>          nftables table of this agent's rules, and upper-cased the prefix of its
                                iptables chains: "sf" or "shopfloor", then a-z, 0-9, "_", at most
                                ${MAX_PROXY_TABLE_LENGTH} characters (SHOPFLOOR_PROXY_TABLE; default ${DEFAULT_PROXY_TABLE})
  --node-addresses <a,b,...>    IPv4 addresses nodePorts answer on
                                (SHOPFLOOR_NODE_ADDRESSES; default this host's non-loopback IPv4 addresses)
  --min-sync-period <secs>      least time between two rule syncs (SHOPFLOOR_MIN_SYNC_PERIOD; default ${DEFAULT_MIN_SYNC_PERIOD_MS / 1000})
  --full-resync-period <secs>   time between full rewrites of the rules (SHOPFLOOR_FULL_RESYNC_PERIOD; default ${DEFAULT_FULL_RESYNC_PERIOD_MS / 1000})
  --node-lease-duration <secs>  how long the node Lease holds (renewed every quarter of it): once it runs out,
                                the operator marks this node's replicas Unknown (SHOPFLOOR_NODE_LEASE_DURATION; default ${DEFAULT_LEASE_DURATION_SECONDS})
  --metrics-address <h:p>       /metrics, /healthz, /readyz address, or "off"
                                (SHOPFLOOR_METRICS_ADDRESS; default ${DEFAULT_METRICS_ADDRESS})
  --log-server-address <ip:p>   HTTPS container log server for \`shopfloor logs\` on the node, or "off"
                                (SHOPFLOOR_LOG_SERVER_ADDRESS; default ${DEFAULT_LOG_SERVER_ADDRESS}); callers need a
                                token the API server authenticates and RBAC get on nodeassignments/log
  --log-level <level>           fatal, error, warn, info, debug, trace or silent (SHOPFLOOR_LOG_LEVEL; default info)

Exits 0 on SIGINT/SIGTERM, leaving the pods running and the rules in place, so that the next
agent re-adopts the pods without restarting a container and services keep working meanwhile.

A second agent on the same host (a second node, for trying placement across nodes) needs its
own --node-name, --data-dir, --pod-cidr, --bridge, --proxy-table and --metrics-address; its
managed containerd then has its own config, sockets, state, CNI config and IP allocations.`;


export interface AgentFlags {
  kubeconfig: string | undefined;
  nodeName: string;
  namespace: string;
  dataDir: string;
  runtime: RuntimeChoice;
  podCIDR: string;
  imagePreloadDir: string | undefined;
  staticManifestDir: string | undefined;
  logDir: string | undefined;
  nodeLabels: Record<string, string>;
  podWorkers: number;
  proxyMode: ProxyMode;
  proxyTable: string;
  nodeAddresses: string[];
  leaseDurationSeconds: number;
  minSyncPeriodMs: number;
  fullResyncPeriodMs: number;
  metricsAddress: string | false;
  logServerAddress: string | false;
  logLevel: LogLevel;
}

const nodeName: FlagParser<string> = (v) => {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v.value) || v.value.length > 253) {
    throw new UsageError(`${v.from} "${v.value}" is not a node name (a DNS-1123 subdomain: lowercase letters, digits, "-", ".")`);
  }
  return v.value;
};

const proxyTable: FlagParser<string> = (v) => {
  const problem = proxyTableProblem(v.value);
  if (problem) throw new UsageError(`${v.from} "${v.value}" ${problem}`);
  return v.value;
};

const ipv4List: FlagParser<string[]> = (v) => {
  const addresses = v.value.split(',').map((a) => a.trim()).filter(Boolean);
  for (const a of addresses) if (!isIPv4(a)) throw new UsageError(`${v.from}: "${a}" is not an IPv4 address (e.g. 192.168.1.10)`);
  return addresses;
};

const absolutePath: FlagParser<string> = (v) => {
  if (!isAbsolute(v.value)) throw new UsageError(`${v.from} "${v.value}" must be an absolute path`);
  return v.value;
};

const podCidr: FlagParser<string> = checked((v) => {
  if (v.value === POD_CIDR_ALLOCATED) return v.value;
  try {
    validatePodCidr(v.from, v.value);
  } catch (err) {
    throw new Error(`${(err as Error).message}; or "${POD_CIDR_ALLOCATED}" for a range of this node's own from the operator`);
  }
  return v.value;
});

const criEndpoint: FlagParser<string> = (v) => {
  if (!/^unix:\/\/\/./.test(v.value)) throw new UsageError(`${v.from} "${v.value}" must be unix:///absolute/path/to.sock (e.g. unix:///run/containerd/containerd.sock)`);
  return v.value;
};

const bridgeName: FlagParser<string> = (v) => {
  if (!/^[a-z0-9-]{1,15}$/.test(v.value)) throw new UsageError(`${v.from} "${v.value}" must be 1 to 15 characters of a-z, 0-9 and "-" (a Linux interface name)`);
  return v.value;
};

const imageReference: FlagParser<string> = (v) => {
  if (!/^[a-z0-9][\w.\-/:@]*$/i.test(v.value)) throw new UsageError(`${v.from} "${v.value}" is not an image reference (e.g. ${DEFAULT_SANDBOX_IMAGE})`);
  return v.value;
};

const nodeLabels: FlagParser<Record<string, string>> = (v) => {
  const labels: Record<string, string> = {};
  for (const pair of v.value.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)=([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.exec(pair);
    if (!m) throw new UsageError(`${v.from}: "${pair}" is not key=value with a Kubernetes label key and value (e.g. zone=a,shopfloor.dev/pool=edge)`);
    labels[m[1]!] = m[5] ?? '';
  }
  return labels;
};

/** At least 4 s, so that renewals come at most once a second. */
const leaseSeconds: FlagParser<number> = (v) => {
  if (!/^\d+$/.test(v.value) || Number(v.value) < 4) throw new UsageError(`${v.from} "${v.value}" must be a whole number of seconds, at least 4`);
  return Number(v.value);
};

/** This host's non-loopback IPv4 addresses. */
export function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => a!.address);
}

/** `--proxy-table`, also the one flag of `shopfloor agent cleanup`. */
const PROXY_TABLE_FLAG = flag(proxyTable, { env: ['SHOPFLOOR_PROXY_TABLE'], default: DEFAULT_PROXY_TABLE });

/** What the agent's defaults read from this host; tests give their own. */
export interface HostDefaults {
  hostname: string;
  addresses: () => string[];
}

/** The agent's flags; `shopfloor up` reuses those it shares. */
export function agentFlags(host: HostDefaults = { hostname: hostname(), addresses: hostAddresses }) {
  return {
    kubeconfig: optionalFlag(text),
    'node-name': flag(nodeName, { env: ['NODE_NAME'], default: () => ({ value: host.hostname.toLowerCase(), from: 'the host name' }) }),
    namespace: NAMESPACE_FLAG,
    'data-dir': flag(absolutePath, { env: ['SHOPFLOOR_DATA_DIR'], default: DEFAULT_DATA_DIR }),
    'cri-endpoint': optionalFlag(criEndpoint, { env: ['SHOPFLOOR_CRI_ENDPOINT'] }),
    'pod-cidr': flag(podCidr, { env: ['SHOPFLOOR_POD_CIDR'], default: DEFAULT_POD_CIDR }),
    bridge: flag(bridgeName, { env: ['SHOPFLOOR_BRIDGE'], default: DEFAULT_BRIDGE }),
    'sandbox-image': flag(imageReference, { env: ['SHOPFLOOR_SANDBOX_IMAGE'], default: DEFAULT_SANDBOX_IMAGE }),
    'containerd-binary': optionalFlag(absolutePath, { env: ['SHOPFLOOR_CONTAINERD_BINARY'] }),
    'image-preload-dir': optionalFlag(absolutePath, { env: ['SHOPFLOOR_IMAGE_PRELOAD_DIR'] }),
    'static-manifest-dir': optionalFlag(absolutePath, { env: ['SHOPFLOOR_STATIC_MANIFEST_DIR'] }),
    'log-dir': optionalFlag(absolutePath, { env: ['SHOPFLOOR_LOG_DIR'] }),
    'node-labels': flag(nodeLabels, { env: ['SHOPFLOOR_NODE_LABELS'], default: '' }),
    'pod-workers': flag(wholeNumber(1, 64), { env: ['SHOPFLOOR_POD_WORKERS'], default: '8' }),
    'proxy-mode': flag(oneOf(PROXY_MODES), { env: ['SHOPFLOOR_PROXY_MODE'], default: 'nftables' }),
    'proxy-table': PROXY_TABLE_FLAG,
    'node-addresses': flag(ipv4List, { env: ['SHOPFLOOR_NODE_ADDRESSES'], default: () => ({ value: host.addresses().join(','), from: 'the host addresses' }) }),
    'node-lease-duration': flag(leaseSeconds, { env: ['SHOPFLOOR_NODE_LEASE_DURATION'], default: String(DEFAULT_LEASE_DURATION_SECONDS) }),
    'min-sync-period': flag(seconds(0), { env: ['SHOPFLOOR_MIN_SYNC_PERIOD'], default: String(DEFAULT_MIN_SYNC_PERIOD_MS / 1000) }),
    'full-resync-period': flag(seconds(1), { env: ['SHOPFLOOR_FULL_RESYNC_PERIOD'], default: String(DEFAULT_FULL_RESYNC_PERIOD_MS / 1000) }),
    'metrics-address': flag(listenAddress(DEFAULT_METRICS_ADDRESS), { env: ['SHOPFLOOR_METRICS_ADDRESS'], default: DEFAULT_METRICS_ADDRESS }),
    'log-server-address': flag(listenAddress(DEFAULT_LOG_SERVER_ADDRESS), { env: ['SHOPFLOOR_LOG_SERVER_ADDRESS'], default: DEFAULT_LOG_SERVER_ADDRESS }),
    'log-level': LOG_LEVEL_FLAG,
  };
}

/** Reads flags over environment over defaults; a bad value is a UsageError naming where it came from. */
export function parseAgentFlags(argv: string[], env: Record<string, string | undefined>, host?: HostDefaults): AgentFlags {
  const f = parseFlags(argv, agentFlags(host), env);
  const endpoint = f['cri-endpoint'];
  return {
    kubeconfig: f.kubeconfig,
    nodeName: f['node-name'],
    namespace: f.namespace,
    dataDir: f['data-dir'],
    runtime: endpoint ? { mode: 'external', endpoint } : { mode: 'managed', bridgeName: f.bridge, sandboxImage: f['sandbox-image'], ...(f['containerd-binary'] ? { containerdBinary: f['containerd-binary'] } : {}) },
    podCIDR: f['pod-cidr'],
    imagePreloadDir: f['image-preload-dir'],
    staticManifestDir: f['static-manifest-dir'],
    logDir: f['log-dir'],
    nodeLabels: f['node-labels'],
    podWorkers: f['pod-workers'],
    proxyMode: f['proxy-mode'],
    proxyTable: f['proxy-table'],
    nodeAddresses: f['node-addresses'],
    leaseDurationSeconds: f['node-lease-duration'],
    minSyncPeriodMs: f['min-sync-period'],
    fullResyncPeriodMs: f['full-resync-period'],
    metricsAddress: f['metrics-address'],
    logServerAddress: f['log-server-address'],
    logLevel: f['log-level'],
  };
}

async function cleanup(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const table = parseFlags(argv, { 'proxy-table': PROXY_TABLE_FLAG }, env)['proxy-table'];
  const logger = createLogger({ name: 'shopfloor-agent' });
  let failed = false;
  for (const mode of PROXY_MODES) {
    try {
      await backendFor(mode, spawnRunner(), table).cleanup();
      logger.info({ mode, table }, 'removed the agent\'s rules');
    } catch (err) {
      failed = true;
      logger.error({ mode, table, err: (err as Error).message }, 'could not remove the agent\'s rules');
    }
  }
  return failed ? 1 : 0;
}

export const agentCommand: Command = {
  summary: 'Run the Shopfloor node agent (pods over CRI, node registration, service proxy), or remove its rules with `cleanup`.',
  usage,
  async run(argv) {
    if (argv[0] === 'cleanup') return cleanup(argv.slice(1), process.env);
    const flags = parseAgentFlags(argv, process.env);
    const logger = createLogger({ name: 'shopfloor-agent', level: flags.logLevel });
    const kube = loadKubeConfigOrLog(flags.kubeconfig, logger);
    if (!kube) return 1;
    logger.info({ kubeconfig: describeSource(kube.source), node: flags.nodeName, runtime: flags.runtime, proxyMode: flags.proxyMode, proxyTable: flags.proxyTable, nodeAddresses: flags.nodeAddresses }, 'starting agent');
    const { imagePreloadDir, staticManifestDir, logDir, logServerAddress, ...rest } = flags;
    const agent = await runAgent({
      ...rest,
      ...(imagePreloadDir ? { imagePreloadDir } : {}),
      ...(staticManifestDir ? { staticManifestDir } : {}),
      ...(logDir ? { logDir } : {}),
      ...(logServerAddress ? { logServerAddress } : {}),
      hostname: hostname(),
      kubeConfig: kube.kubeConfig,
      logger,
    });
    if (agent.metricsUrl) logger.info({ url: agent.metricsUrl }, 'serving /metrics, /healthz, /readyz');
    logger.info({ signal: await untilStopped() }, 'stopping agent; pods keep running and the rules stay in place');
    try {
      await agent.stop();
      return 0;
    } catch (err) {
      logger.error({ err }, 'agent stop failed');
      return 1;
    }
  },
};
