// `shopfloor up` as a user runs it (npm start runs the same command), driven only with kubectl,
// HTTP and the signals a terminal sends: the example becomes Ready and answers through its VIP,
// scales, restarts a killed container, rolls out a new template, takes an unready replica out of
// the VIP, refuses an invalid workload with the field's error, runs a static workload, survives
// `up` being killed without touching a pod, counts all of it in the metrics a Prometheus scrape
// sees, serves container logs to `shopfloor logs`, and on Ctrl-C leaves nothing behind. It runs
// in a network namespace of its own, so the host's nftables and addresses are never touched.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, notYet } from '../harness/eventually.js';
import { parseSamples, sampleSum, type Sample } from '../harness/metrics.js';
import { MachineNetns, UpProcess } from './up-harness.js';

const netns = new MachineNetns();
const dataDir = mkdtempSync(join(tmpdir(), 'shopfloor-up-'));
const up = new UpProcess(netns, dataDir);
const flagsDir = join(dataDir, 'flags');

interface Replica {
  name: string;
  revision: string;
  phase: string;
  ready: boolean;
  restartCount: number;
  containerIDs: string[];
}

/**
 * The NodeAssignments of `workload` (or, for "static", the mirrors of static workloads), as
 * `kubectl get na -o json` shows them.
 */
