// What each Shopfloor binary may do in the Kubernetes API: the RBAC the chart grants, written out
// once in review-friendly form. rbac.test.ts checks it both ways: against the calls the code
// makes (api-calls.ts reads them from the source) and against the Roles and ClusterRoles the
// chart renders.
import { GROUP } from '../../api/index.js';

/**
 * cluster: a ClusterRole (the kind's objects in every namespace). namespace: a Role in the
 * Shopfloor namespace (the release's). Leases live only there: the operator's leader Lease and
 * its Lease informer, and the agents' node Leases, all in the namespace the chart tells both
 * (POD_NAMESPACE).
 */
export type Scope = 'cluster' | 'namespace';

export interface Access {
  group: string;
  /** The plural, or `plural/subresource`. */
  resource: string;
  verbs: readonly string[];
  scope: Scope;
  /** Granted only while this chart value is true (the code that needs it runs only then). */
  onlyWith?: 'agent.logServer.enabled' | 'operator.floor.enabled';
}

export interface ComponentAccess {
  /** The command's entry file. */
  entry: string;
  access: readonly Access[];
}

const COORDINATION = 'coordination.k8s.io';

export const API_ACCESS: Record<'operator' | 'agent', ComponentAccess> = {
  operator: {
    entry: 'cli/operator.ts',
    access: [
      { group: GROUP, resource: 'nodeworkloads', verbs: ['list', 'watch', 'patch'], scope: 'cluster' },
      { group: GROUP, resource: 'nodeworkloads/status', verbs: ['patch'], scope: 'cluster' },
      { group: GROUP, resource: 'nodeworkloads/finalizers', verbs: ['update'], scope: 'cluster' },
      { group: GROUP, resource: 'nodeassignments', verbs: ['list', 'watch', 'create', 'patch', 'delete'], scope: 'cluster' },
      { group: GROUP, resource: 'nodeassignments/status', verbs: ['patch'], scope: 'cluster' },
      { group: GROUP, resource: 'nodeagents', verbs: ['list', 'watch', 'patch'], scope: 'cluster' },
      { group: '', resource: 'events', verbs: ['create', 'patch'], scope: 'cluster' },
      { group: 'authentication.k8s.io', resource: 'tokenreviews', verbs: ['create'], scope: 'cluster', onlyWith: 'operator.floor.enabled' },
      { group: 'authorization.k8s.io', resource: 'subjectaccessreviews', verbs: ['create'], scope: 'cluster', onlyWith: 'operator.floor.enabled' },
      { group: COORDINATION, resource: 'leases', verbs: ['get', 'list', 'watch', 'create', 'update'], scope: 'namespace' },
    ],
  },
  agent: {
    entry: 'cli/agent.ts',
    access: [
      { group: GROUP, resource: 'nodeworkloads', verbs: ['list', 'watch'], scope: 'cluster' },
      { group: GROUP, resource: 'nodeassignments', verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], scope: 'cluster' },
      { group: GROUP, resource: 'nodeassignments/status', verbs: ['patch'], scope: 'cluster' },
      { group: GROUP, resource: 'nodeagents', verbs: ['get', 'list', 'watch', 'create', 'patch'], scope: 'cluster' },
      { group: GROUP, resource: 'nodeagents/status', verbs: ['patch'], scope: 'cluster' },
      { group: 'authentication.k8s.io', resource: 'tokenreviews', verbs: ['create'], scope: 'cluster', onlyWith: 'agent.logServer.enabled' },
      { group: 'authorization.k8s.io', resource: 'subjectaccessreviews', verbs: ['create'], scope: 'cluster', onlyWith: 'agent.logServer.enabled' },
      { group: COORDINATION, resource: 'leases', verbs: ['get', 'create', 'update'], scope: 'namespace' },
    ],
  },
};
