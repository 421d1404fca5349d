import { createHash } from 'node:crypto';
import { builtinSchemas, objectMetaSchema } from './openapi-builtins.js';
import { subresourcesOf, type Registry, type ResourceInfo, type SubresourceVerb, type VersionInfo } from '../objects/registry.js';
import type { JSONSchemaProps } from './schema-types.js';

const objectMetaRef = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

/** The OpenAPI v3 schema id of a kind, as kube-apiserver names them. */
export function schemaId(info: ResourceInfo, version: string): string {
  if (info.builtin) {
    const pkg = info.group === '' ? 'core' : info.group.replace(/\.k8s\.io$/, '').replace(/\./g, '_');
    const prefix = info.group === 'apiextensions.k8s.io' ? 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions' : `io.k8s.api.${pkg}`;
    return `${prefix}.${version}.${info.kind}`;
  }
  return `${info.group.split('.').reverse().join('.')}.${version}.${info.kind}`;
}

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

function kindSchema(gvk: GroupVersionKind, schema: JSONSchemaProps | undefined): JSONSchemaProps & Record<string, unknown> {
  const base: JSONSchemaProps = schema ?? builtinSchemas[gvk.kind] ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    ...base,
    type: 'object',
    properties: {
      ...(base.properties ?? {}),
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { allOf: [{ $ref: `#/components/schemas/${objectMetaRef}` }], description: "Standard object's metadata." },
    },
    'x-kubernetes-group-version-kind': [gvk],
  };
}

const param = (name: string, description: string): Record<string, unknown> => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });

function operations(gvk: GroupVersionKind, ref: string): { item: Record<string, unknown>; collection: Record<string, unknown> } {
  const body = { content: { 'application/json': { schema: { $ref: ref } } } };
  const ok = { responses: { '200': { description: 'OK', ...body } } };
  const writeParams = [param('dryRun', 'All: do not persist'), param('fieldManager', 'The name of the actor making the change'), param('fieldValidation', 'Ignore, Warn or Strict: what to do with unknown or duplicate fields')];
  const listParams = ['labelSelector', 'fieldSelector', 'limit', 'continue', 'resourceVersion', 'resourceVersionMatch', 'timeoutSeconds', 'watch', 'allowWatchBookmarks'].map((n) => param(n, n));
  const op = (action: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk, ...ok, ...extra });
  return {
    item: {
      get: op('get'),
      put: op('put', { parameters: writeParams, requestBody: body }),
      patch: op('patch', { parameters: [...writeParams, param('force', 'Force apply: take ownership of conflicting fields')], requestBody: { content: { 'application/apply-patch+yaml': { schema: { type: 'object' } }, 'application/merge-patch+json': { schema: { type: 'object' } }, 'application/json-patch+json': { schema: { type: 'object' } } } } }),
      delete: op('delete', { parameters: [param('dryRun', 'All: do not persist'), param('propagationPolicy', 'Orphan, Background or Foreground')] }),
    },
    collection: {
      get: op('list', { parameters: listParams }),
      post: op('post', { parameters: writeParams, requestBody: body }),
      delete: op('deletecollection', { parameters: listParams }),
    },
  };
}

/** The HTTP method of each verb on a subresource. */
const ITEM_METHODS: Record<SubresourceVerb, string> = { get: 'get', update: 'put', patch: 'patch' };

/** Builds `/openapi/v3` and one document per served group version from the registry. */
export class OpenApi {
  private cache: { generation: number; docs: Map<string, string> } | undefined;

  constructor(private readonly registry: Registry) {}

  private documents(): Map<string, string> {
    if (this.cache?.generation === this.registry.generation) return this.cache.docs;
    const byGv = new Map<string, { info: ResourceInfo; version: VersionInfo }[]>();
    for (const info of this.registry.all()) {
      for (const version of info.versions) {
        if (!version.served) continue;
        const key = info.group === '' ? `api/${version.name}` : `apis/${info.group}/${version.name}`;
        const list = byGv.get(key) ?? [];
        list.push({ info, version });
        byGv.set(key, list);
      }
    }
    const docs = new Map<string, string>();
    for (const [key, entries] of byGv) {
      const schemas: Record<string, unknown> = { [objectMetaRef]: objectMetaSchema };
      const paths: Record<string, unknown> = {};
      for (const { info, version } of entries) {
        const id = schemaId(info, version.name);
        schemas[id] = kindSchema({ group: info.group, version: version.name, kind: info.kind }, version.schema);
        const ops = operations({ group: info.group, version: version.name, kind: info.kind }, `#/components/schemas/${id}`);
        const base = `/${key}${info.namespaced ? '/namespaces/{namespace}' : ''}/${info.resource}`;
        paths[base] = ops.collection;
        paths[`${base}/{name}`] = ops.item;
        for (const sub of subresourcesOf(info, version)) {
          // A subresource of another kind (a Scale) is described by that kind's schema.
          const subId = sub.kind ? `io.k8s.api.${sub.kind.group}.${sub.kind.version}.${sub.kind.kind}` : id;
          if (sub.kind) schemas[subId] = kindSchema(sub.kind, undefined);
          const subOps = sub.kind ? operations(sub.kind, `#/components/schemas/${subId}`).item : ops.item;
          paths[`${base}/{name}/${sub.name}`] = Object.fromEntries(sub.verbs.map((verb) => [ITEM_METHODS[verb], subOps[ITEM_METHODS[verb]]]));
        }
      }
      docs.set(key, JSON.stringify({ openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas } }));
    }
    this.cache = { generation: this.registry.generation, docs };
    return docs;
  }

  index(): Record<string, unknown> {
    const paths: Record<string, unknown> = {};
    for (const [key, doc] of this.documents()) {
      const hash = createHash('sha512').update(doc).digest('hex').slice(0, 64).toUpperCase();
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
    }
    return { paths };
  }

  /** The document of `api/v1` or `apis/<group>/<version>`. */
  document(key: string): string | undefined {
    return this.documents().get(key);
  }
}

