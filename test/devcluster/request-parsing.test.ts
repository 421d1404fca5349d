import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';
import { http } from './http.js';

// How the API server reads what a client other than kubectl or client-go may send: query
// parameters, path escapes, deep bodies and long label keys. The same answers on the devcluster
// and on kube-apiserver (this suite runs on both): a 400 or 422 for what does not parse, never a
// 500, never a silently ignored parameter.
describe(`request parsing (${testApiServer()})`, () => {
  let c: TestCluster;
  const cms = '/api/v1/namespaces/default/configmaps';
  const status = (text: string): { reason?: string; code?: number; message?: string; details?: { causes?: { reason: string }[]; retryAfterSeconds?: number } } => {
    try {
      return JSON.parse(text) as ReturnType<typeof status>;
    } catch {
      return {};
    }
  };

  beforeAll(async () => {
    c = await startTestCluster();
    const created = await http(c, 'POST', cms, { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'present' } }), contentType: 'application/json' });
    expect(created.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('reads watch= as kube-apiserver does: false only as 0 or false in any case, true otherwise (Python\'s client sends True)', async () => {
    for (const value of ['true', 'True', 'TRUE', 't', '1', 'yes', '']) {
      // A watch without a resourceVersion starts with the objects there as ADDED, then ends on its timeout.
      const r = await http(c, 'GET', `${cms}?watch=${value}&timeoutSeconds=1`);
      expect({ value, status: r.status, watched: r.text.includes('"type":"ADDED"') }).toEqual({ value, status: 200, watched: true });
    }
    for (const value of ['false', 'False', 'FALSE', '0']) {
      const r = await http(c, 'GET', `${cms}?watch=${value}&timeoutSeconds=1`);
      expect({ value, status: r.status, kind: r.json().kind }).toEqual({ value, status: 200, kind: 'ConfigMapList' });
    }
  });

  it('answers 400 for a timeoutSeconds or resourceVersion that is not a number, on lists and watches', async () => {
    for (const query of ['timeoutSeconds=abc', 'watch=1&timeoutSeconds=abc', 'resourceVersion=abc', 'resourceVersion=99999999999999999999', 'limit=abc']) {
      const r = await http(c, 'GET', `${cms}?${query}`);
      expect({ query, status: r.status, reason: status(r.text).reason }).toEqual({ query, status: 400, reason: 'BadRequest' });
    }
  });

  it('answers a list newer than the storage with 504 ResourceVersionTooLarge and a retry hint, without a 503', async () => {
    for (const query of ['resourceVersion=99999999999999', 'resourceVersion=10000000000000000000', 'resourceVersion=10000000000000000000&resourceVersionMatch=NotOlderThan']) {
      const r = await http(c, 'GET', `${cms}?${query}`);
      const s = status(r.text);
      expect({ query, status: r.status, reason: s.reason, cause: s.details?.causes?.[0]?.reason, retry: s.details?.retryAfterSeconds }).toEqual({ query, status: 504, reason: 'Timeout', cause: 'ResourceVersionTooLarge', retry: 1 });
    }
  });

  it('answers 400 for a malformed %-escape in the path, and 404 for a name that decodes to one holding "/"', async () => {
    expect((await http(c, 'GET', `${cms}/%zz`)).status).toBe(400);
    const slash = await http(c, 'GET', `${cms}/a%2Fb`);
    expect({ status: slash.status, message: status(slash.text).message }).toEqual({ status: 404, message: 'the server could not find the requested resource' });
    expect((await http(c, 'DELETE', `${cms}/a%2Fb`)).status).toBe(404);
  });

  it('answers 400 for a body nested ten thousand deep (the devcluster refuses past a thousand), and stores nothing', async () => {
    const deep = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"extra":${'['.repeat(10_001)}${']'.repeat(10_001)}}`;
    const r = await http(c, 'POST', cms, { body: deep, contentType: 'application/json' });
    expect({ status: r.status, reason: status(r.text).reason }).toEqual({ status: 400, reason: 'BadRequest' });
    expect((await http(c, 'GET', `${cms}/deep`)).status).toBe(404);
  });

  it('refuses a label key longer than 63 characters: 400 in a selector, 422 naming metadata.labels in an object', async () => {
    const key = 'k'.repeat(64);
    const selector = await http(c, 'GET', `${cms}?labelSelector=${key}%3Dv`);
    expect({ status: selector.status, message: status(selector.text).message }).toEqual({ status: 400, message: expect.stringContaining('name part must be no more than 63 bytes') });
    const object = await http(c, 'POST', cms, { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'long-label', labels: { [key]: 'v' } } }), contentType: 'application/json' });
    expect({ status: object.status, message: status(object.text).message }).toEqual({ status: 422, message: expect.stringContaining(`metadata.labels: Invalid value: "${key}": name part must be no more than 63 bytes`) });
  });
});
