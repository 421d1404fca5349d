import { describe, expect, it } from '@jest/globals';
import { builtinListTypes, schemaListTypes } from '../objects/list-types.js';
import { jsonPatch, JsonPatchError } from './json.js';
import { mergePatch } from './merge.js';
import { strategicMergePatch } from './strategic.js';

describe('JSON merge patch (RFC 7386)', () => {
  it('merges maps, removes keys set to null and replaces lists', () => {
    const target = { a: { b: 1, c: 2 }, list: [1, 2], keep: true };
    expect(mergePatch(target, { a: { b: null, d: 3 }, list: [3] })).toEqual({ a: { c: 2, d: 3 }, list: [3], keep: true });
    expect(target.a).toEqual({ b: 1, c: 2 });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { labels: { a: '1' } }, items: ['x', 'y'] };

  it('applies add, remove, replace, move, copy and test', () => {
    const out = jsonPatch(doc, [
      { op: 'add', path: '/metadata/labels/b', value: '2' },
      { op: 'remove', path: '/items/0' },
      { op: 'replace', path: '/metadata/labels/a', value: 'one' },
      { op: 'add', path: '/items/-', value: 'z' },
      { op: 'copy', from: '/items/0', path: '/first' },
      { op: 'move', from: '/first', path: '/moved' },
      { op: 'test', path: '/moved', value: 'y' },
    ]);
    expect(out).toEqual({ metadata: { labels: { a: 'one', b: '2' } }, items: ['y', 'z'], moved: 'y' });
    expect(doc.items).toEqual(['x', 'y']);
  });

  it('fails as a whole on a missing path or a failed test', () => {
    expect(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }])).toThrow(JsonPatchError);
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/items/0', value: 'y' }])).toThrow('testing value /items/0 failed');
    expect(() => jsonPatch(doc, [{ op: 'jump', path: '/x' }])).toThrow(/unknown op "jump"/);
    expect(() => jsonPatch(doc, { op: 'add' })).toThrow(/must be an array/);
  });

  it('unescapes ~1 and ~0 in pointers', () => {
    expect(jsonPatch({ a: {} }, [{ op: 'add', path: '/a/shopfloor.dev~1node', value: 'n' }])).toEqual({ a: { 'shopfloor.dev/node': 'n' } });
  });
});

describe('strategic merge patch', () => {
  const node = {
    metadata: { finalizers: ['a'], ownerReferences: [{ uid: 'u1', name: 'x' }] },
    status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'DiskPressure', status: 'False' }] },
  };

  it('merges keyed lists by key and takes a union of merge-strategy scalar lists, patched items first as kube-apiserver orders them', () => {
    const out = strategicMergePatch(node, {
      metadata: { finalizers: ['b'] },
      status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PIDPressure', status: 'False' }] },
    }, builtinListTypes) as typeof node;
    expect(out.metadata.finalizers).toEqual(['b', 'a']);
    expect(out.status.conditions).toEqual([{ type: 'Ready', status: 'True' }, { type: 'PIDPressure', status: 'False' }, { type: 'DiskPressure', status: 'False' }]);
  });

  // Each expectation as kube-apiserver v1.37.2 answered the same patch (bench/fidelity.ts measures them side by side).
  it('keeps a live item before a patched one where it stood before it', () => {
    const live = { metadata: { finalizers: ['a', 'b', 'c'] } };
    const order = (patch: unknown): unknown => (strategicMergePatch(live, patch, builtinListTypes) as typeof live).metadata.finalizers;
    expect(order({ metadata: { finalizers: ['b', 'd'] } })).toEqual(['a', 'b', 'd', 'c']);
    expect(order({ metadata: { finalizers: ['d', 'a'] } })).toEqual(['d', 'a', 'b', 'c']);
    expect(order({ metadata: { finalizers: ['c', 'a'] } })).toEqual(['b', 'c', 'a']);
    expect((strategicMergePatch({ metadata: { finalizers: ['a', 'b', 'c', 'd'] } }, { metadata: { finalizers: ['d', 'e', 'b'] } }, builtinListTypes) as typeof live).metadata.finalizers).toEqual(['a', 'c', 'd', 'e', 'b']);
    expect(order({ metadata: { '$setElementOrder/finalizers': ['c', 'd', 'a'], finalizers: ['d'] } })).toEqual(['b', 'c', 'd', 'a']);
    expect(order({ metadata: { '$setElementOrder/finalizers': ['c', 'b', 'a'] } })).toEqual(['c', 'b', 'a']);
    expect(order({ metadata: { '$setElementOrder/finalizers': ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'] } })).toEqual(['c', 'a']);
  });

  it('honours $patch delete, $patch replace, $deleteFromPrimitiveList and $setElementOrder', () => {
    const deleted = strategicMergePatch(node, { status: { conditions: [{ type: 'Ready', $patch: 'delete' }] } }, builtinListTypes) as typeof node;
    expect(deleted.status.conditions).toEqual([{ type: 'DiskPressure', status: 'False' }]);
    const replaced = strategicMergePatch(node, { status: { $patch: 'replace', phase: 'x' } }, builtinListTypes);
    expect(replaced).toEqual({ metadata: node.metadata, status: { phase: 'x' } });
    const pruned = strategicMergePatch(node, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, builtinListTypes) as typeof node;
    expect(pruned.metadata.finalizers).toEqual([]);
    const ordered = strategicMergePatch(node, { status: { '$setElementOrder/conditions': [{ type: 'DiskPressure' }, { type: 'Ready' }] } }, builtinListTypes) as typeof node;
    expect(ordered.status.conditions.map((c) => c.type)).toEqual(['DiskPressure', 'Ready']);
  });

  it('replaces atomic lists and removes null fields', () => {
    expect(strategicMergePatch({ spec: { taints: [{ key: 'a' }], x: 1 } }, { spec: { taints: [{ key: 'b' }], x: null } }, builtinListTypes)).toEqual({ spec: { taints: [{ key: 'b' }] } });
  });
});

describe('list types from a CRD schema', () => {
  it('reads x-kubernetes-list-type and map keys through nested arrays', () => {
    const resolve = schemaListTypes({
      type: 'object',
      properties: { spec: { type: 'object', properties: { containers: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', properties: { ports: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'integer' } } } } } } } },
    });
    expect(resolve(['spec', 'containers'])).toEqual({ type: 'map', keys: ['name'] });
    expect(resolve(['spec', 'containers', 'ports'])).toEqual({ type: 'set' });
    expect(resolve(['spec', 'other'])).toEqual({ type: 'atomic' });
    expect(resolve(['metadata', 'finalizers'])).toEqual({ type: 'set' });
  });
});
