// What a pod gets from the node, on a real containerd: its runtime handler (runc or crun), its
// cpu and memory limits in its cgroup, its volumes (an emptyDir that outlives a container
// restart and goes with the pod, a hostPath of the node), and static workloads from the node's
// manifest directory that run without the API and show in it as read-only mirrors.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { NodeAssignment } from '../../api/index.js';
import { NODE_ASSIGNMENTS } from '../../kube/resource.js';
import { startTestAgent, type TestAgent } from '../harness/agent.js';
import { moveUnifiedControllersToV1 } from '../harness/cgroups.js';
import { CRUN_BINARY } from '../../agent/runtime/managed-containerd.js';
import { BUSYBOX_IMAGE } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';
import { assign, containerId, execIn, NAMESPACE, removeAssignment, sandboxesOf, statusOf, uniqueName, untilRunning, usePodEnv } from './support.js';

const podEnv = usePodEnv(moveUnifiedControllersToV1);

const sleeper = { name: 'app', image: BUSYBOX_IMAGE, command: ['sleep', '3600'] };

/** The first of `files` that exists in the container's cgroup, read from inside it. */
async function cgroupValue(id: string, files: string[]): Promise<string> {
  const script = files.map((f) => `[ -f ${f} ] && { cat ${f}; exit 0; }`).join('; ');
  return (await execIn(podEnv(), id, ['sh', '-c', `${script}; exit 1`])).trim();
}

describe('what a pod gets from the node', () => {
  it('runs a pod under each runtime handler its containerd serves: runc, and crun where crun can run its containers', async () => {
    const served = podEnv().containerd.containerd.runtimeHandlers()!.map((h) => h.name);
    // Debian's crun 1.8.1 runs containerd 1.x's containers; containerd 2's it refuses (crunProblem).
    expect(served).toEqual(existsSync(CRUN_BINARY) && podEnv().containerd.containerd.version()!.major === 1 ? ['runc', 'crun'] : expect.arrayContaining(['runc']));
    const byHandler: Record<string, string> = {};
    for (const handler of served) {
      const name = uniqueName(handler);
      byHandler[handler] = name;
      await assign(podEnv(), name, { containers: [sleeper], runtimeClassName: handler });
    }
    for (const [handler, name] of Object.entries(byHandler)) {
      await untilRunning(podEnv(), name);
      const sandbox = (await podEnv().containerd.cri.listPodSandbox({ labelSelector: { 'shopfloor.dev/assignment-name': name } }))[0];
      expect(sandbox?.runtimeHandler).toBe(handler);
    }
  });

  it('puts cpu and memory limits into the container\'s cgroup', async () => {
    const name = uniqueName('limits');
    await assign(podEnv(), name, { containers: [{ ...sleeper, resources: { requests: { cpu: '100m', memory: '16Mi' }, limits: { cpu: '250m', memory: '64Mi' } } }] });
    const id = containerId(await untilRunning(podEnv(), name), 'app');
    // cgroup v2 names first, then v1 (these machines mount v1).
    expect(await cgroupValue(id, ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).toBe(String(64 * 1024 * 1024));
    const cpu = await cgroupValue(id, ['/sys/fs/cgroup/cpu.max', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
    expect(['25000 100000', '25000']).toContain(cpu);
  });

  it('keeps an emptyDir across a container restart, removes it with the pod, and mounts a hostPath', async () => {
    const hostDir = await mkdtemp(join(tmpdir(), 'sf-hostpath-'));
    try {
      await writeFile(join(hostDir, 'from-host'), 'hello from the node\n');
      const name = uniqueName('vols');
      await assign(podEnv(), name, {
        containers: [{ ...sleeper, volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }, { name: 'host', mountPath: '/host', readOnly: true }] }],
        volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'host', hostPath: { path: hostDir, type: 'Directory' } }],
        terminationGracePeriodSeconds: 2,
      });
      const first = await untilRunning(podEnv(), name);
      const firstId = containerId(first, 'app');
      expect(await execIn(podEnv(), firstId, ['cat', '/host/from-host'])).toBe('hello from the node\n');
      await execIn(podEnv(), firstId, ['sh', '-c', 'echo kept > /scratch/note']);
      // Killed from outside: the container restarts, the emptyDir stays.
      await podEnv().containerd.cri.stopContainer(firstId, 0);
      const second = await eventually('the restarted container', async () => {
        const s = await statusOf(podEnv(), name);
        return s?.containers?.[0]?.restartCount === 1 && s.containers[0].state === 'Running' && s;
      });
      expect(await execIn(podEnv(), containerId(second, 'app'), ['cat', '/scratch/note'])).toBe('kept\n');
      const uid = (await podEnv().client.get<NodeAssignment>(NODE_ASSIGNMENTS, name, { namespace: NAMESPACE })).metadata.uid!;
      const volumeDir = join(podEnv().agent.dataDir, 'pods', uid);
      expect(existsSync(volumeDir)).toBe(true);
      await removeAssignment(podEnv(), name);
      await eventually('the pod and its emptyDir to go', async () => (await sandboxesOf(podEnv(), name)).length === 0 && !existsSync(volumeDir));
      expect(await readdir(hostDir)).toEqual(['from-host']);
    } finally {
      await rm(hostDir, { recursive: true, force: true });
    }
  });

  it('runs a static workload from the manifest directory and shows it read-only in the API', async () => {
    const manifests = await mkdtemp(join(tmpdir(), 'sf-manifests-'));
    let agent: TestAgent | undefined;
    try {
      agent = await startTestAgent({ cluster: podEnv().cluster, containerd: podEnv().containerd, staticManifestDir: manifests });
      const workload = uniqueName('static');
      await writeFile(
        join(manifests, `${workload}.yaml`),
        stringify({ apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name: workload, namespace: NAMESPACE }, spec: { placement: { mode: 'EveryNode' }, template: { containers: [sleeper] } } }),
      );
      const mirror = `${workload}-${agent.nodeName}`;
      const status = await eventually('the mirror to report Running', async () => {
        const s = await statusOf(podEnv(), mirror);
        return s?.phase === 'Running' && s.ready === true && s;
      }, 60_000);
      expect(status.containers?.[0]).toMatchObject({ name: 'app', state: 'Running' });
      const listed = await podEnv().cluster.kubectl(['get', 'na', mirror, '-n', NAMESPACE, '-o', 'jsonpath={.metadata.labels.shopfloor\\.dev/static}']);
      expect(listed.stdout).toBe('true');
      // Read-only: a deleted mirror comes back, the pod keeps running.
      const id = containerId(status, 'app');
      await removeAssignment(podEnv(), mirror);
      const back = await eventually('the mirror to come back', async () => {
        const s = await statusOf(podEnv(), mirror);
        return s?.phase === 'Running' && s;
      });
      expect(containerId(back, 'app')).toBe(id);
      await rm(join(manifests, `${workload}.yaml`));
      await eventually('the static pod and its mirror to go', async () => (await statusOf(podEnv(), mirror)) === undefined && (await sandboxesOf(podEnv(), mirror)).length === 0, 60_000);
    } finally {
      await agent?.stop();
      await rm(manifests, { recursive: true, force: true });
    }
  }, 150_000);
});
