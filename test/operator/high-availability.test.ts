// Two `shopfloor operator` processes against one devcluster: only the Lease holder reconciles,
// and when it is killed (SIGKILL, no hand-over) the other takes over within 20 s without
// duplicating any assignment; a leader cut off from the API server (a TCP proxy that stops
// forwarding) stops and exits 1. Then a single operator whose connections are cut mid-stream
// (the proxy resets every connection, watches included) keeps converging.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runOperator, type RunningOperator } from '../../operator/index.js';
import { TcpProxy } from '../kube/tcp-proxy.js';
import { throughPort } from '../kube/support.js';
import { SimulatedAgents } from '../sim/simulated-agents.js';
import {
  SYSTEM_NAMESPACE,
  condition,
  eventually,
  getWorkload,
  listAssignments,
  mustKubectl,
  perNode,
  startOperatorTestCluster,
  suffix,
  workloadYaml,
  type OperatorTestCluster,
} from './support.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ns = `ha-${suffix()}`;
let env: OperatorTestCluster | undefined;
let sim: SimulatedAgents | undefined;

interface OperatorProcess {
  child: ChildProcess;
  metricsUrl: Promise<string>;
  exited: Promise<void>;
  stderr: () => string;
}
const processes: OperatorProcess[] = [];

/** Starts `shopfloor operator` from source, as a user would run it. */
function startOperatorProcess(kubeconfigPath: string): OperatorProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', "import { run } from './cli/main.ts'; process.exitCode = await run(process.argv.slice(1));",
      'operator', '--kubeconfig', kubeconfigPath, '--metrics-address', '127.0.0.1:0', '--floor-address', '127.0.0.1:0', '--namespace', SYSTEM_NAMESPACE],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
  );
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const metricsUrl = new Promise<string>((res, rej) => {
    let buf = '';
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const rec = JSON.parse(line) as { msg?: string; url?: string };
          if (rec.msg === 'serving /metrics, /healthz, /readyz' && rec.url) res(rec.url);
        } catch {
          // not a log line
        }
      }
    });
    child.once('exit', (code) => rej(new Error(`operator exited (${code}) before serving: ${err}`)));
  });
  metricsUrl.catch(() => undefined);
  const p = { child, metricsUrl, exited, stderr: () => err };
  processes.push(p);
  return p;
}

async function metric(p: OperatorProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${await p.metricsUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

async function leaseField(field: 'holderIdentity' | 'acquireTime'): Promise<string> {
  return mustKubectl(env!.cluster, ['get', 'lease', 'shopfloor-operator', '-n', SYSTEM_NAMESPACE, '-o', `jsonpath={.spec.${field}}`]);
}

const leaseHolder = (): Promise<string> => leaseField('holderIdentity');

function holds(p: OperatorProcess, holder: string): boolean {
  return holder.includes(`_${p.child.pid}_`);
}

beforeAll(async () => {
  env = await startOperatorTestCluster(ns);
  sim = new SimulatedAgents({ client: env.client, namespace: SYSTEM_NAMESPACE, readyAfterMs: 200 });
  await sim.add(['h1', 'h2', 'h3', 'h4'].map((name) => ({ name })));
}, 120_000);

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await sim?.stop();
  env?.client.close();
  await env?.cluster.stop();
}, 60_000);

const apply = (yaml: string) => mustKubectl(env!.cluster, ['apply', '-f', '-'], yaml);

async function converged(name: string, replicas: number): Promise<void> {
  await eventually(`${name} to be Ready with ${replicas} replicas`, async () => {
    const w = await getWorkload(env!.cluster, ns, name);
    return w.status?.observedGeneration === w.metadata?.generation && w.status?.replicas === replicas && condition(w, 'Ready')?.status === 'True';
  }, 60_000);
  const nas = await listAssignments(env!.cluster, ns, name);
  expect(nas).toHaveLength(replicas);
  expect(Object.values(perNode(nas)).every((n) => n === 1)).toBe(true);
}

