import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { FakeClock } from '../../kube/fake-clock.js';
import { podMetrics } from './metrics.js';
import { PodStartTracker } from './pod-start-tracker.js';

function setup() {
  const clock = new FakeClock();
  const registry = new Registry();
  const tracker = new PodStartTracker(podMetrics(registry), clock);
  const sums = async () => {
    const text = await registry.metrics();
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    return {
      start: value(/^kubelet_pod_start_duration_seconds_sum (\S+)$/m),
      startCount: value(/^kubelet_pod_start_duration_seconds_count (\S+)$/m),
      sliFirst: value(/^kubelet_pod_start_sli_duration_seconds_sum\{first_with_network="true"\} (\S+)$/m),
      sliRest: value(/^kubelet_pod_start_sli_duration_seconds_sum\{first_with_network="false"\} (\S+)$/m),
    };
  };
  return { clock, tracker, sums };
}

describe('PodStartTracker', () => {
  it('observes the start from first sight to running, and the SLI without the image pulls; the first pod is first_with_network', async () => {
    const { clock, tracker, sums } = setup();
    tracker.seen('shop/a');
    await clock.advance(100);
    tracker.pullStarted('shop/a');
    await clock.advance(2000);
    tracker.pullSucceeded('shop/a');
    await clock.advance(300);
    tracker.running('shop/a');
    expect(await sums()).toMatchObject({ start: 2.4, startCount: 1, sliFirst: 0.4 });

    tracker.seen('shop/b');
    await clock.advance(250);
    tracker.running('shop/b');
    expect(await sums()).toMatchObject({ startCount: 2, sliRest: 0.25 });
  });

  it('leaves failed pulls and the back-off between them out of the SLI: first pull start to last successful pull end', async () => {
    const { clock, tracker, sums } = setup();
    tracker.seen('shop/a');
    await clock.advance(100);
    tracker.pullStarted('shop/a'); // fails
    await clock.advance(10_000);
    tracker.pullStarted('shop/a');
    await clock.advance(1_000);
    tracker.pullSucceeded('shop/a');
    await clock.advance(200);
    tracker.running('shop/a');
    expect(await sums()).toMatchObject({ start: 11.3, sliFirst: 0.3 });
  });

  it('observes a pod once, and nothing for a pod forgotten before it ran or never seen new', async () => {
    const { clock, tracker, sums } = setup();
    tracker.seen('shop/a');
    await clock.advance(100);
    tracker.running('shop/a');
    tracker.running('shop/a');
    tracker.seen('shop/gone');
    tracker.forget('shop/gone');
    tracker.running('shop/gone');
    tracker.running('shop/adopted');
    expect((await sums()).startCount).toBe(1);
  });
});
