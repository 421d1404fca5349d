import { describe, expect, it } from '@jest/globals';
import type { Condition, Template } from '../../api/index.js';
import { exited, running, sandbox, template, twoContainers } from './test-fixtures.js';
import { phaseOf, podStatus, type StatusInput, type Waiting } from './pod-status.js';

const NOW = new Date('2026-03-01T10:05:00Z');

function status(over: Partial<StatusInput> & { notReady?: string[] } = {}) {
  const { notReady = [], ...rest } = over;
  return podStatus({
    template: template(),
    sandbox: undefined,
    ready: (_id, name) => !notReady.includes(name),
    waiting: new Map(),
    generation: 3,
    previousConditions: undefined,
    now: NOW,
    ...rest,
  });
}

const waiting = (entries: Record<string, Waiting>): Map<string, Waiting> => new Map(Object.entries(entries));

describe('podStatus: phase', () => {
  it('is Pending without a sandbox, every container waiting to be created', () => {
    const s = status({ template: twoContainers() });
    expect(s.phase).toBe('Pending');
    expect(s.ready).toBe(false);
    expect(s.podIP).toBeUndefined();
    expect(s.containers).toEqual([
      { name: 'app', image: 'shopfloor.dev/app:1', restartCount: 0, state: 'Waiting', ready: false, reason: 'ContainerCreating' },
      { name: 'side', image: 'shopfloor.dev/side:1', restartCount: 0, state: 'Waiting', ready: false, reason: 'ContainerCreating' },
    ]);
  });

  it('is Pending in a sandbox where no container has started yet', () => {
    const created = running('app', 0, { state: 'CONTAINER_CREATED', startedAt: 0 });
    const s = status({ sandbox: sandbox([created]) });
    expect(s.phase).toBe('Pending');
    expect(s.podIP).toBe('10.88.7.2');
    expect(s.containers?.[0]).toMatchObject({ state: 'Waiting', reason: 'ContainerCreating', containerID: `containerd://${created.id}` });
  });

  it('is Pending while the image of the only container cannot be pulled', () => {
    const s = status({ sandbox: sandbox([]), waiting: waiting({ app: { reason: 'ErrImagePull', message: 'failed to pull image "shopfloor.dev/app:1": not found' } }) });
    expect(s.phase).toBe('Pending');
  });

  it('is Pending while one container has never started, even with another running (kubelet getPhase: waiting > 0)', () => {
    const s = status({ template: twoContainers(), sandbox: sandbox([running('app')]), waiting: waiting({ side: { reason: 'ErrImagePull', message: 'no such image' } }) });
    expect(s.phase).toBe('Pending');
    expect(s.ready).toBe(false);
  });

  it('is Running while every container runs', () => {
    const s = status({ template: twoContainers(), sandbox: sandbox([running('side'), running('app')]) });
    expect(s.phase).toBe('Running');
  });

  it('is Running while an Always container restarts', () => {
    const s = status({ sandbox: sandbox([exited('app', 2, 1)]), waiting: waiting({ app: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } }) });
    expect(s.phase).toBe('Running');
  });

  it('is Running under OnFailure while a failed container restarts and another has succeeded', () => {
    const s = status({ template: twoContainers('OnFailure'), sandbox: sandbox([exited('side', 0, 0), exited('app', 1, 1)]) });
    expect(s.phase).toBe('Running');
    expect(s.containers?.map((c) => c.state)).toEqual(['Waiting', 'Terminated']);
  });

  it('is Running under Never while one container still runs after another failed', () => {
    const s = status({ template: twoContainers('Never'), sandbox: sandbox([running('side'), exited('app', 0, 1)]) });
    expect(s.phase).toBe('Running');
  });

  it.each<[Template['restartPolicy'], number, number, 'Succeeded' | 'Failed']>([
    ['Never', 0, 0, 'Succeeded'],
    ['OnFailure', 0, 0, 'Succeeded'],
    ['Never', 0, 1, 'Failed'],
    ['Never', 2, 137, 'Failed'],
  ])('is final once every container ended for good (%s, exit codes %d and %d): %s', (policy, a, b, phase) => {
    // The sandbox of a finished pod is stopped, not ready, and still reports.
    const s = status({ template: twoContainers(policy), sandbox: sandbox([exited('side', 0, b), exited('app', 0, a)], { ready: false, ip: undefined }) });
    expect(s.phase).toBe(phase);
    expect(s.ready).toBe(false);
    expect(s.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'PodCompleted' });
  });

  it('phaseOf: Pending without a sandbox whatever the container states', () => {
    expect(phaseOf([{ name: 'app', state: 'Terminated', ready: false, restartCount: 0, exitCode: 0 }], undefined)).toBe('Pending');
  });
});

