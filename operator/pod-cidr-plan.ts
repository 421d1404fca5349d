// Which node gets which pod IP range, like kube-controller-manager's node IPAM: the cluster's pod
// range is cut into subnets of one size, and a node whose agent asks for one (its NodeAgent has
// no spec.podCIDR) gets the lowest free subnet. A range a node already holds — handed out earlier,
// or given by its agent's --pod-cidr — is never handed to another node, even where it only
// overlaps a subnet, so that no two nodes' pods share an address.
import { ipToNumber, numberToIp, parseCidr, type Cidr } from './ipv4.js';

/** The chart's cluster pod range: clear of flannel's 10.244.0.0/16 and of the VIPs' 10.250.0.0/16. */
export const EXAMPLE_CLUSTER_POD_CIDR = '10.245.0.0/16';
export const DEFAULT_NODE_CIDR_MASK_SIZE = 24;

export interface PodCidrRange {
  cluster: Cidr;
  /** The prefix length of each node's subnet. */
  maskSize: number;
}

/** The cluster range cut into /maskSize subnets; throws naming what is wrong and what is allowed. */
export function podCidrRange(cluster: string, maskSize: number): PodCidrRange {
  const range = parseCidr(cluster, 'cluster pod range', EXAMPLE_CLUSTER_POD_CIDR);
  const prefix = 32 - Math.log2(range.size);
  if (!Number.isInteger(maskSize) || maskSize < prefix || maskSize > 30) {
    throw new Error(`node pod range size /${maskSize} does not fit the cluster pod range ${range.text}: give a prefix length from ${prefix} to 30`);
  }
  return { cluster: range, maskSize };
}

/** A node as the allocation sees it: its name and the range it holds, if any. */
export interface NodeRange {
  name: string;
  podCIDR: string | undefined;
}

/** The first address and size of an IPv4 CIDR, or undefined when it is not one. */
function span(cidr: string): { first: number; size: number } | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr);
  const ip = m ? ipToNumber(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) return undefined;
  const size = 2 ** (32 - prefix);
  return { first: ip - (ip % size), size };
}

/** The subnets of `range` that `cidr` overlaps, by index. */
function subnetsOverlapped(range: PodCidrRange, cidr: string): number[] {
  const s = span(cidr);
  if (!s) return [];
  const subnetSize = 2 ** (32 - range.maskSize);
  const first = Math.max(s.first, range.cluster.base);
  const last = Math.min(s.first + s.size, range.cluster.base + range.cluster.size) - 1;
  if (first > last) return [];
  const out: number[] = [];
  for (let i = Math.floor((first - range.cluster.base) / subnetSize); i <= Math.floor((last - range.cluster.base) / subnetSize); i++) out.push(i);
  return out;
}

export interface PodCidrPlan {
  /** Nodes that get a range now, by name order. */
  allocate: Array<{ node: string; podCIDR: string }>;
  /** Nodes that asked but found the cluster range full. */
  exhausted: string[];
  /**
   * Nodes whose ranges overlap another node's (a range given by hand over one handed out, say),
   * each with the first such other node: pods of the two may share addresses until one moves.
   */
  overlapping: Array<{ node: string; podCIDR: string; with: string }>;
}

/** The nodes whose ranges overlap another's, by name order. */
function overlaps(nodes: readonly NodeRange[]): PodCidrPlan['overlapping'] {
  const held = nodes
    .flatMap((n) => {
      const s = n.podCIDR ? span(n.podCIDR) : undefined;
      return s && n.podCIDR ? [{ name: n.name, podCIDR: n.podCIDR, ...s }] : [];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const out: PodCidrPlan['overlapping'] = [];
  for (const a of held) {
    const other = held.find((b) => b !== a && a.first < b.first + b.size && b.first < a.first + a.size);
    if (other) out.push({ node: a.name, podCIDR: a.podCIDR, with: other.name });
  }
  return out;
}

/** The ranges to hand out to the nodes that hold none, and the held ranges that clash; pure. */
export function planPodCidrs(nodes: readonly NodeRange[], range: PodCidrRange): PodCidrPlan {
  const taken = new Set<number>();
  for (const n of nodes) if (n.podCIDR) for (const i of subnetsOverlapped(range, n.podCIDR)) taken.add(i);
  const subnetSize = 2 ** (32 - range.maskSize);
  const count = range.cluster.size / subnetSize;
  const plan: PodCidrPlan = { allocate: [], exhausted: [], overlapping: overlaps(nodes) };
  let next = 0;
  for (const n of [...nodes].filter((n) => !n.podCIDR).sort((a, b) => a.name.localeCompare(b.name))) {
    while (next < count && taken.has(next)) next++;
    if (next >= count) {
      plan.exhausted.push(n.name);
      continue;
    }
    taken.add(next);
    plan.allocate.push({ node: n.name, podCIDR: `${numberToIp(range.cluster.base + next * subnetSize)}/${range.maskSize}` });
  }
  return plan;
}
