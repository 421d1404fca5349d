import { describe, expect, it } from '@jest/globals';
import { applyDefaults } from './schema-defaults.js';
import { prune } from './schema-pruning.js';
import type { JSONSchemaProps } from './schema-types.js';
import { validateSchema } from './schema-validation.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['mode'],
      properties: {
        mode: { type: 'string', enum: ['Replicas', 'EveryNode'] },
        replicas: { type: 'integer', minimum: 0, maximum: 10, default: 1 },
        name: { type: 'string', pattern: '^[a-z]+$', minLength: 2, maxLength: 5 },
        port: { 'x-kubernetes-int-or-string': true },
        tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 2 },
        note: { type: 'string', nullable: true },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        probe: { type: 'object', properties: { periodSeconds: { type: 'integer', default: 10 } } },
      },
    },
  },
};

describe('structural schema validation', () => {
  it('accepts a valid object', () => {
    expect(validateSchema(schema, { spec: { mode: 'Replicas', replicas: 3, name: 'abc', port: 'http', tags: ['a'], note: null } })).toEqual([]);
  });

  it('names every bad field with kube-apiserver wording', () => {
    const causes = validateSchema(schema, { spec: { mode: 'Sometimes', replicas: 11, name: 'A', port: 1.5, tags: [], labels: { a: 1 } } });
    expect(causes).toEqual(expect.arrayContaining([
      { reason: 'FieldValueNotSupported', field: 'spec.mode', message: 'Unsupported value: "Sometimes": supported values: "Replicas", "EveryNode"' },
      { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: 11: spec.replicas in body should be less than or equal to 10' },
      { reason: 'FieldValueInvalid', field: 'spec.name', message: 'Invalid value: "A": spec.name in body should match \'^[a-z]+$\'' },
      { reason: 'FieldValueInvalid', field: 'spec.name', message: 'Invalid value: "A": spec.name in body should be at least 2 chars long' },
      { reason: 'FieldValueTypeInvalid', field: 'spec.port', message: 'Invalid value: 1.5: spec.port in body must be of type integer,string: "number"' },
      { reason: 'FieldValueInvalid', field: 'spec.tags', message: 'Invalid value: 0: spec.tags in body should have at least 1 items' },
      { reason: 'FieldValueTypeInvalid', field: 'spec.labels.a', message: 'Invalid value: 1: spec.labels.a in body must be of type string: "integer"' },
    ]));
    expect(causes).toHaveLength(7);
  });

  it('reports missing required fields and null where null is not allowed', () => {
    expect(validateSchema(schema, { spec: { name: null } })).toEqual([
      { reason: 'FieldValueRequired', field: 'spec.mode', message: 'Required value' },
      { reason: 'FieldValueTypeInvalid', field: 'spec.name', message: 'Invalid value: "null": spec.name in body must be of type string: "null"' },
    ]);
  });
});

describe('defaulting', () => {
  it('fills absent fields, recursing into objects that exist', () => {
    const value = { spec: { mode: 'Replicas', probe: {} } };
    applyDefaults(schema, value);
    expect(value).toEqual({ spec: { mode: 'Replicas', replicas: 1, probe: { periodSeconds: 10 } } });
  });
});

describe('pruning', () => {
  it('drops unknown fields, keeps preserved ones and root type meta, and reports their paths', () => {
    const value = { apiVersion: 'v', kind: 'K', metadata: { name: 'x' }, spec: { mode: 'Replicas', bogus: 1, extra: { any: { thing: 1 } }, labels: { a: 'b' } }, top: 1 };
    expect(prune(schema, value)).toEqual(['spec.bogus', 'top']);
    expect(value).toEqual({ apiVersion: 'v', kind: 'K', metadata: { name: 'x' }, spec: { mode: 'Replicas', extra: { any: { thing: 1 } }, labels: { a: 'b' } } });
  });
});
