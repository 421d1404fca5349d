// The CEL validation rules of a custom resource's schema (`x-kubernetes-validations`), judged as
// kube-apiserver judges them: `self` is the value at the rule's node, `oldSelf` the stored value
// there on an update. Rules say what a schema's keywords cannot, such as one field that is
// allowed only while another has some value. Evaluated by @bufbuild/cel, CEL's ECMAScript
// implementation; a rule's integers are CEL ints, as in kube-apiserver.
import { celEnv, isCelError, parse, plan, type CelResult } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { isPlainObject } from '../objects/object.js';
import type { StatusCause } from '../objects/status.js';
import type { JSONSchemaProps, ValidationRule } from './schema-types.js';

type Evaluate = (bindings: Record<string, unknown>) => CelResult;

const env = celEnv({ funcs: strings });
/** Rules by their text: planned once, on the first object that reaches them. */
const planned = new Map<string, Evaluate>();

/** The reasons a rule may give, and how the message of each starts. */
const REASONS: Record<string, (type: string) => string> = {
  // kube-apiserver leaves the value out of a rule's message: it is the whole node.
  FieldValueInvalid: () => 'Invalid value: ',
  FieldValueRequired: () => 'Required value: ',
  FieldValueForbidden: () => 'Forbidden: ',
  FieldValueDuplicate: (type) => `Duplicate value: ${JSON.stringify(type)}: `,
};
/** A simple dotted path (`.spec.replicas`), as kube-apiserver takes them in a rule's fieldPath and a CRD's scale paths: no indexes, no quoting. */
export const SIMPLE_PATH = /^(\.[A-Za-z0-9_-]+)+$/;
// A rule that reads the stored value (a transition rule) is judged only on an update that has one.
const readsOldSelf = /\boldSelf\b/;

function compiled(rule: string): Evaluate {
  let evaluate = planned.get(rule);
  if (!evaluate) {
    evaluate = plan(env, parse(rule)) as unknown as Evaluate;
    planned.set(rule, evaluate);
  }
  return evaluate;
}

/** The problems of a CRD schema's rules (each must parse, and say only what the devcluster evaluates), each naming its field. */
export function ruleProblems(schema: JSONSchemaProps, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  (schema['x-kubernetes-validations'] ?? []).forEach((r, j) => {
    const at = `${field}.x-kubernetes-validations[${j}]`;
    if (typeof r.rule !== 'string' || r.rule.trim() === '') {
      causes.push({ reason: 'FieldValueRequired', field: `${at}.rule`, message: 'Required value' });
      return;
    }
    try {
      compiled(r.rule);
    } catch (err) {
      causes.push({ reason: 'FieldValueInvalid', field: `${at}.rule`, message: `Invalid value: ${JSON.stringify(r.rule)}: compilation failed: ${(err as Error).message}` });
    }
    if (r.messageExpression !== undefined) {
      causes.push({ reason: 'FieldValueForbidden', field: `${at}.messageExpression`, message: 'Forbidden: the devcluster does not evaluate messageExpression; give the message as message' });
    }
    if (r.fieldPath !== undefined && !SIMPLE_PATH.test(r.fieldPath)) {
      causes.push({ reason: 'FieldValueInvalid', field: `${at}.fieldPath`, message: `Invalid value: ${JSON.stringify(r.fieldPath)}: must be a simple path such as .replicas` });
    }
    if (r.reason !== undefined && !(r.reason in REASONS)) {
      causes.push({ reason: 'FieldValueNotSupported', field: `${at}.reason`, message: `Unsupported value: ${JSON.stringify(r.reason)}: supported values: ${Object.keys(REASONS).map((k) => JSON.stringify(k)).join(', ')}` });
    }
  });
  for (const [name, child] of Object.entries(schema.properties ?? {})) causes.push(...ruleProblems(child, `${field}.properties[${name}]`));
  if (isPlainObject(schema.additionalProperties)) causes.push(...ruleProblems(schema.additionalProperties, `${field}.additionalProperties`));
  if (schema.items) causes.push(...ruleProblems(schema.items, `${field}.items`));
  return causes;
}

