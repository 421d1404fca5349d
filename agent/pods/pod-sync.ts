// One sync of one assignment's pod (kubelet's SyncPod), level-triggered by key: observe what the
// runtime holds, plan, act through CRI, and report the status. It keeps no state that the
// runtime or the API does not also hold, except back-off timers and the last start error of a
// container, which a restarted agent simply finds again.
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crashLoopBackOffMessage, effectivePullPolicy, type Container, type NodeAssignment } from '../../api/index.js';
import type { Clock } from '../../kube/clock.js';
import type { ReconcileResult } from '../../kube/controller.js';
import type { Logger } from '../../kube/logger.js';
import { CriError, isNotFound, type CriClient } from '../cri/client.js';
import type { PodMetrics } from './metrics.js';
import type { ObservedContainer, ObservedPod, ObservedSandbox } from './observed.js';
import { planPod, type ContainerStart, type DesiredPod, type PodPlan, type ProbeVerdict } from './pod-plan.js';
import { PodStartTracker } from './pod-start-tracker.js';
import { podStatus, type Waiting } from './pod-status.js';
import type { RuntimeObserver } from './runtime-observer.js';
import { containerConfig, podLogDirectory, sandboxConfig } from './runtime-config.js';
import type { PodIdentity } from './runtime-labels.js';
import type { StatusWriter } from './status-writer.js';
import { VolumeError, type PodVolumes } from './volumes.js';

/** The least grace kubelet gives a container it stops. */
const MIN_GRACE_SECONDS = 2;
/** Grace for what no assignment wants and whose own grace is unknown (kubelet uses 1 s for orphans). */
const ORPHAN_GRACE_SECONDS = 1;

/** kubelet's backOffPeriod: a pod whose container could not be made is synced again after it. */
const SYNC_ERROR_RETRY_MS = 10_000;
/** How long a failed pull is reported as ErrImagePull before its back-off shows. */
const PULL_ERROR_SHOWN_MS = 1_000;

/** Back-off of repeated failures per key (a container's restarts, an image's pulls). */
export interface FailureBackoff {
  /** Milliseconds still to wait after a failure at `failedAtMs`; 0 when the next try may start. */
  remainingMs(key: string, failedAtMs: number): number;
  /** Records a try after the failure at `failedAtMs`: the wait before the one after grows. */
  tried(key: string, failedAtMs: number): void;
  reset(key: string): void;
  /** Forgets the keys whose back-off has run out long ago. */
  gc(): void;
}

/** Container back-off that a restarted agent rebuilds from the restart counts the runtime kept. */
export interface CrashLoopBackoff extends FailureBackoff {
  restore(key: string, restarts: number, lastRestartMs: number): void;
}

/** What the probes say of a pod's containers. */
export interface PodProbes {
  verdict(key: string, containerId: string, probe: 'liveness' | 'startup'): ProbeVerdict;
  ready(key: string, containerId: string, containerName: string): boolean;
  /** What the last failing probe of the container said, while it fails. */
  failure(key: string, containerName: string): string | undefined;
  /** Starts, keeps or stops probe workers for the pod's running containers. */
  update(key: string, desired: DesiredPod, sandbox: ObservedSandbox | undefined, previousStatus: NodeAssignment['status']): void;
  forget(key: string): void;
  /** Stops every probe worker. */
  stop(): void;
}

export interface DesiredAssignment {
  assignment: NodeAssignment;
  /** From the node's static manifest directory (its status goes to the mirror object). */
  isStatic: boolean;
  /** The API object the status is written to: the assignment itself, or a static one's mirror (none until it exists). */
  statusTarget: NodeAssignment | undefined;
}

export interface PodSyncOptions {
  cri: CriClient;
  observer: RuntimeObserver;
  nodeName: string;
  /** Root of the pod log directories. */
  logRoot: string;
  volumes: PodVolumes;
  status: StatusWriter;
  probes: PodProbes;
  crashBackoff: CrashLoopBackoff;
  pullBackoff: FailureBackoff;
  desired(key: string): DesiredAssignment | undefined;
  /** Hears of every fresh observation a sync makes (the relist takes it as its own). */
  observed?(pod: ObservedPod): void;
  clock: Clock;
  logger: Logger;
  metrics: PodMetrics;
}

