// The agent's service proxy alone, as `shopfloor agent` composes it (agent/main.ts): the
// NodeWorkload and NodeAssignment caches (BY_WORKLOAD-indexed, metadata stripped) and the
// ServiceProxy part over them, reading a kubeconfig's API server. The proxy benchmark runs it in
// a network namespace of its own, beside the real kube-proxy, so that its start-up and memory
// are its own process's; the pods, registration and logs parts of the agent are left out, since
// they need a container runtime and play no part in forwarding.
//
//   node bench/shopfloor-proxy-main.ts --kubeconfig <file> --mode nftables|iptables --node-name <name>
// runs until SIGTERM, then stops and removes its rules.
import { parseArgs } from 'node:util';
import { BY_WORKLOAD, workloadIndex, type NodeAssignment, type NodeWorkload } from '../api/index.js';
import { spawnRunner } from '../agent/exec.js';
import { PROXY_MODES, type ProxyMode } from '../agent/proxy/backend.js';
import { DEFAULT_PROXY_TABLE } from '../agent/proxy/proxy-names.js';
import { ServiceProxy } from '../agent/proxy/service-proxy.js';
import { KubeClient } from '../kube/client.js';
import { loadKubeConfig } from '../kube/config.js';
import { Informer } from '../kube/informer.js';
import { createLogger } from '../kube/logger.js';
import { createProcessRegistry } from '../kube/metrics.js';
import { cachesPart, startParts } from '../kube/part.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../kube/resource.js';
import { stripUnreadMetadata } from '../kube/strip-metadata.js';

const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, mode: { type: 'string' }, 'node-name': { type: 'string' } } });
const mode = values.mode as ProxyMode;
if (!values.kubeconfig || !values['node-name'] || !PROXY_MODES.includes(mode)) {
  throw new Error(`shopfloor-proxy-main: --kubeconfig <file>, --node-name <name> and --mode (${PROXY_MODES.join(' or ')}) are all required`);
}
const logger = createLogger({ name: 'shopfloor-bench-proxy', level: 'warn' });
const registry = createProcessRegistry();
const client = new KubeClient(loadKubeConfig({ kubeconfig: values.kubeconfig }).kubeConfig, { registry, userAgent: 'shopfloor-bench-proxy' });
const workloads = new Informer<NodeWorkload>({ client, resource: NODE_WORKLOADS, registry, logger, metricsPrefix: 'shopfloor_agent', transform: stripUnreadMetadata });
const assignments = new Informer<NodeAssignment>({
  client, resource: NODE_ASSIGNMENTS, registry, logger, metricsPrefix: 'shopfloor_agent', transform: stripUnreadMetadata, indexers: { [BY_WORKLOAD]: workloadIndex },
});
const caches = cachesPart({ nodeworkloads: workloads, nodeassignments: assignments });
const proxy = new ServiceProxy({ mode, table: DEFAULT_PROXY_TABLE, nodeName: values['node-name'], nodeAddresses: [], workloads, assignments, run: spawnRunner(), registry, logger });
const parts = await startParts([caches, proxy], (part, err) => logger.error({ part: part.name, err }, 'stop failed'));
const failed = await Promise.race([parts.failed, new Promise<undefined>((resolve) => process.once('SIGTERM', () => resolve(undefined)))]);
if (failed) logger.error({ err: failed }, 'a part failed');
await parts.stop();
await proxy.removeRules();
client.close();
process.exitCode = failed ? 1 : 0;
