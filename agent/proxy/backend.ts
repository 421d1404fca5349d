// What the proxier needs from a rule backend (nftables or iptables).
import type { ProxyDiff } from './model-diff.js';
import type { ProxyState } from './model.js';

export const PROXY_MODES = ['nftables', 'iptables'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

export interface ProxyBackend {
  readonly mode: ProxyMode;
  /**
   * Makes the kernel hold `desired`: everything when `full`, else only `diff` (computed from
   * `applied`, the state of the last successful apply). One atomic transaction. Throws a
   * CommandError carrying the program's stderr when the kernel refuses it.
   */
  apply(applied: ProxyState, desired: ProxyState, diff: ProxyDiff, full: boolean): Promise<void>;
  /** What `state` programs, for the rules/elements gauges. */
  counts(state: ProxyState): { rules: number; elements: number };
  /** Removes this backend's table or chains and nothing else; a no-op when they are absent. */
  cleanup(): Promise<void>;
  /** Ends any long-lived helper process; the rules stay. */
  close(): void;
}
