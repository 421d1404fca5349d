import { describe, expect, it } from '@jest/globals';
import { checkRules, ruleProblems } from './schema-rules.js';
import type { JSONSchemaProps } from './schema-types.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      'x-kubernetes-validations': [
        { rule: "self.mode != 'EveryNode' || !has(self.replicas)", fieldPath: '.replicas', message: 'must not be set when mode is EveryNode' },
        { rule: 'self.replicas + 1 <= self.max', message: 'leaves no room for a surge' },
        { rule: 'self.replicas >= oldSelf.replicas || self.mode != oldSelf.mode', reason: 'FieldValueForbidden', message: 'may only scale down with a mode change' },
      ],
      properties: {
        mode: { type: 'string' },
        replicas: { type: 'integer' },
        max: { type: 'integer' },
        ports: { type: 'array', items: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.port > 0' }], properties: { port: { type: 'integer' } } } },
      },
    },
  },
};

const spec = (s: Record<string, unknown>) => ({ spec: { mode: 'Replicas', replicas: 2, max: 5, ...s } });

describe('CEL validation rules', () => {
  it('pass a value that keeps them, with integers as CEL ints', () => {
    expect(checkRules(schema, spec({}), undefined, '')).toEqual([]);
  });

  it('name the rule\'s field (its node plus fieldPath) and give its message', () => {
    expect(checkRules(schema, spec({ mode: 'EveryNode' }), undefined, '')).toEqual([
      { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: must not be set when mode is EveryNode' },
    ]);
    expect(checkRules(schema, spec({ replicas: 5 }), undefined, '')).toEqual([{ reason: 'FieldValueInvalid', field: 'spec', message: 'Invalid value: leaves no room for a surge' }]);
  });

  it('judge a rule on oldSelf only on an update, with the reason it gives', () => {
    expect(checkRules(schema, spec({ replicas: 1 }), undefined, '')).toEqual([]);
    expect(checkRules(schema, spec({ replicas: 1 }), spec({ replicas: 2 }), '')).toEqual([{ reason: 'FieldValueForbidden', field: 'spec', message: 'Forbidden: may only scale down with a mode change' }]);
  });

  it('reach list items, and say "failed rule" where a rule has no message', () => {
    expect(checkRules(schema, spec({ ports: [{ port: 80 }, { port: 0 }] }), undefined, '')).toEqual([{ reason: 'FieldValueInvalid', field: 'spec.ports[1]', message: 'Invalid value: failed rule: self.port > 0' }]);
  });

  it('report a rule that cannot be evaluated on a value instead of throwing', () => {
    const causes = checkRules(schema, { spec: { mode: 'Replicas', replicas: 2 } }, undefined, '');
    expect(causes).toEqual([{ reason: 'FieldValueInvalid', field: 'spec', message: expect.stringMatching(/^Invalid value: rule "self.replicas \+ 1 <= self.max" could not be evaluated: /) }]);
  });
});

describe('the rules of a CRD schema', () => {
  it('must parse, and say only what the devcluster evaluates', () => {
    const bad: JSONSchemaProps = {
      type: 'object',
      properties: { spec: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a ==' }, { rule: 'true', messageExpression: "'x'", fieldPath: 'a', reason: 'Nope' }] } },
    };
    const fields = ruleProblems(bad, 'spec.versions[0].schema.openAPIV3Schema').map((c) => [c.field, c.message.split(':')[0]]);
    expect(fields).toEqual([
      ['spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule', 'Invalid value'],
      ['spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].messageExpression', 'Forbidden'],
      ['spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].fieldPath', 'Invalid value'],
      ['spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[1].reason', 'Unsupported value'],
    ]);
    expect(ruleProblems(schema, '')).toEqual([]);
  });
});
