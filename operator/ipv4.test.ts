import { describe, expect, it } from '@jest/globals';
import { parseCidr } from './ipv4.js';

describe('parseCidr', () => {
  it('reads a range', () => {
    expect(parseCidr('10.250.0.0/16')).toEqual({ text: '10.250.0.0/16', base: 0x0afa0000, size: 65536 });
  });
  it.each([
    ['10.250.0.0', 'expected an IPv4 range'],
    ['10.250.0.0/33', 'expected an IPv4 range'],
    ['10.256.0.0/16', 'expected an IPv4 range'],
    ['10.250.1.0/16', 'did you mean 10.250.0.0/16?'],
  ])('rejects %s', (text, msg) => {
    expect(() => parseCidr(text)).toThrow(msg);
  });
  it('names the range it reads', () => {
    expect(() => parseCidr('10.244.0.1/16', 'cluster pod range')).toThrow('invalid cluster pod range "10.244.0.1/16": 10.244.0.1 is not the first address of a /16 (did you mean 10.244.0.0/16?)');
  });
});
