import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { Registry } from 'prom-client';
import type { Container, Probe } from '../../api/template.js';
import { FakeClock } from '../../kube/fake-clock.js';
import { eventually } from '../../test/harness/eventually.js';
import type { ExecSync } from './probe-handlers.js';
import { ProbeManager, type ProbeChange, type ProbedContainer } from './probe-manager.js';

const T0 = 1_700_000_000_000;
const pod = { podIP: '127.0.0.1', namespace: 'shop', name: 'web-0', uid: 'uid-1' };

const probe = (command: string, over: Partial<Probe> = {}): Probe => ({
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
  exec: { command: [command] },
  ...over,
});

const spec = (over: Partial<Container> = {}): Container => ({ name: 'app', image: 'shopfloor.dev/app:1', ...over });

/** A fake CRI ExecSync: each command exits with the code `exits` holds for it now (0 by default). */
function fakeExec(clock: FakeClock) {
  const exits = new Map<string, number>();
  const calls: Array<{ at: number; cmd: string; id: string }> = [];
  const exec: ExecSync = (id, cmd) => {
    const name = cmd[0] ?? '';
    calls.push({ at: clock.now() - T0, cmd: name, id });
    return Promise.resolve({ exitCode: exits.get(name) ?? 0, stdout: Buffer.alloc(0), stderr: Buffer.from(`${name} says no`) });
  };
  return { exec, exits, calls };
}

function setup(random = () => 0.5) {
  const clock = new FakeClock(T0);
  const fake = fakeExec(clock);
  const registry = new Registry();
  const changes: Array<{ podKey: string } & ProbeChange> = [];
  const manager = new ProbeManager({ exec: fake.exec, clock, random, registry, onChange: (podKey, change) => changes.push({ podKey, ...change }) });
  return { clock, ...fake, registry, changes, manager };
}

const container = (over: Partial<ProbedContainer> = {}): ProbedContainer => ({
  name: 'app',
  containerId: 'c1',
  startedAt: T0,
  running: true,
  spec: spec({ startupProbe: probe('startup'), livenessProbe: probe('alive'), readinessProbe: probe('ready') }),
  ...over,
});

