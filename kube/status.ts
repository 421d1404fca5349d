import { setCondition, type Condition, type ConditionUpdate } from '../api/conditions.js';
import type { KubeClient } from './client.js';
import type { ResourceType } from './resource.js';
import type { KubeObject } from './types.js';

/** Structural equality of JSON values; a key holding `undefined` counts as absent. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) {
    if (!deepEqual(ao[k], bo[k])) return false;
  }
  return true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The JSON merge patch (RFC 7386) that turns `current` into `desired`: changed keys with their
 * new values, removed keys as null, arrays whole. Undefined when nothing differs.
 */
export function mergePatchBetween(current: unknown, desired: unknown): unknown {
  if (deepEqual(current, desired)) return undefined;
  if (!isPlainObject(current) || !isPlainObject(desired)) return desired === undefined ? null : desired;
  const patch: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(current), ...Object.keys(desired)])) {
    const d = desired[key];
    if (d === undefined) {
      if (current[key] !== undefined) patch[key] = null;
      continue;
    }
    const sub = mergePatchBetween(current[key], d);
    if (sub !== undefined) patch[key] = sub;
  }
  return patch;
}

export interface StatusPatchResult<T> {
  /** False when the status already matched and nothing was written. */
  changed: boolean;
  /** The object after the patch (the input when nothing changed). */
  object: T;
}

/**
 * Patches the `/status` subresource of `obj` to `desired`, only when it differs from the status
 * `obj` carries (so a reconcile that changes nothing writes nothing). The patch holds only the
 * differing fields; pass `obj` fresh from the cache.
 */
export async function patchStatusIfChanged<T extends KubeObject & { status?: unknown }>(
  client: KubeClient,
  resource: ResourceType,
  obj: T,
  desired: NonNullable<T['status']>,
  options: { fieldManager?: string; signal?: AbortSignal } = {},
): Promise<StatusPatchResult<T>> {
  const patch = mergePatchBetween(obj.status ?? {}, desired);
  if (patch === undefined) return { changed: false, object: obj };
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${resource.kind}: cannot patch the status of an object without metadata.name`);
  const object = await client.patchStatus<T>(resource, name, { status: patch }, {
    namespace: obj.metadata?.namespace,
    fieldManager: options.fieldManager,
    signal: options.signal,
  });
  return { changed: true, object };
}

/**
 * Applies condition updates for an object at `generation`: each condition records that
 * generation as its observedGeneration, and its lastTransitionTime moves only when its status
 * flips (see api/conditions.ts).
 */
export function withConditions(
  conditions: readonly Condition[] | undefined,
  updates: ReadonlyArray<Omit<ConditionUpdate, 'observedGeneration'>>,
  generation: number | undefined,
  now: Date,
): Condition[] {
  let out = [...(conditions ?? [])];
  for (const u of updates) out = setCondition(out, { ...u, ...(generation !== undefined ? { observedGeneration: generation } : {}) }, now);
  return out;
}
