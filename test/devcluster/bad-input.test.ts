import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDevclusterTestCluster } from '../harness/devcluster.js';
import type { TestCluster } from '../harness/test-cluster.js';
import { http } from './http.js';

// Bad requests get a Status with kube-apiserver's reason and code, never a crash or a partial write.
describe('devcluster: bad input', () => {
  let c: TestCluster;
  const cms = '/api/v1/namespaces/default/configmaps';
  const status = (text: string): { kind: string; reason: string; code: number; message: string } => JSON.parse(text) as { kind: string; reason: string; code: number; message: string };

  beforeAll(async () => {
    c = await startDevclusterTestCluster({ crds: true });
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('answers 401 without a valid bearer token', async () => {
    expect(status((await http(c, 'GET', cms, { token: null })).text)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await http(c, 'GET', cms, { token: 'not-the-token' })).status).toBe(401);
    expect((await http(c, 'GET', '/readyz', { token: null })).text).toBe('ok');
  });

  it('answers 400 for malformed JSON and YAML bodies', async () => {
    const json = await http(c, 'POST', cms, { body: '{"metadata": {"name": "x"', contentType: 'application/json' });
    expect(json.status).toBe(400);
    expect(status(json.text)).toMatchObject({ reason: 'BadRequest', code: 400 });
    expect(status(json.text).message).toMatch(/^the body is not valid JSON: /);
    const yaml = await http(c, 'POST', cms, { body: 'metadata:\n  name: [x\n', contentType: 'application/yaml' });
    expect(status(yaml.text)).toMatchObject({ reason: 'BadRequest', code: 400 });
    expect(status(yaml.text).message).toMatch(/^the body is not valid YAML: /);
    const notObject = await http(c, 'POST', cms, { body: '[1,2]', contentType: 'application/json' });
    expect(status(notObject.text).message).toBe('the body must be a ConfigMap object (a JSON or YAML map)');
  });

  it('answers 400 for a kind or apiVersion that does not match the path', async () => {
    const kind = await http(c, 'POST', cms, { body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'k' } }), contentType: 'application/json' });
    expect(status(kind.text)).toMatchObject({ code: 400, message: 'the kind in the data (Secret) does not match the expected kind (ConfigMap) for configmaps in v1' });
    const version = await http(c, 'POST', cms, { body: JSON.stringify({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'k' } }), contentType: 'application/json' });
    expect(status(version.text)).toMatchObject({ code: 400, message: 'the API version in the data (apps/v1) does not match the expected API version (v1)' });
    expect((await http(c, 'GET', `${cms}/k`)).status).toBe(404);
  });

  it('answers 404 for unknown resources and groups, 405 for verbs a path does not take', async () => {
    expect(status((await http(c, 'GET', '/api/v1/widgets')).text)).toMatchObject({ reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' });
    expect((await http(c, 'GET', '/apis/nope.dev/v1/things')).status).toBe(404);
    expect((await http(c, 'GET', '/apis/shopfloor.dev/v9/nodeworkloads')).status).toBe(404);
    expect((await http(c, 'GET', '/api/v1/namespaces/default/nodes')).status).toBe(404);
    expect(status((await http(c, 'POST', `${cms}/x`, { body: '{}', contentType: 'application/json' })).text)).toMatchObject({ reason: 'MethodNotAllowed', code: 405 });
  });

  it('answers 415 for body types a verb does not take', async () => {
    await http(c, 'POST', cms, { body: JSON.stringify({ metadata: { name: 'media' } }), contentType: 'application/json' });
    const plain = await http(c, 'PATCH', `${cms}/media`, { body: '{}', contentType: 'text/plain' });
    expect(status(plain.text)).toMatchObject({ reason: 'UnsupportedMediaType', code: 415 });
    const smp = await http(c, 'PATCH', '/apis/shopfloor.dev/v1alpha1/namespaces/default/nodeworkloads/x', { body: '{}', contentType: 'application/strategic-merge-patch+json' });
    expect(status(smp.text)).toMatchObject({ reason: 'UnsupportedMediaType', code: 415 });
  });

  it('refuses bodies over 3 MiB with 413 and stores nothing; a body just under the limit is stored', async () => {
    const big = JSON.stringify({ metadata: { name: 'big' }, data: { blob: 'x'.repeat(3 * 1024 * 1024) } });
    const res = await http(c, 'POST', cms, { body: big, contentType: 'application/json' });
    expect(res.status).toBe(413);
    expect(status(res.text)).toMatchObject({ reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' });
    expect((await http(c, 'GET', `${cms}/big`)).status).toBe(404);
    const almost = JSON.stringify({ metadata: { name: 'almost' }, data: { blob: 'x'.repeat(3 * 1024 * 1024 - 200) } });
    expect((await http(c, 'POST', cms, { body: almost, contentType: 'application/json' })).status).toBe(201);
  });

  it('leaves the object untouched when a patch fails part way', async () => {
    const before = (await http(c, 'GET', `${cms}/media`)).json() as { metadata: { resourceVersion: string } };
    const res = await http(c, 'PATCH', `${cms}/media`, { body: JSON.stringify([{ op: 'add', path: '/data', value: { a: '1' } }, { op: 'remove', path: '/nope' }]), contentType: 'application/json-patch+json' });
    expect(status(res.text)).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(status(res.text).message).toContain('path "/nope" does not exist');
    const after = (await http(c, 'GET', `${cms}/media`)).json() as { metadata: { resourceVersion: string }; data?: unknown };
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.data).toBeUndefined();
  });

  it('answers 400 for bad selectors and query parameters', async () => {
    expect(status((await http(c, 'GET', `${cms}?labelSelector=${encodeURIComponent('a in b')}`)).text)).toMatchObject({ code: 400, message: 'unable to parse requirement: "a in b"' });
    expect(status((await http(c, 'GET', `${cms}?fieldSelector=spec.x%3D1`)).text).message).toContain('field label not supported: spec.x');
    expect((await http(c, 'GET', `${cms}?limit=abc`)).status).toBe(400);
    expect((await http(c, 'GET', `${cms}?continue=garbage`)).status).toBe(400);
    expect((await http(c, 'POST', `${cms}?dryRun=Some`, { body: '{"metadata":{"name":"d"}}', contentType: 'application/json' })).status).toBe(400);
  });

  it('is still healthy after all of it', async () => {
    expect((await http(c, 'GET', '/readyz')).status).toBe(200);
    expect((await http(c, 'GET', cms)).status).toBe(200);
  });
});
