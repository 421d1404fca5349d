import { describe, expect, it } from '@jest/globals';
import { checkWorkload } from './workload-spec.js';

const valid = {
  apiVersion: 'shopfloor.dev/v1alpha1',
  kind: 'NodeWorkload',
  metadata: { name: 'web', namespace: 'default', generation: 1 },
  spec: { placement: { mode: 'Replicas', replicas: 2 }, template: { containers: [{ name: 'web', image: 'busybox:1.36' }] } },
};

describe('checkWorkload', () => {
  it('accepts a valid workload and fills defaults', () => {
    const r = checkWorkload(valid);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.spec.template.restartPolicy).toBe('Always');
  });

  it('checks an object once, and a changed copy again', () => {
    const r = checkWorkload(valid);
    expect(checkWorkload(valid)).toBe(r);
    const changed = checkWorkload({ ...valid, spec: { ...valid.spec, placement: { mode: 'Replicas', replicas: 3 } } });
    expect(changed).not.toBe(r);
    expect(changed.ok && changed.spec.placement.replicas).toBe(3);
  });

  it('names the field that got past the schema', () => {
    const r = checkWorkload({ ...valid, spec: { ...valid.spec, placement: { mode: 'Replicas' } } });
    expect(r).toEqual({ ok: false, errors: ['spec.placement.replicas: is required when mode is Replicas'] });
  });

  it.each([0, '0%'])('rejects maxUnavailable %s, which would block every update', (mu) => {
    const r = checkWorkload({ ...valid, spec: { ...valid.spec, updateStrategy: { maxUnavailable: mu } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]).toMatch(/^spec\.updateStrategy\.maxUnavailable: must be .*0 would block every update/);
  });
});
