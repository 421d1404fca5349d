// The scale subresource of a custom resource (`<resource>/<name>/scale`), as kube-apiserver
// serves it from a CRD's `subresources.scale`: an autoscaling/v1 Scale read from, and written to,
// the paths the CRD names. `kubectl scale` and a HorizontalPodAutoscaler speak only Scale, so the
// resource's own shape stays its own.
import type { KubeObject } from './object.js';
import type { PrinterColumn } from './registry.js';
import { isPlainObject } from './object.js';
import type { StatusCause } from './status.js';
import { badRequest } from './status.js';
import { missing, valueAt } from '../patch/fieldset.js';
import { SIMPLE_PATH } from '../schema/schema-rules.js';

/** Where a resource keeps what its Scale shows: `.spec.…` replicas, `.status.…` replicas and selector. */
export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** The kind every scale subresource speaks, whatever the resource's own kind. */
export const SCALE_KIND = { group: 'autoscaling', version: 'v1', kind: 'Scale' } as const;

/** The columns of `kubectl get <resource> <name> --subresource=scale`. */
export const SCALE_COLUMNS: PrinterColumn[] = [
  { name: 'Desired', type: 'integer', description: 'The desired number of instances of the scaled object.', jsonPath: '.spec.replicas' },
  { name: 'Available', type: 'integer', description: 'The actual number of observed instances of the scaled object.', jsonPath: '.status.replicas' },
  { name: 'Age', type: 'date', description: 'Time since the object was created.', jsonPath: '.metadata.creationTimestamp' },
];

const INT32_MAX = 2 ** 31 - 1;

/** The problems of a CRD version's `subresources.scale`, each naming its field. */
export function scalePathProblems(scale: unknown, field: string): StatusCause[] {
  if (!isPlainObject(scale)) return [{ reason: 'FieldValueInvalid', field, message: 'Invalid value: must be an object with specReplicasPath and statusReplicasPath' }];
  const causes: StatusCause[] = [];
  const check = (name: string, under: readonly string[], required: boolean): void => {
    const value = scale[name];
    const at = `${field}.${name}`;
    if (value === undefined || value === '') {
      if (required) causes.push({ reason: 'FieldValueRequired', field: at, message: 'Required value' });
      return;
    }
    if (typeof value !== 'string' || !SIMPLE_PATH.test(value) || !under.some((prefix) => value.startsWith(prefix))) {
      causes.push({ reason: 'FieldValueInvalid', field: at, message: `Invalid value: ${JSON.stringify(value)}: should be a json path under ${under.join(' or ')}` });
    }
  };
  check('specReplicasPath', ['.spec.'], true);
  check('statusReplicasPath', ['.status.'], true);
  check('labelSelectorPath', ['.spec.', '.status.'], false);
  return causes;
}

/**
 * The problems of the replicas at an object's scale paths, on every write of a resource with a
 * scale subresource (as kube-apiserver checks them, naming the path as the CRD gives it): its
 * own schema may allow what a Scale cannot carry.
 */
export function scaleValueProblems(object: KubeObject, paths: ScalePaths): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const path of [paths.specReplicasPath, paths.statusReplicasPath]) {
    const value = at(object, path);
    if (value === missing) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${JSON.stringify(value)}: should be a non-negative integer` });
    else if (value > INT32_MAX) causes.push({ reason: 'FieldValueInvalid', field: path, message: `Invalid value: ${value}: should be less than or equal to ${INT32_MAX}` });
  }
  const selector = paths.labelSelectorPath === undefined ? missing : at(object, paths.labelSelectorPath);
  if (selector !== missing && typeof selector !== 'string') causes.push({ reason: 'FieldValueInvalid', field: paths.labelSelectorPath ?? '', message: `Invalid value: ${JSON.stringify(selector)}: should be a string` });
  return causes;
}

/** The autoscaling/v1 Scale of an object (served form): replicas absent at a path count as 0. */
export function scaleOf(object: KubeObject, paths: ScalePaths): KubeObject {
  const meta = object.metadata;
  const specReplicas = integerAt(object, paths.specReplicasPath);
  const selector = paths.labelSelectorPath === undefined ? undefined : at(object, paths.labelSelectorPath);
  return {
    apiVersion: `${SCALE_KIND.group}/${SCALE_KIND.version}`,
    kind: SCALE_KIND.kind,
    metadata: {
      name: meta.name,
      ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}),
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    // autoscaling/v1 leaves a zero spec.replicas out, and always says status.replicas.
    spec: specReplicas ? { replicas: specReplicas } : {},
    status: { replicas: integerAt(object, paths.statusReplicasPath), ...(typeof selector === 'string' && selector ? { selector } : {}) },
  };
}

/** What a Scale written by a client asks for: its replicas, and the resourceVersion it was read at. */
export interface ScaleRequest {
  replicas: number;
  resourceVersion?: string;
}

/**
 * Reads a Scale a client sent. Only the shape is judged here: a negative count goes on to the
 * object, whose own schema says what it allows, as kube-apiserver does for custom resources.
 */
export function readScale(body: unknown, name: string): ScaleRequest {
  if (!isPlainObject(body)) throw badRequest('the body must be an autoscaling/v1 Scale object');
  if (body.kind !== undefined && body.kind !== SCALE_KIND.kind) throw badRequest(`the body must be a Scale (kind "Scale"), not kind ${JSON.stringify(body.kind)}`);
  const meta = isPlainObject(body.metadata) ? body.metadata : {};
  if (meta.name !== undefined && meta.name !== name) {
    throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${name})`);
  }
  const spec = isPlainObject(body.spec) ? body.spec : {};
  const replicas = spec.replicas ?? 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || Math.abs(replicas) > INT32_MAX) {
    throw badRequest(`spec.replicas: ${JSON.stringify(replicas)} is not a 32-bit whole number`);
  }
  const resourceVersion = typeof meta.resourceVersion === 'string' && meta.resourceVersion ? meta.resourceVersion : undefined;
  return { replicas, ...(resourceVersion ? { resourceVersion } : {}) };
}

/** A copy of the object with `replicas` at its spec replicas path (objects on the way created). */
export function withReplicas(object: KubeObject, paths: ScalePaths, replicas: number): KubeObject {
  const out = structuredClone(object);
  const names = paths.specReplicasPath.slice(1).split('.');
  const last = names.pop() as string;
  let at: Record<string, unknown> = out as unknown as Record<string, unknown>;
  for (const [i, part] of names.entries()) {
    if (at[part] === undefined) at[part] = {};
    const next = at[part];
    if (!isPlainObject(next)) throw badRequest(`cannot set replicas at ${paths.specReplicasPath}: .${names.slice(0, i + 1).join('.')} is not an object`);
    at = next;
  }
  at[last] = replicas;
  return out;
}

/** The value at a simple dotted path (`.spec.replicas`), or `missing`. */
function at(object: KubeObject, path: string): unknown {
  return valueAt(object, path.slice(1).split('.').map((name) => `f:${name}`));
}

function integerAt(object: KubeObject, path: string): number {
  const value = at(object, path);
  return typeof value === 'number' && Number.isInteger(value) ? value : 0;
}
