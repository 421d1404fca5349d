// Renewal timing and retries on a fake clock, over a fake Lease API: an API server cannot be
// made to fail exactly the third update on demand, and a real one would need real time.
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeClient } from '../../kube/client.js';
import { KubeApiError, KubeTransportError } from '../../kube/errors.js';
import { FakeClock } from '../../kube/fake-clock.js';
import { microTime, type Lease } from '../../kube/leader-election.js';
import type { KubeObject, OwnerReference } from '../../kube/types.js';
import { ensureBackoffMs, NodeLease, renewedLease } from './lease.js';
import { unreachableKubeConfig } from '../../kube/test-fixtures.js';

const kc = unreachableKubeConfig();

type Verb = 'get' | 'create' | 'update';

/** A fake Lease API holding at most one Lease; `failNext` makes the next calls of a verb fail. */
class FakeLeaseApi extends KubeClient {
  lease: Lease | undefined;
  readonly calls: Array<{ verb: Verb; at: number }> = [];
  private readonly failures: Record<Verb, unknown[]> = { get: [], create: [], update: [] };
  private version = 0;

  constructor(private readonly clock: FakeClock) {
    super(kc);
  }

  /** Deletes the Lease, as a user would. */
  deleteLease(): void {
    this.lease = undefined;
  }

  failNext(verb: Verb, ...errors: unknown[]): void {
    this.failures[verb].push(...errors);
  }

  private call(verb: Verb): void {
    this.calls.push({ verb, at: this.clock.now() });
    const err = this.failures[verb].shift();
    if (err) throw err;
  }

  private stored(l: Lease): Lease {
    this.lease = structuredClone({ ...l, metadata: { ...l.metadata, resourceVersion: String(++this.version) } });
    return structuredClone(this.lease);
  }

  override get<T extends KubeObject>(): Promise<T> {
    return Promise.resolve().then(() => {
      this.call('get');
      if (!this.lease) throw notFound();
      return structuredClone(this.lease) as T;
    });
  }

  override create<T extends KubeObject>(_r: unknown, obj: T): Promise<T> {
    return Promise.resolve().then(() => {
      this.call('create');
      if (this.lease) throw new KubeApiError(409, 'AlreadyExists', {}, 'POST', 'leases');
      return this.stored(obj as Lease) as T;
    });
  }

  override update<T extends KubeObject>(_r: unknown, obj: T): Promise<T> {
    return Promise.resolve().then(() => {
      this.call('update');
      if (!this.lease) throw notFound();
      if (obj.metadata?.resourceVersion !== this.lease.metadata?.resourceVersion) throw new KubeApiError(409, 'Conflict', {}, 'PUT', 'leases');
      return this.stored(obj as Lease) as T;
    });
  }
}

function notFound(): KubeApiError {
  return new KubeApiError(404, 'NotFound', {}, 'GET', 'leases');
}

function serverError(): KubeApiError {
  return new KubeApiError(500, 'InternalError', { message: 'etcd hiccup' }, 'PUT', 'leases');
}

const owner: OwnerReference = { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeAgent', name: 'n1', uid: 'agent-uid' };

describe('renewedLease', () => {
  it('holds the lease for the node with the given duration, renewed now, owned by the NodeAgent', () => {
    const l = renewedLease(undefined, { nodeName: 'n1', namespace: 'sys', nowMs: 1_700_000_000_000, durationSeconds: 40, owner });
    expect(l).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'n1', namespace: 'sys', ownerReferences: [owner] },
      spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: microTime(1_700_000_000_000) },
    });
  });

  it('replaces a NodeAgent owner of an earlier registration and keeps other owners and fields', () => {
    const other: OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x' };
    const base: Lease = {
      metadata: { name: 'n1', namespace: 'sys', resourceVersion: '7', ownerReferences: [other, { ...owner, uid: 'old' }] },
      spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: microTime(0), leaseTransitions: 2 },
    };
    const l = renewedLease(base, { nodeName: 'n1', namespace: 'sys', nowMs: 5000, durationSeconds: 40, owner });
    expect(l.metadata?.resourceVersion).toBe('7');
    expect(l.metadata?.ownerReferences).toEqual([other, owner]);
    expect(l.spec).toEqual({ holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: microTime(5000), leaseTransitions: 2 });
  });

  it('leaves the owners as they are while the NodeAgent is not known', () => {
    const base: Lease = { metadata: { name: 'n1', namespace: 'sys', ownerReferences: [owner] } };
    expect(renewedLease(base, { nodeName: 'n1', namespace: 'sys', nowMs: 0, durationSeconds: 40, owner: undefined }).metadata?.ownerReferences).toEqual([owner]);
  });
});

