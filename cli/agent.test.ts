import { describe, expect, it } from '@jest/globals';
import { parseAgentFlags } from './agent.js';
import { UsageError } from './command.js';

const defaults = { hostname: 'Node-1', addresses: () => ['192.168.1.10'] };

describe('parseAgentFlags', () => {
  it('defaults to nftables, the host name and addresses, kube-proxy sync periods and metrics port', () => {
    expect(parseAgentFlags([], {}, defaults)).toEqual({
      kubeconfig: undefined,
      nodeName: 'node-1',
      proxyMode: 'nftables',
      nodeAddresses: ['192.168.1.10'],
      minSyncPeriodMs: 1000,
      fullResyncPeriodMs: 3_600_000,
      metricsAddress: '127.0.0.1:10249',
      logLevel: 'info',
    });
  });

  it('takes flags over environment variables', () => {
    const flags = parseAgentFlags(['--proxy-mode', 'iptables', '--node-addresses', '10.0.0.1, 10.0.0.2', '--min-sync-period', '0.5'], { SHOPFLOOR_PROXY_MODE: 'nftables', NODE_NAME: 'n7', SHOPFLOOR_METRICS_ADDRESS: 'off' }, defaults);
    expect(flags).toMatchObject({ proxyMode: 'iptables', nodeName: 'n7', nodeAddresses: ['10.0.0.1', '10.0.0.2'], minSyncPeriodMs: 500, metricsAddress: false });
  });

  it('names the flag and what is allowed when a value is bad', () => {
    const bad = (argv: string[], env = {}) => () => parseAgentFlags(argv, env, defaults);
    expect(bad(['--proxy-mode', 'ipvs'])).toThrow(new UsageError('--proxy-mode "ipvs" must be one of nftables, iptables'));
    expect(bad([], { SHOPFLOOR_NODE_ADDRESSES: '10.0.0.1,fe80::1' })).toThrow(new UsageError('SHOPFLOOR_NODE_ADDRESSES: "fe80::1" is not an IPv4 address (e.g. 192.168.1.10)'));
    expect(bad(['--full-resync-period', '0'])).toThrow(new UsageError('--full-resync-period "0" must be a number of seconds, at least 1'));
    expect(bad(['--metrics-address', 'everywhere'])).toThrow(UsageError);
    expect(bad(['--bogus'])).toThrow(UsageError);
  });
});
