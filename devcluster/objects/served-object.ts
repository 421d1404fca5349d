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
