import { describe, expect, it } from '@jest/globals';
import type { Template } from '../../api/index.js';
import type { ObservedContainer, ObservedSandbox } from './observed.js';
import { T0, exited, running, sandbox, template, twoContainers } from './test-fixtures.js';
import { planPod, podFinished, shouldRestart, type DesiredPod, type PlanInput, type ProbeVerdict } from './pod-plan.js';

function desired(t: Template = template(), over: Partial<DesiredPod> = {}): DesiredPod {
  return { uid: 'uid-1', revision: 'rev-1', template: t, ...over };
}

interface Calls {
  verdicts: Array<[string, 'liveness' | 'startup']>;
  backoffs: Array<[string, ObservedContainer]>;
}

/** Plans with probe verdicts and back-off times given per container id / name; records what the planner asked. */
function plan(
  d: DesiredPod | undefined,
  sandboxes: ObservedSandbox[],
  o: { verdicts?: Record<string, Partial<Record<'liveness' | 'startup', ProbeVerdict>>>; backoff?: Record<string, number> } = {},
) {
  const calls: Calls = { verdicts: [], backoffs: [] };
  const input: PlanInput = {
    desired: d,
    observed: { key: 'shop/web-0', sandboxes },
    verdict: (id, probe) => {
      calls.verdicts.push([id, probe]);
      return o.verdicts?.[id]?.[probe] ?? 'success';
    },
    backoffRemainingMs: (name, c) => {
      calls.backoffs.push([name, c]);
      return o.backoff?.[name] ?? 0;
    },
  };
  return { plan: planPod(input), calls };
}

const nothing = {
  removeSandboxes: [],
  createSandbox: undefined,
  stopSandbox: undefined,
  killContainers: [],
  startContainers: [],
  backingOff: [],
  removeContainers: [],
  requeueAfterMs: undefined,
};

describe('shouldRestart', () => {
  it.each<[Template['restartPolicy'], number, boolean]>([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 1, true],
    ['OnFailure', 137, true],
    ['Never', 0, false],
    ['Never', 1, false],
  ])('%s with exit code %d restarts: %s', (policy, code, want) => {
    expect(shouldRestart(policy, code)).toBe(want);
  });
});

describe('planPod: a new pod', () => {
  it('creates the sandbox at attempt 0 and starts every container with restart count 0', () => {
    const { plan: p } = plan(desired(twoContainers()), []);
    expect(p).toEqual({ ...nothing, createSandbox: { attempt: 0 }, startContainers: [{ name: 'app', restartCount: 0 }, { name: 'side', restartCount: 0 }] });
  });

  it('starts the containers of a ready sandbox that has none yet, without a new sandbox', () => {
    const { plan: p } = plan(desired(twoContainers()), [sandbox([])]);
    expect(p).toEqual({ ...nothing, startContainers: [{ name: 'app', restartCount: 0 }, { name: 'side', restartCount: 0 }] });
  });

  it('starts only the container that is missing', () => {
    const { plan: p } = plan(desired(twoContainers()), [sandbox([running('app')])]);
    expect(p).toEqual({ ...nothing, startContainers: [{ name: 'side', restartCount: 0 }] });
  });
});

describe('planPod: adoption after an agent restart', () => {
  it('does nothing to a ready sandbox of the right uid and revision whose containers run', () => {
    const current = sandbox([running('side', 2), running('app', 4), exited('app', 3, 1)]);
    const { plan: p, calls } = plan(desired(twoContainers()), [current]);
    expect(p).toEqual(nothing);
    // The probes were asked about the running instances, not the dead one.
    expect(new Set(calls.verdicts.map(([id]) => id))).toEqual(new Set([current.containers[0]!.id, current.containers[1]!.id]));
    expect(calls.backoffs).toEqual([]);
  });

  it('keeps a running container whose probes have no verdict yet', () => {
    const c = running('app');
    const { plan: p } = plan(desired(), [sandbox([c])], { verdicts: { [c.id]: { liveness: 'unknown', startup: 'unknown' } } });
    expect(p).toEqual(nothing);
  });
});

