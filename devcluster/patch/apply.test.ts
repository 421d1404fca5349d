import { describe, expect, it } from '@jest/globals';
import { schemaListTypes } from '../objects/list-types.js';
import { recordManagedFields } from '../objects/managed-fields.js';
import type { KubeObject } from '../objects/object.js';
import { ApiError } from '../objects/status.js';
import { defaultListMapKeys, describePath, serverSideApply } from './apply.js';
import { fieldsOf, fieldsV1Of, fromFieldsV1, pathKey, toFieldsV1 } from './fieldset.js';

const listTypes = schemaListTypes({
  type: 'object',
  properties: { spec: { type: 'object', properties: { ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port'], items: { type: 'object' } } } } },
});
const ctx = { listTypes, hasStatus: true };
const apply = (live: KubeObject | undefined, applied: KubeObject, manager: string, force = false): KubeObject =>
  serverSideApply({ live, applied, manager, force, apiVersion: 'x.dev/v1', subresource: undefined, hasStatus: true, listTypes });

describe('field sets (FieldsV1)', () => {
  it('round-trips through the FieldsV1 tree with "." for owned keyed items', () => {
    const fields = fieldsOf({ spec: { replicas: 1, ports: [{ port: 80, name: 'http' }] } }, listTypes, () => false);
    const tree = toFieldsV1(fields.keys());
    expect(tree).toEqual({ 'f:spec': { 'f:ports': { 'k:{"port":80}': { '.': {}, 'f:name': {}, 'f:port': {} } }, 'f:replicas': {} } });
    expect([...fromFieldsV1(tree)].sort()).toEqual([...fields.keys()].sort());
  });

  it('renders an object\'s fields straight to the same FieldsV1 tree as through its field set', () => {
    const object = { metadata: { name: 'a', labels: { x: 'y' } }, spec: { replicas: 1, empty: {}, tags: ['a'], ports: [{ port: 80, name: 'http' }, { port: 81 }] } };
    const skip = (e: string[]): boolean => e[0] === 'f:metadata' && e[1] === 'f:name';
    expect(fieldsV1Of(object, listTypes, skip)).toEqual(toFieldsV1(fieldsOf(object, listTypes, skip).keys()));
    expect(fieldsV1Of(object, listTypes, skip)).toHaveProperty(['f:spec', 'f:ports', 'k:{"port":81}', '.'], {});
    expect(fieldsV1Of({ metadata: { name: 'a' } }, listTypes, skip)).toBeUndefined();
  });

  it('counts the maps an Update sets as fields, as kube-apiserver does, metadata aside', () => {
    const object = { metadata: { name: 'a', labels: { x: 'y' } }, data: { k: 'v' }, spec: { template: { image: 'i' }, ports: [{ port: 80 }] } };
    const skip = (e: string[]): boolean => e[0] === 'f:metadata' && e[1] === 'f:name';
    expect(fieldsV1Of(object, listTypes, skip, true)).toEqual({
      'f:data': { '.': {}, 'f:k': {} },
      'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } },
      'f:spec': { '.': {}, 'f:ports': { '.': {}, 'k:{"port":80}': { '.': {}, 'f:port': {} } }, 'f:template': { '.': {}, 'f:image': {} } },
    });
    expect(fieldsV1Of(object, listTypes, skip, true)).toEqual(toFieldsV1(fieldsOf(object, listTypes, skip, true).keys()));
  });

  it('describes paths the way conflicts name them', () => {
    expect(describePath(['f:spec', 'f:ports', 'k:{"port":80}', 'f:name'])).toBe('.spec.ports[port=80].name');
    expect(describePath(['f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'])).toBe('.spec.containers[name="web"].image');
  });

  it('fills defaulted map keys into applied items, so a port without protocol is the TCP port', () => {
    const keyed = schemaListTypes({
      type: 'object',
      properties: { spec: { type: 'object', properties: { ports: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['port', 'protocol'], items: { type: 'object', properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' } } } } } } },
    });
    expect(defaultListMapKeys({ spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] } }, [], keyed)).toEqual({ spec: { ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] } });
    const live: KubeObject = { metadata: { name: 'w', managedFields: [{ manager: 'old', operation: 'Update', apiVersion: 'x.dev/v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:protocol': {} } } } } }] }, spec: { ports: [{ port: 80, protocol: 'TCP' }] } };
    const merged = serverSideApply({ live, applied: { metadata: { name: 'w' }, spec: { ports: [{ port: 80 }, { port: 81 }] } }, manager: 'new', force: false, apiVersion: 'x.dev/v1', subresource: undefined, hasStatus: true, listTypes: keyed });
    expect(merged.spec).toEqual({ ports: [{ port: 80, protocol: 'TCP' }, { port: 81, protocol: 'TCP' }] });
  });
});

describe('server-side apply', () => {
  const config = (replicas: number, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'x.dev/v1', kind: 'W', metadata: { name: 'w', labels: { a: '1' } }, spec: { replicas, ...extra } });

  it('creates with an Apply entry, then drops fields the manager stops applying', () => {
    const first = apply(undefined, config(1, { paused: true }), 'alice');
    expect(first.spec).toEqual({ replicas: 1, paused: true });
    expect(first.metadata.managedFields?.[0]).toMatchObject({ manager: 'alice', operation: 'Apply' });
    const second = apply(first, config(1), 'alice');
    expect(second.spec).toEqual({ replicas: 1 });
  });

  it('answers 409 naming the other manager and field, and moves ownership when forced', () => {
    const live = apply(undefined, config(1), 'alice');
    let caught: unknown;
    try {
      apply(live, config(2), 'bob');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe(409);
    expect((caught as ApiError).message).toBe('Apply failed with 1 conflict: conflict with "alice" using x.dev/v1: .spec.replicas');
    const forced = apply(live, config(2), 'bob', true);
    expect(forced.spec).toEqual({ replicas: 2 });
    const alice = forced.metadata.managedFields?.find((e) => e.manager === 'alice');
    expect(fromFieldsV1(alice?.fieldsV1).has(pathKey(['f:spec', 'f:replicas']))).toBe(false);
  });

  it('lets two managers share a field with the same value and merges keyed list items', () => {
    const live = apply(undefined, config(1, { ports: [{ port: 80 }] }), 'alice');
    const shared = apply(live, config(1, { ports: [{ port: 81 }] }), 'bob');
    expect(shared.spec).toEqual({ replicas: 1, ports: [{ port: 80 }, { port: 81 }] });
  });
});

describe('managedFields for updates', () => {
  it('gives the updater the fields it changed and takes them from others', () => {
    const created: KubeObject = { metadata: { name: 'w' }, spec: { replicas: 1, paused: false } };
    recordManagedFields(undefined, created, 'alice', 'x.dev/v1', undefined, ctx);
    const updated: KubeObject = { ...structuredClone(created), spec: { replicas: 2, paused: false } };
    recordManagedFields(created, updated, 'bob', 'x.dev/v1', undefined, ctx);
    const byManager = Object.fromEntries((updated.metadata.managedFields ?? []).map((e) => [e.manager, [...fromFieldsV1(e.fieldsV1)]]));
    // alice made spec, so she keeps its "." as well as the field bob left alone.
    expect(byManager.alice).toEqual([pathKey(['f:spec']), pathKey(['f:spec', 'f:paused'])]);
    expect(byManager.bob).toEqual([pathKey(['f:spec', 'f:replicas'])]);
  });
});