describe('two operator replicas', () => {
  it('only the leader acts, and the other takes over within 20 s of the leader being killed', async () => {
    const a = startOperatorProcess(env!.cluster.kubeconfigPath);
    const b = startOperatorProcess(env!.cluster.kubeconfigPath);
    await Promise.all([a.metricsUrl, b.metricsUrl]);
    const holder = await eventually('a leader', async () => {
      const h = await leaseHolder();
      return (holds(a, h) || holds(b, h)) && h;
    });
    const [leader, follower] = holds(a, holder) ? [a, b] : [b, a];

    await apply(workloadYaml(ns, 'ha-1', { replicas: 3, maxPerNode: 1 }));
    await converged('ha-1', 3);
    expect(await metric(leader, 'leader_election_master_status', 'name="shopfloor-operator"')).toBe(1);
    expect(await metric(follower, 'leader_election_master_status', 'name="shopfloor-operator"')).toBe(0);
    expect(await metric(leader, 'controller_runtime_reconcile_total', 'controller="nodeworkload"')).toBeGreaterThan(0);
    expect(await metric(follower, 'controller_runtime_reconcile_total', 'controller="nodeworkload"')).toBe(0);
    const readyz = await fetch(`${await follower.metricsUrl}/readyz`);
    expect(readyz.status).toBe(200);

    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await leader.exited;
    await eventually('the follower to take the lease', async () => holds(follower, await leaseHolder()), 30_000);
    // When the follower took the Lease, as it wrote it (by this machine's clock), not when a
    // kubectl poll on a busy machine got round to showing it.
    const takeoverMs = Date.parse(await leaseField('acquireTime')) - killedAt;
    expect(takeoverMs).toBeLessThan(20_000);

    await apply(workloadYaml(ns, 'ha-1', { replicas: 4, maxPerNode: 1 }));
    await apply(workloadYaml(ns, 'ha-2', { replicas: 2, maxPerNode: 1 }));
    await converged('ha-1', 4);
    await converged('ha-2', 2);
    expect(await listAssignments(env!.cluster, ns)).toHaveLength(6);
    expect(await metric(follower, 'controller_runtime_reconcile_total', 'controller="nodeworkload"')).toBeGreaterThan(0);
    follower.child.kill('SIGTERM');
    await follower.exited;
    expect(follower.child.exitCode).toBe(0);
  }, 120_000);
});

describe('a leader cut off from the API server', () => {
  let proxy: TcpProxy | undefined;

  afterAll(async () => {
    proxy?.thaw();
    await proxy?.close();
  });

  it('stops acting and exits 1 once it cannot renew, and the other replica takes over', async () => {
    const url = new URL(env!.cluster.url);
    proxy = await TcpProxy.start(url.hostname, Number(url.port));
    const proxied = join(env!.cluster.dataDir, 'through-proxy.kubeconfig');
    writeFileSync(proxied, throughPort(env!.cluster.kubeConfig, proxy.port).exportConfig(), { mode: 0o600 });
    const cutOff = startOperatorProcess(proxied);
    await cutOff.metricsUrl;
    await eventually('the proxied operator to lead', async () => holds(cutOff, await leaseHolder()), 40_000);
    const standby = startOperatorProcess(env!.cluster.kubeconfigPath);
    await standby.metricsUrl;

    proxy.freeze({ newConnections: true });
    let giveUp: NodeJS.Timeout | undefined;
    const exitedInTime = await Promise.race([cutOff.exited.then(() => true), new Promise<boolean>((r) => (giveUp = setTimeout(() => r(false), 60_000)))]);
    clearTimeout(giveUp);
    expect(exitedInTime).toBe(true);
    expect(cutOff.child.exitCode).toBe(1);
    await eventually('the standby to take the lease', async () => holds(standby, await leaseHolder()), 30_000);
    await apply(workloadYaml(ns, 'after-cut-off', { replicas: 2, maxPerNode: 1 }));
    await converged('after-cut-off', 2);
    standby.child.kill('SIGTERM');
    await standby.exited;
  }, 150_000);
});

describe('a watch connection cut mid-stream', () => {
  let proxy: TcpProxy | undefined;
  let op: RunningOperator | undefined;

  afterAll(async () => {
    await op?.stop();
    await proxy?.close();
  });

  it('is recovered: workloads created and changed after the cut converge', async () => {
    const url = new URL(env!.cluster.url);
    proxy = await TcpProxy.start(url.hostname, Number(url.port));
    op = await runOperator({ kubeConfig: throughPort(env!.cluster.kubeConfig, proxy.port), leaderElect: false, metricsAddress: false });
    await apply(workloadYaml(ns, 'cut-1', { replicas: 2, maxPerNode: 1 }));
    await converged('cut-1', 2);
    const accepted = proxy.accepted();
    expect(proxy.open()).toBeGreaterThan(0);
    proxy.cut();
    await apply(workloadYaml(ns, 'cut-1', { replicas: 3, maxPerNode: 1 }));
    await apply(workloadYaml(ns, 'cut-2', { replicas: 2, maxPerNode: 1 }));
    await converged('cut-1', 3);
    await converged('cut-2', 2);
    expect(proxy.accepted()).toBeGreaterThan(accepted);
  }, 90_000);
});
