import { describe, expect, it } from '@jest/globals';
import { parseAgentFlags } from './agent.js';
import { UsageError } from './command.js';
import { parseOperatorFlags } from './operator.js';
import { parseUpFlags } from './up.js';

const host = { hostname: 'n1', addresses: () => ['192.168.1.10'] };

/** The message a parse throws. */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('the flags were accepted');
}

describe('parseUpFlags', () => {
  it('has the defaults of the commands it starts', () => {
    expect(parseUpFlags([])).toEqual({
      'data-dir': '.shopfloor',
      'api-server': { name: 'devcluster' },
      port: 6443,
      'vip-cidr': parseOperatorFlags([], {}).vipCidr,
      'pod-cidr': parseAgentFlags([], {}, host).podCIDR,
      'proxy-mode': 'nftables',
      'metrics-address': parseOperatorFlags([], {}).metricsAddress,
      'floor-address': parseOperatorFlags([], {}).floorAddress,
      'agent-metrics-address': parseAgentFlags([], {}, host).metricsAddress,
      'node-loss-grace': parseOperatorFlags([], {}).nodeLossGraceMs,
      'log-level': 'info',
      'log-format': 'text',
    });
  });

  it.each([
    ['vip-cidr', '10.250.0.1/16'],
    ['metrics-address', '8080'],
    ['node-loss-grace', 'soon'],
    ['log-level', 'loud'],
  ])('refuses a bad --%s in the operator\'s words', (name, value) => {
    const argv = [`--${name}`, value];
    expect(refusal(() => parseUpFlags(argv))).toBe(refusal(() => parseOperatorFlags(argv, {})));
  });

  it.each([
    ['pod-cidr', '10.244.0.1/24'],
    ['proxy-mode', 'ipvs'],
  ])('refuses a bad --%s in the agent\'s words', (name, value) => {
    const argv = [`--${name}`, value];
    expect(refusal(() => parseUpFlags(argv))).toBe(refusal(() => parseAgentFlags(argv, {}, host)));
  });

  it('refuses a bad --agent-metrics-address as the agent refuses its --metrics-address', () => {
    expect(refusal(() => parseUpFlags(['--agent-metrics-address', 'x']))).toBe(refusal(() => parseAgentFlags(['--metrics-address', 'x'], {}, host)).replace('--metrics-address', '--agent-metrics-address'));
  });

  it('refuses --pod-cidr allocated without a --cluster-pod-cidr to allocate from', () => {
    expect(refusal(() => parseUpFlags(['--pod-cidr', 'allocated']))).toBe('--pod-cidr "allocated" asks the operator for this node\'s range, but it has none to give: add --cluster-pod-cidr (e.g. 10.245.0.0/16), or give --pod-cidr a range (e.g. 10.244.0.0/24)');
    expect(parseUpFlags(['--pod-cidr', 'allocated', '--cluster-pod-cidr', '10.245.0.0/16'])['pod-cidr']).toBe('allocated');
  });

  it('refuses a bad --cluster-pod-cidr in the operator\'s words', () => {
    expect(refusal(() => parseUpFlags(['--cluster-pod-cidr', '10.245.0.1/16']))).toBe(refusal(() => parseOperatorFlags(['--cluster-pod-cidr', '10.245.0.1/16'], {})));
  });

  it('names the flag of a bad port, API server or log format', () => {
    expect(refusal(() => parseUpFlags(['--port', '70000']))).toBe('--port "70000" is not a port number (0-65535)');
    expect(refusal(() => parseUpFlags(['--api-server', 'k3s']))).toBe('--api-server "k3s" must be one of devcluster, kube-apiserver');
    expect(refusal(() => parseUpFlags(['--log-format', 'xml']))).toBe('--log-format "xml" must be one of text, json');
    expect(refusal(() => parseUpFlags(['--namespace', 'x']))).toMatch(/Unknown option '--namespace'/);
  });
});
