// The agent's pod lifecycle on a real containerd, runc and CNI, driven through the API: pods
// start and answer on their IP, an agent restart restarts nothing, deletion removes the pod,
// what no assignment wants is removed while what is not ours is left alone, and the runtime's
// death is survived. crictl witnesses what runs, as a user on the node would check it.
import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { get } from 'node:http';
import { LABEL_MANAGED_BY, LABEL_NODE, LABEL_WORKLOAD, MANAGED_BY_VALUE, type NodeAssignment } from '../../api/index.js';
import { ANNOTATION_RESTART_COUNT, LABEL_ASSIGNMENT_NAME, LABEL_CONTAINER_NAME } from '../../agent/pods/runtime-labels.js';
import { Informer } from '../../kube/informer.js';
import { NODE_ASSIGNMENTS } from '../../kube/resource.js';
import { BUSYBOX_IMAGE } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';
import { metricValue } from '../harness/metrics.js';
import { assign, containerId, removeAssignment, sandboxesOf, statusOf, uniqueName, untilRunning, usePodEnv, witness, NAMESPACE } from './support.js';

const podEnv = usePodEnv();

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

const httpd = (extra: object = {}) => ({
  containers: [{ name: 'web', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www'], ports: [{ name: 'http', containerPort: 8080 }], ...extra }],
  terminationGracePeriodSeconds: 5,
});

describe('pod lifecycle on containerd', () => {
  it('runs an httpd assignment: Running, ready, with a pod IP that answers HTTP from the host', async () => {
    const name = uniqueName('web');
    await assign(podEnv(), name, httpd());
    const status = await untilRunning(podEnv(), name);
    expect(status.podIP).toMatch(new RegExp(`^${podEnv().containerd.podCIDR.split('.').slice(0, 3).join('\\.')}\\.`));
    expect(status.containers?.[0]).toMatchObject({ name: 'web', state: 'Running', ready: true, restartCount: 0, image: BUSYBOX_IMAGE });
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', observedGeneration: 1 });
    await witness(podEnv(), async (crictl) => {
      const ours = { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_NODE]: podEnv().agent.nodeName, [LABEL_ASSIGNMENT_NAME]: name };
      const pods = await crictl.pods(ours);
      expect(pods).toEqual([expect.objectContaining({ state: 'SANDBOX_READY', labels: expect.objectContaining({ [LABEL_WORKLOAD]: name, 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': NAMESPACE }) })]);
      expect(await crictl.containers(ours)).toEqual([
        expect.objectContaining({ id: containerId(status, 'web'), podSandboxId: pods[0]!.id, state: 'CONTAINER_RUNNING', metadata: { name: 'web', attempt: 0 }, labels: expect.objectContaining({ [LABEL_CONTAINER_NAME]: 'web' }), annotations: expect.objectContaining({ [ANNOTATION_RESTART_COUNT]: '0' }) }),
      ]);
    });
    await eventually('the pod to answer HTTP', async () => (await httpStatus(`http://${status.podIP}:8080/`)) === 200);
    const registry = podEnv().agent.registry;
    expect(await metricValue(registry, 'shopfloor_agent_pods', { phase: 'Running' })).toBeGreaterThanOrEqual(1);
    expect(await registry.getSingleMetricAsString('kubelet_pod_start_sli_duration_seconds')).toMatch(/^kubelet_pod_start_sli_duration_seconds_count\{first_with_network="(true|false)"\} [1-9]/m);
  });

  it('restarts nothing when the agent restarts: same container IDs and start times, no readiness flip', async () => {
    const name = uniqueName('keep');
    await assign(podEnv(), name, httpd({ readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1 } }));
    const before = await untilRunning(podEnv(), name);
    // Every status the API holds from here on, as a watch sees it.
    const seen: Array<boolean | undefined> = [];
    const watch = new Informer<NodeAssignment>({ client: podEnv().client, resource: NODE_ASSIGNMENTS, fieldSelector: `metadata.name=${name}` });
    watch.addEventHandler({ onUpdate: (_old, a) => seen.push(a.status?.ready) });
    watch.start();
    await watch.waitForSync();
    try {
      await podEnv().agent.restart();
      // The new agent has synced this pod once it has listed the runtime and the assignments.
      await eventually('the restarted agent to be ready', () => podEnv().agent.agent.pods.ready() === true);
      await eventually('the restarted agent to have synced the pod', async () => (await podEnv().agent.registry.getSingleMetricAsString('kubelet_pod_worker_duration_seconds')).includes('operation_type="sync"'));
      const after = await statusOf(podEnv(), name);
      expect(containerId(after!, 'web')).toBe(containerId(before, 'web'));
      expect(after!.containers?.[0]?.startedAt).toBe(before.containers?.[0]?.startedAt);
      expect(after!.containers?.[0]?.restartCount).toBe(0);
      expect(after!.ready).toBe(true);
      expect(seen.filter((ready) => ready !== true)).toEqual([]);
      // Nothing made again: the runtime holds the one container it held before.
      await witness(podEnv(), async (crictl) => {
        expect(await crictl.containers({ [LABEL_ASSIGNMENT_NAME]: name })).toEqual([expect.objectContaining({ id: containerId(before, 'web'), state: 'CONTAINER_RUNNING', metadata: { name: 'web', attempt: 0 } })]);
      });
    } finally {
      await watch.stop();
    }
  });

  it('stops and removes the sandbox within the grace period when the assignment is deleted', async () => {
    const name = uniqueName('gone');
    // A process that ignores SIGTERM: only the grace period's end (SIGKILL) stops it.
    await assign(podEnv(), name, { containers: [{ name: 'stubborn', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'trap "" TERM; while true; do sleep 1; done'] }], terminationGracePeriodSeconds: 3 });
    await untilRunning(podEnv(), name);
    expect(await sandboxesOf(podEnv(), name)).toHaveLength(1);
    const started = Date.now();
    await removeAssignment(podEnv(), name);
    await eventually('the sandbox to be removed', async () => (await sandboxesOf(podEnv(), name)).length === 0, 20_000);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(2_500);
    expect(took).toBeLessThan(15_000);
    await witness(podEnv(), async (crictl) => {
      expect(await crictl.pods({ [LABEL_ASSIGNMENT_NAME]: name })).toEqual([]);
      expect(await crictl.containers({ [LABEL_ASSIGNMENT_NAME]: name })).toEqual([]);
    });
  });

  it('removes a sandbox carrying its labels that no assignment wants, and leaves an unlabelled one alone', async () => {
    const cri = podEnv().containerd.cri;
    const node = podEnv().agent.nodeName;
    const labels = { 'app.kubernetes.io/managed-by': 'shopfloor', 'shopfloor.dev/node': node, 'shopfloor.dev/assignment-namespace': NAMESPACE, 'shopfloor.dev/assignment-name': uniqueName('orphan'), 'shopfloor.dev/assignment-uid': randomUUID() };
    const orphan = await cri.runPodSandbox({ metadata: { name: 'orphan', uid: randomUUID(), namespace: NAMESPACE, attempt: 0 }, labels, linux: {} }, undefined, 'orphan');
    const foreign = await cri.runPodSandbox({ metadata: { name: 'foreign', uid: randomUUID(), namespace: NAMESPACE, attempt: 0 }, labels: { app: 'not-shopfloor' }, linux: {} }, undefined, 'foreign');
    try {
      await eventually('the orphan to be removed', async () => !(await cri.listPodSandbox()).some((s) => s.id === orphan), 20_000);
      expect((await cri.listPodSandbox()).find((s) => s.id === foreign)?.state).toBe('SANDBOX_READY');
      await witness(podEnv(), async (crictl) => expect(await crictl.pods({ app: 'not-shopfloor' })).toEqual([expect.objectContaining({ id: foreign, state: 'SANDBOX_READY' })]));
    } finally {
      await cri.stopPodSandbox(foreign);
      await cri.removePodSandbox(foreign);
    }
  });

  it('survives containerd being killed: the pod keeps running and is reported Running again', async () => {
    const name = uniqueName('survive');
    await assign(podEnv(), name, httpd());
    const before = await untilRunning(podEnv(), name);
    const pid = podEnv().containerd.containerd.pid();
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await eventually('containerd to be restarted', () => podEnv().containerd.containerd.pid() !== undefined && podEnv().containerd.containerd.pid() !== pid && podEnv().containerd.containerd.ready() === true, 60_000);
    await eventually('the agent to list the runtime again', () => podEnv().agent.agent.pods.ready() === true, 30_000);
    const after = await untilRunning(podEnv(), name);
    expect(containerId(after, 'web')).toBe(containerId(before, 'web'));
    await eventually('the pod to answer HTTP', async () => (await httpStatus(`http://${after.podIP}:8080/`)) === 200);
  });
});
