import type { FieldPath, ListType, ListTypeResolver } from '../objects/list-types.js';
import { clone, isPlainObject, jsonEqual } from '../objects/object.js';
import { itemKey } from './fieldset.js';

/** A strategic merge patch that cannot be applied; the message names the field. */
export class StrategicPatchError extends Error {}

/**
 * Strategic merge patch for the built-in kinds: maps merge, `null` deletes, keyed lists merge
 * item by item (`$patch: delete` removes one), merge-strategy scalar lists take a union, other
 * lists are replaced. Directives: `$patch` (replace/delete/merge), `$retainKeys`,
 * `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` (order only). A merged list is
 * ordered as kube-apiserver orders it (see `normalizedOrder`).
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
  const deletions: Record<string, unknown[]> = {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders[key.slice('$setElementOrder/'.length)] = value;
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      if (Array.isArray(value)) deletions[key.slice('$deleteFromPrimitiveList/'.length)] = value;
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
  // kube-apiserver orders first and deletes from primitive lists after.
  for (const [field, order] of Object.entries(orders)) {
    const list = base[field];
    const live = isPlainObject(target) && Array.isArray(target[field]) ? target[field] : [];
    if (Array.isArray(list)) base[field] = normalizedOrder(list, order, live, itemId(listTypes([...names, field])));
  }
  for (const [field, gone] of Object.entries(deletions)) {
    const list = base[field];
    if (Array.isArray(list)) base[field] = list.filter((v) => !gone.some((d) => jsonEqual(d, v)));
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
    return normalizedOrder(out, patch, live, itemId(lt));
  }
  if (lt.type === 'map') {
    const keys = lt.patchMergeKeys ?? lt.keys ?? [];
    for (const item of patch) {
      if (!isPlainObject(item)) throw new StrategicPatchError(`${names.join('.')}: items of this list must be objects keyed by ${keys.join(', ')}`);
    }
    const items = patch as Record<string, unknown>[];
    const id = itemId(lt);
    // Deletions go first, so the order below compares against the live items that remain.
    const gone = new Set(items.filter((p) => p.$patch === 'delete').map(id));
    const kept = live.filter((l) => !gone.has(id(l)));
    const changes = items.filter((p) => p.$patch !== 'delete');
    const out = [...kept];
    for (const item of changes) {
      const i = out.findIndex((l) => id(l) === id(item));
      if (i >= 0) out[i] = mergeMap(out[i], item, names, listTypes);
      else out.push(mergeMap(undefined, item, names, listTypes));
    }
    return normalizedOrder(out, changes, kept, id);
  }
  return clone(patch);
}

/** How items of a merged list are told apart: by their keys in a keyed list, by value otherwise. */
function itemId(lt: ListType): (v: unknown) => string {
  const keys = lt.type === 'map' ? lt.patchMergeKeys ?? lt.keys ?? [] : undefined;
  return (v) => (keys && isPlainObject(v) ? itemKey(v, keys) : JSON.stringify(v));
}

/**
 * Orders a merged list as kube-apiserver's strategic merge does: the items `order` names (the
 * patch list, or `$setElementOrder`) in that order, the others in their `live` order, and the two
 * runs interleaved: a live-only item comes before a named item only when both are live and it was
 * first there. So live `[a, b]` patched with `[c]` gives `[c, a, b]`.
 */
function normalizedOrder(merged: unknown[], order: unknown[], live: unknown[], id: (v: unknown) => string): unknown[] {
  const rank = (list: unknown[]): Map<string, number> => {
    const m = new Map<string, number>();
    list.forEach((v, i) => m.has(id(v)) || m.set(id(v), i));
    return m;
  };
  const orderRank = rank(order);
  const liveRank = rank(live);
  const byRank = (r: Map<string, number>) => (a: unknown, b: unknown): number => (r.get(id(a)) ?? Infinity) - (r.get(id(b)) ?? Infinity);
  const named = merged.filter((v) => orderRank.has(id(v))).sort(byRank(orderRank));
  const liveOnly = merged.filter((v) => !orderRank.has(id(v))).sort(byRank(liveRank));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < liveOnly.length || j < named.length) {
    const l = liveOnly[i];
    const n = named[j];
    const lRank = i < liveOnly.length ? liveRank.get(id(l)) : undefined;
    const nRank = j < named.length ? liveRank.get(id(n)) : undefined;
    const takeLive = j >= named.length || (lRank !== undefined && nRank !== undefined && lRank < nRank);
    if (takeLive && i < liveOnly.length) out.push(liveOnly[i++]);
    else out.push(named[j++]);
  }
  return out;
}
