// A NodeWorkload's service as the proxy sees it: the VIP the operator allocated
// (status.clusterIP), the ports of spec.service, and as endpoints the pod IPs of the workload's
// ready NodeAssignments, with named target ports resolved in each assignment's own template (a
// rolling update may rename a port), marked remote when they run on another node. Pure.
//
// This is where objects become the proxy's model, so every field that reaches a rule is checked
// here: an object stored past its CRD's schema (an older CRD, one without validation, a direct
// write) may hold anything, and a port name with a newline would otherwise become a line of its
// own in the iptables-restore input. A workload that fails the check has its service left out
// with the fields named; the model's own checks (model.ts) then judge addresses and ports.
import { DNS1123_LABEL, IPV4 } from '../../api/fields.js';
import { formatFieldError, namedPorts, serviceSchema, validateField, type NodeAssignment } from '../../api/index.js';
import type { KubeObject } from '../../kube/types.js';
import type { Endpoint, Service } from './model.js';

/** A NodeWorkload as cached: nothing in its spec or status is trusted until read here. */
export interface WorkloadObject extends KubeObject {
  spec?: unknown;
  status?: unknown;
}

export interface ServiceRead {
  /** Undefined when the workload has no service, the operator has not allocated its VIP yet, or a field failed the check. */
  service: Service | undefined;
  /** Why the service is left out: `namespace/name: field: what it must be`, one for each bad field. */
  problems: string[];
}

function field(object: unknown, key: string): unknown {
  return typeof object === 'object' && object !== null && !Array.isArray(object) ? (object as Record<string, unknown>)[key] : undefined;
}

function serving(na: NodeAssignment): boolean {
  return na.status?.ready === true && typeof na.status.podIP === 'string' && IPV4.test(na.status.podIP) && !na.metadata?.deletionTimestamp;
}

/** The container ports an assignment's template names; none when the template cannot be read. */
function templatePorts(na: NodeAssignment): ReadonlyMap<string, { containerPort: number }> {
  try {
    return na.spec?.template ? namedPorts(na.spec.template) : new Map();
  } catch {
    return new Map();
  }
}

/** The service of `workload` with the endpoints of its serving `assignments`, or why it is left out. */
export function serviceFromWorkload(workload: WorkloadObject, assignments: readonly NodeAssignment[], nodeName: string): ServiceRead {
  const namespace = workload.metadata?.namespace ?? '';
  const name = workload.metadata?.name ?? '';
  const id = `${namespace}/${name}`;
  const raw = field(workload.spec, 'service');
  const clusterIP = field(workload.status, 'clusterIP');
  if (raw === undefined || clusterIP === undefined) return { service: undefined, problems: [] };

  const errors: string[] = [];
  // Names go into rule comments and iptables chain comments: nothing but a DNS label may.
  if (!DNS1123_LABEL.test(namespace)) errors.push('metadata.namespace: must be a DNS-1123 label');
  if (!DNS1123_LABEL.test(name)) errors.push('metadata.name: must be a DNS-1123 label');
  if (typeof clusterIP !== 'string' || !IPV4.test(clusterIP)) errors.push('status.clusterIP: must be an IPv4 address such as 10.250.0.10');
  const spec = validateField(serviceSchema, raw, ['spec', 'service']);
  if (!spec.ok) errors.push(...spec.errors.map(formatFieldError));
  if (!spec.ok || errors.length) return { service: undefined, problems: errors.map((e) => `${id}: ${e}; its service is left out`) };

  const ready = assignments.filter(serving);
  const named = new Map(ready.map((na) => [na, templatePorts(na)]));
  const service: Service = {
    namespace,
    name,
    clusterIP: clusterIP as string,
    loadBalancing: spec.value.loadBalancing,
    ports: spec.value.ports.map((p) => {
      const endpoints: Endpoint[] = [];
      for (const na of ready) {
        const target = p.targetPort ?? p.port;
        const port = typeof target === 'number' ? target : named.get(na)?.get(target)?.containerPort;
        if (port === undefined) continue;
        const ep: Endpoint = { ip: na.status!.podIP!, port };
        if (na.spec?.nodeName !== nodeName) ep.remote = true;
        endpoints.push(ep);
      }
      const out = { name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port, endpoints };
      return p.nodePort === undefined ? out : { ...out, nodePort: p.nodePort };
    }),
  };
  return { service, problems: [] };
}
