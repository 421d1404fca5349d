import type { ListTypeResolver } from './list-types.js';
import type { KubeObject, ManagedFieldsEntry } from './object.js';
import { jsonEqual, nowTimestamp } from './object.js';
import { fieldsOf, fieldsV1Of, fromFieldsV1, toFieldsV1, type FieldSet } from '../patch/fieldset.js';

const serverOwnedMetadata = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

/** Which fields count for ownership: not type meta or server-owned metadata; status only through /status. */
export function ownedFieldFilter(subresource: string | undefined, hasStatus: boolean): (elements: string[]) => boolean {
  return (e) => {
    const [first, second] = e;
    if (first === 'f:apiVersion' || first === 'f:kind') return true;
    if (first === 'f:metadata' && second !== undefined && serverOwnedMetadata.has(second.slice(2))) return true;
    if (subresource === 'status') return e.length === 1 && first !== 'f:status';
    return hasStatus && first === 'f:status';
  };
}

export function managedFieldsOf(object: KubeObject | undefined): ManagedFieldsEntry[] {
  const mf = object?.metadata.managedFields;
  return Array.isArray(mf) ? mf : [];
}

export interface OwnershipContext {
  listTypes: ListTypeResolver;
  hasStatus: boolean;
}

/**
 * Records which manager set which fields after a create, update or non-apply patch: the
 * manager's `Update` entry gains every field it changed, and other managers lose those fields.
 * A request that changes managedFields itself keeps what it sent.
 */
export function recordManagedFields(old: KubeObject | undefined, object: KubeObject, manager: string, apiVersion: string, subresource: string | undefined, ctx: OwnershipContext): void {
  const requested = object.metadata.managedFields;
  if (requested !== undefined && old && !jsonEqual(requested, old.metadata.managedFields ?? [])) {
    if (Array.isArray(requested) && requested.length === 0) delete object.metadata.managedFields;
    return;
  }
  const skip = ownedFieldFilter(subresource, ctx.hasStatus);
  if (!old) {
    // A create: the manager owns every field it set, and no one else owns anything.
    const fieldsV1 = fieldsV1Of(object, ctx.listTypes, skip, true);
    setEntries(object, fieldsV1 ? [{ manager, operation: 'Update', apiVersion, time: nowTimestamp(), fieldsType: 'FieldsV1', fieldsV1, ...(subresource ? { subresource } : {}) }] : []);
    return;
  }
  const base = managedFieldsOf(old);
  const before: FieldSet = fieldsOf(old, ctx.listTypes, skip, true);
  const after = fieldsOf(object, ctx.listTypes, skip, true);
  const touched = new Set<string>();
  for (const [k, v] of after) if (!before.has(k) || !jsonEqual(before.get(k), v)) touched.add(k);
  for (const k of before.keys()) if (!after.has(k)) touched.add(k);
  if (touched.size === 0) {
    setEntries(object, base);
    return;
  }
  const entries: ManagedFieldsEntry[] = [];
  let own: Set<string> = new Set();
  for (const entry of base) {
    const paths = fromFieldsV1(entry.fieldsV1);
    const mine = entry.manager === manager && entry.operation === 'Update' && (entry.subresource ?? '') === (subresource ?? '');
    if (mine) {
      own = paths;
      continue;
    }
    for (const k of touched) paths.delete(k);
    if (paths.size > 0) entries.push({ ...entry, fieldsV1: toFieldsV1(paths) });
  }
  for (const k of touched) {
    if (after.has(k)) own.add(k);
    else own.delete(k);
  }
  if (own.size > 0) {
    entries.push({ manager, operation: 'Update', apiVersion, time: nowTimestamp(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(own), ...(subresource ? { subresource } : {}) });
  }
  setEntries(object, entries);
}

/**
 * Stores `entries` in kube-apiserver's order: Apply before Update, then by time (to the second),
 * manager and subresource, so that clients reading managedFields[0] see what they see there.
 */
export function setEntries(object: KubeObject, entries: ManagedFieldsEntry[]): void {
  const seconds = (e: ManagedFieldsEntry): number => Math.floor((Date.parse(e.time) || 0) / 1000);
  const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...entries].sort((a, b) => byName(a.operation, b.operation) || seconds(a) - seconds(b) || byName(a.manager, b.manager) || byName(a.subresource ?? '', b.subresource ?? ''));
  if (sorted.length > 0) object.metadata.managedFields = sorted;
  else delete object.metadata.managedFields;
}
