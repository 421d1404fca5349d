import { describe, expect, it } from '@jest/globals';
import { labelValueProblem, qualifiedNameProblems } from './label-syntax.js';

describe('label syntax', () => {
  it('takes qualified names with and without a prefix', () => {
    for (const key of ['app', 'shopfloor.dev/workload', 'a.b-c_d', 'x'.repeat(63), `${'p'.repeat(253)}/n`]) expect([key, qualifiedNameProblems(key)]).toEqual([key, []]);
  });

  it('says which part of a key is wrong, as kube-apiserver does', () => {
    expect(qualifiedNameProblems('k'.repeat(64))).toEqual(['name part must be no more than 63 bytes']);
    expect(qualifiedNameProblems('-app')).toEqual(["name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"]);
    expect(qualifiedNameProblems('/app')).toEqual(['prefix part must be non-empty']);
    expect(qualifiedNameProblems('Example.com/app')[0]).toMatch(/^prefix part a lowercase RFC 1123 subdomain/);
    expect(qualifiedNameProblems('example.com/')).toEqual(['name part must be non-empty']);
  });

  it('takes empty and ordinary values, and refuses long or badly bounded ones', () => {
    expect(labelValueProblem('')).toBeUndefined();
    expect(labelValueProblem('v1.2_3-x')).toBeUndefined();
    expect(labelValueProblem('v'.repeat(64))).toBe('must be no more than 63 bytes');
    expect(labelValueProblem('v-')).toMatch(/^a valid label must be an empty string/);
  });
});
