// A NodeWorkload's service as the proxy sees it: the VIP the operator allocated
// (status.clusterIP), the ports of spec.service, and as endpoints the pod IPs of the workload's
// ready NodeAssignments, with named target ports resolved in each assignment's own template (a
// rolling update may rename a port), marked remote when they run on another node. Pure. Objects come straight from the API, so defaults the
// schema would fill in are applied here.
import { namedPorts, type NodeAssignment, type NodeWorkload } from '../../api/index.js';
import type { Endpoint, LoadBalancing, Protocol, Service } from './model.js';

function serving(na: NodeAssignment): boolean {
  return na.status?.ready === true && !!na.status.podIP && !na.metadata?.deletionTimestamp;
}

/**
 * The service of `workload` with the endpoints of its serving `assignments`; undefined when the
 * workload has no service or the operator has not allocated its VIP yet.
 */
export function serviceFromWorkload(workload: NodeWorkload, assignments: readonly NodeAssignment[], nodeName: string): Service | undefined {
  const spec = workload.spec?.service;
  const clusterIP = workload.status?.clusterIP;
  if (!spec || !clusterIP) return undefined;
  const ready = assignments.filter(serving);
  const named = new Map(ready.map((na) => [na, na.spec?.template ? namedPorts(na.spec.template) : new Map<string, { containerPort: number }>()]));
  return {
    namespace: workload.metadata?.namespace ?? '',
    name: workload.metadata?.name ?? '',
    clusterIP,
    loadBalancing: (spec.loadBalancing ?? 'Random') as LoadBalancing,
    ports: (spec.ports ?? []).map((p) => {
      const endpoints: Endpoint[] = [];
      for (const na of ready) {
        const target = p.targetPort ?? p.port;
        const port = typeof target === 'number' ? target : named.get(na)?.get(target)?.containerPort;
        if (port === undefined) continue;
        const ep: Endpoint = { ip: na.status!.podIP!, port };
        if (na.spec?.nodeName !== nodeName) ep.remote = true;
        endpoints.push(ep);
      }
      const out = { name: p.name ?? '', protocol: (p.protocol ?? 'TCP') as Protocol, port: p.port, endpoints };
      return p.nodePort === undefined ? out : { ...out, nodePort: p.nodePort };
    }),
  };
}
