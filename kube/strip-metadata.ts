import type { KubeObject, ObjectMeta } from './types.js';

/** The annotation `kubectl apply` keeps its last input in: often as large as the object itself. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * An informer `transform` that drops what the API server keeps for its own bookkeeping and no
 * Shopfloor caller reads: `metadata.managedFields` and the last-applied annotation. `obj` keeps
 * everything else; its metadata is rebuilt rather than `delete`d from, since V8 stores an object
 * that lost a property as a slower, larger dictionary, and caches hold thousands of these.
 *
 * Never write a cached object back whole (PUT) after this: the server would drop the
 * annotation. Patches are unaffected.
 */
export function stripUnreadMetadata<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as (ObjectMeta & { managedFields?: unknown }) | undefined;
  if (!meta) return obj;
  const hasLastApplied = meta.annotations !== undefined && LAST_APPLIED_ANNOTATION in meta.annotations;
  if (meta.managedFields === undefined && !hasLastApplied) return obj;
  const { managedFields: _dropped, annotations, ...rest } = meta;
  const kept: ObjectMeta = rest;
  if (annotations) {
    const { [LAST_APPLIED_ANNOTATION]: _lastApplied, ...others } = annotations;
    if (Object.keys(others).length > 0) kept.annotations = others;
  }
  obj.metadata = kept;
  return obj;
}
