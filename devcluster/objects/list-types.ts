import type { JSONSchemaProps } from '../schema/schema-types.js';

/** How a list merges: atomic (replaced whole), set (of scalars), or map (items keyed by fields). */
export interface ListType {
  type: 'atomic' | 'set' | 'map';
  keys?: string[];
  /** Defaults of key fields: an item that leaves such a key out has the default as its key (as server-side apply keys it). */
  keyDefaults?: Record<string, unknown>;
  /**
   * The strategic merge patch key where it is fewer fields than server-side apply's `keys`
   * (ports: patchMergeKey containerPort, but keyed by containerPort and protocol).
   */
  patchMergeKeys?: string[];
}

/** Field names from the object's root to a list, list indices left out (e.g. ['spec', 'containers']). */
export type FieldPath = string[];

export type ListTypeResolver = (path: FieldPath) => ListType;

const metadataLists: Record<string, ListType> = {
  'metadata.finalizers': { type: 'set' },
  'metadata.ownerReferences': { type: 'map', keys: ['uid'] },
  'metadata.managedFields': { type: 'atomic' },
};

const byName: ListType = { type: 'map', keys: ['name'] };
const tcpDefault = { protocol: 'TCP' };

/** The lists of a container (of a pod template's containers or initContainers). */
function containerLists(prefix: string): Record<string, ListType> {
  return {
    [prefix]: byName,
    [`${prefix}.ports`]: { type: 'map', keys: ['containerPort', 'protocol'], keyDefaults: tcpDefault, patchMergeKeys: ['containerPort'] },
    [`${prefix}.env`]: byName,
    [`${prefix}.volumeMounts`]: { type: 'map', keys: ['mountPath'] },
  };
}

// The associative lists of the built-in kinds the devcluster serves (their patch merge keys and
// server-side apply list types), by path alone: Deployments and DaemonSets share their pod
// template's paths.
const builtinLists: Record<string, ListType> = {
  ...containerLists('spec.template.spec.containers'),
  ...containerLists('spec.template.spec.initContainers'),
  'spec.template.spec.volumes': byName,
  'spec.template.spec.imagePullSecrets': byName,
  'spec.template.spec.tolerations': { type: 'atomic' },
  'spec.ports': { type: 'map', keys: ['port', 'protocol'], keyDefaults: tcpDefault, patchMergeKeys: ['port'] },
  'status.conditions': { type: 'map', keys: ['type'] },
  'status.addresses': { type: 'map', keys: ['type'] },
  'status.images': { type: 'atomic' },
  'status.volumesAttached': { type: 'map', keys: ['name'] },
  'status.volumesInUse': { type: 'set' },
  'spec.podCIDRs': { type: 'set' },
  'spec.finalizers': { type: 'set' },
  secrets: byName,
  imagePullSecrets: byName,
  subjects: { type: 'atomic' },
  rules: { type: 'atomic' },
};

/** Lists of built-in kinds: their merge keys, atomic otherwise. */
export const builtinListTypes: ListTypeResolver = (path) =>
  metadataLists[path.join('.')] ?? builtinLists[path.join('.')] ?? { type: 'atomic' };

/** Lists of a custom resource: x-kubernetes-list-type from its schema (atomic by default). */
export function schemaListTypes(schema: JSONSchemaProps | undefined): ListTypeResolver {
  return (path) => {
    const meta = metadataLists[path.join('.')];
    if (meta) return meta;
    let node: JSONSchemaProps | undefined = schema;
    for (const key of path) {
      if (!node) break;
      if (node.type === 'array' || node.items) node = node.items;
      node = node?.properties?.[key] ?? (typeof node?.additionalProperties === 'object' ? node.additionalProperties : undefined);
    }
    const type = node?.['x-kubernetes-list-type'];
    if (type === 'map') {
      const keys = node?.['x-kubernetes-list-map-keys'] ?? [];
      const keyDefaults: Record<string, unknown> = {};
      for (const k of keys) {
        const d = node?.items?.properties?.[k]?.default;
        if (d !== undefined) keyDefaults[k] = d;
      }
      return { type, keys, ...(Object.keys(keyDefaults).length ? { keyDefaults } : {}) };
    }
    if (type === 'set') return { type };
    return { type: 'atomic' };
  };
}

/** The list types of one served resource version. */
export function listTypesFor(builtin: boolean, schema: JSONSchemaProps | undefined): ListTypeResolver {
  return builtin ? builtinListTypes : schemaListTypes(schema);
}
