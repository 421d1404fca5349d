// The node's heartbeat: a coordination.k8s.io/v1 Lease named after the node, renewed like
// kubelet's node lease controller does it. Each period the last Lease written is updated (no
// read first); a failed update is retried at once up to 5 times, a lost race re-reads it, and
// when the updates all fail the Lease is read (or created when missing) with a backoff that
// doubles from 200 ms to 7 s, until the API answers.
import type { KubeClient } from '../../kube/client.js';
import { sleep, systemClock, type Clock } from '../../kube/clock.js';
import { isConflict, isNotFound } from '../../kube/errors.js';
import { microTime, type Lease } from '../../kube/leader-election.js';
import { silentLogger, type Logger } from '../../kube/logger.js';
import { LEASES } from '../../kube/resource.js';
import type { OwnerReference } from '../../kube/types.js';

/** Immediate attempts of one renewal before falling back to reading the Lease (kubelet's maxUpdateRetries). */
export const MAX_UPDATE_RETRIES = 5;
/** kubelet's default node lease duration. */
export const DEFAULT_LEASE_DURATION_SECONDS = 40;
/** Longest wait between attempts to read or create the Lease (kubelet's maxBackoff). */
export const MAX_ENSURE_BACKOFF_MS = 7_000;

/** The wait after the n-th failed attempt (from 1) to read or create the Lease: 200 ms doubling to 7 s. */
export function ensureBackoffMs(failures: number): number {
  return Math.min(100 * 2 ** failures, MAX_ENSURE_BACKOFF_MS);
}

/**
 * The Lease as this node writes it: held by the node, renewed now, owned by the node's NodeAgent
 * when it is known (so deleting the NodeAgent removes the Lease). Other owners and fields stay.
 */
export function renewedLease(base: Lease | undefined, o: { nodeName: string; namespace: string; nowMs: number; durationSeconds: number; owner: OwnerReference | undefined }): Lease {
  const metadata = { ...(base?.metadata ?? {}), name: o.nodeName, namespace: o.namespace };
  if (o.owner) {
    const others = (metadata.ownerReferences ?? []).filter((r) => !(r.kind === o.owner?.kind && r.apiVersion === o.owner.apiVersion));
    metadata.ownerReferences = [...others, o.owner];
  }
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata,
    spec: { ...(base?.spec ?? {}), holderIdentity: o.nodeName, leaseDurationSeconds: o.durationSeconds, renewTime: microTime(o.nowMs) },
  };
}

export interface NodeLeaseOptions {
  client: KubeClient;
  nodeName: string;
  /** Namespace of the Lease (the Shopfloor system namespace). */
  namespace: string;
  /** Default 40. */
  leaseDurationSeconds?: number;
  /** Time from the end of one renewal to the start of the next. Default a quarter of the duration (kubelet's fraction): 10 s. */
  renewIntervalMs?: number;
  /** The NodeAgent as the Lease's owner, once registered. */
  owner?: () => OwnerReference | undefined;
  clock?: Clock;
  logger?: Logger;
}

export type RenewalState = { ok: true; atMs: number } | { ok: false; error: string } | undefined;

export class NodeLease {
  private readonly client: KubeClient;
  private readonly nodeName: string;
  private readonly namespace: string;
  private readonly durationSeconds: number;
  private readonly renewIntervalMs: number;
  private readonly owner: () => OwnerReference | undefined;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  /** The Lease as last written or read: renewals update it without reading first. */
  private latest: Lease | undefined;
  private state: RenewalState;
  private loop: Promise<void> | undefined;

