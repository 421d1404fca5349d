import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Gauge, Registry } from 'prom-client';
import type { KubeClient } from './client.js';
import { sleep, systemClock, type Clock } from './clock.js';
import { isAlreadyExists, isConflict, isNotFound } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { leaderElectionMetrics } from './metrics.js';
import { LEASES } from './resource.js';
import type { KubeObject } from './types.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** A `metav1.MicroTime`: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/**
 * Whether `identity` may take or keep a lease whose record it last saw change at
 * `observedAtMs` (by its own clock). Expiry is judged from when this replica saw the record
 * change, never from the timestamps in it, so clocks of different machines need not agree.
 */
export function mayAcquire(spec: LeaseSpec | undefined, identity: string, observedAtMs: number, nowMs: number, defaultDurationMs: number): boolean {
  const holder = spec?.holderIdentity;
  if (!holder || holder === identity) return true;
  return observedAtMs + leaseDurationMs(spec, defaultDurationMs) <= nowMs;
}

function leaseDurationMs(spec: LeaseSpec | undefined, defaultDurationMs: number): number {
  return spec?.leaseDurationSeconds ? spec.leaseDurationSeconds * 1000 : defaultDurationMs;
}

/**
 * How long a candidate waits before its next attempt: the retry period, or less when the lease
 * it saw expires sooner, so a crashed leader is replaced when its lease runs out rather than up
 * to a retry period later. `expiresAtMs` is undefined when nobody else holds the lease; an
 * expiry already past (an attempt that failed anyway) waits the full period, never spins.
 */
export function nextAttemptInMs(expiresAtMs: number | undefined, nowMs: number, retryMs: number): number {
  if (expiresAtMs === undefined || expiresAtMs <= nowMs) return retryMs;
  return Math.min(retryMs, expiresAtMs - nowMs);
}

/** The lease record `identity` writes to take or renew a lease that had `old`. */
export function leaseFor(old: LeaseSpec | undefined, identity: string, nowMs: number, durationSeconds: number): LeaseSpec {
  const renewing = old?.holderIdentity === identity;
  return {
    holderIdentity: identity,
    leaseDurationSeconds: durationSeconds,
    acquireTime: renewing && old?.acquireTime ? old.acquireTime : microTime(nowMs),
    renewTime: microTime(nowMs),
    // A new lease starts at 0; every change of hands (a released lease included) counts one.
    leaseTransitions: renewing || !old ? (old?.leaseTransitions ?? 0) : (old.leaseTransitions ?? 0) + 1,
  };
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  /** The Lease's name (one per component, e.g. `shopfloor-operator`). */
  name: string;
  /** Unique per replica; default `<hostname>_<uuid>`. */
  identity?: string;
  /** How long a lease is valid without renewal. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long. Default 10 s. */
  renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  /** Hand the lease over (empty holder) when `stop` is called while leading. Default true. */
  releaseOnStop?: boolean;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
}

export interface LeaderCallbacks {
  /** Called once when this replica becomes leader; `signal` aborts the moment it is not. */
  onStartedLeading(signal: AbortSignal): void;
  /** Called once after leadership ended (lost or stopped), after `signal` aborted. */
  onStoppedLeading?(): void;
  /** Called whenever a different holder is observed (including this replica). */
  onNewLeader?(identity: string): void;
}

/** `lost`: renewal failed or another replica took the lease. `stopped`: `stop()` was called. */
export type LeadershipEnd = 'lost' | 'stopped';

/**
 * Leader election on a `coordination.k8s.io/v1` Lease (optimistic concurrency on its
 * resourceVersion). `run` campaigns until this replica leads, calls `onStartedLeading`, renews
 * every retry period, and resolves when leadership ends. A replica that resolves with `lost`
 * must stop acting at once (the signal given to `onStartedLeading` has aborted) and should exit
 * the process: another replica may be leading already, and a fresh process campaigns cleanly.
 */
export class LeaderElector {
  readonly identity: string;
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly name: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly releaseOnStop: boolean;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly status: Gauge<'name'> | undefined;
  private readonly stopSignal = new AbortController();
  /** The lease record last seen (as a key), when it changed, and when it expires if another holds it. */
  private observed: { key: string; atMs: number; expiresAtMs: number | undefined } | undefined;
  private lastHolder: string | undefined;
  private leading = false;
  private onNewLeader: ((identity: string) => void) | undefined;

