import { decodeBody, patchTypes, unsupportedMediaType } from '../http/body.js';
import { listTypesFor } from '../objects/list-types.js';
import type { KubeObject } from '../objects/object.js';
import { isPlainObject } from '../objects/object.js';
import { groupVersion, type ResourceInfo, type VersionInfo } from '../objects/registry.js';
import { ApiError, badRequest } from '../objects/status.js';
import { serverSideApply } from './apply.js';
import { jsonPatch, JsonPatchError } from './json.js';
import { mergePatch } from './merge.js';
import { strategicMergePatch, StrategicPatchError } from './strategic.js';

export interface PatchInput {
  info: ResourceInfo;
  version: VersionInfo;
  contentType: string;
  body: Buffer;
  current: KubeObject | undefined;
  manager: string | null;
  force: boolean;
  name: string;
  namespace: string | undefined;
  subresource: string | undefined;
}

export interface PatchOutput {
  object: KubeObject;
  /** Server-side apply sets managedFields itself. */
  managedFieldsDone: boolean;
}

/** 415 unless the resource takes this patch type (strategic merge only for built-in kinds). */
export function checkPatchType(info: ResourceInfo, contentType: string): void {
  const accepted = info.builtin ? patchTypes : patchTypes.filter((t) => t !== 'application/strategic-merge-patch+json');
  if (!accepted.includes(contentType)) throw unsupportedMediaType(contentType, accepted);
}

/** Applies a PATCH body of any supported type to the current object (served form). */
export function applyPatch(input: PatchInput): PatchOutput {
  const { info, version, contentType, current } = input;
  checkPatchType(info, contentType);
  const patch = decodeBody(input.body, contentType);
  const listTypes = listTypesFor(info.builtin, version.schema);
  try {
    switch (contentType) {
      case 'application/merge-patch+json':
        return { object: asObject(mergePatch(current, patch), info), managedFieldsDone: false };
      case 'application/json-patch+json':
        return { object: asObject(jsonPatch(current, patch), info), managedFieldsDone: false };
      case 'application/strategic-merge-patch+json':
        if (!isPlainObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
        return { object: asObject(strategicMergePatch(current, patch, listTypes), info), managedFieldsDone: false };
      default:
        return { object: apply(input, patch), managedFieldsDone: true };
    }
  } catch (err) {
    if (err instanceof JsonPatchError || err instanceof StrategicPatchError) {
      throw new ApiError(422, `the patch could not be applied to ${info.resource} "${input.name}": ${err.message}`, 'Invalid');
    }
    throw err;
  }
}

function apply(input: PatchInput, patch: unknown): KubeObject {
  const { info, version } = input;
  if (!input.manager) {
    throw new ApiError(422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', 'Invalid', { causes: [{ reason: 'FieldValueRequired', field: 'fieldManager', message: 'Required value: is required for apply patch' }] });
  }
  if (!isPlainObject(patch)) throw badRequest('an apply patch must be a YAML or JSON object');
  const expected = groupVersion(info.group, version.name);
  if (patch.apiVersion !== expected || patch.kind !== info.kind) {
    throw badRequest(`the apply configuration must have apiVersion "${expected}" and kind "${info.kind}" (got apiVersion ${JSON.stringify(patch.apiVersion ?? '')}, kind ${JSON.stringify(patch.kind ?? '')})`);
  }
  const meta = isPlainObject(patch.metadata) ? patch.metadata : {};
  if (meta.name !== undefined && meta.name !== input.name) {
    throw badRequest(`the name of the object (${String(meta.name)}) does not match the name on the URL (${input.name})`);
  }
  if (info.namespaced && meta.namespace !== undefined && meta.namespace !== input.namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const applied = { ...patch, metadata: { ...meta, name: input.name } } as KubeObject;
  const result = serverSideApply({
    live: input.current,
    applied,
    manager: input.manager,
    force: input.force,
    apiVersion: expected,
    subresource: input.subresource,
    hasStatus: version.hasStatus,
    listTypes: listTypesFor(info.builtin, version.schema),
  });
  return { ...result, apiVersion: expected, kind: info.kind };
}

function asObject(value: unknown, info: ResourceInfo): KubeObject {
  if (!isPlainObject(value) || !isPlainObject(value.metadata)) {
    throw new ApiError(422, `the patched ${info.kind} is not an object with metadata`, 'Invalid');
  }
  return value as KubeObject;
}
