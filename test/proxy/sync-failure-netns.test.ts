// A proxy whose rules the kernel refuses, for real: its nftables table is taken over by another
// process as an owner table (`flags owner`: the kernel lets only the netlink socket that created
// it change or delete it), so every nft transaction of the agent fails with "Operation not
// permitted". The proxy's /readyz check fails with that reason while the syncs back off, and
// passes again once the owner is gone and a retry rewrites the rules. The check is the one the
// agent's /readyz serves (agent/main.ts wires every part's ready()), served by the same server.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BY_WORKLOAD, workloadIndex, type NodeAssignment, type NodeWorkload } from '../../api/index.js';
import { runChecked } from '../../agent/exec.js';
import { DEFAULT_PROXY_TABLE } from '../../agent/proxy/proxy-names.js';
import { ServiceProxy } from '../../agent/proxy/service-proxy.js';
import { startHealthServer, type HealthServer } from '../../kube/health-server.js';
import { Informer } from '../../kube/informer.js';
import { silentLogger } from '../../kube/logger.js';
import { createProcessRegistry } from '../../kube/metrics.js';
import { NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../../kube/resource.js';
import { metricValue } from '../harness/metrics.js';
import { createTopology, type Topology } from '../netns/topology.js';
import { eventually, notYet, startOperatorTestCluster, suffix, type OperatorTestCluster } from '../operator/support.js';
import { setClusterIP, storeReadyAssignment, storeWorkload } from './stored-services.js';

const ns = `syncfail-${suffix()}`;
const VIP = '10.96.0.20';
const TABLE = `ip ${DEFAULT_PROXY_TABLE}`;
let env: OperatorTestCluster | undefined;
let topo: Topology | undefined;
let proxy: ServiceProxy | undefined;
let health: HealthServer | undefined;
let owner: ChildProcessWithoutNullStreams | undefined;
let caches: Array<Informer<NodeWorkload> | Informer<NodeAssignment>> = [];
const registry = createProcessRegistry();

beforeAll(async () => {
  topo = await createTopology(2);
  env = await startOperatorTestCluster(ns);
  await storeWorkload(env.cluster, ns, 'web', { ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
  await setClusterIP(env.cluster, ns, 'web', VIP);
  await storeReadyAssignment(env.cluster, ns, 'web', 'web-a', topo.endpoints[0]!.ip);
  const workloads = new Informer<NodeWorkload>({ client: env.client, resource: NODE_WORKLOADS, namespace: ns });
  const assignments = new Informer<NodeAssignment>({ client: env.client, resource: NODE_ASSIGNMENTS, namespace: ns, indexers: { [BY_WORKLOAD]: workloadIndex } });
  caches = [workloads, assignments];
  // A short cap, so that the retry after the owner leaves comes within a second.
  proxy = new ServiceProxy({ mode: 'nftables', table: DEFAULT_PROXY_TABLE, nodeName: 'proxy-node', nodeAddresses: [topo.nodeAddress], workloads, assignments, minSyncPeriodMs: 100, retryMaxMs: 800, run: topo.runInNode, registry, logger: silentLogger() });
  health = await startHealthServer({ registry, port: 0, readiness: { proxy: () => proxy!.ready() } });
  workloads.start();
  assignments.start();
  await proxy.start();
}, 180_000);

afterAll(async () => {
  const steps = [
    async () => {
      if (owner && owner.exitCode === null) {
        owner.kill('SIGTERM');
        await new Promise((r) => owner!.once('exit', r));
      }
    },
    () => health?.close(),
    () => proxy?.stop(),
    () => proxy?.removeRules(),
    ...caches.map((c) => () => c.stop()),
    () => env?.cluster.stop(),
    () => topo?.destroy(),
  ];
  const errors: unknown[] = [];
  for (const step of steps) await Promise.resolve().then(step).catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
}, 60_000);

async function readyz(): Promise<{ status: number; text: string }> {
  const res = await fetch(`${health!.url}/readyz`);
  return { status: res.status, text: await res.text() };
}

const answers = async () => new Set((await topo!.probe(topo!.client, ['http', VIP, '80', '--count', '20', '--timeout-ms', '500'])).map((a) => a.split(' ')[0]!));

describe('a proxy whose rules the kernel refuses', () => {
  it('is ready once its rules forward', async () => {
    await eventually('the VIP answers from ep1', async () => (await answers()).has('ep1') || notYet('no answer from ep1'), 30_000);
    expect(await readyz()).toEqual({ status: 200, text: '[+]proxy ok\nreadyz check passed\n' });
  }, 60_000);

  it('is not ready, and says why, while another process owns its table', async () => {
    await runChecked(topo!.runInNode, 'nft', ['delete', 'table', 'ip', DEFAULT_PROXY_TABLE]);
    owner = topo!.runInNode.start('nft', ['-i']);
    owner.stdin.write(`add table ${TABLE} { flags owner; }\n`);
    await eventually('the owner table', async () => (await runChecked(topo!.runInNode, 'nft', ['list', 'table', 'ip', DEFAULT_PROXY_TABLE])).stdout.includes('flags owner') || notYet('no owner flag yet'));
    // A change makes the proxy sync; every sync from here is refused.
    await storeReadyAssignment(env!.cluster, ns, 'web', 'web-b', topo!.endpoints[1]!.ip);
    // The first, incremental sync fails on objects the new table lacks; the full ones that follow are refused.
    const failed = await eventually('readyz fails with the full sync\'s refusal', async () => {
      const r = await readyz();
      return (r.status === 503 && r.text.includes('Operation not permitted') && r) || notYet(`${r.status} ${r.text}`);
    }, 30_000);
    expect(failed.text).toMatch(/^\[-\]proxy failed: the service rules could not be applied \(\d+ failed syncs since .*; retrying with backoff\): .*Operation not permitted/);
    expect(await metricValue(registry, 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total')).toBeGreaterThan(0);
  }, 60_000);

  it('is ready again once the owner is gone and a retry rewrites the rules', async () => {
    owner!.stdin.end();
    await new Promise((r) => (owner!.exitCode === null ? owner!.once('exit', r) : r(undefined)));
    await eventually('readyz passes', async () => {
      const r = await readyz();
      return r.status === 200 || notYet(`${r.status} ${r.text}`);
    }, 30_000);
    const seen = await eventually('both endpoints answer', async () => {
      const s = await answers();
      return (s.has('ep1') && s.has('ep2') && s) || notYet([...s].join(', '));
    }, 30_000);
    expect([...seen].sort()).toEqual(['ep1', 'ep2']);
  }, 60_000);
});