  constructor(options: LeaderElectionOptions) {
    this.client = options.client;
    this.namespace = options.namespace;
    this.name = options.name;
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.releaseOnStop = options.releaseOnStop ?? true;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs && this.retryPeriodMs > 0)) {
      throw new Error(
        `leader election ${this.name}: need leaseDuration (${this.leaseDurationMs} ms) > renewDeadline (${this.renewDeadlineMs} ms) > retryPeriod (${this.retryPeriodMs} ms) > 0`,
      );
    }
    if (this.leaseDurationMs % 1000 !== 0) {
      throw new Error(`leader election ${this.name}: leaseDurationMs must be whole seconds (a Lease stores seconds), got ${this.leaseDurationMs}`);
    }
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ lease: `${this.namespace}/${this.name}`, identity: this.identity });
    this.status = options.registry ? leaderElectionMetrics(options.registry) : undefined;
    this.status?.set({ name: this.name }, 0);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns, leads, and resolves when leadership ends. Call once. */
  async run(callbacks: LeaderCallbacks): Promise<LeadershipEnd> {
    const stop = this.stopSignal.signal;
    this.onNewLeader = callbacks.onNewLeader;
    while (!stop.aborted && !(await this.tryAcquireOrRenew())) {
      const retryMs = this.retryPeriodMs * (1 + Math.random() * 0.2);
      await sleep(this.clock, nextAttemptInMs(this.observed?.expiresAtMs, this.clock.now(), retryMs), stop);
    }
    if (stop.aborted) return 'stopped';
    this.leading = true;
    this.status?.set({ name: this.name }, 1);
    this.logger.info('became leader');
    const leadership = new AbortController();
    callbacks.onStartedLeading(leadership.signal);
    const end = await this.renewLoop();
    this.leading = false;
    this.status?.set({ name: this.name }, 0);
    leadership.abort();
    if (end === 'stopped' && this.releaseOnStop) await this.release();
    if (end === 'lost') this.logger.error('lost the leader lease; stopping at once');
    else this.logger.info('stopped leading');
    callbacks.onStoppedLeading?.();
    return end;
  }

  /** Ends the campaign or leadership; `run` resolves with `stopped`. */
  stop(): void {
    this.stopSignal.abort();
  }

  private async renewLoop(): Promise<LeadershipEnd> {
    const stop = this.stopSignal.signal;
    let lastRenew = this.clock.now();
    for (;;) {
      await sleep(this.clock, this.retryPeriodMs, stop);
      if (stop.aborted) return 'stopped';
      const renewed = await this.tryAcquireOrRenew(Math.max(1, lastRenew + this.renewDeadlineMs - this.clock.now()));
      if (stop.aborted) return 'stopped';
      if (renewed) {
        lastRenew = this.clock.now();
        continue;
      }
      if (this.lastHolder && this.lastHolder !== this.identity) return 'lost';
      if (this.clock.now() - lastRenew >= this.renewDeadlineMs) return 'lost';
    }
  }

  /** One attempt; true when this replica holds the lease afterwards. Never throws. */
  private async tryAcquireOrRenew(timeoutMs = this.retryPeriodMs * 2): Promise<boolean> {
    const now = this.clock.now();
    const durationSeconds = this.leaseDurationMs / 1000;
    let lease: Lease;
    try {
      lease = await this.client.get<Lease>(LEASES, this.name, { namespace: this.namespace, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      if (!isNotFound(err)) {
        this.logger.warn({ err }, 'could not read the leader lease');
        return false;
      }
      try {
        const created = await this.client.create<Lease>(
          LEASES,
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.name, namespace: this.namespace }, spec: leaseFor(undefined, this.identity, now, durationSeconds) },
          { signal: AbortSignal.timeout(timeoutMs) },
        );
        this.observe(created.spec);
        return true;
      } catch (createErr) {
        if (!isAlreadyExists(createErr)) this.logger.warn({ err: createErr }, 'could not create the leader lease');
        return false;
      }
    }
    this.observe(lease.spec);
    // Judged after the read, which may have taken a while on a busy server.
    const readAt = this.clock.now();
    if (!mayAcquire(lease.spec, this.identity, this.observed?.atMs ?? readAt, readAt, this.leaseDurationMs)) return false;
    try {
      const updated = await this.client.update<Lease>(
        LEASES,
        { ...lease, spec: leaseFor(lease.spec, this.identity, this.clock.now(), durationSeconds) },
        { signal: AbortSignal.timeout(timeoutMs) },
      );
      this.observe(updated.spec);
      return true;
    } catch (err) {
      if (!isConflict(err)) this.logger.warn({ err }, 'could not update the leader lease');
      return false;
    }
  }

  /** Remembers when the lease record last changed, by this replica's clock. */
  private observe(spec: LeaseSpec | undefined): void {
    const key = JSON.stringify([spec?.holderIdentity, spec?.renewTime, spec?.acquireTime, spec?.leaseTransitions]);
    if (this.observed?.key !== key) {
      const atMs = this.clock.now();
      const other = spec?.holderIdentity && spec.holderIdentity !== this.identity;
      this.observed = { key, atMs, expiresAtMs: other ? atMs + leaseDurationMs(spec, this.leaseDurationMs) : undefined };
    }
    const holder = spec?.holderIdentity ?? '';
    if (holder !== (this.lastHolder ?? '')) {
      this.lastHolder = holder;
      if (holder) this.logger.info({ holder }, 'leader observed');
      if (holder) this.onNewLeader?.(holder);
    }
  }

  private async release(): Promise<void> {
    try {
      const lease = await this.client.get<Lease>(LEASES, this.name, { namespace: this.namespace, signal: AbortSignal.timeout(this.retryPeriodMs * 2) });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = this.clock.now();
      await this.client.update<Lease>(
        LEASES,
        { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now) } },
        { signal: AbortSignal.timeout(this.retryPeriodMs * 2) },
      );
      this.logger.info('released the leader lease');
    } catch (err) {
      this.logger.warn({ err }, 'could not release the leader lease; it expires on its own');
    }
  }
}
