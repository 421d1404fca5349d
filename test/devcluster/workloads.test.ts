import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { eventually, notYet } from '../harness/eventually.js';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';

// Deployments, DaemonSets and Services through kubectl, on the devcluster (which stores them and
// runs no controller) and on kube-apiserver alike: the defaults a write gives them, the columns
// kubectl prints, what is refused and how it is worded, and apply and patch of their keyed lists.
// On kube-apiserver the controllers run, so what the tests read of status holds on both: the
// answer of the write itself, or counts that no controller can change here (no pod gets ready).

const NS = 'workloads';

interface Workload {
  metadata: { generation?: number; annotations?: Record<string, string> };
  spec: Record<string, unknown> & { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
  status: unknown;
}

const deployment = (name: string, container: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: NS },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }], ...container }] } } },
});
const daemonSet = (name: string): Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: NS },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'agent', image: 'busybox:1.36' }] } } },
});
const service = (name: string, spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec });

describe(`Deployments, DaemonSets and Services on ${testApiServer()}`, () => {
  let c: TestCluster;
  const ok = async (args: string[], input?: unknown): Promise<string> => {
    const r = await c.kubectl(args, input === undefined ? {} : { input: typeof input === 'string' ? input : JSON.stringify(input) });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  const refused = async (args: string[], input?: unknown): Promise<string> => {
    const r = await c.kubectl(args, input === undefined ? {} : { input: JSON.stringify(input) });
    expect(r.code).not.toBe(0);
    return r.stderr;
  };
  const json = async <T>(args: string[], input?: unknown): Promise<T> => JSON.parse(await ok([...args, '-o', 'json'], input)) as T;

  beforeAll(async () => {
    c = await startTestCluster();
    await ok(['create', 'namespace', NS]);
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('creates a Deployment with the defaults kube-apiserver gives it and its pod template, and an empty status', async () => {
    const d = await json<Workload>(['create', '-f', '-'], deployment('web', { livenessProbe: { httpGet: { port: 80 } } }));
    expect(d.metadata.generation).toBe(1);
    expect(d.status).toEqual({});
    const { template, ...spec } = d.spec;
    expect(spec).toEqual({ replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, selector: { matchLabels: { app: 'web' } }, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } });
    const { containers, ...pod } = template.spec;
    expect(pod).toEqual({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler', terminationGracePeriodSeconds: 30, securityContext: {} });
    expect(containers).toEqual([{
      name: 'web', image: 'nginx', imagePullPolicy: 'Always', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      livenessProbe: { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
    }]);
  });

  it('creates a DaemonSet with its update strategy, template generation and zero counts', async () => {
    const ds = await json<Workload>(['create', '-f', '-'], daemonSet('agent'));
    expect(ds.metadata.annotations).toEqual({ 'deprecated.daemonset.template.generation': '1' });
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(ds.spec.revisionHistoryLimit).toBe(10);
    expect(ds.spec.template.spec.containers[0]).toMatchObject({ imagePullPolicy: 'IfNotPresent' });
    expect(ds.status).toEqual({ currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 });
  });

  it('bumps a Deployment generation on annotations and spec, a DaemonSet only on spec, counting its template changes', async () => {
    expect(await ok(['annotate', 'deployment', 'web', '-n', NS, 'note=a', '-o', 'jsonpath={.metadata.generation}'])).toBe('2');
    expect(await ok(['annotate', 'daemonset', 'agent', '-n', NS, 'note=a', '-o', 'jsonpath={.metadata.generation}'])).toBe('1');
    const image = JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'agent', image: 'busybox:1.37' }] } } } });
    const changed = await json<Workload>(['patch', 'daemonset', 'agent', '-n', NS, '-p', image]);
    expect([changed.metadata.generation, changed.metadata.annotations]).toEqual([2, { note: 'a', 'deprecated.daemonset.template.generation': '2' }]);
    const spec = await json<Workload>(['patch', 'daemonset', 'agent', '-n', NS, '--type=merge', '-p', '{"spec":{"minReadySeconds":5}}']);
    expect([spec.metadata.generation, spec.metadata.annotations?.['deprecated.daemonset.template.generation']]).toEqual([3, '2']);
  });

  it('creates Services with a cluster IP from the service range, headless and ExternalName ones without', async () => {
    const s = await json<{ spec: Record<string, unknown>; status: unknown; metadata: Record<string, unknown> }>(['create', '-f', '-'], service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP' }] }));
    const ip = s.spec.clusterIP;
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(s.spec).toEqual({
      type: 'ClusterIP', clusterIP: ip, clusterIPs: [ip], sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }],
    });
    expect(s.status).toEqual({ loadBalancer: {} });
    expect(s.metadata.generation).toBeUndefined();
    const headless = await json<{ spec: Record<string, unknown> }>(['create', '-f', '-'], service('peers', { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 80 }] }));
    expect([headless.spec.clusterIP, headless.spec.clusterIPs]).toEqual(['None', ['None']]);
    const external = await json<{ spec: Record<string, unknown> }>(['create', '-f', '-'], service('upstream', { type: 'ExternalName', externalName: 'example.com' }));
    expect(external.spec).toEqual({ type: 'ExternalName', externalName: 'example.com', sessionAffinity: 'None' });
  });

  it('refuses a taken or outside cluster IP, and a changed one; a replace that leaves it out keeps it', async () => {
    const ip = await ok(['get', 'service', 'web', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}']);
    expect(await refused(['create', '-f', '-'], service('twin', { clusterIP: ip, ports: [{ port: 80 }] }))).toContain(`The Service "twin" is invalid: spec.clusterIPs: Invalid value: ["${ip}"]: failed to allocate IP ${ip}: provided IP is already allocated`);
    expect(await refused(['create', '-f', '-'], service('far', { clusterIP: '192.0.2.1', ports: [{ port: 80 }] }))).toContain('The Service "far" is invalid: spec.clusterIPs: Invalid value: ["192.0.2.1"]: failed to allocate IP 192.0.2.1: the provided network does not match the current range');
    const next = ip.replace(/\d+$/, (n) => String(Number(n) + 1));
    expect(await refused(['patch', 'service', 'web', '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { clusterIP: next } })])).toContain(`The Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["${next}"]: may not change once set`);
    expect(await ok(['replace', '-f', '-', '-o', 'jsonpath={.spec.clusterIP}'], service('web', { selector: { app: 'web' }, ports: [{ port: 81 }] }))).toBe(ip);
  });

  it('gives a requested cluster IP once it is free', async () => {
    const ip = await ok(['get', 'service', 'web', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}']);
    await ok(['delete', 'service', 'web', '-n', NS]);
    await eventually(`a Service created with the freed clusterIP ${ip}`, async () => {
      const r = await c.kubectl(['create', '-f', '-', '-o', 'jsonpath={.spec.clusterIP}'], { input: JSON.stringify(service('web', { clusterIP: ip, selector: { app: 'web' }, ports: [{ port: 80 }] })) });
      return r.stdout === ip || notYet(r.stderr);
    });
  });

  it('refuses workloads whose selector does not match their template, or changes, and Service ports out of range, as kube-apiserver words it', async () => {
    const { selector: _s, ...noSelector } = (deployment('lost') as { spec: Record<string, unknown> }).spec;
    expect(await refused(['create', '-f', '-'], { ...deployment('lost'), spec: noSelector })).toContain('The Deployment "lost" is invalid: \n* spec.selector: Required value\n* spec.template.metadata.labels: Invalid value: {"app":"lost"}: `selector` does not match template `labels`');
    const mismatched = daemonSet('odd') as { spec: { selector: unknown } };
    expect(await refused(['create', '-f', '-'], { ...mismatched, spec: { ...mismatched.spec, selector: { matchLabels: { app: 'other' } } } })).toContain('The DaemonSet "odd" is invalid: spec.template.metadata.labels: Invalid value: {"app":"odd"}: `selector` does not match template `labels`');
    const patch = JSON.stringify({ spec: { selector: { matchLabels: { app: 'web', tier: 'x' } }, template: { metadata: { labels: { tier: 'x' } } } } });
    expect(await refused(['patch', 'deployment', 'web', '-n', NS, '--type=merge', '-p', patch])).toContain('The Deployment "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"x"}}: field is immutable');
    expect(await refused(['create', '-f', '-'], service('wide', { ports: [{ name: 'a', port: 0 }, { name: 'b', port: 70000, targetPort: 80 }] }))).toContain('The Service "wide" is invalid: \n* spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive\n* spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive\n* spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive');
  });

  it('prints the columns kubectl shows for each kind, with -o wide too', async () => {
    const out = await ok(['get', 'deployments,daemonsets,services', '-n', NS, '-o', 'wide']);
    expect(out).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    // No pod gets ready on either server (no kubelet), so READY and AVAILABLE stay 0.
    expect(out).toMatch(/\ndeployment\.apps\/web\s+0\/1\s+\d+\s+0\s+\d+s\s+web\s+nginx\s+app=web\n/);
    expect(out).toMatch(/\nNAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    expect(out).toMatch(/\ndaemonset\.apps\/agent\s+0\s+0\s+0\s+0\s+0\s+kubernetes\.io\/os=linux\s+\d+s\s+agent\s+busybox:1\.37\s+app=agent\n/);
    expect(out).toMatch(/\nNAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR\n/);
    expect(out).toMatch(/\nservice\/peers\s+ClusterIP\s+None\s+<none>\s+80\/TCP\s+\d+s\s+app=web\n/);
    expect(out).toMatch(/\nservice\/upstream\s+ExternalName\s+<none>\s+example\.com\s+<none>\s+\d+s\s+<none>\n/);
    expect(await ok(['get', 'all', '-n', NS, '-o', 'name'])).toEqual(expect.stringContaining('deployment.apps/web'));
    expect(await ok(['explain', 'deployment.spec.replicas'])).toMatch(/FIELD: replicas <integer>/);
  });

  it('applies client-side twice: a removed env var goes, an added port joins by key, another manager\'s field stays', async () => {
    const first = deployment('api', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] });
    expect(await ok(['apply', '-f', '-'], stringify(first))).toContain('deployment.apps/api created');
    await ok(['patch', 'deployment', 'api', '-n', NS, '-p', JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'web', volumeMounts: [{ name: 'cache', mountPath: '/cache' }] }], volumes: [{ name: 'cache', emptyDir: {} }] } } } })]);
    const second = deployment('api', { env: [{ name: 'B', value: '3' }], ports: [{ containerPort: 80 }, { containerPort: 81, protocol: 'UDP' }] });
    expect(await ok(['apply', '-f', '-'], stringify(second))).toContain('deployment.apps/api configured');
    const got = await json<Workload>(['get', 'deployment', 'api', '-n', NS]);
    expect(got.spec.template.spec.containers[0]).toMatchObject({ env: [{ name: 'B', value: '3' }], ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 81, protocol: 'UDP' }], volumeMounts: [{ name: 'cache', mountPath: '/cache' }] });
    expect(got.spec.template.spec.volumes).toEqual([{ name: 'cache', emptyDir: {} }]);
  });

  it('applies server-side: keyed lists merge per item, and Service ports are keyed by port and protocol', async () => {
    const svc = service('dns', { selector: { app: 'dns' }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] });
    expect(await ok(['apply', '--server-side', '--field-manager=one', '-f', '-'], stringify(svc))).toContain('service/dns serverside-applied');
    const tcp = service('dns', { ports: [{ name: 'dns-tcp', port: 53 }] });
    expect(await ok(['apply', '--server-side', '--field-manager=two', '-f', '-'], stringify(tcp))).toContain('service/dns serverside-applied');
    const got = await json<{ spec: { ports: { port: number; protocol: string; name: string }[]; selector: unknown } }>(['get', 'service', 'dns', '-n', NS]);
    expect(got.spec.ports.map((p) => `${p.name} ${p.port}/${p.protocol}`)).toEqual(['dns 53/UDP', 'dns-tcp 53/TCP']);
    expect(got.spec.selector).toEqual({ app: 'dns' });
    expect(await ok(['apply', '--server-side', '--field-manager=one', '-f', '-'], stringify(deployment('ssa', { env: [{ name: 'A', value: '1' }] })))).toContain('deployment.apps/ssa serverside-applied');
    // Another manager's apply of one env var of the same container: the item joins, A stays A's.
    const env = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ssa', namespace: NS }, spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'C', value: '4' }] }] } } } };
    expect(await ok(['apply', '--server-side', '--field-manager=two', '-f', '-'], stringify(env))).toContain('deployment.apps/ssa serverside-applied');
    const d = await json<Workload>(['get', 'deployment', 'ssa', '-n', NS]);
    expect(d.spec.template.spec.containers).toHaveLength(1);
    expect((d.spec.template.spec.containers[0]?.env as { name: string }[]).map((e) => e.name)).toEqual(['A', 'C']);
  });
});
