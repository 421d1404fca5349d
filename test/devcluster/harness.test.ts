import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';

describe(`test harness: startTestCluster on ${testApiServer()}`, () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster({ crds: true });
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('serves the default namespaces and Shopfloor CRDs to client-node and kubectl', async () => {
    const core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const names = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system']));
    const res = await cluster.kubectl(['get', 'crd', '-o', 'name']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('customresourcedefinition.apiextensions.k8s.io/nodeworkloads.shopfloor.dev');
  });

  it('keeps objects across restart() on the same data dir', async () => {
    const custom = cluster.kubeConfig.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'shopfloor.dev', version: 'v1alpha1', namespace: 'default', plural: 'nodeworkloads',
      body: { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name: 'survivor' }, spec: { placement: { mode: 'EveryNode' }, template: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await cluster.restart();
    const got = await custom.getNamespacedCustomObject({ group: 'shopfloor.dev', version: 'v1alpha1', namespace: 'default', plural: 'nodeworkloads', name: 'survivor' }) as { metadata: { name: string } };
    expect(got.metadata.name).toBe('survivor');
  }, 120_000);
});
