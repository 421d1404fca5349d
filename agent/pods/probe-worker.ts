// One probe of one container, with kubelet's prober worker semantics: an initial verdict per
// probe type, no probing before the container runs and its initial delay has passed, verdicts that
// change only after a threshold of consecutive results, errors thrown away, and a hold after a
// liveness/startup failure until the container is replaced. Time comes from an injected clock.
import type { Probe } from '../../api/template.js';
import type { Clock } from '../../kube/clock.js';
import type { ProbeOutcome } from './probe-handlers.js';

export type ProbeType = 'readiness' | 'liveness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

/** kubelet's verdicts before the first probe: not ready, alive, not known to have started. */
export const INITIAL_RESULT: Readonly<Record<ProbeType, ProbeResult>> = { readiness: 'failure', liveness: 'success', startup: 'unknown' };

/** The container instance a worker probes, as the runtime last reported it. */
export interface ContainerInstance {
  containerId: string;
  running: boolean;
  /** When the container started (ms since the epoch). */
  startedAt: number;
}

/** The verdict and the run of equal results that leads to the next one. */
export interface Tally {
  verdict: ProbeResult;
  last: 'success' | 'failure' | undefined;
  run: number;
}

export function freshTally(verdict: ProbeResult): Tally {
  return { verdict, last: undefined, run: 0 };
}

/**
 * Counts one probe result. `decided` is true when the run of equal results reached its threshold,
 * which sets the verdict (to what it already was, possibly).
 */
export function countResult(tally: Tally, result: 'success' | 'failure', thresholds: Pick<Probe, 'successThreshold' | 'failureThreshold'>): { tally: Tally; decided: boolean } {
  const run = tally.last === result ? tally.run + 1 : 1;
  const threshold = result === 'success' ? thresholds.successThreshold : thresholds.failureThreshold;
  const decided = run >= threshold;
  return { tally: { verdict: decided ? result : tally.verdict, last: result, run }, decided };
}

export interface ProbeWorkerOptions {
  type: ProbeType;
  probe: Probe;
  clock: Clock;
  /** In [0, 1): spreads the first probes of containers adopted after an agent restart. */
  random?: () => number;
  /** Probes the container once; rejects for a probe error. */
  run: (containerId: string) => Promise<ProbeOutcome>;
  /** Whether the container's startup probe has succeeded (true without one); gates liveness and readiness. */
  started: () => boolean;
  /** A probe changed the verdict. */
  onVerdict: (result: ProbeResult, output: string) => void;
  /** Every probe that ran, by kubelet's metric result (a success, a failure, or an error: 'unknown'), and the seconds it took. */
  onProbe?: (result: 'successful' | 'failed' | 'unknown', output: string, seconds: number) => void;
  /**
   * The verdict the agent reported for this very container instance before it restarted; it
   * replaces the initial verdict so that Ready and Started do not flip when the agent restarts.
   */
  seed?: ProbeResult | undefined;
}

export class ProbeWorker {
  private container: ContainerInstance;
  private tally: Tally;
  private onHold = false;
  private inFlight = false;
  private stopped = false;
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly options: ProbeWorkerOptions,
    container: ContainerInstance,
  ) {
    this.container = { ...container };
    this.tally = freshTally(options.seed ?? INITIAL_RESULT[options.type]);
    if (!container.running) {
      this.notRunning();
      return;
    }
    // A container that has run for over a period was adopted, most likely by an agent that just
    // restarted with many such containers: spread their first probes over one period.
    const periodMs = options.probe.periodSeconds * 1000;
    const adopted = options.clock.now() - container.startedAt > periodMs;
    this.arm(adopted ? (options.random ?? Math.random)() * periodMs : 0);
  }

  result(): ProbeResult {
    return this.tally.verdict;
  }

  /** The container instance the verdict is about. */
  containerId(): string {
    return this.container.containerId;
  }

  /** The container as the runtime now reports it; a new container ID starts over from the initial verdict. */
  update(container: ContainerInstance): void {
    if (this.stopped) return;
    const previous = this.container;
    this.container = { ...container };
    if (container.containerId !== previous.containerId) {
      this.tally = freshTally(INITIAL_RESULT[this.options.type]);
      this.onHold = false;
      this.disarm();
      if (container.running) this.arm(0);
      else this.notRunning();
      return;
    }
    if (!container.running) {
      this.disarm();
      this.notRunning();
    } else if (!previous.running) {
      this.arm(0);
    }
  }

  /** Probes now if probing is allowed (the manager calls it once startup succeeded). */
  trigger(): void {
    if (this.inFlight || this.stopped) return;
    this.disarm();
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  /**
   * A container that does not run is not ready (kubelet records a failure for it). Its liveness
   * and startup verdicts stay: they only ever matter for a running container.
   */
  private notRunning(): void {
    if (this.options.type === 'readiness') this.tally = { ...this.tally, verdict: 'failure' };
  }

  private probing(): boolean {
    return !this.stopped && !this.onHold && this.container.running && !(this.options.type === 'startup' && this.tally.verdict === 'success');
  }

  private arm(delayMs: number): void {
    this.disarm();
    if (!this.probing()) return;
    this.cancelTimer = this.options.clock.setTimer(() => {
      this.cancelTimer = undefined;
      this.tick();
    }, delayMs);
  }

  private disarm(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private tick(): void {
    if (this.inFlight || !this.probing()) return;
    // Without a trigger once startup succeeds, liveness and readiness wait (no polling meanwhile).
    if (this.options.type !== 'startup' && !this.options.started()) return;
    const dueAt = this.container.startedAt + this.options.probe.initialDelaySeconds * 1000;
    const now = this.options.clock.now();
    if (now < dueAt) {
      this.arm(dueAt - now);
      return;
    }
    void this.probeOnce(now);
  }

  private async probeOnce(startedAt: number): Promise<void> {
    const { containerId } = this.container;
    this.inFlight = true;
    let outcome: ProbeOutcome | undefined;
    try {
      outcome = await this.options.run(containerId);
    } catch (err) {
      // A probe error says nothing about the container: kubelet throws the result away.
      this.options.onProbe?.('unknown', err instanceof Error ? err.message : String(err), this.secondsSince(startedAt));
    } finally {
      this.inFlight = false;
    }
    if (this.stopped) return;
    if (containerId !== this.container.containerId || !this.container.running) {
      // The container changed while the probe ran: the result is stale; start over for the new one.
      this.arm(0);
      return;
    }
    if (outcome) this.record(outcome, this.secondsSince(startedAt));
    const periodMs = this.options.probe.periodSeconds * 1000;
    this.arm(Math.max(0, startedAt + periodMs - this.options.clock.now()));
  }

  private secondsSince(ms: number): number {
    return (this.options.clock.now() - ms) / 1000;
  }

  private record(outcome: ProbeOutcome, seconds: number): void {
    this.options.onProbe?.(outcome.result === 'success' ? 'successful' : 'failed', outcome.output, seconds);
    const before = this.tally.verdict;
    const { tally, decided } = countResult(this.tally, outcome.result, this.options.probe);
    this.tally = tally;
    if (decided && outcome.result === 'failure' && this.options.type !== 'readiness') {
      // The container will be killed: probing it while it dies only races the kill. Hold until
      // a new container ID shows up.
      this.onHold = true;
      this.tally = { ...this.tally, run: 0 };
    }
    if (this.tally.verdict !== before) this.options.onVerdict(this.tally.verdict, outcome.output);
  }
}
