import { describe, expect, it } from '@jest/globals';
import { Backoff } from './backoff.js';
import { KubeApiError, isAlreadyExists, isConflict, isGone, isNotFound } from './errors.js';
import { LineSplitter } from './json-lines.js';
import { LEASES, resourcePath, type ResourceType } from './resource.js';
import { objectKey, splitKey } from './types.js';

const NW: ResourceType = { group: 'shopfloor.dev', version: 'v1alpha1', plural: 'nodeworkloads', kind: 'NodeWorkload', namespaced: true };
const NA_CLUSTER: ResourceType = { group: 'shopfloor.dev', version: 'v1alpha1', plural: 'nodeagents', kind: 'NodeAgent', namespaced: false };

describe('resourcePath', () => {
  it('builds group, core, namespaced, cluster-scoped and subresource paths', () => {
    expect(resourcePath(NW)).toBe('/apis/shopfloor.dev/v1alpha1/nodeworkloads');
    expect(resourcePath(NW, { namespace: 'a b', name: 'x', subresource: 'status' })).toBe(
      '/apis/shopfloor.dev/v1alpha1/namespaces/a%20b/nodeworkloads/x/status',
    );
    expect(resourcePath(NA_CLUSTER, { name: 'node-1' })).toBe('/apis/shopfloor.dev/v1alpha1/nodeagents/node-1');
    expect(resourcePath({ group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true }, { namespace: 'd' })).toBe(
      '/api/v1/namespaces/d/events',
    );
    expect(resourcePath(LEASES, { namespace: 'n', name: 'l' })).toBe('/apis/coordination.k8s.io/v1/namespaces/n/leases/l');
  });

  it('explains paths that cannot exist', () => {
    expect(() => resourcePath(NW, { name: 'x' })).toThrow(/namespaced; give its namespace/);
    expect(() => resourcePath(NA_CLUSTER, { namespace: 'n' })).toThrow(/cluster-scoped/);
    expect(() => resourcePath(NW, { namespace: 'n', subresource: 'status' })).toThrow(/needs an object name/);
  });
});

describe('KubeApiError', () => {
  it('carries code and Status reason, and the predicates read them', () => {
    const status = JSON.stringify({ kind: 'Status', code: 409, reason: 'AlreadyExists', message: 'nodeworkloads "a" already exists' });
    const exists = KubeApiError.fromResponse(409, status, 'POST', '/x');
    expect(exists.message).toBe('POST /x: 409 AlreadyExists: nodeworkloads "a" already exists');
    expect(isAlreadyExists(exists)).toBe(true);
    expect(isConflict(exists)).toBe(false);
    const conflict = KubeApiError.fromResponse(409, JSON.stringify({ reason: 'Conflict' }), 'PUT', '/x');
    expect(isConflict(conflict)).toBe(true);
    expect(isNotFound(KubeApiError.fromResponse(404, 'page not found', 'GET', '/y'))).toBe(true);
    const gone = KubeApiError.fromResponse(410, '', 'GET', '/y');
    expect(gone.reason).toBe('Gone');
    expect(isGone(gone)).toBe(true);
    expect(isNotFound(new Error('404'))).toBe(false);
  });
});

describe('LineSplitter', () => {
  it('reassembles lines cut across chunks and skips blank lines', () => {
    const s = new LineSplitter();
    expect(s.push('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(s.push(':2}\n\n')).toEqual(['{"b":2}']);
    expect(s.push('{"c":3}')).toEqual([]);
    expect(s.end()).toEqual(['{"c":3}']);
  });
});

describe('Backoff', () => {
  it('doubles with jitter in [d/2, d], caps, and resets', () => {
    const low = new Backoff(100, 1000, () => 0);
    expect([low.next(), low.next(), low.next(), low.next(), low.next()]).toEqual([50, 100, 200, 400, 500]);
    const high = new Backoff(100, 1000, () => 1);
    expect([high.next(), high.next()]).toEqual([100, 200]);
    high.reset();
    expect(high.attempts()).toBe(0);
    expect(high.next()).toBe(100);
  });
});

describe('objectKey', () => {
  it('round-trips namespaced and cluster-scoped keys', () => {
    expect(objectKey({ metadata: { namespace: 'ns', name: 'a' } })).toBe('ns/a');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(splitKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitKey('node-1')).toEqual({ namespace: undefined, name: 'node-1' });
  });
});
