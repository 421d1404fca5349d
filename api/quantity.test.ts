import { describe, expect, it } from '@jest/globals';
import { cpuMillis, isQuantity, memoryBytes, parseQuantity } from './quantity.js';

describe('parseQuantity', () => {
  it.each([
    ['500m', 0.5],
    ['1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['+2', 2],
    ['2k', 2000],
    ['3M', 3e6],
    ['1G', 1e9],
    ['1Ki', 1024],
    ['128Mi', 128 * 2 ** 20],
    ['2Gi', 2 * 2 ** 30],
    ['1Ti', 2 ** 40],
    ['1e3', 1000],
    ['1E-3', 0.001],
    [0, 0],
    [4, 4],
  ])('%p is %p', (q, v) => {
    expect(parseQuantity(q)).toBeCloseTo(v, 12);
    expect(isQuantity(q)).toBe(true);
  });

  it.each(['', ' 1', '1 ', '1 core', '-1', '1.5.5', 'Mi', '1mi', '1KB', '1Kib', 'e3', '0x10', -1, Number.NaN, Number.POSITIVE_INFINITY])('%p is not a quantity', (q) => {
    expect(parseQuantity(q)).toBeUndefined();
    expect(isQuantity(q)).toBe(false);
  });
});

describe('cpuMillis', () => {
  it.each([
    ['500m', 500],
    ['0.1', 100],
    ['1', 1000],
    [2, 2000],
    ['1.0001', 1001],
    ['0.0001', 1],
    ['250m', 250],
  ])('%p is %p millicores, rounded up', (q, m) => expect(cpuMillis(q)).toBe(m));

  it('names the bad value and what is allowed', () => {
    expect(() => cpuMillis('half')).toThrow(/invalid cpu quantity "half": expected a Kubernetes quantity/);
  });
});

describe('memoryBytes', () => {
  it.each([
    ['128Mi', 134217728],
    ['1G', 1e9],
    ['1.5Ki', 1536],
    ['0.1', 1],
    [1024, 1024],
    ['1e6', 1e6],
  ])('%p is %p bytes', (q, b) => expect(memoryBytes(q)).toBe(b));

  it('names the bad value and what is allowed', () => {
    expect(() => memoryBytes('64MB')).toThrow(/invalid memory quantity "64MB": expected a Kubernetes quantity/);
  });
});
