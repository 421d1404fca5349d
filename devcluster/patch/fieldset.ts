import type { FieldPath, ListTypeResolver } from '../objects/list-types.js';
import { isPlainObject, jsonEqual } from '../objects/object.js';

/**
 * Field sets as managedFields records them (FieldsV1): path elements are `f:<field>`,
 * `k:<json of key fields>` (an item of a keyed list), `v:<json value>` (an item of a set).
 * A path is stored as the JSON of its elements; the map value is the leaf's value (or
 * `undefined` for a keyed list item, which is owned as a whole and holds owned fields).
 */
export type FieldSet = Map<string, unknown>;

export const pathKey = (elements: string[]): string => JSON.stringify(elements);
export const pathElements = (key: string): string[] => JSON.parse(key) as string[];

/**
 * What an Update records of a map or merged list: that it is there (kube-apiserver's `.` of
 * one the manager created), not what it holds, so one that stays is never counted as changed.
 */
const MAP = 'map';

/**
 * The fields an object sets, leaves with their values. With `maps` (how kube-apiserver counts
 * an Update's fields, unlike an Apply's), each map below the root but metadata, and each keyed
 * list or set, is a field too.
 */
export function fieldsOf(object: unknown, listTypes: ListTypeResolver, skip: (elements: string[]) => boolean, maps = false): FieldSet {
  const out: FieldSet = new Map();
  walk(object, [], [], listTypes, skip, (elements, value) => out.set(pathKey(elements), value), maps);
  return out;
}

/**
 * The FieldsV1 tree of every field an object sets (what `toFieldsV1(fieldsOf(...).keys())`
 * renders, without a JSON round trip per path), or undefined when it sets none. A create owns
 * every field it sends, so it needs no field set to compare.
 */
export function fieldsV1Of(object: unknown, listTypes: ListTypeResolver, skip: (elements: string[]) => boolean, maps = false): Record<string, unknown> | undefined {
  const tree = new FieldTree();
  walk(object, [], [], listTypes, skip, (elements) => tree.add(elements), maps);
  return tree.empty() ? undefined : tree.render();
}

type Emit = (elements: string[], value: unknown) => void;

function walk(value: unknown, elements: string[], names: FieldPath, listTypes: ListTypeResolver, skip: (e: string[]) => boolean, out: Emit, maps: boolean): void {
  if (isPlainObject(value)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0 && elements.length > 0) {
      out(elements, {});
      return;
    }
    if (maps && elements.length > 0 && !(elements.length === 1 && elements[0] === 'f:metadata')) out(elements, MAP);
    for (const [k, v] of entries) {
      const child = [...elements, `f:${k}`];
      if (skip(child)) continue;
      walk(v, child, [...names, k], listTypes, skip, out, maps);
    }
    return;
  }
  if (Array.isArray(value)) {
    const lt = listTypes(names);
    if (maps && lt.type !== 'atomic' && value.length > 0) out(elements, MAP);
    if (lt.type === 'map' && value.length > 0) {
      for (const item of value) {
        if (!isPlainObject(item)) continue;
        const id = [...elements, `k:${itemKey(item, lt.keys ?? [])}`];
        out(id, undefined);
        for (const [k, v] of Object.entries(item)) walk(v, [...id, `f:${k}`], [...names, k], listTypes, skip, out, maps);
      }
      return;
    }
    if (lt.type === 'set' && value.length > 0) {
      for (const item of value) out([...elements, `v:${JSON.stringify(item)}`], item);
      return;
    }
  }
  out(elements, value);
}

/** The `k:` element of a keyed list item: its key fields as compact JSON, keys sorted. */
export function itemKey(item: Record<string, unknown>, keys: string[]): string {
  const id: Record<string, unknown> = {};
  for (const k of [...keys].sort()) if (item[k] !== undefined) id[k] = item[k];
  return JSON.stringify(id);
}

/** Renders a set of paths as a FieldsV1 tree. */
export function toFieldsV1(paths: Iterable<string>): Record<string, unknown> {
  const tree = new FieldTree();
  for (const key of paths) tree.add(pathElements(key));
  return tree.render();
}

interface FieldNode {
  owned: boolean;
  children: Map<string, FieldNode>;
}

/** Owned paths gathered into the nested form FieldsV1 renders. */
class FieldTree {
  private readonly root: FieldNode = { owned: false, children: new Map() };

  add(elements: string[]): void {
    let node = this.root;
    for (const e of elements) {
      let next = node.children.get(e);
      if (!next) {
        next = { owned: false, children: new Map() };
        node.children.set(e, next);
      }
      node = next;
    }
    node.owned = true;
  }

  empty(): boolean {
    return this.root.children.size === 0 && !this.root.owned;
  }

  render(node = this.root): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (node.owned && node.children.size > 0) out['.'] = {};
    for (const [k, child] of [...node.children.entries()].sort(([a], [b]) => a.localeCompare(b))) out[k] = this.render(child);
    return out;
  }
}

/** Reads a FieldsV1 tree back into the set of its paths. */
export function fromFieldsV1(tree: unknown): Set<string> {
  const out = new Set<string>();
  const walkTree = (node: unknown, elements: string[]): void => {
    if (!isPlainObject(node)) return;
    const keys = Object.keys(node);
    if (elements.length > 0 && (keys.length === 0 || keys.includes('.'))) out.add(pathKey(elements));
    for (const k of keys) if (k !== '.') walkTree(node[k], [...elements, k]);
  };
  walkTree(tree, []);
  return out;
}

/** The value at a path of an object, or `missing`. */
export const missing = Symbol('missing');

export function valueAt(object: unknown, elements: string[]): unknown {
  let node: unknown = object;
  for (const e of elements) {
    const found = step(node, e);
    if (found === missing) return missing;
    node = found.value;
  }
  return node;
}

function step(node: unknown, e: string): { value: unknown; index: number | string; parent: unknown } | typeof missing {
  const body = e.slice(2);
  if (e.startsWith('f:')) {
    if (!isPlainObject(node) || node[body] === undefined) return missing;
    return { value: node[body], index: body, parent: node };
  }
  if (!Array.isArray(node)) return missing;
  if (e.startsWith('k:')) {
    const id = JSON.parse(body) as Record<string, unknown>;
    const i = node.findIndex((item) => isPlainObject(item) && Object.entries(id).every(([k, v]) => jsonEqual(item[k], v)));
    return i < 0 ? missing : { value: node[i], index: i, parent: node };
  }
  if (e.startsWith('v:')) {
    const v = JSON.parse(body) as unknown;
    const i = node.findIndex((item) => jsonEqual(item, v));
    return i < 0 ? missing : { value: node[i], index: i, parent: node };
  }
  if (e.startsWith('i:')) {
    const i = Number(body);
    return i < node.length ? { value: node[i], index: i, parent: node } : missing;
  }
  return missing;
}

/** Removes the field at a path from an object, in place (no-op when absent). */
export function removeAt(object: unknown, elements: string[]): void {
  let node: unknown = object;
  for (let i = 0; i < elements.length - 1; i++) {
    const found = step(node, elements[i] as string);
    if (found === missing) return;
    node = found.value;
  }
  const last = step(node, elements[elements.length - 1] as string);
  if (last === missing) return;
  if (Array.isArray(last.parent)) last.parent.splice(last.index as number, 1);
  else if (isPlainObject(last.parent)) delete last.parent[last.index as string];
}
