// The REST collections the agent watches, from the API's kind table.
import { GROUP, KINDS, VERSION, type KindName } from '../api/index.js';
import type { ResourceType } from '../kube/resource.js';

function shopfloor(kind: KindName): ResourceType {
  const k = KINDS[kind];
  return { group: GROUP, version: VERSION, plural: k.plural, kind: k.kind, namespaced: k.namespaced };
}

export const NODE_WORKLOADS = shopfloor('NodeWorkload');
export const NODE_ASSIGNMENTS = shopfloor('NodeAssignment');
