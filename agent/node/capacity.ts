// The arithmetic of a node's resources: what the host files say, in the quantities a NodeAgent
// reports, and what is left for replicas once the node's own share is set aside. Pure: the
// caller reads /proc and the cgroup files (see host-capacity.ts).
import { cpuMillis, memoryBytes, type Quantity } from '../../api/index.js';

/** Resources as a NodeAgent's status.capacity and status.allocatable carry them. */
export interface NodeResources {
  /** Cores ("2") or millicores ("1500m"). */
  cpu: string;
  /** Bytes with the largest binary suffix that divides them exactly ("24683664Ki"). */
  memory: string;
  pods: number;
}

/** What the node keeps for itself (system daemons, the agent, the runtime); each part optional. */
export interface Reservation {
  cpu?: Quantity;
  memory?: Quantity;
  pods?: number;
}

/** Replicas a node accepts unless configured otherwise (kubelet's maxPods). */
export const DEFAULT_MAX_PODS = 110;

/** MemTotal of /proc/meminfo in bytes; throws naming the file's shape when it is not there. */
export function memTotalBytes(meminfo: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB\s*$/m.exec(meminfo);
  if (!m) throw new Error('/proc/meminfo has no "MemTotal: <n> kB" line; cannot measure the node\'s memory');
  return Number(m[1]) * 1024;
}

/**
 * The CPU limit, in millicores, of a cgroup v2 `cpu.max` ("max 100000" or "150000 100000");
 * undefined when unlimited or unreadable.
 */
export function cpuMaxMillis(cpuMax: string): number | undefined {
  const [quota, period] = cpuMax.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  return quotaMillis(Number(quota), Number(period ?? 100_000));
}

/** The CPU limit, in millicores, of cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1: none). */
export function cfsQuotaMillis(quotaUs: string, periodUs: string): number | undefined {
  return quotaMillis(Number(quotaUs.trim()), Number(periodUs.trim()));
}

function quotaMillis(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return Math.ceil((quota * 1000) / period);
}

/** The path of this process's cgroup for `controller` (v1), or its unified path (v2, controller ""), from /proc/self/cgroup. */
export function cgroupPath(procSelfCgroup: string, controller: string): string | undefined {
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const controllers = m[1] === '' ? [''] : (m[1] ?? '').split(',');
    if (controllers.includes(controller)) return m[2];
  }
  return undefined;
}

/** Cores when whole ("2"), else millicores ("1500m"). */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

const BINARY_SUFFIXES: ReadonlyArray<[string, number]> = [
  ['Ti', 2 ** 40],
  ['Gi', 2 ** 30],
  ['Mi', 2 ** 20],
  ['Ki', 2 ** 10],
];

/** Bytes with the largest binary suffix that divides them exactly, as kubelet writes memory. */
export function formatMemory(bytes: number): string {
  const whole = Math.max(0, Math.floor(bytes));
  if (whole === 0) return '0';
  for (const [suffix, factor] of BINARY_SUFFIXES) if (whole % factor === 0) return `${whole / factor}${suffix}`;
  return String(whole);
}

/** The node's capacity from what was measured: CPUs are the smaller of the cores and the cgroup limit. */
export function capacityOf(measured: { cores: number; cgroupCpuMillis?: number; memTotalBytes: number; pods: number }): NodeResources {
  const coreMillis = measured.cores * 1000;
  const millis = measured.cgroupCpuMillis !== undefined ? Math.min(coreMillis, measured.cgroupCpuMillis) : coreMillis;
  return { cpu: formatCpu(millis), memory: formatMemory(measured.memTotalBytes), pods: measured.pods };
}

/**
 * Capacity minus the reservation, never below zero. Throws when a reserved quantity is not a
 * quantity, naming it, since the node would otherwise offer what it does not have.
 */
export function allocatableOf(capacity: NodeResources, reserved: Reservation = {}): NodeResources {
  const reservedCpu = reserved.cpu === undefined ? 0 : cpuMillis(reserved.cpu);
  const reservedMemory = reserved.memory === undefined ? 0 : memoryBytes(reserved.memory);
  return {
    cpu: formatCpu(Math.max(0, cpuMillis(capacity.cpu) - reservedCpu)),
    memory: formatMemory(Math.max(0, memoryBytes(capacity.memory) - reservedMemory)),
    pods: Math.max(0, capacity.pods - (reserved.pods ?? 0)),
  };
}
