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

export const builtinSchemas: Record<string, JSONSchemaProps> = {
  Namespace: { type: 'object', description: 'Namespace provides a scope for names.', properties: { spec: { type: 'object', properties: { finalizers: { type: 'array', items: { type: 'string' } } } }, status: { type: 'object', properties: { phase: str('Active or Terminating.') } } } },
  Node: { type: 'object', description: 'Node is a worker node.', properties: { spec: open('The behavior of a node.'), status: open('The most recently observed status of the node.') } },
  ConfigMap: { type: 'object', description: 'ConfigMap holds configuration data for workloads to consume.', properties: { data: stringMap('Configuration data.'), binaryData: stringMap('Binary configuration data, base64.'), immutable: { type: 'boolean' } } },
  Secret: { type: 'object', description: 'Secret holds secret data of a certain type.', properties: { data: stringMap('Secret data, base64.'), stringData: stringMap('Write-only convenience field for data.'), type: str('Used to facilitate programmatic handling of secret data.'), immutable: { type: 'boolean' } } },
  ServiceAccount: { type: 'object', description: 'ServiceAccount binds together a name, a principal and secrets.', properties: { secrets: { type: 'array', items: open('A reference to a secret.') }, imagePullSecrets: { type: 'array', items: open('A reference to a secret.') }, automountServiceAccountToken: { type: 'boolean' } } },
  Event: { type: 'object', description: 'Event is a report of an event somewhere in the cluster.', 'x-kubernetes-preserve-unknown-fields': true },
  Lease: { type: 'object', description: 'Lease defines a lease concept.', properties: { spec: { type: 'object', properties: { holderIdentity: str('The holder of the lease.'), leaseDurationSeconds: { type: 'integer', format: 'int32' }, acquireTime: { type: 'string', format: 'date-time' }, renewTime: { type: 'string', format: 'date-time' }, leaseTransitions: { type: 'integer', format: 'int32' } } } } },
  CustomResourceDefinition: { type: 'object', description: 'CustomResourceDefinition represents a resource that should be exposed on the API server.', properties: { spec: open('The resource to serve.'), status: open('The state of the definition.') } },
  Role: { type: 'object', description: 'Role: stored, not enforced, by the devcluster.', 'x-kubernetes-preserve-unknown-fields': true },
  RoleBinding: { type: 'object', description: 'RoleBinding: stored, not enforced, by the devcluster.', 'x-kubernetes-preserve-unknown-fields': true },
  ClusterRole: { type: 'object', description: 'ClusterRole: stored, not enforced, by the devcluster.', 'x-kubernetes-preserve-unknown-fields': true },
  ClusterRoleBinding: { type: 'object', description: 'ClusterRoleBinding: stored, not enforced, by the devcluster.', 'x-kubernetes-preserve-unknown-fields': true },
};
