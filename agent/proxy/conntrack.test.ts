import { describe, expect, it } from '@jest/globals';
import { conntrackDeleteArgs } from './conntrack.js';

describe('conntrackDeleteArgs', () => {
  it('matches UDP flows by original destination and the endpoint they were translated to', () => {
    expect(conntrackDeleteArgs({ vip: '10.96.0.53', port: 53, endpointIP: '10.1.0.5' })).toEqual([
      '-D', '-p', 'udp', '--orig-dst', '10.96.0.53', '--orig-port-dst', '53', '--dst-nat', '10.1.0.5',
    ]);
    expect(conntrackDeleteArgs({ port: 30053, endpointIP: '10.1.0.5' })).toEqual(['-D', '-p', 'udp', '--orig-port-dst', '30053', '--dst-nat', '10.1.0.5']);
  });
});
