// The pieces together against the devcluster: an informer feeds a controller whose reconcile
// writes status through patchStatusIfChanged. Each real change costs one status write; the
// update events caused by those writes reconcile to "no change" (no hot loop); a failing
// reconcile is retried.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { KubeClient } from '../../kube/client.js';
import { Controller } from '../../kube/controller.js';
import { Informer } from '../../kube/informer.js';
import type { ResourceType } from '../../kube/resource.js';
import { patchStatusIfChanged, withConditions } from '../../kube/status.js';
import type { KubeObject } from '../../kube/types.js';
import type { Condition } from '../../api/conditions.js';
import { startTestCluster, type TestCluster } from '../harness/test-cluster.js';
import { eventually, metricValue, suffix } from './support.js';

const NODEAGENTS: ResourceType = { group: 'shopfloor.dev', version: 'v1alpha1', plural: 'nodeagents', kind: 'NodeAgent', namespaced: false };

interface Agent extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { pods?: number; conditions?: Condition[] };
}

let cluster: TestCluster;
let client: KubeClient;
let registry: Registry;

beforeAll(async () => {
  cluster = await startTestCluster({ crds: true });
  registry = new Registry();
  client = new KubeClient(cluster.kubeConfig, { registry });
}, 120_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
});

describe('Controller over an informer', () => {
  it('writes each status once per change, retries a failure, and does not loop on its own writes', async () => {
    const suite = suffix();
    const informer = new Informer<Agent>({ client, resource: NODEAGENTS, labelSelector: `suite=${suite}`, registry, metricsPrefix: 'shopfloor_test' });
    const failedOnce = new Set<string>();
    const controller = new Controller({
      name: 'agent-status',
      workers: 2,
      registry,
      reconcile: async (key, signal) => {
        const agent = informer.get(key);
        if (!agent) return;
        if (key.endsWith('-flaky') && !failedOnce.has(key)) {
          failedOnce.add(key);
          throw new Error('simulated API hiccup');
        }
        const labels = Object.keys(agent.metadata?.labels ?? {}).length;
        const conditions = withConditions(
          agent.status?.conditions,
          [{ type: 'Ready', status: 'True', reason: 'Counted', message: `${labels} labels` }],
          agent.metadata?.generation,
          new Date(),
        );
        await patchStatusIfChanged(client, NODEAGENTS, agent, { pods: labels, conditions }, { signal });
      },
    });
    controller.watch(informer);
    informer.start();
    const run = controller.run();

    const names = ['n1', 'n2', 'n3', 'n4', 'n5-flaky'].map((n) => `${suite}-${n}`);
    /**
     * Resolves once nothing more can happen: the cache holds the server's version of every agent
     * (so no event of an earlier write is still on its way) and no reconcile is queued or running.
     * Counting writes then is final, where a fixed pause would miss a late extra write or a loop.
     */
    const settled = (what: string): Promise<true> =>
      eventually(what, async () => {
        const idle = (): boolean => controller.queue.len() === 0 && controller.queue.inFlight() === 0;
        if (!idle()) return false;
        for (const name of names) {
          const live = await client.get<Agent>(NODEAGENTS, name);
          if (informer.get(name)?.metadata?.resourceVersion !== live.metadata?.resourceVersion) return false;
        }
        return idle();
      });

    try {
      for (const name of names) {
        await client.create(NODEAGENTS, { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeAgent', metadata: { name, labels: { suite } }, spec: {} });
      }
      const patches = (): Promise<number> => metricValue(registry, 'rest_client_requests_total', { method: 'PATCH' });
      await eventually('every agent to have a status', () => names.every((n) => informer.get(n)?.status?.pods === 1));
      await settled('the update events of those status writes to be reconciled');
      expect(await patches()).toBe(5);
      expect(await metricValue(registry, 'controller_runtime_reconcile_total', { controller: 'agent-status', result: 'error' })).toBe(1);

      await client.patch(NODEAGENTS, names[0] as string, { metadata: { labels: { zone: 'a' } } });
      await eventually('the relabelled agent to be recounted', () => informer.get(names[0] as string)?.status?.pods === 2);
      await settled('the relabel and its status write to be reconciled');
      // One PATCH relabels, one writes the new status.
      expect(await patches()).toBe(7);
      const shown = await cluster.kubectl(['get', 'nodeagent', names[0] as string, '-o', 'jsonpath={.status.conditions[0].message}']);
      expect(shown.stdout).toBe('2 labels');
    } finally {
      await controller.stop();
      await run;
      await informer.stop();
    }
  });
});
