// Node liveness from the agents' Leases. A Lease's renewTime is written by the node's clock, so
// only its first sighting is trusted as a time; after that a renewal counts from the moment this
// operator saw it change, which keeps clock skew between nodes and operator out of the verdict.

/** Lease duration assumed when a Lease does not state one (the agent renews every 10 s). */
export const DEFAULT_LEASE_DURATION_MS = 40_000;
/** How long a node may be gone before Replicas workloads get replacements elsewhere. */
export const DEFAULT_NODE_LOSS_GRACE_MS = 60_000;

/**
 * Live: Lease renewed within its duration. Expired: not renewed, replicas there are Unknown.
 * Lost: expired for longer than the grace period, Replicas workloads place replacements.
 */
export type NodeHealth = 'Live' | 'Expired' | 'Lost';

export interface LeaseSeen {
  /** When the Lease was last renewed, on this operator's clock. */
  renewedAt: number;
  durationMs: number;
}

export interface HealthVerdict {
  health: NodeHealth;
  /** When the Lease expired (Expired, Lost). */
  expiredAt?: number;
  /** When the verdict changes if nothing is renewed (Live, Expired). */
  changesAt?: number;
}

export function nodeHealth(seen: LeaseSeen, now: number, graceMs: number): HealthVerdict {
  const expiresAt = seen.renewedAt + seen.durationMs;
  if (now < expiresAt) return { health: 'Live', changesAt: expiresAt };
  const lostAt = expiresAt + graceMs;
  if (now < lostAt) return { health: 'Expired', expiredAt: expiresAt, changesAt: lostAt };
  return { health: 'Lost', expiredAt: expiresAt };
}

export interface LeaseFields {
  renewTime?: string | Date;
  leaseDurationSeconds?: number;
}

function toMillis(t: string | Date | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Remembers, per node, when this operator saw its Lease renewed. */
export class LeaseTracker {
  private readonly seen = new Map<string, LeaseSeen & { renewTime: number | undefined }>();

  /**
   * Records a sighting of `node`'s Lease (undefined: the node has no Lease). Returns what is now
   * known. A node never seen with a Lease counts as renewed one duration ago: expired from now.
   */
  observe(node: string, lease: LeaseFields | undefined, now: number): LeaseSeen {
    const durationMs = lease?.leaseDurationSeconds ? lease.leaseDurationSeconds * 1000 : DEFAULT_LEASE_DURATION_MS;
    const renewTime = toMillis(lease?.renewTime);
    const previous = this.seen.get(node);
    let renewedAt: number;
    if (!previous) renewedAt = renewTime === undefined ? now - durationMs : Math.min(renewTime, now);
    else if (renewTime !== undefined && renewTime !== previous.renewTime) renewedAt = now;
    else renewedAt = previous.renewedAt;
    const entry = { renewedAt, durationMs, renewTime };
    this.seen.set(node, entry);
    return { renewedAt, durationMs };
  }

  get(node: string): LeaseSeen | undefined {
    const e = this.seen.get(node);
    return e ? { renewedAt: e.renewedAt, durationMs: e.durationMs } : undefined;
  }

  forget(node: string): void {
    this.seen.delete(node);
  }
}
