import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ApiException, CoreV1Api, CustomObjectsApi, makeInformer, PatchStrategy, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { Etcd3 } from 'etcd3';
import { randomBytes } from 'node:crypto';
import { itOnDevcluster, RESTART_FORGETS_HISTORY, WATCH_CACHE_OUTLIVES_COMPACTION } from '../harness/devcluster-only.js';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';
import { eventually } from '../harness/eventually.js';
import { collectWatch } from './collect-watch.js';

function code(err: unknown): number | undefined {
  return err instanceof ApiException ? err.code : undefined;
}

describe(`${testApiServer()} with @kubernetes/client-node`, () => {
  let c: TestCluster;
  let core: CoreV1Api;
  const ns = `cn-${randomBytes(3).toString('hex')}`;
  const cm = (name: string, extra: Partial<V1ConfigMap> = {}): V1ConfigMap => ({ metadata: { name, ...extra.metadata }, data: extra.data ?? { k: 'v' } });

  beforeAll(async () => {
    c = await startTestCluster({ crds: true });
    core = c.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('feeds an informer adds, updates and deletes', async () => {
    const informer = makeInformer(c.kubeConfig, `/api/v1/namespaces/${ns}/configmaps`, () => core.listNamespacedConfigMap({ namespace: ns }), 'informer=yes');
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.data?.k}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: ns, body: cm('inf', { metadata: { labels: { informer: 'yes' } } }) });
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'inf', body: { data: { k: 'changed' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'inf' });
      await eventually('the informer delete', () => seen.includes('delete inf'));
      expect(seen).toEqual(['add inf', 'update inf changed', 'delete inf']);
      expect(informer.list(ns)).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  itOnDevcluster(RESTART_FORGETS_HISTORY, 'resumes a watch from a resourceVersion after the devcluster restarts on the same data dir', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: ns, body: cm('resume') });
    const rv = created.metadata?.resourceVersion ?? '';
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'resume', body: { data: { k: 'before-restart' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await c.restart();
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'resume', body: { data: { k: 'after-restart' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const w = await collectWatch(c, `/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: rv, fieldSelector: 'metadata.name=resume' });
    try {
      await eventually('two MODIFIED events', () => w.events.length >= 2);
      expect(w.events.map((e) => e.phase)).toEqual(['MODIFIED', 'MODIFIED']);
      expect(Number(w.events[0]?.object.metadata?.resourceVersion)).toBeGreaterThan(Number(rv));
    } finally {
      w.stop();
    }
  }, 60_000);

  itOnDevcluster(WATCH_CACHE_OUTLIVES_COMPACTION, 'answers 410 Gone for a compacted resourceVersion, and a relist recovers', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: ns, body: cm('old') });
    const oldRv = created.metadata?.resourceVersion ?? '';
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'old', body: { data: { k: 'newer' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const etcd = new Etcd3({ hosts: c.etcdEndpoint() });
    try {
      const head = await etcd.get('/registry/').exec();
      await etcd.kv.compact({ revision: Number(head.header.revision) });
    } finally {
      etcd.close();
    }
    const w = await collectWatch(c, `/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: oldRv });
    await w.done;
    expect(w.events).toHaveLength(1);
    expect(w.events[0]).toMatchObject({ phase: 'ERROR', object: { kind: 'Status', code: 410 } });
    let listErr: unknown;
    try {
      await core.listNamespacedConfigMap({ namespace: ns, resourceVersion: oldRv, resourceVersionMatch: 'Exact' });
    } catch (err) {
      listErr = err;
    }
    expect(code(listErr)).toBe(410);
    const relist = await core.listNamespacedConfigMap({ namespace: ns });
    expect(relist.items.map((i) => i.metadata?.name)).toContain('old');
    const again = await collectWatch(c, `/api/v1/namespaces/${ns}/configmaps`, { resourceVersion: relist.metadata?.resourceVersion ?? '' });
    try {
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'old' });
      await eventually('DELETED after relist', () => again.events.some((e) => e.phase === 'DELETED'));
    } finally {
      again.stop();
    }
  });

  it('lists built-in objects with the list\'s kind only, custom resources with their own', async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('typed', { metadata: { labels: { typed: 'yes' } } }) });
    const list = await core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'typed=yes' });
    expect(list.kind).toBe('ConfigMapList');
    expect(list.items.map((i) => [i.metadata?.name, i.apiVersion, i.kind])).toEqual([['typed', undefined, undefined]]);
    const custom = c.kubeConfig.makeApiClient(CustomObjectsApi);
    const ref = { group: 'shopfloor.dev', version: 'v1alpha1', namespace: ns, plural: 'nodeworkloads' };
    await custom.createNamespacedCustomObject({ ...ref, body: { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name: 'typed' }, spec: { placement: { mode: 'EveryNode' }, template: { containers: [{ name: 'c', image: 'busybox' }] } } } });
    const nws = await custom.listNamespacedCustomObject(ref) as { items: { kind?: string; metadata: { name: string } }[] };
    expect(nws.items.filter((i) => i.metadata.name === 'typed').map((i) => i.kind)).toEqual(['NodeWorkload']);
  });

  it('sends DELETED to a label-selector watch when an object stops matching', async () => {
    await core.createNamespacedConfigMap({ namespace: ns, body: cm('sel', { metadata: { labels: { role: 'x' } } }) });
    const w = await collectWatch(c, `/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'role=x' });
    try {
      await eventually('the initial ADDED', () => w.events.length === 1);
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'sel', body: { metadata: { labels: { role: 'y' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await eventually('DELETED on mismatch', () => w.events.length === 2);
      await core.patchNamespacedConfigMap({ namespace: ns, name: 'sel', body: { metadata: { labels: { role: 'x' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await eventually('ADDED on match', () => w.events.length === 3);
      expect(w.events.map((e) => `${e.phase} ${e.object.metadata?.name}`)).toEqual(['ADDED sel', 'DELETED sel', 'ADDED sel']);
      // The DELETED carries the version that last matched, at the resourceVersion of the change.
      const [added, left] = w.events;
      expect(left?.object.metadata?.labels).toEqual({ role: 'x' });
      expect(Number(left?.object.metadata?.resourceVersion)).toBeGreaterThan(Number(added?.object.metadata?.resourceVersion));
    } finally {
      w.stop();
    }
  });

  it('garbage-collects dependents through ownerReferences (background, foreground, orphan)', async () => {
    const owner = async (name: string): Promise<string> => (await core.createNamespacedConfigMap({ namespace: ns, body: cm(name) })).metadata?.uid ?? '';
    const dependent = (name: string, ownerName: string, uid: string, finalizers?: string[]): Promise<V1ConfigMap> =>
      core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: ownerName, uid, blockOwnerDeletion: true }], ...(finalizers ? { finalizers } : {}) } } });
    const exists = async (name: string): Promise<boolean> => {
      try {
        await core.readNamespacedConfigMap({ namespace: ns, name });
        return true;
      } catch (err) {
        if (code(err) === 404) return false;
        throw err;
      }
    };

    await dependent('bg-child', 'bg-owner', await owner('bg-owner'));
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'bg-owner' });
    await eventually('background collection of bg-child', async () => !(await exists('bg-child')));

    await dependent('fg-child', 'fg-owner', await owner('fg-owner'), ['x.dev/slow']);
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'fg-owner', propagationPolicy: 'Foreground' });
    await eventually('fg-child marked for deletion', async () => Boolean((await core.readNamespacedConfigMap({ namespace: ns, name: 'fg-child' })).metadata?.deletionTimestamp));
    const waiting = await core.readNamespacedConfigMap({ namespace: ns, name: 'fg-owner' });
    expect(waiting.metadata?.finalizers).toContain('foregroundDeletion');
    await core.patchNamespacedConfigMap({ namespace: ns, name: 'fg-child', body: [{ op: 'remove', path: '/metadata/finalizers' }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await eventually('foreground deletion to finish', async () => !(await exists('fg-owner')) && !(await exists('fg-child')));

    await dependent('or-child', 'or-owner', await owner('or-owner'));
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'or-owner', propagationPolicy: 'Orphan' });
    await eventually('the orphaning owner to go', async () => !(await exists('or-owner')));
    const orphan = await core.readNamespacedConfigMap({ namespace: ns, name: 'or-child' });
    expect(orphan.metadata?.ownerReferences ?? []).toEqual([]);
  }, 60_000);

  it('lets exactly one of several concurrent updates from the same resourceVersion win', async () => {
    const base = await core.createNamespacedConfigMap({ namespace: ns, body: cm('race') });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) =>
      core.replaceNamespacedConfigMap({ namespace: ns, name: 'race', body: { ...base, data: { k: `writer-${i}` } } })));
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((r) => code(r.reason))).toEqual(Array(7).fill(409));
    const final = await core.readNamespacedConfigMap({ namespace: ns, name: 'race' });
    expect(final.data?.k).toBe((won[0] as PromiseFulfilledResult<V1ConfigMap>).value.data?.k);
  });

  it('lands every one of several concurrent patches without a resourceVersion, and refuses a stale one', async () => {
    const base = await core.createNamespacedConfigMap({ namespace: ns, body: cm('patch-race') });
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await Promise.all(Array.from({ length: 8 }, (_, i) => core.patchNamespacedConfigMap({ namespace: ns, name: 'patch-race', body: { data: { [`writer-${i}`]: 'done' } } }, merge)));
    const final = await core.readNamespacedConfigMap({ namespace: ns, name: 'patch-race' });
    expect(Object.keys(final.data ?? {}).sort()).toEqual(['k', ...Array.from({ length: 8 }, (_, i) => `writer-${i}`)].sort());
    const stale = await core.patchNamespacedConfigMap({ namespace: ns, name: 'patch-race', body: { metadata: { resourceVersion: base.metadata?.resourceVersion }, data: { late: 'x' } } }, merge).catch((err: unknown) => err);
    expect(code(stale)).toBe(409);
  });

  it('separates the status subresource and bumps generation on spec changes only', async () => {
    const custom = c.kubeConfig.makeApiClient(CustomObjectsApi);
    const ref = { group: 'shopfloor.dev', version: 'v1alpha1', namespace: ns, plural: 'nodeworkloads', name: 'st' };
    await custom.createNamespacedCustomObject({ ...ref, body: { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name: 'st' }, spec: { placement: { mode: 'EveryNode' }, template: { containers: [{ name: 'c', image: 'busybox' }] } }, status: { readyReplicas: 9 } } });
    type NW = { metadata: { generation: number; managedFields: { time: string; subresource?: string }[] }; spec: { placement: { mode: string } }; status?: { readyReplicas?: number; observedGeneration?: number } };
    const created = await custom.getNamespacedCustomObject(ref) as NW;
    expect(created.status?.readyReplicas).toBeUndefined();
    await custom.patchNamespacedCustomObjectStatus({ ...ref, body: { status: { readyReplicas: 2, observedGeneration: 1 }, spec: { placement: { mode: 'Replicas' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const afterStatus = await custom.getNamespacedCustomObject(ref) as NW;
    expect(afterStatus).toMatchObject({ metadata: { generation: 1 }, spec: { placement: { mode: 'EveryNode' } }, status: { readyReplicas: 2 } });
    await custom.patchNamespacedCustomObject({ ...ref, body: { spec: { placement: { mode: 'Replicas', replicas: 2 } }, status: { readyReplicas: 0 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const afterSpec = await custom.getNamespacedCustomObject(ref) as NW;
    expect(afterSpec).toMatchObject({ metadata: { generation: 2 }, spec: { placement: { mode: 'Replicas' } }, status: { readyReplicas: 2 } });
    // One manager's two Update entries in kube-apiserver's order: by time to the second, then the main resource before its status.
    const order = afterSpec.metadata.managedFields.map((m) => `${m.time}|${m.subresource ?? ''}`);
    expect(order).toHaveLength(2);
    expect(order).toEqual([...order].sort());
  });
});
