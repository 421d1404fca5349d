// What the agent writes into its NodeAgent, computed from what it measured: the labels and spec
// it owns, and the status (capacity, software, addresses, replicas, the endpoints it serves, its
// service rules, the Ready condition). Pure,
// so that "nothing changed, nothing written" is tested without a server.
import { API_VERSION, LABEL_MANAGED_BY, MANAGED_BY_VALUE, type NodeAgent, type NodeAgentStatus } from '../../api/index.js';
import { withConditions } from '../../kube/status.js';
import type { ProxyMode } from '../proxy/backend.js';
import type { ProxySyncReport } from '../proxy/proxier.js';
import type { NodeResources } from './capacity.js';
import { shorten } from '../../kube/shorten.js';

/** Well-known node labels, as kubelet sets them on a Node, so nodeSelectors read the same. */
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_ARCH = 'kubernetes.io/arch';

export interface RuntimeInfo {
  runtimeName: string;
  runtimeVersion: string;
}

/** The CRI Version answer, or why there was none. */
export type RuntimeProbe = ({ ok: true } & RuntimeInfo) | { ok: false; error: string };

/** Node.js' names of CPU architectures, as Go (and so Kubernetes) names them. */
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/**
 * The labels the agent sets on its NodeAgent: the well-known hostname, OS and architecture, then
 * those given by flag (which may override them), then managed-by.
 */
export function nodeLabels(o: { hostname: string; labels?: Record<string, string>; platform?: string; arch?: string }): Record<string, string> {
  const arch = o.arch ?? process.arch;
  return {
    [LABEL_HOSTNAME]: o.hostname.toLowerCase(),
    [LABEL_OS]: o.platform ?? process.platform,
    [LABEL_ARCH]: GO_ARCH[arch] ?? arch,
    ...(o.labels ?? {}),
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
  };
}

/** A new NodeAgent for this node. spec.unschedulable is left unset: it is the admin's. */
export function newNodeAgent(nodeName: string, labels: Record<string, string>, podCIDR: string | undefined): NodeAgent {
  return {
    apiVersion: API_VERSION,
    kind: 'NodeAgent',
    metadata: { name: nodeName, labels },
    spec: podCIDR ? { podCIDR } : {},
  };
}

/**
 * The merge patch that gives an existing NodeAgent the agent's labels and pod CIDR; undefined
 * when it has them. Other labels, and spec.unschedulable, are left alone.
 */
export function registrationPatch(current: NodeAgent, labels: Record<string, string>, podCIDR: string | undefined): Record<string, unknown> | undefined {
  const have = current.metadata?.labels ?? {};
  const changedLabels = Object.fromEntries(Object.entries(labels).filter(([k, v]) => have[k] !== v));
  const patch: Record<string, unknown> = {};
  if (Object.keys(changedLabels).length) patch['metadata'] = { labels: changedLabels };
  if (podCIDR && current.spec?.podCIDR !== podCIDR) patch['spec'] = { podCIDR };
  return Object.keys(patch).length ? patch : undefined;
}

export interface StatusInput {
  /** The status the NodeAgent has now. */
  previous: NodeAgentStatus | undefined;
  generation: number | undefined;
  capacity: NodeResources;
  allocatable: NodeResources;
  runtime: RuntimeProbe;
  agentVersion: string;
  proxyMode: ProxyMode;
  nodeAddresses: readonly string[];
  hostname: string;
  pods: number;
  /** What the agent serves on the node (its log server), once it listens. */
  daemonEndpoints?: NodeAgentStatus['daemonEndpoints'];
  /** The service proxy's rules, once it runs. */
  proxy?: ProxySyncReport;
  now: Date;
}

/**
 * The status the NodeAgent should have. Ready is True while the container runtime answers, else
 * False with reason RuntimeUnreachable and the runtime's error; its lastTransitionTime moves only
 * when it flips. While the runtime is unreachable the runtime name and version last reported stay.
 * Conditions of other types (written by others) are kept.
 */
export function nodeAgentStatus(i: StatusInput): NodeAgentStatus {
  const known = i.runtime.ok ? { runtimeName: i.runtime.runtimeName, runtimeVersion: i.runtime.runtimeVersion } : pickRuntime(i.previous);
  const ready = i.runtime.ok
    ? { type: 'Ready', status: 'True' as const, reason: 'AgentReady', message: `agent ${i.agentVersion} is registered; container runtime ${i.runtime.runtimeName} ${i.runtime.runtimeVersion} answers` }
    : { type: 'Ready', status: 'False' as const, reason: 'RuntimeUnreachable', message: `container runtime unreachable: ${i.runtime.error}` };
  return {
    capacity: i.capacity,
    allocatable: i.allocatable,
    nodeInfo: { ...known, agentVersion: i.agentVersion, proxyMode: i.proxyMode },
    addresses: [...i.nodeAddresses.map((address) => ({ type: 'InternalIP' as const, address })), { type: 'Hostname' as const, address: i.hostname }],
    pods: i.pods,
    ...(i.daemonEndpoints ? { daemonEndpoints: i.daemonEndpoints } : {}),
    ...(i.proxy ? { proxy: proxyStatus(i.proxy) } : {}),
    conditions: withConditions(i.previous?.conditions, [ready], i.generation, i.now),
  };
}

/** The proxy's report as status says it: times to the second, so that a status written every 10 s does not churn on milliseconds, and the error cut short. */
function proxyStatus(r: ProxySyncReport): NonNullable<NodeAgentStatus['proxy']> {
  return {
    ...(r.lastSyncTime !== undefined ? { lastSyncTime: new Date(Math.floor(r.lastSyncTime / 1000) * 1000).toISOString().replace('.000Z', 'Z') } : {}),
    servicePorts: r.servicePorts,
    rules: r.rules,
    inSync: r.inSync,
    ...(r.error ? { message: shorten(r.error, 300) } : {}),
  };
}

function pickRuntime(previous: NodeAgentStatus | undefined): Partial<RuntimeInfo> {
  const info = previous?.nodeInfo;
  return {
    ...(info?.runtimeName !== undefined ? { runtimeName: info.runtimeName } : {}),
    ...(info?.runtimeVersion !== undefined ? { runtimeVersion: info.runtimeVersion } : {}),
  };
}
