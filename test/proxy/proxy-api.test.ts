// The agent's service proxy driven through the API: a devcluster, the operator (placement and
// VIP allocation), simulated agents that register three nodes but leave the assignments' status
// to this test, and the agent's service proxy part (on the agent's caches) programming nftables
// in a node network namespace. The test marks assignments ready with the pod IPs of endpoint
// namespaces, the way the agent's pod lifecycle does for the pods it runs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { BY_WORKLOAD, workloadIndex, type NodeAssignment, type NodeWorkload } from '../../api/index.js';
import { DEFAULT_PROXY_TABLE } from '../../agent/proxy/proxy-names.js';
import { ServiceProxy } from '../../agent/proxy/service-proxy.js';
import { Informer } from '../../kube/informer.js';
import { createProcessRegistry } from '../../kube/metrics.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../../kube/resource.js';
import { silentLogger } from '../../kube/logger.js';
import { runOperator, type RunningOperator } from '../../operator/index.js';
import { createTopology, type Topology } from '../netns/topology.js';
import { eventually, getWorkload, listAssignments, mustKubectl, startOperatorTestCluster, suffix, SYSTEM_NAMESPACE, type OperatorTestCluster } from '../operator/support.js';
import { SimulatedAgents } from '../sim/simulated-agents.js';

const ns = `proxy-${suffix()}`;
const nodes = ['node-a', 'node-b', 'node-c'];
let env: OperatorTestCluster | undefined;
let op: RunningOperator | undefined;
let sim: SimulatedAgents | undefined;
let topo: Topology | undefined;
let proxy: ServiceProxy | undefined;
let caches: Array<Informer<NodeWorkload> | Informer<NodeAssignment>> = [];

beforeAll(async () => {
  topo = await createTopology(3);
  env = await startOperatorTestCluster(ns);
  op = await runOperator({ kubeConfig: env.cluster.kubeConfig, leaderElect: false, metricsAddress: false });
  sim = new SimulatedAgents({ client: env.client, namespace: SYSTEM_NAMESPACE });
  for (const n of nodes) sim.holdReady(n);
  await sim.add(nodes.map((name) => ({ name })));
  const workloads = new Informer<NodeWorkload>({ client: env.client, resource: NODE_WORKLOADS });
  const assignments = new Informer<NodeAssignment>({ client: env.client, resource: NODE_ASSIGNMENTS, indexers: { [BY_WORKLOAD]: workloadIndex } });
  caches = [workloads, assignments];
  proxy = new ServiceProxy({
    mode: 'nftables',
    table: DEFAULT_PROXY_TABLE,
    nodeName: 'proxy-node',
    nodeAddresses: [topo.nodeAddress],
    workloads,
    assignments,
    minSyncPeriodMs: 100,
    run: topo.runInNode,
    registry: createProcessRegistry(),
    logger: silentLogger(),
  });
  workloads.start();
  assignments.start();
  await proxy.start();
}, 180_000);

afterAll(async () => {
  // Every step runs even when one before it fails, so that no etcd, operator or network
  // namespace outlives the suite.
  const steps = [() => proxy?.stop(), ...caches.map((c) => () => c.stop()), () => sim?.stop(), () => op?.stop(), () => env?.cluster.stop(), () => topo?.destroy()];
  const errors: unknown[] = [];
  for (const step of steps) await Promise.resolve().then(step).catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
}, 60_000);

function workloadYaml(): string {
  return stringify({
    apiVersion: 'shopfloor.dev/v1alpha1',
    kind: 'NodeWorkload',
    metadata: { name: 'web', namespace: ns },
    spec: {
      placement: { replicas: 3, maxPerNode: 1 },
      template: {
        containers: [{ name: 'main', image: 'busybox:1.36', ports: [{ name: 'http', containerPort: 8080 }], resources: { requests: { cpu: '100m', memory: '32Mi' } } }],
      },
      service: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  });
}

async function setReady(name: string, podIP: string, ready: boolean): Promise<void> {
  await env!.client.patchStatus(NODE_ASSIGNMENTS, name, { status: { phase: 'Running', ready, podIP } }, { namespace: ns });
}

describe('service proxy through the API', () => {
  let vip = '';
  let byNode = new Map<string, string>();
  const names = () => topo!.endpoints.map((e) => e.name);
  const answers = async (count: number) => (await topo!.probe(topo!.client, ['http', vip, '80', '--count', String(count), '--timeout-ms', '1000'])).map((a) => a.split(' ')[0]!);

  it('makes the VIP of a NodeWorkload answer from the pods of its ready NodeAssignments', async () => {
    await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml());
    vip = await eventually('status.clusterIP', async () => (await getWorkload(env!.cluster, ns, 'web')).status?.clusterIP, 60_000);
    const assignments = await eventually('3 NodeAssignments', async () => {
      const list = await listAssignments(env!.cluster, ns, 'web');
      return list.length === 3 && list;
    }, 60_000);
    byNode = new Map(assignments.map((a, i) => [a.metadata!.name!, topo!.endpoints[i]!.ip]));
    for (const [name, ip] of byNode) await setReady(name, ip, true);
    const seen = await eventually('every endpoint answers on the VIP', async () => {
      const s = new Set(await answers(60));
      return s.size === 3 && s;
    }, 30_000);
    expect([...seen].sort()).toEqual(names());
  }, 150_000);

  it('takes an assignment that is no longer ready out of rotation', async () => {
    const [first] = [...byNode];
    await setReady(first![0], first![1], false);
    const gone = topo!.endpoints.find((e) => e.ip === first![1])!.name;
    const seen = await eventually('the not-ready endpoint leaves rotation', async () => {
      const s = new Set(await answers(60));
      return !s.has(gone) && s.size === 2 && s;
    }, 30_000);
    expect([...seen].sort()).toEqual(names().filter((n) => n !== gone));
  }, 60_000);
});
