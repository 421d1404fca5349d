// Leader election on a real Lease in the devcluster, with short timings (lease 3 s, renew
// deadline 2 s, retry 0.5 s): one replica leads, the other takes over when the leader stops,
// crashes, or can no longer reach the API server, and two never lead at once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { KubeClient } from '../../kube/client.js';
import { LeaderElector, type Lease, type LeadershipEnd } from '../../kube/leader-election.js';
import { LEASES } from '../../kube/resource.js';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';
import { NAMESPACES, eventually, metricValue, notYet, suffix, throughPort } from './support.js';
import { TcpProxy } from './tcp-proxy.js';

let cluster: TestCluster;
let client: KubeClient;
let proxy: TcpProxy;
const ns = `kube-leader-${suffix()}`;
const electors: LeaderElector[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  client = new KubeClient(cluster.kubeConfig);
  proxy = await TcpProxy.start('127.0.0.1', Number(new URL(cluster.url).port));
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
}, 120_000);

afterAll(async () => {
  for (const e of electors) e.stop();
  await proxy?.close();
  client?.close();
  await cluster?.stop();
});

/** One replica campaigning; records when it started and stopped leading. */
class Replica {
  readonly registry = new Registry();
  readonly elector: LeaderElector;
  startedAt: number | undefined;
  stoppedAt: number | undefined;
  /** The holders this replica has seen in the Lease, in order. */
  readonly leaders: string[] = [];
  signal: AbortSignal | undefined;
  readonly end: Promise<LeadershipEnd>;

  constructor(identity: string, lease: string, options: { viaProxy?: boolean; releaseOnStop?: boolean } = {}) {
    const c = options.viaProxy ? new KubeClient(throughPort(cluster.kubeConfig, proxy.port)) : client;
    this.elector = new LeaderElector({
      client: c,
      namespace: ns,
      name: lease,
      identity,
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 500,
      releaseOnStop: options.releaseOnStop ?? true,
      registry: this.registry,
    });
    electors.push(this.elector);
    this.end = this.elector.run({
      onStartedLeading: (signal) => {
        this.startedAt = Date.now();
        this.signal = signal;
      },
      onStoppedLeading: () => {
        this.stoppedAt = Date.now();
      },
      onNewLeader: (identity) => this.leaders.push(identity),
    });
  }

  leading(): boolean {
    return this.startedAt !== undefined && this.stoppedAt === undefined;
  }

  status(): Promise<number> {
    return metricValue(this.registry, 'leader_election_master_status');
  }
}

async function holder(lease: string): Promise<string | undefined> {
  return (await client.get<Lease>(LEASES, lease, { namespace: ns })).spec?.holderIdentity;
}

async function renewTime(lease: string): Promise<string | undefined> {
  return (await client.get<Lease>(LEASES, lease, { namespace: ns })).spec?.renewTime;
}

/** Waits until `standby` has read the Lease and found `leader` holding it: it has campaigned and lost. */
async function standingBy(standby: Replica, leader: string): Promise<void> {
  await eventually(`the standby to see ${leader} leading`, () => standby.leaders.includes(leader) || notYet(`seen ${JSON.stringify(standby.leaders)}`));
}

describe(`LeaderElector against ${testApiServer()}`, () => {
  it('elects one leader; a standby takes over at once when the leader stops and releases', async () => {
    const lease = `release-${suffix()}`;
    const a = new Replica('a', lease);
    await eventually('a to lead', () => a.leading());
    const b = new Replica('b', lease);
    await standingBy(b, 'a');
    // a renews while b campaigns: the lease stays a's all the same.
    const seen = await renewTime(lease);
    await eventually('a to renew its lease', async () => (await renewTime(lease)) !== seen || notYet(`renewTime still ${seen}`));
    expect(b.leading()).toBe(false);
    expect(await a.status()).toBe(1);
    expect(await b.status()).toBe(0);
    expect(await holder(lease)).toBe('a');

    a.elector.stop();
    expect(await a.end).toBe('stopped');
    expect(a.signal?.aborted).toBe(true);
    // The released lease (empty holder) is free: b needs no expiry wait.
    await eventually('b to lead', () => b.leading(), 5000);
    expect(await holder(lease)).toBe('b');
    expect(await a.status()).toBe(0);
    expect(await b.status()).toBe(1);
    expect((b.startedAt as number) >= (a.stoppedAt as number)).toBe(true);
    const record = await client.get<Lease>(LEASES, lease, { namespace: ns });
    expect(record.spec?.leaseTransitions).toBe(1);
    b.elector.stop();
    await b.end;
  });

  it('replaces a leader that vanished without releasing, only after its lease expired', async () => {
    const lease = `crash-${suffix()}`;
    const a = new Replica('a', lease, { releaseOnStop: false });
    await eventually('a to lead', () => a.leading());
    const b = new Replica('b', lease);
    await standingBy(b, 'a');
    a.elector.stop();
    await a.end;
    const lastRenewal = Date.parse((await renewTime(lease)) ?? '');
    expect(await holder(lease)).toBe('a');
    // a's last renewal holds for the lease duration (3 s): b must wait it out.
    await eventually('b to take the expired lease', () => b.leading(), 10_000);
    expect(b.startedAt!).toBeGreaterThanOrEqual(lastRenewal + 3000);
    expect(await holder(lease)).toBe('b');
    b.elector.stop();
    await b.end;
  });

  it('a leader cut off from the API server stops at once, before the standby takes over', async () => {
    const lease = `cutoff-${suffix()}`;
    const a = new Replica('a', lease, { viaProxy: true });
    await eventually('a to lead', () => a.leading());
    const b = new Replica('b', lease);
    await standingBy(b, 'a');
    expect(b.leading()).toBe(false);

    proxy.freeze({ newConnections: true });
    expect(await a.end).toBe('lost');
    expect(a.signal?.aborted).toBe(true);
    expect(await a.status()).toBe(0);
    await eventually('b to lead', () => b.leading(), 10_000);
    // Never two leaders: a gave up before b could take the lease.
    expect((a.stoppedAt as number) < (b.startedAt as number)).toBe(true);
    proxy.thaw();
    proxy.cut();
    b.elector.stop();
    await b.end;
  });
});