describe('podStatus: containers', () => {
  it('reports a running container with its start time, id and image', () => {
    const c = running('app', 0, { startedAt: Date.parse('2026-03-01T10:00:01.250Z') });
    const s = status({ sandbox: sandbox([c]) });
    expect(s.containers).toEqual([
      { name: 'app', image: 'shopfloor.dev/app:1', restartCount: 0, containerID: `containerd://${c.id}`, state: 'Running', ready: true, startedAt: '2026-03-01T10:00:01Z' },
    ]);
  });

  it('shows a waiting reason with its message', () => {
    const s = status({ template: twoContainers(), sandbox: sandbox([]), waiting: waiting({ app: { reason: 'ErrImagePull', message: 'failed to pull image "shopfloor.dev/app:1": not found' }, side: { reason: 'ImagePullBackOff', message: '' } }) });
    expect(s.containers?.[0]).toMatchObject({ state: 'Waiting', ready: false, reason: 'ErrImagePull', message: 'failed to pull image "shopfloor.dev/app:1": not found' });
    expect(s.containers?.[1]).toMatchObject({ state: 'Waiting', reason: 'ImagePullBackOff' });
    expect(s.containers?.[1]).not.toHaveProperty('message');
  });

  it('shows CrashLoopBackOff with the last instance as the last termination', () => {
    const last = exited('app', 4, 2, { reason: '' });
    const s = status({ sandbox: sandbox([last, exited('app', 3, 1)]), waiting: waiting({ app: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=app pod=shop/web-0' } }) });
    expect(s.containers).toEqual([
      {
        name: 'app',
        image: 'shopfloor.dev/app:1',
        restartCount: 4,
        containerID: `containerd://${last.id}`,
        state: 'Waiting',
        ready: false,
        reason: 'CrashLoopBackOff',
        message: 'back-off 40s restarting failed container=app pod=shop/web-0',
        lastTerminationReason: 'Error',
        lastTerminationExitCode: 2,
      },
    ]);
  });

  it('takes the last termination of a running container from the instance before it', () => {
    const s = status({ sandbox: sandbox([running('app', 2), exited('app', 1, 137, { reason: 'OOMKilled' }), exited('app', 0, 1)]) });
    expect(s.containers?.[0]).toMatchObject({ state: 'Running', restartCount: 2, lastTerminationReason: 'OOMKilled', lastTerminationExitCode: 137 });
  });

  it('has no last termination for a first instance', () => {
    const s = status({ sandbox: sandbox([running('app')]) });
    expect(s.containers?.[0]).not.toHaveProperty('lastTerminationReason');
    expect(s.containers?.[0]).not.toHaveProperty('lastTerminationExitCode');
  });

  it('reports a container that ended for good as Terminated with its own reason and the previous instance as the last termination', () => {
    const last = exited('app', 1, 0, { message: 'done' });
    const s = status({ template: template({ restartPolicy: 'OnFailure' }), sandbox: sandbox([last, exited('app', 0, 3)]) });
    expect(s.containers).toEqual([
      {
        name: 'app',
        image: 'shopfloor.dev/app:1',
        restartCount: 1,
        containerID: `containerd://${last.id}`,
        state: 'Terminated',
        ready: false,
        reason: 'Completed',
        exitCode: 0,
        message: 'done',
        lastTerminationReason: 'Error',
        lastTerminationExitCode: 3,
      },
    ]);
  });

  it('keeps the runtime reason of a termination', () => {
    const s = status({ template: template({ restartPolicy: 'Never' }), sandbox: sandbox([exited('app', 0, 137, { reason: 'OOMKilled' })]) });
    expect(s.containers?.[0]).toMatchObject({ state: 'Terminated', reason: 'OOMKilled', exitCode: 137 });
  });

  it('shows an exited container about to restart as being created, with its exit as the last termination', () => {
    const s = status({ sandbox: sandbox([exited('app', 0, 0)]) });
    expect(s.containers?.[0]).toMatchObject({ state: 'Waiting', reason: 'ContainerCreating', lastTerminationReason: 'Completed', lastTerminationExitCode: 0 });
  });

  it('takes no last termination from an instance that was created and never ran', () => {
    const s = status({ sandbox: sandbox([running('app', 0, { state: 'CONTAINER_CREATED', startedAt: 0 })]) });
    expect(s.containers?.[0]).toMatchObject({ state: 'Waiting', reason: 'ContainerCreating' });
    expect(s.containers?.[0]).not.toHaveProperty('lastTerminationReason');
    expect(s.containers?.[0]).not.toHaveProperty('lastTerminationExitCode');
  });

  it('takes the last termination of a created, never started instance from the exited one before it', () => {
    const s = status({ sandbox: sandbox([running('app', 2, { state: 'CONTAINER_CREATED', startedAt: 0 }), exited('app', 1, 1)]) });
    expect(s.containers?.[0]).toMatchObject({ state: 'Waiting', restartCount: 2, lastTerminationReason: 'Error', lastTerminationExitCode: 1 });
  });

  it('sums the restart counts of every container', () => {
    const s = status({ template: twoContainers(), sandbox: sandbox([running('side', 3), running('app', 4), exited('app', 3, 1)]) });
    expect(s.containers?.map((c) => c.restartCount)).toEqual([4, 3]);
    expect(s.restartCount).toBe(7);
  });

  it('passes the running instance to the readiness check', () => {
    const c = running('app');
    const asked: Array<[string, string]> = [];
    podStatus({ template: template(), sandbox: sandbox([c]), ready: (id, name) => (asked.push([id, name]), true), waiting: new Map(), generation: undefined, previousConditions: undefined, now: NOW });
    expect(asked).toEqual([[c.id, 'app']]);
  });
});

describe('podStatus: ready and the Ready condition', () => {
  it('is ready when every container runs and is ready', () => {
    const s = status({ template: twoContainers(), sandbox: sandbox([running('side'), running('app')]) });
    expect(s.ready).toBe(true);
    expect(s.containers?.every((c) => c.ready)).toBe(true);
    expect(s.conditions).toEqual([{ type: 'Ready', status: 'True', reason: 'ContainersReady', message: 'every container is ready', lastTransitionTime: '2026-03-01T10:05:00Z', observedGeneration: 3 }]);
    expect(s.observedGeneration).toBe(3);
  });

  it('is not ready while one running container fails its readiness probe, and names it', () => {
    const s = status({ template: twoContainers(), sandbox: sandbox([running('side'), running('app')]), notReady: ['side'] });
    expect(s.ready).toBe(false);
    expect(s.containers?.map((c) => c.ready)).toEqual([true, false]);
    expect(s.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'ContainersNotReady' });
    expect(s.conditions?.[0]?.message).toContain('side');
    expect(s.conditions?.[0]?.message).not.toContain('app');
  });

  it('is not ready while one container is not running', () => {
    const s = status({ template: twoContainers(), sandbox: sandbox([exited('side', 0, 1), running('app')]) });
    expect(s.phase).toBe('Running');
    expect(s.ready).toBe(false);
    expect(s.conditions?.[0]?.message).toContain('side');
  });

  it('is not ready under OnFailure once one container has completed', () => {
    const s = status({ template: twoContainers('OnFailure'), sandbox: sandbox([exited('side', 0, 0), running('app')]) });
    expect(s.ready).toBe(false);
  });

  it('keeps lastTransitionTime while the status stays, and moves it on a flip', () => {
    const earlier = '2026-03-01T09:00:00Z';
    const notReady: Condition[] = [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers not ready: app', lastTransitionTime: earlier, observedGeneration: 2 }];
    const still = status({ sandbox: sandbox([running('app')]), notReady: ['app'], previousConditions: notReady });
    expect(still.conditions).toEqual([{ ...notReady[0], observedGeneration: 3 }]);

    const flipped = status({ sandbox: sandbox([running('app')]), previousConditions: notReady });
    expect(flipped.conditions).toEqual([{ type: 'Ready', status: 'True', reason: 'ContainersReady', message: 'every container is ready', lastTransitionTime: '2026-03-01T10:05:00Z', observedGeneration: 3 }]);

    // Ready → Ready later: the time of the flip stays.
    const later = status({ sandbox: sandbox([running('app')]), previousConditions: flipped.conditions, now: new Date('2026-03-01T11:00:00Z') });
    expect(later.conditions?.[0]?.lastTransitionTime).toBe('2026-03-01T10:05:00Z');
  });

  it('keeps the time of the last flip when the reason changes but the status does not', () => {
    const since = '2026-03-01T09:00:00Z';
    const previous: Condition[] = [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers not ready: app', lastTransitionTime: since }];
    const s = status({ template: template({ restartPolicy: 'Never' }), sandbox: sandbox([exited('app', 0, 0)], { ready: false }), previousConditions: previous });
    expect(s.conditions?.[0]).toMatchObject({ status: 'False', reason: 'PodCompleted', lastTransitionTime: since });
  });

  it('keeps the other conditions it was given', () => {
    const other: Condition = { type: 'Scheduled', status: 'True', reason: 'Bound', message: 'on node-1', lastTransitionTime: '2026-03-01T08:00:00Z' };
    const s = status({ sandbox: sandbox([running('app')]), previousConditions: [other] });
    expect(s.conditions?.map((c) => c.type)).toEqual(['Scheduled', 'Ready']);
    expect(s.conditions?.[0]).toEqual(other);
  });

  it('leaves observedGeneration out when the generation is unknown', () => {
    const s = status({ sandbox: sandbox([running('app')]), generation: undefined });
    expect(s).not.toHaveProperty('observedGeneration');
    expect(s.conditions?.[0]).not.toHaveProperty('observedGeneration');
  });
});
