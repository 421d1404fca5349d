import { GROUP, KINDS, VERSION, type KindName } from '../api/index.js';

/** Which REST collection a kind lives in, and how its paths are built. */
export interface ResourceType {
  /** API group; '' for the core group. */
  group: string;
  version: string;
  /** The lower-case plural used in paths, e.g. `nodeworkloads`. */
  plural: string;
  kind: string;
  namespaced: boolean;
}

export const LEASES: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };
export const EVENTS: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
export const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
/** Create-only reviews: who a bearer token is, and whether a user may do something (kubelet's webhook mode asks both). */
export const TOKEN_REVIEWS: ResourceType = { group: 'authentication.k8s.io', version: 'v1', plural: 'tokenreviews', kind: 'TokenReview', namespaced: false };
export const SUBJECT_ACCESS_REVIEWS: ResourceType = { group: 'authorization.k8s.io', version: 'v1', plural: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false };
export const CUSTOM_RESOURCE_DEFINITIONS: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

function shopfloorResource(kind: KindName): ResourceType {
  const k = KINDS[kind];
  return { group: GROUP, version: VERSION, plural: k.plural, kind: k.kind, namespaced: k.namespaced };
}

export const NODE_WORKLOADS = shopfloorResource('NodeWorkload');
export const NODE_ASSIGNMENTS = shopfloorResource('NodeAssignment');
export const NODE_AGENTS = shopfloorResource('NodeAgent');

/** `plural.group` (or `plural`), the name kubectl and RBAC use. */
export function resourceName(r: ResourceType): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

/**
 * The REST path of a collection or object. Namespaced resources without a namespace give the
 * all-namespaces collection (only valid for list and watch).
 */
export function resourcePath(r: ResourceType, at: { namespace?: string; name?: string; subresource?: string } = {}): string {
  const parts = [r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`];
  if (r.namespaced && at.namespace) parts.push('namespaces', encodeURIComponent(at.namespace));
  if (!r.namespaced && at.namespace) {
    throw new Error(`${resourceName(r)} is cluster-scoped; it has no namespace (got "${at.namespace}")`);
  }
  parts.push(r.plural);
  if (at.name !== undefined) {
    if (!at.name) throw new Error(`${resourceName(r)}: an object path needs a non-empty name`);
    if (r.namespaced && !at.namespace) throw new Error(`${resourceName(r)} "${at.name}" is namespaced; give its namespace`);
    parts.push(encodeURIComponent(at.name));
    if (at.subresource) parts.push(at.subresource);
  } else if (at.subresource) {
    throw new Error(`${resourceName(r)}: subresource "${at.subresource}" needs an object name`);
  }
  return parts.join('/');
}
