import type { ProxyBackend } from './backend.js';
import { runChecked, runCheckedStreaming, type Runner } from '../exec.js';
import type { ProxyDiff } from './model-diff.js';
import type { ProxyState } from './model.js';
import { nftCounts, renderNftCleanup, renderNftDiff, renderNftFullStatements } from './nft-render.js';
import { NftSession, SESSION_MAX_BYTES } from './nft-session.js';
import { proxyNames } from './proxy-names.js';

const NFT_ARGS = ['-f', '-'];

/**
 * nftables mode: full syncs are one `nft -f -` transaction; incremental ones go through a
 * long-lived `nft -i` session (see nft-session.ts), each one atomic too.
 */
export class NftBackend implements ProxyBackend {
  readonly mode = 'nftables';
  private readonly session: NftSession;

  private readonly table: string;

  /** Over the agent's own table (proxy-names.ts); a name nft could misread is refused here. */
  constructor(
    private readonly run: Runner,
    table: string,
  ) {
    this.table = proxyNames(table).table;
    this.session = new NftSession(run);
  }

  async apply(applied: ProxyState, desired: ProxyState, diff: ProxyDiff, full: boolean): Promise<void> {
    if (full) {
      await runCheckedStreaming(this.run, 'nft', NFT_ARGS, renderNftFullStatements(this.table, desired));
      return;
    }
    const text = renderNftDiff(this.table, applied, desired, diff);
    if (!text) return;
    if (text.length > SESSION_MAX_BYTES) await runChecked(this.run, 'nft', NFT_ARGS, text);
    else await this.session.apply(text);
  }

  close(): void {
    this.session.close();
  }

  counts(state: ProxyState): { rules: number; elements: number } {
    return nftCounts(state);
  }

  async cleanup(): Promise<void> {
    await runChecked(this.run, 'nft', NFT_ARGS, renderNftCleanup(this.table));
  }
}
