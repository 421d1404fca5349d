import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../kube/types.js';
import { PendingWrites } from './pending-writes.js';

const obj = (name: string): KubeObject => ({ metadata: { namespace: 'ns', name } });
const names = (xs: KubeObject[]) => xs.map((x) => x.metadata?.name).sort();

describe('PendingWrites', () => {
  it('adds creates the cache has not seen and hides deletes it has not seen', () => {
    const p = new PendingWrites<KubeObject>(() => 0);
    p.recordCreate('ns/web', obj('b'));
    p.recordDelete('ns/web', 'ns/a');
    expect(names(p.view('ns/web', [obj('a'), obj('c')]))).toEqual(['b', 'c']);
    expect(names(p.view('ns/other', []))).toEqual([]);
  });

  it('stops overlaying once the watch caught up', () => {
    const p = new PendingWrites<KubeObject>(() => 0);
    p.recordCreate('ns/web', obj('b'));
    p.observedPresent('ns/b');
    expect(names(p.view('ns/web', []))).toEqual([]);
    p.recordDelete('ns/web', 'ns/a');
    p.observedGone('ns/a');
    expect(names(p.view('ns/web', [obj('a')]))).toEqual(['a']);
  });

  it('shows an object again whose delete failed', () => {
    const p = new PendingWrites<KubeObject>(() => 0);
    p.recordDelete('ns/web', 'ns/a');
    p.forgetDelete('ns/a');
    expect(names(p.view('ns/web', [obj('a')]))).toEqual(['a']);
  });

  it('shows a deleted object again once the cache has it terminating (held by a finalizer)', () => {
    const p = new PendingWrites<KubeObject>(() => 0);
    p.recordDelete('ns/web', 'ns/a');
    expect(names(p.view('ns/web', [obj('a')]))).toEqual([]);
    const terminating = { metadata: { namespace: 'ns', name: 'a', deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(names(p.view('ns/web', [terminating]))).toEqual(['a']);
  });

  it('trusts the cache again after the time to live', () => {
    let now = 0;
    const p = new PendingWrites<KubeObject>(() => now, 1000);
    p.recordCreate('ns/web', obj('b'));
    p.recordDelete('ns/web', 'ns/a');
    now = 1000;
    expect(names(p.view('ns/web', [obj('a')]))).toEqual(['a']);
  });

  it('does not list an object twice when the cache already has it', () => {
    const p = new PendingWrites<KubeObject>(() => 0);
    p.recordCreate('ns/web', obj('b'));
    expect(names(p.view('ns/web', [obj('b')]))).toEqual(['b']);
  });
});
