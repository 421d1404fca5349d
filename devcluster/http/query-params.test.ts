import { describe, expect, it } from '@jest/globals';
import { flagParam, intParam, parseResourceVersion } from './query-params.js';

const q = (text: string): URLSearchParams => new URLSearchParams(text);

describe('query parameters', () => {
  it('reads a boolean as false only when absent, "0" or "false" in any case', () => {
    for (const text of ['watch=true', 'watch=True', 'watch=t', 'watch=1', 'watch=', 'watch=no']) expect([text, flagParam(q(text), 'watch')]).toEqual([text, true]);
    for (const text of ['', 'watch=false', 'watch=FALSE', 'watch=fAlSe', 'watch=0']) expect([text, flagParam(q(text), 'watch')]).toEqual([text, false]);
  });

  it('refuses a number that does not parse, naming the parameter', () => {
    expect(intParam(q('timeoutSeconds=30'), 'timeoutSeconds')).toBe(30);
    expect(intParam(q(''), 'timeoutSeconds')).toBeUndefined();
    expect(() => intParam(q('timeoutSeconds=abc'), 'timeoutSeconds')).toThrow('timeoutSeconds: invalid value "abc": must be a non-negative integer');
  });

  it('refuses a resourceVersion beyond 64 bits with 400, and one beyond any etcd revision with 504', () => {
    expect(parseResourceVersion('42', 'resourceVersion')).toBe(42);
    expect(parseResourceVersion('', 'resourceVersion')).toBeUndefined();
    expect(() => parseResourceVersion('abc', 'resourceVersion')).toThrow(expect.objectContaining({ code: 400, message: 'resourceVersion: invalid resource version "abc": must be an unsigned 64-bit integer' }));
    expect(() => parseResourceVersion('18446744073709551616', 'resourceVersion')).toThrow(expect.objectContaining({ code: 400 }));
    expect(() => parseResourceVersion('18446744073709551615', 'resourceVersion')).toThrow(expect.objectContaining({ code: 504, message: 'Too large resource version: 18446744073709551615' }));
  });
});
