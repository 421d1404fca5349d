// How the agent handles containers that fail, on a real containerd: crash loops back off as
// kubelet's do and are reported without flooding the API, probes restart and gate, a bad image
// and an invalid spec are reported with a clear reason while other pods run on.
import { describe, expect, it } from '@jest/globals';
import { BUSYBOX_IMAGE } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';
import { metricValue } from '../harness/metrics.js';
import { Informer } from '../../kube/informer.js';
import { NODE_ASSIGNMENTS } from '../../kube/resource.js';
import type { NodeAssignment } from '../../api/index.js';
import { ANNOTATION_RESTART_COUNT, LABEL_ASSIGNMENT_NAME } from '../../agent/pods/runtime-labels.js';
import { assign, containerId, execIn, statusOf, uniqueName, untilRunning, usePodEnv, witness } from './support.js';

const podEnv = usePodEnv();

const sleeper = { name: 'app', image: BUSYBOX_IMAGE, command: ['sleep', '3600'] };

describe('failing containers', () => {
  it('restarts an exiting container with a growing back-off, reports CrashLoopBackOff, and writes a handful of statuses per step', async () => {
    const name = uniqueName('crash');
    const writes: string[] = [];
    const watch = new Informer<NodeAssignment>({ client: podEnv().client, resource: NODE_ASSIGNMENTS, fieldSelector: `metadata.name=${name}` });
    watch.addEventHandler({ onAdd: () => writes.push('add'), onUpdate: (_o, a) => writes.push(`${a.status?.containers?.[0]?.state}/${a.status?.containers?.[0]?.reason ?? ''}/${a.status?.restartCount}`) });
    watch.start();
    await watch.waitForSync();
    try {
      await assign(podEnv(), name, { containers: [{ name: 'app', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'sleep 1; exit 3'] }] });
      const looping = await eventually(
        'CrashLoopBackOff after the second exit',
        async () => {
          const s = await statusOf(podEnv(), name);
          const c = s?.containers?.[0];
          return c?.reason === 'CrashLoopBackOff' && (c.restartCount ?? 0) >= 1 && s;
        },
        60_000,
      );
      const c = looping.containers![0]!;
      expect(c).toMatchObject({ state: 'Waiting', ready: false, lastTerminationReason: 'Error', lastTerminationExitCode: 3 });
      expect(c.message).toMatch(/^back-off \d+s restarting failed container=app pod=default\//);
      expect(looping.phase).toBe('Running');
      // The first restart is immediate, the next waits 10 s, the one after 20 s.
      const restartedAt = async (count: number): Promise<number> => {
        await eventually(`restart ${count}`, async () => ((await statusOf(podEnv(), name))?.containers?.[0]?.restartCount ?? 0) >= count, 60_000);
        return Date.now();
      };
      const second = await restartedAt(2);
      const third = await restartedAt(3);
      expect(third - second).toBeGreaterThanOrEqual(9_000);
      const perStep = writes.length / 3;
      // Each step passes through Running, Waiting/CrashLoopBackOff (and the exit in between): a handful, not one per sync.
      expect(perStep).toBeLessThanOrEqual(5);
    } finally {
      await watch.stop();
    }
  }, 120_000);

  it('restarts a container whose liveness probe fails', async () => {
    const name = uniqueName('live');
    await assign(podEnv(), name, {
      containers: [{ ...sleeper, command: ['sh', '-c', 'touch /tmp/alive; exec sleep 3600'], livenessProbe: { exec: { command: ['test', '-f', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 } }],
    });
    const before = await untilRunning(podEnv(), name);
    await execIn(podEnv(), containerId(before, 'app'), ['rm', '/tmp/alive']);
    const after = await eventually('a restart after the liveness failure', async () => {
      const s = await statusOf(podEnv(), name);
      return (s?.containers?.[0]?.restartCount ?? 0) >= 1 && s?.containers?.[0]?.state === 'Running' && s;
    });
    expect(containerId(after, 'app')).not.toBe(containerId(before, 'app'));
    // Stopped by the agent: SIGTERM (sleep exits on it, 143), or SIGKILL after the grace period (137).
    expect([137, 143]).toContain(after.containers?.[0]?.lastTerminationExitCode);
    expect(after.containers?.[0]?.lastTerminationReason).toBe('Error');
    // The runtime runs the new instance as restart 1, and still holds the one that was stopped.
    await witness(podEnv(), async (crictl) => {
      const restarts = after.containers?.[0]?.restartCount;
      const byAttempt = (await crictl.containers({ [LABEL_ASSIGNMENT_NAME]: name })).sort((a, b) => (a.metadata.attempt ?? 0) - (b.metadata.attempt ?? 0));
      expect(byAttempt.map((c) => ({ id: c.id, state: c.state, attempt: c.metadata.attempt, restartCount: c.annotations[ANNOTATION_RESTART_COUNT] }))).toEqual([
        { id: containerId(before, 'app'), state: 'CONTAINER_EXITED', attempt: 0, restartCount: '0' },
        { id: containerId(after, 'app'), state: 'CONTAINER_RUNNING', attempt: restarts, restartCount: String(restarts) },
      ]);
    });
    // What Prometheus sees: the failed probe, and the restart the status counts.
    const registry = podEnv().agent.registry;
    expect(await metricValue(registry, 'prober_probe_total', { probe_type: 'Liveness', result: 'failed', pod: name, container: 'app' })).toBeGreaterThanOrEqual(1);
    expect(await metricValue(registry, 'shopfloor_agent_container_restarts_total', { namespace: 'default', pod: name, container: 'app' })).toBe(after.containers?.[0]?.restartCount);
  });

  it('follows an httpGet readiness probe: ready while it passes, not ready (with the probe\'s words) while it fails', async () => {
    const name = uniqueName('ready');
    await assign(podEnv(), name, {
      containers: [
        {
          name: 'web',
          image: BUSYBOX_IMAGE,
          command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/ready && exec httpd -f -p 8080 -h /www'],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
        },
      ],
    });
    const ready = await untilRunning(podEnv(), name);
    await execIn(podEnv(), containerId(ready, 'web'), ['rm', '/www/ready']);
    const notReady = await eventually('not ready', async () => {
      const s = await statusOf(podEnv(), name);
      return s?.ready === false && s;
    });
    expect(notReady.containers?.[0]).toMatchObject({ state: 'Running', ready: false, restartCount: 0 });
    expect(notReady.containers?.[0]?.message).toBe('Readiness probe failed: HTTP probe failed with statuscode: 404');
    expect(notReady.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    await execIn(podEnv(), containerId(ready, 'web'), ['sh', '-c', 'echo ok > /www/ready']);
    await untilRunning(podEnv(), name);
  });

  it('reports ErrImagePull then ImagePullBackOff for an image that cannot be pulled, without disturbing another pod', async () => {
    const good = uniqueName('good');
    await assign(podEnv(), good, { containers: [sleeper] });
    const goodBefore = await untilRunning(podEnv(), good);
    const bad = uniqueName('badimage');
    await assign(podEnv(), bad, { containers: [{ name: 'app', image: 'registry.invalid/nothing/here:1', command: ['true'] }] });
    const reasons = new Set<string>();
    await eventually(
      'ErrImagePull and then ImagePullBackOff',
      async () => {
        const c = (await statusOf(podEnv(), bad))?.containers?.[0];
        if (c?.reason) reasons.add(c.reason);
        return reasons.has('ErrImagePull') && reasons.has('ImagePullBackOff');
      },
      60_000,
      50,
    );
    const s = await statusOf(podEnv(), bad);
    expect(s).toMatchObject({ phase: 'Pending', ready: false });
    expect(s?.containers?.[0]?.message).toMatch(/registry\.invalid\/nothing\/here:1/);
    const goodAfter = await untilRunning(podEnv(), good);
    expect(containerId(goodAfter, 'app')).toBe(containerId(goodBefore, 'app'));
  });

  it('reports an invalid spec that reached the node with a clear reason, and keeps running the rest', async () => {
    const missingDir = uniqueName('hostpath');
    await assign(podEnv(), missingDir, {
      containers: [{ ...sleeper, volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
      volumes: [{ name: 'data', hostPath: { path: `/nonexistent/${missingDir}`, type: 'Directory' } }],
    });
    const unknownPort = uniqueName('probeport');
    await assign(podEnv(), unknownPort, { containers: [{ ...sleeper, readinessProbe: { tcpSocket: { port: 'nosuchport' }, periodSeconds: 1 } }] });
    const badCommand = uniqueName('nocommand');
    await assign(podEnv(), badCommand, { containers: [{ ...sleeper, command: ['/no/such/binary'] }] });

    const hostPathStatus = await eventually('the hostPath problem', async () => {
      const s = await statusOf(podEnv(), missingDir);
      return s?.containers?.[0]?.reason === 'CreateContainerConfigError' && s;
    });
    expect(hostPathStatus.containers?.[0]?.message).toBe(`volume "data": hostPath /nonexistent/${missingDir} does not exist (type Directory); create it, or use DirectoryOrCreate`);
    const probeStatus = await eventually('the probe port problem', async () => {
      const s = await statusOf(podEnv(), unknownPort);
      return s?.containers?.[0]?.message !== undefined && s;
    });
    expect(probeStatus.containers?.[0]).toMatchObject({ state: 'Running', ready: false });
    expect(probeStatus.containers?.[0]?.message).toMatch(/nosuchport/);
    const commandStatus = await eventually('the missing binary', async () => {
      const c = (await statusOf(podEnv(), badCommand))?.containers?.[0];
      return (c?.lastTerminationReason !== undefined || c?.reason === 'RunContainerError') && c;
    });
    expect(JSON.stringify(commandStatus)).toMatch(/no such file|not found|StartError|RunContainerError/i);
    // The agent is still there for everyone else.
    const fine = uniqueName('fine');
    await assign(podEnv(), fine, { containers: [sleeper] });
    await untilRunning(podEnv(), fine);
  });
});
