// Services shared by the proxy's tests, and random histories of them.
import { advanceState, diffProxyState, type ProxyDiff } from './model-diff.js';
import { cloneState, type Endpoint, type LoadBalancing, type ProxyState, type Service } from './model.js';
import { ServiceCatalog } from './service-catalog.js';

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

/** A small seeded generator (mulberry32): the same seed gives the same sequence on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One step of a random history: a service set (or removed, when undefined), or new node addresses. */
export type ProxyChange = { id: string; service: Service | undefined } | { nodeAddresses: string[] };

const MODES: readonly LoadBalancing[] = ['Random', 'RoundRobin', 'SourceIP'];

/**
 * Random changes over a few services drawn from small pools of VIPs, ports, nodePorts and
 * endpoint addresses, so that services clash, share selection chains and endpoints, and move
 * between modes, protocols and endpoint counts (none included).
 */
export function randomChanges(random: () => number, steps: number): ProxyChange[] {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const ids = ['a/one', 'a/two', 'b/one', 'b/two', 'c/one', 'c/two'];
  const service = (id: string): Service => {
    const [namespace, name] = id.split('/') as [string, string];
    const portCount = 1 + Math.floor(random() * 3);
    return {
      namespace,
      name,
      clusterIP: pick(['10.96.0.1', '10.96.0.2', '10.96.0.3', '10.96.0.4']),
      loadBalancing: pick(MODES),
      ports: Array.from({ length: portCount }, (_, i) => {
        const endpoints: Endpoint[] = [];
        for (let n = Math.floor(random() * 5); n > 0; n--) {
          const ip = `10.244.${pick([0, 1])}.${1 + Math.floor(random() * 6)}`;
          endpoints.push(random() < 0.3 ? { ip, port: pick([8080, 9090]), remote: true } : { ip, port: pick([8080, 9090]) });
        }
        const port = { name: `p${i}`, protocol: pick(['TCP', 'UDP'] as const), port: pick([53, 80, 443]), endpoints };
        return random() < 0.4 ? { ...port, nodePort: pick([30001, 30002, 30003]) } : port;
      }),
    };
  };
  return Array.from({ length: steps }, (): ProxyChange => {
    if (random() < 0.1) return { nodeAddresses: ['192.168.1.1', '192.168.1.2', '192.168.1.3'].filter(() => random() < 0.6) };
    const id = pick(ids);
    return { id, service: random() < 0.2 ? undefined : service(id) };
  });
}

/** A renderer with the tables it programs (a fake, or the kernel's in a network namespace). */
export interface RenderTarget<T> {
  fresh(): T | Promise<T>;
  full(tables: T, state: ProxyState): void | Promise<void>;
  diff(tables: T, applied: ProxyState, desired: ProxyState, diff: ProxyDiff): void | Promise<void>;
  /** The tables in a form that compares equal when they mean the same. */
  list(tables: T): unknown;
}

function applyChange(catalog: ServiceCatalog, c: ProxyChange): string[] {
  if ('nodeAddresses' in c) {
    catalog.setNodeAddresses(c.nodeAddresses);
    return [];
  }
  return catalog.setService(c.id, c.service).changed;
}

/**
 * Replays the seeded history `seed` on `target` the way the proxier drives a backend (changed
 * keys from the catalog, the applied state advanced by each diff): a full render of the first
 * state, then one diff per step, each compared with a full render of that step's state into
 * fresh tables, and at the end a full resync over what the diffs left. Returns the first step
 * whose tables differ, with both listings; undefined when none does.
 */
export async function replayHistory<T>(target: RenderTarget<T>, seed: number, steps: number): Promise<{ step: number; incremental: unknown; full: unknown } | undefined> {
  const random = seededRandom(seed);
  const changes = randomChanges(random, steps);
  const catalog = new ServiceCatalog();
  catalog.setNodeAddresses(['192.168.1.1']);
  // The first state is whatever the first few changes made of an empty catalog.
  const start = Math.floor(random() * 5);
  for (const c of changes.slice(0, start)) applyChange(catalog, c);
  const incremental = await target.fresh();
  await target.full(incremental, catalog.state);
  const applied = cloneState(catalog.state);
  const compare = async (step: number, reference: T) => {
    const [a, b] = await Promise.all([target.list(incremental), target.list(reference)]);
    return JSON.stringify(a) === JSON.stringify(b) ? undefined : { step, incremental: a, full: b };
  };
  for (let step = start; step < changes.length; step++) {
    const changed = applyChange(catalog, changes[step]!);
    // The proxier diffs only the changed keys, or everything after a failed sync.
    const diff = diffProxyState(applied, catalog.state, random() < 0.8 ? changed : undefined);
    await target.diff(incremental, applied, catalog.state, diff);
    advanceState(applied, diff, catalog.state.nodeAddresses);
    const reference = await target.fresh();
    await target.full(reference, catalog.state);
    const mismatch = await compare(step, reference);
    if (mismatch) return mismatch;
  }
  const resynced = await target.fresh();
  await target.full(resynced, catalog.state);
  await target.full(incremental, catalog.state);
  return compare(changes.length, resynced);
}