function identity(a: NodeAssignment): PodIdentity {
  return { namespace: a.metadata.namespace ?? 'default', name: a.metadata.name ?? '', uid: a.metadata.uid ?? '', workload: a.spec.workloadRef.name };
}

function errorText(err: unknown): string {
  return err instanceof CriError ? err.details || err.message : (err as Error).message;
}

export class PodSync {
  /** Why a container that should run does not, per pod key and container name. */
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  /** The pods this agent is starting, for the pod start metrics. */
  private readonly starts: PodStartTracker;
  /** The last failed RunPodSandbox per pod key, retried with the queue's back-off. */
  private readonly sandboxErrors = new Map<string, unknown>();
  /** The uids of the pods this agent has synced since it started. */
  private readonly known = new Set<string>();

  constructor(private readonly o: PodSyncOptions) {
    this.starts = new PodStartTracker(o.metrics, o.clock);
  }

  async sync(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const started = this.o.clock.now();
    const want = this.o.desired(key);
    const assignment = want && !want.assignment.metadata.deletionTimestamp ? want.assignment : undefined;
    const desired: DesiredPod | undefined = assignment ? { uid: assignment.metadata.uid ?? '', revision: assignment.spec.revision, template: assignment.spec.template } : undefined;
    const before = await this.o.observer.observe(key);
    if (desired && !this.known.has(desired.uid)) {
      this.known.add(desired.uid);
      const found = before.sandboxes.find((s) => s.uid === desired.uid);
      if (!found) this.starts.seen(key);
      // A pod found already crash-looping (the agent restarted) keeps its back-off.
      for (const c of found?.containers ?? []) {
        if (c.restartCount > 0) this.o.crashBackoff.restore(`${desired.uid}/${c.name}`, c.restartCount, c.createdAt);
      }
    }
    const planFor = (observed: ObservedPod): PodPlan =>
      planPod({
        desired,
        observed,
        verdict: (id, probe) => this.o.probes.verdict(key, id, probe),
        backoffRemainingMs: (name, exited) => this.o.crashBackoff.remainingMs(`${desired?.uid}/${name}`, exited.finishedAt || exited.createdAt),
      });
    const plan = planFor(before);
    const acted = await this.act(key, assignment, desired, before, plan, signal);
    const after = acted ? await this.o.observer.observe(key) : before;
    this.o.observed?.(after);
    const operation = before.sandboxes.length === 0 ? 'create' : acted ? 'update' : 'sync';
    this.o.metrics.podWorkerDuration.observe({ operation_type: operation }, (this.o.clock.now() - started) / 1000);

    if (!desired || !assignment || !want) {
      this.o.probes.forget(key);
      this.waiting.delete(key);
      this.starts.forget(key);
      this.sandboxErrors.delete(key);
      this.o.metrics.phases.forget(key);
      this.o.metrics.containerRestarts.forget(key);
      for (const s of before.sandboxes) this.known.delete(s.uid);
      if (!want) this.o.status.forget(key);
      return {};
    }
    const sandbox = currentSandbox(after, desired);
    const target = want.statusTarget;
    const previous = target ? this.o.status.current(key, target) : undefined;
    this.o.probes.update(key, desired, sandbox, previous);
    const waiting = this.waitingFor(key);
    const next = acted ? planFor(after) : plan;
    for (const b of next.backingOff) {
      waiting.set(b.name, { reason: 'CrashLoopBackOff', message: crashLoopBackOffMessage(b.remainingMs, b.name, key) });
    }
    const status = podStatus({
      template: desired.template,
      sandbox,
      ready: (id, name) => this.o.probes.ready(key, id, name),
      probeFailure: (name) => this.o.probes.failure(key, name),
      waiting,
      generation: target?.metadata.generation,
      previousConditions: previous?.conditions,
      now: new Date(this.o.clock.now()),
    });
    if (status.containers?.every((c) => c.state === 'Running')) this.starts.running(key);
    if (status.phase) this.o.metrics.phases.set(key, status.phase);
    if (target) await this.o.status.write(key, target, status, signal);
    const sandboxError = this.sandboxErrors.get(key);
    if (sandboxError) throw sandboxError;
    // Level-triggered to the end: what a kill left behind (a container to start again) is
    // planned at once, not when the relist next looks. Starts that failed are not retried
    // here: their own back-off says when.
    const killed = plan.killContainers.length > 0 || plan.stopSandbox !== undefined;
    if (killed && !signal.aborted && hasActions(next)) return { requeueAfterMs: 1 };
    const reasons = [...waiting.values()].map((w) => w.reason);
    // A failed pull shows as ErrImagePull for a moment, then as ImagePullBackOff while it waits.
    const pullWait = reasons.includes('ErrImagePull') ? Math.min(PULL_ERROR_SHOWN_MS, this.pullRequeueMs(key, desired) ?? Infinity) : reasons.includes('ImagePullBackOff') ? this.pullRequeueMs(key, desired) : undefined;
    // A container that could not be made is tried again after kubelet's pod sync back-off.
    const errorWait = reasons.some((r) => r === 'CreateContainerError' || r === 'CreateContainerConfigError') ? SYNC_ERROR_RETRY_MS : undefined;
    const requeue = Math.min(next.requeueAfterMs ?? Infinity, pullWait ?? Infinity, errorWait ?? Infinity);
    return Number.isFinite(requeue) ? { requeueAfterMs: Math.max(1, requeue) } : {};
  }