describe('planPod: sandboxes that are not the current one', () => {
  it('removes a sandbox of another uid and creates one for this uid', () => {
    const old = sandbox([running('app', 3)], { uid: 'uid-0', attempt: 2 });
    const { plan: p } = plan(desired(), [old]);
    expect(p.removeSandboxes).toEqual([{ sandbox: old, reason: 'OtherUID' }]);
    expect(p.createSandbox).toBeDefined();
    // The restart count belongs to the uid: a new uid starts from 0.
    expect(p.startContainers).toEqual([{ name: 'app', restartCount: 0 }]);
  });

  it('removes a sandbox of another revision and creates one for this revision', () => {
    const old = sandbox([running('app')], { revision: 'rev-0' });
    const { plan: p } = plan(desired(), [old]);
    expect(p.removeSandboxes).toEqual([{ sandbox: old, reason: 'RevisionChanged' }]);
    expect(p.createSandbox).toBeDefined();
    expect(p.startContainers).toEqual([{ name: 'app', restartCount: 0 }]);
  });

  it('counts a sandbox without a revision annotation as another revision', () => {
    const old = sandbox([running('app')], { revision: undefined });
    expect(plan(desired(), [old]).plan.removeSandboxes).toEqual([{ sandbox: old, reason: 'RevisionChanged' }]);
  });

  it('keeps the current sandbox while removing the others by their reasons', () => {
    const current = sandbox([running('app')], { attempt: 1 });
    const otherUid = sandbox([], { uid: 'uid-0' });
    const otherRev = sandbox([], { revision: 'rev-0' });
    const { plan: p } = plan(desired(), [current, otherUid, otherRev]);
    expect(p).toEqual({ ...nothing, removeSandboxes: [{ sandbox: otherUid, reason: 'OtherUID' }, { sandbox: otherRev, reason: 'RevisionChanged' }] });
  });

  it('keeps only the newest of several sandboxes of the pod', () => {
    const newest = sandbox([running('app')], { attempt: 2, createdAt: T0 + 2000 });
    const middle = sandbox([running('app')], { attempt: 1, createdAt: T0 + 1000 });
    const oldest = sandbox([], { attempt: 0, ready: false });
    const { plan: p } = plan(desired(), [newest, middle, oldest]);
    expect(p).toEqual({ ...nothing, removeSandboxes: [{ sandbox: middle, reason: 'Superseded' }, { sandbox: oldest, reason: 'Superseded' }] });
  });

  it('removes every sandbox, of any uid, when nothing should run', () => {
    const a = sandbox([running('app')]);
    const b = sandbox([exited('app', 0, 0)], { uid: 'uid-0', ready: false });
    const { plan: p, calls } = plan(undefined, [a, b]);
    expect(p).toEqual({ ...nothing, removeSandboxes: [{ sandbox: a, reason: 'AssignmentGone' }, { sandbox: b, reason: 'AssignmentGone' }] });
    expect(calls).toEqual({ verdicts: [], backoffs: [] });
  });

  it('has nothing to do when nothing should run and nothing is there', () => {
    expect(plan(undefined, []).plan).toEqual(nothing);
  });
});

describe('planPod: a sandbox that is not ready', () => {
  it('replaces it at the next attempt and carries the restart counts over', () => {
    const dead = sandbox([exited('side', 1, 137), exited('app', 5, 255), exited('app', 4, 1)], { attempt: 2, ready: false });
    const { plan: p } = plan(desired(twoContainers()), [dead]);
    expect(p).toEqual({
      ...nothing,
      removeSandboxes: [{ sandbox: dead, reason: 'SandboxNotReady' }],
      createSandbox: { attempt: 3 },
      // Each restart follows the instance that ended, so its back-off grows.
      startContainers: [{ name: 'app', restartCount: 6, after: dead.containers[1] }, { name: 'side', restartCount: 2, after: dead.containers[0] }],
    });
  });

  it('takes the next attempt above every sandbox it knows of', () => {
    const dead = sandbox([running('app', 0)], { attempt: 1, ready: false });
    const older = sandbox([], { attempt: 4, ready: false, createdAt: T0 - 1000 });
    const { plan: p } = plan(desired(), [dead, older]);
    expect(p.createSandbox).toEqual({ attempt: 5 });
    expect(p.removeSandboxes).toEqual([{ sandbox: older, reason: 'Superseded' }, { sandbox: dead, reason: 'SandboxNotReady' }]);
    expect(p.startContainers).toEqual([{ name: 'app', restartCount: 1 }]);
  });

  it('starts a container that never had an instance at restart count 0', () => {
    const dead = sandbox([exited('app', 2, 1)], { ready: false });
    const { plan: p } = plan(desired(twoContainers()), [dead]);
    expect(p.startContainers).toEqual([{ name: 'app', restartCount: 3, after: dead.containers[0] }, { name: 'side', restartCount: 0 }]);
  });

  it('does not run again, in the new sandbox, a container that succeeded under OnFailure (kubelet: containerSucceeded)', () => {
    const dead = sandbox([exited('side', 0, 1), exited('app', 0, 0)], { ready: false });
    const { plan: p } = plan(desired(twoContainers('OnFailure')), [dead]);
    expect(p.createSandbox).toEqual({ attempt: 1 });
    expect(p.startContainers).toEqual([{ name: 'side', restartCount: 1, after: dead.containers[0] }]);
  });

  it('does not run again a container that already ended under Never (kubelet: no new sandbox once containers ran)', () => {
    const dead = sandbox([running('side', 0, { state: 'CONTAINER_CREATED', startedAt: 0 }), exited('app', 0, 0)], { ready: false });
    const { plan: p } = plan(desired(twoContainers('Never')), [dead]);
    expect(p.startContainers.map((s) => s.name)).not.toContain('app');
  });

  it('keeps a crashed container in its back-off, and the old sandbox with its restart count, until the back-off ends', () => {
    const last = exited('app', 3, 1);
    const dead = sandbox([last], { ready: false });
    const { plan: p } = plan(desired(), [dead], { backoff: { app: 40_000 } });
    expect(p.createSandbox).toBeUndefined();
    expect(p.removeSandboxes).toEqual([]);
    expect(p.startContainers).toEqual([]);
    expect(p.backingOff).toEqual([{ name: 'app', remainingMs: 40_000, exited: last }]);
    expect(p.requeueAfterMs).toBe(40_000);
  });

  it('leaves the stopped sandbox of a finished pod alone, for its final status', () => {
    for (const [policy, code] of [['Never', 1], ['Never', 0], ['OnFailure', 0]] as const) {
      const done = sandbox([exited('side', 0, 0), exited('app', 0, code)], { ready: false });
      expect(plan(desired(twoContainers(policy)), [done]).plan).toEqual(nothing);
    }
  });
});

