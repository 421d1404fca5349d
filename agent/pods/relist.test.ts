import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { FakeClock } from '../../kube/fake-clock.js';
import { silentLogger } from '../../kube/logger.js';
import type { CriClient } from '../cri/client.js';
import type { Container, PodSandbox } from '../cri/types.js';
import { podMetrics } from './metrics.js';
import { Relister } from './relist.js';
import { sandboxLabels } from './runtime-labels.js';

const pod = { namespace: 'shop', name: 'web-0', uid: 'uid-1', workload: 'web' };
const labels = sandboxLabels(pod, 'n1');

/** A fake of the runtime's two list calls: it answers what the test put in it. */
function fakeRuntime() {
  const state = { sandboxes: [] as PodSandbox[], containers: [] as Container[], afterSandboxList: undefined as (() => void) | undefined };
  const cri = {
    listPodSandbox: async () => state.sandboxes,
    // Runs after the sandbox list was answered: what happens here is newer than that answer.
    listContainers: async () => {
      state.afterSandboxList?.();
      return state.containers;
    },
  } as unknown as CriClient;
  return { state, cri };
}

function setup() {
  const clock = new FakeClock();
  const { state, cri } = fakeRuntime();
  const changed: string[] = [];
  const syncing = new Set<string>();
  const relister = new Relister({ cri, nodeName: 'n1', clock, periodMs: 1000, logger: silentLogger(), metrics: podMetrics(new Registry()), onChange: (k) => changed.push(k), syncing: (k) => syncing.has(k), onGone: () => undefined });
  return { clock, state, changed, syncing, relister };
}

const sandbox = (state: PodSandbox['state']): PodSandbox => ({ id: 's1', metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', attempt: 0 }, state, createdAt: 0, labels, annotations: {}, runtimeHandler: '' });

describe('Relister', () => {
  it('queues every pod on the first list, then only the pods whose runtime objects changed', async () => {
    const { clock, state, changed, relister } = setup();
    state.sandboxes = [sandbox('SANDBOX_READY')];
    await relister.start();
    expect(changed).toEqual(['shop/web-0']);
    await clock.advance(1000);
    expect(changed).toEqual(['shop/web-0']);
    state.sandboxes = [sandbox('SANDBOX_NOTREADY')];
    await clock.advance(1000);
    expect(changed).toEqual(['shop/web-0', 'shop/web-0']);
    expect(relister.runningPods()).toBe(0);
    await relister.stop();
  });

  it('does not queue a pod for what its own sync did and saw, even when a list was answered mid-sync', async () => {
    const { clock, state, changed, relister } = setup();
    await relister.start();
    // A sync makes the sandbox and observes it after the list under way was answered without it.
    state.afterSandboxList = () => {
      state.sandboxes = [sandbox('SANDBOX_READY')];
      relister.observed({ key: 'shop/web-0', sandboxes: [{ id: 's1', uid: 'uid-1', attempt: 0, ready: true, createdAt: 0, revision: 'r1', ip: '10.0.0.2', runtimeHandler: '', containers: [] }] });
      state.afterSandboxList = undefined;
    };
    await clock.advance(1000);
    await clock.advance(1000);
    expect(changed).toEqual([]);
    await relister.stop();
  });

  it('leaves a pod whose sync is under way to that sync, and queues it for a change made after the sync looked', async () => {
    const { clock, state, changed, syncing, relister } = setup();
    await relister.start();
    syncing.add('shop/web-0');
    state.sandboxes = [sandbox('SANDBOX_NOTREADY')];
    await clock.advance(1000);
    expect(changed).toEqual([]);
    syncing.delete('shop/web-0');
    relister.observed({ key: 'shop/web-0', sandboxes: [{ id: 's1', uid: 'uid-1', attempt: 0, ready: true, createdAt: 0, revision: 'r1', ip: '10.0.0.2', runtimeHandler: '', containers: [] }] });
    state.sandboxes = [sandbox('SANDBOX_READY')];
    await clock.advance(1000);
    expect(changed).toEqual([]);
    state.sandboxes = [];
    await clock.advance(1000);
    expect(changed).toEqual(['shop/web-0']);
    await relister.stop();
  });
});
