// `helm install`, `helm upgrade` and `helm uninstall` of the chart (the built helm) against the
// devcluster or kube-apiserver: the release's objects appear, change and go, and the CRDs stay.
// On kube-apiserver the real RBAC authorizer also lets each ServiceAccount do exactly what
// api-access.ts grants. Pods never run (there is no kubelet); what a user sees of the release
// in the API is what is checked.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../kube/client.js';
import { createProcessRegistry } from '../../kube/metrics.js';
import { runOperator } from '../../operator/index.js';
import type { NodeWorkloadObject } from '../../operator/objects.js';
import type { FloorSnapshot } from '../../operator/floor/floor-view.js';
import { eventually, notYet } from '../harness/eventually.js';
import { itOnKubeApiserver } from '../harness/kube-apiserver-only.js';
import { condition, workloadYaml } from '../operator/support.js';
import { SimulatedAgents } from '../sim/simulated-agents.js';
import { startTestCluster, type TestCluster } from '../harness/test-cluster.js';
import { API_ACCESS, type Access } from './api-access.js';
import { CHART_DIR, DEFAULTS, IPTABLES_MODE, LOG_SERVER_OFF, NAMESPACE, RELEASE, helm, render, valueFlags, type RenderedObject } from './chart.js';

/** Why what the ServiceAccounts may do is asked of kube-apiserver only. */
const RBAC_NOT_ENFORCED = 'the devcluster stores RBAC objects without enforcing them: every token is an administrator';
/** Why the operator runs with its ServiceAccount's token on kube-apiserver only. */
const NO_SERVICE_ACCOUNT_TOKENS = 'the devcluster issues no ServiceAccount tokens (kubectl create token) and enforces no RBAC';

/** Every verb RBAC knows for a resource; what api-access.ts does not grant must be refused. */
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

const refOf = (o: RenderedObject): string[] => [`${o.kind}.${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}`.replace(/\.$/, ''), o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : [])];