/** Schemas by whether they have a rule anywhere in them: asked on every write, and a schema changes only with its CRD. */
const withRules = new WeakMap<JSONSchemaProps, boolean>();

/** Whether a schema has a rule anywhere in it. */
export function hasRules(schema: JSONSchemaProps): boolean {
  let known = withRules.get(schema);
  if (known === undefined) {
    const children = [...Object.values(schema.properties ?? {}), ...(isPlainObject(schema.additionalProperties) ? [schema.additionalProperties] : []), ...(schema.items ? [schema.items] : [])];
    known = Boolean(schema['x-kubernetes-validations']?.length) || children.some(hasRules);
    withRules.set(schema, known);
  }
  return known;
}

/** What kube-apiserver says in place of the rules when a value has the wrong type or is outside its enum: rules may rely on both. */
export const RULES_NOT_CHECKED: StatusCause = {
  reason: 'FieldValueInvalid',
  field: '<nil>',
  message: 'Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
};

/**
 * The rules `value` breaks, one cause each, at the path of the rule's node (plus its fieldPath).
 * `old` is the stored value at the same node on an update, undefined on a create.
 */
export function checkRules(schema: JSONSchemaProps, value: unknown, old: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (value === undefined || value === null) return causes;
  causes.push(...brokenRules(schema, value, old, path));
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const child = schema.properties?.[k] ?? (isPlainObject(schema.additionalProperties) ? schema.additionalProperties : undefined);
      if (child) causes.push(...checkRules(child, v, isPlainObject(old) ? old[k] : undefined, path ? `${path}.${k}` : k));
    }
  } else if (Array.isArray(value) && schema.items) {
    // Items are matched to the stored ones by position, as for a list without map keys.
    const items = schema.items;
    value.forEach((v, i) => causes.push(...checkRules(items, v, Array.isArray(old) ? old[i] : undefined, `${path}[${i}]`)));
  }
  return causes;
}

/** The rules of this one node (not of the nodes below it) that `value` breaks. */
export function brokenRules(schema: JSONSchemaProps, value: unknown, old: unknown, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const r of schema['x-kubernetes-validations'] ?? []) {
    if (readsOldSelf.test(r.rule) && old === undefined) continue;
    const cause = judge(r, schema, value, old, path);
    if (cause) causes.push(cause);
  }
  return causes;
}

function judge(r: ValidationRule, schema: JSONSchemaProps, value: unknown, old: unknown, path: string): StatusCause | undefined {
  const field = path ? `${path}${r.fieldPath ?? ''}` : (r.fieldPath ?? '').slice(1) || '<root>';
  const type = schema.type ?? 'object';
  let result: CelResult;
  try {
    result = compiled(r.rule)({ self: toCel(schema, value), ...(old !== undefined ? { oldSelf: toCel(schema, old) } : {}) });
  } catch (err) {
    result = err as CelResult;
  }
  if (result === true) return undefined;
  if (isCelError(result) || result instanceof Error || typeof result !== 'boolean') {
    const why = isCelError(result) || result instanceof Error ? result.message : `it gave ${String(result)}, not a boolean`;
    return { reason: 'FieldValueInvalid', field, message: `Invalid value: rule ${JSON.stringify(r.rule)} could not be evaluated: ${why}` };
  }
  const reason = r.reason && r.reason in REASONS ? r.reason : 'FieldValueInvalid';
  return { reason, field, message: `${REASONS[reason]!(type)}${r.message ?? `failed rule: ${r.rule}`}` };
}

/** A JSON value as CEL sees it under its schema: integers as ints (bigint), objects as maps. */
function toCel(schema: JSONSchemaProps | undefined, value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) && (schema?.type === 'integer' || schema?.['x-kubernetes-int-or-string']) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map((v) => toCel(schema?.items, v));
  if (isPlainObject(value)) {
    const extra = isPlainObject(schema?.additionalProperties) ? schema.additionalProperties : undefined;
    return new Map(Object.entries(value).map(([k, v]) => [k, toCel(schema?.properties?.[k] ?? extra, v)]));
  }
  return value;
}
