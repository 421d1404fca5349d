import { describe, expect, it } from '@jest/globals';
import { UsageLedger } from './usage-ledger.js';

const r = { cpuMillis: 100, memoryBytes: 10 };

describe('UsageLedger', () => {
  it('counts a write and its watch event once', () => {
    const l = new UsageLedger();
    l.set('ns/a', 'w1', r);
    l.set('ns/a', 'w1', r);
    l.set('ns/b', 'w1', r);
    expect(l.usage().get('w1')).toEqual({ cpuMillis: 200, memoryBytes: 20, pods: 2 });
  });

  it('removes once, and forgets an empty node', () => {
    const l = new UsageLedger();
    l.set('ns/a', 'w1', r);
    l.remove('ns/a');
    l.remove('ns/a');
    expect(l.usage().size).toBe(0);
  });

  it('moves an entry whose requests changed', () => {
    const l = new UsageLedger();
    l.set('ns/a', 'w1', r);
    l.set('ns/a', 'w1', { cpuMillis: 300, memoryBytes: 0 });
    expect(l.usage().get('w1')).toEqual({ cpuMillis: 300, memoryBytes: 0, pods: 1 });
  });
});
