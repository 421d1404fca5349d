import type { FieldPath, ListTypeResolver } from '../objects/list-types.js';
import { managedFieldsOf, ownedFieldFilter, setEntries } from '../objects/managed-fields.js';
import type { KubeObject, ManagedFieldsEntry } from '../objects/object.js';
import { clone, isPlainObject, jsonEqual, nowTimestamp } from '../objects/object.js';
import { ApiError } from '../objects/status.js';
import { fieldsOf, fromFieldsV1, itemKey, missing, pathElements, removeAt, toFieldsV1, valueAt } from './fieldset.js';

export interface ApplyInput {
  live: KubeObject | undefined;
  applied: KubeObject;
  manager: string;
  force: boolean;
  apiVersion: string;
  subresource: string | undefined;
  hasStatus: boolean;
  listTypes: ListTypeResolver;
}

/** Renders a path as kube-apiserver names fields in conflicts: `.spec.replicas`, `.spec.ports[port=80]`. */
export function describePath(elements: string[]): string {
  return elements.map((e) => {
    const body = e.slice(2);
    if (e.startsWith('f:')) return `.${body}`;
    if (e.startsWith('k:')) {
      const id = JSON.parse(body) as Record<string, unknown>;
      return `[${Object.entries(id).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    }
    return `[=${body}]`;
  }).join('');
}

/**
 * Server-side apply: merges the applied configuration into the live object, removes fields this
 * manager applied before and no longer applies (unless another manager owns them), and answers
 * 409 when the configuration changes a field another manager owns, unless forced (which moves
 * the ownership). Returns the new object with its managedFields.
 */
export function serverSideApply(input: ApplyInput): KubeObject {
  const { manager, force, listTypes } = input;
  const applied = defaultListMapKeys(input.applied, [], listTypes) as KubeObject;
  const live = input.live ? clone(input.live) : ({ metadata: {} } as KubeObject);
  const skip = ownedFieldFilter(input.subresource, input.hasStatus);
  const appliedFields = fieldsOf(applied, listTypes, skip);
  const entries = managedFieldsOf(live);
  const subresource = input.subresource ?? '';
  const conflicts: { manager: string; apiVersion: string; path: string[] }[] = [];
  const others: { entry: ManagedFieldsEntry; paths: Set<string> }[] = [];
  let previous = new Set<string>();
  for (const entry of entries) {
    const paths = fromFieldsV1(entry.fieldsV1);
    if (entry.manager === manager && entry.operation === 'Apply' && (entry.subresource ?? '') === subresource) {
      previous = paths;
      continue;
    }
    if ((entry.subresource ?? '') === subresource) {
      for (const [k, v] of appliedFields) {
        if (!paths.has(k)) continue;
        const elements = pathElements(k);
        const current = valueAt(live, elements);
        const same = v === undefined ? current !== missing : current !== missing && jsonEqual(current, v);
        if (same) continue;
        if (force) paths.delete(k);
        else conflicts.push({ manager: entry.manager, apiVersion: entry.apiVersion, path: elements });
      }
    }
    others.push({ entry, paths });
  }
  if (conflicts.length > 0) {
    const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"${c.apiVersion ? ` using ${c.apiVersion}` : ''}`, field: describePath(c.path) }));
    const what = causes.map((c) => `${c.message}: ${c.field}`).join(', ');
    throw new ApiError(409, `Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}: ${what}`, 'Conflict', { causes });
  }
  // Fields this manager applied before and dropped now go, unless someone else still owns them.
  const ownedByOthers = new Set<string>();
  for (const o of others) for (const p of o.paths) ownedByOthers.add(p);
  const dropped = [...previous].filter((p) => !appliedFields.has(p) && !ownedByOthers.has(p));
  // Remove deepest paths first so that list indices stay valid.
  dropped.sort((a, b) => pathElements(b).length - pathElements(a).length);
  for (const p of dropped) removeAt(live, pathElements(p));
  const { metadata: appliedMeta, ...appliedBody } = applied;
  const mergedBody = mergeApplied(withoutMetadata(live), appliedBody, [], listTypes) as Record<string, unknown>;
  const mergedMeta = mergeApplied(live.metadata, pickApplicableMetadata(appliedMeta), ['metadata'], listTypes) as KubeObject['metadata'];
  const result: KubeObject = { ...mergedBody, metadata: mergedMeta } as KubeObject;
  const next: ManagedFieldsEntry[] = others.filter((o) => o.paths.size > 0).map((o) => ({ ...o.entry, fieldsV1: toFieldsV1(o.paths) }));
  if (appliedFields.size > 0) {
    next.push({ manager, operation: 'Apply', apiVersion: input.apiVersion, time: nowTimestamp(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(appliedFields.keys()), ...(input.subresource ? { subresource: input.subresource } : {}) });
  }
  setEntries(result, next);
  return result;
}

/**
 * The applied configuration with defaulted map keys filled in where items leave them out (a port
 * without `protocol` is the TCP port), so that an item is matched, owned and checked for
 * conflicts under the key the stored (defaulted) item has.
 */
export function defaultListMapKeys(value: unknown, names: FieldPath, listTypes: ListTypeResolver): unknown {
  if (Array.isArray(value)) {
    const defaults = listTypes(names).keyDefaults;
    return value.map((item) => {
      if (!isPlainObject(item)) return item;
      const filled = defaults ? { ...item } : item;
      for (const [k, d] of Object.entries(defaults ?? {})) if (filled[k] === undefined) filled[k] = clone(d);
      return defaultListMapKeys(filled, names, listTypes);
    });
  }
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = defaultListMapKeys(v, [...names, k], listTypes);
  return out;
}

function withoutMetadata(object: KubeObject): Record<string, unknown> {
  const { metadata: _m, ...rest } = object;
  return rest;
}

function pickApplicableMetadata(meta: KubeObject['metadata']): Record<string, unknown> {
  const { managedFields: _mf, resourceVersion: _rv, uid: _u, creationTimestamp: _c, generation: _g, deletionTimestamp: _d, deletionGracePeriodSeconds: _dg, ...rest } = meta ?? {};
  return rest;
}

/** Merges an applied configuration into live data: maps by key, keyed lists by item, sets by value, the rest replaced. */
export function mergeApplied(live: unknown, applied: unknown, names: FieldPath, listTypes: ListTypeResolver): unknown {
  if (isPlainObject(applied)) {
    const out: Record<string, unknown> = isPlainObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = mergeApplied(out[k], v, [...names, k], listTypes);
    }
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const lt = listTypes(names);
    if (lt.type === 'map') {
      const keys = lt.keys ?? [];
      const out = [...live];
      for (const item of applied) {
        if (!isPlainObject(item)) continue;
        const id = itemKey(item, keys);
        const i = out.findIndex((l) => isPlainObject(l) && itemKey(l, keys) === id);
        if (i >= 0) out[i] = mergeApplied(out[i], item, names, listTypes);
        else out.push(clone(item));
      }
      return out;
    }
    if (lt.type === 'set') {
      const out = [...live];
      for (const item of applied) if (!out.some((l) => jsonEqual(l, item))) out.push(item);
      return out;
    }
  }
  return clone(applied);
}
