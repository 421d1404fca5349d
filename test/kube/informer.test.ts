// The informer against the test API server (the devcluster, or kube-apiserver; both etcd-backed):
// it sees adds, updates and deletes once each; it resumes after a cut connection, recovers after
// the API server restarts (kube-apiserver answers that with 410, the devcluster resumes), relists
// on 410 Gone and when a watch goes silent. A TCP proxy between client and API server breaks the
// connection on purpose.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { KubeClient } from '../../kube/client.js';
import { Informer, type InformerOptions } from '../../kube/informer.js';
import { fieldIndex, labelIndex } from '../../kube/store.js';
import { LAST_APPLIED_ANNOTATION, stripUnreadMetadata } from '../../kube/strip-metadata.js';
import { itOnDevcluster, WATCH_CACHE_OUTLIVES_COMPACTION } from '../harness/devcluster-only.js';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';
import { compactEtcd } from './etcd.js';
import { CONFIGMAPS, NAMESPACES, eventually, metricValue, notYet, recordChanges, suffix, throughPort, type ConfigMap } from './support.js';
import { TcpProxy } from './tcp-proxy.js';

let cluster: TestCluster;
let client: KubeClient;
const proxies: TcpProxy[] = [];
const ns = `kube-informer-${suffix()}`;
const informers: Array<Informer<ConfigMap>> = [];
const clients: KubeClient[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  client = new KubeClient(cluster.kubeConfig);
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
}, 120_000);

afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  await Promise.all(proxies.map((p) => p.close()));
  for (const c of clients) c.close();
  client?.close();
  await cluster?.stop();
});

/** Returns once the informer's watch delivers events: it has seen `<suite>-live` created. */
async function watchIsLive(suite: string, seen: string[]): Promise<void> {
  await client.create(CONFIGMAPS, cm(`${suite}-live`, { suite }));
  await eventually(`the watch to deliver ${suite}-live`, () => seen.includes(`add:${suite}-live`));
}

function cm(name: string, labels: Record<string, string>, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data };
}

/** A proxy of its own for one test, so no other test's connections pass through it. */
async function newProxy(): Promise<TcpProxy> {
  const p = await TcpProxy.start('127.0.0.1', Number(new URL(cluster.url).port));
  proxies.push(p);
  return p;
}

/** An informer on this suite's namespace; with `proxy`, its connections go through it. */
function informer(suite: string, registry: Registry, extra: Partial<InformerOptions<ConfigMap>> = {}, proxy?: TcpProxy): Informer<ConfigMap> {
  const c = proxy ? new KubeClient(throughPort(cluster.kubeConfig, proxy.port), { timeoutMs: 5000 }) : client;
  clients.push(c);
  const i = new Informer<ConfigMap>({
    client: c,
    resource: CONFIGMAPS,
    namespace: ns,
    labelSelector: `suite=${suite}`,
    registry,
    metricsPrefix: 'shopfloor_test',
    backoff: { initialMs: 100, maxMs: 1000 },
    ...extra,
  });
  informers.push(i);
  return i;
}