  private waitingFor(key: string): Map<string, Waiting> {
    let w = this.waiting.get(key);
    if (!w) this.waiting.set(key, (w = new Map()));
    return w;
  }

  /** Carries out the plan in kubelet's order; resolves whether anything was done. */
  private async act(key: string, assignment: NodeAssignment | undefined, desired: DesiredPod | undefined, before: ObservedPod, plan: PodPlan, signal: AbortSignal): Promise<boolean> {
    let acted = false;
    for (const { sandbox, reason } of plan.removeSandboxes) {
      acted = true;
      this.o.logger.info({ pod: key, sandbox: sandbox.id, reason }, 'removing pod sandbox');
      await this.removeSandbox(key, sandbox, desired && reason !== 'OtherUID' && reason !== 'AssignmentGone' ? desired.template.terminationGracePeriodSeconds : undefined);
      // Volumes and logs belong to the uid: they go when no sandbox of that uid is wanted.
      if (sandbox.uid !== desired?.uid) await this.removePodFiles(key, sandbox.uid);
      if (reason === 'SandboxNotReady') this.o.metrics.restartedPods.inc({ static: String(this.o.desired(key)?.isStatic ?? false) });
    }
    if (!assignment || !desired || signal.aborted) return acted;
    const pod = identity(assignment);
    const template = desired.template;

    await Promise.all(
      plan.killContainers.map(async ({ container, reason }) => {
        acted = true;
        this.o.logger.info({ pod: key, container: container.name, id: container.id, reason }, 'killing container: its probe failed');
        await this.stopContainer(container, template.terminationGracePeriodSeconds);
      }),
    );
    if (plan.stopSandbox) {
      acted = true;
      this.o.logger.info({ pod: key, sandbox: plan.stopSandbox.id }, 'every container has ended; stopping the pod sandbox');
      await this.ignoreGone(this.o.cri.stopPodSandbox(plan.stopSandbox.id, `pod ${key}`));
    }
    for (const c of plan.removeContainers) {
      acted = true;
      await this.removeContainer(c);
    }

    const logDirectory = podLogDirectory(this.o.logRoot, pod);
    let sandboxId: string | undefined;
    let volumePaths: Map<string, string> | undefined;
    const waiting = this.waitingFor(key);
    try {
      volumePaths = await this.o.volumes.prepare(pod.uid, template);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      for (const c of template.containers) waiting.set(c.name, { reason: 'CreateContainerConfigError', message: err.message });
      return acted;
    }
    const config = sandboxConfig({ pod, nodeName: this.o.nodeName, attempt: plan.createSandbox?.attempt ?? 0, revision: desired.revision, logDirectory });
    if (plan.createSandbox) {
      acted = true;
      await mkdir(logDirectory, { recursive: true });
      try {
        sandboxId = await this.runSandbox(key, config, template.runtimeClassName);
      } catch (err) {
        // Reported on every container, then retried with the queue's back-off.
        const message = `cannot create the pod sandbox${template.runtimeClassName ? ` (runtime handler ${template.runtimeClassName})` : ''}: ${errorText(err)}`;
        for (const c of template.containers) waiting.set(c.name, { reason: 'CreatePodSandboxError', message });
        this.sandboxErrors.set(key, err);
        return acted;
      }
      this.sandboxErrors.delete(key);
    } else {
      sandboxId = currentSandbox(before, desired)?.id;
    }
    if (!sandboxId) return acted;

    for (const start of plan.startContainers) {
      if (signal.aborted) break;
      const spec = template.containers.find((c) => c.name === start.name)!;
      acted = true;
      await this.startContainer(key, pod, sandboxId, config, spec, start, volumePaths, desired, waiting);
    }
    return acted;
  }

