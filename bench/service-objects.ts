// The proxy benchmark's services, one definition for both proxies: service i has the cluster IP
// vip(i) and ENDPOINTS endpoints on port 8080, as Shopfloor's proxy model, as the NodeWorkload and
// NodeAssignments (with the status the operator and the agents write) the agent's proxy reads, and
// as the Service and EndpointSlice kube-proxy reads.
import { LABEL_WORKLOAD } from '../api/labels.js';
import type { Service } from '../agent/proxy/model.js';
import type { KubeObject } from '../kube/types.js';

export const ENDPOINTS = 3;
export const SERVICE_PORT = 80;
export const ENDPOINT_PORT = 8080;
/**
 * Holds every vip(i) (a /12, the largest range kube-apiserver takes, so that the benchmark's
 * largest sizes fit); vip(0) starts past the range's first /24, which kube-apiserver keeps for
 * the `kubernetes` Service.
 */
export const VIP_RANGE = '10.96.0.0/12';
/** Holds every endpointIP(j): kube-proxy's clusterCIDR. */
export const ENDPOINT_RANGE = '10.128.0.0/9';
export const NAMESPACE = 'bench';

export function vip(i: number): string {
  const v = i + 256;
  return `10.${96 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}`;
}

export function endpointIP(j: number): string {
  return `10.${128 + (j >> 16)}.${(j >> 8) & 255}.${j & 255}`;
}

export function endpointIPs(endpointBase: number): string[] {
  return Array.from({ length: ENDPOINTS }, (_, k) => endpointIP(endpointBase + k));
}

/** Service i in Shopfloor's proxy model; its endpoints start at endpointIP(endpointBase). */
export function modelService(i: number, endpointBase = i * ENDPOINTS): Service {
  return {
    namespace: NAMESPACE,
    name: `svc-${i}`,
    clusterIP: vip(i),
    loadBalancing: 'Random',
    ports: [{ name: 'http', protocol: 'TCP', port: SERVICE_PORT, endpoints: endpointIPs(endpointBase).map((ip) => ({ ip, port: ENDPOINT_PORT })) }],
  };
}

/** Service i as a selector-less core/v1 Service, so that only its own EndpointSlice feeds it. */
export function kubeService(i: number): KubeObject & Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: NAMESPACE },
    spec: { type: 'ClusterIP', clusterIP: vip(i), ports: [{ name: 'http', protocol: 'TCP', port: SERVICE_PORT, targetPort: ENDPOINT_PORT }] },
  };
}

/** Service i's endpoints, all ready and on no node, so that kube-proxy uses each of them. */
export function kubeEndpointSlice(i: number, endpointBase = i * ENDPOINTS): KubeObject & Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `svc-${i}-0`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': `svc-${i}` } },
    addressType: 'IPv4',
    endpoints: endpointIPs(endpointBase).map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'http', protocol: 'TCP', port: ENDPOINT_PORT }],
  };
}

/** Service i as a NodeWorkload with a service; its VIP comes with workloadStatus(i). */
export function shopfloorWorkload(i: number): KubeObject & Record<string, unknown> {
  return {
    apiVersion: 'shopfloor.dev/v1alpha1',
    kind: 'NodeWorkload',
    metadata: { name: `svc-${i}`, namespace: NAMESPACE },
    spec: {
      placement: { mode: 'Replicas', replicas: ENDPOINTS },
      template: { containers: [{ name: 'app', image: 'shopfloor.dev/bench:none', ports: [{ name: 'http', containerPort: ENDPOINT_PORT }] }] },
      service: { ports: [{ name: 'http', port: SERVICE_PORT, targetPort: 'http' }] },
    },
  };
}

/** The status the operator writes on service i's NodeWorkload: its VIP. */
export function workloadStatus(i: number): { status: { clusterIP: string } } {
  return { status: { clusterIP: vip(i) } };
}

/** Replica k of service i on `nodeName`, as the operator places it. */
export function shopfloorAssignment(i: number, k: number, nodeName: string): KubeObject & Record<string, unknown> {
  const workload = shopfloorWorkload(i) as { spec: { template: unknown } };
  return {
    apiVersion: 'shopfloor.dev/v1alpha1',
    kind: 'NodeAssignment',
    metadata: { name: `svc-${i}-${k}`, namespace: NAMESPACE, labels: { [LABEL_WORKLOAD]: `svc-${i}` } },
    spec: { nodeName, workloadRef: { name: `svc-${i}` }, revision: 'r1', template: workload.spec.template },
  };
}

/** The status an agent writes on replica k of a service whose endpoints start at endpointIP(endpointBase): running, ready, its pod IP. */
export function assignmentStatus(k: number, endpointBase: number): { status: { phase: 'Running'; ready: true; podIP: string } } {
  return { status: { phase: 'Running', ready: true, podIP: endpointIP(endpointBase + k) } };
}

export interface KubeProxyConfigOptions {
  mode: 'nftables' | 'iptables';
  kubeconfig: string;
  nodeName: string;
  healthzPort: number;
  metricsPort: number;
}

/**
 * A KubeProxyConfiguration (JSON, which its YAML loader reads) for a kube-proxy in a network
 * namespace of its own: conntrack limits and timeouts at 0, which kube-proxy leaves as they are,
 * since the namespace cannot set the host-wide conntrack sysctls; servers on loopback.
 */
export function kubeProxyConfig(o: KubeProxyConfigOptions): string {
  return JSON.stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: o.mode,
    clientConnection: { kubeconfig: o.kubeconfig },
    hostnameOverride: o.nodeName,
    clusterCIDR: ENDPOINT_RANGE,
    detectLocalMode: 'ClusterCIDR',
    healthzBindAddress: `127.0.0.1:${o.healthzPort}`,
    metricsBindAddress: `127.0.0.1:${o.metricsPort}`,
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  }, null, 2) + '\n';
}
