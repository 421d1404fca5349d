import { describe, expect, it } from '@jest/globals';
import { builtinResources } from './builtins.js';
import type { KubeObject } from './object.js';
import type { ResourceInfo } from './registry.js';
import { servedJson, servedJsonLength, toServed, toStored, withoutTypeMeta, writeServedJson, type ServedJson } from './served-object.js';

const builtin = (resource: string, group = ''): ResourceInfo => {
  const info = builtinResources().find((r) => r.resource === resource && r.group === group);
  if (!info) throw new Error(`no built-in ${group}/${resource}`);
  return info;
};
const thing: ResourceInfo = {
  ...builtin('configmaps'), group: 'x.dev', resource: 'things', kind: 'Thing', listKind: 'ThingList', builtin: false, storagePrefix: '/registry/x.dev/things/',
  versions: [{ name: 'v1', served: true, storage: true, printerColumns: [], hasStatus: false }, { name: 'v2', served: true, storage: false, printerColumns: [], hasStatus: false }],
};

/** A stored value as storage.ts writes it, and the item a list holds once storage.ts decoded it at `rv`. */
function storedAndListed(info: ResourceInfo, version: string, object: KubeObject, rv: string): { value: Buffer; item: KubeObject } {
  const stored = toStored(info, object);
  const { resourceVersion: _rv, ...metadata } = stored.metadata;
  const value = Buffer.from(JSON.stringify({ ...stored, metadata }));
  const decoded = JSON.parse(value.toString()) as KubeObject;
  decoded.metadata.resourceVersion = rv;
  const served = toServed(info, version, decoded);
  return { value, item: info.builtin ? withoutTypeMeta(served) : served };
}

function written(layout: ServedJson | undefined, stored: Buffer): string | undefined {
  if (!layout) return undefined;
  const target = Buffer.alloc(servedJsonLength(layout, stored) + 2, '#');
  expect(writeServedJson(layout, stored, target, 1)).toBe(target.length - 1);
  return target.subarray(1, -1).toString();
}

describe('servedJson: a listed item written from its stored bytes', () => {
  it('is byte for byte JSON.stringify of the item, for a built-in kind and for each version of a custom resource', () => {
    const cm = storedAndListed(builtin('configmaps'), 'v1', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns', labels: { é: '"x"' }, uid: 'u' }, data: { '1': 'one', b: 'two' } } as KubeObject, '42');
    expect(written(servedJson(builtin('configmaps'), 'v1', cm.item, cm.value), cm.value)).toBe(JSON.stringify(cm.item));
    for (const version of ['v1', 'v2']) {
      const t = storedAndListed(thing, version, { apiVersion: `x.dev/${version}`, kind: 'Thing', metadata: { name: 't' }, spec: { n: 1.5 } } as KubeObject, '7');
      expect(written(servedJson(thing, version, t.item, t.value), t.value)).toBe(JSON.stringify(t.item));
    }
    const bare = storedAndListed(thing, 'v1', { apiVersion: 'x.dev/v1', kind: 'Thing', metadata: {} } as KubeObject, '9');
    expect(written(servedJson(thing, 'v1', bare.item, bare.value), bare.value)).toBe(JSON.stringify(bare.item));
  });

  it('leaves to JSON.stringify a value written past the API and a kind converted on the way out', () => {
    const info = builtin('configmaps');
    const item = (metadata: Record<string, unknown>): KubeObject => ({ metadata: { ...metadata, resourceVersion: '5' } }) as KubeObject;
    // Whitespace, another key order, a resourceVersion kept in the value, an escape JSON.stringify would not write.
    expect(servedJson(info, 'v1', item({ name: 'a' }), Buffer.from('{"apiVersion": "v1","kind":"ConfigMap","metadata":{"name":"a"}}'))).toBeUndefined();
    expect(servedJson(info, 'v1', item({ name: 'a' }), Buffer.from('{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a"}}'))).toBeUndefined();
    expect(servedJson(info, 'v1', item({ name: 'a' }), Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"5"}}'))).toBeUndefined();
    expect(servedJson(info, 'v1', item({ name: 'é' }), Buffer.from('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\\u00e9"}}'))).toBeUndefined();
    const events = builtin('events', 'events.k8s.io');
    const ev = storedAndListed(events, 'v1', { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e', namespace: 'ns' }, note: 'n' } as KubeObject, '3');
    expect(servedJson(events, 'v1', ev.item, ev.value)).toBeUndefined();
  });
});
