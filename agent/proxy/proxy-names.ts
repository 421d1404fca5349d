// The names one agent's service proxy owns on its host: the nftables table `ip <table>`, and the
// iptables chains (and `recent` lists) that start with the table's name upper-cased and a dash
// (`shopfloor` → `SHOPFLOOR-SERVICES`, `SHOPFLOOR-SVC-<hash>`…). A second agent on the same host
// (a second node, as `test/e2e/two-node` runs one) takes a name of its own, so that each agent
// writes, resyncs and removes only its own rules. Pure.
//
// The rules for a name, and why:
// - It starts with `sf` or `shopfloor`. No nft keyword does (nft refuses a table named like a
//   keyword: `add table ip counter` is a syntax error), and no other program's chains do, as
//   `kube`, `cni` or `docker` would meet KUBE-SERVICES, CNI-HOSTPORT-DNAT or DOCKER-USER.
// - Then lowercase letters, digits and `_`, no `-`: the agent takes every chain that starts with
//   its prefix for its own (to delete those it no longer needs), so no prefix may begin another
//   agent's. With `-` only as the prefix's last character, `SF-` never begins `SF1-…`.
// - At most 11 characters: iptables caps chain names at 28, and the longest chain an agent
//   writes is its prefix (the name and a dash) followed by LONGEST_CHAIN_SUFFIX's 16 characters.
import { LONGEST_CHAIN_SUFFIX } from './iptables-render.js';

export const DEFAULT_PROXY_TABLE = 'shopfloor';
/** iptables-restore refuses a chain name of 29 characters or more. */
const MAX_IPTABLES_CHAIN = 28;
export const MAX_PROXY_TABLE_LENGTH = MAX_IPTABLES_CHAIN - LONGEST_CHAIN_SUFFIX - 1;
const PROXY_TABLE = /^(sf|shopfloor)[a-z0-9_]*$/;

export interface ProxyNames {
  /** The nftables table, in the ip family. */
  table: string;
  /** What the name of every iptables chain and `recent` list of this agent starts with, e.g. `SHOPFLOOR-`. */
  chainPrefix: string;
}

/** Why `table` cannot name an agent's rules, or undefined when it can. */
export function proxyTableProblem(table: string): string | undefined {
  if (PROXY_TABLE.test(table) && table.length <= MAX_PROXY_TABLE_LENGTH) return undefined;
  return `must start with "sf" or "shopfloor", continue with a-z, 0-9 and "_" (no "-"), and be at most ${MAX_PROXY_TABLE_LENGTH} characters, e.g. shopfloor2 or sf_node2 (it names the nftables table, and upper-cased the iptables chains, which iptables caps at ${MAX_IPTABLES_CHAIN} characters)`;
}

/** The names of the proxy table `table`; the error names `field` (a flag, an option) and what is allowed. */
export function proxyNames(table: string, field = 'proxyTable'): ProxyNames {
  const problem = proxyTableProblem(table);
  if (problem) throw new Error(`${field} "${table}" ${problem}`);
  return { table, chainPrefix: `${table.toUpperCase()}-` };
}
