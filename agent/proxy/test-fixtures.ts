// Services shared by the proxy's unit tests.
import type { Endpoint, LoadBalancing, Service } from './model.js';

export function eps(...ips: string[]): Endpoint[] {
  return ips.map((ip) => ({ ip, port: 8080 }));
}

export function web(endpoints: Endpoint[], loadBalancing: LoadBalancing = 'Random', nodePort?: number): Service {
  return {
    namespace: 'shop',
    name: 'web',
    clusterIP: '10.96.0.10',
    loadBalancing,
    ports: [{ name: 'http', protocol: 'TCP', port: 80, endpoints, ...(nodePort === undefined ? {} : { nodePort }) }],
  };
}

export function dns(endpoints: Endpoint[]): Service {
  return {
    namespace: 'kube',
    name: 'dns',
    clusterIP: '10.96.0.53',
    loadBalancing: 'Random',
    ports: [{ name: 'dns', protocol: 'UDP', port: 53, endpoints: endpoints.map((e) => ({ ip: e.ip, port: 5353 })) }],
  };
}
