// The desired proxy state, kept up to date one service at a time. A service's change touches
// only the frontends it claims, so the catalog reports exactly which frontend keys changed and a
// sync costs O(changes), not O(services). When services clash (the same VIP:port, or the same
// nodePort), the one first in namespace/name order wins, on every node and after every restart.
import { dropFrontend, emptyState, isIPv4, putFrontend, serviceFrontends, type Frontend, type ProxyState, type Service } from './model.js';
import { sameFrontend } from './model-diff.js';

/**
 * Who claims each key: one id, as nearly every key has, or a set of them when services clash.
 * A set for every key would cost about 100 bytes a frontend, 10 MB at 100,000 services.
 */
type Claims = Map<string, string | Set<string>>;

function claimants(index: Claims, key: string): Iterable<string> {
  const ids = index.get(key);
  return ids === undefined ? [] : typeof ids === 'string' ? [ids] : ids;
}

function first(ids: Iterable<string>): string | undefined {
  let min: string | undefined;
  for (const id of ids) if (min === undefined || id < min) min = id;
  return min;
}

function claim(index: Claims, key: string, id: string): void {
  const ids = index.get(key);
  if (ids === undefined || ids === id) index.set(key, id);
  else if (typeof ids === 'string') index.set(key, new Set([ids, id]));
  else ids.add(id);
}

function release(index: Claims, key: string, id: string): void {
  const ids = index.get(key);
  if (ids === id) index.delete(key);
  else if (ids instanceof Set) {
    ids.delete(id);
    if (ids.size === 1) index.set(key, first(ids)!);
  }
}

/**
 * A service's frontends: the one most services have, or a list. A list for every service would
 * cost about 56 bytes each, 5.6 MB at 100,000.
 */
type Wanted = Frontend | readonly Frontend[];

function frontendsOf(wanted: Wanted | undefined): readonly Frontend[] {
  return wanted === undefined ? [] : Array.isArray(wanted) ? wanted : [wanted as Frontend];
}

const nodePortKey = (f: Frontend) => [f.protocol, f.nodePort].join('/');

export class ServiceCatalog {
  /** The live desired state; changed in place, hand it to the proxier with the changed keys. */
  readonly state: ProxyState = emptyState();
  /** Each service's frontends as it asks for them (a few: one per port), by `namespace/name`. */
  private readonly wanted = new Map<string, Wanted>();
  private readonly keyClaims: Claims = new Map();
  private readonly nodePortClaims: Claims = new Map();
  /** The services with problems of their own (bad fields), by `namespace/name`. */
  private readonly fieldProblems = new Map<string, string[]>();
  /** Clashes lost, by frontend key, as of the last time the key was resolved. */
  private readonly clashes = new Map<string, string[]>();
  private readonly addressProblems: string[] = [];

  /**
   * Sets one service (undefined removes it). Returns the frontend keys whose rules changed and
   * the service's problems (bad fields, clashes it lost), for the caller to log.
   */
  setService(id: string, service: Service | undefined): { changed: string[]; problems: string[] } {
    const affected = new Set<string>();
    const touchNodePort = (npKey: string): void => {
      for (const other of claimants(this.nodePortClaims, npKey)) {
        for (const f of this.wantedBy(other)) if (f.nodePort !== undefined && nodePortKey(f) === npKey) affected.add(f.key);
      }
    };
    const old = this.wanted.get(id);
    if (old) {
      for (const f of frontendsOf(old)) {
        affected.add(f.key);
        release(this.keyClaims, f.key, id);
        if (f.nodePort !== undefined) {
          touchNodePort(nodePortKey(f));
          release(this.nodePortClaims, nodePortKey(f), id);
        }
      }
      this.wanted.delete(id);
    }
    let own: string[] = [];
    if (service) {
      const built = serviceFrontends(service);
      own = built.problems;
      for (const f of built.frontends) {
        affected.add(f.key);
        claim(this.keyClaims, f.key, id);
        if (f.nodePort !== undefined) {
          claim(this.nodePortClaims, nodePortKey(f), id);
          touchNodePort(nodePortKey(f));
        }
      }
      this.wanted.set(id, built.frontends.length === 1 ? built.frontends[0]! : built.frontends);
    }
    if (own.length > 0) this.fieldProblems.set(id, own);
    else this.fieldProblems.delete(id);
    const changed: string[] = [];
    for (const key of affected) if (this.resolve(key)) changed.push(key);
    const lost = this.wantedBy(id).flatMap((f) => (this.clashes.get(f.key) ?? []).filter((m) => m.startsWith(`${id}:`)));
    return { changed, problems: [...own, ...lost] };
  }

  /** Sets the addresses nodePorts answer on; returns whether they changed. */
  setNodeAddresses(addresses: readonly string[]): boolean {
    this.addressProblems.length = 0;
    const valid = [...new Set(addresses)].filter((a) => {
      if (isIPv4(a)) return true;
      this.addressProblems.push(`node address "${a}" is not an IPv4 address; nodePorts are not served on it`);
      return false;
    });
    valid.sort();
    const same = valid.length === this.state.nodeAddresses.length && valid.every((a, i) => a === this.state.nodeAddresses[i]);
    this.state.nodeAddresses = valid;
    return !same;
  }

  /** Every problem now: bad fields, clashes, bad node addresses. */
  problems(): string[] {
    return [...[...this.fieldProblems.values()].flat(), ...[...this.clashes.values()].flat()].sort().concat(this.addressProblems);
  }

  private wantedBy(id: string): readonly Frontend[] {
    return frontendsOf(this.wanted.get(id));
  }

  /** Recomputes the frontend at `key` from its claimants; returns whether it changed. */
  private resolve(key: string): boolean {
    const ids = [...claimants(this.keyClaims, key)];
    const owner = first(ids);
    const wantedAt = (id: string) => this.wantedBy(id).find((f) => f.key === key);
    let next = owner === undefined ? undefined : wantedAt(owner);
    const notes: string[] = [];
    for (const id of ids.sort()) {
      const loser = wantedAt(id);
      if (id !== owner && loser && next) notes.push(`${loser.service}: ${next.vip}:${next.port}/${next.protocol} is already served for ${next.service}; left out`);
    }
    if (next?.nodePort !== undefined) {
      const np = next.nodePort;
      const npOwner = first(claimants(this.nodePortClaims, nodePortKey(next)));
      if (npOwner !== undefined && npOwner !== owner) {
        const winner = this.wantedBy(npOwner).find((f) => f.nodePort === np && f.protocol === next!.protocol);
        notes.push(`${next.service}: nodePort ${np}/${next.protocol} is already used by ${winner?.service ?? npOwner}; served without it`);
        next = { ...next };
        delete next.nodePort;
      }
    }
    if (notes.length) this.clashes.set(key, notes);
    else this.clashes.delete(key);
    const current = this.state.frontends.get(key);
    if (current && next && sameFrontend(current, next)) return false;
    if (!current && !next) return false;
    if (next) putFrontend(this.state, next);
    else dropFrontend(this.state, key);
    return true;
  }
}

export interface BuildResult {
  state: ProxyState;
  /** What was left out and why: clashes between services, bad addresses. */
  problems: string[];
}

/** The state of a whole set of services at once (tests, benchmarks). */
export function buildProxyState(services: readonly Service[], nodeAddresses: readonly string[]): BuildResult {
  const catalog = new ServiceCatalog();
  for (const svc of services) catalog.setService(`${svc.namespace}/${svc.name}`, svc);
  catalog.setNodeAddresses(nodeAddresses);
  return { state: catalog.state, problems: catalog.problems() };
}
