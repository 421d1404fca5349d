import type { KubeObject } from './object.js';
import { isPlainObject } from './object.js';
import type { PrinterColumn } from './registry.js';
import { formatSelector, labelSelectorRequirements } from './selectors.js';

// Printer columns of built-in kinds: Age, and those kube-apiserver's table printers
// (pkg/printers/internalversion) give Deployments, DaemonSets and Services, computed from the
// object. No controller writes their status here, so its counts read 0, as they do on a cluster
// whose controllers have not run yet.

export const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'The time since the object was created' };

function field(o: KubeObject, ...path: string[]): unknown {
  let node: unknown = o;
  for (const key of path) node = isPlainObject(node) ? node[key] : undefined;
  return node;
}

const int = (o: KubeObject, ...path: string[]): number => {
  const v = field(o, ...path);
  return typeof v === 'number' ? v : 0;
};

function containers(o: KubeObject): { name?: unknown; image?: unknown }[] {
  const list = field(o, 'spec', 'template', 'spec', 'containers');
  return Array.isArray(list) ? list.filter(isPlainObject) : [];
}

const templateColumns: PrinterColumn[] = [
  { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', compute: (o) => containers(o).map((c) => String(c.name ?? '')).join(',') },
  { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', compute: (o) => containers(o).map((c) => String(c.image ?? '')).join(',') },
  { name: 'Selector', type: 'string', priority: 1, description: 'Label query over pods.', compute: (o) => formatSelector(labelSelectorRequirements(field(o, 'spec', 'selector'))) },
];

/** `a=b,c=d` of a string map, sorted by key; `<none>` when empty (labels.FormatLabels). */
function formatLabels(map: unknown): string {
  if (!isPlainObject(map) || Object.keys(map).length === 0) return '<none>';
  return Object.keys(map).sort().map((k) => `${k}=${String(map[k])}`).join(',');
}

export const deploymentColumns: PrinterColumn[] = [
  { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', compute: (o) => `${int(o, 'status', 'readyReplicas')}/${int(o, 'spec', 'replicas')}` },
  { name: 'Up-to-date', type: 'string', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', compute: (o) => int(o, 'status', 'updatedReplicas') },
  { name: 'Available', type: 'string', description: 'Total number of available non-terminating pods targeted by this deployment.', compute: (o) => int(o, 'status', 'availableReplicas') },
  age,
  ...templateColumns,
];

export const daemonSetColumns: PrinterColumn[] = [
  { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod.', compute: (o) => int(o, 'status', 'desiredNumberScheduled') },
  { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod.', compute: (o) => int(o, 'status', 'currentNumberScheduled') },
  { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of it running and ready.', compute: (o) => int(o, 'status', 'numberReady') },
  { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod.', compute: (o) => int(o, 'status', 'updatedNumberScheduled') },
  { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of it running and available.', compute: (o) => int(o, 'status', 'numberAvailable') },
  { name: 'Node Selector', type: 'string', description: 'Labels a node must have for the pod to run on it.', compute: (o) => formatLabels(field(o, 'spec', 'template', 'spec', 'nodeSelector')) },
  age,
  ...templateColumns,
];

/** The first of spec.clusterIPs ("None" for a headless Service), `<none>` for an ExternalName one. */
function clusterIp(o: KubeObject): string {
  const ips = field(o, 'spec', 'clusterIPs');
  return Array.isArray(ips) && ips.length > 0 ? String(ips[0]) : '<none>';
}

interface ServicePort {
  port?: unknown;
  nodePort?: unknown;
  protocol?: unknown;
}

/** `80/TCP,443:30443/TCP` (makePortString), `<none>` without ports. */
function servicePorts(o: KubeObject): string {
  const ports = field(o, 'spec', 'ports');
  const list = Array.isArray(ports) ? (ports.filter(isPlainObject) as ServicePort[]) : [];
  if (list.length === 0) return '<none>';
  return list.map((p) => (typeof p.nodePort === 'number' && p.nodePort > 0 ? `${String(p.port)}:${p.nodePort}/${String(p.protocol)}` : `${String(p.port)}/${String(p.protocol)}`)).join(',');
}

/** The External-IP cell (getServiceExternalIP): external IPs, a load balancer's ingress, or the external name. */
function externalIp(o: KubeObject): string {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  const external = strings(field(o, 'spec', 'externalIPs'));
  switch (field(o, 'spec', 'type')) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length > 0 ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = field(o, 'status', 'loadBalancer', 'ingress');
      const addresses = [...new Set((Array.isArray(ingress) ? ingress.filter(isPlainObject) : []).map((i) => String(i.ip || i.hostname || '')).filter((a) => a))].sort();
      const all = [...addresses, ...external];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return String(field(o, 'spec', 'externalName') ?? '');
    default:
      return '<unknown>';
  }
}

export const serviceColumns: PrinterColumn[] = [
  { name: 'Type', type: 'string', description: 'How the Service is exposed.', compute: (o) => field(o, 'spec', 'type') },
  { name: 'Cluster-IP', type: 'string', description: 'The IP address of the service.', compute: clusterIp },
  { name: 'External-IP', type: 'string', description: 'IP addresses for which nodes in the cluster also accept traffic for this service.', compute: externalIp },
  { name: 'Port(s)', type: 'string', description: 'The ports that are exposed by this service.', compute: servicePorts },
  age,
  { name: 'Selector', type: 'string', priority: 1, description: 'Route service traffic to pods with label keys and values matching this selector.', compute: (o) => formatLabels(field(o, 'spec', 'selector')) },
];

type Rule = { host?: unknown };
const ingressRules = (o: KubeObject): Rule[] => {
  const rules = field(o, 'spec', 'rules');
  return Array.isArray(rules) ? (rules as Rule[]) : [];
};

/** kubectl's columns of an Ingress: its class, the hosts its rules answer, its address, its ports. */
export const ingressColumns: PrinterColumn[] = [
  { name: 'Class', type: 'string', description: 'The IngressClass that implements it.', compute: (o) => String(field(o, 'spec', 'ingressClassName') ?? '<none>') },
  { name: 'Hosts', type: 'string', description: 'The hosts its rules answer.', compute: (o) => ingressRules(o).map((r) => (typeof r.host === 'string' ? r.host : '*')).join(',') || '*' },
  { name: 'Address', type: 'string', description: 'Where its load balancer is.', compute: (o) => {
    const lb = field(o, 'status', 'loadBalancer', 'ingress');
    return Array.isArray(lb) ? lb.map((i: { ip?: string; hostname?: string }) => i.ip ?? i.hostname ?? '').join(',') : '';
  } },
  { name: 'Ports', type: 'string', description: 'The ports it serves: 80, and 443 with TLS.', compute: (o) => (Array.isArray(field(o, 'spec', 'tls')) && (field(o, 'spec', 'tls') as unknown[]).length ? '80, 443' : '80') },
  age,
];
