// Validates objects against a generated CRD's openAPIV3Schema with ajv, the way the API server
// checks them before Shopfloor sees them. Not modelled: the server's own metadata checks, its
// defaulting, and its pruning (or, with strict field validation, rejection) of unknown fields.
// ajv reads OpenAPI's `nullable` itself; an int-or-string is checked through its anyOf.
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import type { DataValidationCxt } from 'ajv/dist/types/index.js';
import { brokenRules } from '../../devcluster/schema/schema-rules.js';
import type { JSONSchemaProps } from '../../devcluster/schema/schema-types.js';
import type { KindName } from '../../api/group.js';
import { openAPIV3Schema } from '../../api/crd.js';

// Kubernetes' schema extensions: they shape merging and pruning on the API server and carry no
// validation ajv could apply.
const KUBERNETES_KEYWORDS = [
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
];

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false });
for (const keyword of KUBERNETES_KEYWORDS) ajv.addKeyword(keyword);
// The CRD's CEL rules, judged by the devcluster's evaluator of them, each error at its rule's field.
ajv.addKeyword({
  keyword: 'x-kubernetes-validations',
  schemaType: 'array',
  errors: true,
  validate: function rules(_rules: unknown, data: unknown, parentSchema?: AnySchemaObject, ctx?: DataValidationCxt): boolean {
    const at = ctx?.instancePath ?? '';
    const broken = brokenRules(parentSchema as JSONSchemaProps, data, undefined, '');
    (rules as { errors?: Partial<ErrorObject>[] }).errors = broken.map((c) => ({ keyword: 'x-kubernetes-validations', instancePath: [at, ...(c.field && c.field !== '<root>' ? c.field.split('.') : [])].join('/'), message: c.message, params: {} }));
    return broken.length === 0;
  },
});

const compiled = new Map<KindName, ValidateFunction>();

export interface SchemaError {
  /** JSON pointer of the offending value, e.g. /spec/placement/mode. */
  path: string;
  message: string;
}

/** The CRD schema's errors for `object`; an empty list when the API server would accept it. */
export function crdSchemaErrors(kind: KindName, object: unknown): SchemaError[] {
  let validate = compiled.get(kind);
  if (!validate) {
    validate = ajv.compile(openAPIV3Schema(kind));
    compiled.set(kind, validate);
  }
  if (validate(object)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => ({ path: e.instancePath || '/', message: e.message ?? e.keyword }));
}