  constructor(options: NodeLeaseOptions) {
    this.client = options.client;
    this.nodeName = options.nodeName;
    this.namespace = options.namespace;
    this.durationSeconds = options.leaseDurationSeconds ?? DEFAULT_LEASE_DURATION_SECONDS;
    this.renewIntervalMs = options.renewIntervalMs ?? this.durationSeconds * 250;
    if (!Number.isInteger(this.durationSeconds) || this.durationSeconds < 1) {
      throw new Error(`node lease: leaseDurationSeconds must be a whole number of seconds, 1 or more, got ${this.durationSeconds}`);
    }
    if (!(this.renewIntervalMs > 0 && this.renewIntervalMs < this.durationSeconds * 1000)) {
      throw new Error(`node lease: renewIntervalMs (${this.renewIntervalMs}) must be above 0 and below the lease duration (${this.durationSeconds} s)`);
    }
    this.owner = options.owner ?? (() => undefined);
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ lease: `${this.namespace}/${this.nodeName}` });
  }

  /** Renews now, then every interval, until `stop`. */
  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** How the last renewal went; undefined before the first one ended. */
  lastRenewal(): RenewalState {
    return this.state;
  }

  private async run(): Promise<void> {
    const stop = this.abort.signal;
    while (!stop.aborted) {
      await this.renew();
      await sleep(this.clock, this.renewIntervalMs, stop);
    }
  }

  /** One renewal (kubelet's sync). Never throws. */
  private async renew(): Promise<void> {
    if (this.latest && (await this.retryUpdate(this.latest))) return;
    const ensured = await this.backoffEnsure();
    if (!ensured) return;
    if (ensured.created) {
      this.renewed(ensured.lease);
      return;
    }
    await this.retryUpdate(ensured.lease);
  }

  private async retryUpdate(base: Lease): Promise<boolean> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= MAX_UPDATE_RETRIES; attempt++) {
      if (this.abort.signal.aborted) return false;
      try {
        this.renewed(await this.client.update<Lease>(LEASES, this.leaseFrom(base), { signal: this.requestSignal() }));
        return true;
      } catch (err) {
        lastError = err;
        if (this.abort.signal.aborted) return false;
        // Deleted: no update can succeed; it is created again at once.
        if (isNotFound(err)) {
          this.logger.warn('node lease is gone; creating it again');
          this.latest = undefined;
          return false;
        }
        this.logger.warn({ err, attempt }, 'could not renew the node lease');
        if (isConflict(err)) {
          const ensured = await this.backoffEnsure();
          if (!ensured) return false;
          base = ensured.lease;
        }
      }
    }
    this.failed(lastError, `${MAX_UPDATE_RETRIES} attempts to renew failed`);
    return false;
  }

  /** Reads the Lease, or creates it when missing, retrying with backoff until it works or the lease stops. */
  private async backoffEnsure(): Promise<{ lease: Lease; created: boolean } | undefined> {
    for (let failures = 1; !this.abort.signal.aborted; failures++) {
      try {
        return await this.ensure();
      } catch (err) {
        if (this.abort.signal.aborted) return undefined;
        const retryInMs = ensureBackoffMs(failures);
        this.failed(err, 'could not read or create it');
        this.logger.warn({ err, retryInMs }, 'could not read or create the node lease; retrying');
        await sleep(this.clock, retryInMs, this.abort.signal);
      }
    }
    return undefined;
  }

  private async ensure(): Promise<{ lease: Lease; created: boolean }> {
    try {
      return { lease: await this.client.get<Lease>(LEASES, this.nodeName, { namespace: this.namespace, signal: this.requestSignal() }), created: false };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      const lease = await this.client.create<Lease>(LEASES, this.leaseFrom(undefined), { signal: this.requestSignal() });
      this.logger.info('created the node lease');
      return { lease, created: true };
    } catch (err) {
      if (isNotFound(err)) {
        throw new Error(`cannot create Lease ${this.namespace}/${this.nodeName}: namespace ${this.namespace} does not exist; create it (the Helm chart does) or pass the system namespace the operator uses`, { cause: err });
      }
      throw err;
    }
  }

  private leaseFrom(base: Lease | undefined): Lease {
    return renewedLease(base, { nodeName: this.nodeName, namespace: this.namespace, nowMs: this.clock.now(), durationSeconds: this.durationSeconds, owner: this.owner() });
  }

  /** A request may take no longer than one renewal period, and ends when the lease stops. */
  private requestSignal(): AbortSignal {
    return AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.renewIntervalMs)]);
  }

  private renewed(lease: Lease): void {
    if (this.state && !this.state.ok) this.logger.info('node lease renewed again');
    this.latest = lease;
    this.state = { ok: true, atMs: this.clock.now() };
  }

  private failed(err: unknown, what: string): void {
    this.state = { ok: false, error: `${what}: ${err instanceof Error ? err.message : String(err)}` };
  }
}
