import { describe, expect, it } from '@jest/globals';
import { AssumedUsage } from './assumed-usage.js';

const r = { cpuMillis: 100, memoryBytes: 10 };

describe('AssumedUsage', () => {
  it('counts a write and its watch event once', () => {
    const l = new AssumedUsage();
    l.set('ns/a', 'w1', r);
    l.set('ns/a', 'w1', r);
    l.set('ns/b', 'w1', r);
    expect(l.usage().get('w1')).toEqual({ cpuMillis: 200, memoryBytes: 20, pods: 2 });
  });

  it('removes once, and forgets an empty node', () => {
    const l = new AssumedUsage();
    l.set('ns/a', 'w1', r);
    l.remove('ns/a');
    l.remove('ns/a');
    expect(l.usage().size).toBe(0);
  });

  it('moves an entry whose requests changed', () => {
    const l = new AssumedUsage();
    l.set('ns/a', 'w1', r);
    l.set('ns/a', 'w1', { cpuMillis: 300, memoryBytes: 0 });
    expect(l.usage().get('w1')).toEqual({ cpuMillis: 300, memoryBytes: 0, pods: 1 });
  });

  it('moves an entry to another node', () => {
    const l = new AssumedUsage();
    l.set('ns/a', 'w1', r);
    l.set('ns/a', 'w2', r);
    expect(l.usage().get('w1')).toBeUndefined();
    expect(l.usage().get('w2')).toEqual({ cpuMillis: 100, memoryBytes: 10, pods: 1 });
  });

  it('keeps the other assignments of a node when one goes', () => {
    const l = new AssumedUsage();
    l.set('ns/a', 'w1', r);
    l.set('ns/b', 'w1', r);
    l.remove('ns/a');
    expect(l.usage().get('w1')).toEqual({ cpuMillis: 100, memoryBytes: 10, pods: 1 });
  });
});
