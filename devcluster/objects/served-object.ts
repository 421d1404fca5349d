import type { KubeObject } from './object.js';
import { groupVersion, type ResourceInfo, type VersionInfo } from './registry.js';

/** The etcd key of one object. */
export function objectKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${info.storagePrefix}${namespace ?? ''}/${name}` : `${info.storagePrefix}${name}`;
}

/** The etcd prefix of a collection: one namespace, or all of them when `namespace` is undefined. */
export function collectionPrefix(info: ResourceInfo, namespace: string | undefined): string {
  return info.namespaced && namespace ? `${info.storagePrefix}${namespace}/` : info.storagePrefix;
}

export function storageVersion(info: ResourceInfo): VersionInfo {
  return info.versions.find((v) => v.storage) ?? (info.versions[0] as VersionInfo);
}

/** A stored object as `version` serves it. */
export function toServed(info: ResourceInfo, version: string, stored: KubeObject): KubeObject {
  const object = info.fromStorage ? info.fromStorage(stored) : stored;
  const apiVersion = groupVersion(info.group, version);
  // One copy: the first two keys stay first, and take the served values over the stored ones.
  const served = { apiVersion, kind: info.kind, ...object };
  served.apiVersion = apiVersion;
  served.kind = info.kind;
  return served;
}

/** A served object as it is stored (storage version; shared kinds converted). */
export function toStored(info: ResourceInfo, object: KubeObject): KubeObject {
  const stored = { apiVersion: groupVersion(info.group, storageVersion(info).name), kind: info.kind, ...withoutTypeMeta(object) };
  return info.toStorage ? info.toStorage(stored) : stored;
}

/** An object without apiVersion and kind (as kube-apiserver lists items of built-in kinds). */
export function withoutTypeMeta(object: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = object;
  return rest as KubeObject;
}

/** The `{"apiVersion":…,"kind":…,"metadata":` that every value the API stores for `info` starts with. */
const storedHeads = new WeakMap<ResourceInfo, Buffer>();
/** What a served item starts with instead, by resource and served version. */
const servedHeads = new WeakMap<ResourceInfo, Map<string, Buffer>>();
const METADATA_HEAD = Buffer.from('{"metadata":');

function storedHead(info: ResourceInfo): Buffer {
  let head = storedHeads.get(info);
  if (!head) {
    head = Buffer.from(`{"apiVersion":${JSON.stringify(groupVersion(info.group, storageVersion(info).name))},"kind":${JSON.stringify(info.kind)},"metadata":`);
    storedHeads.set(info, head);
  }
  return head;
}

function servedHead(info: ResourceInfo, version: string): Buffer {
  // A list's items of a built-in kind carry no apiVersion and kind (withoutTypeMeta).
  if (info.builtin) return METADATA_HEAD;
  let byVersion = servedHeads.get(info);
  if (!byVersion) {
    byVersion = new Map();
    servedHeads.set(info, byVersion);
  }
  let head = byVersion.get(version);
  if (!head) {
    head = Buffer.from(`{"apiVersion":${JSON.stringify(groupVersion(info.group, version))},"kind":${JSON.stringify(info.kind)},"metadata":`);
    byVersion.set(version, head);
  }
  return head;
}

/**
 * How the JSON of a listed item (`served`, as a list holds it) is made of `stored`, the bytes it
 * was decoded from, without serializing the object again: `head`, then the stored bytes from
 * `from` to `split`, then `insert` (ASCII), then the stored bytes from `split` on. They are the
 * same bytes as JSON.stringify(served) for a value the API wrote: the stored value is
 * JSON.stringify of the object without its resourceVersion (storage.ts), so the item is the
 * served head, the stored metadata with the resourceVersion added at its end, and the stored rest.
 * Undefined (serialize the object instead) for a kind converted on the way out, and for a value
 * whose head or metadata are not byte for byte what the API writes (one written past the API).
 */
export interface ServedJson {
  head: Buffer;
  from: number;
  split: number;
  insert: string;
}

export function servedJson(info: ResourceInfo, version: string, served: KubeObject, stored: Buffer): ServedJson | undefined {
  if (info.fromStorage) return undefined;
  const head = storedHead(info);
  if (stored.length <= head.length || stored.compare(head, 0, head.length, 0, head.length) !== 0) return undefined;
  const rv = served.metadata.resourceVersion;
  if (rv === undefined) return undefined;
  // The served metadata is the stored one with resourceVersion set last (storage.ts decode).
  const metadata = JSON.stringify(served.metadata);
  const rvField = `"resourceVersion":${JSON.stringify(rv)}`;
  if (!metadata.endsWith(`${rvField}}`)) return undefined;
  const alone = metadata.length === rvField.length + 2;
  if (!alone && metadata[metadata.length - rvField.length - 2] !== ',') return undefined;
  const withoutRv = alone ? '{}' : `${metadata.slice(0, -rvField.length - 2)}}`;
  const end = head.length + Buffer.byteLength(withoutRv);
  if (stored.length < end || stored.toString('utf8', head.length, end) !== withoutRv) return undefined;
  return { head: servedHead(info, version), from: head.length, split: end - 1, insert: alone ? rvField : `,${rvField}` };
}

/** The length in bytes of the item `layout` describes. */
export function servedJsonLength(layout: ServedJson, stored: Buffer): number {
  return layout.head.length + (stored.length - layout.from) + layout.insert.length;
}

/** Writes the item `layout` describes into `target` at `offset`; returns the offset after it. */
export function writeServedJson(layout: ServedJson, stored: Buffer, target: Buffer, offset: number): number {
  let at = offset + layout.head.copy(target, offset);
  at += stored.copy(target, at, layout.from, layout.split);
  at += target.write(layout.insert, at, 'latin1');
  return at + stored.copy(target, at, layout.split);
}