describe('planPod: a finished pod', () => {
  it('stops the ready sandbox once every container has ended for good', () => {
    const current = sandbox([exited('side', 0, 0), exited('app', 0, 1)]);
    const { plan: p } = plan(desired(twoContainers('Never')), [current]);
    expect(p).toEqual({ ...nothing, stopSandbox: current });
  });

  it('stops the ready sandbox when every container succeeded under OnFailure', () => {
    const current = sandbox([exited('side', 0, 0), exited('app', 2, 0)]);
    expect(plan(desired(twoContainers('OnFailure')), [current]).plan).toEqual({ ...nothing, stopSandbox: current });
  });

  it('keeps the sandbox while one container still runs', () => {
    const current = sandbox([running('side'), exited('app', 0, 0)]);
    expect(plan(desired(twoContainers('Never')), [current]).plan).toEqual(nothing);
  });

  it('never counts an Always pod as finished', () => {
    const current = sandbox([exited('app', 0, 0)]);
    expect(podFinished(template({ restartPolicy: 'Always' }), current)).toBe(false);
    expect(plan(desired(template({ restartPolicy: 'Always' })), [current]).plan.stopSandbox).toBeUndefined();
  });

  it.each<[Template['restartPolicy'], number, boolean]>([
    ['Never', 0, true],
    ['Never', 1, true],
    ['OnFailure', 0, true],
    ['OnFailure', 1, false],
    ['Always', 0, false],
  ])('podFinished: %s with exit code %d: %s', (policy, code, want) => {
    expect(podFinished(template({ restartPolicy: policy }), sandbox([exited('app', 0, code)]))).toBe(want);
  });

  it('podFinished: a container that never had an instance is not finished', () => {
    expect(podFinished(twoContainers('Never'), sandbox([exited('app', 0, 0)]))).toBe(false);
  });
});

describe('planPod: restart policy of an exited container in the ready sandbox', () => {
  it.each<[Template['restartPolicy'], number, boolean]>([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 1, true],
    ['Never', 0, false],
    ['Never', 1, false],
  ])('%s, exit code %d: restarted %s', (policy, code, restarted) => {
    const last = exited('app', 2, code);
    // A second container keeps running, so that the pod is not finished either way.
    const current = sandbox([running('side'), last]);
    const { plan: p, calls } = plan(desired(twoContainers(policy)), [current]);
    expect(p.startContainers).toEqual(restarted ? [{ name: 'app', restartCount: 3, after: last }] : []);
    expect(p.stopSandbox).toBeUndefined();
    // The back-off is only asked about a container that is to restart.
    expect(calls.backoffs).toEqual(restarted ? [['app', last]] : []);
  });
});

