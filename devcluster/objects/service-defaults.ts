import { isPlainObject } from './object.js';

// The defaults kube-apiserver gives a v1 Service on write (SetDefaults_Service and the Service
// REST storage's IP family fields), as it serializes them. Its clusterIP is allocated apart
// (cluster-ips.ts), since that needs the other Services.

type Fields = Record<string, unknown>;

export function defaultService(object: Fields): void {
  if (!isPlainObject(object.spec)) object.spec = {};
  const spec = object.spec as Fields;
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const config = isPlainObject(spec.sessionAffinityConfig) ? spec.sessionAffinityConfig : {};
    const clientIP = isPlainObject(config.clientIP) ? config.clientIP : {};
    if (clientIP.timeoutSeconds === undefined) spec.sessionAffinityConfig = { ...config, clientIP: { ...clientIP, timeoutSeconds: 10800 } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const port of Array.isArray(spec.ports) ? spec.ports.filter(isPlainObject) : []) {
    if (!port.protocol) port.protocol = 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  const externallyAccessible = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  if (externallyAccessible && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined) spec.allocateLoadBalancerNodePorts = true;
  if (spec.type === 'ExternalName') return;
  if (!spec.internalTrafficPolicy) spec.internalTrafficPolicy = 'Cluster';
  // The devcluster serves one IPv4 service range, so every Service is single-stack IPv4.
  if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'SingleStack';
  if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
  if (spec.clusterIP && (!Array.isArray(spec.clusterIPs) || spec.clusterIPs.length === 0)) spec.clusterIPs = [spec.clusterIP];
  else if (!spec.clusterIP && Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string') spec.clusterIP = spec.clusterIPs[0];
}
