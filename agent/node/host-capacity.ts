// Measures what this host offers: its CPUs (capped by the cgroup CPU limit the agent runs under,
// as in a container with a quota), its memory from /proc/meminfo, and the replicas it accepts.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { capacityOf, cfsQuotaMillis, cgroupPath, cpuMaxMillis, DEFAULT_MAX_PODS, memTotalBytes, type NodeResources } from './capacity.js';

export interface HostCapacityOptions {
  /** Replicas the node accepts. Default 110. */
  maxPods?: number;
  /** Where /proc and the cgroup hierarchy are mounted. Defaults /proc and /sys/fs/cgroup. */
  procRoot?: string;
  cgroupRoot?: string;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The CPU limit of this process's cgroup in millicores (v2 cpu.max, else v1 CFS quota); undefined when none. */
async function cgroupCpuMillis(procRoot: string, cgroupRoot: string): Promise<number | undefined> {
  const self = (await readOptional(join(procRoot, 'self', 'cgroup'))) ?? '';
  const unified = cgroupPath(self, '');
  if (unified !== undefined) {
    const cpuMax = await readOptional(join(cgroupRoot, unified, 'cpu.max'));
    if (cpuMax !== undefined) return cpuMaxMillis(cpuMax);
  }
  const v1 = cgroupPath(self, 'cpu');
  if (v1 === undefined) return undefined;
  // The cpu controller is mounted as cpu/ or cpu,cpuacct/ depending on the distribution.
  for (const mount of ['cpu', 'cpu,cpuacct']) {
    const dir = join(cgroupRoot, mount, v1);
    const quota = await readOptional(join(dir, 'cpu.cfs_quota_us'));
    const period = await readOptional(join(dir, 'cpu.cfs_period_us'));
    if (quota !== undefined && period !== undefined) return cfsQuotaMillis(quota, period);
  }
  return undefined;
}

/** The host's capacity now. Throws when /proc/meminfo cannot be read or has no MemTotal. */
export async function measureHostCapacity(options: HostCapacityOptions = {}): Promise<NodeResources> {
  const procRoot = options.procRoot ?? '/proc';
  const cgroupRoot = options.cgroupRoot ?? '/sys/fs/cgroup';
  const meminfoPath = join(procRoot, 'meminfo');
  let meminfo: string;
  try {
    meminfo = await readFile(meminfoPath, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${meminfoPath} to measure the node's memory: ${(err as Error).message}`, { cause: err });
  }
  return capacityOf({
    cores: availableParallelism(),
    cgroupCpuMillis: await cgroupCpuMillis(procRoot, cgroupRoot),
    memTotalBytes: memTotalBytes(meminfo),
    pods: options.maxPods ?? DEFAULT_MAX_PODS,
  });
}
