// iptables mode: every apply is one `iptables-restore --noflush` transaction over our chains; the
// jumps from the built-in chains are checked (and inserted when missing) on full syncs.
import type { ProxyBackend } from './backend.js';
import { runChecked, type Runner } from '../exec.js';
import { iptablesChains, iptablesRuleCount, parseOurChains, renderIptablesCleanup, renderIptablesDiff, renderIptablesFull, type ExistingChains, type IptablesChains } from './iptables-render.js';
import type { ProxyDiff } from './model-diff.js';
import type { ProxyState } from './model.js';
import { proxyNames } from './proxy-names.js';

const RESTORE_ARGS = ['--noflush', '--wait'];

export class IptablesBackend implements ProxyBackend {
  readonly mode = 'iptables';
  private readonly chains: IptablesChains;

  /** Over the chains of the agent's own table name (proxy-names.ts); a name iptables could misread is refused here. */
  constructor(
    private readonly run: Runner,
    table: string,
  ) {
    this.chains = iptablesChains(proxyNames(table).chainPrefix);
  }

  private async existingChains(): Promise<ExistingChains> {
    const nat = await runChecked(this.run, 'iptables-save', ['-t', 'nat']);
    const filter = await runChecked(this.run, 'iptables-save', ['-t', 'filter']);
    return { nat: parseOurChains(this.chains, nat.stdout), filter: parseOurChains(this.chains, filter.stdout) };
  }

  async apply(applied: ProxyState, desired: ProxyState, diff: ProxyDiff, full: boolean): Promise<void> {
    if (!full) {
      const text = renderIptablesDiff(this.chains, applied, desired, diff);
      if (text) await runChecked(this.run, 'iptables-restore', RESTORE_ARGS, text);
      return;
    }
    await runChecked(this.run, 'iptables-restore', RESTORE_ARGS, renderIptablesFull(this.chains, desired, await this.existingChains()));
    for (const j of this.chains.jumps) {
      const check = await this.run('iptables', ['-w', '-t', j.table, '-C', j.chain, ...j.rule]);
      if (check.code !== 0) await runChecked(this.run, 'iptables', ['-w', '-t', j.table, '-I', j.chain, '1', ...j.rule]);
    }
  }

  close(): void {
    // Every apply is a process of its own: nothing stays running.
  }

  counts(state: ProxyState): { rules: number; elements: number } {
    return { rules: iptablesRuleCount(this.chains, state), elements: 0 };
  }

  async cleanup(): Promise<void> {
    for (const j of this.chains.jumps) {
      // -D removes one copy per call; repeat until none is left.
      while ((await this.run('iptables', ['-w', '-t', j.table, '-D', j.chain, ...j.rule])).code === 0);
    }
    const existing = await this.existingChains();
    if (existing.nat.size + existing.filter.size > 0) await runChecked(this.run, 'iptables-restore', RESTORE_ARGS, renderIptablesCleanup(this.chains, existing));
  }
}
