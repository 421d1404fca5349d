// `shopfloor logs` end to end: a devcluster, a test containerd and the real agent with its log
// server; busybox containers write lines, and the CLI (spawned as users run it) prints them,
// follows new ones, tails, reads the previous instance after a restart, and says what is wrong.
// The log server itself answers 401 without a valid token; the devcluster has one identity, so
// a denial is shown through the same SubjectAccessReview the server asks.
import { describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE, type LogServerEndpoint, type NodeAgent } from '../../api/index.js';
import { WebhookReviewer } from '../../kube/webhook-auth.js';
import { logAttributes } from '../../agent/logs/log-server.js';
import { KubeClient } from '../../kube/client.js';
import { systemClock } from '../../kube/clock.js';
import { NODE_AGENTS, NODE_ASSIGNMENTS, NODE_WORKLOADS } from '../../kube/resource.js';
import { BUSYBOX_IMAGE } from '../harness/containerd.js';
import { eventually } from '../harness/eventually.js';
import { assign, containerId, execIn, NAMESPACE, removeAssignment, statusOf, uniqueName, untilRunning, usePodEnv, type PodEnv } from '../pods/support.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const podEnv = usePodEnv(undefined, { logServerAddress: '127.0.0.1:0' });

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `shopfloor logs ...` as a user runs it, against the suite's devcluster. */
function startCli(env: PodEnv, args: string[]): { child: ChildProcess; out: () => string; done: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'logs', '--kubeconfig', env.cluster.kubeconfigPath, '-n', NAMESPACE, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((res) => child.on('close', (code) => res({ code: code ?? -1, stdout, stderr })));
  return { child, out: () => stdout, done };
}

const logs = (env: PodEnv, ...args: string[]): Promise<Run> => startCli(env, args).done;

async function endpointOf(env: PodEnv): Promise<LogServerEndpoint> {
  return eventually('the NodeAgent to announce its log server', async () => (await env.client.get<NodeAgent>(NODE_AGENTS, env.agent.nodeName)).status?.daemonEndpoints?.logServer);
}

/** A plain HTTPS GET to the log server, pinning its CA. */
function getLog(ep: LogServerEndpoint, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: ep.address, port: ep.port, path, ca: Buffer.from(ep.caBundle, 'base64'), headers: token ? { Authorization: `Bearer ${token}` } : {} }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

const lines = (text: string): string[] => text.split('\n').filter(Boolean);

