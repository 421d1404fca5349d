// The REST collections the operator reads and writes, from the API's kind table.
import { GROUP, KINDS, VERSION, type KindName } from '../api/index.js';
import type { ResourceType } from '../kube/resource.js';

function shopfloor(kind: KindName): ResourceType {
  const k = KINDS[kind];
  return { group: GROUP, version: VERSION, plural: k.plural, kind: k.kind, namespaced: k.namespaced };
}

export const NODE_WORKLOADS = shopfloor('NodeWorkload');
export const NODE_ASSIGNMENTS = shopfloor('NodeAssignment');
export const NODE_AGENTS = shopfloor('NodeAgent');

/** Annotation the operator puts on an assignment of a lost node once a replacement runs elsewhere. */
export const ANNOTATION_REPLACED_AT = 'shopfloor.dev/replaced-at';
