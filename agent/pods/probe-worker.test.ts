import { describe, expect, it } from '@jest/globals';
import type { Probe } from '../../api/template.js';
import { FakeClock } from '../../kube/fake-clock.js';
import { runProbe, type ExecSync, type ProbeOutcome } from './probe-handlers.js';
import { countResult, freshTally, ProbeWorker, type ContainerInstance, type ProbeResult, type ProbeType, type ProbeWorkerOptions } from './probe-worker.js';

const T0 = 1_700_000_000_000;
const probeSpec = (over: Partial<Probe> = {}): Probe => ({
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
  exec: { command: ['check'] },
  ...over,
});

/** A fake probe handler: answers from a script (the last answer repeats), recording when it ran. */
function fakeProbe(clock: FakeClock, script: Array<ProbeOutcome['result'] | 'error'>) {
  const runs: Array<{ at: number; containerId: string }> = [];
  const run = (containerId: string): Promise<ProbeOutcome> => {
    runs.push({ at: clock.now() - T0, containerId });
    const next = (script.length > 1 ? script.shift() : script[0]) ?? 'success';
    if (next === 'error') return Promise.reject(new Error('CRI ExecSync failed: runtime unavailable'));
    return Promise.resolve({ result: next, output: next === 'success' ? '' : 'command exited with 1: not yet' });
  };
  return { run, runs, at: () => runs.map((r) => r.at) };
}

function setup(type: ProbeType, options: { probe?: Partial<Probe>; script?: Array<ProbeOutcome['result'] | 'error'>; container?: Partial<ContainerInstance>; extra?: Partial<ProbeWorkerOptions> } = {}) {
  const clock = new FakeClock(T0);
  const probe = fakeProbe(clock, options.script ?? ['success']);
  const verdicts: Array<{ at: number; result: ProbeResult }> = [];
  const metrics: string[] = [];
  const worker = new ProbeWorker(
    {
      type,
      probe: probeSpec(options.probe),
      clock,
      random: () => 0.5,
      run: probe.run,
      started: () => true,
      onVerdict: (result) => verdicts.push({ at: clock.now() - T0, result }),
      onProbe: (result) => metrics.push(result),
      ...options.extra,
    },
    { containerId: 'c1', running: true, startedAt: T0, ...options.container },
  );
  return { clock, probe, verdicts, metrics, worker };
}

describe('countResult', () => {
  it('changes the verdict only after a threshold of equal results in a row', () => {
    const thresholds = { successThreshold: 2, failureThreshold: 3 };
    let tally = freshTally('failure');
    const verdicts: ProbeResult[] = [];
    for (const r of ['success', 'failure', 'success', 'success', 'failure', 'failure', 'success', 'failure', 'failure', 'failure'] as const) {
      tally = countResult(tally, r, thresholds).tally;
      verdicts.push(tally.verdict);
    }
    expect(verdicts).toEqual(['failure', 'failure', 'failure', 'success', 'success', 'success', 'success', 'success', 'success', 'failure']);
  });
});

