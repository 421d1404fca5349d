import { randomBytes, randomUUID } from 'node:crypto';
import type { KubeObject } from './object.js';
import { clone, isPlainObject, jsonEqual, nowTimestamp } from './object.js';
import type { ResourceInfo } from './registry.js';
import type { StatusCause } from './status.js';
import { labelValueProblem, qualifiedNameProblems } from './label-syntax.js';

const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `generateName` plus five random lowercase alphanumerics, as kube-apiserver does. */
export function generatedName(prefix: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  let suffix = '';
  for (const b of bytes) suffix += alphabet[b % alphabet.length];
  return prefix.slice(0, 58) + suffix;
}

/** Sets what the server owns on a new object: name from generateName, uid, timestamps, generation. */
export function prepareCreate(info: ResourceInfo, object: KubeObject, namespace: string | undefined, hasStatus: boolean): KubeObject {
  const out = clone(object);
  const meta = out.metadata;
  if (!meta.name && meta.generateName) meta.name = generatedName(meta.generateName);
  if (info.namespaced) meta.namespace = namespace;
  else delete meta.namespace;
  meta.uid = randomUUID();
  meta.creationTimestamp = nowTimestamp();
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (info.generation) meta.generation = 1;
  else delete meta.generation;
  // With a status subresource, status is written only through /status.
  if (hasStatus && !info.builtin) delete out.status;
  if (info.initialStatus) out.status = clone(info.initialStatus);
  if (info.builtin && info.resource === 'customresourcedefinitions') {
    // Deleting a CRD first deletes its custom resources (see gc.ts).
    meta.finalizers = [...new Set([...(meta.finalizers ?? []), 'customresourcecleanup.apiextensions.k8s.io'])];
  }
  if (info.group === '' && info.resource === 'namespaces') {
    out.spec = { ...(isPlainObject(out.spec) ? out.spec : {}), finalizers: ['kubernetes'] };
    out.status = { phase: 'Active' };
  }
  return out;
}

/**
 * The object an update stores: the request's object with server-owned metadata kept from the
 * current one, and status or everything-but-status kept per subresource.
 */
export function prepareUpdate(info: ResourceInfo, current: KubeObject, requested: KubeObject, subresource: string | undefined, hasStatus: boolean): KubeObject {
  let out = clone(requested);
  if (subresource === 'status') {
    // Writes to /status change only status (and nothing in metadata but what follows it).
    out = { ...clone(current), status: out.status };
    if (out.status === undefined) delete out.status;
  } else if (hasStatus) {
    if (current.status === undefined) delete out.status;
    else out.status = clone(current.status);
  }
  const meta = out.metadata;
  const cur = current.metadata;
  meta.name = cur.name;
  if (cur.namespace !== undefined) meta.namespace = cur.namespace;
  meta.uid = cur.uid;
  meta.creationTimestamp = cur.creationTimestamp;
  if (cur.deletionTimestamp) {
    meta.deletionTimestamp = cur.deletionTimestamp;
    meta.deletionGracePeriodSeconds = cur.deletionGracePeriodSeconds ?? 0;
  } else {
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
  }
  delete meta.generateName;
  if (cur.generateName) meta.generateName = cur.generateName;
  if (info.group === '' && info.resource === 'namespaces' && subresource !== 'finalize') {
    out.spec = clone(current.spec);
  }
  return out;
}

/**
 * Sets metadata.generation of an updated object (after defaulting, so that defaults do not count
 * as changes): bumped when what the kind's `generation` names changed.
 */
export function setGeneration(info: ResourceInfo, current: KubeObject, object: KubeObject): void {
  if (!info.generation) {
    delete object.metadata.generation;
    return;
  }
  const generation = current.metadata.generation ?? 1;
  const annotationsChanged = info.generation === 'spec-and-annotations' && !jsonEqual(current.metadata.annotations ?? {}, object.metadata.annotations ?? {});
  object.metadata.generation = specChanged(current, object) || annotationsChanged ? generation + 1 : generation;
}

function specChanged(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): Record<string, unknown> => {
    const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
    return rest;
  };
  return !jsonEqual(strip(a), strip(b));
}

/** Whether two versions of an object differ in anything a write would store. */
export function sameStored(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): KubeObject => {
    const { resourceVersion: _r, managedFields: _mf, ...metadata } = o.metadata;
    return { ...o, metadata };
  };
  return jsonEqual(strip(a), strip(b));
}

/** Checks name, labels and annotations the way kube-apiserver words its errors. */
export function validateMetadata(info: ResourceInfo, object: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const meta = object.metadata;
  const name = meta.name;
  if (!name) {
    causes.push({ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  } else if (info.nameRule === 'path-segment') {
    if (name === '.' || name === '..' || /[/%]/.test(name)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": may not be '.' or '..' and may not contain '/' or '%'` });
    }
  } else if (info.nameRule === 'label') {
    if (name.length > 63 || !label.test(name)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')` });
    }
  } else if (name.length > 253 || !subdomain.test(name)) {
    causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')` });
  }
  for (const [field, map] of [['labels', meta.labels], ['annotations', meta.annotations]] as const) {
    if (map === undefined || map === null) continue;
    if (!isPlainObject(map)) {
      causes.push({ reason: 'FieldValueInvalid', field: `metadata.${field}`, message: 'Invalid value: must be a map of string keys to string values' });
      continue;
    }
    for (const [k, v] of Object.entries(map)) {
      for (const problem of qualifiedNameProblems(k)) causes.push({ reason: 'FieldValueInvalid', field: `metadata.${field}`, message: `Invalid value: "${k}": ${problem}` });
      const valueProblem = typeof v !== 'string' ? 'must be a string' : field === 'labels' ? labelValueProblem(v) : undefined;
      if (valueProblem !== undefined) {
        causes.push({ reason: 'FieldValueInvalid', field: typeof v === 'string' ? 'metadata.labels' : `metadata.${field}.${k}`, message: `Invalid value: ${JSON.stringify(v)}: ${valueProblem}` });
      }
    }
  }
  if (meta.finalizers !== undefined && (!Array.isArray(meta.finalizers) || meta.finalizers.some((f) => typeof f !== 'string'))) {
    causes.push({ reason: 'FieldValueInvalid', field: 'metadata.finalizers', message: 'Invalid value: must be a list of strings' });
  }
  if (meta.ownerReferences !== undefined) {
    if (!Array.isArray(meta.ownerReferences)) {
      causes.push({ reason: 'FieldValueInvalid', field: 'metadata.ownerReferences', message: 'Invalid value: must be a list' });
    } else {
      meta.ownerReferences.forEach((r, i) => {
        for (const f of ['apiVersion', 'kind', 'name', 'uid'] as const) {
          if (!isPlainObject(r) || typeof r[f] !== 'string' || r[f] === '') {
            causes.push({ reason: 'FieldValueRequired', field: `metadata.ownerReferences[${i}].${f}`, message: 'Required value' });
          }
        }
      });
      if (meta.ownerReferences.filter((r) => isPlainObject(r) && r.controller === true).length > 1) {
        causes.push({ reason: 'FieldValueInvalid', field: 'metadata.ownerReferences', message: 'Invalid value: Only one reference can have Controller set to true' });
      }
    }
  }
  return causes;
}
