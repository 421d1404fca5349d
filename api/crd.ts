// Builds the CustomResourceDefinitions from the zod schemas, so that the API server enforces the
// same field rules (types, enums, bounds, patterns, required fields, defaults) as Shopfloor does
// and `kubectl explain` shows the same descriptions. Pure: the caller writes the files.
import { stringify } from 'yaml';
import { z } from 'zod';
import { CATEGORY, GROUP, KINDS, VERSION, type KindName } from './group.js';
import { nodeAgentSchema } from './nodeagent.js';
import { nodeAssignmentSchema } from './nodeassignment.js';
import { nodeWorkloadSchema } from './nodeworkload.js';

/** An OpenAPI v3 schema node as a CRD carries it. */
export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  /** CEL rules for what the keywords cannot say, such as one field allowed only with another's value. */
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string }[];
}

/** Where `kubectl scale` and a HorizontalPodAutoscaler read and write a kind's replicas. */
export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath: string;
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced' | 'Cluster';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never>; scale?: ScaleSubresource };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
}

const AGE: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the object was created.',
};

const KIND_SCHEMAS: Record<KindName, { schema: z.ZodType; description: string; columns: PrinterColumn[]; scale?: ScaleSubresource }> = {
  NodeWorkload: {
    schema: nodeWorkloadSchema,
    description:
      'NodeWorkload declares containers that Shopfloor runs straight on nodes\' container runtimes: where the replicas go, what each runs, and an optional service virtual IP that load-balances to the ready replicas.',
    columns: [
      { name: 'Mode', type: 'string', jsonPath: '.spec.placement.mode', description: 'Placement mode: Replicas or EveryNode.' },
      { name: 'Desired', type: 'integer', jsonPath: '.status.desiredReplicas', description: 'Replicas the placement asks for.' },
      { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Replicas whose containers are ready.' },
      { name: 'VIP', type: 'string', jsonPath: '.status.clusterIP', description: 'Virtual IP of the service.' },
      AGE,
    ],
    scale: { specReplicasPath: '.spec.placement.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  },
  NodeAssignment: {
    schema: nodeAssignmentSchema,
    description:
      'NodeAssignment is one replica of a NodeWorkload bound to one node. The operator writes its spec; the node\'s Shopfloor agent runs it and reports its status.',
    columns: [
      { name: 'Node', type: 'string', jsonPath: '.spec.nodeName', description: 'Node that runs the replica.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Running, Succeeded, Failed or Unknown.' },
      { name: 'Ready', type: 'boolean', jsonPath: '.status.ready', description: 'Whether every container is ready.' },
      { name: 'Restarts', type: 'integer', jsonPath: '.status.restartCount', description: 'Restarts of all containers together.' },
      { name: 'IP', type: 'string', jsonPath: '.status.podIP', description: 'IP of the replica.' },
      AGE,
    ],
  },
  NodeAgent: {
    schema: nodeAgentSchema,
    description:
      'NodeAgent is a node as its Shopfloor agent registers it: what the node can run, its container runtime and its service proxy mode. Its liveness is a Lease named after the node.',
    columns: [
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Status of the Ready condition.' },
      { name: 'Runtime', type: 'string', jsonPath: '.status.nodeInfo.runtimeName', description: 'Container runtime.' },
      { name: 'Proxy', type: 'string', jsonPath: '.status.nodeInfo.proxyMode', description: 'Service proxy mode.' },
      { name: 'Pods', type: 'integer', jsonPath: '.status.pods', description: 'Replicas the node runs now.' },
      AGE,
    ],
  },
};

const ROOT_FIELDS: Record<'apiVersion' | 'kind' | 'metadata', JSONSchemaProps> = {
  apiVersion: {
    type: 'string',
    description:
      'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
  },
  kind: {
    type: 'string',
    description:
      'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
  },
  // The API server owns metadata's schema: a CRD may restrict only name and generateName there, and
  // even a description is refused ("must not specify anything other than name and generateName").
  metadata: { type: 'object' },
};

/** Why a zod schema cannot become a structural CRD schema; names the field. */
export class CrdSchemaError extends Error {
  constructor(path: string, problem: string) {
    super(`${path || '(root)'}: ${problem}`);
    this.name = 'CrdSchemaError';
  }
}

type Raw = Record<string, unknown>;

const SCHEMA_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
const COPIED_KEYWORDS = [
  'description',
  'x-kubernetes-validations',
  'enum',
  'default',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'nullable',
] as const;
// zod writes these bounds for every z.int(); they say nothing a CRD reader needs.
const SAFE_INTEGER_BOUNDS = new Set([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);

function isRaw(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function copyKeywords(from: Raw, to: JSONSchemaProps): void {
  for (const k of COPIED_KEYWORDS) {
    const v = from[k];
    if (v === undefined) continue;
    if ((k === 'minimum' || k === 'maximum') && typeof v === 'number' && SAFE_INTEGER_BOUNDS.has(v)) continue;
    (to as Raw)[k] = v;
  }
}

/** `anyOf: [integer, string]` as Kubernetes writes IntOrString, with both branches' rules on top. */
function intOrString(raw: Raw, branches: Raw[], path: string): JSONSchemaProps {
  const int = branches.find((b) => b.type === 'integer');
  const str = branches.find((b) => b.type === 'string');
  if (branches.length !== 2 || !int || !str) {
    throw new CrdSchemaError(path, 'a union other than integer-or-string has no structural CRD form');
  }
  const out: JSONSchemaProps = { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  copyKeywords(int, out);
  copyKeywords(str, out);
  copyKeywords(raw, out);
  return out;
}

function structural(raw: Raw, path: string): JSONSchemaProps {
  for (const key of ['$ref', '$defs', 'oneOf', 'allOf', 'not']) {
    if (key in raw) throw new CrdSchemaError(path, `"${key}" is not allowed in a structural CRD schema`);
  }
  if (Array.isArray(raw.anyOf)) return intOrString(raw, raw.anyOf.filter(isRaw), path);
  const type = raw.type;
  if (typeof type !== 'string' || !SCHEMA_TYPES.has(type)) throw new CrdSchemaError(path, `needs a single type, found ${JSON.stringify(type)}`);
  const out: JSONSchemaProps = { type: type as JSONSchemaProps['type'] };
  copyKeywords(raw, out);

  if (type === 'object') {
    if (isRaw(raw.properties)) {
      // An open object (additionalProperties: {}) would need x-kubernetes-preserve-unknown-fields;
      // only metadata is free-form, and the root handles it.
      if (isRaw(raw.additionalProperties) && Object.keys(raw.additionalProperties).length === 0) {
        throw new CrdSchemaError(path, 'an object that keeps unknown fields has no place in the CRD outside metadata');
      }
      out.properties = {};
      for (const [name, child] of Object.entries(raw.properties)) {
        if (!isRaw(child)) throw new CrdSchemaError(`${path}.${name}`, 'is not a schema');
        const field = structural(child, path ? `${path}.${name}` : name);
        if (!field.description) throw new CrdSchemaError(path ? `${path}.${name}` : name, 'needs a description (zod .describe())');
        out.properties[name] = field;
      }
      if (Array.isArray(raw.required) && raw.required.length > 0) out.required = raw.required.map(String);
    } else if (isRaw(raw.additionalProperties)) {
      out.additionalProperties = structural(raw.additionalProperties, `${path}.*`);
    } else {
      throw new CrdSchemaError(path, 'an object needs properties or a value schema');
    }
  } else if (type === 'array') {
    if (!isRaw(raw.items)) throw new CrdSchemaError(path, 'an array needs an item schema');
    out.items = structural(raw.items, `${path}[]`);
    const keys = listMapKeys(path, out.items);
    if (keys) {
      out['x-kubernetes-list-type'] = 'map';
      out['x-kubernetes-list-map-keys'] = keys;
    }
  }
  return out;
}

// Lists whose items have an identity, by the end of their path: server-side apply merges them
// item by item (a manager owns `k:{"name":"web"}`, not the whole list), as Kubernetes keys the
// same lists of a Pod. Keys must be scalar fields every item has (required or defaulted).
const KEYED_LISTS: [suffix: string, keys: string[]][] = [
  ['template.containers', ['name']],
  ['template.containers[].ports', ['containerPort', 'protocol']],
  ['template.containers[].env', ['name']],
  ['template.containers[].volumeMounts', ['mountPath']],
  ['template.volumes', ['name']],
  ['service.ports', ['port', 'protocol']],
];

/** The map keys of a list at `path`, checked against its item schema; undefined for atomic lists. */
function listMapKeys(path: string, items: JSONSchemaProps): string[] | undefined {
  const props = items.properties;
  // Conditions are keyed by type, as metav1.Condition lists are.
  if (path.endsWith('conditions') && props?.type && props.lastTransitionTime) return ['type'];
  const keys = KEYED_LISTS.find(([suffix]) => path === suffix || path.endsWith(`.${suffix}`))?.[1];
  if (!keys) return undefined;
  if (items.type !== 'object' || !props) throw new CrdSchemaError(path, 'x-kubernetes-list-type map needs items that are objects');
  for (const key of keys) {
    const field = props[key];
    if (!field || !(field.type === 'string' || field.type === 'integer' || field.type === 'number' || field.type === 'boolean')) {
      throw new CrdSchemaError(`${path}[].${key}`, 'a list map key must be a scalar property of the items');
    }
    if (!items.required?.includes(key) && field.default === undefined) {
      throw new CrdSchemaError(`${path}[].${key}`, 'a list map key must be required or have a default');
    }
  }
  return keys;
}

/** A zod schema (of a field, not a whole object) in structural form; throws CrdSchemaError. */
export function structuralSchema(schema: z.ZodType, path: string): JSONSchemaProps {
  return structural(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as Raw, path);
}

/** The openAPIV3Schema of one kind: its zod schema in structural form. */
export function openAPIV3Schema(kind: KindName): JSONSchemaProps {
  const { schema, description } = KIND_SCHEMAS[kind];
  const raw = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as Raw;
  if (!isRaw(raw.properties)) throw new CrdSchemaError('', `${kind} is not an object schema`);
  const properties: Record<string, JSONSchemaProps> = { ...ROOT_FIELDS };
  for (const [name, child] of Object.entries(raw.properties)) {
    if (name in ROOT_FIELDS) continue;
    if (!isRaw(child)) throw new CrdSchemaError(name, 'is not a schema');
    const field = structural(child, name);
    if (!field.description) throw new CrdSchemaError(name, 'needs a description (zod .describe())');
    properties[name] = field;
  }
  // apiVersion, kind and metadata are the API server's to check.
  const required = (Array.isArray(raw.required) ? raw.required.map(String) : []).filter((n) => !(n in ROOT_FIELDS));
  return { type: 'object', description, properties, ...(required.length ? { required } : {}) };
}

/** The CustomResourceDefinition of one kind. */
export function customResourceDefinition(kind: KindName): CustomResourceDefinition {
  const names = KINDS[kind];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'shopfloor' } },
    spec: {
      group: GROUP,
      names: {
        kind: names.kind,
        listKind: `${names.kind}List`,
        plural: names.plural,
        singular: names.singular,
        shortNames: [...names.shortNames],
        categories: [CATEGORY],
      },
      scope: names.namespaced ? 'Namespaced' : 'Cluster',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: openAPIV3Schema(kind) },
          subresources: { status: {}, ...(KIND_SCHEMAS[kind].scale ? { scale: KIND_SCHEMAS[kind].scale } : {}) },
          additionalPrinterColumns: KIND_SCHEMAS[kind].columns,
        },
      ],
    },
  };
}

/** Every Shopfloor CRD, in a stable order. */
export function customResourceDefinitions(): CustomResourceDefinition[] {
  return (Object.keys(KINDS) as KindName[]).map(customResourceDefinition);
}

/** File name under crds/ for a CRD, e.g. nodeworkloads.shopfloor.dev.yaml. */
export function crdFileName(crd: CustomResourceDefinition): string {
  return `${crd.metadata.name}.yaml`;
}

/** The YAML file of a CRD, as `npm run gen:crds` writes it under crds/. */
export function crdYaml(crd: CustomResourceDefinition): string {
  return `# Generated from api/ by \`npm run gen:crds\`; do not edit.\n${stringify(crd, { lineWidth: 0 })}`;
}
