// The proxy's desired state: every (virtual IP, protocol, port) a node serves, and the ready
// endpoints behind it. Built from the API by model-from-api.ts, diffed by model-diff.ts and
// rendered into kernel rules by nft-render.ts and iptables-render.ts.

export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP'];
export type Protocol = 'TCP' | 'UDP';
export const LOAD_BALANCING: readonly LoadBalancing[] = ['Random', 'RoundRobin', 'SourceIP'];
export type LoadBalancing = 'Random' | 'RoundRobin' | 'SourceIP';

/** A protocol as nft and iptables spell it. */
export type KernelProtocol = 'tcp' | 'udp';
const KERNEL_PROTOCOL: Record<Protocol, KernelProtocol> = { TCP: 'tcp', UDP: 'udp' };

export function kernelProtocol(protocol: Protocol): KernelProtocol {
  return KERNEL_PROTOCOL[protocol];
}

/**
 * The `default` of a switch over a closed union (a load-balancing mode, a protocol): the switch
 * stops compiling when the union gains a member it does not handle, instead of quietly treating
 * the new one like another.
 */
export function unhandled(value: never): never {
  throw new Error(`unhandled value ${JSON.stringify(value)}`);
}

/** A ready replica behind a service port: its pod IP and the resolved target port. */
export interface Endpoint {
  ip: string;
  port: number;
  /**
   * The replica runs on another node. Connections to it leave this node and are masqueraded:
   * the other node routes its replies to this node's address, not to a client pod IP it has no
   * route for.
   */
  remote?: boolean;
}

export interface ServicePort {
  /** Port name from the NodeWorkload (empty when the service has one unnamed port). */
  name: string;
  protocol: Protocol;
  port: number;
  nodePort?: number;
  endpoints: Endpoint[];
}

/** A NodeWorkload's service as the proxy needs it. */
export interface Service {
  namespace: string;
  name: string;
  clusterIP: string;
  loadBalancing: LoadBalancing;
  ports: ServicePort[];
}

/**
 * One (VIP, protocol, port): the unit the rules, the diff and the renderers work on. Endpoints are
 * sorted and unique, so that equal states render equal rules and slot numbers stay stable.
 */
export interface Frontend {
  /** `vip/protocol/port`, unique on a node. */
  key: string;
  /** `namespace/name:portName` of the service, for logs and rule comments. */
  service: string;
  vip: string;
  protocol: Protocol;
  port: number;
  nodePort?: number;
  loadBalancing: LoadBalancing;
  endpoints: Endpoint[];
}

/**
 * Frontends that can share one selection rule: same protocol, load balancing and endpoint count,
 * reached by VIP or by nodePort.
 */
export interface SelectionGroup {
  key: string;
  protocol: Protocol;
  loadBalancing: LoadBalancing;
  endpoints: number;
  nodePort: boolean;
}

export interface ProxyState {
  /** Frontends by key. */
  frontends: Map<string, Frontend>;
  /** Addresses that accept nodePorts, sorted. */
  nodeAddresses: string[];
  /** Selection groups in use, with how many frontends use each. */
  groups: Map<string, { group: SelectionGroup; refs: number }>;
  /** Endpoint IPs in use, with how many frontends use each. */
  endpointIPs: Map<string, number>;
  /** The remote ones among them, counted the same way. */
  remoteIPs: Map<string, number>;
}

export function emptyState(): ProxyState {
  return { frontends: new Map(), nodeAddresses: [], groups: new Map(), endpointIPs: new Map(), remoteIPs: new Map() };
}

/** A copy whose maps can be changed without touching `state` (frontends are never mutated). */
export function cloneState(state: ProxyState): ProxyState {
  const groups = new Map<string, { group: SelectionGroup; refs: number }>();
  for (const [k, v] of state.groups) groups.set(k, { group: v.group, refs: v.refs });
  return {
    frontends: new Map(state.frontends),
    nodeAddresses: [...state.nodeAddresses],
    groups,
    endpointIPs: new Map(state.endpointIPs),
    remoteIPs: new Map(state.remoteIPs),
  };
}

function count(refs: Map<string, number>, key: string, by: 1 | -1): void {
  const n = (refs.get(key) ?? 0) + by;
  if (n === 0) refs.delete(key);
  else refs.set(key, n);
}

/** Puts a frontend into a state, counting its group and endpoint IP references. */
export function putFrontend(state: ProxyState, f: Frontend): void {
  const old = state.frontends.get(f.key);
  if (old) dropFrontend(state, old.key);
  state.frontends.set(f.key, f);
  for (const g of frontendGroups(f)) {
    const used = state.groups.get(g.key);
    if (used) used.refs++;
    else state.groups.set(g.key, { group: g, refs: 1 });
  }
  for (const ep of f.endpoints) {
    count(state.endpointIPs, ep.ip, 1);
    if (ep.remote) count(state.remoteIPs, ep.ip, 1);
  }
}

