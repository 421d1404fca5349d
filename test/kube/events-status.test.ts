// Status patching and the event recorder against the devcluster, read back with real kubectl:
// a status is written only when it changed; repeated events become one Event with a count.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { KubeClient } from '../../kube/client.js';
import { EventRecorder, type CoreEvent } from '../../kube/events.js';
import type { ResourceType } from '../../kube/resource.js';
import { patchStatusIfChanged, withConditions } from '../../kube/status.js';
import type { KubeObject } from '../../kube/types.js';
import type { Condition } from '../../api/conditions.js';
import { startTestCluster, type TestCluster } from '../harness/test-cluster.js';
import { CONFIGMAPS, NAMESPACES, metricValue, suffix, type ConfigMap } from './support.js';

const NODEAGENTS: ResourceType = { group: 'shopfloor.dev', version: 'v1alpha1', plural: 'nodeagents', kind: 'NodeAgent', namespaced: false };

interface NodeAgentLike extends KubeObject {
  spec?: { unschedulable?: boolean };
  status?: { pods?: number; conditions?: Condition[] };
}

let cluster: TestCluster;
let client: KubeClient;
let registry: Registry;
const ns = `kube-events-${suffix()}`;

beforeAll(async () => {
  cluster = await startTestCluster({ crds: true });
  registry = new Registry();
  client = new KubeClient(cluster.kubeConfig, { registry });
  await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
}, 120_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

async function kubectlJson<T>(args: string[]): Promise<T> {
  const r = await cluster.kubectl([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('status patching', () => {
  it('writes /status only when it changed, with conditions stamped by generation', async () => {
    const name = `node-${suffix()}`;
    const agent = await client.create<NodeAgentLike>(NODEAGENTS, { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeAgent', metadata: { name }, spec: {} });
    const patches = (): Promise<number> => metricValue(registry, 'rest_client_requests_total', { method: 'PATCH' });
    const before = await patches();
    const now = new Date();
    const desired = {
      pods: 2,
      conditions: withConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'AgentReady', message: 'agent is posting ready status' }], agent.metadata?.generation, now),
    };

    const first = await patchStatusIfChanged(client, NODEAGENTS, agent, desired);
    expect(first.changed).toBe(true);
    const second = await patchStatusIfChanged(client, NODEAGENTS, first.object, {
      pods: 2,
      conditions: withConditions(first.object.status?.conditions, [{ type: 'Ready', status: 'True', reason: 'AgentReady', message: 'agent is posting ready status' }], agent.metadata?.generation, new Date(now.getTime() + 60_000)),
    });
    expect(second.changed).toBe(false);
    expect(await patches()).toBe(before + 1);

    const shown = await kubectlJson<NodeAgentLike>(['get', 'nodeagent', name]);
    expect(shown.status?.pods).toBe(2);
    expect(shown.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'AgentReady', observedGeneration: agent.metadata?.generation });

    // Dropping a field sends it as null in the merge patch.
    const third = await patchStatusIfChanged(client, NODEAGENTS, first.object, { conditions: desired.conditions });
    expect(third.changed).toBe(true);
    expect(third.object.status?.pods).toBeUndefined();
  });
});

describe('EventRecorder', () => {
  it('aggregates repeats into one Event with a count, as kubectl shows them', async () => {
    const target = await client.create<ConfigMap>(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target', namespace: ns } });
    const recorder = new EventRecorder({ client, component: 'shopfloor-test', instance: 'replica-1' });
    for (let i = 0; i < 3; i++) recorder.event(target, 'Normal', 'Placed', 'placed 3 replicas on 2 nodes');
    recorder.event(target, 'Warning', 'Unschedulable', '0 of 3 nodes match nodeSelector disk=ssd');
    await recorder.flush();

    const list = await kubectlJson<{ items: CoreEvent[] }>(['get', 'events', '-n', ns]);
    const byReason = new Map(list.items.map((e) => [e.reason, e]));
    expect(list.items).toHaveLength(2);
    expect(byReason.get('Placed')).toMatchObject({
      type: 'Normal',
      count: 3,
      message: 'placed 3 replicas on 2 nodes',
      involvedObject: { kind: 'ConfigMap', name: 'target', namespace: ns, uid: target.metadata?.uid },
      source: { component: 'shopfloor-test' },
    });
    expect(byReason.get('Unschedulable')).toMatchObject({ type: 'Warning', count: 1 });
  });

  it('drops events past the per-object burst instead of flooding the API server', async () => {
    const target = await client.create<ConfigMap>(CONFIGMAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'noisy', namespace: ns } });
    const recorder = new EventRecorder({ client, component: 'shopfloor-test', burst: 5, registry });
    for (let i = 0; i < 20; i++) recorder.event(target, 'Warning', 'Failed', `attempt ${i} failed`);
    await recorder.flush();
    const list = await kubectlJson<{ items: CoreEvent[] }>(['get', 'events', '-n', ns]);
    expect(list.items.filter((e) => e.involvedObject.name === 'noisy')).toHaveLength(5);
    expect(await metricValue(registry, 'shopfloor_test_events_dropped_total')).toBe(15);
  });
});
