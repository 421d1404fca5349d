import { describe, expect, it } from '@jest/globals';
import { ENDPOINTS, endpointIP, kubeEndpointSlice, kubeProxyConfig, kubeService, modelService, vip } from './service-objects.js';

describe('the proxy benchmark services', () => {
  it('gives 10,005 services distinct VIPs past the range start kube-apiserver keeps', () => {
    const vips = new Set(Array.from({ length: 10_005 }, (_, i) => vip(i)));
    expect(vips.size).toBe(10_005);
    expect(vip(0)).toBe('10.96.1.0');
    expect(vip(10_004)).toBe('10.96.40.20');
    expect(vip(100_004)).toBe('10.97.135.164');
  });

  it('describes service i the same way to both proxies', () => {
    const model = modelService(7);
    const svc = kubeService(7) as { spec: { clusterIP: string; ports: { port: number; targetPort: number }[] } };
    const slice = kubeEndpointSlice(7) as { metadata: { labels: Record<string, string> }; endpoints: { addresses: string[] }[] };
    expect(svc.spec.clusterIP).toBe(model.clusterIP);
    expect(svc.spec.ports[0]!.port).toBe(model.ports[0]!.port);
    expect(slice.metadata.labels['kubernetes.io/service-name']).toBe('svc-7');
    expect(slice.endpoints.map((e) => e.addresses[0])).toEqual(model.ports[0]!.endpoints.map((e) => e.ip));
    expect(slice.endpoints).toHaveLength(ENDPOINTS);
    expect(model.ports[0]!.endpoints[0]!.ip).toBe(endpointIP(21));
  });

  it('writes a kube-proxy configuration that leaves conntrack alone and serves on loopback', () => {
    const c = JSON.parse(kubeProxyConfig({ mode: 'nftables', kubeconfig: '/k', nodeName: 'n1', healthzPort: 1001, metricsPort: 1002 })) as Record<string, unknown>;
    expect(c).toMatchObject({
      kind: 'KubeProxyConfiguration',
      mode: 'nftables',
      hostnameOverride: 'n1',
      clientConnection: { kubeconfig: '/k' },
      healthzBindAddress: '127.0.0.1:1001',
      metricsBindAddress: '127.0.0.1:1002',
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
    });
  });
});