describe('shopfloor logs', () => {
  it('prints a container\'s lines, the last N with --tail, and a second container\'s with -c', async () => {
    const env = podEnv();
    const name = uniqueName('echo');
    await assign(env, name, {
      containers: [
        { name: 'app', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line-$i; done; sleep 0.5; echo oops >&2; exec sleep 3600'] },
        { name: 'side', image: BUSYBOX_IMAGE, command: ['sh', '-c', 'echo side-line; exec sleep 3600'] },
      ],
      terminationGracePeriodSeconds: 1,
    });
    await untilRunning(env, name, { ready: false });
    await endpointOf(env);
    // stdout and stderr reach the file through two pipes: the pause orders them.
    const all = await eventually('all six lines', async () => {
      const r = await logs(env, `na/${name}`);
      return lines(r.stdout).length === 6 && r;
    });
    expect(all.code).toBe(0);
    expect(lines(all.stdout)).toEqual(['line-1', 'line-2', 'line-3', 'line-4', 'line-5', 'oops']);
    expect(all.stderr).toContain('Defaulted container "app" out of: app, side');
    expect(lines((await logs(env, name, '--tail', '2')).stdout)).toEqual(['line-5', 'oops']);
    expect((await logs(env, name, '-c', 'side')).stdout).toBe('side-line\n');
    const stamped = lines((await logs(env, name, '--tail', '1', '--timestamps')).stdout);
    expect(stamped[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z oops$/);
    expect(lines((await logs(env, name, '--since', '1h', '--tail', '1')).stdout)).toEqual(['oops']);
  }, 90_000);

  it('follows new lines with -f until the container stops, and reads a workload through one of its replicas', async () => {
    const env = podEnv();
    const name = uniqueName('follow');
    await env.client.create(NODE_WORKLOADS, {
      apiVersion: 'shopfloor.dev/v1alpha1',
      kind: 'NodeWorkload',
      metadata: { name, namespace: NAMESPACE, labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE } },
      spec: { placement: { mode: 'Replicas', replicas: 1 }, template: { containers: [{ name: 'app', image: BUSYBOX_IMAGE }] } },
    } as never, { namespace: NAMESPACE });
    // The container prints whatever the test leaves in /tmp/say, so the test decides when a line comes.
    const speaker = 'echo first; while true; do if [ -f /tmp/say ]; then cat /tmp/say; rm /tmp/say; fi; sleep 0.2; done';
    await assign(env, name, { containers: [{ name: 'app', image: BUSYBOX_IMAGE, command: ['sh', '-c', speaker] }], terminationGracePeriodSeconds: 1 });
    const status = await untilRunning(env, name, { ready: false });
    await endpointOf(env);
    const follow = startCli(env, [`nw/${name}`, '-f']);
    try {
      await eventually('the first line', () => follow.out() === 'first\n');
      const say = (line: string): Promise<string> => execIn(env, containerId(status, 'app'), ['sh', '-c', `echo ${line} > /tmp/say.new && mv /tmp/say.new /tmp/say`]);
      await say('second');
      await eventually('the line written after the follow began', () => follow.out() === 'first\nsecond\n');
      await say('third');
      await eventually('another one', () => follow.out() === 'first\nsecond\nthird\n');
      // The follow ends by itself once the container is gone.
      await removeAssignment(env, name);
      expect(await follow.done).toEqual({ code: 0, stdout: 'first\nsecond\nthird\n', stderr: '' });
    } finally {
      follow.child.kill('SIGTERM');
      await follow.done;
    }
  }, 90_000);

  it('reads the previous instance with --previous after a restart', async () => {
    const env = podEnv();
    const name = uniqueName('prev');
    // Each instance counts itself in an emptyDir; a failed liveness probe restarts it at once.
    await assign(env, name, {
      containers: [{
        name: 'app',
        image: BUSYBOX_IMAGE,
        command: ['sh', '-c', 'n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo run-$n; touch /tmp/alive; exec sleep 3600'],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        livenessProbe: { exec: { command: ['test', '-f', '/tmp/alive'] }, periodSeconds: 1, failureThreshold: 1 },
      }],
      volumes: [{ name: 'data', emptyDir: {} }],
      terminationGracePeriodSeconds: 1,
    });
    const before = await untilRunning(env, name, { ready: false });
    await endpointOf(env);
    const none = await logs(env, name, '--previous');
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`previous terminated container "app" in assignment ${NAMESPACE}/${name} not found`);
    await execIn(env, containerId(before, 'app'), ['rm', '/tmp/alive']);
    await eventually('the restarted instance running', async () => {
      const s = await statusOf(env, name);
      return (s?.containers?.[0]?.restartCount ?? 0) >= 1 && s?.containers?.[0]?.state === 'Running';
    }, 60_000);
    expect((await eventually('the new instance\'s line', async () => {
      const r = await logs(env, name);
      return r.stdout === 'run-2\n' && r;
    })).code).toBe(0);
    expect((await logs(env, name, '-p')).stdout).toBe('run-1\n');
  }, 120_000);

  it('says what is missing: the object, a replica, the container, or an agent that does not serve logs', async () => {
    const env = podEnv();
    const missing = await logs(env, 'nope');
    expect([missing.code, missing.stderr]).toEqual([1, `shopfloor logs: no NodeAssignment or NodeWorkload "nope" in namespace ${NAMESPACE}\n`]);
    expect((await logs(env, 'nw/nope')).stderr).toContain('no NodeWorkload "nope" in namespace');

    const empty = uniqueName('empty');
    await env.client.create(NODE_WORKLOADS, {
      apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name: empty, namespace: NAMESPACE },
      spec: { placement: { mode: 'Replicas', replicas: 1 }, template: { containers: [{ name: 'app', image: BUSYBOX_IMAGE }] } },
    } as never, { namespace: NAMESPACE });
    expect((await logs(env, `nw/${empty}`)).stderr).toContain(`NodeWorkload ${NAMESPACE}/${empty} has no replica yet`);

    const two = uniqueName('two');
    await assign(env, two, { containers: [{ name: 'app', image: BUSYBOX_IMAGE, command: ['sleep', '3600'] }, { name: 'side', image: BUSYBOX_IMAGE, command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 1 });
    expect((await logs(env, two, '-c', 'db')).stderr).toContain(`container "db" is not in NodeAssignment ${NAMESPACE}/${two}; its containers: app, side`);

    // An assignment on a node whose agent announces no log server.
    const ghost = uniqueName('ghost-node');
    await env.client.create(NODE_AGENTS, { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeAgent', metadata: { name: ghost } } as never);
    const stray = uniqueName('stray');
    await env.client.create(
      NODE_ASSIGNMENTS,
      { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeAssignment', metadata: { name: stray, namespace: NAMESPACE }, spec: { nodeName: ghost, workloadRef: { name: stray }, revision: 'r1', template: { containers: [{ name: 'app', image: BUSYBOX_IMAGE }] } } } as never,
      { namespace: NAMESPACE },
    );
    expect((await logs(env, `na/${stray}`)).stderr).toContain(`the agent of node ${ghost} does not announce a log server`);
  }, 90_000);

  it('the log server answers 401 without a token or with a forged one, and 404 for what it does not serve', async () => {
    const env = podEnv();
    const ep = await endpointOf(env);
    expect((await getLog(ep, '/containerLogs/default/anything/app')).status).toBe(401);
    expect((await getLog(ep, '/containerLogs/default/anything/app', 'forged')).status).toBe(401);
    expect(await getLog(ep, '/containerLogs/default/anything/app', env.cluster.token)).toEqual({ status: 404, body: 'assignment default/anything does not run on this node\n' });
    expect((await getLog(ep, '/configz', env.cluster.token)).status).toBe(404);
  });

  it('asks the API server\'s reviews once per verdict: the administrator is allowed, anyone else denied', async () => {
    const env = podEnv();
    const registry = new Registry();
    const reviewer = new WebhookReviewer({ client: new KubeClient(env.cluster.kubeConfig, { registry }), clock: systemClock });
    const admin = await reviewer.authenticate(env.cluster.token);
    expect(admin).toEqual({ username: 'shopfloor-admin', uid: 'shopfloor-admin', groups: ['system:masters', 'system:authenticated'] });
    await reviewer.authenticate(env.cluster.token);
    expect(await reviewer.authenticate('forged')).toBeUndefined();
    expect(await reviewer.authorize(admin!, logAttributes(NAMESPACE, 'web-0'))).toMatchObject({ allowed: true });
    const denied = await reviewer.authorize({ username: 'alice', groups: ['system:authenticated'] }, logAttributes(NAMESPACE, 'web-0'));
    expect(denied.allowed).toBe(false);
    // The reason is the API server's own, as kubectl gets it: the devcluster names its one
    // identity, kube-apiserver's RBAC gives none.
    const review = `apiVersion: authorization.k8s.io/v1\nkind: SubjectAccessReview\nspec: ${JSON.stringify({ user: 'alice', groups: ['system:authenticated'], resourceAttributes: logAttributes(NAMESPACE, 'web-0') })}\n`;
    const asked = await env.cluster.kubectl(['create', '-f', '-', '-o', 'json'], { input: review });
    expect(asked).toMatchObject({ code: 0, stderr: '' });
    expect(denied.reason).toBe((JSON.parse(asked.stdout) as { status: { reason?: string } }).status.reason ?? '');
    await reviewer.authorize({ username: 'alice', groups: ['system:authenticated'] }, logAttributes(NAMESPACE, 'web-0'));
    const posts = await registry.getSingleMetricAsString('rest_client_requests_total');
    expect(posts).toMatch(/rest_client_requests_total\{code="201",method="POST"\} 4/);
  });
});