describe(`Informer against ${testApiServer()}`, () => {
  it('lists page by page, then sees add, update and delete once each, filtered by label and indexed', async () => {
    const registry = new Registry();
    // Three objects at pageSize 2: the first list takes two pages.
    await client.create(CONFIGMAPS, cm('pre', { suite: 'basic', tier: 'web' }));
    await client.create(CONFIGMAPS, cm('pre-2', { suite: 'basic' }));
    await client.create(CONFIGMAPS, cm('pre-3', { suite: 'basic' }));
    const inf = informer('basic', registry, {
      pageSize: 2,
      indexers: { byTier: labelIndex('tier'), byColor: fieldIndex((o: ConfigMap) => o.data?.['color']) },
    });
    const seen = recordChanges(inf);
    inf.start();
    expect(await inf.waitForSync()).toBe(true);
    expect(seen).toEqual(['add:pre', 'add:pre-2', 'add:pre-3']);

    await client.create(CONFIGMAPS, cm('a', { suite: 'basic', tier: 'web' }));
    await client.create(CONFIGMAPS, cm('b', { suite: 'basic', tier: 'db' }));
    await client.create(CONFIGMAPS, cm('other', { suite: 'not-this-one' }));
    await client.patch(CONFIGMAPS, 'a', { data: { color: 'blue' } }, { namespace: ns });
    await client.delete(CONFIGMAPS, 'b', { namespace: ns });
    // 'pre' stops matching the selector: the informer must see it go.
    await client.patch(CONFIGMAPS, 'pre', { metadata: { labels: { suite: 'elsewhere' } } }, { namespace: ns });
    // A last object: once the informer has it, it has had every change before it (one watch, in order).
    await client.create(CONFIGMAPS, cm('last', { suite: 'basic' }));
    await eventually('the last object to arrive', () => seen.includes('add:last') || notYet(seen.join(' ')));

    expect(seen).toEqual(['add:pre', 'add:pre-2', 'add:pre-3', 'add:a', 'add:b', 'update:a', 'delete:b', 'delete:pre', 'add:last']);
    expect(inf.list().map((o) => o.metadata?.name).sort()).toEqual(['a', 'last', 'pre-2', 'pre-3']);
    expect(inf.byIndex('byTier', 'web').map((o) => o.metadata?.name)).toEqual(['a']);
    expect(inf.byIndex('byColor', 'blue').map((o) => o.metadata?.name)).toEqual(['a']);
    expect(inf.byIndex('byTier', 'db')).toEqual([]);
    await inf.stop();
  });

  it('caches listed and watched objects as its transform left them (managedFields and last-applied dropped)', async () => {
    const applied = (value: string): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: strip\n  namespace: ${ns}\n  labels: {suite: strip}\n  annotations: {keep: me}\ndata: {k: ${value}}\n`;
    const apply = async (value: string): Promise<void> => {
      const r = await cluster.kubectl(['apply', '-f', '-'], { input: applied(value) });
      if (r.code !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
    };
    await apply('listed');
    // What the server holds: the bookkeeping the transform is there to drop.
    const stored = await client.get<ConfigMap>(CONFIGMAPS, 'strip', { namespace: ns });
    expect((stored.metadata as Record<string, unknown>)['managedFields']).toBeDefined();
    expect(stored.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]).toBeDefined();

    const inf = informer('strip', new Registry(), { transform: stripUnreadMetadata });
    const seen = recordChanges(inf);
    inf.start();
    await inf.waitForSync();
    const expectStripped = (data: string): void => {
      const cached = inf.get(`${ns}/strip`);
      expect(cached?.data).toEqual({ k: data });
      expect(cached?.metadata?.annotations).toEqual({ keep: 'me' });
      expect(Object.keys(cached?.metadata ?? {})).not.toContain('managedFields');
    };
    expectStripped('listed');

    await apply('watched');
    await eventually('the applied change to arrive', () => seen.includes('update:strip'));
    expectStripped('watched');
    await inf.stop();
  });

  it('resumes a watch cut mid-stream from its resourceVersion, missing nothing', async () => {
    const registry = new Registry();
    await client.create(CONFIGMAPS, cm('x', { suite: 'cut' }));
    const proxy = await newProxy();
    const inf = informer('cut', registry, {}, proxy);
    const seen = recordChanges(inf);
    inf.start();
    await inf.waitForSync();
    await watchIsLive('cut', seen);

    proxy.cut();
    // Changes made while the informer is disconnected.
    await client.create(CONFIGMAPS, cm('y', { suite: 'cut' }));
    await client.patch(CONFIGMAPS, 'x', { data: { k: 'v' } }, { namespace: ns });
    await client.delete(CONFIGMAPS, 'y', { namespace: ns });

    await eventually('the changes made during the cut', () => seen.includes('delete:y'));
    expect(seen).toEqual(['add:x', 'add:cut-live', 'add:y', 'update:x', 'delete:y']);
    expect(await metricValue(registry, 'shopfloor_test_watch_reconnects_total')).toBeGreaterThanOrEqual(1);
    // Resumed from its resourceVersion: no relist beyond the first.
    expect(await metricValue(registry, 'shopfloor_test_relists_total')).toBe(1);
    await inf.stop();
  });

  it('relists when a watch goes silent (the watchdog)', async () => {
    const registry = new Registry();
    await client.create(CONFIGMAPS, cm('s1', { suite: 'silent' }));
    const proxy = await newProxy();
    const inf = informer('silent', registry, { watchdogMs: 2500, watchTimeoutSeconds: 600 }, proxy);
    const seen = recordChanges(inf);
    inf.start();
    await inf.waitForSync();
    await watchIsLive('silent', seen);

    // The connection stays up but nothing comes through any more: a dead peer.
    proxy.freeze();
    await client.create(CONFIGMAPS, cm('s2', { suite: 'silent' }));
    await client.delete(CONFIGMAPS, 's1', { namespace: ns });

    await eventually('the watchdog relist to deliver the changes', () => seen.includes('delete:s1'), 15_000);
    expect(seen).toEqual(['add:s1', 'add:silent-live', 'add:s2', 'delete:s1']);
    expect(await metricValue(registry, 'shopfloor_test_relists_total', { reason: 'watchdog' })).toBeGreaterThanOrEqual(1);
    await inf.stop();
  });

  itOnDevcluster(WATCH_CACHE_OUTLIVES_COMPACTION, 'relists on 410 Gone after the history it would resume from was compacted', async () => {
    const registry = new Registry();
    await client.create(CONFIGMAPS, cm('g0', { suite: 'gone' }));
    const proxy = await newProxy();
    const inf = informer('gone', registry, {}, proxy);
    const seen = recordChanges(inf);
    const statuses: string[] = [];
    inf.onStatus((s) => {
      if (s.type === 'listed') statuses.push(s.reason);
    });
    inf.start();
    await inf.waitForSync();
    await watchIsLive('gone', seen);

    // Keep the informer off the server while history moves on and is compacted away.
    proxy.freeze();
    await client.create(CONFIGMAPS, cm('g1', { suite: 'gone' }));
    await client.delete(CONFIGMAPS, 'g0', { namespace: ns });
    const filler = await client.create<ConfigMap>(CONFIGMAPS, cm('filler', { suite: 'not-gone' }));
    await compactEtcd(cluster.etcdEndpoint(), Number(filler.metadata?.resourceVersion));
    // Reset the frozen watch so it reconnects at once from its old version, which is gone now.
    proxy.cut();

    await eventually('the relist after 410', () => seen.includes('delete:g0'));
    expect(seen).toEqual(['add:g0', 'add:gone-live', 'add:g1', 'delete:g0']);
    expect(statuses).toEqual(['initial', 'gone']);
    expect(await metricValue(registry, 'shopfloor_test_relists_total', { reason: 'gone' })).toBe(1);
    await inf.stop();
  });

  it('recovers after the API server restarts, without announcing known objects again', async () => {
    const registry = new Registry();
    await client.create(CONFIGMAPS, cm('r0', { suite: 'restart' }));
    const inf = informer('restart', registry);
    const seen = recordChanges(inf);
    inf.start();
    await inf.waitForSync();

    await cluster.restart();
    await client.create(CONFIGMAPS, cm('r1', { suite: 'restart' }));
    await client.patch(CONFIGMAPS, 'r0', { data: { after: 'restart' } }, { namespace: ns });

    await eventually('changes made after the restart', () => seen.includes('update:r0'), 30_000);
    expect(seen).toEqual(['add:r0', 'add:r1', 'update:r0']);
    expect(await metricValue(registry, 'shopfloor_test_watch_reconnects_total')).toBeGreaterThanOrEqual(1);
    await inf.stop();
  });
});
