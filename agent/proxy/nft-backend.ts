// nftables mode: every apply is one `nft -f -` transaction.
import type { ProxyBackend } from './backend.js';
import { runChecked, type Runner } from './exec.js';
import type { ProxyDiff } from './model-diff.js';
import type { ProxyState } from './model.js';
import { nftCounts, renderNftCleanup, renderNftDiff, renderNftFull } from './nft-render.js';

const NFT_ARGS = ['-f', '-'];

export class NftBackend implements ProxyBackend {
  readonly mode = 'nftables';

  constructor(private readonly run: Runner) {}

  async apply(applied: ProxyState, desired: ProxyState, diff: ProxyDiff, full: boolean): Promise<void> {
    const text = full ? renderNftFull(desired) : renderNftDiff(applied, desired, diff);
    if (text) await runChecked(this.run, 'nft', NFT_ARGS, text);
  }

  counts(state: ProxyState): { rules: number; elements: number } {
    return nftCounts(state);
  }

  async cleanup(): Promise<void> {
    await runChecked(this.run, 'nft', NFT_ARGS, renderNftCleanup());
  }
}
