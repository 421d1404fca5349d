// Service virtual IPs from one IPv4 range. Only the leader allocates; the table lives in memory
// and is rebuilt from the workloads' status.clusterIP at start, so an address handed out once is
// never handed out twice across restarts and leader changes.

import { numberToIp, parseCidr, ipToNumber, type Cidr } from './ipv4.js';

export const DEFAULT_VIP_CIDR = '10.250.0.0/16';

export type VipResult =
  | { ok: true; ip: string }
  | { ok: false; reason: 'ClusterIPOutOfRange' | 'ClusterIPTaken' | 'ClusterIPRangeFull'; message: string };

/**
 * Owners are "namespace/name" keys. The network and broadcast addresses of the range are never
 * handed out. Allocation walks forward from the last address handed out so that a just-released
 * address is not reused at once (agents may still route it).
 */
export class VipAllocator {
  readonly cidr: Cidr;
  private readonly byIp = new Map<number, string>();
  private readonly byOwner = new Map<string, number>();
  private cursor = 0;

  constructor(cidr: string = DEFAULT_VIP_CIDR) {
    this.cidr = parseCidr(cidr);
  }

  ipOf(owner: string): string | undefined {
    const n = this.byOwner.get(owner);
    return n === undefined ? undefined : numberToIp(n);
  }

  ownerOf(ip: string): string | undefined {
    const n = ipToNumber(ip);
    return n === undefined ? undefined : this.byIp.get(n);
  }

  get allocated(): number {
    return this.byIp.size;
  }

  private inRange(n: number): boolean {
    return n > this.cidr.base && n < this.cidr.base + this.cidr.size - 1;
  }

  /**
   * Makes `owner` hold an address: `requested` when given (the user's spec.service.clusterIP),
   * else the one it holds, else a new one. A failed request leaves what the owner held alone.
   */
  ensure(owner: string, requested?: string): VipResult {
    const held = this.byOwner.get(owner);
    if (requested !== undefined) {
      const n = ipToNumber(requested);
      if (n === undefined || !this.inRange(n)) {
        return {
          ok: false,
          reason: 'ClusterIPOutOfRange',
          message: `spec.service.clusterIP ${requested} is outside the operator's VIP range ${this.cidr.text} (network and broadcast addresses excluded): pick an address inside it or leave clusterIP unset`,
        };
      }
      const other = this.byIp.get(n);
      if (other !== undefined && other !== owner) {
        return {
          ok: false,
          reason: 'ClusterIPTaken',
          message: `spec.service.clusterIP ${requested} is already used by NodeWorkload ${other}: pick another address in ${this.cidr.text} or leave clusterIP unset`,
        };
      }
      if (held !== undefined && held !== n) this.byIp.delete(held);
      this.take(owner, n);
      return { ok: true, ip: requested };
    }
    if (held !== undefined) return { ok: true, ip: numberToIp(held) };
    const usable = this.cidr.size - 2;
    for (let i = 0; i < usable; i++) {
      const n = this.cidr.base + 1 + ((this.cursor + i) % usable);
      if (!this.byIp.has(n)) {
        this.cursor = (this.cursor + i + 1) % usable;
        this.take(owner, n);
        return { ok: true, ip: numberToIp(n) };
      }
    }
    return { ok: false, reason: 'ClusterIPRangeFull', message: `every address of the VIP range ${this.cidr.text} is in use: widen the range (--vip-cidr) or delete unused workloads` };
  }

  /**
   * Records an address found in a workload's status at start. Returns false (and records
   * nothing) when it is outside the range or already recorded for another owner.
   */
  restore(owner: string, ip: string): boolean {
    const n = ipToNumber(ip);
    if (n === undefined || !this.inRange(n)) return false;
    const other = this.byIp.get(n);
    if (other !== undefined && other !== owner) return false;
    const held = this.byOwner.get(owner);
    if (held !== undefined && held !== n) this.byIp.delete(held);
    this.take(owner, n);
    return true;
  }

  release(owner: string): void {
    const n = this.byOwner.get(owner);
    if (n === undefined) return;
    this.byOwner.delete(owner);
    this.byIp.delete(n);
  }

  private take(owner: string, n: number): void {
    this.byIp.set(n, owner);
    this.byOwner.set(owner, n);
  }
}