  private async runSandbox(key: string, config: ReturnType<typeof sandboxConfig>, runtimeHandler: string | undefined): Promise<string> {
    try {
      return await this.o.cri.runPodSandbox(config, runtimeHandler, `pod ${key}`);
    } catch (err) {
      // A sandbox half made by an earlier, interrupted call still holds the name: remove it
      // (it carries our labels, or the runtime would not name our pod) and try once more.
      const reserved = /name "[^"]+" is reserved for "([0-9a-f]+)"/.exec(errorText(err));
      if (!reserved?.[1]) throw err;
      this.o.logger.warn({ pod: key, sandbox: reserved[1] }, 'removing a half-made sandbox that holds the name');
      await this.ignoreGone(this.o.cri.stopPodSandbox(reserved[1], `pod ${key}`));
      await this.ignoreGone(this.o.cri.removePodSandbox(reserved[1], `pod ${key}`));
      return this.o.cri.runPodSandbox(config, runtimeHandler, `pod ${key}`);
    }
  }

  private async startContainer(
    key: string,
    pod: PodIdentity,
    sandboxId: string,
    sandbox: ReturnType<typeof sandboxConfig>,
    spec: Container,
    start: ContainerStart,
    volumePaths: Map<string, string>,
    desired: DesiredPod,
    waiting: Map<string, Waiting>,
  ): Promise<void> {
    const subject = `container ${spec.name} of pod ${key}`;
    const imageRef = await this.ensureImage(key, spec, waiting);
    if (imageRef === undefined) return;
    const restartCount = start.restartCount;
    if (start.after) this.o.crashBackoff.tried(`${desired.uid}/${spec.name}`, start.after.finishedAt || start.after.createdAt);
    let id: string;
    try {
      const config = containerConfig({ pod, nodeName: this.o.nodeName, template: desired.template, container: spec, restartCount, imageRef, volumePaths });
      await mkdir(dirname(join(sandbox.logDirectory ?? '', config.logPath ?? '')), { recursive: true });
      id = await this.o.cri.createContainer(sandboxId, config, sandbox, subject);
    } catch (err) {
      if (this.isNameReserved(err)) {
        // An instance with this attempt exists already (an earlier sync made it and stopped before
        // starting it); the next sync sees it and moves on from it.
        return;
      }
      waiting.set(spec.name, { reason: 'CreateContainerError', message: errorText(err) });
      this.o.logger.warn({ pod: key, container: spec.name, err: errorText(err) }, 'cannot create container');
      return;
    }
    // The instance exists with its restart count: the count the status reports went up.
    if (restartCount > 0) this.o.metrics.containerRestarts.inc(key, spec.name);
    try {
      await this.o.cri.startContainer(id, subject);
      waiting.delete(spec.name);
    } catch (err) {
      // The instance stays, exited, and the restart policy and back-off apply to it.
      waiting.set(spec.name, { reason: 'RunContainerError', message: errorText(err) });
      this.o.logger.warn({ pod: key, container: spec.name, err: errorText(err) }, 'cannot start container');
    }
  }

  private isNameReserved(err: unknown): boolean {
    return /is reserved for/.test(errorText(err));
  }

  /** The image ref to create the container from, or undefined (with the reason in `waiting`). */
  private async ensureImage(key: string, spec: Container, waiting: Map<string, Waiting>): Promise<string | undefined> {
    const policy = effectivePullPolicy(spec);
    const image = { image: spec.image };
    if (policy !== 'Always') {
      const present = await this.o.cri.imageStatus(image);
      if (present) return present.id;
      if (policy === 'Never') {
        waiting.set(spec.name, { reason: 'ErrImageNeverPull', message: `image "${spec.image}" is not present on the node and imagePullPolicy is Never` });
        return undefined;
      }
    }
    const backoffKey = `${key}/${spec.image}`;
    const lastFailure = this.pullFailures.get(backoffKey);
    if (lastFailure !== undefined) {
      const remaining = this.o.pullBackoff.remainingMs(backoffKey, lastFailure);
      if (remaining > 0) {
        waiting.set(spec.name, { reason: 'ImagePullBackOff', message: `Back-off pulling image "${spec.image}"` });
        return undefined;
      }
      this.o.pullBackoff.tried(backoffKey, lastFailure);
    }
    this.starts.pullStarted(key);
    try {
      const ref = await this.o.cri.pullImage(image, undefined);
      this.starts.pullSucceeded(key);
      this.pullFailures.delete(backoffKey);
      this.o.pullBackoff.reset(backoffKey);
      return ref;
    } catch (err) {
      this.pullFailures.set(backoffKey, this.o.clock.now());
      waiting.set(spec.name, { reason: 'ErrImagePull', message: `failed to pull image "${spec.image}": ${errorText(err)}` });
      this.o.logger.warn({ pod: key, container: spec.name, image: spec.image, err: errorText(err) }, 'cannot pull image');
      return undefined;
    }
  }

  private readonly pullFailures = new Map<string, number>();

  private pullRequeueMs(key: string, desired: DesiredPod): number | undefined {
    let soonest: number | undefined;
    for (const c of desired.template.containers) {
      const k = `${key}/${c.image}`;
      const failedAt = this.pullFailures.get(k);
      if (failedAt === undefined) continue;
      const wait = this.o.pullBackoff.remainingMs(k, failedAt);
      soonest = Math.min(soonest ?? Infinity, wait);
    }
    return soonest;
  }

  private async stopContainer(c: ObservedContainer, graceSeconds: number | undefined): Promise<void> {
    const grace = graceSeconds ?? c.gracePeriodSeconds;
    await this.ignoreGone(this.o.cri.stopContainer(c.id, grace === undefined ? ORPHAN_GRACE_SECONDS : Math.max(MIN_GRACE_SECONDS, grace)));
  }

  private async removeContainer(c: ObservedContainer): Promise<void> {
    await this.ignoreGone(this.o.cri.removeContainer(c.id));
    if (c.logPath) await rm(c.logPath, { force: true });
  }

  /** Stops every container in parallel with its grace period, then the sandbox, then removes them all. */
  private async removeSandbox(key: string, sandbox: ObservedSandbox, graceSeconds: number | undefined): Promise<void> {
    await Promise.all(sandbox.containers.filter((c) => c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_UNKNOWN').map((c) => this.stopContainer(c, graceSeconds)));
    await this.ignoreGone(this.o.cri.stopPodSandbox(sandbox.id, `pod ${key}`));
    for (const c of sandbox.containers) await this.ignoreGone(this.o.cri.removeContainer(c.id));
    await this.ignoreGone(this.o.cri.removePodSandbox(sandbox.id, `pod ${key}`));
  }

  private async removePodFiles(key: string, uid: string): Promise<void> {
    const slash = key.indexOf('/');
    await this.o.volumes.remove(uid);
    await rm(podLogDirectory(this.o.logRoot, { namespace: key.slice(0, slash), name: key.slice(slash + 1), uid, workload: '' }), { recursive: true, force: true });
  }

  private async ignoreGone(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function hasActions(plan: PodPlan): boolean {
  return plan.removeSandboxes.length > 0 || plan.createSandbox !== undefined || plan.stopSandbox !== undefined || plan.killContainers.length > 0 || plan.startContainers.length > 0 || plan.removeContainers.length > 0;
}

/** The sandbox the desired pod runs in: the newest of its uid and revision. */
export function currentSandbox(observed: ObservedPod, desired: DesiredPod): ObservedSandbox | undefined {
  return observed.sandboxes.find((s) => s.uid === desired.uid && s.revision === desired.revision);
}
