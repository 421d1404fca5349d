// The containerd harness itself: each instance gets its own dir, pod CIDR and bridge, runs real
// pod sandboxes on them, and its stop() leaves nothing of them behind — also when containerd
// was killed first, so that the pod network could not be torn down while it ran.
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnRunner } from '../../agent/exec.js';
import { BUSYBOX_IMAGE, mountsUnder, processesNaming, startTestContainerd, type TestContainerd } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';

const run = spawnRunner();
const started: TestContainerd[] = [];
afterAll(async () => {
  await Promise.all(started.map((t) => t.stop().catch(() => undefined)));
});

async function testContainerd(): Promise<TestContainerd> {
  const t = await startTestContainerd();
  started.push(t);
  return t;
}

interface Workload {
  sandboxId: string;
  sandboxIp: string;
  /** pids of the sandbox's pause process and of a container started by ctr (not CRI). */
  pids: number[];
}

/** A CRI pod sandbox on the pod network, and a plain containerd task beside it. */
async function runWorkload(t: TestContainerd): Promise<Workload> {
  const sandboxId = await t.cri.runPodSandbox({ metadata: { name: 'p', uid: randomUUID(), namespace: 'harness', attempt: 0 }, hostname: 'p', linux: {} }, undefined, 'pod harness/p');
  const sandboxIp = (await t.cri.podSandboxStatus(sandboxId)).network?.ip ?? '';
  const task = `task-${randomBytes(4).toString('hex')}`;
  const ran = await t.ctr(['run', '-d', BUSYBOX_IMAGE, task, 'sleep', '600']);
  if (ran.code !== 0) throw new Error(`ctr run: ${ran.stderr}`);
  const pids = await eventually('both to run', async () => {
    const tasks = (await t.ctr(['tasks', 'ls'])).stdout;
    const found = [sandboxId, task].map((id) => Number(new RegExp(`^${id}\\s+(\\d+)\\s+RUNNING`, 'm').exec(tasks)?.[1]));
    return found.every((pid) => pid > 0) && found;
  });
  return { sandboxId, sandboxIp, pids };
}

async function natRules(): Promise<string> {
  return (await run('iptables', ['-t', 'nat', '-S'])).stdout;
}

function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8') !== '';
  } catch {
    return false;
  }
}

async function expectNothingLeft(t: TestContainerd, w: Workload): Promise<void> {
  expect(processesNaming(t.dataDir)).toEqual([]);
  expect(w.pids.filter(running)).toEqual([]);
  expect(mountsUnder(t.dataDir)).toEqual([]);
  expect((await run('ip', ['link', 'show', t.bridgeName])).code).not.toBe(0);
  expect(existsSync(t.dataDir)).toBe(false);
  expect(await natRules()).not.toContain(w.sandboxId);
}

describe('startTestContainerd', () => {
  it('gives each instance its own data dir, pod CIDR and bridge, and runs sandboxes with the pause image on them', async () => {
    const [a, b] = await Promise.all([testContainerd(), testContainerd()]);
    expect(a!.dataDir).not.toBe(b!.dataDir);
    expect(a!.podCIDR).not.toBe(b!.podCIDR);
    expect(a!.bridgeName).not.toBe(b!.bridgeName);
    expect(a!.podCIDR).toMatch(/^10\.89\.\d+\.0\/24$/);
    const w = await runWorkload(a!);
    expect(w.sandboxIp.startsWith(a!.podCIDR.replace(/0\/24$/, ''))).toBe(true);
    expect(readFileSync(`/proc/${w.pids[0]}/cmdline`, 'utf8').split('\0')).toEqual(['/bin/busybox', 'sleep', '2147483647', '']);
    expect((await run('ip', ['-br', 'addr', 'show', a!.bridgeName])).stdout).toContain(a!.podCIDR.replace(/0\/24$/, '1/24'));
    // The pod's network namespace is pinned under the data dir, not in the host's /var/run/netns.
    expect(mountsUnder(a!.dataDir).some((m) => m.includes('/state/io.containerd.grpc.v1.cri/netns/'))).toBe(true);
    // So is the OCI runtime's state, not in the /run/containerd/runc every containerd shares.
    expect((await run('runc', ['--root', join(a!.containerd.paths.runtimeRoot, 'k8s.io'), 'list', '-q'])).stdout).toContain(w.sandboxId);
    expect((await run('runc', ['--root', '/run/containerd/runc/k8s.io', 'list', '-q'])).stdout).not.toContain(w.sandboxId);
    expect(await natRules()).toContain(w.sandboxId);

    await a!.stop();
    await expectNothingLeft(a!, w);
    await b!.stop();
    expect(existsSync(b!.dataDir)).toBe(false);
  });

  it('cleans up after a containerd that was killed while its pods ran', async () => {
    const t = await testContainerd();
    const w = await runWorkload(t);
    const pid = t.containerd.pid()!;
    await t.containerd.stop({ keepRunning: true });
    process.kill(pid, 'SIGKILL');
    await eventually('containerd to die', () => !running(pid));
    await t.stop();
    await expectNothingLeft(t, w);
  });
});
