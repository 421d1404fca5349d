// NodeWorkloads whose stored status the shipped CRD would refuse (stored here through a CRD whose
// status is left unchecked, as an older CRD or one without validation allows): the operator judges
// the spec on its own, names the bad field in Degraded, and replaces the status — for every
// workload, without stalling on one.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runOperator, type RunningOperator } from '../../operator/index.js';
import { loosenCrdField } from '../harness/loose-crd.js';
import { SimulatedAgents } from '../sim/simulated-agents.js';
import { SYSTEM_NAMESPACE, condition, eventually, getWorkload, mustKubectl, notYet, startOperatorTestCluster, suffix, workloadYaml, type OperatorTestCluster } from './support.js';

const ns = `badstatus-${suffix()}`;
let env: OperatorTestCluster | undefined;
let sim: SimulatedAgents | undefined;
let op: RunningOperator | undefined;
/** Each workload's status as the API server answered the write that stored it. */
const stored = new Map<string, unknown>();

/** Each workload, with the status written before the operator starts. */
const BAD: Array<{ name: string; yaml: () => string; status: unknown }> = [
  { name: 'conditions-string', yaml: () => workloadYaml(ns, 'conditions-string', { replicas: 0 }), status: { conditions: 'Ready' } },
  { name: 'ready-many', yaml: () => workloadYaml(ns, 'ready-many', { replicas: 1 }), status: { readyReplicas: 'many', clusterIP: 7, replicas: 1 } },
  // Replicas mode without replicas: a cross-field rule the CRD does not state, so the spec is invalid too.
  { name: 'both-bad', yaml: () => workloadYaml(ns, 'both-bad', { replicas: 0 }).replace(/\n\s+replicas: 0/, ''), status: { conditions: [null] } },
];

beforeAll(async () => {
  env = await startOperatorTestCluster(ns);
  await loosenCrdField(env.cluster.kubectl, 'nodeworkloads', ['status']);
  sim = new SimulatedAgents({ client: env.client, namespace: SYSTEM_NAMESPACE, readyAfterMs: 300 });
  await sim.add([{ name: 'n1', labels: {}, cpu: '4', memory: '8Gi' }]);
  for (const w of BAD) {
    await mustKubectl(env.cluster, ['apply', '-f', '-'], w.yaml());
    const written = await mustKubectl(env.cluster, ['patch', 'nw', w.name, '-n', ns, '--subresource=status', '--type=merge', '-o', 'json', '-p', JSON.stringify({ status: w.status })]);
    stored.set(w.name, (JSON.parse(written) as { status?: unknown }).status);
  }
  op = await runOperator({ kubeConfig: env.cluster.kubeConfig, leaderElect: false, metricsAddress: false });
}, 120_000);

afterAll(async () => {
  await op?.stop();
  await sim?.stop();
  await env?.cluster.stop();
}, 60_000);

async function events(name: string): Promise<Array<{ reason: string; message: string }>> {
  const list = JSON.parse(await mustKubectl(env!.cluster, ['get', 'events', '-n', ns, '-o', 'json'])) as { items: Array<{ reason: string; message: string; involvedObject: { name: string } }> };
  return list.items.filter((e) => e.involvedObject.name === name);
}

describe('a NodeWorkload whose stored status the CRD would refuse', () => {
  it('was stored as written, before the operator started', () => {
    for (const w of BAD) expect([w.name, stored.get(w.name)]).toEqual([w.name, w.status]);
  });

  // The event is the lasting record: it carries the Degraded message of the status write that
  // replaced the bad fields; a later reconcile finds nothing wrong and clears Degraded.
  it('status.conditions as a string: Degraded names the field, the status is replaced with a list, Ready from the spec', async () => {
    const warned = await eventually('an InvalidStatus event for conditions-string', async () => (await events('conditions-string')).find((e) => e.reason === 'InvalidStatus'));
    expect(warned.message).toContain('status.conditions: must be a list, not the string "Ready"');
    const wl = await getWorkload(env!.cluster, ns, 'conditions-string');
    expect(Array.isArray(wl.status?.conditions)).toBe(true);
    expect(condition(wl, 'Ready')).toMatchObject({ status: 'True', reason: 'ReplicasReady' });
  });

  it('status.readyReplicas as a string: the replica is placed and the counts are written again', async () => {
    const wl = await eventually('ready-many Ready', async () => {
      const w = await getWorkload(env!.cluster, ns, 'ready-many');
      return (condition(w, 'Ready')?.status === 'True' && w) || notYet(`status is ${JSON.stringify(w.status)}`);
    }, 30_000);
    expect(wl.status).toMatchObject({ replicas: 1, readyReplicas: 1, availableReplicas: 1 });
    expect(wl.status?.clusterIP).toBeUndefined();
    // Both fields named, in the order the server stored them (kube-apiserver sorts a custom resource's keys).
    const invalid = (await events('ready-many')).find((e) => e.reason === 'InvalidStatus');
    expect(invalid?.message).toMatch(/status\.readyReplicas: must be a whole number/);
    expect(invalid?.message).toMatch(/status\.clusterIP: must be a string/);
  });

  it('an invalid spec and a null condition: Degraded names both, the status is replaced', async () => {
    const warned = await eventually('an InvalidSpec event for both-bad', async () => (await events('both-bad')).find((e) => e.reason === 'InvalidSpec' && e.message.includes('status.')));
    expect(warned.message).toMatch(/spec\.placement\.replicas: is required when mode is Replicas.*status\.conditions\[0\]: must be an object, not null/);
    const wl = await getWorkload(env!.cluster, ns, 'both-bad');
    expect(condition(wl, 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(wl.status?.conditions?.every((c) => c !== null && typeof c.type === 'string')).toBe(true);
  });
});
