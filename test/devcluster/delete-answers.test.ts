import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';
import { http } from './http.js';

// What a delete answers, which clients hand to their users (Python's returns it from
// delete_namespaced_custom_object): the same on the devcluster and on kube-apiserver (this suite
// runs on both). An object gone at once answers a Status naming it; one that a finalizer holds
// answers the object, marked for deletion.
describe(`delete answers (${testApiServer()})`, () => {
  let c: TestCluster;
  const cms = '/api/v1/namespaces/default/configmaps';
  const nws = '/apis/shopfloor.dev/v1alpha1/namespaces/default/nodeworkloads';
  const workload = (name: string, finalizers?: string[]): string =>
    JSON.stringify({
      apiVersion: 'shopfloor.dev/v1alpha1',
      kind: 'NodeWorkload',
      metadata: { name, ...(finalizers ? { finalizers } : {}) },
      spec: { placement: { mode: 'Replicas', replicas: 1 }, template: { containers: [{ name: 'c', image: 'shopfloor.dev/busybox:test' }] } },
    });
  const create = async (path: string, body: string): Promise<string> => {
    const r = await http(c, 'POST', path, { body, contentType: 'application/json' });
    expect(r.status).toBe(201);
    return (r.json().metadata as { uid: string }).uid;
  };

  beforeAll(async () => {
    c = await startTestCluster({ crds: true });
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('answers a Status naming the resource, group and uid for a ConfigMap and a custom resource deleted at once', async () => {
    for (const [path, group, resource, body] of [
      // The core group's empty name is left out of the details.
      [cms, undefined, 'configmaps', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone' } })],
      [nws, 'shopfloor.dev', 'nodeworkloads', workload('gone')],
    ] as const) {
      const uid = await create(path, body);
      const r = await http(c, 'DELETE', `${path}/gone`);
      expect({ resource, status: r.status, body: r.json() }).toEqual({
        resource,
        status: 200,
        body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'gone', ...(group ? { group } : {}), kind: resource, uid } },
      });
    }
  });

  it('answers the object with its deletionTimestamp while a finalizer holds a custom resource', async () => {
    await create(nws, workload('held', ['shopfloor.dev/test']));
    const r = await http(c, 'DELETE', `${nws}/held`);
    const meta = r.json().metadata as { name: string; deletionTimestamp?: string; finalizers?: string[] };
    expect({ status: r.status, kind: r.json().kind, name: meta.name, marked: Boolean(meta.deletionTimestamp), finalizers: meta.finalizers }).toEqual({ status: 200, kind: 'NodeWorkload', name: 'held', marked: true, finalizers: ['shopfloor.dev/test'] });
    const released = await http(c, 'PATCH', `${nws}/held`, { body: JSON.stringify({ metadata: { finalizers: null } }), contentType: 'application/merge-patch+json' });
    expect(released.status).toBe(200);
    expect((await http(c, 'GET', `${nws}/held`)).status).toBe(404);
  });
});
