import type { JSONSchemaProps } from '../schema/schema-types.js';
import type { KubeObject } from './object.js';
import type { Review } from '../access/reviews.js';
import { SCALE_KIND, type ScalePaths } from './scale.js';

/** A column of `kubectl get`: a CRD additionalPrinterColumn, or a built-in kind's computed one. */
export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath?: string;
  compute?: (object: KubeObject) => unknown;
}

export interface VersionInfo {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: JSONSchemaProps;
  printerColumns: PrinterColumn[];
  hasStatus: boolean;
  /** Where a custom resource's scale subresource reads and writes (its CRD's subresources.scale). */
  scale?: ScalePaths;
}

/** One served resource (group + plural), with every version it serves. */
export interface ResourceInfo {
  group: string;
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  versions: VersionInfo[];
  /** Built-in kinds take strategic merge patches; custom resources do not. */
  builtin: boolean;
  /** Where objects live in etcd; shared by resources that are one kind in two groups (events). */
  storagePrefix: string;
  /** Converts a stored object to a served version (events.k8s.io ↔ core events). */
  fromStorage?: (object: KubeObject) => KubeObject;
  toStorage?: (object: KubeObject) => KubeObject;
  /** Name rule: Namespaces and Nodes... use DNS labels or subdomains as kube-apiserver does. */
  nameRule: 'subdomain' | 'label' | 'path-segment';
  /**
   * A review that is answered, never stored (TokenReview, SubjectAccessReview and the self
   * reviews): the only verb is create, and the answer is what `review` returns.
   */
  review?: Review;
  /** Field selector fields beyond metadata.name and metadata.namespace. */
  selectableFields?: readonly string[];
  /** Whether updates without a resourceVersion are allowed (most built-ins; never custom resources). */
  unconditionalUpdate: boolean;
  /**
   * What bumps metadata.generation, as kube-apiserver's strategy for the kind does: a change of
   * anything outside metadata and status ('spec'), or that or of the annotations (Deployments,
   * whose annotations are copied to their ReplicaSets). Absent: the kind has no generation.
   */
  generation?: 'spec' | 'spec-and-annotations';
  /** The status a create stores whatever the request says (the kind's empty status, as kube-apiserver serializes it). */
  initialStatus?: Record<string, unknown>;
}

/** A subresource of an object (`<resource>/<name>/<subresource>`) and the verbs discovery lists for it. */
export interface Subresource {
  name: string;
  verbs: readonly SubresourceVerb[];
  /** The kind the subresource speaks when it is not the resource's own (a Scale). */
  kind?: { group: string; version: string; kind: string };
}

export type SubresourceVerb = 'get' | 'patch' | 'update';

const STATUS: Subresource = { name: 'status', verbs: ['get', 'patch', 'update'] };
/** Written by the namespace controller once a namespace's contents are gone (the devcluster's gc.ts). */
const FINALIZE: Subresource = { name: 'finalize', verbs: ['update'] };
const SCALE: Subresource = { name: 'scale', verbs: ['get', 'patch', 'update'], kind: SCALE_KIND };

/**
 * Every subresource name the devcluster serves: a path `/api/v1/namespaces/<x>/<one of these>`
 * addresses a namespace's subresource, never a resource inside namespace <x>.
 */
export const SUBRESOURCE_NAMES: ReadonlySet<string> = new Set([STATUS.name, FINALIZE.name]);

/** The subresources of a resource in one version: status and scale where the version has them, and namespaces' finalize. */
export function subresourcesOf(info: ResourceInfo, version: VersionInfo | undefined): Subresource[] {
  const out: Subresource[] = [];
  if (version?.hasStatus) out.push(STATUS);
  if (version?.scale) out.push(SCALE);
  if (info.group === '' && info.resource === 'namespaces') out.push(FINALIZE);
  return out;
}

export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** The resources this devcluster serves: the built-ins plus one per established CRD. */
export class Registry {
  private readonly byGroupResource = new Map<string, ResourceInfo>();
  private readonly crdResources = new Map<string, string>();
  /** Bumped on every change of what is served, so derived documents (OpenAPI) know to rebuild. */
  generation = 0;

  /** `builtins`: the kinds served without a CRD (builtins.ts), which no CRD can replace. */
  constructor(builtins: readonly ResourceInfo[]) {
    for (const info of builtins) this.byGroupResource.set(`${info.group}/${info.resource}`, info);
  }

  all(): ResourceInfo[] {
    return [...this.byGroupResource.values()];
  }

  /** The resource at `/apis/<group>/<version>/<resource>`, if that version is served. */
  lookup(group: string, version: string, resource: string): ResourceInfo | undefined {
    const info = this.byGroupResource.get(`${group}/${resource}`);
    return info && info.versions.some((v) => v.name === version && v.served) ? info : undefined;
  }

  byResource(group: string, resource: string): ResourceInfo | undefined {
    return this.byGroupResource.get(`${group}/${resource}`);
  }

  /** Serves (or stops serving) a CRD's resource; the CRD's name is `<plural>.<group>`. */
  setCrd(crdName: string, info: ResourceInfo | undefined): void {
    this.generation++;
    const previous = this.crdResources.get(crdName);
    if (previous) this.byGroupResource.delete(previous);
    this.crdResources.delete(crdName);
    if (info) {
      const key = `${info.group}/${info.resource}`;
      const existing = this.byGroupResource.get(key);
      if (existing?.builtin) return;
      this.byGroupResource.set(key, info);
      this.crdResources.set(crdName, key);
    }
  }

  /** Group → versions served, preferred (first) version first. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const info of this.all()) {
      if (!info.group) continue;
      const versions = out.get(info.group) ?? [];
      for (const v of info.versions) if (v.served && !versions.includes(v.name)) versions.push(v.name);
      out.set(info.group, versions.sort(compareVersions));
    }
    return out;
  }
}

/** Orders Kubernetes versions as kube-apiserver prefers them: v2 > v1 > v1beta2 > v1beta1 > v1alpha1. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [-1, 0, 0];
    const stage = m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2;
    return [Number(m[1]), stage, Number(m[3] ?? 0)];
  };
  const [a1, a2, a3] = parse(a);
  const [b1, b2, b3] = parse(b);
  return b2 - a2 || b1 - a1 || b3 - a3 || a.localeCompare(b);
}