/** Takes a frontend out of a state, releasing its references. */
export function dropFrontend(state: ProxyState, key: string): void {
  const f = state.frontends.get(key);
  if (!f) return;
  state.frontends.delete(key);
  for (const g of frontendGroups(f)) {
    const used = state.groups.get(g.key)!;
    if (--used.refs === 0) state.groups.delete(g.key);
  }
  for (const ep of f.endpoints) {
    count(state.endpointIPs, ep.ip, -1);
    if (ep.remote) count(state.remoteIPs, ep.ip, -1);
  }
}

/** The selection groups a frontend belongs to (none without endpoints). */
export function frontendGroups(f: Frontend): SelectionGroup[] {
  const n = f.endpoints.length;
  if (n === 0) return [];
  const group = (nodePort: boolean): SelectionGroup => ({
    key: `${f.protocol}/${f.loadBalancing}/${n}${nodePort ? '/nodePort' : ''}`,
    protocol: f.protocol,
    loadBalancing: f.loadBalancing,
    endpoints: n,
    nodePort,
  });
  return f.nodePort === undefined ? [group(false)] : [group(false), group(true)];
}

/**
 * Built by join, not a template literal: V8 keeps a concatenated string as a tree of pieces
 * (about 128 bytes for this key, 40 flat), and the catalog and both states hold one per frontend.
 */
export function frontendKey(vip: string, protocol: Protocol, port: number): string {
  return [vip, protocol, port].join('/');
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4.test(s);
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  const pa = a.ip.split('.').map(Number);
  const pb = b.ip.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.port - b.port;
}

/**
 * A service's frontends as if no other service existed, each endpoint list sorted and unique,
 * and what had to be left out (bad addresses or ports, a port or nodePort the service lists
 * twice: the kernel refuses a transaction with two elements of one key, which would stop every
 * sync). Conflicts between services are the ServiceCatalog's business.
 */
export function serviceFrontends(svc: Service): { frontends: Frontend[]; problems: string[] } {
  const id = `${svc.namespace}/${svc.name}`;
  const problems: string[] = [];
  const frontends: Frontend[] = [];
  /** Label of the port that took each frontend key, and each protocol/nodePort. */
  const keys = new Map<string, string>();
  const nodePorts = new Map<string, string>();
  if (!isIPv4(svc.clusterIP)) {
    problems.push(`${id}: clusterIP "${svc.clusterIP}" is not an IPv4 address; its service is not programmed`);
    return { frontends, problems };
  }
  // The API server enforces these enums, but an object stored before its CRD had them still
  // reaches the agent, and an unknown mode would render a rule nft cannot parse.
  if (!LOAD_BALANCING.includes(svc.loadBalancing)) {
    problems.push(`${id}: loadBalancing "${String(svc.loadBalancing)}" is not one of ${LOAD_BALANCING.join(', ')}; its service is not programmed`);
    return { frontends, problems };
  }
  for (const p of svc.ports) {
    // Flat (frontendKey says why): every frontend keeps its label.
    const label = [svc.namespace, '/', svc.name, ':', p.name || p.port].join('');
    if (!isPort(p.port)) {
      problems.push(`${label}: port ${p.port} is not a port number from 1 to 65535; left out`);
      continue;
    }
    if (!PROTOCOLS.includes(p.protocol)) {
      problems.push(`${label}: protocol "${String(p.protocol)}" is not one of ${PROTOCOLS.join(', ')}; left out`);
      continue;
    }
    const key = frontendKey(svc.clusterIP, p.protocol, p.port);
    const taken = keys.get(key);
    if (taken !== undefined) {
      problems.push(`${label}: port ${p.port}/${p.protocol} is listed again (first by ${taken}); left out`);
      continue;
    }
    keys.set(key, label);
    const seen = new Set<string>();
    const endpoints: Endpoint[] = [];
    for (const ep of p.endpoints) {
      if (!isIPv4(ep.ip) || !isPort(ep.port)) {
        problems.push(`${label}: endpoint ${ep.ip}:${ep.port} is not an IPv4 address and port; left out`);
        continue;
      }
      const k = `${ep.ip}:${ep.port}`;
      if (seen.has(k)) continue;
      seen.add(k);
      endpoints.push(ep.remote ? { ip: ep.ip, port: ep.port, remote: true } : { ip: ep.ip, port: ep.port });
    }
    endpoints.sort(compareEndpoints);
    // Copied to its exact length: an array grown by push keeps room for 17 elements, and the
    // catalog keeps this one as long as the service lasts (about 110 bytes a frontend).
    const frontend: Frontend = { key, service: label, vip: svc.clusterIP, protocol: p.protocol, port: p.port, loadBalancing: svc.loadBalancing, endpoints: endpoints.slice() };
    if (p.nodePort !== undefined) {
      const npKey = `${p.nodePort}/${p.protocol}`;
      const npTaken = nodePorts.get(npKey);
      if (!isPort(p.nodePort)) problems.push(`${label}: nodePort ${p.nodePort} is not a port number from 1 to 65535; served without it`);
      else if (npTaken !== undefined) problems.push(`${label}: nodePort ${npKey} is already used by ${npTaken}; served without it`);
      else {
        frontend.nodePort = p.nodePort;
        nodePorts.set(npKey, label);
      }
    }
    frontends.push(frontend);
  }
  return { frontends: frontends.slice(), problems };
}