describe('planPod: CrashLoopBackOff', () => {
  it('waits out a back-off that has time left and asks to be requeued when it ends', () => {
    const last = exited('app', 3, 1);
    const current = sandbox([last]);
    const { plan: p } = plan(desired(), [current], { backoff: { app: 20_000 } });
    expect(p).toEqual({ ...nothing, backingOff: [{ name: 'app', remainingMs: 20_000, exited: last }], requeueAfterMs: 20_000 });
  });

  it('requeues after the shortest back-off of several containers', () => {
    const app = exited('app', 1, 1);
    const side = exited('side', 4, 2);
    const { plan: p } = plan(desired(twoContainers()), [sandbox([side, app])], { backoff: { app: 10_000, side: 2_500 } });
    expect(p.backingOff).toEqual([
      { name: 'app', remainingMs: 10_000, exited: app },
      { name: 'side', remainingMs: 2_500, exited: side },
    ]);
    expect(p.requeueAfterMs).toBe(2_500);
    expect(p.startContainers).toEqual([]);
    expect(p.stopSandbox).toBeUndefined();
  });

  it('starts the next instance once the back-off is over, counting the restart and naming the instance it follows', () => {
    const last = exited('app', 3, 1);
    const { plan: p, calls } = plan(desired(), [sandbox([last])], { backoff: { app: 0 } });
    expect(p).toEqual({ ...nothing, startContainers: [{ name: 'app', restartCount: 4, after: last }] });
    expect(calls.backoffs).toEqual([['app', last]]);
  });

  it('starts one container while another backs off', () => {
    const app = exited('app', 1, 1);
    const side = exited('side', 0, 0);
    const { plan: p } = plan(desired(twoContainers()), [sandbox([side, app])], { backoff: { app: 5_000, side: 0 } });
    expect(p.startContainers).toEqual([{ name: 'side', restartCount: 1, after: side }]);
    expect(p.backingOff).toEqual([{ name: 'app', remainingMs: 5_000, exited: app }]);
    expect(p.requeueAfterMs).toBe(5_000);
  });

  it('starts an instance that was created and never started without a back-off and without `after`', () => {
    const created = running('app', 2, { state: 'CONTAINER_CREATED', startedAt: 0 });
    const { plan: p, calls } = plan(desired(), [sandbox([created, exited('app', 1, 1)])], { backoff: { app: 60_000 } });
    expect(p.startContainers).toEqual([{ name: 'app', restartCount: 3 }]);
    expect(p.backingOff).toEqual([]);
    expect(calls.backoffs).toEqual([]);
  });
});

describe('planPod: probes and unknown containers', () => {
  it.each<['liveness' | 'startup', 'LivenessProbe' | 'StartupProbe']>([
    ['liveness', 'LivenessProbe'],
    ['startup', 'StartupProbe'],
  ])('kills a running container whose %s probe failed', (probe, reason) => {
    const c = running('app', 1);
    const { plan: p } = plan(desired(), [sandbox([c])], { verdicts: { [c.id]: { [probe]: 'failure' } } });
    expect(p).toEqual({ ...nothing, killContainers: [{ container: c, reason }] });
  });

  it('kills only the container whose probe failed', () => {
    const app = running('app');
    const side = running('side');
    const { plan: p } = plan(desired(twoContainers()), [sandbox([side, app])], { verdicts: { [side.id]: { liveness: 'failure' } } });
    expect(p.killContainers).toEqual([{ container: side, reason: 'LivenessProbe' }]);
    expect(p.startContainers).toEqual([]);
  });

  it('kills a container in an unknown state before another instance starts, whatever the restart policy', () => {
    for (const policy of ['Always', 'OnFailure', 'Never'] as const) {
      const c = running('app', 2, { state: 'CONTAINER_UNKNOWN' });
      const current = sandbox([c]);
      const { plan: p } = plan(desired(template({ restartPolicy: policy })), [current]);
      expect(p).toEqual({ ...nothing, killContainers: [{ container: c, reason: 'Unknown' }] });
    }
  });
});

describe('planPod: dead instances', () => {
  it('removes the dead instances beyond the newest dead one of each container', () => {
    const app = [running('app', 3), exited('app', 2, 1), exited('app', 1, 1), exited('app', 0, 1)];
    const side = [exited('side', 1, 0), exited('side', 0, 0)];
    const { plan: p } = plan(desired(twoContainers()), [sandbox([app[0]!, side[0]!, app[1]!, side[1]!, app[2]!, app[3]!])], { backoff: { side: 1_000 } });
    expect(p.removeContainers).toEqual([side[1], app[2], app[3]]);
  });

  it('keeps the one dead instance a restart follows', () => {
    const last = exited('app', 1, 1);
    const { plan: p } = plan(desired(), [sandbox([last, exited('app', 0, 1)])]);
    expect(p.startContainers).toEqual([{ name: 'app', restartCount: 2, after: last }]);
    expect(p.removeContainers).not.toContain(last);
    expect(p.removeContainers).toHaveLength(1);
  });

  it('never removes a running or unknown instance', () => {
    const { plan: p } = plan(desired(twoContainers()), [sandbox([running('app', 1), running('side', 0, { state: 'CONTAINER_UNKNOWN' })])]);
    expect(p.removeContainers).toEqual([]);
  });
});
