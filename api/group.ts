/** The API group and version every Shopfloor kind belongs to. */
export const GROUP = 'shopfloor.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Names of each kind as the API server serves it. */
export const KINDS = {
  NodeWorkload: { kind: 'NodeWorkload', plural: 'nodeworkloads', singular: 'nodeworkload', shortNames: ['nw'], namespaced: true },
  NodeAssignment: { kind: 'NodeAssignment', plural: 'nodeassignments', singular: 'nodeassignment', shortNames: ['na'], namespaced: true },
  NodeAgent: { kind: 'NodeAgent', plural: 'nodeagents', singular: 'nodeagent', shortNames: ['nag'], namespaced: false },
} as const;

export type KindName = keyof typeof KINDS;

/** The `kubectl get shopfloor` category every kind is listed under. */
export const CATEGORY = 'shopfloor';

/** Namespace the operator and agents run in, and where agents keep their Leases. */
export const DEFAULT_SYSTEM_NAMESPACE = 'shopfloor-system';