async function replicas(workload: string): Promise<Replica[]> {
  const selector = workload === 'static' ? 'shopfloor.dev/static=true' : `shopfloor.dev/workload=${workload}`;
  const { stdout } = await up.kubectl('get', 'na', '-l', selector, '-o', 'json');
  const list = JSON.parse(stdout) as { items: { metadata: { name: string; labels: Record<string, string> }; status?: { phase?: string; ready?: boolean; restartCount?: number; containers?: { containerID?: string }[] } }[] };
  return list.items
    .map((na) => ({
      name: na.metadata.name,
      revision: na.metadata.labels['shopfloor.dev/revision'] ?? '',
      phase: na.status?.phase ?? '',
      ready: na.status?.ready ?? false,
      restartCount: na.status?.restartCount ?? 0,
      containerIDs: (na.status?.containers ?? []).map((c) => c.containerID ?? ''),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Waits until `workload` has `count` replicas, all Running and ready, all of one revision. */
async function allReady(workload: string, count: number, timeoutMs = 90_000): Promise<Replica[]> {
  let seen: Replica[] = [];
  await eventually(`${count} ready replicas of ${workload}`, async () => {
    seen = await replicas(workload);
    return (seen.length === count && seen.every((r) => r.phase === 'Running' && r.ready && r.revision === seen[0]!.revision)) || notYet(JSON.stringify(seen));
  }, timeoutMs);
  return seen;
}

/** Waits until the VIP's answers come from exactly `names` (30 connections a round). */
async function vipServes(vip: string, names: string[], greeting = 'hello'): Promise<void> {
  await eventually(`the VIP to answer from ${names.join(', ')}`, async () => {
    const answers = await netns.httpGets(vip, 80, 30);
    const from = [...new Set(answers.map((a) => new RegExp(`^200 ${greeting} from (\\S+)$`).exec(a)?.[1] ?? a))].sort();
    return JSON.stringify(from) === JSON.stringify([...names].sort()) || notYet(JSON.stringify(from));
  }, 60_000);
}

/** What a Prometheus scrape of the operator's or the agent's /metrics sees now (asked from inside the namespace). */
async function scrape(which: 'operator' | 'agent'): Promise<Sample[]> {
  const { stdout } = await netns.exec({}, process.execPath, '-e', `fetch(${JSON.stringify(up.metricsUrl(which))}).then((r) => r.text()).then((t) => process.stdout.write(t))`);
  return parseSamples(stdout);
}

/** Waits until the scraped `name{labels}` satisfies `ok`. */
async function metricShows(which: 'operator' | 'agent', name: string, labels: Record<string, string>, ok: (v: number) => boolean): Promise<void> {
  await eventually(`${which} metric ${name}${JSON.stringify(labels)}`, async () => {
    const value = sampleSum(await scrape(which), name, labels);
    return (value !== undefined && ok(value)) || notYet(String(value));
  }, 15_000);
}

beforeAll(async () => {
  await netns.create();
  await up.start();
}, 120_000);

afterAll(async () => {
  await up.kill();
  await netns.remove();
  rmSync(dataDir, { recursive: true, force: true });
}, 90_000);

describe('shopfloor up', () => {
  let vip = '';

  it('prints the KUBECONFIG line and what to try next, and logs one line per entry prefixed by its part', async () => {
    expect(up.stdout).toContain(`export KUBECONFIG=${up.kubeconfig}`);
    expect(up.stdout).toContain('kubectl apply -f examples/hello.yaml');
    expect(up.stderr).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO {2}${up.apiServer} +${up.apiServer} is serving `, 'm'));
    await eventually('the agent to log that it started', () => /^\d\d:\d\d:\d\d\.\d{3} INFO {2}agent {6}agent started /m.test(up.stderr));
  });

  it('serves Shopfloor CRDs to kubectl', async () => {
    const { stdout } = await up.kubectl('api-resources', '--api-group=shopfloor.dev', '-o', 'name');
    expect(stdout.split('\n').filter(Boolean).sort()).toEqual(['nodeagents.shopfloor.dev', 'nodeassignments.shopfloor.dev', 'nodeworkloads.shopfloor.dev']);
  });

  it('runs examples/hello.yaml: Ready on this node, and its VIP answers HTTP from the replica', async () => {
    await up.kubectl('apply', '-f', 'examples/hello.yaml');
    await up.kubectl('wait', '--for=condition=Ready', 'nw/hello', '--timeout=90s');
    vip = (await up.kubectl('get', 'nw', 'hello', '-o', 'jsonpath={.status.clusterIP}')).stdout;
    expect(vip).toMatch(/^10\.250\.\d+\.\d+$/);
    const [replica] = await allReady('hello', 1);
    await vipServes(vip, [replica!.name]);
    // The node says its rules hold the service, in its NodeAgent (status is written every 10 s).
    await eventually('the NodeAgent to report its service rules in sync', async () => {
      const proxy = JSON.parse((await up.kubectl('get', 'nodeagents', '-o', 'jsonpath={.items[0].status.proxy}')).stdout || '{}') as { inSync?: boolean; servicePorts?: number; rules?: number; lastSyncTime?: string };
      return (proxy.inSync === true && (proxy.servicePorts ?? 0) >= 1 && (proxy.rules ?? 0) > 0 && proxy.lastSyncTime !== undefined) || notYet(JSON.stringify(proxy));
    }, 30_000);
  }, 120_000);

  it('scales to 3 replicas with kubectl scale, all three answer through the VIP, and the metrics count them', async () => {
    expect((await up.kubectl('scale', 'nw/hello', '--replicas=3')).stdout.trim()).toBe('nodeworkload.shopfloor.dev/hello scaled');
    const three = await allReady('hello', 3);
    await vipServes(vip, three.map((r) => r.name));
    await metricShows('agent', 'kubelet_running_pods', {}, (v) => v === 3);
    await metricShows('agent', 'shopfloor_agent_pods', { phase: 'Running' }, (v) => v === 3);
    await metricShows('agent', 'kubelet_pod_start_duration_seconds_count', {}, (v) => v >= 3);
    await metricShows('agent', 'kubeproxy_sync_proxy_rules_duration_seconds_count', {}, (v) => v > 0);
    // A reconcile that converged asks for its periodic resync: controller-runtime counts that as requeue_after.
    await metricShows('operator', 'controller_runtime_reconcile_total', { controller: 'nodeworkload', result: 'requeue_after' }, (v) => v > 0);
    await metricShows('operator', 'workqueue_depth', { name: 'nodeworkload' }, (v) => v >= 0);
  }, 120_000);

  it('restarts a container whose process is killed from outside, and counts the restart', async () => {
    const [victim] = await replicas('hello');
    const id = victim!.containerIDs[0]!.replace(/^containerd:\/\//, '');
    const { stdout: tasks } = await up.ctr('task', 'ls');
    const pid = Number(tasks.split('\n').find((l) => l.startsWith(id))?.split(/\s+/)[1]);
    expect(pid).toBeGreaterThan(1);
    process.kill(pid, 'SIGKILL');
    await eventually(`${victim!.name} to be restarted`, async () => {
      const now = (await replicas('hello')).find((r) => r.name === victim!.name);
      return (now?.restartCount === 1 && now.ready && now.containerIDs[0] !== victim!.containerIDs[0]) || notYet(JSON.stringify(now));
    }, 60_000);
    await allReady('hello', 3);
    await metricShows('agent', 'shopfloor_agent_container_restarts_total', { pod: victim!.name }, (v) => v === 1);
  }, 90_000);

  it('shows a replica\'s log, and its killed instance\'s with --previous, through the agent\'s log server on 127.0.0.1', async () => {
    const { stdout: address } = await up.kubectl('get', 'nag', '-o', 'jsonpath={.items[0].status.daemonEndpoints.logServer.address}');
    expect(address).toBe('127.0.0.1');
    const [restarted] = (await replicas('hello')).filter((r) => r.restartCount === 1);
    expect((await up.shopfloor('logs', `na/${restarted!.name}`)).stdout).toBe('serving /www on :8080\n');
    expect((await up.shopfloor('logs', `na/${restarted!.name}`, '--previous')).stdout).toBe('serving /www on :8080\n');
    expect((await up.shopfloor('logs', 'nw/hello', '-c', 'httpd', '--tail', '1')).stdout).toBe('serving /www on :8080\n');
  }, 60_000);

  it('refuses an invalid workload with kubectl printing the field and what is allowed', async () => {
    const bad = join(dataDir, 'bad.yaml');
    writeFileSync(bad, 'apiVersion: shopfloor.dev/v1alpha1\nkind: NodeWorkload\nmetadata:\n  name: bad\nspec:\n  placement:\n    replicas: -2\n  template:\n    containers:\n      - name: c\n        image: shopfloor.dev/busybox:test\n');
    const failed = await up.kubectl('apply', '-f', bad).then(
      () => undefined,
      (err: { stderr: string }) => err.stderr,
    );
    expect(failed).toMatch(/spec\.placement\.replicas: Invalid value: -2: spec\.placement\.replicas in body should be greater than or equal to 0/);
    await expect(up.kubectl('get', 'nw', 'bad')).rejects.toThrow(/NotFound/);
  });

  it('rolls out a changed command replica by replica, and the VIP answers from the new replicas', async () => {
    const before = await replicas('hello');
    await up.kubectl('patch', 'nw', 'hello', '--type=json', '-p',
      JSON.stringify([{ op: 'replace', path: '/spec/template/containers/0/command/2', value: 'mkdir -p /www && echo "hi from $(hostname)" > /www/index.html && exec httpd -f -p 8080 -h /www' }]));
    let sawBoth = false;
    await eventually('every replica to be of the new revision', async () => {
      const now = await replicas('hello');
      const revisions = new Set(now.map((r) => r.revision));
      if (revisions.size > 1) sawBoth = true;
      return (now.length === 3 && revisions.size === 1 && !revisions.has(before[0]!.revision) && now.every((r) => r.ready)) || notYet(JSON.stringify(now));
    }, 120_000);
    // Replaced one by one (maxUnavailable 1), so old and new replicas ran side by side.
    expect(sawBoth).toBe(true);
    const after = await replicas('hello');
    expect(after.map((r) => r.name).filter((n) => before.some((b) => b.name === n))).toEqual([]);
    await vipServes(vip, after.map((r) => r.name), 'hi');
  }, 150_000);

  it('takes a replica whose readiness probe fails out of the VIP, and brings it back when it passes', async () => {
    mkdirSync(flagsDir, { recursive: true });
    const unprobed = (await replicas('hello'))[0]!.revision;
    // A replica is ready while no file named after it is in the flags dir on the host.
    await up.kubectl('patch', 'nw', 'hello', '--type=json', '-p', JSON.stringify([
      { op: 'add', path: '/spec/template/volumes', value: [{ name: 'flags', hostPath: { path: flagsDir, type: 'Directory' } }] },
      { op: 'add', path: '/spec/template/containers/0/volumeMounts', value: [{ name: 'flags', mountPath: '/flags', readOnly: true }] },
      { op: 'add', path: '/spec/template/containers/0/readinessProbe', value: { exec: { command: ['sh', '-c', 'test ! -e /flags/$(hostname)'] }, periodSeconds: 1, failureThreshold: 1 } },
    ]));
    await eventually('the probed revision to be everywhere', async () => {
      const now = await replicas('hello');
      return (now.length === 3 && now.every((r) => r.revision !== unprobed && r.ready)) || notYet(JSON.stringify(now));
    }, 150_000);
    const three = await allReady('hello', 3);
    const [unready, ...others] = three;
    writeFileSync(join(flagsDir, unready!.name), '');
    await eventually(`${unready!.name} to be not ready`, async () => (await replicas('hello')).find((r) => r.name === unready!.name)?.ready === false, 30_000);
    await vipServes(vip, others.map((r) => r.name), 'hi');
    await metricShows('agent', 'prober_probe_total', { probe_type: 'Readiness', result: 'failed', pod: unready!.name }, (v) => v > 0);
    rmSync(join(flagsDir, unready!.name));
    await vipServes(vip, three.map((r) => r.name), 'hi');
  }, 240_000);

  it('runs a static workload dropped into the manifests dir, shown read-only in kubectl get na', async () => {
    writeFileSync(join(dataDir, 'manifests', 'static-web.yaml'), 'apiVersion: shopfloor.dev/v1alpha1\nkind: NodeWorkload\nmetadata:\n  name: static-web\nspec:\n  placement:\n    mode: EveryNode\n  template:\n    containers:\n      - name: web\n        image: shopfloor.dev/busybox:test\n        command: [httpd, -f, -p, "8081"]\n');
    const [mirror] = await allReady('static', 1);
    expect(mirror!.name).toMatch(/^static-web-/);
    await up.kubectl('delete', 'na', mirror!.name);
    await eventually('the mirror to be back', async () => {
      const [back] = await replicas('static');
      return (back !== undefined && back.name === mirror!.name && back.containerIDs[0] === mirror!.containerIDs[0]) || notYet(JSON.stringify(back));
    }, 30_000);
  }, 90_000);

  it('survives `up` being killed: the next start adopts the running pods without restarting a container', async () => {
    const before = [...(await replicas('hello')), ...(await replicas('static'))];
    expect(await up.stop('SIGKILL')).toBe(null);
    await up.start();
    await eventually('the agent to report the pods again', async () => {
      const now = [...(await replicas('hello')), ...(await replicas('static'))];
      return JSON.stringify(now) === JSON.stringify(before) || notYet(JSON.stringify(now));
    }, 60_000);
    await vipServes(vip, before.filter((r) => r.name.startsWith('hello')).map((r) => r.name), 'hi');
  }, 180_000);

  it('deletes a workload: its containers, sandboxes and VIP rules go', async () => {
    await up.kubectl('delete', 'nw', 'hello', '--wait=true', '--timeout=60s');
    await eventually('no container or sandbox of hello', async () => {
      const { stdout } = await up.ctr('containers', 'ls', '-q', 'labels."shopfloor.dev/workload"==hello');
      return stdout.trim() === '' || notYet(stdout);
    }, 60_000);
    await eventually('no rule for the VIP', async () => !(await netns.exec({}, 'nft', 'list', 'table', 'ip', 'shopfloor')).stdout.includes(vip), 30_000);
    expect(await netns.httpGets(vip, 80, 1)).not.toEqual([expect.stringMatching(/^200/)]);
  }, 90_000);

  it('stops every part on Ctrl-C, gives the lease back and leaves nothing behind; the next start leads at once and brings the pods back', async () => {
    await up.kubectl('apply', '-f', 'examples/hello.yaml');
    await allReady('hello', 1);
    vip = (await up.kubectl('get', 'nw', 'hello', '-o', 'jsonpath={.status.clusterIP}')).stdout;
    expect(await up.interrupt()).toBe(0);
    // Every part stopped in order: none of them lost a peer it still needed on the way down.
    expect(up.stderr).not.toMatch(/^\S+ (ERROR|FATAL) /m);
    expect(up.partPids()).toEqual({ controlPlane: [], containerd: [] });
    await expect(netns.exec({}, 'nft', 'list', 'table', 'ip', 'shopfloor')).rejects.toThrow(/No such file or directory/);
    expect(existsSync(up.etcdDataDir)).toBe(true);
    // The operator gave its lease back before the API server stopped under it.
    expect(up.stderr).toMatch(/released the leader lease/);
    expect(up.stderr).not.toMatch(/could not release the leader lease/);

    await up.start();
    const [replica] = await allReady('hello', 1);
    // So the next operator leads at its first attempt: the only holder it observed before leading
    // is itself, never the previous run's lease waiting to expire.
    const beforeLeading = up.stderr.slice(0, up.stderr.indexOf('became leader'));
    expect(up.stderr).toContain('became leader');
    expect(beforeLeading.match(/leader observed/g)).toHaveLength(1);
    await vipServes(vip, [replica!.name]);
    await allReady('static', 1);
    expect(await up.stop('SIGTERM')).toBe(0);
    expect(up.partPids()).toEqual({ controlPlane: [], containerd: [] });
  }, 240_000);
});
