import { describe, expect, it } from '@jest/globals';
import { UsageError } from './command.js';
import { parseOperatorFlags } from './operator.js';

describe('parseOperatorFlags', () => {
  it('has defaults', () => {
    expect(parseOperatorFlags([], {})).toEqual({
      kubeconfig: undefined,
      namespace: 'shopfloor-system',
      vipCidr: '10.250.0.0/16',
      metricsAddress: '127.0.0.1:8080',
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

  it.each([
    [['--vip-cidr', '10.250.0.0'], /--vip-cidr: invalid VIP range "10.250.0.0"/],
    [['--leader-elect', 'yes'], /--leader-elect "yes" must be true or false/],
    [['--log-level', 'loud'], /--log-level "loud" is not a log level/],
    [['--metrics-address', '8080'], /--metrics-address "8080" is not host:port/],
    [['--namespace', 'Bad_NS'], /is not a namespace name/],
    [['--workers', '0'], /--workers "0" must be a whole number/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOperatorFlags(argv, {})).toThrow(UsageError);
    expect(() => parseOperatorFlags(argv, {})).toThrow(message);
  });

  it('names the variable a bad value came from', () => {
    expect(() => parseOperatorFlags([], { SHOPFLOOR_VIP_CIDR: 'nope' })).toThrow(/^SHOPFLOOR_VIP_CIDR: invalid VIP range/);
  });
});
