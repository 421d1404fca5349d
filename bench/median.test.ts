import { describe, expect, it } from '@jest/globals';
import { median } from './median.js';

describe('median', () => {
  it('takes the middle of an odd count and the upper middle of an even one, leaving the input unsorted', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(3);
    expect(median([7])).toBe(7);
  });

  it('refuses no values', () => {
    expect(() => median([])).toThrow('measure at least once');
  });
});
