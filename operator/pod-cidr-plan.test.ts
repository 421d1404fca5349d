import { describe, expect, it } from '@jest/globals';
import { planPodCidrs, podCidrRange } from './pod-cidr-plan.js';

const range = podCidrRange('10.244.0.0/22', 24);

describe('planPodCidrs', () => {
  it('gives each node that asks the lowest free subnet, in name order', () => {
    expect(planPodCidrs([{ name: 'b', podCIDR: undefined }, { name: 'a', podCIDR: undefined }, { name: 'c', podCIDR: '10.244.0.0/24' }], range)).toEqual({
      allocate: [
        { node: 'a', podCIDR: '10.244.1.0/24' },
        { node: 'b', podCIDR: '10.244.2.0/24' },
      ],
      exhausted: [],
      overlapping: [],
    });
  });

  it('never hands out a subnet that a range held by hand overlaps, in part or whole', () => {
    const nodes = [{ name: 'wide', podCIDR: '10.244.0.0/23' }, { name: 'narrow', podCIDR: '10.244.2.128/25' }, { name: 'new', podCIDR: undefined }];
    expect(planPodCidrs(nodes, range).allocate).toEqual([{ node: 'new', podCIDR: '10.244.3.0/24' }]);
  });

  it('ignores ranges outside the cluster range and values that are no range', () => {
    const nodes = [{ name: 'elsewhere', podCIDR: '10.88.0.0/16' }, { name: 'garbled', podCIDR: 'ten/24' }, { name: 'new', podCIDR: undefined }];
    expect(planPodCidrs(nodes, range).allocate).toEqual([{ node: 'new', podCIDR: '10.244.0.0/24' }]);
  });

  it('says which nodes found the range full', () => {
    const held = [0, 1, 2].map((i) => ({ name: `n${i}`, podCIDR: `10.244.${i}.0/24` }));
    expect(planPodCidrs([...held, { name: 'x', podCIDR: undefined }, { name: 'y', podCIDR: undefined }], range)).toEqual({ allocate: [{ node: 'x', podCIDR: '10.244.3.0/24' }], exhausted: ['y'], overlapping: [] });
  });

  it('asks for nothing when every node has its range', () => {
    expect(planPodCidrs([{ name: 'a', podCIDR: '10.244.0.0/24' }], range)).toEqual({ allocate: [], exhausted: [], overlapping: [] });
  });

  it('names the nodes whose ranges overlap, inside the cluster range or not', () => {
    const nodes = [{ name: 'given', podCIDR: '10.244.0.0/23' }, { name: 'handed', podCIDR: '10.244.1.0/24' }, { name: 'far', podCIDR: '10.88.0.0/16' }, { name: 'far2', podCIDR: '10.88.5.0/24' }, { name: 'alone', podCIDR: '10.244.2.0/24' }];
    expect(planPodCidrs(nodes, range).overlapping).toEqual([
      { node: 'far', podCIDR: '10.88.0.0/16', with: 'far2' },
      { node: 'far2', podCIDR: '10.88.5.0/24', with: 'far' },
      { node: 'given', podCIDR: '10.244.0.0/23', with: 'handed' },
      { node: 'handed', podCIDR: '10.244.1.0/24', with: 'given' },
    ]);
  });
});

describe('podCidrRange', () => {
  it('refuses a node size that does not fit the cluster range', () => {
    expect(() => podCidrRange('10.244.0.0/16', 8)).toThrow('node pod range size /8 does not fit the cluster pod range 10.244.0.0/16: give a prefix length from 16 to 30');
    expect(() => podCidrRange('10.244.0.0/16', 31)).toThrow('from 16 to 30');
  });
});