describe('ensureBackoffMs', () => {
  it('doubles from 200 ms and stops at 7 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map(ensureBackoffMs)).toEqual([200, 400, 800, 1600, 3200, 6400, 7000, 7000]);
  });
});

describe('NodeLease', () => {
  let lease: NodeLease | undefined;
  afterEach(async () => {
    await lease?.stop();
    lease = undefined;
  });

  function start(clock: FakeClock, api: FakeLeaseApi, ownerOf: () => OwnerReference | undefined = () => owner): NodeLease {
    lease = new NodeLease({ client: api, nodeName: 'n1', namespace: 'sys', clock, owner: ownerOf });
    lease.start();
    return lease;
  }

  it('creates a missing lease, then renews it every 10 s by updating the Lease it wrote, without reading', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi(clock);
    const t0 = clock.now();
    const l = start(clock, api);
    await clock.advance(0);
    expect(api.lease?.spec).toEqual({ holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: microTime(t0) });
    expect(api.lease?.metadata?.ownerReferences).toEqual([owner]);
    expect(l.lastRenewal()).toEqual({ ok: true, atMs: t0 });

    await clock.advance(9_999);
    expect(api.calls.filter((c) => c.verb === 'update')).toHaveLength(0);
    await clock.advance(1);
    await clock.advance(10_000);
    expect(api.calls.map((c) => `${c.verb}@${c.at - t0}`)).toEqual(['get@0', 'create@0', 'update@10000', 'update@20000']);
    expect(api.lease?.spec?.renewTime).toBe(microTime(t0 + 20_000));
  });

  it('renews a shorter lease every quarter of its duration', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi(clock);
    const t0 = clock.now();
    lease = new NodeLease({ client: api, nodeName: 'n1', namespace: 'sys', leaseDurationSeconds: 8, clock, owner: () => owner });
    lease.start();
    await clock.advance(0);
    await clock.advance(2_000);
    await clock.advance(2_000);
    expect(api.calls.map((c) => `${c.verb}@${c.at - t0}`)).toEqual(['get@0', 'create@0', 'update@2000', 'update@4000']);
    expect(api.lease?.spec?.leaseDurationSeconds).toBe(8);
  });

  it('renews a lease that already exists after reading it once', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi(clock);
    api.lease = { metadata: { name: 'n1', namespace: 'sys', resourceVersion: '1' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: microTime(0) } };
    start(clock, api);
    await clock.advance(0);
    expect(api.calls.map((c) => c.verb)).toEqual(['get', 'update']);
    expect(api.lease.spec?.renewTime).toBe(microTime(clock.now()));
  });

  it('retries a failed renewal at once, up to 5 times, and then reads the lease', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi(clock);
    const l = start(clock, api);
    await clock.advance(0);
    api.calls.length = 0;

    api.failNext('update', serverError(), serverError());
    await clock.advance(10_000);
    expect(api.calls.map((c) => c.verb)).toEqual(['update', 'update', 'update']);
    expect(new Set(api.calls.map((c) => c.at)).size).toBe(1);
    expect(l.lastRenewal()).toEqual({ ok: true, atMs: clock.now() });

    api.calls.length = 0;
    api.failNext('update', ...Array.from({ length: 10 }, serverError));
    await clock.advance(10_000);
    // Five at once fail, the lease is read, five more fail: the round ends, the next period tries again.
    const five = ['update', 'update', 'update', 'update', 'update'];
    expect(api.calls.map((c) => c.verb)).toEqual([...five, 'get', ...five]);
    expect(l.lastRenewal()).toEqual({ ok: false, error: expect.stringMatching(/5 attempts to renew failed: .*etcd hiccup/) });

    api.calls.length = 0;
    await clock.advance(10_000);
    expect(api.calls.map((c) => c.verb)).toEqual(['update']);
    expect(l.lastRenewal()).toEqual({ ok: true, atMs: clock.now() });
  });

  it('backs off from 200 ms to 7 s while the API server cannot be reached, then renews at once', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi(clock);
    const down = (): KubeTransportError => new KubeTransportError('GET', 'leases', new Error('connect ECONNREFUSED'));
    api.failNext('get', ...Array.from({ length: 8 }, down));
    const t0 = clock.now();
    const l = start(clock, api);
    await clock.advance(0);
    expect(l.lastRenewal()).toEqual({ ok: false, error: expect.stringMatching(/could not read or create it: .*ECONNREFUSED/) });
    await clock.advance(60_000);
    const gets = api.calls.filter((c) => c.verb === 'get').map((c) => c.at - t0);
    expect(gets).toEqual([0, 200, 600, 1400, 3000, 6200, 12600, 19600, 26600]);
    expect(api.calls.find((c) => c.verb === 'create')?.at).toBe(t0 + 26_600);
    expect(l.lastRenewal()).toEqual({ ok: true, atMs: t0 + 26_600 + 30_000 });
  });

  it('creates the lease again at once when it was deleted', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi(clock);
    start(clock, api);
    await clock.advance(0);
    api.deleteLease();
    api.calls.length = 0;
    await clock.advance(10_000);
    expect(api.calls.map((c) => c.verb)).toEqual(['update', 'get', 'create']);
    expect(api.lease?.spec?.renewTime).toBe(microTime(clock.now()));
  });

  it('reads the lease again when another writer changed it, and renews on top of that', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi(clock);
    start(clock, api);
    await clock.advance(0);
    api.lease = { ...api.lease!, metadata: { ...api.lease!.metadata, resourceVersion: '99', labels: { by: 'admin' } } };
    api.calls.length = 0;
    await clock.advance(10_000);
    expect(api.calls.map((c) => c.verb)).toEqual(['update', 'get', 'update']);
    expect(api.lease?.metadata?.labels).toEqual({ by: 'admin' });
  });

  it('takes the NodeAgent as owner once it is registered', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi(clock);
    const registered: { owner?: OwnerReference } = {};
    start(clock, api, () => registered.owner);
    await clock.advance(0);
    expect(api.lease?.metadata?.ownerReferences).toBeUndefined();
    registered.owner = owner;
    await clock.advance(10_000);
    expect(api.lease?.metadata?.ownerReferences).toEqual([owner]);
  });

  it('stops renewing on stop and leaves no timer behind', async () => {
    const clock = new FakeClock();
    const api = new FakeLeaseApi(clock);
    const l = start(clock, api);
    await clock.advance(0);
    await l.stop();
    api.calls.length = 0;
    await clock.advance(60_000);
    expect(api.calls).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('refuses a renewal interval that is not shorter than the lease', () => {
    const clock = new FakeClock();
    expect(() => new NodeLease({ client: new FakeLeaseApi(clock), nodeName: 'n1', namespace: 'sys', renewIntervalMs: 40_000 })).toThrow(/renewIntervalMs \(40000\) must be above 0 and below the lease duration \(40 s\)/);
  });
});
