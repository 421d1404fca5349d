import { isPlainObject, jsonEqual } from '../objects/object.js';
import type { JSONSchemaProps } from './schema-types.js';
import type { StatusCause } from '../objects/status.js';

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return '"null"';
  if (typeof value === 'object') return JSON.stringify(typeName(value));
  return String(value);
}

function hasType(schema: JSONSchemaProps, value: unknown): boolean {
  if (schema['x-kubernetes-int-or-string']) return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
  switch (schema.type) {
    case undefined: return true;
    case 'object': return isPlainObject(value);
    case 'array': return Array.isArray(value);
    case 'string': return typeof value === 'string';
    case 'integer': return typeof value === 'number' && Number.isInteger(value);
    case 'number': return typeof value === 'number';
    case 'boolean': return typeof value === 'boolean';
  }
  return false;
}

/**
 * Validates `value` against a structural schema as kube-apiserver does for custom resources,
 * returning one cause per bad field (path like `spec.containers[0].image`).
 */
export function validateSchema(schema: JSONSchemaProps, value: unknown, path = ''): StatusCause[] {
  const causes: StatusCause[] = [];
  walk(schema, value, path, causes);
  return causes;
}

function walk(schema: JSONSchemaProps, value: unknown, path: string, causes: StatusCause[]): void {
  const field = path || '<root>';
  const invalid = (message: string, reason = 'FieldValueInvalid'): void => {
    causes.push({ reason, field, message });
  };
  if (value === null) {
    if (!schema.nullable && !schema['x-kubernetes-preserve-unknown-fields'] && schema.type !== undefined) {
      invalid(`Invalid value: "null": ${field} in body must be of type ${schema['x-kubernetes-int-or-string'] ? 'int-or-string' : schema.type}: "null"`, 'FieldValueTypeInvalid');
    }
    return;
  }
  if (!hasType(schema, value)) {
    const expected = schema['x-kubernetes-int-or-string'] ? 'integer,string' : schema.type;
    invalid(`Invalid value: ${show(value)}: ${field} in body must be of type ${expected}: ${JSON.stringify(typeName(value))}`, 'FieldValueTypeInvalid');
    return;
  }
  if (schema.enum && !schema.enum.some((e) => jsonEqual(e, value))) {
    invalid(`Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}`, 'FieldValueNotSupported');
  }
  if (typeof value === 'string') {
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
      invalid(`Invalid value: ${show(value)}: ${field} in body should match '${schema.pattern}'`);
    }
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) {
      invalid(`Invalid value: ${show(value)}: ${field} in body should be at least ${schema.minLength} chars long`);
    }
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      invalid(`Too long: may not be more than ${schema.maxLength} bytes`, 'FieldValueTooLong');
    }
    formatCheck(schema, value, field, invalid);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && (schema.exclusiveMinimum ? value <= schema.minimum : value < schema.minimum)) {
      invalid(`Invalid value: ${value}: ${field} in body should be greater than ${schema.exclusiveMinimum ? '' : 'or equal to '}${schema.minimum}`);
    }
    if (schema.maximum !== undefined && (schema.exclusiveMaximum ? value >= schema.maximum : value > schema.maximum)) {
      invalid(`Invalid value: ${value}: ${field} in body should be less than ${schema.exclusiveMaximum ? '' : 'or equal to '}${schema.maximum}`);
    }
    if (schema.multipleOf !== undefined && value % schema.multipleOf !== 0) {
      invalid(`Invalid value: ${value}: ${field} in body should be a multiple of ${schema.multipleOf}`);
    }
    if (schema.format === 'int32' && (value < -2147483648 || value > 2147483647)) {
      invalid(`Invalid value: ${value}: ${field} in body must be of type int32`);
    }
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      invalid(`Invalid value: ${value.length}: ${field} in body should have at least ${schema.minItems} items`);
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      invalid(`Too many: ${value.length}: must have at most ${schema.maxItems} items`, 'FieldValueTooMany');
    }
    if (schema.uniqueItems || schema['x-kubernetes-list-type'] === 'set') {
      value.forEach((v, i) => {
        if (value.findIndex((w) => jsonEqual(v, w)) !== i) {
          causes.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${JSON.stringify(v)}` });
        }
      });
    }
    const keys = schema['x-kubernetes-list-map-keys'];
    if (schema['x-kubernetes-list-type'] === 'map' && keys) {
      const seen = new Set<string>();
      value.forEach((v, i) => {
        const id = JSON.stringify(keys.map((k) => (isPlainObject(v) ? v[k] : undefined)));
        if (seen.has(id)) causes.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${JSON.stringify(Object.fromEntries(keys.map((k) => [k, isPlainObject(v) ? v[k] : undefined])))}` });
        seen.add(id);
      });
    }
    if (schema.items) {
      const items = schema.items;
      value.forEach((v, i) => walk(items, v, `${path}[${i}]`, causes));
    }
  }
  if (isPlainObject(value)) {
    for (const req of schema.required ?? []) {
      if (value[req] === undefined) {
        causes.push({ reason: 'FieldValueRequired', field: path ? `${path}.${req}` : req, message: 'Required value' });
      }
    }
    const count = Object.keys(value).length;
    if (schema.minProperties !== undefined && count < schema.minProperties) {
      invalid(`Invalid value: ${count}: ${field} in body should have at least ${schema.minProperties} properties`);
    }
    if (schema.maxProperties !== undefined && count > schema.maxProperties) {
      invalid(`Too many: ${count}: must have at most ${schema.maxProperties} items`, 'FieldValueTooMany');
    }
    for (const [k, v] of Object.entries(value)) {
      const child = path ? `${path}.${k}` : k;
      const propSchema = schema.properties?.[k];
      if (propSchema) walk(propSchema, v, child, causes);
      else if (isPlainObject(schema.additionalProperties)) walk(schema.additionalProperties, v, child, causes);
    }
  }
  for (const sub of schema.allOf ?? []) walk(sub, value, path, causes);
  if (schema.anyOf && !schema.anyOf.some((s) => validateSchema(s, value, path).length === 0)) {
    invalid(`Invalid value: ${show(value)}: ${field} in body must match at least one schema in anyOf`);
  }
  if (schema.oneOf && schema.oneOf.filter((s) => validateSchema(s, value, path).length === 0).length !== 1) {
    invalid(`Invalid value: ${show(value)}: ${field} in body must match exactly one schema in oneOf`);
  }
  if (schema.not && validateSchema(schema.not, value, path).length === 0) {
    invalid(`Invalid value: ${show(value)}: ${field} in body must not match the schema in not`);
  }
}

function formatCheck(schema: JSONSchemaProps, value: string, field: string, invalid: (m: string) => void): void {
  const checks: Record<string, RegExp> = {
    'date-time': /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
    date: /^\d{4}-\d{2}-\d{2}$/,
    ipv4: /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/,
    uuid: /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/,
  };
  const re = schema.format ? checks[schema.format] : undefined;
  if (re && !re.test(value)) invalid(`Invalid value: ${show(value)}: ${field} in body must be of type ${schema.format}: ${show(value)}`);
}
