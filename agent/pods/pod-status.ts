// The status an assignment reports, computed from what the runtime holds and what the probes
// say (pure; kubelet's generateAPIPodStatus). The phase follows Kubernetes: Pending while a
// container has not run yet, Running while they run or restart, Succeeded or Failed once every
// container has ended for good.
import { rfc3339, type Condition, type ContainerStatus, type NodeAssignmentStatus, type Phase, type Template } from '../../api/index.js';
import { withConditions } from '../../kube/status.js';
import type { ObservedContainer, ObservedSandbox } from './observed.js';
import { shouldRestart } from './pod-plan.js';

/** Why a container that should run does not (yet): CrashLoopBackOff, ErrImagePull, CreateContainerError, … */
export interface Waiting {
  reason: string;
  message: string;
}

export interface StatusInput {
  template: Template;
  /** The sandbox the pod runs in now (the newest of its uid and revision), if any. */
  sandbox: ObservedSandbox | undefined;
  /** Readiness of a running container instance (a container without a readiness probe is ready once started). */
  ready(containerId: string, containerName: string): boolean;
  /** The last failing probe's words for a running container, e.g. `Readiness probe failed: HTTP probe failed with statuscode: 503`. */
  probeFailure?(containerName: string): string | undefined;
  waiting: ReadonlyMap<string, Waiting>;
  generation: number | undefined;
  previousConditions: readonly Condition[] | undefined;
  now: Date;
}

function iso(ms: number): string | undefined {
  return ms > 0 ? rfc3339(new Date(ms)) : undefined;
}

/** The CRI reason of an exit, or Kubernetes' own: Completed for 0, Error otherwise. */
function terminationReason(c: ObservedContainer): string {
  if (c.reason) return c.reason;
  return c.exitCode === 0 ? 'Completed' : 'Error';
}

function containerStatus(input: StatusInput, name: string, image: string): ContainerStatus {
  const instances = input.sandbox?.containers.filter((c) => c.name === name) ?? [];
  const last = instances[0];
  // Only an instance that exited ended; one created and never started did not run at all.
  const previous = instances.find((c) => c !== last && c.state === 'CONTAINER_EXITED');
  const waiting = input.waiting.get(name);
  const base = {
    name,
    image: last?.image ?? image,
    restartCount: last?.restartCount ?? 0,
    ...(last ? { containerID: `containerd://${last.id}` } : {}),
  };
  // The instance that ended before the current one, as kubectl's "Last State".
  const lastEnded = last?.state === 'CONTAINER_EXITED' && waiting ? last : previous;
  const lastTermination = lastEnded ? { lastTerminationReason: terminationReason(lastEnded), lastTerminationExitCode: lastEnded.exitCode } : {};
  if (last?.state === 'CONTAINER_RUNNING') {
    const ready = input.ready(last.id, name);
    const failure = ready ? undefined : input.probeFailure?.(name);
    return { ...base, state: 'Running', ready, ...(failure ? { message: failure } : {}), ...(iso(last.startedAt) ? { startedAt: iso(last.startedAt) } : {}), ...lastTermination };
  }
  if (waiting || !last) {
    return { ...base, state: 'Waiting', ready: false, reason: waiting?.reason ?? 'ContainerCreating', ...(waiting?.message ? { message: waiting.message } : {}), ...lastTermination };
  }
  if (last.state === 'CONTAINER_EXITED' && !shouldRestart(input.template.restartPolicy, last.exitCode)) {
    return { ...base, state: 'Terminated', ready: false, reason: terminationReason(last), exitCode: last.exitCode, ...(last.message ? { message: last.message } : {}), ...(previous ? { lastTerminationReason: terminationReason(previous), lastTerminationExitCode: previous.exitCode } : {}) };
  }
  // Ended and about to start again (or created, and its start is on its way).
  const ended = last.state === 'CONTAINER_EXITED' ? last : previous;
  return { ...base, state: 'Waiting', ready: false, reason: 'ContainerCreating', ...(ended ? { lastTerminationReason: terminationReason(ended), lastTerminationExitCode: ended.exitCode } : {}) };
}

export function phaseOf(containers: readonly ContainerStatus[], sandbox: ObservedSandbox | undefined): Phase {
  if (!sandbox) return 'Pending';
  if (containers.every((c) => c.state === 'Terminated')) return containers.every((c) => c.exitCode === 0) ? 'Succeeded' : 'Failed';
  // kubelet's getPhase: one container that never ran (waiting with no earlier end) keeps the
  // pod Pending; one waiting after an end is restarting, and counts as running.
  const neverRan = containers.some((c) => c.state === 'Waiting' && c.lastTerminationReason === undefined);
  return neverRan ? 'Pending' : 'Running';
}

export function podStatus(input: StatusInput): NodeAssignmentStatus {
  const containers = input.template.containers.map((c) => containerStatus(input, c.name, c.image));
  const phase = phaseOf(containers, input.sandbox);
  const notReady = containers.filter((c) => !c.ready).map((c) => c.name);
  const ready = phase === 'Running' && notReady.length === 0;
  const reason = ready ? 'ContainersReady' : phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady';
  const message = ready ? 'every container is ready' : reason === 'PodCompleted' ? `the pod ${phase === 'Succeeded' ? 'succeeded' : 'failed'}` : `containers not ready: ${notReady.join(', ')}`;
  const conditions = withConditions(input.previousConditions, [{ type: 'Ready', status: ready ? 'True' : 'False', reason, message }], input.generation, input.now);
  return {
    ...(input.generation !== undefined ? { observedGeneration: input.generation } : {}),
    phase,
    ...(input.sandbox?.ip ? { podIP: input.sandbox.ip } : {}),
    ready,
    restartCount: containers.reduce((n, c) => n + c.restartCount, 0),
    containers,
    conditions,
  };
}
