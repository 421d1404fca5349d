import type { JSONSchemaProps } from './schema-types.js';

// Schemas of the built-in kinds the devcluster serves, as `kubectl explain` shows them. Fields
// the devcluster does not interpret are described loosely (preserved as given).
const str = (description: string): JSONSchemaProps => ({ type: 'string', description });
const open = (description: string): JSONSchemaProps => ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true });
const stringMap = (description: string): JSONSchemaProps => ({ type: 'object', description, additionalProperties: { type: 'string' } });

export const objectMetaSchema: JSONSchemaProps = {
  type: 'object',
  description: 'ObjectMeta is metadata that all persisted resources must have.',
  properties: {
    name: str('Name must be unique within a namespace.'),
    generateName: str('An optional prefix used by the server to generate a unique name if name is not provided.'),
    namespace: str('The namespace of a namespaced object.'),
    uid: str('A unique value set by the server on creation.'),
    resourceVersion: str('An opaque value for optimistic concurrency: the etcd revision of the last change.'),
    generation: { type: 'integer', format: 'int64', description: 'A sequence number of changes to the desired state.' },
    creationTimestamp: { type: 'string', format: 'date-time', description: 'When the object was created.' },
    deletionTimestamp: { type: 'string', format: 'date-time', description: 'When the object was asked to be deleted; set while finalizers remain.' },
    deletionGracePeriodSeconds: { type: 'integer', format: 'int64', description: 'Seconds allowed for graceful termination.' },
    labels: stringMap('Map of string keys and values to organize and select objects.'),
    annotations: stringMap('Unstructured key value map stored with an object.'),
    finalizers: { type: 'array', items: { type: 'string' }, description: 'Must be empty before the object is deleted from the registry.', 'x-kubernetes-list-type': 'set' },
    ownerReferences: {
      type: 'array',
      description: 'Objects this object depends on; when all are deleted, this object is garbage collected.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['uid'],
      items: {
        type: 'object',
        required: ['apiVersion', 'kind', 'name', 'uid'],
        properties: {
          apiVersion: str('API version of the referent.'),
          kind: str('Kind of the referent.'),
          name: str('Name of the referent.'),
          uid: str('UID of the referent.'),
          controller: { type: 'boolean', description: 'If true, this reference points to the managing controller.' },
          blockOwnerDeletion: { type: 'boolean', description: 'If true, the owner cannot be deleted in the foreground until this reference is removed.' },
        },
      },
    },
    managedFields: { type: 'array', description: 'Which field manager owns which fields (server-side apply).', items: open('A field manager entry.') },
  },
};

const int = (description: string): JSONSchemaProps => ({ type: 'integer', format: 'int32', description });
const intOrString = (description: string): JSONSchemaProps => ({ 'x-kubernetes-int-or-string': true, description });
/** A spec or status whose named fields `kubectl explain` shows; the rest are kept as given. */
const partly = (description: string, properties: Record<string, JSONSchemaProps>): JSONSchemaProps => ({ ...open(description), properties });

const labelSelector = partly('A label query over pods; must match the pod template\'s labels. Immutable in apps/v1.', {
  matchLabels: stringMap('Labels a pod must have.'),
  matchExpressions: { type: 'array', description: 'Label selector requirements, ANDed.', items: open('A key, an operator (In, NotIn, Exists, DoesNotExist) and values.') },
});
const podTemplate = partly('The pod template: what each pod of the workload is created from.', {
  metadata: open('Standard object metadata of the pods; labels must match the selector.'),
  spec: open('The pods\' spec (PodSpec).'),
});

const workloadFields = {
  selector: labelSelector,
  template: podTemplate,
  minReadySeconds: int('Seconds a new pod must be ready, without a container crashing, to count as available. Defaults to 0.'),
  revisionHistoryLimit: int('Old revisions to keep for rollback. Defaults to 10.'),
};

