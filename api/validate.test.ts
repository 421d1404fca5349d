import { describe, expect, it } from '@jest/globals';
import { ValidationError, describeValue, formatPath, validateNodeAgent, validateNodeAssignment, validateNodeWorkload } from './validate.js';

describe('root-level input', () => {
  it.each([
    [null, 'null'],
    [undefined, 'nothing'],
    ['apiVersion: shopfloor.dev/v1alpha1', 'the string "apiVersion: shopfloor.dev/v1alpha1"'],
    [[], 'a list'],
    [42, 'the number 42'],
  ])('%p says a NodeWorkload object is expected', (input, got) => {
    expect(validateNodeWorkload(input)).toEqual({
      ok: false,
      errors: [{ path: '(root)', message: `expected a NodeWorkload object (apiVersion, kind, metadata, spec), not ${got}` }],
    });
  });

  it('names the kind each validator expects', () => {
    expect(validateNodeAssignment(null)).toMatchObject({ ok: false, errors: [{ path: '(root)', message: expect.stringMatching(/^expected a NodeAssignment object/) }] });
    expect(validateNodeAgent('x')).toMatchObject({ ok: false, errors: [{ path: '(root)', message: expect.stringMatching(/^expected a NodeAgent object/) }] });
  });

  it('an empty object lists every required top-level field', () => {
    expect(validateNodeWorkload({})).toEqual({
      ok: false,
      errors: [
        { path: 'apiVersion', message: 'must be shopfloor.dev/v1alpha1' },
        { path: 'kind', message: 'must be NodeWorkload' },
        { path: 'metadata', message: 'is required (an object)' },
        { path: 'spec', message: 'is required (an object)' },
      ],
    });
  });
});

describe('field errors', () => {
  const workload = (spec: unknown) => ({ apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name: 'w' }, spec });

  it('say what the field must be and what it got, instead of zod\'s wording', () => {
    const r = validateNodeWorkload(workload({ placement: null, template: { containers: [{ name: 'a', image: 'b', args: [1] }] } }));
    expect(r).toEqual({
      ok: false,
      errors: [
        { path: 'spec.placement', message: 'must be an object, not null' },
        { path: 'spec.template.containers[0].args[0]', message: 'must be a string, not the number 1' },
      ],
    });
  });

  it('report fields the schema does not know, pointing at kubectl explain', () => {
    const r = validateNodeWorkload(workload({ placement: { replicas: 1 }, template: { containers: [{ name: 'a', image: 'b', imagePullPolcy: 'Always' }] }, servce: {} }));
    expect(r).toEqual({
      ok: false,
      errors: [
        { path: 'spec.template.containers[0].imagePullPolcy', message: 'unknown field: `kubectl explain nodeworkload.spec.template.containers` lists the fields allowed here' },
        { path: 'spec.servce', message: 'unknown field: `kubectl explain nodeworkload.spec` lists the fields allowed here' },
      ],
    });
  });

  it('report unknown fields beside the other errors, in one pass', () => {
    const r = validateNodeWorkload(workload({ placement: { mode: 'All', replcas: 2 }, template: { containers: [{ name: 'a', image: 'b', port: [] }] } }));
    expect(r).toEqual({
      ok: false,
      errors: [
        { path: 'spec.placement.mode', message: 'must be one of Replicas, EveryNode' },
        { path: 'spec.placement.replcas', message: 'unknown field: `kubectl explain nodeworkload.spec.placement` lists the fields allowed here' },
        { path: 'spec.template.containers[0].port', message: 'unknown field: `kubectl explain nodeworkload.spec.template.containers` lists the fields allowed here' },
      ],
    });
  });

  it('leave free-form maps alone: labels, annotations and the rest of metadata', () => {
    const r = validateNodeWorkload({
      ...workload({ placement: { replicas: 1 }, template: { labels: { 'app.kubernetes.io/name': 'w' }, containers: [{ name: 'a', image: 'b' }] } }),
      metadata: { name: 'w', labels: { any: 'thing' }, annotations: { 'x/y': 'z' }, creationTimestamp: '2026-01-01T00:00:00Z', managedFields: [] },
    });
    expect(r.ok).toBe(true);
  });
});

describe('formatting', () => {
  it('formatPath writes paths as kubectl prints them', () => {
    expect(formatPath(['spec', 'template', 'containers', 0, 'ports', 1, 'name'])).toBe('spec.template.containers[0].ports[1].name');
    expect(formatPath([])).toBe('(root)');
  });

  it('describeValue names values the way errors quote them', () => {
    expect(describeValue('x'.repeat(50))).toBe(`the string "${'x'.repeat(40)}…"`);
    expect(describeValue(true)).toBe('true');
    expect(describeValue({})).toBe('an object');
  });

  it('ValidationError carries every field error in its message', () => {
    const e = new ValidationError([{ path: 'spec.placement.replicas', message: 'is required when mode is Replicas' }, { path: 'kind', message: 'must be NodeWorkload' }], 'NodeWorkload default/web');
    expect(e.message).toBe('invalid NodeWorkload default/web: spec.placement.replicas: is required when mode is Replicas; kind: must be NodeWorkload');
    expect(e.errors).toHaveLength(2);
  });
});
