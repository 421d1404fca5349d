// What the proxy's netns suites read back from iptables: one agent's chains as iptables-save
// lists them, in a form that two equal rule sets list the same under different prefixes.
import { runChecked, type Runner } from '../../agent/exec.js';
import { parseOurChains, type ExistingChains, type IptablesChains, type IptablesTable } from '../../agent/proxy/iptables-render.js';

/** `iptables-save` of the chains of `c`, rules chain by chain, with the prefix taken out. */
export async function iptablesListing(run: Runner, c: IptablesChains): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const table of ['nat', 'filter'] as IptablesTable[]) {
    const lines = (await runChecked(run, 'iptables-save', ['-t', table])).stdout.split('\n').filter((l) => l.includes(c.prefix)).map((l) => l.replaceAll(c.prefix, 'P-'));
    const rules: Record<string, string[]> = {};
    for (const l of lines.filter((x) => x.startsWith('-A '))) (rules[l.split(' ')[1]!] ??= []).push(l);
    out[table] = { chains: lines.filter((l) => l.startsWith(':')).sort(), rules: Object.fromEntries(Object.entries(rules).sort(([a], [b]) => a.localeCompare(b))) };
  }
  return out;
}

/** The chains of `c` that exist now, for a full render to delete the stale ones. */
export async function existingChains(run: Runner, c: IptablesChains): Promise<ExistingChains> {
  return {
    nat: parseOurChains(c, (await runChecked(run, 'iptables-save', ['-t', 'nat'])).stdout),
    filter: parseOurChains(c, (await runChecked(run, 'iptables-save', ['-t', 'filter'])).stdout),
  };
}
