// The VIP table as reconciles use it: a workload claims its address or releases it, and a
// workload refused the clusterIP it asked for (another holds it) waits for it; whenever an
// address is freed, the waiting workloads are woken to try again.
import type { VipAllocator, VipResult } from './vip-allocator.js';

export interface VipClaim {
  result: VipResult;
  /** The address held before the claim, when it differs from the one held after. */
  moved?: { from: string | undefined; to: string };
}

export class VipClaims {
  private readonly waiting = new Set<string>();

  /** `wake` reconciles a waiting workload again. */
  constructor(
    readonly allocator: VipAllocator,
    private readonly wake: (workload: string) => void,
  ) {}

  held(workload: string): string | undefined {
    return this.allocator.ipOf(workload);
  }

  /** Makes `workload` hold an address: `requested` (spec.service.clusterIP) when given. */
  claim(workload: string, requested: string | undefined): VipClaim {
    const before = this.allocator.ipOf(workload);
    const result = this.allocator.ensure(workload, requested);
    if (!result.ok) {
      this.waiting.add(workload);
      return { result };
    }
    this.waiting.delete(workload);
    if (before === result.ip) return { result };
    // Moving to a requested address frees the old one, which another may be waiting for.
    if (before !== undefined) this.wakeWaiting();
    return { result, moved: { from: before, to: result.ip } };
  }

  /** `workload` needs no address (any more); returns the one it released. */
  release(workload: string): string | undefined {
    this.waiting.delete(workload);
    const held = this.allocator.ipOf(workload);
    if (held === undefined) return undefined;
    this.allocator.release(workload);
    this.wakeWaiting();
    return held;
  }

  private wakeWaiting(): void {
    for (const workload of this.waiting) this.wake(workload);
  }
}
