// The REST client against the test API server (the devcluster, or kube-apiserver): typed errors
// carry the HTTP code and Status reason, lists page with limit/continue, patches of each kind,
// deletes with preconditions, and (on the devcluster) a watch from a compacted resourceVersion
// fails with 410.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeClient } from '../../kube/client.js';
import { KubeApiError, isAlreadyExists, isConflict, isGone, isInvalid, isNotFound } from '../../kube/errors.js';
import { itOnDevcluster, WATCH_CACHE_OUTLIVES_COMPACTION } from '../harness/devcluster-only.js';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';
import { compactEtcd } from './etcd.js';
import { CONFIGMAPS, NAMESPACES, suffix, type ConfigMap } from './support.js';

let cluster: TestCluster;
let client: KubeClient;
const ns = `kube-client-${suffix()}`;

beforeAll(async () => {
  cluster = await startTestCluster();
  client = new KubeClient(cluster.kubeConfig);
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
}, 120_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

const cm = (name: string, data: Record<string, string> = {}): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data });

async function caught(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof KubeApiError) return err;
    throw err;
  }
  throw new Error('expected the API server to refuse');
}

describe(`KubeClient against ${testApiServer()}`, () => {
  it('turns refusals into typed errors with code and reason', async () => {
    const missing = await caught(client.get(CONFIGMAPS, 'nope', { namespace: ns }));
    expect([missing.code, missing.reason, isNotFound(missing)]).toEqual([404, 'NotFound', true]);

    const created = await client.create<ConfigMap>(CONFIGMAPS, cm('dup'));
    const again = await caught(client.create(CONFIGMAPS, cm('dup')));
    expect([again.code, again.reason, isAlreadyExists(again), isConflict(again)]).toEqual([409, 'AlreadyExists', true, false]);

    await client.update(CONFIGMAPS, { ...created, data: { v: '1' } });
    const stale = await caught(client.update(CONFIGMAPS, { ...created, data: { v: '2' } }));
    expect([stale.code, stale.reason, isConflict(stale)]).toEqual([409, 'Conflict', true]);

    const bad = await caught(client.create(CONFIGMAPS, cm('Not_A_Valid_Name')));
    expect([bad.code, isInvalid(bad)]).toEqual([422, true]);
    expect(bad.message).toContain('Not_A_Valid_Name');
  });

  it('pages a list with limit and continue, keeping the first page\'s resourceVersion', async () => {
    for (let i = 0; i < 5; i++) await client.create(CONFIGMAPS, { ...cm(`page-${i}`), metadata: { name: `page-${i}`, namespace: ns, labels: { paged: 'yes' } } });
    const first = await client.list<ConfigMap>(CONFIGMAPS, { namespace: ns, labelSelector: 'paged=yes', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata?.continue).toBeTruthy();
    const all = await client.listAll<ConfigMap>(CONFIGMAPS, { namespace: ns, labelSelector: 'paged=yes', pageSize: 2 });
    expect(all.items.map((o) => o.metadata?.name)).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(Number(all.resourceVersion)).toBeGreaterThan(0);
  });

  it('patches by merge and JSON patch', async () => {
    await client.create(CONFIGMAPS, cm('patched', { a: '1' }));
    await client.patch(CONFIGMAPS, 'patched', { data: { b: '2' } }, { namespace: ns });
    const after = await client.patch<ConfigMap>(CONFIGMAPS, 'patched', [{ op: 'remove', path: '/data/a' }], { namespace: ns, type: 'json' });
    expect(after.data).toEqual({ b: '2' });
  });

  it('deletes only when the preconditions hold', async () => {
    const obj = await client.create<ConfigMap>(CONFIGMAPS, cm('guarded'));
    const wrongUid = await caught(client.delete(CONFIGMAPS, 'guarded', { namespace: ns, preconditions: { uid: 'someone-else' } }));
    expect(isConflict(wrongUid)).toBe(true);
    await client.delete(CONFIGMAPS, 'guarded', { namespace: ns, preconditions: { uid: obj.metadata?.uid }, propagationPolicy: 'Background' });
    expect(isNotFound(await caught(client.get(CONFIGMAPS, 'guarded', { namespace: ns })))).toBe(true);
  });

  itOnDevcluster(WATCH_CACHE_OUTLIVES_COMPACTION, 'fails a watch from a compacted resourceVersion with 410 Gone', async () => {
    const old = await client.create<ConfigMap>(CONFIGMAPS, cm('old'));
    const newer = await client.create<ConfigMap>(CONFIGMAPS, cm('newer'));
    await compactEtcd(cluster.etcdEndpoint(), Number(newer.metadata?.resourceVersion));
    const watch = client.watch<ConfigMap>(CONFIGMAPS, { namespace: ns, resourceVersion: old.metadata?.resourceVersion });
    const err = await caught((async () => {
      for await (const _ of watch) break;
    })());
    expect(isGone(err)).toBe(true);
  });
});
