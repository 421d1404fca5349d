import type { KubeObject } from './object.js';
import { isPlainObject } from './object.js';
import type { StatusCause } from './status.js';

// What kube-apiserver checks and keeps of a v1 Service (pkg/apis/core/validation,
// pkg/registry/core/service/storage), worded as it words it.

type Fields = Record<string, unknown>;

const fields = (v: unknown): Fields => (isPlainObject(v) ? v : {});

/** Whether the Service has (or is to be given) a cluster IP: every type but ExternalName, headless ones ("None") excepted. */
export function wantsClusterIp(service: KubeObject): boolean {
  const spec = fields(service.spec);
  return spec.type !== 'ExternalName' && spec.clusterIP !== 'None';
}

/**
 * An update that leaves clusterIP (and clusterIPs) out keeps the allocated ones (or "None"), as
 * kube-apiserver's patchAllocatedValues does: `kubectl replace` of a manifest without them, or an
 * apply of one, does not ask for a new address.
 */
export function keepAllocatedIps(object: KubeObject, current: KubeObject): void {
  const spec = fields(object.spec);
  const was = fields(current.spec);
  if (was.type === 'ExternalName' || spec.type === 'ExternalName' || !isPlainObject(object.spec)) return;
  if (!spec.clusterIP && !(Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0)) {
    if (was.clusterIP !== undefined) spec.clusterIP = was.clusterIP;
    if (was.clusterIPs !== undefined) spec.clusterIPs = was.clusterIPs;
  }
}

function portCauses(value: unknown, field: string): StatusCause[] {
  if (typeof value !== 'number' || (Number.isInteger(value) && value >= 1 && value <= 65535)) return [];
  return [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${value}: must be between 1 and 65535, inclusive` }];
}

/**
 * A Service's ports (required but of headless and ExternalName Services; named when more than
 * one; port and a numeric targetPort in 1..65535) and, on update, its cluster IP, which may not
 * change once set.
 */
export function validateService(object: KubeObject, current: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = fields(object.spec);
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  if (ports.length === 0 && wantsClusterIp(object)) causes.push({ reason: 'FieldValueRequired', field: 'spec.ports', message: 'Required value' });
  ports.forEach((p, i) => {
    const port = fields(p);
    if (ports.length > 1 && !port.name) causes.push({ reason: 'FieldValueRequired', field: `spec.ports[${i}].name`, message: 'Required value' });
    causes.push(...portCauses(port.port, `spec.ports[${i}].port`), ...portCauses(port.targetPort, `spec.ports[${i}].targetPort`));
  });
  const was = fields(current?.spec);
  if (current && was.type !== 'ExternalName' && spec.type !== 'ExternalName') {
    const first = (s: Fields): unknown => (Array.isArray(s.clusterIPs) ? s.clusterIPs[0] : undefined);
    if (spec.clusterIP !== was.clusterIP || first(spec) !== first(was)) {
      const wanted = spec.clusterIP !== was.clusterIP ? spec.clusterIP : first(spec);
      causes.push({ reason: 'FieldValueInvalid', field: 'spec.clusterIPs[0]', message: `Invalid value: ${JSON.stringify([wanted ?? ''])}: may not change once set` });
    }
  }
  return causes;
}
