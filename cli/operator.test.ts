import { describe, expect, it } from '@jest/globals';
import { UsageError } from './command.js';
import { parseOperatorFlags } from './operator.js';

describe('parseOperatorFlags', () => {
  it('has defaults', () => {
    expect(parseOperatorFlags([], {})).toEqual({
      kubeconfig: undefined,
      namespace: 'shopfloor-system',
      vipCidr: '10.250.0.0/16',
      podCidrs: undefined,
      metricsAddress: '127.0.0.1:8080',
      floorAddress: '127.0.0.1:8090',
      leaderElect: true,
      logLevel: 'info',
      nodeLossGraceMs: 60_000,
      workers: 4,
    });
  });

  it('takes the environment, and flags over it', () => {
    const env = { SHOPFLOOR_VIP_CIDR: '10.96.0.0/12', POD_NAMESPACE: 'ops', SHOPFLOOR_LEADER_ELECT: 'false', SHOPFLOOR_METRICS_ADDRESS: 'off' };
    expect(parseOperatorFlags([], env)).toMatchObject({ vipCidr: '10.96.0.0/12', namespace: 'ops', leaderElect: false, metricsAddress: false });
    expect(parseOperatorFlags(['--vip-cidr', '10.20.0.0/24', '--namespace', 'sf', '--node-loss-grace', '5'], env)).toMatchObject({
      vipCidr: '10.20.0.0/24',
      namespace: 'sf',
      nodeLossGraceMs: 5000,
    });
  });

  it('hands out node pod ranges only when given the cluster range', () => {
    expect(parseOperatorFlags(['--cluster-pod-cidr', '10.244.0.0/16'], {}).podCidrs).toEqual({ cluster: { text: '10.244.0.0/16', base: 0x0af40000, size: 65536 }, maskSize: 24 });
    expect(parseOperatorFlags([], { SHOPFLOOR_CLUSTER_POD_CIDR: '10.88.0.0/14', SHOPFLOOR_NODE_CIDR_MASK_SIZE: '26' }).podCidrs?.maskSize).toBe(26);
  });

  it.each([
    [['--vip-cidr', '10.250.0.0'], /--vip-cidr: invalid VIP range "10.250.0.0"/],
    [['--leader-elect', 'yes'], /--leader-elect "yes" must be true or false/],
    [['--log-level', 'loud'], /--log-level "loud" is not a log level/],
    [['--metrics-address', '8080'], /--metrics-address "8080" is not host:port/],
    [['--namespace', 'Bad_NS'], /is not a namespace name/],
    [['--workers', '0'], /--workers "0" must be a whole number/],
    [['--cluster-pod-cidr', '10.244.0.0'], /--cluster-pod-cidr, --node-cidr-mask-size: invalid cluster pod range "10.244.0.0": expected an IPv4 range such as 10.245.0.0\/16/],
    [['--cluster-pod-cidr', '10.244.0.0/16', '--node-cidr-mask-size', '12'], /node pod range size \/12 does not fit the cluster pod range 10.244.0.0\/16: give a prefix length from 16 to 30/],
    [['--node-cidr-mask-size', '31'], /--node-cidr-mask-size "31" must be a whole number from 8 to 30/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOperatorFlags(argv, {})).toThrow(UsageError);
    expect(() => parseOperatorFlags(argv, {})).toThrow(message);
  });

  it('names the variable a bad value came from', () => {
    expect(() => parseOperatorFlags([], { SHOPFLOOR_VIP_CIDR: 'nope' })).toThrow(/^SHOPFLOOR_VIP_CIDR: invalid VIP range/);
  });
});
