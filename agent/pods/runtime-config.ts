// Turns an assignment's template into the CRI configs of its sandbox and containers (pure):
// what kubelet's generatePodSandboxConfig and generateContainerConfig do for a pod.
import { cpuMillis, memoryBytes, type Container, type Template } from '../../api/index.js';
import type { ContainerConfig, LinuxContainerResources, Mount, PodSandboxConfig } from '../cri/types.js';
import { ANNOTATION_GRACE_PERIOD, ANNOTATION_RESTART_COUNT, ANNOTATION_REVISION, containerLabels, sandboxLabels, type PodIdentity } from './runtime-labels.js';

/** The CFS period kubelet uses; a cpu limit becomes a quota of that period. */
const CPU_PERIOD_US = 100_000;
/** The least cpu.shares the kernel accepts; what a container without a cpu request gets. */
const MIN_SHARES = 2;
/** The most cpu.shares cgroup v1 accepts (kubelet caps there too). */
const MAX_SHARES = 262_144;
/** The least CFS quota the kernel accepts. */
const MIN_QUOTA_US = 1_000;

/** The per-pod log directory, as kubelet lays it out: `<root>/<namespace>_<name>_<uid>`. */
export function podLogDirectory(logRoot: string, pod: PodIdentity): string {
  return `${logRoot}/${pod.namespace}_${pod.name}_${pod.uid}`;
}

/** A container instance's log file, relative to the pod log directory. */
export function containerLogPath(containerName: string, restartCount: number): string {
  return `${containerName}/${restartCount}.log`;
}

export function sandboxConfig(o: { pod: PodIdentity; nodeName: string; attempt: number; revision: string; logDirectory: string }): PodSandboxConfig {
  return {
    metadata: { name: o.pod.name, namespace: o.pod.namespace, uid: o.pod.uid, attempt: o.attempt },
    // A hostname is one DNS label; assignment names may be longer subdomains.
    hostname: o.pod.name.slice(0, 63).replace(/\./g, '-').replace(/-+$/, ''),
    logDirectory: o.logDirectory,
    labels: sandboxLabels(o.pod, o.nodeName),
    annotations: { [ANNOTATION_REVISION]: o.revision },
    linux: {},
  };
}

/** cpu and memory as the runtime enforces them: a CFS quota for the cpu limit, shares for the request, a memory limit. */
export function linuxResources(resources: Container['resources']): LinuxContainerResources {
  const cpuRequest = resources?.requests?.cpu ?? resources?.limits?.cpu;
  const out: LinuxContainerResources = {
    cpuShares: cpuRequest === undefined ? MIN_SHARES : Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((cpuMillis(cpuRequest) * 1024) / 1000))),
  };
  if (resources?.limits?.cpu !== undefined) {
    out.cpuPeriod = CPU_PERIOD_US;
    out.cpuQuota = Math.max(MIN_QUOTA_US, Math.floor((cpuMillis(resources.limits.cpu) * CPU_PERIOD_US) / 1000));
  }
  if (resources?.limits?.memory !== undefined) out.memoryLimitInBytes = memoryBytes(resources.limits.memory);
  return out;
}

/**
 * The config of one container instance. `volumePaths` maps each template volume to the host
 * path the agent prepared for it.
 */
export function containerConfig(o: {
  pod: PodIdentity;
  nodeName: string;
  template: Template;
  container: Container;
  restartCount: number;
  imageRef: string;
  volumePaths: ReadonlyMap<string, string>;
}): ContainerConfig {
  const c = o.container;
  const mounts: Mount[] = (c.volumeMounts ?? []).map((m) => {
    const hostPath = o.volumePaths.get(m.name);
    // The template schema checks every mount names a volume; a missing path is a bug upstream.
    if (hostPath === undefined) throw new Error(`containers[${c.name}].volumeMounts: volume "${m.name}" was not prepared`);
    return { containerPath: m.mountPath, hostPath, readonly: m.readOnly ?? false };
  });
  return {
    metadata: { name: c.name, attempt: o.restartCount },
    image: { image: o.imageRef, userSpecifiedImage: c.image },
    ...(c.command ? { command: c.command } : {}),
    ...(c.args ? { args: c.args } : {}),
    envs: (c.env ?? []).map((e) => ({ key: e.name, value: e.value })),
    mounts,
    labels: containerLabels(o.pod, o.nodeName, c.name),
    annotations: {
      [ANNOTATION_RESTART_COUNT]: String(o.restartCount),
      [ANNOTATION_GRACE_PERIOD]: String(o.template.terminationGracePeriodSeconds),
    },
    logPath: containerLogPath(c.name, o.restartCount),
    linux: { resources: linuxResources(c.resources) },
  };
}
