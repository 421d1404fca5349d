import { describe, expect, it } from '@jest/globals';
import { describeDifference, differences, normalise, normaliseText } from './fidelity-compare.js';

describe('fidelity comparison', () => {
  it('masks uids, resourceVersions, continue tokens and timestamps at any depth', () => {
    const answer = {
      metadata: {
        uid: '0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0',
        resourceVersion: '42',
        creationTimestamp: '2026-12-04T00:31:02Z',
        managedFields: [{ manager: 'kubectl', time: '2026-12-04T00:31:02Z' }],
        ownerReferences: [{ name: 'o', uid: 'x' }],
      },
      list: { resourceVersion: '', continue: 'eyJ2Ijo' },
    };
    expect(normalise(answer)).toEqual({
      metadata: { uid: '<uid>', resourceVersion: '<rv>', creationTimestamp: '<time>', managedFields: [{ manager: 'kubectl', time: '<time>' }], ownerReferences: [{ name: 'o', uid: '<uid>' }] },
      list: { resourceVersion: '', continue: '<continue>' },
    });
  });

  it('masks ages, uids and timestamps in kubectl text but leaves other numbers, and sorts its field error lines', () => {
    expect(normaliseText('NAME   DATA   AGE\ncfg    2      5s\nold    1      2m10s\n')).toBe('NAME   DATA   AGE\ncfg    2      <age>\nold    1      <age>\n');
    expect(normaliseText('The NodeWorkload "bad" is invalid: \n* spec.b: Required value\n* spec.a: Invalid\nnext\n')).toBe('The NodeWorkload "bad" is invalid: \n* spec.a: Invalid\n* spec.b: Required value\nnext\n');
    expect(normaliseText('uid 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0 at 2026-12-04T00:31:02.123456Z, port 8080')).toBe('uid <uid> at <time>, port 8080');
  });

  it('finds nothing between equal answers', () => {
    expect(differences({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toEqual([]);
  });

  it('names a key only one side has, and unlike values, by path', () => {
    expect(differences({ code: 422, reason: 'Invalid', details: { x: 1 } }, { code: 400, reason: 'Invalid', message: 'm' })).toEqual([
      { path: '.code', kind: 'value', devcluster: 422, kubeApiserver: 400 },
      { path: '.details', kind: 'only-devcluster', devcluster: { x: 1 } },
      { path: '.message', kind: 'only-kube-apiserver', kubeApiserver: 'm' },
    ]);
  });

  it('reports a list of the same items in another order once, as an ordering difference', () => {
    expect(differences({ f: ['a', 'b', { c: 1 }] }, { f: [{ c: 1 }, 'a', 'b'] })).toEqual([
      { path: '.f', kind: 'order', devcluster: ['a', 'b', { c: 1 }], kubeApiserver: [{ c: 1 }, 'a', 'b'] },
    ]);
    expect(differences(['a', 'a', 'b'], ['a', 'b', 'b'])).toEqual([
      { path: '[1]', kind: 'value', devcluster: 'a', kubeApiserver: 'b' },
    ]);
    expect(differences(['a'], ['a', 'b'])).toEqual([{ path: '', kind: 'value', devcluster: ['a'], kubeApiserver: ['a', 'b'] }]);
  });

  it('describes each kind of difference in one line', () => {
    expect(describeDifference({ path: '.code', kind: 'value', devcluster: 401, kubeApiserver: 403 })).toBe('.code: devcluster 401, kube-apiserver 403');
    expect(describeDifference({ path: '', kind: 'only-kube-apiserver', kubeApiserver: 1 })).toBe('<answer>: only kube-apiserver has it: 1');
    expect(describeDifference({ path: '.f', kind: 'order', devcluster: ['a', 'b'], kubeApiserver: ['b', 'a'] })).toBe('.f: same items, another order: devcluster ["a","b"], kube-apiserver ["b","a"]');
  });
});
