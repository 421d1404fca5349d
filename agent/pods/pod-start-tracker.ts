// How long new pods take to start, for kubelet's two pod start histograms: from the agent first
// seeing an assignment to every container of it running, and the same less the time spent
// pulling images (the pod startup SLI). As kubelet's pod startup latency tracker does, the pull
// time runs from the first pull's start to the last successful pull's end, so the back-off
// between failed pulls is left out of the SLI too: it measures the node, not the registry.
import type { Clock } from '../../kube/clock.js';
import type { PodMetrics } from './metrics.js';

interface Starting {
  seenAt: number;
  firstPullAt?: number;
  lastPulledAt?: number;
}

export class PodStartTracker {
  private readonly starting = new Map<string, Starting>();
  /** Whether a pod has started since the agent did: the first pays for the network's start. */
  private anyStarted = false;

  constructor(
    private readonly metrics: Pick<PodMetrics, 'podStartDuration' | 'podStartSliDuration'>,
    private readonly clock: Clock,
  ) {}

  /** A pod the runtime does not hold yet was seen for the first time. */
  seen(key: string): void {
    this.starting.set(key, { seenAt: this.clock.now() });
  }

  pullStarted(key: string): void {
    const s = this.starting.get(key);
    if (s && s.firstPullAt === undefined) s.firstPullAt = this.clock.now();
  }

  pullSucceeded(key: string): void {
    const s = this.starting.get(key);
    if (s) s.lastPulledAt = this.clock.now();
  }

  /** Every container of the pod runs: observes its start once, then forgets it. */
  running(key: string): void {
    const s = this.starting.get(key);
    if (!s) return;
    this.starting.delete(key);
    const now = this.clock.now();
    const pulling = s.firstPullAt !== undefined && s.lastPulledAt !== undefined ? s.lastPulledAt - s.firstPullAt : 0;
    this.metrics.podStartDuration.observe((now - s.seenAt) / 1000);
    this.metrics.podStartSliDuration.observe({ first_with_network: String(!this.anyStarted) }, (now - s.seenAt - pulling) / 1000);
    this.anyStarted = true;
  }

  /** The pod is gone before it ran. */
  forget(key: string): void {
    this.starting.delete(key);
  }
}