// Deployments, DaemonSets and Services: the devcluster stores them and no controller runs them.
// Their PATCH operations (openapi.ts) do not list strategic merge, so kubectl's client-side apply
// takes the patch metadata of these kinds from its compiled-in types, as it does for ConfigMaps.
const workloadSchemas: Record<string, JSONSchemaProps> = {
  Deployment: {
    type: 'object',
    description: 'Deployment enables declarative updates for Pods and ReplicaSets (stored, not run, by the devcluster).',
    properties: {
      spec: partly('Specification of the desired behavior of the Deployment.', {
        ...workloadFields,
        replicas: int('Number of desired pods. This is a pointer to distinguish between explicit zero and not specified. Defaults to 1.'),
        strategy: partly('The deployment strategy to use to replace existing pods with new ones.', { type: str('Recreate or RollingUpdate. Default is RollingUpdate.'), rollingUpdate: open('maxSurge and maxUnavailable, 25% each by default.') }),
        progressDeadlineSeconds: int('Seconds for a deployment to make progress before it is considered failed. Defaults to 600.'),
        paused: { type: 'boolean', description: 'Indicates that the deployment is paused.' },
      }),
      status: open('Most recently observed status of the Deployment.'),
    },
  },
  DaemonSet: {
    type: 'object',
    description: 'DaemonSet represents the configuration of a daemon set (stored, not run, by the devcluster).',
    properties: {
      spec: partly('The desired behavior of this daemon set.', {
        ...workloadFields,
        updateStrategy: partly('An update strategy to replace existing DaemonSet pods with new pods.', { type: str('OnDelete or RollingUpdate. Default is RollingUpdate.'), rollingUpdate: open('maxUnavailable (default 1) and maxSurge (default 0).') }),
      }),
      status: open('The current status of this daemon set.'),
    },
  },
  Service: {
    type: 'object',
    description: 'Service is a named abstraction of software service consisting of local port that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy (stored, not proxied, by the devcluster).',
    properties: {
      spec: partly('Spec defines the behavior of a service.', {
        type: str('ClusterIP (the default), NodePort, LoadBalancer or ExternalName.'),
        selector: stringMap('Route service traffic to pods with label keys and values matching this selector.'),
        ports: {
          type: 'array',
          description: 'The list of ports that are exposed by this service.',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['port', 'protocol'],
          items: {
            type: 'object',
            required: ['port'],
            properties: {
              name: str('The name of this port within the service; required when there is more than one.'),
              protocol: str('TCP (the default), UDP or SCTP.'),
              appProtocol: str('The application protocol for this port.'),
              port: int('The port that will be exposed by this service, 1 to 65535.'),
              targetPort: intOrString('Number or name of the port to access on the pods targeted by the service. Defaults to port.'),
              nodePort: int('The port on each node on which this service is exposed when type is NodePort or LoadBalancer.'),
            },
          },
        },
        clusterIP: str('The IP address of the service, allocated from the service range unless given; "None" makes a headless service. May not change once set.'),
        clusterIPs: { type: 'array', items: { type: 'string' }, description: 'The IP addresses of the service; the first is clusterIP.', 'x-kubernetes-list-type': 'atomic' },
        externalIPs: { type: 'array', items: { type: 'string' }, description: 'IP addresses for which nodes in the cluster also accept traffic for this service.' },
        externalName: str('The external reference that discovery mechanisms return as an alias (type ExternalName).'),
        sessionAffinity: str('ClientIP or None (the default).'),
        ipFamilies: { type: 'array', items: { type: 'string' }, description: 'IP families (IPv4, IPv6) assigned to this service.', 'x-kubernetes-list-type': 'atomic' },
        ipFamilyPolicy: str('SingleStack (the devcluster\'s only), PreferDualStack or RequireDualStack.'),
        internalTrafficPolicy: str('Cluster (the default) or Local.'),
        externalTrafficPolicy: str('Cluster (the default for NodePort and LoadBalancer) or Local.'),
      }),
      status: open('Most recently observed status of the service.'),
    },
  },
};

export const builtinSchemas: Record<string, JSONSchemaProps> = {
  ...workloadSchemas,
  Namespace: { type: 'object', description: 'Namespace provides a scope for names.', properties: { spec: { type: 'object', properties: { finalizers: { type: 'array', items: { type: 'string' } } } }, status: { type: 'object', properties: { phase: str('Active or Terminating.') } } } },
  Node: { type: 'object', description: 'Node is a worker node.', properties: { spec: open('The behavior of a node.'), status: open('The most recently observed status of the node.') } },
  ConfigMap: { type: 'object', description: 'ConfigMap holds configuration data for workloads to consume.', properties: { data: stringMap('Configuration data.'), binaryData: stringMap('Binary configuration data, base64.'), immutable: { type: 'boolean' } } },
  Secret: { type: 'object', description: 'Secret holds secret data of a certain type.', properties: { data: stringMap('Secret data, base64.'), stringData: stringMap('Write-only convenience field for data.'), type: str('Used to facilitate programmatic handling of secret data.'), immutable: { type: 'boolean' } } },
  ServiceAccount: { type: 'object', description: 'ServiceAccount binds together a name, a principal and secrets.', properties: { secrets: { type: 'array', items: open('A reference to a secret.') }, imagePullSecrets: { type: 'array', items: open('A reference to a secret.') }, automountServiceAccountToken: { type: 'boolean' } } },
  Event: { type: 'object', description: 'Event is a report of an event somewhere in the cluster.', 'x-kubernetes-preserve-unknown-fields': true },
  Lease: { type: 'object', description: 'Lease defines a lease concept.', properties: { spec: { type: 'object', properties: { holderIdentity: str('The holder of the lease.'), leaseDurationSeconds: { type: 'integer', format: 'int32' }, acquireTime: { type: 'string', format: 'date-time' }, renewTime: { type: 'string', format: 'date-time' }, leaseTransitions: { type: 'integer', format: 'int32' } } } } },
  CustomResourceDefinition: { type: 'object', description: 'CustomResourceDefinition represents a resource that should be exposed on the API server.', properties: { spec: open('The resource to serve.'), status: open('The state of the definition.') } },
  Ingress: { type: 'object', description: 'Ingress: rules routing outside traffic to Services; stored, not routed, by the devcluster.', properties: { spec: open('The rules of the Ingress.'), status: open('The load balancer the Ingress has.') } },
  Role: { type: 'object', description: 'Role: stored, not enforced, by the devcluster.', 'x-kubernetes-preserve-unknown-fields': true },
  RoleBinding: { type: 'object', description: 'RoleBinding: stored, not enforced, by the devcluster.', 'x-kubernetes-preserve-unknown-fields': true },
  ClusterRole: { type: 'object', description: 'ClusterRole: stored, not enforced, by the devcluster.', 'x-kubernetes-preserve-unknown-fields': true },
  ClusterRoleBinding: { type: 'object', description: 'ClusterRoleBinding: stored, not enforced, by the devcluster.', 'x-kubernetes-preserve-unknown-fields': true },
  // What every scale subresource speaks (objects/scale.ts).
  Scale: {
    type: 'object',
    description: 'Scale represents a scaling request for a resource.',
    properties: {
      spec: { type: 'object', description: 'The desired state of the object.', properties: { replicas: { type: 'integer', format: 'int32', description: 'The desired number of instances of the scaled object.' } } },
      status: { type: 'object', description: 'The current status of the object.', properties: { replicas: { type: 'integer', format: 'int32', description: 'The actual number of observed instances of the scaled object.' }, selector: str('The label query over pods that should match the replicas count, in label selector string form.') } },
    },
  },
};
