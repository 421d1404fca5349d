// iptables mode: every apply is one `iptables-restore --noflush` transaction over our chains; the
// jumps from the built-in chains are checked (and inserted when missing) on full syncs.
import type { ProxyBackend } from './backend.js';
import { runChecked, type Runner } from '../exec.js';
import { JUMPS, iptablesRuleCount, parseOurChains, renderIptablesCleanup, renderIptablesDiff, renderIptablesFull, type ExistingChains } from './iptables-render.js';
import type { ProxyDiff } from './model-diff.js';
import type { ProxyState } from './model.js';

const RESTORE_ARGS = ['--noflush', '--wait'];

export class IptablesBackend implements ProxyBackend {
  readonly mode = 'iptables';

  constructor(private readonly run: Runner) {}

  private async existingChains(): Promise<ExistingChains> {
    const nat = await runChecked(this.run, 'iptables-save', ['-t', 'nat']);
    const filter = await runChecked(this.run, 'iptables-save', ['-t', 'filter']);
    return { nat: parseOurChains(nat.stdout), filter: parseOurChains(filter.stdout) };
  }

  async apply(applied: ProxyState, desired: ProxyState, diff: ProxyDiff, full: boolean): Promise<void> {
    if (!full) {
      await runChecked(this.run, 'iptables-restore', RESTORE_ARGS, renderIptablesDiff(applied, desired, diff));
      return;
    }
    await runChecked(this.run, 'iptables-restore', RESTORE_ARGS, renderIptablesFull(desired, await this.existingChains()));
    for (const j of JUMPS) {
      const check = await this.run('iptables', ['-w', '-t', j.table, '-C', j.chain, ...j.rule]);
      if (check.code !== 0) await runChecked(this.run, 'iptables', ['-w', '-t', j.table, '-I', j.chain, '1', ...j.rule]);
    }
  }

  close(): void {
    // Every apply is a process of its own: nothing stays running.
  }

  counts(state: ProxyState): { rules: number; elements: number } {
    return { rules: iptablesRuleCount(state), elements: 0 };
  }

  async cleanup(): Promise<void> {
    for (const j of JUMPS) {
      // -D removes one copy per call; repeat until none is left.
      while ((await this.run('iptables', ['-w', '-t', j.table, '-D', j.chain, ...j.rule])).code === 0);
    }
    const existing = await this.existingChains();
    if (existing.nat.size + existing.filter.size > 0) await runChecked(this.run, 'iptables-restore', RESTORE_ARGS, renderIptablesCleanup(existing));
  }
}
