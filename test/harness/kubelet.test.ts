import { describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startTestKubelet } from './kubelet.js';

describe('startTestKubelet', () => {
  it('refuses to start in a network namespace not of its own, before it makes anything', async () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('sf-kubelet-'));
    const cluster = { kubeconfigPath: '/nonexistent/kubeconfig', kubeConfig: undefined as never, token: '' };
    await expect(startTestKubelet({ cluster, nodeName: 'n1', nodeIP: '192.0.2.10' })).rejects.toThrow(
      'the test kubelet must run in a network namespace of its own (it writes iptables chains, its pods a bridge and masquerade rules); make one with `ip netns add <name>` and enter it with `nsenter --net=/run/netns/<name>` first',
    );
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('sf-kubelet-'))).toEqual(before);
  });
});
