// Node pod ranges handed out by the operator (--cluster-pod-cidr), as a user sees them with
// kubectl: nodes that ask get distinct subnets around the ones agents brought themselves, a range
// given by hand over a handed-out one is warned of, a node that finds the range full is told so in an Event, a freed range goes to the next node that
// asks, and an agent started with `--pod-cidr allocated` waits for its range, then has it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { allocatedPodCidr } from '../../agent/node/allocated-pod-cidr.js';
import { API_VERSION } from '../../api/index.js';
import { systemClock } from '../../kube/clock.js';
import { silentLogger } from '../../kube/logger.js';
import { NODE_AGENTS } from '../../kube/resource.js';
import { runOperator, type RunningOperator } from '../../operator/index.js';
import { podCidrRange } from '../../operator/pod-cidr-plan.js';
import { eventually, mustKubectl, notYet, startOperatorTestCluster, suffix, type OperatorTestCluster } from './support.js';

const run = suffix();
const node = (name: string): string => `${name}-${run}`;
let env: OperatorTestCluster | undefined;
let op: RunningOperator | undefined;

beforeAll(async () => {
  env = await startOperatorTestCluster(`pod-cidrs-${run}`);
  // Four /24s in all, so that the suite can fill the range.
  op = await runOperator({ kubeConfig: env.cluster.kubeConfig, leaderElect: false, metricsAddress: false, podCidrs: podCidrRange('10.77.0.0/22', 24) });
}, 120_000);

afterAll(async () => {
  await op?.stop();
  await env?.cluster.stop();
}, 60_000);

/** spec.podCIDR of every NodeAgent of this run, as `kubectl get nodeagents` shows it. */
async function ranges(): Promise<Record<string, string>> {
  const out = await mustKubectl(env!.cluster, ['get', 'nodeagents', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.podCIDR}{"\\n"}{end}']);
  return Object.fromEntries(out.trim().split('\n').filter((l) => l.includes(`-${run}=`)).map((l) => l.split('=') as [string, string]));
}

async function register(name: string, podCIDR?: string): Promise<void> {
  await env!.client.create(NODE_AGENTS, { apiVersion: API_VERSION, kind: 'NodeAgent', metadata: { name: node(name) }, spec: podCIDR ? { podCIDR } : {} });
}

async function eventsOf(name: string): Promise<string> {
  return mustKubectl(env!.cluster, ['get', 'events', '-n', 'default', '--field-selector', `involvedObject.name=${node(name)}`, '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
}

describe('node pod ranges from the operator', () => {
  it('gives each node that asks a subnet of its own, around one an agent brought itself', async () => {
    await register('own', '10.77.1.0/24');
    for (const n of ['a', 'b']) await register(n);
    const seen = await eventually('a and b have ranges', async () => {
      const r = await ranges();
      return (r[node('a')] && r[node('b')]) ? r : notYet(JSON.stringify(r));
    });
    expect(seen).toEqual({ [node('own')]: '10.77.1.0/24', [node('a')]: '10.77.0.0/24', [node('b')]: '10.77.2.0/24' });
    expect(await eventsOf('a')).toContain(`PodCIDRAssigned: Node ${node('a')} runs its pods on 10.77.0.0/24, from the cluster pod range 10.77.0.0/22.`);
  });

  it('warns of a range given by hand over one handed out', async () => {
    await register('clash', '10.77.0.128/25');
    const told = await eventually('clash is warned', async () => {
      const e = await eventsOf('clash');
      return e.includes('PodCIDROverlap') ? e : notYet(e);
    });
    expect(told).toContain(`PodCIDROverlap: Node ${node('clash')}'s pod range 10.77.0.128/25 overlaps that of node ${node('a')}, so pods of the two may share addresses`);
    await mustKubectl(env!.cluster, ['delete', 'nodeagent', node('clash')]);
  });

  it('tells a node that finds the range full, and gives it the range a deleted node frees', async () => {
    await register('c');
    await eventually('c has the last range', async () => (await ranges())[node('c')] === '10.77.3.0/24' || notYet(JSON.stringify(await ranges())));
    await register('late');
    const told = await eventually('late is told the range is full', async () => {
      const e = await eventsOf('late');
      return e.includes('CIDRNotAvailable') ? e : notYet(e);
    });
    expect(told).toContain(`CIDRNotAvailable: Node ${node('late')} gets no pod range: every /24 of the cluster pod range 10.77.0.0/22 is held by another node.`);
    expect((await ranges())[node('late')]).toBe('');
    await mustKubectl(env!.cluster, ['delete', 'nodeagent', node('b')]);
    await eventually('late has b\'s range', async () => (await ranges())[node('late')] === '10.77.2.0/24' || notYet(JSON.stringify(await ranges())));
  });

  it("lets an agent with --pod-cidr allocated register its node and wait for the range it is given", async () => {
    await mustKubectl(env!.cluster, ['delete', 'nodeagent', node('own'), node('c')]);
    const got = await allocatedPodCidr({ client: env!.client, nodeName: node('agent'), labels: { zone: 'z1' }, clock: systemClock, logger: silentLogger(), pollMs: 100 });
    expect(['10.77.1.0/24', '10.77.3.0/24']).toContain(got);
    expect((await ranges())[node('agent')]).toBe(got);
    expect(await mustKubectl(env!.cluster, ['get', 'nodeagent', node('agent'), '-o', 'jsonpath={.metadata.labels.zone}'])).toBe('z1');
  });
});
