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
    // Under Never, a pod whose containers ran once is not run again in a new sandbox (kubelet).
    if (desired.template.restartPolicy === 'Never' && current.containers.length > 0) return plan;
    // The sandbox died under the containers (a reboot, a kill from outside): every container
    // that is to run again does so in a new sandbox, its restart count and back-off going on.
    for (const spec of desired.template.containers) restartEnded(input, plan, spec.name, latestInstance(current, spec.name));
    if (plan.startContainers.length === 0) return plan;
    plan.removeSandboxes.push({ sandbox: current, reason: 'SandboxNotReady' });
    plan.createSandbox = { attempt: nextAttempt };
    return plan;
  }

  let anyRunningOrStarting = false;
  for (const spec of desired.template.containers) {
    const last = latestInstance(current, spec.name);
    if (last?.state === 'CONTAINER_RUNNING') {
      anyRunningOrStarting = true;
      if (input.verdict(last.id, 'startup') === 'failure') plan.killContainers.push({ container: last, reason: 'StartupProbe' });
      else if (input.verdict(last.id, 'liveness') === 'failure') plan.killContainers.push({ container: last, reason: 'LivenessProbe' });
      continue;
    }
    if (last?.state === 'CONTAINER_UNKNOWN') {
      // Kill before starting another, so that two instances never run at once.
      plan.killContainers.push({ container: last, reason: 'Unknown' });
      anyRunningOrStarting = true;
      continue;
    }
    if (restartEnded(input, plan, spec.name, last)) anyRunningOrStarting = true;
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

/**
 * Decides for a container that is not running: start it (first instance, or again with its
 * restart count one higher), wait out its back-off, or leave it ended. Resolves whether it is
 * to run.
 */
function restartEnded(input: PlanInput, plan: PodPlan, name: string, last: ObservedContainer | undefined): boolean {
  if (!last) {
    plan.startContainers.push({ name, restartCount: 0 });
    return true;
  }
  // Exited, or created and never started (the agent stopped between the two calls).
  const exited = last.state === 'CONTAINER_EXITED';
  if (exited && !shouldRestart(input.desired!.template.restartPolicy, last.exitCode)) return false;
  const remainingMs = exited ? input.backoffRemainingMs(name, last) : 0;
  if (remainingMs > 0) {
    plan.backingOff.push({ name, remainingMs, exited: last });
    plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, remainingMs);
  } else {
    plan.startContainers.push({ name, restartCount: last.restartCount + 1, ...(exited ? { after: last } : {}) });
  }
  return true;
}

/** Every container of the template has ended and none will restart. */
export function podFinished(template: Template, sandbox: ObservedSandbox): boolean {
  return template.containers.every((spec) => {
    const last = latestInstance(sandbox, spec.name);
    return last !== undefined && last.state === 'CONTAINER_EXITED' && !shouldRestart(template.restartPolicy, last.exitCode);
  });
}
