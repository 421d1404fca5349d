// What changed between the state last applied to the kernel and the desired one. Pure: the
// renderers turn a diff into an incremental transaction, the proxier turns it into conntrack
// cleanups.
import { dropFrontend, putFrontend, type Endpoint, type Frontend, type ProxyState } from './model.js';

export interface ProxyDiff {
  added: Frontend[];
  removed: Frontend[];
  changed: { before: Frontend; after: Frontend }[];
  nodeAddressesChanged: boolean;
}

function sameEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.ip !== y.ip || x.port !== y.port || !x.remote !== !y.remote) return false;
  }
  return true;
}

export function sameFrontend(a: Frontend, b: Frontend): boolean {
  return (
    a === b ||
    (a.key === b.key &&
      a.service === b.service &&
      a.nodePort === b.nodePort &&
      a.loadBalancing === b.loadBalancing &&
      sameEndpoints(a.endpoints, b.endpoints))
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Compares every frontend, or only those under `keys` when the caller knows which ones it
 * changed since `applied` (then the diff costs O(changes), not O(services)).
 */
export function diffProxyState(applied: ProxyState, desired: ProxyState, keys?: Iterable<string>): ProxyDiff {
  const diff: ProxyDiff = { added: [], removed: [], changed: [], nodeAddressesChanged: !sameList(applied.nodeAddresses, desired.nodeAddresses) };
  if (keys) {
    for (const key of keys) {
      const before = applied.frontends.get(key);
      const after = desired.frontends.get(key);
      if (before && after) {
        if (!sameFrontend(before, after)) diff.changed.push({ before, after });
      } else if (after) diff.added.push(after);
      else if (before) diff.removed.push(before);
    }
    return diff;
  }
  for (const [key, after] of desired.frontends) {
    const before = applied.frontends.get(key);
    if (!before) diff.added.push(after);
    else if (!sameFrontend(before, after)) diff.changed.push({ before, after });
  }
  for (const [key, before] of applied.frontends) {
    if (!desired.frontends.has(key)) diff.removed.push(before);
  }
  return diff;
}

/** Moves `state` forward by `diff` in place, in O(changes). */
export function advanceState(state: ProxyState, diff: ProxyDiff, nodeAddresses: readonly string[]): void {
  for (const f of diff.removed) dropFrontend(state, f.key);
  for (const f of diff.added) putFrontend(state, f);
  for (const { after } of diff.changed) putFrontend(state, after);
  state.nodeAddresses = [...nodeAddresses];
}

export function isEmptyDiff(diff: ProxyDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0 && !diff.nodeAddressesChanged;
}

/**
 * A UDP flow whose endpoint left a frontend. Its conntrack entry keeps the old translation, so
 * without deleting it a client that keeps sending (statsd, DNS from a fixed port) would keep
 * reaching the endpoint that is gone.
 */
export interface StaleUdpFlow {
  /** Original destination: the VIP and port, or (nodePort) only the port. */
  vip?: string;
  port: number;
  endpointIP: string;
}

export function staleUdpFlows(diff: ProxyDiff): StaleUdpFlow[] {
  const flows: StaleUdpFlow[] = [];
  const gone = (f: Frontend, endpoints: readonly Endpoint[]): void => {
    for (const ep of endpoints) {
      flows.push({ vip: f.vip, port: f.port, endpointIP: ep.ip });
      if (f.nodePort !== undefined) flows.push({ port: f.nodePort, endpointIP: ep.ip });
    }
  };
  for (const f of diff.removed) if (f.protocol === 'UDP') gone(f, f.endpoints);
  for (const { before, after } of diff.changed) {
    if (before.protocol !== 'UDP') continue;
    const kept = new Set(after.endpoints.map((e) => `${e.ip}:${e.port}`));
    const lostNodePort = before.nodePort !== undefined && before.nodePort !== after.nodePort;
    for (const ep of before.endpoints) {
      if (!kept.has(`${ep.ip}:${ep.port}`)) gone(before, [ep]);
      else if (lostNodePort) flows.push({ port: before.nodePort!, endpointIP: ep.ip });
    }
  }
  return flows;
}
