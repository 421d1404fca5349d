import type { FieldPath, ListTypeResolver } from '../objects/list-types.js';
import { clone, isPlainObject, jsonEqual } from '../objects/object.js';
import { itemKey } from './fieldset.js';

/** A strategic merge patch that cannot be applied; the message names the field. */
export class StrategicPatchError extends Error {}

/**
 * Strategic merge patch for the built-in kinds: maps merge, `null` deletes, keyed lists merge
 * item by item (`$patch: delete` removes one), merge-strategy scalar lists take a union, other
 * lists are replaced. Directives: `$patch` (replace/delete/merge), `$retainKeys`,
 * `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` (order only).
 */
export function strategicMergePatch(target: unknown, patch: unknown, listTypes: ListTypeResolver): unknown {
  return mergeMap(target, patch, [], listTypes);
}

function mergeMap(target: unknown, patch: unknown, names: FieldPath, listTypes: ListTypeResolver): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  const base: Record<string, unknown> = directive === 'replace' || !isPlainObject(target) ? {} : { ...target };
  if (directive !== undefined && directive !== 'replace' && directive !== 'merge') {
    throw new StrategicPatchError(`${names.join('.') || '<root>'}: unknown $patch directive "${String(directive)}" (allowed: replace, delete, merge)`);
  }
  const orders: Record<string, unknown[]> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders[key.slice('$setElementOrder/'.length)] = value;
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const list = base[field];
      if (Array.isArray(list) && Array.isArray(value)) base[field] = list.filter((v) => !value.some((d) => jsonEqual(d, v)));
      continue;
    }
    if (value === null) {
      delete base[key];
      continue;
    }
    const merged = Array.isArray(value)
      ? mergeList(base[key], value, [...names, key], listTypes)
      : isPlainObject(value) ? mergeMap(base[key], value, [...names, key], listTypes) : clone(value);
    if (merged === undefined) delete base[key];
    else base[key] = merged;
  }
  for (const [field, order] of Object.entries(orders)) {
    const list = base[field];
    const lt = listTypes([...names, field]);
    if (Array.isArray(list)) base[field] = ordered(list, order, lt.type === 'map' ? lt.keys ?? [] : undefined);
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys.map(String));
    for (const k of Object.keys(base)) if (!keep.has(k)) delete base[k];
  }
  return base;
}

function mergeList(target: unknown, patch: unknown[], names: FieldPath, listTypes: ListTypeResolver): unknown {
  const lt = listTypes(names);
  const live = Array.isArray(target) ? target : [];
  if (patch.some((p) => isPlainObject(p) && p.$patch === 'replace')) {
    return clone(patch.filter((p) => !(isPlainObject(p) && p.$patch === 'replace')));
  }
  if (lt.type === 'set') {
    const out = [...live];
    for (const v of patch) if (!out.some((l) => jsonEqual(l, v))) out.push(clone(v));
    return out;
  }
  if (lt.type === 'map') {
    const keys = lt.keys ?? [];
    const out = [...live];
    for (const item of patch) {
      if (!isPlainObject(item)) throw new StrategicPatchError(`${names.join('.')}: items of this list must be objects keyed by ${keys.join(', ')}`);
      const id = itemKey(item, keys);
      const i = out.findIndex((l) => isPlainObject(l) && itemKey(l, keys) === id);
      if (item.$patch === 'delete') {
        if (i >= 0) out.splice(i, 1);
        continue;
      }
      if (i >= 0) out[i] = mergeMap(out[i], item, names, listTypes);
      else out.push(mergeMap(undefined, item, names, listTypes));
    }
    return out;
  }
  return clone(patch);
}

/** Orders a list like `$setElementOrder`; items it does not name keep their place at the end. */
function ordered(list: unknown[], order: unknown[], keys: string[] | undefined): unknown[] {
  const id = (v: unknown): string => (keys && isPlainObject(v) ? itemKey(v, keys) : JSON.stringify(v));
  const rank = new Map(order.map((o, i) => [id(o), i]));
  return [...list].sort((a, b) => (rank.get(id(a)) ?? order.length) - (rank.get(id(b)) ?? order.length));
}
