import type { Storage } from '../storage/storage.js';
import type { KubeObject } from './object.js';
import { isPlainObject } from './object.js';
import { wantsClusterIp } from './service-rules.js';
import { invalid, type StatusCause } from './status.js';

/**
 * Where Services' cluster IPs come from: kubeadm's default service subnet. Its first address is
 * the one kube-apiserver gives its own `default/kubernetes` Service, so allocation starts after it.
 */
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';

const SERVICES_PREFIX = '/registry/core/services/';

export interface Ipv4Range {
  cidr: string;
  /** The network address and the broadcast address, as numbers; neither is handed out. */
  first: number;
  last: number;
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

const dotted = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

export function parseIpv4Range(cidr: string): Ipv4Range {
  const [address, bits] = cidr.split('/');
  const base = ipv4(address ?? '');
  const prefix = Number(bits);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 8 || prefix > 30) throw new Error(`service cluster IP range "${cidr}": must be an IPv4 CIDR with a prefix of 8 to 30 bits`);
  const size = 2 ** (32 - prefix);
  const first = base - (base % size);
  return { cidr, first, last: first + size - 1 };
}

/**
 * The cluster IP a Service is given: the requested one if it is in range and free, else the
 * lowest free address after the range's first usable one (deterministic, unlike kube-apiserver's
 * random pick). A cause names spec.clusterIPs as kube-apiserver's allocator does.
 */
export function pickClusterIp(range: Ipv4Range, used: ReadonlySet<string>, requested: string | undefined): { ip: string } | { cause: StatusCause } {
  const refuse = (ip: string, why: string): { cause: StatusCause } => ({ cause: { reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: ${JSON.stringify([ip])}: failed to allocate IP ${ip}: ${why}` } });
  if (requested) {
    const n = ipv4(requested);
    if (n === undefined) return { cause: { reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: `Invalid value: ${JSON.stringify(requested)}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)` } };
    if (n <= range.first || n >= range.last) return refuse(requested, 'the provided network does not match the current range');
    return used.has(dotted(n)) ? refuse(requested, 'provided IP is already allocated') : { ip: dotted(n) };
  }
  for (let n = range.first + 2; n < range.last; n++) if (!used.has(dotted(n))) return { ip: dotted(n) };
  return refuse('', `range is full (${range.cidr})`);
}

/**
 * Gives Services their cluster IPs from the stored Services' addresses. Allocation and the write
 * that stores it run one at a time, so two creates in this process never take the same address
 * (a second devcluster on the same etcd could; kube-apiserver keeps an allocation record instead).
 */
export class ClusterIps {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly range: Ipv4Range;

  constructor(private readonly storage: Storage, cidr = SERVICE_CLUSTER_IP_RANGE) {
    this.range = parseIpv4Range(cidr);
  }

  /**
   * Runs `write` once `service` has its cluster IP (allocated, or the requested one checked);
   * Services without one (headless, ExternalName) and those that keep theirs go straight through.
   */
  allocating<T>(service: KubeObject, current: KubeObject | undefined, write: () => Promise<T>): Promise<T> {
    const spec = isPlainObject(service.spec) ? service.spec : undefined;
    const had = current && isPlainObject(current.spec) && wantsClusterIp(current) ? current.spec.clusterIP : undefined;
    if (!spec || !wantsClusterIp(service) || (had && spec.clusterIP === had)) return write();
    const run = this.queue.then(async () => {
      const picked = pickClusterIp(this.range, await this.usedAddresses(), typeof spec.clusterIP === 'string' ? spec.clusterIP : undefined);
      if ('cause' in picked) throw invalid('Service', '', service.metadata.name ?? '', [picked.cause]);
      spec.clusterIP = picked.ip;
      spec.clusterIPs = [picked.ip];
      return write();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async usedAddresses(): Promise<Set<string>> {
    const used = new Set<string>();
    const page = await this.storage.listPage(SERVICES_PREFIX, { limit: 0 });
    for (const { object } of page.items) {
      const ips = isPlainObject(object.spec) && Array.isArray(object.spec.clusterIPs) ? object.spec.clusterIPs : [];
      for (const ip of ips) used.add(String(ip));
    }
    return used;
  }
}
