import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDevclusterTestCluster } from '../harness/devcluster.js';
import { eventually, notYet } from '../harness/eventually.js';
import type { TestCluster } from '../harness/test-cluster.js';
import { http } from './http.js';

type List = { metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number }; items: { metadata: { name: string } }[] };
const names = (l: List): string[] => l.items.map((i) => i.metadata.name);

// API semantics a typed client does not reach easily: paging, dry runs, bookmarks, collections,
// namespace and CRD deletion, tables, discovery and OpenAPI.
describe('devcluster: API behaviour', () => {
  let c: TestCluster;
  const base = '/api/v1/namespaces/paging/configmaps';
  const post = (path: string, body: unknown, query = ''): ReturnType<typeof http> =>
    http(c, 'POST', `${path}${query}`, { body: JSON.stringify(body), contentType: 'application/json' });

  beforeAll(async () => {
    c = await startDevclusterTestCluster({ crds: true });
    await post('/api/v1/namespaces', { metadata: { name: 'paging' } });
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('creates names from generateName and does not store dry runs', async () => {
    const gen = await post(base, { metadata: { generateName: 'gen-' } });
    expect(gen.status).toBe(201);
    expect((gen.json().metadata as { name: string }).name).toMatch(/^gen-[a-z0-9]{5}$/);
    const dry = await post(base, { metadata: { name: 'dry' } }, '?dryRun=All');
    expect(dry.status).toBe(201);
    expect((dry.json().metadata as { uid?: string }).uid).toBeDefined();
    expect((await http(c, 'GET', `${base}/dry`)).status).toBe(404);
    const dup = await post(base, { metadata: { name: (gen.json().metadata as { name: string }).name } });
    expect(dup.json()).toMatchObject({ reason: 'AlreadyExists', code: 409 });
  });

  it('pages with limit and continue through one consistent snapshot', async () => {
    await http(c, 'DELETE', base);
    for (const n of ['a', 'b', 'c', 'd', 'e']) await post(base, { metadata: { name: n, labels: { page: n < 'd' ? 'low' : 'high' } } });
    const first = (await http(c, 'GET', `${base}?limit=2`)).json() as List;
    expect(names(first)).toEqual(['a', 'b']);
    expect(first.metadata.remainingItemCount).toBe(3);
    await post(base, { metadata: { name: 'bb' } });
    await http(c, 'DELETE', `${base}/e`);
    const second = (await http(c, 'GET', `${base}?limit=2&continue=${first.metadata.continue}`)).json() as List;
    expect(names(second)).toEqual(['c', 'd']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const third = (await http(c, 'GET', `${base}?limit=2&continue=${second.metadata.continue}`)).json() as List;
    expect(names(third)).toEqual(['e']);
    expect(third.metadata.continue).toBeUndefined();
    const selected = (await http(c, 'GET', `${base}?limit=1&labelSelector=page%3Dhigh`)).json() as List;
    expect(names(selected)).toEqual(['d']);
    expect(selected.metadata.continue).toBeUndefined();
  });

  it('checks delete preconditions and update UIDs', async () => {
    const made = (await post(base, { metadata: { name: 'pre' } })).json() as { metadata: { uid: string; resourceVersion: string } };
    const wrongUid = await http(c, 'DELETE', `${base}/pre`, { body: JSON.stringify({ preconditions: { uid: 'nope' } }), contentType: 'application/json' });
    expect(wrongUid.json()).toMatchObject({ reason: 'Conflict', code: 409, message: `Operation cannot be fulfilled on ConfigMap "pre": the UID in the precondition (nope) does not match the UID in record (${made.metadata.uid}). The object might have been deleted and then recreated` });
    expect(wrongUid.json().details).toEqual({ name: 'pre', kind: 'ConfigMap' });
    const wrongRv = await http(c, 'DELETE', `${base}/pre`, { body: JSON.stringify({ preconditions: { resourceVersion: '1' } }), contentType: 'application/json' });
    expect(wrongRv.json()).toMatchObject({ reason: 'Conflict', code: 409 });
    const put = await http(c, 'PUT', `${base}/pre`, { body: JSON.stringify({ metadata: { name: 'pre', uid: 'other' }, data: { a: 'b' } }), contentType: 'application/json' });
    expect(put.json()).toMatchObject({ reason: 'Conflict', code: 409 });
    const ok = await http(c, 'DELETE', `${base}/pre`, { body: JSON.stringify({ preconditions: { uid: made.metadata.uid, resourceVersion: made.metadata.resourceVersion } }), contentType: 'application/json' });
    expect(ok.json()).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'pre', kind: 'configmaps' } });
  });

  it('sends the initial objects and an initial-events-end bookmark for sendInitialEvents', async () => {
    const w = await http(c, 'GET', `${base}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`);
    const events = w.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { name?: string; annotations?: Record<string, string> } } });
    const end = events.findIndex((e) => e.type === 'BOOKMARK' && e.object.metadata.annotations?.['k8s.io/initial-events-end'] === 'true');
    expect(end).toBeGreaterThan(0);
    expect(events.slice(0, end).every((e) => e.type === 'ADDED')).toBe(true);
  });

  it('deletes a collection by label selector', async () => {
    const res = await http(c, 'DELETE', `${base}?labelSelector=page%3Dlow`);
    expect(res.status).toBe(200);
    expect(names(res.json() as List).sort()).toEqual(['a', 'b', 'c']);
    expect(names((await http(c, 'GET', base)).json() as List).sort()).toEqual(['bb', 'd']);
  });

  it('ends a watch after timeoutSeconds with a bookmark when bookmarks are allowed', async () => {
    const list = (await http(c, 'GET', base)).json() as List;
    const started = Date.now();
    const w = await http(c, 'GET', `${base}?watch=true&timeoutSeconds=1&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    const events = w.text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { resourceVersion: string } } });
    expect(events.at(-1)?.type).toBe('BOOKMARK');
    expect(Number(events.at(-1)?.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(list.metadata.resourceVersion));
  });

  it('moves bookmarks of a quiet resource on with etcd progress', async () => {
    const quiet = (await http(c, 'GET', '/api/v1/namespaces/paging/secrets')).json() as List;
    const watching = http(c, 'GET', `/api/v1/namespaces/paging/secrets?watch=true&timeoutSeconds=8&allowWatchBookmarks=true&resourceVersion=${quiet.metadata.resourceVersion}`);
    const elsewhere = (await post(base, { metadata: { name: 'elsewhere' } })).json() as { metadata: { resourceVersion: string } };
    const events = (await watching).text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { metadata: { resourceVersion: string } } });
    expect(events.map((e) => e.type)).toEqual(['BOOKMARK']);
    expect(Number(events[0]?.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(elsewhere.metadata.resourceVersion));
  }, 30_000);

  it('answers Table requests with the CRD printer columns', async () => {
    await post('/apis/shopfloor.dev/v1alpha1/namespaces/paging/nodeworkloads', { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name: 'tbl' }, spec: { placement: { mode: 'EveryNode' }, template: { containers: [{ name: 'c', image: 'busybox' }] } } });
    const res = await http(c, 'GET', '/apis/shopfloor.dev/v1alpha1/namespaces/paging/nodeworkloads', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' });
    const table = res.json() as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((d) => d.name).slice(0, 3)).toEqual(['Name', 'Mode', 'Desired']);
    expect(table.rows[0]?.cells.slice(0, 2)).toEqual(['tbl', 'EveryNode']);
  });

  it('serves discovery and OpenAPI v3 for built-in kinds and CRDs', async () => {
    const groups = (await http(c, 'GET', '/apis')).json() as { groups: { name: string; preferredVersion: { version: string } }[] };
    expect(groups.groups.find((g) => g.name === 'shopfloor.dev')?.preferredVersion.version).toBe('v1alpha1');
    const resources = (await http(c, 'GET', '/apis/shopfloor.dev/v1alpha1')).json() as { resources: { name: string }[] };
    expect(resources.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['nodeworkloads', 'nodeworkloads/status']));
    const index = (await http(c, 'GET', '/openapi/v3')).json() as { paths: Record<string, { serverRelativeURL: string }> };
    const url = index.paths['apis/shopfloor.dev/v1alpha1']?.serverRelativeURL ?? '';
    const doc = (await http(c, 'GET', url)).json() as { components: { schemas: Record<string, { 'x-kubernetes-group-version-kind': unknown[] }> } };
    expect(doc.components.schemas['dev.shopfloor.v1alpha1.NodeWorkload']?.['x-kubernetes-group-version-kind']).toEqual([{ group: 'shopfloor.dev', version: 'v1alpha1', kind: 'NodeWorkload' }]);
    expect(index.paths['api/v1']).toBeDefined();
  });

  it('serves the same subresources in discovery, OpenAPI and on the wire', async () => {
    const core = (await http(c, 'GET', '/api/v1')).json() as { resources: { name: string; verbs: string[] }[] };
    const verbs = (name: string) => core.resources.find((r) => r.name === name)?.verbs;
    expect(verbs('namespaces/status')).toEqual(['get', 'patch', 'update']);
    expect(verbs('namespaces/finalize')).toEqual(['update']);
    expect(verbs('configmaps/status')).toBeUndefined();
    const index = (await http(c, 'GET', '/openapi/v3')).json() as { paths: Record<string, { serverRelativeURL: string }> };
    const doc = (await http(c, 'GET', index.paths['api/v1']?.serverRelativeURL ?? '')).json() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v1/namespaces/{name}/status'] ?? {}).sort()).toEqual(['get', 'patch', 'put']);
    expect(Object.keys(doc.paths['/api/v1/namespaces/{name}/finalize'] ?? {})).toEqual(['put']);
    expect(doc.paths['/api/v1/namespaces/{namespace}/configmaps/{name}/status']).toBeUndefined();
    await post(base, { metadata: { name: 'no-status' } });
    expect((await http(c, 'GET', '/api/v1/namespaces/paging/status')).status).toBe(200);
    expect((await http(c, 'GET', '/api/v1/namespaces/paging/finalize')).status).toBe(404);
    expect((await http(c, 'GET', `${base}/no-status/status`)).status).toBe(404);
    const put = await http(c, 'PUT', `${base}/no-status/status`, { body: JSON.stringify({ metadata: { name: 'no-status' } }), contentType: 'application/json' });
    expect(put.json()).toMatchObject({ reason: 'NotFound', code: 404 });
  });

  it('deletes what is in a namespace when the namespace is deleted', async () => {
    await post('/api/v1/namespaces', { metadata: { name: 'doomed' } });
    await post('/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'inside' } });
    const del = await http(c, 'DELETE', '/api/v1/namespaces/doomed');
    expect((del.json().status as { phase: string }).phase).toBe('Terminating');
    const refused = await post('/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'late' } });
    expect(refused.status === 403 || refused.status === 404).toBe(true);
    await eventually('the namespace to be gone', async () => {
      const { status } = await http(c, 'GET', '/api/v1/namespaces/doomed');
      return status === 404 || notYet(`status ${status}`);
    }, 10_000);
    expect((await http(c, 'GET', '/api/v1/namespaces/doomed/configmaps/inside')).status).toBe(404);
    expect((await http(c, 'DELETE', '/api/v1/namespaces/default')).json()).toMatchObject({ reason: 'Forbidden', code: 403 });
  });

  it('refuses a create in a namespace as soon as its deletion has been answered', async () => {
    // The namespace cache follows a watch; a client that got the delete's answer must still see
    // its effect on the very next request. Many rounds, because the window is short.
    for (let i = 0; i < 25; i++) {
      const name = `gone-${i}`;
      await post('/api/v1/namespaces', { metadata: { name } });
      await post(`/api/v1/namespaces/${name}/configmaps`, { metadata: { name: 'warm' } });
      await http(c, 'DELETE', `/api/v1/namespaces/${name}`);
      const late = await post(`/api/v1/namespaces/${name}/configmaps`, { metadata: { name: 'late' } });
      // 403 while it terminates, 404 once it is gone; never created.
      expect([name, late.status === 403 || late.status === 404 ? 'refused' : late.status]).toEqual([name, 'refused']);
    }
  });

  it('deletes the custom resources of a deleted CRD and stops serving it', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gadgets.test.dev' },
      spec: { group: 'test.dev', scope: 'Cluster', names: { plural: 'gadgets', kind: 'Gadget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer', default: 3 } } } } } } }] },
    };
    expect((await post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
    const g = await post('/apis/test.dev/v1/gadgets', { apiVersion: 'test.dev/v1', kind: 'Gadget', metadata: { name: 'g1' }, spec: {} });
    expect(g.json()).toMatchObject({ spec: { size: 3 } });
    let streamed = '';
    const watching = http(c, 'GET', '/apis/test.dev/v1/gadgets?watch=true', { onText: (text) => (streamed = text) });
    // The watch's first event (the gadget that exists) shows it is registered.
    await eventually('the watch to send the existing gadget', () => streamed.includes('"ADDED"') || notYet(streamed), 10_000);
    await http(c, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.test.dev');
    const ended = (await watching).text.trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    expect(ended).toEqual(['ADDED', 'DELETED']);
    await eventually('the gadgets resource to stop being served', async () => {
      const { status } = await http(c, 'GET', '/apis/test.dev/v1/gadgets');
      return status === 404 || notYet(`status ${status}`);
    }, 10_000);
    expect((await post('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status).toBe(201);
    expect(((await http(c, 'GET', '/apis/test.dev/v1/gadgets')).json() as List).items).toEqual([]);
  });
});
