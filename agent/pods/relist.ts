// The pod lifecycle event generator (kubelet's generic PLEG): every period it lists this node's
// sandboxes and containers, compares their states with the last list, and hands the keys of the
// pods that changed to the sync queue. It catches what the agent did not cause: a container that
// exits or is killed from outside, a sandbox removed by hand, a runtime that restarted.
import { sleep, type Clock } from '../../kube/clock.js';
import type { Logger } from '../../kube/logger.js';
import type { CriClient } from '../cri/client.js';
import type { PodMetrics } from './metrics.js';
import type { ObservedPod } from './observed.js';
import { assignmentKeyOf, nodeSelector } from './runtime-labels.js';

/** kubelet's genericPlegRelistPeriod. */
export const DEFAULT_RELIST_PERIOD_MS = 1_000;

const sandboxPart = (id: string, state: string): string => `s:${id}:${state}`;
const containerPart = (id: string, state: string): string => `c:${id}:${state}`;
const fingerprint = (parts: string[]): string => parts.sort().join(',');

/** The relist's fingerprint of one pod as a sync observed it. */
export function fingerprintOf(pod: ObservedPod): string {
  return fingerprint(pod.sandboxes.flatMap((s) => [sandboxPart(s.id, s.ready ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY'), ...s.containers.map((c) => containerPart(c.id, c.state))]));
}

export interface RelistSnapshot {
  /** Per assignment key, the IDs and states of its sandboxes and containers. */
  fingerprints: Map<string, string>;
  sandboxIds: Set<string>;
  containerIds: Set<string>;
  runningPods: number;
  containersByState: Map<string, number>;
}

export class Relister {
  private previous: RelistSnapshot | undefined;
  /**
   * What syncs observed since the list under way began: a list answered while a sync was acting
   * is older than what that sync saw afterwards, and must not queue the pod for it.
   */
  private fresh = new Map<string, { print: string; at: number }>();
  private lastSuccess = 0;
  private lastError: string | undefined;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly o: {
      cri: CriClient;
      nodeName: string;
      clock: Clock;
      periodMs: number;
      logger: Logger;
      metrics: PodMetrics;
      /** Called with every key whose runtime objects changed (all keys on the first list). */
      onChange: (key: string) => void;
      /**
       * Whether a sync of the pod is under way: its own observation at the end is newer than
       * any list answered meanwhile, so the relist leaves that pod to it.
       */
      syncing?: (key: string) => boolean;
      /** Called with the IDs that disappeared, so caches keyed by them can let go. */
      onGone: (sandboxIds: string[], containerIds: string[]) => void;
    },
  ) {}

  /** Lists once now (so that start-up sees the runtime before anything syncs), then every period. */
  async start(): Promise<void> {
    await this.relist();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /**
   * Takes a sync's fresh view of one pod as if the relist had seen it, so that the next relist
   * does not queue the pod again for what its own sync just did.
   */
  observed(pod: ObservedPod): void {
    const print = fingerprintOf(pod);
    this.fresh.set(pod.key, { print, at: this.o.clock.now() });
    if (!this.previous) return;
    if (print === '') this.previous.fingerprints.delete(pod.key);
    else this.previous.fingerprints.set(pod.key, print);
  }

  /** Pods with a ready sandbox in the last successful list. */
  runningPods(): number {
    return this.previous?.runningPods ?? 0;
  }

  /** `true` once a list succeeded and the last one did; else why not. */
  healthy(): true | string {
    if (this.lastError !== undefined) return `the runtime cannot be listed: ${this.lastError}`;
    return this.lastSuccess > 0 || 'the runtime has not been listed yet';
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      await sleep(this.o.clock, this.o.periodMs, this.abort.signal);
      if (this.abort.signal.aborted) return;
      await this.relist();
    }
  }

  async relist(): Promise<void> {
    const started = this.o.clock.now();
    let snapshot: RelistSnapshot;
    try {
      const selector = { labelSelector: nodeSelector(this.o.nodeName) };
      const [sandboxes, containers] = await Promise.all([this.o.cri.listPodSandbox(selector), this.o.cri.listContainers(selector)]);
      snapshot = { fingerprints: new Map(), sandboxIds: new Set(), containerIds: new Set(), runningPods: 0, containersByState: new Map() };
      const parts = new Map<string, string[]>();
      const add = (key: string | undefined, part: string): void => {
        if (key === undefined) return;
        let list = parts.get(key);
        if (!list) parts.set(key, (list = []));
        list.push(part);
      };
      for (const s of sandboxes) {
        snapshot.sandboxIds.add(s.id);
        if (s.state === 'SANDBOX_READY') snapshot.runningPods++;
        add(assignmentKeyOf(s.labels), sandboxPart(s.id, s.state));
      }
      for (const c of containers) {
        snapshot.containerIds.add(c.id);
        const state = c.state.replace('CONTAINER_', '').toLowerCase();
        snapshot.containersByState.set(state, (snapshot.containersByState.get(state) ?? 0) + 1);
        add(assignmentKeyOf(c.labels), containerPart(c.id, c.state));
      }
      for (const [key, list] of parts) snapshot.fingerprints.set(key, fingerprint(list));
    } catch (err) {
      const message = (err as Error).message;
      if (this.lastError !== message) this.o.logger.warn({ err: message }, 'cannot list the runtime\'s pods; will try again');
      this.lastError = message;
      return;
    } finally {
      this.o.metrics.relistDuration.observe((this.o.clock.now() - started) / 1000);
    }
    if (this.lastError !== undefined) this.o.logger.info('the runtime answers again');
    this.lastError = undefined;
    this.lastSuccess = this.o.clock.now();

    for (const [key, { print, at }] of this.fresh) {
      if (at < started) continue;
      if (print === '') snapshot.fingerprints.delete(key);
      else snapshot.fingerprints.set(key, print);
    }
    this.fresh = new Map([...this.fresh].filter(([, f]) => f.at >= started));
    const before = this.previous;
    const changed = (key: string): void => {
      if (this.o.syncing?.(key)) {
        // Keep what the sync will report over this older list.
        const mine = before?.fingerprints.get(key);
        if (mine === undefined) snapshot.fingerprints.delete(key);
        else snapshot.fingerprints.set(key, mine);
        return;
      }
      this.o.onChange(key);
    };
    for (const [key, fingerprint] of [...snapshot.fingerprints]) {
      if (before?.fingerprints.get(key) !== fingerprint) changed(key);
    }
    if (before) {
      for (const key of before.fingerprints.keys()) if (!snapshot.fingerprints.has(key)) changed(key);
      this.o.onGone([...before.sandboxIds].filter((id) => !snapshot.sandboxIds.has(id)), [...before.containerIds].filter((id) => !snapshot.containerIds.has(id)));
    }
    this.previous = snapshot;
    this.o.metrics.runningPods.set(snapshot.runningPods);
    this.o.metrics.runningContainers.reset();
    for (const [state, n] of snapshot.containersByState) this.o.metrics.runningContainers.set({ container_state: state }, n);
  }
}
