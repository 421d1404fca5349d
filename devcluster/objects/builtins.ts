import type { KubeObject } from './object.js';
import type { PrinterColumn, ResourceInfo } from './registry.js';
import { age, daemonSetColumns, deploymentColumns, ingressColumns, serviceColumns } from './builtin-columns.js';
import { coreEventToEventsV1, eventsV1ToCoreEvent } from './event-conversion.js';
import { selfSubjectAccessReview, selfSubjectRulesReview, subjectAccessReview, tokenReview } from '../access/reviews.js';


function count(field: string): (o: KubeObject) => number {
  return (o) => {
    const value = o[field];
    return value && typeof value === 'object' ? Object.keys(value).length : 0;
  };
}

interface BuiltinSpec {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  /** `all`: what `kubectl get all` lists. */
  categories?: string[];
  hasStatus?: boolean;
  columns?: PrinterColumn[];
  nameRule?: ResourceInfo['nameRule'];
  storagePrefix?: string;
  conversion?: Pick<ResourceInfo, 'fromStorage' | 'toStorage'>;
  unconditionalUpdate?: boolean;
  selectableFields?: readonly string[];
  review?: ResourceInfo['review'];
  generation?: ResourceInfo['generation'];
  initialStatus?: ResourceInfo['initialStatus'];
}

const coreEventFields = ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'];
const eventsV1Fields = ['regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'regarding.apiVersion', 'regarding.resourceVersion', 'regarding.fieldPath', 'reason', 'reportingController', 'type'];

const specs: BuiltinSpec[] = [
  {
    group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], hasStatus: true, nameRule: 'label', selectableFields: ['status.phase'],
    columns: [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }, age],
  },
  {
    group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], hasStatus: true, selectableFields: ['spec.unschedulable'],
    columns: [
      { name: 'Status', type: 'string', compute: nodeStatus },
      { name: 'Roles', type: 'string', compute: nodeRoles },
      age,
      { name: 'Version', type: 'string', jsonPath: '.status.nodeInfo.kubeletVersion' },
      { name: 'Internal-IP', type: 'string', priority: 1, compute: (o) => nodeAddress(o, 'InternalIP') },
    ],
  },
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'], columns: [{ name: 'Data', type: 'integer', compute: (o) => count('data')(o) + count('binaryData')(o) }, age] },
  { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true, selectableFields: ['type'], columns: [{ name: 'Type', type: 'string', jsonPath: '.type' }, { name: 'Data', type: 'integer', compute: count('data') }, age] },
  { group: '', version: 'v1', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], columns: [{ name: 'Secrets', type: 'integer', compute: (o) => (Array.isArray(o.secrets) ? o.secrets.length : 0) }, age] },
  {
    group: '', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'], nameRule: 'path-segment', storagePrefix: '/registry/core/events/', selectableFields: coreEventFields,
    columns: [
      { name: 'Last Seen', type: 'date', compute: (o) => o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp },
      { name: 'Type', type: 'string', jsonPath: '.type' },
      { name: 'Reason', type: 'string', jsonPath: '.reason' },
      { name: 'Object', type: 'string', compute: (o) => involved(o.involvedObject) },
      { name: 'Message', type: 'string', jsonPath: '.message' },
      { name: 'Name', type: 'string', format: 'name', priority: 1, jsonPath: '.metadata.name' },
    ],
  },
  {
    group: 'events.k8s.io', version: 'v1', resource: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'], nameRule: 'path-segment', storagePrefix: '/registry/core/events/',
    conversion: { fromStorage: coreEventToEventsV1, toStorage: eventsV1ToCoreEvent }, selectableFields: eventsV1Fields,
    columns: [
      { name: 'Last Seen', type: 'date', compute: (o) => o.deprecatedLastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp },
      { name: 'Type', type: 'string', jsonPath: '.type' },
      { name: 'Reason', type: 'string', jsonPath: '.reason' },
      { name: 'Object', type: 'string', compute: (o) => involved(o.regarding) },
      { name: 'Note', type: 'string', jsonPath: '.note' },
      { name: 'Name', type: 'string', format: 'name', priority: 1, jsonPath: '.metadata.name' },
    ],
  },
  {
    group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true,
    columns: [{ name: 'Holder', type: 'string', jsonPath: '.spec.holderIdentity' }, age],
  },
  {
    group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false, shortNames: ['crd', 'crds'], hasStatus: true,
    unconditionalUpdate: false, generation: 'spec', columns: [{ name: 'Created At', type: 'string', format: 'date-time', compute: (o) => o.metadata.creationTimestamp }],
  },
  // Workloads and Services are stored so that manifests and charts apply; no controller runs
  // them, so their status stays the empty one a create gives.
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'], hasStatus: true, generation: 'spec-and-annotations', initialStatus: {}, columns: deploymentColumns },
  {
    group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true, shortNames: ['ds'], categories: ['all'], hasStatus: true, generation: 'spec', columns: daemonSetColumns,
    initialStatus: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 },
  },
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], hasStatus: true, initialStatus: { loadBalancer: {} }, columns: serviceColumns },
  { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', kind: 'Ingress', namespaced: true, shortNames: ['ing'], hasStatus: true, initialStatus: { loadBalancer: {} }, columns: ingressColumns },
  { group: 'authentication.k8s.io', version: 'v1', resource: 'tokenreviews', kind: 'TokenReview', namespaced: false, review: tokenReview },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', kind: 'SubjectAccessReview', namespaced: false, review: subjectAccessReview },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview', namespaced: false, review: selfSubjectAccessReview },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', kind: 'SelfSubjectRulesReview', namespaced: false, review: selfSubjectRulesReview },
  // RBAC objects are stored so that manifests and charts apply; the one identity is an administrator.
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'roles', kind: 'Role', namespaced: true, nameRule: 'path-segment', columns: [{ name: 'Created At', type: 'string', format: 'date-time', compute: (o) => o.metadata.creationTimestamp }] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'rolebindings', kind: 'RoleBinding', namespaced: true, nameRule: 'path-segment', columns: [{ name: 'Role', type: 'string', compute: roleRef }, age] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false, nameRule: 'path-segment', columns: [{ name: 'Created At', type: 'string', format: 'date-time', compute: (o) => o.metadata.creationTimestamp }] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, nameRule: 'path-segment', columns: [{ name: 'Role', type: 'string', compute: roleRef }, age] },
];

