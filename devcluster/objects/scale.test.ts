import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from './object.js';
import { readScale, scaleOf, scalePathProblems, scaleValueProblems, withReplicas } from './scale.js';

const paths = { specReplicasPath: '.spec.placement.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };
const object = (spec: unknown, status?: unknown): KubeObject => ({ apiVersion: 'x.dev/v1', kind: 'Thing', metadata: { name: 'web', namespace: 'ns', uid: 'u', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z' }, spec, ...(status ? { status } : {}) }) as KubeObject;

describe('the scale subresource', () => {
  it('reads replicas and the selector from the paths, counting absent ones as 0', () => {
    expect(scaleOf(object({ placement: { replicas: 3 } }, { replicas: 2, selector: 'app=web' }), paths)).toEqual({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: 'web', namespace: 'ns', uid: 'u', resourceVersion: '7', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { replicas: 3 },
      status: { replicas: 2, selector: 'app=web' },
    });
    expect(scaleOf(object({ placement: {} }), paths)).toMatchObject({ spec: {}, status: { replicas: 0 } });
  });

  it('writes replicas at the spec path, creating the objects on the way, and refuses to write through a non-object', () => {
    expect(withReplicas(object({}), paths, 4).spec).toEqual({ placement: { replicas: 4 } });
    expect(() => withReplicas(object({ placement: 'all' }), paths, 4)).toThrow('.spec.placement is not an object');
  });

  it('takes a Scale of 32-bit whole replicas for the object it names', () => {
    expect(readScale({ kind: 'Scale', metadata: { name: 'web', resourceVersion: '9' }, spec: { replicas: -1 } }, 'web')).toEqual({ replicas: -1, resourceVersion: '9' });
    expect(() => readScale({ spec: { replicas: 1.5 } }, 'web')).toThrow('spec.replicas: 1.5 is not a 32-bit whole number');
    expect(() => readScale({ metadata: { name: 'api' }, spec: {} }, 'web')).toThrow('does not match the name on the URL');
    expect(() => readScale({ kind: 'Deployment' }, 'web')).toThrow('must be a Scale');
  });

  it('needs paths under .spec and .status', () => {
    expect(scalePathProblems(paths, 'f')).toEqual([]);
    expect(scalePathProblems({ specReplicasPath: '.status.replicas', labelSelectorPath: '.a[0]' }, 'f').map((c) => c.field)).toEqual(['f.specReplicasPath', 'f.statusReplicasPath', 'f.labelSelectorPath']);
  });
});

describe('the replicas of a resource with a scale subresource', () => {
  it('are non-negative 32-bit integers and the selector a string, named by their paths', () => {
    expect(scaleValueProblems(object({ placement: { replicas: 2 } }, { replicas: 1, selector: 'a=b' }), paths)).toEqual([]);
    expect(scaleValueProblems(object({ placement: {} }), paths)).toEqual([]);
    expect(scaleValueProblems(object({ placement: { replicas: -1 } }, { replicas: 2 ** 31, selector: 3 }), paths)).toEqual([
      { reason: 'FieldValueInvalid', field: '.spec.placement.replicas', message: 'Invalid value: -1: should be a non-negative integer' },
      { reason: 'FieldValueInvalid', field: '.status.replicas', message: 'Invalid value: 2147483648: should be less than or equal to 2147483647' },
      { reason: 'FieldValueInvalid', field: '.status.selector', message: 'Invalid value: 3: should be a string' },
    ]);
  });
});
