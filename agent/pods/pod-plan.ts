// What to do with one assignment's pod, given what it should run and what the runtime holds
// (pure; kubelet's computePodActions). Every sandbox or container that should not be there gets
// a reason; every container that should run and does not either starts now or says why not.
import type { Template } from '../../api/index.js';
import { latestInstance, type ObservedContainer, type ObservedPod, type ObservedSandbox } from './observed.js';

export interface DesiredPod {
  uid: string;
  revision: string;
  template: Template;
}

export type ProbeVerdict = 'success' | 'failure' | 'unknown';

export interface PlanInput {
  /** undefined: nothing should run for this key any more. */
  desired: DesiredPod | undefined;
  observed: ObservedPod;
  /** The liveness and startup verdicts of a running container instance. */
  verdict(containerId: string, probe: 'liveness' | 'startup'): ProbeVerdict;
  /** Milliseconds container `name` must still wait after its instance `exited` ended (CrashLoopBackOff); 0 to start now. */
  backoffRemainingMs(name: string, exited: ObservedContainer): number;
}

export interface SandboxRemoval {
  sandbox: ObservedSandbox;
  reason: 'AssignmentGone' | 'OtherUID' | 'RevisionChanged' | 'Superseded' | 'SandboxNotReady';
}

export interface ContainerKill {
  container: ObservedContainer;
  reason: 'LivenessProbe' | 'StartupProbe' | 'Unknown';
}

export interface ContainerStart {
  name: string;
  restartCount: number;
  /** The ended instance this one replaces in the same sandbox (its end starts the back-off). */
  after?: ObservedContainer;
}

export interface PodPlan {
  /** Stopped and removed with their containers, before anything is created. */
  removeSandboxes: SandboxRemoval[];
  /** Created (with this attempt) when the pod has no ready sandbox to run in. */
  createSandbox: { attempt: number } | undefined;
  /** Ready sandbox to stop (and keep, for status and logs) because every container is done. */
  stopSandbox: ObservedSandbox | undefined;
  killContainers: ContainerKill[];
  startContainers: ContainerStart[];
  /** Containers that should run but wait out their CrashLoopBackOff, with the time left. */
  backingOff: Array<{ name: string; remainingMs: number; exited: ObservedContainer }>;
  /** Dead instances beyond the newest dead one per container (kept for logs and restart counts). */
  removeContainers: ObservedContainer[];
  /** When the plan changes by itself (a back-off ends), in ms from now. */
  requeueAfterMs: number | undefined;
}

/** kubelet's ShouldContainerBeRestarted for a container instance that ended. */
export function shouldRestart(policy: Template['restartPolicy'], exitCode: number): boolean {
  return policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
}

export function planPod(input: PlanInput): PodPlan {
  const plan: PodPlan = { removeSandboxes: [], createSandbox: undefined, stopSandbox: undefined, killContainers: [], startContainers: [], backingOff: [], removeContainers: [], requeueAfterMs: undefined };
  const { desired, observed } = input;
  if (!desired) {
    plan.removeSandboxes = observed.sandboxes.map((sandbox) => ({ sandbox, reason: 'AssignmentGone' }));
    return plan;
  }

  const mine: ObservedSandbox[] = [];
  for (const sandbox of observed.sandboxes) {
    if (sandbox.uid !== desired.uid) plan.removeSandboxes.push({ sandbox, reason: 'OtherUID' });
    else if (sandbox.revision !== desired.revision) plan.removeSandboxes.push({ sandbox, reason: 'RevisionChanged' });
    else mine.push(sandbox);
  }
  const [current, ...older] = mine; // newest first
  for (const sandbox of older) plan.removeSandboxes.push({ sandbox, reason: 'Superseded' });
  const nextAttempt = Math.max(-1, ...observed.sandboxes.map((s) => s.attempt)) + 1;

  if (!current) {
    plan.createSandbox = { attempt: nextAttempt };
    plan.startContainers = desired.template.containers.map((c) => ({ name: c.name, restartCount: 0 }));
    return plan;
  }

  if (!current.ready) {
    // A finished pod's sandbox was stopped on purpose and stays, so its final state is reported.
    if (podFinished(desired.template, current)) return plan;
    plan.removeSandboxes.push({ sandbox: current, reason: 'SandboxNotReady' });
    plan.createSandbox = { attempt: nextAttempt };
    // The restart counts go on across the new sandbox, as kubelet's do.
    plan.startContainers = desired.template.containers.map((c) => {
      const last = latestInstance(current, c.name);
      return { name: c.name, restartCount: last ? last.restartCount + 1 : 0 };
    });
    return plan;
  }

  let anyRunningOrStarting = false;
  for (const spec of desired.template.containers) {
    const last = latestInstance(current, spec.name);
    if (!last) {
      plan.startContainers.push({ name: spec.name, restartCount: 0 });
      anyRunningOrStarting = true;
      continue;
    }
    if (last.state === 'CONTAINER_RUNNING') {
      anyRunningOrStarting = true;
      if (input.verdict(last.id, 'startup') === 'failure') plan.killContainers.push({ container: last, reason: 'StartupProbe' });
      else if (input.verdict(last.id, 'liveness') === 'failure') plan.killContainers.push({ container: last, reason: 'LivenessProbe' });
      continue;
    }
    if (last.state === 'CONTAINER_UNKNOWN') {
      // Kill before starting another, so that two instances never run at once.
      plan.killContainers.push({ container: last, reason: 'Unknown' });
      anyRunningOrStarting = true;
      continue;
    }
    // Exited, or created and never started (the agent stopped between the two calls).
    if (last.state === 'CONTAINER_EXITED' && !shouldRestart(desired.template.restartPolicy, last.exitCode)) continue;
    anyRunningOrStarting = true;
    const remainingMs = last.state === 'CONTAINER_EXITED' ? input.backoffRemainingMs(spec.name, last) : 0;
    if (remainingMs > 0) {
      plan.backingOff.push({ name: spec.name, remainingMs, exited: last });
      plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, remainingMs);
    } else {
      plan.startContainers.push({ name: spec.name, restartCount: last.restartCount + 1, ...(last.state === 'CONTAINER_EXITED' ? { after: last } : {}) });
    }
  }
  if (!anyRunningOrStarting) plan.stopSandbox = current;

  const dead = new Map<string, number>();
  for (const c of current.containers) {
    if (c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_UNKNOWN') continue;
    // Newest first: the first dead instance of each name stays.
    const seen = dead.get(c.name) ?? 0;
    dead.set(c.name, seen + 1);
    if (seen >= 1) plan.removeContainers.push(c);
  }
  return plan;
}

/** Every container of the template has ended and none will restart. */
export function podFinished(template: Template, sandbox: ObservedSandbox): boolean {
  return template.containers.every((spec) => {
    const last = latestInstance(sandbox, spec.name);
    return last !== undefined && last.state === 'CONTAINER_EXITED' && !shouldRestart(template.restartPolicy, last.exitCode);
  });
}
