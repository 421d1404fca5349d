// NodeWorkloads with a service and their ready NodeAssignments, stored straight through kubectl
// with no operator: the suites write status.clusterIP and the assignments' status themselves, the
// way the operator and the agent's pod lifecycle would, so that what reaches the proxy is exactly
// what they stored.
import { stringify } from 'yaml';
import type { TestCluster } from '../harness/test-cluster.js';
import { mustKubectl } from '../operator/support.js';

const TEMPLATE = { containers: [{ name: 'main', image: 'busybox:1.36', ports: [{ name: 'http', containerPort: 8080 }] }] };

/** Stores a NodeWorkload with `service` as given and returns it as the API server answered. */
export async function storeWorkload(cluster: TestCluster, namespace: string, name: string, service: unknown): Promise<{ spec: { service: unknown } }> {
  const yaml = stringify({ apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name, namespace }, spec: { placement: { replicas: 1 }, template: TEMPLATE, service } });
  return JSON.parse(await mustKubectl(cluster, ['apply', '-o', 'json', '-f', '-'], yaml)) as { spec: { service: unknown } };
}

/** Gives a workload its VIP, as the operator does. */
export async function setClusterIP(cluster: TestCluster, namespace: string, name: string, vip: string): Promise<void> {
  await mustKubectl(cluster, ['patch', 'nw', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { clusterIP: vip } })]);
}

/** A ready assignment of `workload` on another node at `podIP`, as that node's agent would report it. */
export async function storeReadyAssignment(cluster: TestCluster, namespace: string, workload: string, name: string, podIP: string): Promise<void> {
  await mustKubectl(cluster, ['apply', '-f', '-'], stringify({
    apiVersion: 'shopfloor.dev/v1alpha1',
    kind: 'NodeAssignment',
    metadata: { name, namespace, labels: { 'shopfloor.dev/workload': workload, 'shopfloor.dev/node': 'node-a' } },
    spec: { nodeName: 'node-a', workloadRef: { name: workload }, revision: 'r1', template: TEMPLATE },
  }));
  await mustKubectl(cluster, ['patch', 'na', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', ready: true, podIP } })]);
}