describe('a Helm release of the chart', () => {
  let cluster: TestCluster;
  let helmHome: string;
  const release = (args: string[]) => helm([...args, '--kubeconfig', cluster.kubeconfigPath], { HELM_CACHE_HOME: join(helmHome, 'cache'), HELM_CONFIG_HOME: join(helmHome, 'config'), HELM_DATA_HOME: join(helmHome, 'data') });
  const jsonOf = async (args: string[]): Promise<unknown> => {
    const r = await cluster.kubectl([...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  /**
   * What kube-apiserver's RBAC authorizer answers a component's ServiceAccount, asked with one
   * SubjectAccessReview per check (all created by one kubectl).
   */
  async function allowed(component: string, checks: ReadonlyArray<{ verb: string; resource: string; group: string; namespace: string }>): Promise<boolean[]> {
    const user = `system:serviceaccount:${NAMESPACE}:${RELEASE}-${component}`;
    const items = checks.map((c) => {
      const [resource, subresource] = c.resource.split('/');
      return {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user, groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'], resourceAttributes: { namespace: c.namespace, verb: c.verb, group: c.group, resource, ...(subresource ? { subresource } : {}) } },
      };
    });
    // kubectl prints each review's answer in the order given.
    const r = await cluster.kubectl(['create', '-f', '-', '-o', 'jsonpath={.status.allowed}{"\\n"}'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }) });
    if (r.code !== 0) throw new Error(`SubjectAccessReviews for ${user}: ${r.stderr}`);
    const answers = r.stdout.trim().split('\n').map((a) => a === 'true');
    expect(answers).toHaveLength(checks.length);
    return answers;
  }

  /** Every verb on every resource of api-access.ts, as the authorizer answers and as `granted` says. */
  async function authorizerAnswers(component: keyof typeof API_ACCESS, granted: (a: Access) => boolean): Promise<{ got: string[]; want: string[] }> {
    const checks = API_ACCESS[component].access.flatMap((a) =>
      VERBS.flatMap((verb) =>
        // A namespace-scoped grant holds in the Shopfloor namespace and nowhere else.
        [NAMESPACE, 'default'].map((namespace) => ({ verb, resource: a.resource, group: a.group, namespace, expected: granted(a) && a.verbs.includes(verb) && (a.scope === 'cluster' || namespace === NAMESPACE) })),
      ),
    );
    const answers = await allowed(component, checks);
    const key = (c: (typeof checks)[number]) => `${c.verb} ${c.resource}.${c.group || 'core'} in ${c.namespace}`;
    return { got: checks.filter((_, i) => answers[i]).map(key), want: checks.filter((c) => c.expected).map(key) };
  }

  beforeAll(async () => {
    helmHome = mkdtempSync(join(tmpdir(), 'shopfloor-helm-'));
    cluster = await startTestCluster();
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    if (helmHome) rmSync(helmHome, { recursive: true, force: true });
  });

  it('installs: the CRDs are Established and every object of the chart is there, owned by the release', async () => {
    const r = await release(['install', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--create-namespace']);
    if (r.code !== 0) throw new Error(`helm install failed: ${r.stderr}`);
    expect(r.stdout).toContain('STATUS: deployed');
    expect(r.stdout).toContain('kubectl get nodeagents');
    const established = await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/nodeworkloads.shopfloor.dev', 'crd/nodeassignments.shopfloor.dev', 'crd/nodeagents.shopfloor.dev']);
    if (established.code !== 0) throw new Error(established.stderr);
    for (const o of await render(DEFAULTS)) {
      const got = (await jsonOf(['get', ...refOf(o)])) as RenderedObject;
      expect([o.kind, got.metadata.annotations?.['meta.helm.sh/release-name'], got.metadata.labels?.['app.kubernetes.io/managed-by']]).toEqual([o.kind, RELEASE, 'Helm']);
    }
    const list = JSON.parse((await release(['list', '--namespace', NAMESPACE, '--output', 'json'])).stdout) as Array<{ name: string; status: string; revision: string }>;
    expect(list.map((l) => [l.name, l.status, l.revision])).toEqual([[RELEASE, 'deployed', '1']]);
  });

  itOnKubeApiserver(RBAC_NOT_ENFORCED, "lets each ServiceAccount do exactly what api-access.ts grants, as kube-apiserver's RBAC authorizer answers", async () => {
    for (const component of ['operator', 'agent'] as const) {
      const { got, want } = await authorizerAnswers(component, () => true);
      expect([component, got]).toEqual([component, want]);
    }
  }, 120_000);

  itOnKubeApiserver(NO_SERVICE_ACCOUNT_TOKENS, "runs the operator with its ServiceAccount's token and nothing more: it leads, gives a workload a VIP and a replica, reviews the tokens of its floor, finalizes the workload, and no call is refused", async () => {
    const token = await cluster.kubectl(['create', 'token', `${RELEASE}-operator`, '--namespace', NAMESPACE, '--duration=10m']);
    if (token.code !== 0) throw new Error(token.stderr);
    const server = cluster.kubeConfig.getCurrentCluster()!;
    const asOperator = new KubeConfig();
    asOperator.loadFromOptions({ clusters: [server], users: [{ name: 'operator', token: token.stdout.trim() }], contexts: [{ name: 'operator', cluster: server.name, user: 'operator' }], currentContext: 'operator' });
    // A node for it to place on, registered with the administrator's credentials.
    const agents = new SimulatedAgents({ client: new KubeClient(cluster.kubeConfig), namespace: NAMESPACE });
    const registry = createProcessRegistry();
    // The floor off loopback, as the chart runs it: its tokens are reviewed with the operator's own.
    const op = await runOperator({ kubeConfig: asOperator, namespace: NAMESPACE, leaderElect: true, metricsAddress: false, floorAddress: '0.0.0.0:0', registry });
    try {
      await agents.add([{ name: 'node-a' }]);
      const applied = await cluster.kubectl(['apply', '-f', '-'], { input: workloadYaml('default', 'web', { service: true }) });
      if (applied.code !== 0) throw new Error(applied.stderr);
      await eventually('the workload Ready with a VIP, its replica on node-a', async () => {
        const wl = (await jsonOf(['get', 'nw', 'web', '-n', 'default'])) as NodeWorkloadObject;
        const nodes = ((await jsonOf(['get', 'na', '-n', 'default', '-l', 'shopfloor.dev/workload=web'])) as { items: Array<{ spec: { nodeName: string } }> }).items.map((a) => a.spec.nodeName);
        return (condition(wl, 'Ready')?.status === 'True' && wl.status?.clusterIP && nodes.join() === 'node-a') || notYet(JSON.stringify({ ready: condition(wl, 'Ready'), clusterIP: wl.status?.clusterIP, nodes }));
      });
      expect(op.isLeader()).toBe(true);
      const snapshotUrl = `http://127.0.0.1:${new URL(op.floorUrl!).port}/floor/snapshot`;
      const asAdmin = await fetch(snapshotUrl, { headers: { Authorization: `Bearer ${cluster.token}` } });
      expect(asAdmin.status).toBe(200);
      expect(((await asAdmin.json()) as FloorSnapshot).items.filter((i) => i.kind === 'node').map((i) => i.key)).toEqual(['node-a']);
      const created = await cluster.kubectl(['create', 'serviceaccount', 'floor-nobody', '--namespace', NAMESPACE]);
      const nobody = await cluster.kubectl(['create', 'token', 'floor-nobody', '--namespace', NAMESPACE, '--duration=10m']);
      if (created.code !== 0 || nobody.code !== 0) throw new Error(created.stderr + nobody.stderr);
      const asNobody = await fetch(snapshotUrl, { headers: { Authorization: `Bearer ${nobody.stdout.trim()}` } });
      expect([asNobody.status, await asNobody.text()]).toEqual([403, expect.stringMatching(new RegExp(`^Forbidden \\(user=system:serviceaccount:${NAMESPACE}:floor-nobody, verb=list, resource=nodeworkloads\\)`))]);
      const deleted = await cluster.kubectl(['delete', 'nw', 'web', '-n', 'default', '--wait=true', '--timeout=60s']);
      if (deleted.code !== 0) throw new Error(deleted.stderr);
    } finally {
      await op.stop();
      await agents.stop();
    }
    const answers = (await registry.getSingleMetric('rest_client_requests_total')!.get()).values.filter((v) => v.value > 0).map((v) => `${v.labels['method']} ${v.labels['code']}`);
    expect(answers.filter((a) => /\b(401|403)$/.test(a))).toEqual([]);
    expect(answers).toEqual(expect.arrayContaining(['GET 200', 'POST 201', 'PATCH 200']));
  }, 120_000);

  it('upgrades: new values change the Deployment and the DaemonSet in place', async () => {
    const before = (await jsonOf(['get', 'daemonset', `${RELEASE}-agent`, '-n', NAMESPACE])) as { metadata: { uid: string } };
    const values = { ...IPTABLES_MODE.values, ...LOG_SERVER_OFF.values, 'operator.replicas': 3 };
    const r = await release(['upgrade', RELEASE, CHART_DIR, '--namespace', NAMESPACE, ...valueFlags({ name: 'upgrade', values })]);
    if (r.code !== 0) throw new Error(`helm upgrade failed: ${r.stderr}`);
    expect(r.stdout).toContain('REVISION: 2');
    const deployment = (await jsonOf(['get', 'deployment', `${RELEASE}-operator`, '-n', NAMESPACE])) as { spec: { replicas: number } };
    expect(deployment.spec.replicas).toBe(3);
    const ds = (await jsonOf(['get', 'daemonset', `${RELEASE}-agent`, '-n', NAMESPACE])) as { metadata: { uid: string }; spec: { template: { spec: { containers: Array<{ args: string[] }>; volumes: Array<{ name: string }> } } } };
    expect(ds.metadata.uid).toBe(before.metadata.uid);
    expect(ds.spec.template.spec.containers[0]!.args).toEqual(expect.arrayContaining(['--proxy-mode=iptables', '--log-server-address=off']));
    expect(ds.spec.template.spec.volumes.map((v) => v.name)).toContain('xtables-lock');
  }, 120_000);

  itOnKubeApiserver(RBAC_NOT_ENFORCED, 'upgrades the RBAC in place: without the log server the agent may no longer review tokens', async () => {
    const { got, want } = await authorizerAnswers('agent', (a) => a.onlyWith !== 'agent.logServer.enabled');
    expect(got).toEqual(want);
    expect(await allowed('agent', [{ verb: 'create', resource: 'tokenreviews', group: 'authentication.k8s.io', namespace: '' }])).toEqual([false]);
  }, 120_000);

  it("uninstalls: the release's objects are gone, the CRDs stay", async () => {
    const r = await release(['uninstall', RELEASE, '--namespace', NAMESPACE, '--wait']);
    if (r.code !== 0) throw new Error(`helm uninstall failed: ${r.stderr}`);
    for (const o of await render(DEFAULTS)) {
      const got = await cluster.kubectl(['get', ...refOf(o)]);
      expect([o.kind, o.metadata.name, got.code, got.stderr]).toEqual([o.kind, o.metadata.name, 1, expect.stringContaining('NotFound')]);
    }
    const crds = (await jsonOf(['get', 'crd'])) as { items: Array<{ metadata: { name: string } }> };
    expect(crds.items.map((c) => c.metadata.name).sort()).toEqual(['nodeagents.shopfloor.dev', 'nodeassignments.shopfloor.dev', 'nodeworkloads.shopfloor.dev']);
    expect(JSON.parse((await release(['list', '--namespace', NAMESPACE, '--output', 'json'])).stdout)).toEqual([]);
  });
});
