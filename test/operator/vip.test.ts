// Service VIPs against the devcluster: 200 workloads get 200 different addresses from the
// range, a user's clusterIP is honoured or refused with a condition saying why, and an operator
// restart (a new process state, rebuilt from status) hands out none of them again.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runOperator, type RunningOperator } from '../../operator/index.js';
import { ipToNumber, parseCidr } from '../../operator/ipv4.js';
import type { NodeWorkloadObject } from '../../operator/objects.js';
import { condition, eventually, getWorkload, mustKubectl, startOperatorTestCluster, suffix, workloadYaml, type OperatorTestCluster } from './support.js';

const ns = `vip-${suffix()}`;
let env: OperatorTestCluster | undefined;
let op: RunningOperator | undefined;

beforeAll(async () => {
  env = await startOperatorTestCluster(ns);
  op = await runOperator({ kubeConfig: env.cluster.kubeConfig, leaderElect: false, metricsAddress: false });
}, 120_000);

afterAll(async () => {
  await op?.stop();
  await env?.cluster.stop();
}, 60_000);

async function clusterIPs(): Promise<Map<string, string | undefined>> {
  const list = JSON.parse(await mustKubectl(env!.cluster, ['get', 'nw', '-n', ns, '-o', 'json'])) as { items: NodeWorkloadObject[] };
  return new Map(list.items.map((w) => [w.metadata?.name ?? '', w.status?.clusterIP]));
}

async function applyMany(names: string[]): Promise<void> {
  await mustKubectl(env!.cluster, ['apply', '-f', '-'], names.map((n) => workloadYaml(ns, n, { replicas: 0, service: true })).join('\n---\n'));
}

function expectUniqueInRange(ips: (string | undefined)[]): void {
  const range = parseCidr('10.250.0.0/16');
  expect(ips.every((ip) => ip !== undefined)).toBe(true);
  expect(new Set(ips).size).toBe(ips.length);
  for (const ip of ips) {
    const n = ipToNumber(ip as string) as number;
    expect(n > range.base && n < range.base + range.size - 1).toBe(true);
  }
}

describe('service VIPs', () => {
  const first = Array.from({ length: 200 }, (_, i) => `svc-${i}`);
  let before: Map<string, string | undefined>;

  it('gives 200 workloads 200 different addresses from the range', async () => {
    await applyMany(first);
    before = await eventually('200 clusterIPs', async () => {
      const ips = await clusterIPs();
      return first.every((n) => ips.get(n)) && ips;
    }, 120_000);
    expectUniqueInRange(first.map((n) => before.get(n)));
  }, 180_000);

  it('honours a clusterIP the user sets, and refuses one that is taken or outside the range', async () => {
    const taken = before.get('svc-0') as string;
    await mustKubectl(
      env!.cluster,
      ['apply', '-f', '-'],
      [
        workloadYaml(ns, 'mine', { replicas: 0, clusterIP: '10.250.200.7' }),
        workloadYaml(ns, 'thief', { replicas: 0, clusterIP: taken }),
        workloadYaml(ns, 'outside', { replicas: 0, clusterIP: '10.1.2.3' }),
      ].join('\n---\n'),
    );
    await eventually('mine to get 10.250.200.7', async () => (await getWorkload(env!.cluster, ns, 'mine')).status?.clusterIP === '10.250.200.7');
    const thief = await eventually('thief to be refused', async () => {
      const w = await getWorkload(env!.cluster, ns, 'thief');
      return condition(w, 'Degraded')?.status === 'True' && w;
    });
    expect(condition(thief, 'Degraded')).toMatchObject({
      reason: 'ClusterIPTaken',
      message: `spec.service.clusterIP ${taken} is already used by NodeWorkload ${ns}/svc-0: pick another address in 10.250.0.0/16 or leave clusterIP unset`,
    });
    expect(thief.status?.clusterIP).toBeUndefined();
    const outside = await eventually('outside to be refused', async () => {
      const w = await getWorkload(env!.cluster, ns, 'outside');
      return condition(w, 'Degraded')?.status === 'True' && w;
    });
    expect(condition(outside, 'Degraded')?.reason).toBe('ClusterIPOutOfRange');
    expect(condition(outside, 'Degraded')?.message).toContain("spec.service.clusterIP 10.1.2.3 is outside the operator's VIP range 10.250.0.0/16");
  }, 60_000);

  it('hands out none of them again after the operator restarts', async () => {
    await op!.stop();
    op = await runOperator({ kubeConfig: env!.cluster.kubeConfig, leaderElect: false, metricsAddress: false });
    const more = Array.from({ length: 20 }, (_, i) => `after-${i}`);
    await applyMany(more);
    const now = await eventually('20 more clusterIPs', async () => {
      const ips = await clusterIPs();
      return more.every((n) => ips.get(n)) && ips;
    }, 60_000);
    for (const n of first) expect(now.get(n)).toBe(before.get(n));
    expect(now.get('mine')).toBe('10.250.200.7');
    expectUniqueInRange([...first, ...more, 'mine'].map((n) => now.get(n)));
    // The refused request is still refused by the new process: the address stayed with svc-0.
    expect(condition(await getWorkload(env!.cluster, ns, 'thief'), 'Degraded')?.reason).toBe('ClusterIPTaken');
  }, 120_000);

  it('frees the address of a deleted workload for a user who asks for it', async () => {
    const ip = (await clusterIPs()).get('svc-1') as string;
    await mustKubectl(env!.cluster, ['delete', 'nw', 'svc-1', '-n', ns, '--wait=true', '--timeout=60s']);
    await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml(ns, 'reuse', { replicas: 0, clusterIP: ip }));
    await eventually(`reuse to get ${ip}`, async () => (await getWorkload(env!.cluster, ns, 'reuse')).status?.clusterIP === ip);
  }, 60_000);

  it('releases the address and the finalizer when the service is removed from the spec', async () => {
    const ip = (await clusterIPs()).get('svc-2') as string;
    await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml(ns, 'svc-2', { replicas: 0 }));
    const wl = await eventually('svc-2 to drop its VIP', async () => {
      const w = await getWorkload(env!.cluster, ns, 'svc-2');
      return w.status?.observedGeneration === w.metadata?.generation && w.status?.clusterIP === undefined && w;
    });
    expect(wl.metadata?.finalizers ?? []).not.toContain('shopfloor.dev/vip');
    await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml(ns, 'takes-over', { replicas: 0, clusterIP: ip }));
    await eventually(`takes-over to get ${ip}`, async () => (await getWorkload(env!.cluster, ns, 'takes-over')).status?.clusterIP === ip);
  }, 60_000);
});
