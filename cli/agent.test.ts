import { describe, expect, it } from '@jest/globals';
import { parseAgentFlags } from './agent.js';
import { UsageError } from './command.js';

const defaults = { hostname: 'Node-1', addresses: () => ['192.168.1.10'] };

describe('parseAgentFlags', () => {
  it('defaults to a managed containerd, nftables, the host name and addresses, kube-proxy sync periods and metrics port', () => {
    expect(parseAgentFlags([], {}, defaults)).toEqual({
      kubeconfig: undefined,
      nodeName: 'node-1',
      namespace: 'shopfloor-system',
      dataDir: '/var/lib/shopfloor',
      runtime: { mode: 'managed', bridgeName: 'sf0', sandboxImage: 'registry.k8s.io/pause:3.10' },
      podCIDR: '10.244.0.0/24',
      imagePreloadDir: undefined,
      staticManifestDir: undefined,
      logDir: undefined,
      nodeLabels: {},
      podWorkers: 8,
      proxyMode: 'nftables',
      proxyTable: 'shopfloor',
      nodeAddresses: ['192.168.1.10'],
      leaseDurationSeconds: 40,
      minSyncPeriodMs: 1000,
      fullResyncPeriodMs: 3_600_000,
      metricsAddress: '127.0.0.1:10249',
      logServerAddress: '0.0.0.0:10350',
      logLevel: 'info',
    });
  });

  it('takes flags over environment variables', () => {
    const flags = parseAgentFlags(['--proxy-mode', 'iptables', '--node-addresses', '10.0.0.1, 10.0.0.2', '--min-sync-period', '0.5'], { SHOPFLOOR_PROXY_MODE: 'nftables', NODE_NAME: 'n7', SHOPFLOOR_METRICS_ADDRESS: 'off' }, defaults);
    expect(flags).toMatchObject({ proxyMode: 'iptables', nodeName: 'n7', nodeAddresses: ['10.0.0.1', '10.0.0.2'], minSyncPeriodMs: 500, metricsAddress: false });
    expect(parseAgentFlags(['--log-server-address', '10.0.0.1:0'], { SHOPFLOOR_LOG_SERVER_ADDRESS: 'off' }, defaults).logServerAddress).toBe('10.0.0.1:0');
    expect(parseAgentFlags([], { SHOPFLOOR_LOG_SERVER_ADDRESS: 'off' }, defaults).logServerAddress).toBe(false);
  });

  it('drives an external CRI runtime when given its endpoint, and reads node labels', () => {
    const flags = parseAgentFlags(['--cri-endpoint', 'unix:///run/containerd/containerd.sock', '--node-labels', 'zone=a, shopfloor.dev/pool=edge'], {}, defaults);
    expect(flags.runtime).toEqual({ mode: 'external', endpoint: 'unix:///run/containerd/containerd.sock' });
    expect(flags.nodeLabels).toEqual({ zone: 'a', 'shopfloor.dev/pool': 'edge' });
  });

  it('runs the managed runtime on the containerd binary it is given', () => {
    expect(parseAgentFlags(['--containerd-binary', '/opt/containerd/bin/containerd'], {}, defaults).runtime).toEqual({ mode: 'managed', bridgeName: 'sf0', sandboxImage: 'registry.k8s.io/pause:3.10', containerdBinary: '/opt/containerd/bin/containerd' });
    expect(parseAgentFlags([], { SHOPFLOOR_CONTAINERD_BINARY: '/usr/local/bin/containerd' }, defaults).runtime).toMatchObject({ containerdBinary: '/usr/local/bin/containerd' });
  });

  it('names the flag and what is allowed when a value is bad', () => {
    const bad = (argv: string[], env = {}) => () => parseAgentFlags(argv, env, defaults);
    expect(bad(['--proxy-mode', 'ipvs'])).toThrow(new UsageError('--proxy-mode "ipvs" must be one of nftables, iptables'));
    expect(bad([], { SHOPFLOOR_NODE_ADDRESSES: '10.0.0.1,fe80::1' })).toThrow(new UsageError('SHOPFLOOR_NODE_ADDRESSES: "fe80::1" is not an IPv4 address (e.g. 192.168.1.10)'));
    expect(bad(['--full-resync-period', '0'])).toThrow(new UsageError('--full-resync-period "0" must be a number of seconds, at least 1'));
    expect(bad(['--metrics-address', 'everywhere'])).toThrow(UsageError);
    expect(bad(['--bogus'])).toThrow(UsageError);
    expect(bad(['--cri-endpoint', '/run/containerd.sock'])).toThrow(new UsageError('--cri-endpoint "/run/containerd.sock" must be unix:///absolute/path/to.sock (e.g. unix:///run/containerd/containerd.sock)'));
    expect(bad(['--pod-cidr', '10.244.0.1/24'])).toThrow(new UsageError('--pod-cidr "10.244.0.1/24" has host bits set; an IPv4 network like 10.88.0.0/24: four octets 0-255 without leading zeros, a prefix from 8 to 30, no host bits set; or "allocated" for a range of this node\'s own from the operator'));
    expect(bad(['--data-dir', 'relative/dir'])).toThrow(new UsageError('--data-dir "relative/dir" must be an absolute path'));
    expect(bad(['--containerd-binary', 'containerd2'])).toThrow(new UsageError('--containerd-binary "containerd2" must be an absolute path'));
    expect(bad(['--node-labels', 'zone'])).toThrow(UsageError);
    expect(bad(['--pod-workers', '0'])).toThrow(new UsageError('--pod-workers "0" must be a whole number from 1 to 64'));
    expect(bad(['--bridge', 'a-very-long-bridge-name'])).toThrow(UsageError);
    expect(bad(['--proxy-table', 'kube'])).toThrow(/^--proxy-table "kube" must start with "sf" or "shopfloor"/);
    expect(bad([], { SHOPFLOOR_PROXY_TABLE: 'sf-node2' })).toThrow(/^SHOPFLOOR_PROXY_TABLE "sf-node2" must start/);
    expect(bad(['--node-lease-duration', '2'])).toThrow(new UsageError('--node-lease-duration "2" must be a whole number of seconds, at least 4'));
    expect(bad(['--node-lease-duration', '7.5'])).toThrow(UsageError);
    expect(bad([], { POD_NAMESPACE: 'Shopfloor' })).toThrow(new UsageError('POD_NAMESPACE "Shopfloor" is not a namespace name (a DNS-1123 label: lowercase letters, digits, "-")'));
  });

  it('takes "allocated" for a pod range from the operator', () => {
    expect(parseAgentFlags(['--pod-cidr', 'allocated'], {}, defaults).podCIDR).toBe('allocated');
  });

  it("keeps its node Lease in the pod's namespace (POD_NAMESPACE, as the chart sets it), where the operator looks", () => {
    expect(parseAgentFlags([], { POD_NAMESPACE: 'edge-system' }, defaults).namespace).toBe('edge-system');
    expect(parseAgentFlags(['--namespace', 'ops'], { POD_NAMESPACE: 'edge-system' }, defaults).namespace).toBe('ops');
  });

  it('takes what a second agent on the same host needs of its own', () => {
    const argv = ['--node-name', 'node-2', '--data-dir', '/var/lib/shopfloor2', '--pod-cidr', '10.244.1.0/24', '--bridge', 'sf1', '--proxy-table', 'sf1', '--metrics-address', '127.0.0.1:10250', '--node-lease-duration', '8'];
    expect(parseAgentFlags(argv, {}, defaults)).toMatchObject({
      nodeName: 'node-2',
      dataDir: '/var/lib/shopfloor2',
      podCIDR: '10.244.1.0/24',
      runtime: { mode: 'managed', bridgeName: 'sf1' },
      proxyTable: 'sf1',
      metricsAddress: '127.0.0.1:10250',
      leaseDurationSeconds: 8,
    });
  });
});