export function builtinResources(): ResourceInfo[] {
  return specs.map((s) => ({
    group: s.group,
    resource: s.resource,
    singular: s.kind.toLowerCase(),
    kind: s.kind,
    listKind: `${s.kind}List`,
    namespaced: s.namespaced,
    shortNames: s.shortNames ?? [],
    categories: s.categories ?? [],
    versions: [{ name: s.version, served: true, storage: true, printerColumns: s.columns ?? [age], hasStatus: s.hasStatus ?? false }],
    builtin: true,
    storagePrefix: s.storagePrefix ?? `/registry/${s.group || 'core'}/${s.resource}/`,
    ...(s.conversion ?? {}),
    nameRule: s.nameRule ?? 'subdomain',
    unconditionalUpdate: s.unconditionalUpdate ?? true,
    ...(s.selectableFields ? { selectableFields: s.selectableFields } : {}),
    ...(s.review ? { review: s.review } : {}),
    ...(s.generation ? { generation: s.generation } : {}),
    ...(s.initialStatus ? { initialStatus: s.initialStatus } : {}),
  }));
}

function nodeStatus(o: KubeObject): string {
  const conditions = (o.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  const status = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  const spec = o.spec as { unschedulable?: boolean } | undefined;
  return spec?.unschedulable ? `${status},SchedulingDisabled` : status;
}

function nodeRoles(o: KubeObject): string {
  const prefix = 'node-role.kubernetes.io/';
  const roles = Object.keys(o.metadata.labels ?? {}).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  return roles.length ? roles.sort().join(',') : '<none>';
}

function nodeAddress(o: KubeObject, type: string): string {
  const addresses = (o.status as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? [];
  return addresses.find((a) => a.type === type)?.address ?? '<none>';
}

function involved(ref: unknown): string {
  const r = ref as { kind?: string; name?: string } | undefined;
  return r ? `${(r.kind ?? '').toLowerCase()}/${r.name ?? ''}` : '';
}

function roleRef(o: KubeObject): string {
  const r = o.roleRef as { kind?: string; name?: string } | undefined;
  return r ? `${r.kind ?? ''}/${r.name ?? ''}` : '';
}
