// The part that runs a binary's controllers only while this replica leads: it campaigns for the
// leader Lease (or, without leader election, leads at once), runs the controllers once it leads
// and stops them the moment it does not. Losing the Lease, or a controller that fails, fails the
// part — and so ends the binary, which then gives the Lease up: a replica that cannot do its job
// must not go on holding leadership.
import type { LeaderElector } from './leader-election.js';
import type { Part } from './part.js';

/** Work that only the leader does (controller-runtime's runnables that need leader election). */
export interface LeaderRunnable {
  readonly name: string;
  /** Does the work until `signal` aborts, then resolves; rejects when the work cannot go on. */
  run(signal: AbortSignal): Promise<void>;
}

export interface LeadershipOptions {
  /** Undefined: this replica leads at once (`--leader-elect false`). */
  elector: LeaderElector | undefined;
  runnables: readonly LeaderRunnable[];
}

export class Leadership implements Part {
  readonly name = 'leader-election';
  private readonly stopping = new AbortController();
  private leading = false;
  private electing: Promise<void> | undefined;
  private readonly running: Array<Promise<void>> = [];

  constructor(private readonly options: LeadershipOptions) {}

  isLeader(): boolean {
    return this.leading;
  }

  async start(fail: (err: Error) => void): Promise<void> {
    const lead = (signal: AbortSignal): void => {
      const leadership = AbortSignal.any([signal, this.stopping.signal]);
      if (leadership.aborted) return;
      this.leading = true;
      leadership.addEventListener('abort', () => (this.leading = false), { once: true });
      for (const runnable of this.options.runnables) {
        this.running.push(
          runnable.run(leadership).catch((err: unknown) => {
            const cause = err instanceof Error ? err : new Error(String(err));
            fail(new Error(`${runnable.name} failed: ${cause.message}`, { cause }));
          }),
        );
      }
    };
    const elector = this.options.elector;
    if (!elector) {
      lead(this.stopping.signal);
      return;
    }
    this.electing = elector.run({ onStartedLeading: lead }).then(
      (end) => {
        if (end === 'lost') fail(new Error('lost the leader Lease: another replica leads now, or the API server could not be reached to renew it'));
      },
      (err: unknown) => fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  ready(): true {
    return true;
  }

  /** Stops the leader's work first, then gives the Lease up, so that no write follows the handover. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.running);
    this.options.elector?.stop();
    await this.electing;
  }
}
