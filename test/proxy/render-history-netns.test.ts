// The renderers' history property (agent/proxy/render-history.test.ts) on the kernel's own
// tables: a few seeded histories applied with nft and iptables-restore in a network namespace of
// this suite's own, the diffs into one table (or chain prefix) and the full renders into another,
// compared by the kernel's listings. The namespace goes, with every rule in it, at the end.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { runChecked, spawnRunner, type Runner } from '../../agent/exec.js';
import { iptablesChains, renderIptablesDiff, renderIptablesFull, type IptablesChains } from '../../agent/proxy/iptables-render.js';
import { renderNftDiff, renderNftFull } from '../../agent/proxy/nft-render.js';
import { replayHistory, type RenderTarget } from '../../agent/proxy/test-fixtures.js';
import { existingChains, iptablesListing } from '../netns/iptables.js';

const HISTORIES = 3;
const STEPS = 25;

const netns = `sfr-${randomBytes(3).toString('hex')}`;
const host = spawnRunner();
const run: Runner = spawnRunner({ netns });

beforeAll(async () => {
  await runChecked(host, 'ip', ['netns', 'add', netns]);
});

afterAll(async () => {
  await runChecked(host, 'ip', ['netns', 'delete', netns]);
});

/** `nft -j list table`, without what differs between equal tables: handles, the table's name, element order. */
async function nftListing(table: string): Promise<unknown> {
  const { stdout } = await runChecked(run, 'nft', ['-j', 'list', 'table', 'ip', table]);
  const rules: Record<string, string[]> = {};
  const others: string[] = [];
  for (const item of (JSON.parse(stdout) as { nftables: Record<string, Record<string, unknown>>[] }).nftables) {
    const [kind, body] = Object.entries(item)[0]!;
    if (kind === 'metainfo') continue;
    const { handle: _handle, table: _table, ...rest } = body;
    if (Array.isArray(rest['elem'])) rest['elem'] = rest['elem'].map((e) => JSON.stringify(e)).sort();
    if (kind === 'table') rest['name'] = '';
    if (kind === 'rule') (rules[String(rest['chain'])] ??= []).push(JSON.stringify(rest));
    else others.push(`${kind} ${JSON.stringify(rest)}`);
  }
  return { others: others.sort(), rules: Object.fromEntries(Object.entries(rules).sort(([a], [b]) => a.localeCompare(b))) };
}

// The diffs go into the first table or prefix, the full renders of each step into the second.
const nft = (): RenderTarget<string> => {
  let next = 0;
  return {
    fresh: () => (next++ === 0 ? 'shopfloor' : 'sfreference'),
    full: async (table, state) => void (await runChecked(run, 'nft', ['-f', '-'], renderNftFull(table, state))),
    diff: async (table, applied, desired, diff) => {
      const script = renderNftDiff(table, applied, desired, diff);
      if (script) await runChecked(run, 'nft', ['-f', '-'], script);
    },
    list: (table) => nftListing(table),
  };
};

const iptables = (): RenderTarget<IptablesChains> => {
  let next = 0;
  return {
    fresh: () => iptablesChains(next++ === 0 ? 'SHOPFLOOR-' : 'SFREF-'),
    full: async (c, state) => void (await runChecked(run, 'iptables-restore', ['--noflush', '--wait'], renderIptablesFull(c, state, await existingChains(run, c)))),
    diff: async (c, applied, desired, diff) => {
      const input = renderIptablesDiff(c, applied, desired, diff);
      if (input) await runChecked(run, 'iptables-restore', ['--noflush', '--wait'], input);
    },
    list: (c) => iptablesListing(run, c),
  };
};

describe.each([
  ['nftables', nft as () => RenderTarget<unknown>],
  ['iptables', iptables as () => RenderTarget<unknown>],
])('%s in the kernel: the full render of the first state plus each diff', (_mode, target) => {
  it(`lists the same as the full render of the last, over ${HISTORIES} random histories of ${STEPS} changes`, async () => {
    for (let seed = 1; seed <= HISTORIES; seed++) {
      expect({ seed, mismatch: await replayHistory(target(), seed, STEPS) }).toEqual({ seed, mismatch: undefined });
    }
  }, 180_000);
});
