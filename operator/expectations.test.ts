import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../kube/types.js';
import { Expectations } from './expectations.js';

const obj = (name: string): KubeObject => ({ metadata: { namespace: 'ns', name } });
const names = (xs: KubeObject[]) => xs.map((x) => x.metadata?.name).sort();

describe('Expectations', () => {
  it('adds creates the cache has not seen and hides deletes it has not seen', () => {
    const p = new Expectations<KubeObject>(() => 0);
    p.expectCreate('ns/web', obj('b'));
    p.expectDelete('ns/web', 'ns/a');
    expect(names(p.view('ns/web', [obj('a'), obj('c')]))).toEqual(['b', 'c']);
    expect(names(p.view('ns/other', []))).toEqual([]);
  });

  it('stops overlaying once the watch caught up', () => {
    const p = new Expectations<KubeObject>(() => 0);
    p.expectCreate('ns/web', obj('b'));
    p.observedPresent('ns/b');
    expect(names(p.view('ns/web', []))).toEqual([]);
    p.expectDelete('ns/web', 'ns/a');
    p.observedGone('ns/a');
    expect(names(p.view('ns/web', [obj('a')]))).toEqual(['a']);
  });

  it('shows an object again whose delete failed', () => {
    const p = new Expectations<KubeObject>(() => 0);
    p.expectDelete('ns/web', 'ns/a');
    p.deleteFailed('ns/a');
    expect(names(p.view('ns/web', [obj('a')]))).toEqual(['a']);
  });

  it('shows a deleted object again once the cache has it terminating (held by a finalizer)', () => {
    const p = new Expectations<KubeObject>(() => 0);
    p.expectDelete('ns/web', 'ns/a');
    expect(names(p.view('ns/web', [obj('a')]))).toEqual([]);
    const terminating = { metadata: { namespace: 'ns', name: 'a', deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(names(p.view('ns/web', [terminating]))).toEqual(['a']);
  });

  it('keeps expectations for their time to live, then trusts the cache again', () => {
    let now = 0;
    const p = new Expectations<KubeObject>(() => now, 1000);
    p.expectCreate('ns/web', obj('b'));
    p.expectDelete('ns/web', 'ns/a');
    now = 999;
    expect(names(p.view('ns/web', [obj('a')]))).toEqual(['b']);
    now = 1000;
    expect(names(p.view('ns/web', [obj('a')]))).toEqual(['a']);
  });

  it('forgets a create that failed', () => {
    const p = new Expectations<KubeObject>(() => 0);
    p.expectCreate('ns/web', obj('b'));
    p.createFailed('ns/b');
    expect(names(p.view('ns/web', []))).toEqual([]);
  });

  it('no longer shows an object it created once it deletes it', () => {
    const p = new Expectations<KubeObject>(() => 0);
    p.expectCreate('ns/web', obj('b'));
    p.expectDelete('ns/web', 'ns/b');
    expect(names(p.view('ns/web', []))).toEqual([]);
  });

  it('does not list an object twice when the cache already has it', () => {
    const p = new Expectations<KubeObject>(() => 0);
    p.expectCreate('ns/web', obj('b'));
    expect(names(p.view('ns/web', [obj('b')]))).toEqual(['b']);
  });
});
