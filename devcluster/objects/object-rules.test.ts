import { describe, expect, it } from '@jest/globals';
import { builtinResources } from './builtins.js';
import { crdResource } from './crd.js';
import { generatedName, prepareCreate, prepareUpdate, setGeneration, validateMetadata } from './object-rules.js';
import type { ResourceInfo } from './registry.js';
import { parseResourcePath } from '../http/request-path.js';

const cr: ResourceInfo = crdResource({
  metadata: { name: 'widgets.x.dev' },
  spec: { group: 'x.dev', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } }, subresources: { status: {} } }] },
});
const namespaces = builtinResources().find((i) => i.resource === 'namespaces') as ResourceInfo;

describe('object rules', () => {
  it('generates names from generateName with five random characters', () => {
    expect(generatedName('web-')).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('sets server-owned metadata on create and drops status behind a status subresource', () => {
    const created = prepareCreate(cr, { metadata: { generateName: 'w-', resourceVersion: '9' }, spec: { a: 1 }, status: { x: 1 } }, 'ns1', true);
    expect(created.metadata).toMatchObject({ namespace: 'ns1', generation: 1 });
    expect(created.metadata.name).toMatch(/^w-/);
    expect(created.metadata.uid).toBeDefined();
    expect(created.metadata.resourceVersion).toBeUndefined();
    expect(created.status).toBeUndefined();
  });

  it('keeps status on main-resource updates, only status on /status, and bumps generation on spec changes', () => {
    const current = { metadata: { name: 'w', namespace: 'ns1', uid: 'u', generation: 1, creationTimestamp: 't' }, spec: { a: 1 }, status: { s: 1 } };
    const main = prepareUpdate(cr, current, { metadata: { name: 'w', uid: 'other' }, spec: { a: 2 }, status: { s: 9 } }, undefined, true);
    setGeneration(cr, current, main);
    expect(main).toMatchObject({ spec: { a: 2 }, status: { s: 1 }, metadata: { uid: 'u', generation: 2 } });
    const status = prepareUpdate(cr, current, { metadata: { name: 'w' }, spec: { a: 5 }, status: { s: 2 } }, 'status', true);
    setGeneration(cr, current, status);
    expect(status).toMatchObject({ spec: { a: 1 }, status: { s: 2 }, metadata: { generation: 1 } });
  });

  it('gives namespaces the kubernetes finalizer and Active phase', () => {
    expect(prepareCreate(namespaces, { metadata: { name: 'n' } }, undefined, true)).toMatchObject({ spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
  });

  it('validates names and labels like kube-apiserver', () => {
    expect(validateMetadata(cr, { metadata: {} })[0]).toEqual({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
    expect(validateMetadata(cr, { metadata: { name: 'Bad_Name' } })[0]?.message).toMatch(/^Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    expect(validateMetadata(namespaces, { metadata: { name: 'a.b' } })[0]?.message).toMatch(/RFC 1123 label/);
    expect(validateMetadata(cr, { metadata: { name: 'ok', labels: { 'a/b/c': 'x' } } })[0]?.field).toBe('metadata.labels');
  });
});

describe('request paths', () => {
  it('parses core, group, namespaced, cluster-scoped and subresource paths', () => {
    expect(parseResourcePath('/api/v1/namespaces/default/configmaps/x')).toEqual({ group: '', version: 'v1', namespace: 'default', resource: 'configmaps', name: 'x' });
    expect(parseResourcePath('/api/v1/namespaces/default')).toEqual({ group: '', version: 'v1', resource: 'namespaces', name: 'default' });
    expect(parseResourcePath('/api/v1/namespaces/default/status')).toEqual({ group: '', version: 'v1', resource: 'namespaces', name: 'default', subresource: 'status' });
    expect(parseResourcePath('/apis/x.dev/v1/namespaces/n/widgets/w/status')).toEqual({ group: 'x.dev', version: 'v1', namespace: 'n', resource: 'widgets', name: 'w', subresource: 'status' });
    expect(parseResourcePath('/apis/x.dev/v1/nodeagents')).toEqual({ group: 'x.dev', version: 'v1', resource: 'nodeagents' });
    expect(parseResourcePath('/apis/x.dev')).toBeUndefined();
  });
});
