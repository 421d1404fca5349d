// Shared pieces of the node suites: a node registration on a devcluster, with the CRI Version
// answer standing in for the runtime (the CRI client is tested against containerd in its own
// suite; what registration does with the answer, or with its failure, is what is tested here).
import { Registry } from 'prom-client';
import { KubeClient } from '../../kube/client.js';
import { NodeRegistration, type NodeRegistrationOptions } from '../../agent/node/registration.js';
import type { RuntimeInfo } from '../../agent/node/node-status.js';

export { eventually, mustKubectl, startOperatorTestCluster, suffix, SYSTEM_NAMESPACE } from '../operator/support.js';

/** What CRI Version answers: containerd's name and version, or the error of a runtime that is down. */
export class RuntimeAnswer {
  down: Error | undefined;
  calls = 0;

  info = (): Promise<RuntimeInfo> => {
    this.calls++;
    return this.down ? Promise.reject(this.down) : Promise.resolve({ runtimeName: 'containerd', runtimeVersion: '1.6.20' });
  };
}

export interface TestNode {
  registration: NodeRegistration;
  runtime: RuntimeAnswer;
  /** Times the status was recomputed (runningPods is read once per computation). */
  statusTicks(): number;
  setPods(n: number): void;
  /** Requests the registration's client sent, by method. */
  requests(method: string): Promise<number>;
  client: KubeClient;
}

/** A registration with short periods (status 200 ms, lease 300 ms) so suites see many rounds quickly. */
export function testNode(kubeConfig: KubeClient['kubeConfig'], nodeName: string, over: Partial<NodeRegistrationOptions> = {}): TestNode {
  const registry = new Registry();
  const client = new KubeClient(kubeConfig, { registry });
  const runtime = new RuntimeAnswer();
  let ticks = 0;
  let pods = 0;
  const registration = new NodeRegistration({
    client,
    nodeName,
    labels: { 'topology.kubernetes.io/zone': 'zone-a' },
    podCIDR: '10.244.7.0/24',
    nodeAddresses: ['10.0.0.7'],
    hostname: nodeName,
    proxyMode: 'nftables',
    agentVersion: '0.1.0-test',
    runtimeInfo: runtime.info,
    runningPods: () => {
      ticks++;
      return pods;
    },
    statusIntervalMs: 200,
    renewIntervalMs: 300,
    ...over,
  });
  return {
    registration,
    runtime,
    client,
    statusTicks: () => ticks,
    setPods: (n) => (pods = n),
    requests: async (method) => {
      const metric = await registry.getSingleMetric('rest_client_requests_total')?.get();
      return (metric?.values ?? []).filter((v) => v.labels['method'] === method).reduce((n, v) => n + v.value, 0);
    },
  };
}
