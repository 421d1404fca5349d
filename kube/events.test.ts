import { describe, expect, it } from '@jest/globals';
import { eventName } from './events.js';

describe('eventName', () => {
  it('keeps every nanosecond digit, so events in the same millisecond get different names', () => {
    const t = Date.UTC(2026, 10, 24, 14, 0, 0, 123);
    const a = eventName('web', t, 1);
    const b = eventName('web', t, 2);
    expect(a).not.toBe(b);
    expect(a).toBe(`web.${(BigInt(t) * 1_000_000n + 1n).toString(16)}`);
  });
});
