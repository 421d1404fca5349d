// NodeWorkloads whose spec.service the shipped CRD would refuse (stored through a CRD with
// spec.service left unchecked, as an older CRD or one without validation allows), beside a good
// one, with the agent's service proxy programming real nftables or iptables in a node network
// namespace: each bad service is left out, counted and logged, and the good one keeps forwarding
// and keeps following its endpoints. No operator runs (stored-services.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BY_WORKLOAD, workloadIndex, type NodeAssignment, type NodeWorkload } from '../../api/index.js';
import type { ProxyMode } from '../../agent/proxy/backend.js';
import { DEFAULT_PROXY_TABLE } from '../../agent/proxy/proxy-names.js';
import { ServiceProxy } from '../../agent/proxy/service-proxy.js';
import { runChecked } from '../../agent/exec.js';
import { Informer } from '../../kube/informer.js';
import { createLogger } from '../../kube/logger.js';
import { createProcessRegistry } from '../../kube/metrics.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../../kube/resource.js';
import { loosenCrdField } from '../harness/loose-crd.js';
import { metricValue } from '../harness/metrics.js';
import { createTopology, type Topology } from '../netns/topology.js';
import { setClusterIP, storeReadyAssignment, storeWorkload } from './stored-services.js';
import { eventually, mustKubectl, notYet, startOperatorTestCluster, suffix, type OperatorTestCluster } from '../operator/support.js';

const ns = `badsvc-${suffix()}`;
let env: OperatorTestCluster | undefined;
let topo: Topology | undefined;

const GOOD_VIP = '10.96.0.10';
/** Each bad service, with the field its problem must name. */
const BAD: Array<{ name: string; vip: string; service: unknown; field: RegExp }> = [
  { name: 'ports-string', vip: '10.96.0.11', service: { ports: '80' }, field: /spec\.service\.ports: must be a list, not the string "80"/ },
  { name: 'ports-null', vip: '10.96.0.12', service: { ports: [null] }, field: /spec\.service\.ports\[0\]: must be an object, not null/ },
  // Without the check, the name's second line would be a rule of its own in iptables-restore input.
  { name: 'port-newline', vip: '10.96.0.13', service: { ports: [{ name: 'http\n-A INPUT -j DROP', port: 80, targetPort: 8080 }] }, field: /spec\.service\.ports\[0\]\.name: must be an IANA service name/ },
];

beforeAll(async () => {
  topo = await createTopology(2);
  env = await startOperatorTestCluster(ns);
  await loosenCrdField(env.cluster.kubectl, 'nodeworkloads', ['spec', 'service']);
  // The bad ones are stored first, so that every sync of the good one comes after them.
  for (const b of BAD) {
    expect((await storeWorkload(env.cluster, ns, b.name, b.service)).spec.service).toEqual(b.service);
    await setClusterIP(env.cluster, ns, b.name, b.vip);
    await storeReadyAssignment(env.cluster, ns, b.name, `${b.name}-a`, topo.endpoints[1]!.ip);
  }
  await storeWorkload(env.cluster, ns, 'good', { ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
  await setClusterIP(env.cluster, ns, 'good', GOOD_VIP);
  await storeReadyAssignment(env.cluster, ns, 'good', 'good-a', topo.endpoints[0]!.ip);
}, 180_000);

afterAll(async () => {
  const steps = [() => env?.cluster.stop(), () => topo?.destroy()];
  const errors: unknown[] = [];
  for (const step of steps) await Promise.resolve().then(step).catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
}, 60_000);

describe.each<ProxyMode>(['nftables', 'iptables'])('bad services beside a good one, %s', (mode) => {
  let proxy: ServiceProxy | undefined;
  let caches: Array<Informer<NodeWorkload> | Informer<NodeAssignment>> = [];
  const registry = createProcessRegistry();
  const logs: Array<{ msg: string; name?: string; problems?: string[] }> = [];

  beforeAll(async () => {
    const workloads = new Informer<NodeWorkload>({ client: env!.client, resource: NODE_WORKLOADS, namespace: ns });
    const assignments = new Informer<NodeAssignment>({ client: env!.client, resource: NODE_ASSIGNMENTS, namespace: ns, indexers: { [BY_WORKLOAD]: workloadIndex } });
    caches = [workloads, assignments];
    const logger = createLogger({ name: 'agent', destination: { write: (line: string) => void logs.push(JSON.parse(line) as (typeof logs)[number]) } });
    proxy = new ServiceProxy({ mode, table: DEFAULT_PROXY_TABLE, nodeName: 'proxy-node', nodeAddresses: [topo!.nodeAddress], workloads, assignments, minSyncPeriodMs: 100, run: topo!.runInNode, registry, logger });
    workloads.start();
    assignments.start();
    await proxy.start();
  }, 60_000);

  afterAll(async () => {
    const steps = [() => proxy?.stop(), () => proxy?.removeRules(), ...caches.map((c) => () => c.stop())];
    const errors: unknown[] = [];
    for (const step of steps) await Promise.resolve().then(step).catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw errors[0];
  }, 60_000);

  const answers = async (vip: string, count = 10) => (await topo!.probe(topo!.client, ['http', vip, '80', '--count', String(count), '--timeout-ms', '500'])).map((a) => a.split(' ')[0]!);

  it('forwards the good service while the bad ones are left out', async () => {
    await eventually('the good VIP answers from ep1', async () => {
      const seen = await answers(GOOD_VIP);
      return seen.includes('ep1') || notYet(seen.join(', '));
    }, 30_000);
    // The kernel may forward before the rule writer's process has exited and the sync is counted.
    await eventually('the proxy is ready', () => proxy!.ready() === true || notYet(String(proxy!.ready())), 10_000);
    for (const b of BAD) expect(await answers(b.vip, 1)).not.toContain('ep2');
    expect(await metricValue(registry, mode === 'nftables' ? 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total' : 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total')).toBe(0);
  }, 60_000);

  it('counts and logs each bad service once, naming the field', async () => {
    expect(await metricValue(registry, 'shopfloor_agent_proxy_invalid_objects_total')).toBe(BAD.length);
    for (const b of BAD) {
      const warned = logs.filter((l) => l.name === b.name && l.msg.startsWith('service left out'));
      expect(warned).toEqual([expect.objectContaining({ problems: [expect.stringMatching(b.field)] })]);
    }
  });

  it('writes nothing of a bad object into the rules', async () => {
    const rules = mode === 'nftables' ? await runChecked(topo!.runInNode, 'nft', ['list', 'ruleset']) : await runChecked(topo!.runInNode, 'iptables-save', []);
    expect(rules.stdout).not.toMatch(/-A INPUT -j DROP|10\.96\.0\.1[123]/);
  });

  it('keeps following the good service: a second endpoint joins its rotation', async () => {
    await storeReadyAssignment(env!.cluster, ns, 'good', `good-b-${mode}`, topo!.endpoints[1]!.ip);
    await eventually('ep2 answers on the good VIP too', async () => {
      const seen = new Set(await answers(GOOD_VIP));
      return (seen.has('ep1') && seen.has('ep2')) || notYet([...seen].join(', '));
    }, 30_000);
    await mustKubectl(env!.cluster, ['delete', 'na', `good-b-${mode}`, '-n', ns]);
  }, 60_000);
});