describe('ProbeManager', () => {
  it('tells why a readiness probe fails while its verdict stays failed, once per new reason', async () => {
    const { clock, exits, changes, manager } = setup();
    exits.set('ready', 1);
    manager.sync('shop/web-0', [container({ spec: spec({ readinessProbe: probe('ready') }) })], pod);
    await clock.advance(0);
    expect(changes).toEqual([{ podKey: 'shop/web-0', container: 'app', probe: 'readiness', result: 'failure', output: 'command exited with 1: ready says no' }]);
    expect(manager.lastFailure('shop/web-0', 'app', 'readiness')).toBe('command exited with 1: ready says no');
    await clock.advance(10_000);
    expect(changes).toHaveLength(1);
    exits.set('ready', 0);
    await clock.advance(10_000);
    expect(manager.lastFailure('shop/web-0', 'app', 'readiness')).toBeUndefined();
    expect(changes.map((c) => c.result)).toEqual(['failure', 'success']);
    manager.stop();
  });

  it('holds liveness and readiness until startup succeeds, then probes them at once', async () => {
    const { clock, exits, calls, changes, manager } = setup();
    exits.set('startup', 1);
    manager.sync('shop/web-0', [container()], pod);
    expect(manager.result('shop/web-0', 'app', 'startup')).toBe('unknown');
    expect(manager.result('shop/web-0', 'app', 'readiness')).toBe('failure');
    await clock.advance(10_000);
    exits.set('startup', 0);
    await clock.advance(10_000);
    expect(calls.map((c) => `${c.at} ${c.cmd}`)).toEqual(['0 startup', '10000 startup', '20000 startup', '20000 alive', '20000 ready']);
    expect(changes.map((c) => `${c.probe}=${c.result}`)).toEqual(['startup=success', 'readiness=success']);
    expect(manager.result('shop/web-0', 'app', 'readiness')).toBe('success');
    manager.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('reports a liveness failure with its reason, and starts over for the next container', async () => {
    const { clock, exits, changes, manager } = setup();
    const c = container({ spec: spec({ livenessProbe: probe('alive', { failureThreshold: 2 }) }) });
    manager.sync('shop/web-0', [c], pod);
    exits.set('alive', 1);
    await clock.advance(10_000);
    expect(changes).toEqual([{ podKey: 'shop/web-0', container: 'app', probe: 'liveness', result: 'failure', output: 'command exited with 1: alive says no' }]);
    expect(manager.result('shop/web-0', 'app', 'liveness')).toBe('failure');
    expect(manager.result('shop/web-0', 'app', 'liveness', 'c1')).toBe('failure');
    expect(manager.result('shop/web-0', 'app', 'liveness', 'c2')).toBe('success');

    exits.set('alive', 0);
    manager.sync('shop/web-0', [{ ...c, containerId: 'c2', startedAt: clock.now() }], pod);
    expect(manager.result('shop/web-0', 'app', 'liveness')).toBe('success');
    expect(changes).toHaveLength(1);
    manager.stop();
  });

  it('answers success for a probe the container does not declare, and nothing for unknown containers', () => {
    const { manager } = setup();
    manager.sync('shop/web-0', [container({ spec: spec() })], pod);
    expect(manager.result('shop/web-0', 'app', 'readiness')).toBe('success');
    expect(manager.result('shop/web-0', 'app', 'startup')).toBe('success');
    expect(manager.result('shop/web-0', 'other', 'readiness')).toBeUndefined();
    expect(manager.result('shop/web-1', 'app', 'readiness')).toBeUndefined();
  });

  it('keeps Ready and Started of adopted containers across an agent restart, and spreads their first probes', async () => {
    const { clock, calls, changes, manager } = setup(() => 0.3);
    const adopted = (name: string, id: string): ProbedContainer =>
      container({ name, containerId: id, startedAt: T0 - 3_600_000, reported: { ready: true, started: true } });
    manager.sync('shop/web-0', [adopted('app', 'c1'), adopted('side', 'c2')], pod);
    for (const name of ['app', 'side']) {
      expect(manager.result('shop/web-0', name, 'readiness')).toBe('success');
      expect(manager.result('shop/web-0', name, 'startup')).toBe('success');
    }
    await clock.advance(2_999);
    expect(calls).toHaveLength(0);
    await clock.advance(1);
    expect(calls.map((c) => c.cmd).sort()).toEqual(['alive', 'alive', 'ready', 'ready']);
    expect(changes).toEqual([]);
    manager.stop();
  });

  it('does not carry over a reported not-started, which would count as a startup failure', () => {
    const { manager } = setup();
    manager.sync('shop/web-0', [container({ startedAt: T0 - 3_600_000, reported: { ready: false, started: false } })], pod);
    expect(manager.result('shop/web-0', 'app', 'startup')).toBe('unknown');
    expect(manager.result('shop/web-0', 'app', 'readiness')).toBe('failure');
    manager.stop();
  });

  it('restarts a worker whose probe changed and stops the workers of containers no longer listed', async () => {
    const { clock, calls, manager } = setup();
    const ready = (command: string) => container({ spec: spec({ readinessProbe: probe(command) }) });
    manager.sync('shop/web-0', [ready('ready'), { ...ready('ready'), name: 'side', containerId: 'c9' }], pod);
    await clock.advance(0);
    manager.sync('shop/web-0', [ready('ready-v2')], pod);
    expect(manager.result('shop/web-0', 'app', 'readiness')).toBe('failure');
    expect(manager.result('shop/web-0', 'side', 'readiness')).toBeUndefined();
    await clock.advance(10_000);
    expect(calls.map((c) => `${c.at} ${c.cmd} ${c.id}`)).toEqual(['0 ready c1', '0 ready c9', '0 ready-v2 c1', '10000 ready-v2 c1']);
    manager.remove('shop/web-0');
    expect(manager.result('shop/web-0', 'app', 'readiness')).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('counts probes in prober_probe_total and times the successful ones in prober_probe_duration_seconds with kubelet\'s labels, and forgets a removed pod\'s series', async () => {
    const { clock, exits, registry, manager } = setup();
    manager.sync('shop/web-0', [container({ spec: spec({ readinessProbe: probe('ready') }) })], pod);
    await clock.advance(10_000);
    exits.set('ready', 1);
    await clock.advance(10_000);
    const values = async () => (await registry.getSingleMetric('prober_probe_total')?.get())?.values ?? [];
    expect(await values()).toEqual(
      expect.arrayContaining([
        { value: 2, labels: { probe_type: 'Readiness', result: 'successful', container: 'app', pod: 'web-0', namespace: 'shop', pod_uid: 'uid-1' } },
        { value: 1, labels: { probe_type: 'Readiness', result: 'failed', container: 'app', pod: 'web-0', namespace: 'shop', pod_uid: 'uid-1' } },
      ]),
    );
    // Successful probes only are timed, as kubelet does.
    const durations = await registry.getSingleMetricAsString('prober_probe_duration_seconds');
    expect(durations).toContain('prober_probe_duration_seconds_count{probe_type="Readiness",container="app",pod="web-0",namespace="shop"} 2');
    manager.remove('shop/web-0');
    expect(await values()).toEqual([]);
    expect(await registry.getSingleMetricAsString('prober_probe_duration_seconds')).not.toContain('pod="web-0"');
  });

  it('sends a TCP probe to the pod IP it was given, on the named port', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { clock, changes, manager } = setup();
      const c = container({ spec: spec({ ports: [{ name: 'web', containerPort: port, protocol: 'TCP' }], readinessProbe: { ...probe('unused'), exec: undefined, tcpSocket: { port: 'web' } } }) });
      manager.sync('shop/web-0', [c], pod);
      await clock.advance(0);
      await eventually('the TCP probe makes the container ready', () => manager.result('shop/web-0', 'app', 'readiness') === 'success');
      expect(changes).toEqual([{ podKey: 'shop/web-0', container: 'app', probe: 'readiness', result: 'success', output: '' }]);
      manager.stop();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
