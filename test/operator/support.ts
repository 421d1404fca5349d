// Shared pieces of the operator integration suites: a devcluster with the CRDs and the system
// namespace, NodeWorkload manifests, and readers of what kubectl shows a user.
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { KubeClient } from '../../kube/client.js';
import { startTestCluster, type TestCluster } from '../harness/test-cluster.js';
import type { NodeAssignmentObject, NodeWorkloadObject } from '../../operator/objects.js';
import { runOperator, type OperatorOptions, type RunningOperator } from '../../operator/index.js';
import { SimulatedAgents, type SimulatedNode } from '../sim/simulated-agents.js';

export { eventually, notYet } from '../harness/eventually.js';

export const SYSTEM_NAMESPACE = 'shopfloor-system';

export function suffix(): string {
  return randomBytes(3).toString('hex');
}

export interface OperatorTestCluster {
  cluster: TestCluster;
  client: KubeClient;
}

/** A devcluster with the Shopfloor CRDs, the system namespace and a namespace for the suite. */
export async function startOperatorTestCluster(namespace: string): Promise<OperatorTestCluster> {
  const cluster = await startTestCluster({ crds: true });
  try {
    const ns = [SYSTEM_NAMESPACE, namespace].map((n) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${n}}\n`).join('---\n');
    await mustKubectl(cluster, ['apply', '-f', '-'], ns);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return { cluster, client: new KubeClient(cluster.kubeConfig) };
}

export interface OperatorSuite extends OperatorTestCluster {
  sim: SimulatedAgents;
  op: RunningOperator;
  /** Stops the operator, the simulated agents and the cluster, in that order. */
  stop(): Promise<void>;
}

/** What most operator suites run against: the cluster, simulated agents for `nodes`, and one operator that does not elect a leader. */
export async function startOperatorSuite(namespace: string, nodes: SimulatedNode[], readyAfterMs: number, options: Partial<OperatorOptions> = {}): Promise<OperatorSuite> {
  const env = await startOperatorTestCluster(namespace);
  const sim = new SimulatedAgents({ client: env.client, namespace: SYSTEM_NAMESPACE, readyAfterMs });
  let op: RunningOperator | undefined;
  const stop = async (): Promise<void> => {
    await op?.stop();
    await sim.stop();
    await env.cluster.stop();
  };
  try {
    await sim.add(nodes);
    op = await runOperator({ kubeConfig: env.cluster.kubeConfig, leaderElect: false, metricsAddress: false, ...options });
  } catch (err) {
    await stop();
    throw err;
  }
  return { ...env, sim, op, stop };
}

export async function mustKubectl(cluster: TestCluster, args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export interface WorkloadOptions {
  mode?: 'Replicas' | 'EveryNode';
  replicas?: number;
  nodeSelector?: Record<string, string>;
  maxPerNode?: number;
  cpu?: string;
  memory?: string;
  image?: string;
  maxUnavailable?: number | string;
  service?: boolean;
  clusterIP?: string;
}

/** A NodeWorkload manifest as a user would write it. */
export function workloadYaml(namespace: string, name: string, o: WorkloadOptions = {}): string {
  const placement: Record<string, unknown> = { mode: o.mode ?? 'Replicas' };
  if ((o.mode ?? 'Replicas') === 'Replicas') placement['replicas'] = o.replicas ?? 1;
  if (o.nodeSelector) placement['nodeSelector'] = o.nodeSelector;
  if (o.maxPerNode !== undefined) placement['maxPerNode'] = o.maxPerNode;
  const spec: Record<string, unknown> = {
    placement,
    template: {
      containers: [{ name: 'main', image: o.image ?? 'busybox:1.36', resources: { requests: { cpu: o.cpu ?? '100m', memory: o.memory ?? '32Mi' } } }],
    },
  };
  if (o.maxUnavailable !== undefined) spec['updateStrategy'] = { maxUnavailable: o.maxUnavailable };
  if (o.service || o.clusterIP) spec['service'] = { ports: [{ port: 80 }], ...(o.clusterIP ? { clusterIP: o.clusterIP } : {}) };
  return stringify({ apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name, namespace }, spec });
}

export async function getWorkload(cluster: TestCluster, namespace: string, name: string): Promise<NodeWorkloadObject> {
  return JSON.parse(await mustKubectl(cluster, ['get', 'nw', name, '-n', namespace, '-o', 'json'])) as NodeWorkloadObject;
}

export async function listAssignments(cluster: TestCluster, namespace: string, workload?: string): Promise<NodeAssignmentObject[]> {
  const args = ['get', 'na', '-n', namespace, '-o', 'json'];
  if (workload) args.push('-l', `shopfloor.dev/workload=${workload}`);
  return (JSON.parse(await mustKubectl(cluster, args)) as { items: NodeAssignmentObject[] }).items;
}

export function condition(wl: NodeWorkloadObject, type: string): { status: string; reason: string; message: string; observedGeneration?: number } | undefined {
  return wl.status?.conditions?.find((c) => c.type === type);
}

/** Replicas per node, e.g. `{ n1: 2, n3: 1 }`. */
export function perNode(assignments: NodeAssignmentObject[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of assignments) out[a.spec.nodeName] = (out[a.spec.nodeName] ?? 0) + 1;
  return out;
}

