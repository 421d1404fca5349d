// The property that makes incremental syncs safe: along any history of service changes, the full
// render of the first state plus the diff of each step leaves the same table as the full render
// of the state reached (and a full resync on top of it changes nothing). Checked here on fakes of
// the kernel's tables (fake-nft.ts, fake-iptables.ts), pure and fast, over many seeded random
// histories; test/proxy/render-history-netns.test.ts checks a few of them on the kernel's own.
import { describe, expect, it } from '@jest/globals';
import { FakeIptables, FakeIptablesError } from './fake-iptables.js';
import { FakeNftError, FakeNftRuleset } from './fake-nft.js';
import { iptablesChains, parseOurChains, renderIptablesDiff, renderIptablesFull } from './iptables-render.js';
import { renderNftDiff, renderNftFull } from './nft-render.js';
import { DEFAULT_PROXY_TABLE, proxyNames } from './proxy-names.js';
import { replayHistory, type RenderTarget } from './test-fixtures.js';

const HISTORIES = 300;
const STEPS = 30;

const nft: RenderTarget<FakeNftRuleset> = {
  fresh: () => new FakeNftRuleset(),
  full: (fake, state) => fake.apply(renderNftFull(DEFAULT_PROXY_TABLE, state)),
  diff: (fake, applied, desired, diff) => fake.apply(renderNftDiff(DEFAULT_PROXY_TABLE, applied, desired, diff)),
  list: (fake) => fake.list(DEFAULT_PROXY_TABLE),
};

const chains = iptablesChains(proxyNames(DEFAULT_PROXY_TABLE).chainPrefix);
const iptables: RenderTarget<FakeIptables> = {
  fresh: () => new FakeIptables(),
  // As the backend does: the chains of ours that exist now, from iptables-save, for the full render to delete stale ones.
  full: (fake, state) => fake.restore(renderIptablesFull(chains, state, { nat: parseOurChains(chains, fake.save('nat')), filter: parseOurChains(chains, fake.save('filter')) })),
  diff: (fake, applied, desired, diff) => fake.restore(renderIptablesDiff(chains, applied, desired, diff)),
  list: (fake) => ({ nat: fake.save('nat'), filter: fake.save('filter') }),
};

describe.each([
  ['nftables', nft as RenderTarget<unknown>],
  ['iptables', iptables as RenderTarget<unknown>],
])('%s: the full render of the first state plus each diff', (_mode, target) => {
  it(`leaves the table of the full render of the last, over ${HISTORIES} random histories of ${STEPS} changes`, async () => {
    for (let seed = 1; seed <= HISTORIES; seed++) {
      // On a failure the seed names the history, to replay it alone.
      expect({ seed, mismatch: await replayHistory(target, seed, STEPS) }).toEqual({ seed, mismatch: undefined });
    }
  });
});

describe('FakeNftRuleset', () => {
  it('refuses what the kernel refuses, and applies nothing of a refused transaction', () => {
    const fake = new FakeNftRuleset();
    fake.apply('add table ip t\nadd map ip t m { type ipv4_addr : verdict; }\nadd chain ip t c\nadd element ip t m { 10.0.0.1 : goto c }\n');
    const before = fake.list('t');
    expect(() => fake.apply('add element ip t m { 10.0.0.2 : goto c }\ndelete chain ip t c\n')).toThrow(/chain c is in use by an element of m/);
    expect(() => fake.apply('delete element ip t m { 10.0.0.9 }\n')).toThrow(/no element 10.0.0.9/);
    expect(() => fake.apply('add element ip t m { 10.0.0.1 : goto d }\n')).toThrow(/exists with another value/);
    expect(() => fake.apply('add rule ip t c jump nowhere\n')).toThrow(/no chain nowhere/);
    expect(() => fake.apply('flush ruleset\n')).toThrow(FakeNftError);
    expect(fake.list('t')).toEqual(before);
  });
});

describe('FakeIptables', () => {
  it('refuses what iptables-restore refuses, and applies nothing of a refused table', () => {
    const fake = new FakeIptables();
    fake.restore('*nat\n:SF-A - [0:0]\n:SF-B - [0:0]\n-A SF-A -j SF-B\n-A SF-B -j MASQUERADE\nCOMMIT\n');
    const before = fake.save('nat');
    expect(() => fake.restore('*nat\n:SF-C - [0:0]\n-X SF-B\nCOMMIT\n')).toThrow(/chain SF-B is not empty/);
    expect(() => fake.restore('*nat\n:SF-B - [0:0]\n-X SF-B\nCOMMIT\n')).toThrow(/chain SF-B is in use by SF-A/);
    expect(() => fake.restore('*nat\n-A SF-A -j SF-NONE\nCOMMIT\n')).toThrow(/no chain or target SF-NONE/);
    expect(() => fake.restore('*nat\n-I SF-A -j RETURN\nCOMMIT\n')).toThrow(FakeIptablesError);
    expect(fake.save('nat')).toBe(before);
  });
});