describe('ProbeWorker', () => {
  it('starts from kubelet\'s initial verdicts', () => {
    for (const [type, initial] of [['readiness', 'failure'], ['liveness', 'success'], ['startup', 'unknown']] as const) {
      const { worker } = setup(type);
      expect(worker.result()).toBe(initial);
      worker.stop();
    }
  });

  it('probes a new container at once and then every period, turning ready after successThreshold', async () => {
    const { clock, probe, verdicts, worker } = setup('readiness', { probe: { successThreshold: 2 } });
    await clock.advance(0);
    expect(worker.result()).toBe('failure');
    await clock.advance(10_000);
    expect(worker.result()).toBe('success');
    await clock.advance(20_000);
    expect(probe.at()).toEqual([0, 10_000, 20_000, 30_000]);
    expect(verdicts).toEqual([{ at: 10_000, result: 'success' }]);
    worker.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('turns not ready after failureThreshold failures in a row, and ready again after one success', async () => {
    const { clock, verdicts, worker } = setup('readiness', { script: ['success', 'failure', 'failure', 'success', 'failure', 'failure', 'failure', 'success'] });
    await clock.advance(80_000);
    expect(verdicts).toEqual([
      { at: 0, result: 'success' },
      { at: 60_000, result: 'failure' },
      { at: 70_000, result: 'success' },
    ]);
    worker.stop();
  });

  it('waits initialDelaySeconds after the container started before the first probe', async () => {
    const { clock, probe, worker } = setup('liveness', { probe: { initialDelaySeconds: 15 }, container: { startedAt: T0 - 5_000 } });
    await clock.advance(9_999);
    expect(probe.runs).toHaveLength(0);
    await clock.advance(1);
    expect(probe.at()).toEqual([10_000]);
    await clock.advance(10_000);
    expect(probe.at()).toEqual([10_000, 20_000]);
    worker.stop();
  });

  it('does not probe a container that does not run, and marks it not ready', async () => {
    const { clock, probe, worker } = setup('readiness', { container: { running: false } });
    await clock.advance(30_000);
    expect(probe.runs).toHaveLength(0);
    expect(clock.pendingTimers()).toBe(0);
    worker.update({ containerId: 'c1', running: true, startedAt: clock.now() });
    await clock.advance(0);
    expect(worker.result()).toBe('success');
    worker.update({ containerId: 'c1', running: false, startedAt: T0 + 30_000 });
    expect(worker.result()).toBe('failure');
    await clock.advance(30_000);
    expect(probe.runs).toHaveLength(1);
  });

  it('holds liveness after a failure verdict until a new container ID, then starts over', async () => {
    const { clock, probe, verdicts, worker } = setup('liveness', { script: ['failure', 'failure', 'failure', 'success'] });
    await clock.advance(60_000);
    expect(probe.at()).toEqual([0, 10_000, 20_000]);
    expect(worker.result()).toBe('failure');
    expect(verdicts).toEqual([{ at: 20_000, result: 'failure' }]);
    expect(clock.pendingTimers()).toBe(0);

    worker.update({ containerId: 'c2', running: true, startedAt: clock.now() });
    expect(worker.result()).toBe('success');
    await clock.advance(0);
    expect(probe.runs.at(-1)).toEqual({ at: 60_000, containerId: 'c2' });
    worker.stop();
  });

  it('stops the startup probe once it succeeded, and holds it after a failure verdict', async () => {
    const ok = setup('startup', { script: ['failure', 'success'] });
    await ok.clock.advance(60_000);
    expect(ok.probe.at()).toEqual([0, 10_000]);
    expect(ok.worker.result()).toBe('success');
    expect(ok.clock.pendingTimers()).toBe(0);

    const failing = setup('startup', { probe: { failureThreshold: 2 }, script: ['failure'] });
    await failing.clock.advance(60_000);
    expect(failing.probe.at()).toEqual([0, 10_000]);
    expect(failing.worker.result()).toBe('failure');
  });

  it('keeps liveness and readiness idle until startup succeeded, then probes on trigger', async () => {
    let started = false;
    const { clock, probe, worker } = setup('readiness', { extra: { started: () => started } });
    await clock.advance(30_000);
    expect(probe.runs).toHaveLength(0);
    started = true;
    worker.trigger();
    await clock.advance(0);
    expect(probe.at()).toEqual([30_000]);
    expect(worker.result()).toBe('success');
    worker.stop();
  });

  it('discards probe errors: the verdict stays and only the metric counts them', async () => {
    const { clock, metrics, worker } = setup('readiness', { script: ['success', 'error', 'error', 'error', 'failure'] });
    await clock.advance(40_000);
    expect(worker.result()).toBe('success');
    expect(metrics).toEqual(['successful', 'unknown', 'unknown', 'unknown', 'failed']);
    worker.stop();
  });

  it('starts a seeded worker from the reported verdict, so readiness does not flip on agent restart', async () => {
    const { clock, verdicts, worker } = setup('readiness', { script: ['failure', 'failure', 'success'], extra: { seed: 'success' }, container: { startedAt: T0 - 3_600_000 } });
    expect(worker.result()).toBe('success');
    await clock.advance(30_000);
    expect(worker.result()).toBe('success');
    expect(verdicts).toEqual([]);
  });

  it('spreads the first probe of an adopted container over a random part of the period', async () => {
    const { clock, probe, worker } = setup('liveness', { container: { startedAt: T0 - 60_000 }, extra: { random: () => 0.25 } });
    await clock.advance(2_499);
    expect(probe.runs).toHaveLength(0);
    await clock.advance(1);
    await clock.advance(10_000);
    expect(probe.at()).toEqual([2_500, 12_500]);
    worker.stop();

    // A container that started within the last period is fresh: probed at once.
    const fresh = setup('liveness', { container: { startedAt: T0 - 9_000 }, extra: { random: () => 0.25 } });
    await fresh.clock.advance(0);
    expect(fresh.probe.at()).toEqual([0]);
    fresh.worker.stop();
  });

  it('drops the result of a probe that was running when the container was replaced', async () => {
    const clock = new FakeClock(T0);
    const pending: Array<(o: ProbeOutcome) => void> = [];
    const ids: string[] = [];
    const worker = new ProbeWorker(
      {
        type: 'liveness',
        probe: probeSpec({ failureThreshold: 1 }),
        clock,
        run: (id) => {
          ids.push(id);
          return new Promise((resolve) => pending.push(resolve));
        },
        started: () => true,
        onVerdict: () => undefined,
      },
      { containerId: 'c1', running: true, startedAt: T0 },
    );
    await clock.advance(0);
    worker.update({ containerId: 'c2', running: true, startedAt: T0 });
    pending.shift()?.({ result: 'failure', output: 'stale' });
    await clock.advance(0);
    expect(worker.result()).toBe('success');
    expect(ids).toEqual(['c1', 'c2']);
    worker.stop();
  });

  it('reports every probe with its result and the seconds it took', async () => {
    const clock = new FakeClock(T0);
    const probes: Array<[string, number]> = [];
    let answer: ProbeOutcome['result'] = 'success';
    const worker = new ProbeWorker(
      {
        type: 'readiness',
        probe: probeSpec(),
        clock,
        // Answers 40 ms after it was asked.
        run: () => new Promise((resolve) => clock.setTimer(() => resolve({ result: answer, output: '' }), 40)),
        started: () => true,
        onVerdict: () => undefined,
        onProbe: (result, _output, seconds) => probes.push([result, seconds]),
      },
      { containerId: 'c1', running: true, startedAt: T0 },
    );
    await clock.advance(100);
    answer = 'failure';
    await clock.advance(10_000);
    expect(probes).toEqual([['successful', 0.04], ['failed', 0.04]]);
    worker.stop();
  });

  it('counts an exec probe that times out as a failure after timeoutSeconds', async () => {
    const clock = new FakeClock(T0);
    // A fake ExecSync whose command never returns.
    const fakeHangingExec: ExecSync = () => new Promise(() => undefined);
    const probe = probeSpec({ timeoutSeconds: 3, failureThreshold: 1 });
    const outputs: string[] = [];
    const worker = new ProbeWorker(
      {
        type: 'liveness',
        probe,
        clock,
        run: (containerId) => runProbe(probe, { podIP: '10.0.0.5', containerId }, { exec: fakeHangingExec, clock }),
        started: () => true,
        onVerdict: (_result, output) => outputs.push(output),
      },
      { containerId: 'c1', running: true, startedAt: T0 },
    );
    await clock.advance(3_999);
    expect(worker.result()).toBe('success');
    await clock.advance(1);
    expect(worker.result()).toBe('failure');
    expect(outputs).toEqual(['command timed out after 3s: check']);
  });
});
