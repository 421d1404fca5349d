import { describe, expect, it } from '@jest/globals';
import { shorten } from './shorten.js';

describe('shorten', () => {
  it('keeps text that fits and cuts the rest to the limit, ending in "..."', () => {
    expect(shorten('abcde', 5)).toBe('abcde');
    expect(shorten('abcdef', 5)).toBe('ab...');
  });
});
