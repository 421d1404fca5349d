// The chart as `helm lint --strict` and `helm template` see it (the real helm, no cluster): every
// value set lints and renders objects that fit their kinds' schemas; the operator and the agent
// get flags their binaries take, with the binaries' defaults; the agent mounts what its runtime
// needs and nothing more; the operator runs locked down.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IService } from 'kubernetes-models/v1/Service';
import { parse } from 'yaml';
import { DEFAULT_LOG_SERVER_ADDRESS } from '../../agent/logs/log-server.js';
import { containerdPaths } from '../../agent/runtime/containerd-config.js';
import { DEFAULT_DATA_DIR, DEFAULT_POD_CIDR, parseAgentFlags } from '../../cli/agent.js';
import { parseOperatorFlags } from '../../cli/operator.js';
import { POD_CIDR_ALLOCATED } from '../../agent/node/allocated-pod-cidr.js';
import { DEFAULT_NODE_CIDR_MASK_SIZE, EXAMPLE_CLUSTER_POD_CIDR, podCidrRange } from '../../operator/pod-cidr-plan.js';
import { DEFAULT_VIP_CIDR } from '../../operator/index.js';
import { repoRoot } from '../harness/kubectl.js';
import {
  CHART_DIR,
  DEFAULTS,
  EXISTING_SERVICE_ACCOUNTS,
  EXTERNAL_RUNTIME,
  FLOOR_INGRESS,
  FLOOR_OFF,
  IPTABLES_MODE,
  LOG_SERVER_OFF,
  NAMESPACE,
  RBAC_OFF,
  RELEASE,
  SERVICE_MONITOR_ON,
  SINGLE_OPERATOR,
  VALUE_SETS,
  helm,
  objectOf,
  parseObjects,
  render,
  template,
  valueFlags,
  type RenderedObject,
  type ValueSet,
} from './chart.js';
import { validateAgainstKindSchema } from './kind-schemas.js';

const byName = (sets: readonly ValueSet[]): Array<[string, ValueSet]> => sets.map((s) => [s.name, s]);

function operatorOf(objects: readonly RenderedObject[]): { deployment: IDeployment; container: IContainer } {
  const deployment = objectOf(objects, 'Deployment') as unknown as IDeployment;
  return { deployment, container: deployment.spec!.template.spec!.containers[0]! };
}

function agentOf(objects: readonly RenderedObject[]): { daemonSet: IDaemonSet; container: IContainer } {
  const daemonSet = objectOf(objects, 'DaemonSet') as unknown as IDaemonSet;
  return { daemonSet, container: daemonSet.spec!.template.spec!.containers[0]! };
}

/** The flags after the command name, as the binary parses them (the env the pod sets, resolved). */
function commandLine(c: IContainer, command: string, fieldRefs: Record<string, string>): { argv: string[]; env: Record<string, string> } {
  const [first, ...argv] = c.args ?? [];
  if (first !== command) throw new Error(`container ${c.name} runs "${first}", not the ${command} command`);
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.fieldRef?.fieldPath;
    const value = e.value ?? (ref ? fieldRefs[ref] : undefined);
    if (value === undefined) throw new Error(`container ${c.name}: env ${e.name} is neither a value nor a known field reference`);
    env[e.name] = value;
  }
  return { argv, env };
}

const operatorFlags = (c: IContainer, namespace = NAMESPACE) => {
  const { argv, env } = commandLine(c, 'operator', { 'metadata.namespace': namespace });
  return parseOperatorFlags(argv, env);
};
const agentFlags = (c: IContainer, namespace = NAMESPACE) => {
  const { argv, env } = commandLine(c, 'agent', { 'spec.nodeName': 'node-a', 'metadata.namespace': namespace });
  return parseAgentFlags(argv, env, { hostname: 'host-a', addresses: () => ['192.0.2.10'] });
};

/** The port number of a probe, resolving a named port of the container. */
function probePort(c: IContainer, probe: 'livenessProbe' | 'readinessProbe'): number {
  const port = c[probe]?.httpGet?.port;
  const found = typeof port === 'string' ? c.ports?.find((p) => p.name === port)?.containerPort : port;
  if (typeof found !== 'number') throw new Error(`container ${c.name}: ${probe} has no port`);
  return found;
}

const portOf = (address: string | false): number => (address === false ? NaN : Number(address.slice(address.lastIndexOf(':') + 1)));

/** The agent's host mounts: container path → host path, type and propagation. */
function hostMounts(ds: IDaemonSet): Record<string, { hostPath: string; type: string | undefined; propagation: string | undefined }> {
  const spec = ds.spec!.template.spec!;
  const mounts: Record<string, { hostPath: string; type: string | undefined; propagation: string | undefined }> = {};
  for (const m of spec.containers[0]!.volumeMounts ?? []) {
    const volume = spec.volumes?.find((v) => v.name === m.name);
    if (!volume?.hostPath) throw new Error(`volume ${m.name} is not a hostPath: the agent mounts only the host's paths`);
    mounts[m.mountPath] = { hostPath: volume.hostPath.path, type: volume.hostPath.type, propagation: m.mountPropagation };
  }
  expect(spec.volumes?.length).toBe(Object.keys(mounts).length);
  return mounts;
}

describe('charts/shopfloor', () => {
  it.each(['charts/shopfloor/crds', 'deploy/base/crds'])('%s holds the same CRDs as crds/ (npm run gen:crds writes all three)', (copy) => {
    const files = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
    expect(files(join(repoRoot, copy))).toEqual(files(join(repoRoot, 'crds')));
    for (const f of files(join(repoRoot, copy))) {
      if (readFileSync(join(repoRoot, copy, f), 'utf8') !== readFileSync(join(repoRoot, 'crds', f), 'utf8')) throw new Error(`${copy}/${f} differs from crds/${f}: run npm run gen:crds`);
    }
  });

  it("has Shopfloor's version as its version and appVersion", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const chart = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string };
    expect({ version: chart.version, appVersion: chart.appVersion }).toEqual({ version: pkg.version, appVersion: pkg.version });
  });

  // helm lint has no --api-versions: in lint mode `fail` (the ServiceMonitor kind's check) only
  // logs, so a value set's lint covers its templates whatever the cluster serves.
  it.each(byName(VALUE_SETS))('passes helm lint --strict with %s', async (_name, set) => {
    const r = await helm(['lint', '--strict', CHART_DIR, '--namespace', NAMESPACE, ...valueFlags(set)]);
    if (r.code !== 0) throw new Error(`helm lint --strict failed:\n${r.stdout}${r.stderr}`);
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it.each(byName(VALUE_SETS))("renders, with %s, objects that each fit their kind's schema, all in the chart's namespace", async (_name, set) => {
    const objects = await render(set, { includeCrds: true });
    expect(objects.filter((o) => o.kind === 'CustomResourceDefinition')).toHaveLength(3);
    for (const o of objects) {
      await validateAgainstKindSchema(o);
      const clusterScoped = ['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind);
      expect([o.kind, o.metadata.name, o.metadata.namespace]).toEqual([o.kind, o.metadata.name, clusterScoped ? undefined : NAMESPACE]);
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe(o.kind === 'CustomResourceDefinition' ? undefined : RELEASE);
    }
    const names = objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('installs into any namespace, and tells the operator and every agent which one it is', async () => {
    const r = await template(DEFAULTS, ['--namespace', 'edge-system']);
    if (r.code !== 0) throw new Error(r.stderr);
    const objects = parseObjects(r.stdout, 'helm template --namespace edge-system');
    for (const o of objects.filter((o) => o.metadata.namespace !== undefined)) expect([o.kind, o.metadata.name, o.metadata.namespace]).toEqual([o.kind, o.metadata.name, 'edge-system']);
    const bindings = objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') as Array<RenderedObject & { subjects: Array<{ namespace: string }> }>;
    expect(bindings.flatMap((b) => b.subjects.map((s) => s.namespace))).toEqual(bindings.flatMap((b) => b.subjects.map(() => 'edge-system')));
    // The Leases: the agents keep theirs where the operator looks for them.
    expect(operatorFlags(operatorOf(objects).container, 'edge-system').namespace).toBe('edge-system');
    expect(agentFlags(agentOf(objects).container, 'edge-system').namespace).toBe('edge-system');
  });

  it('prints NOTES that say what to do next', async () => {
    const r = await helm(['install', RELEASE, CHART_DIR, '--namespace', NAMESPACE, '--dry-run=client']);
    if (r.code !== 0) throw new Error(r.stderr);
    const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
    expect(notes).toContain('kubectl -n shopfloor-system rollout status deployment/shopfloor-operator');
    expect(notes).toContain('kubectl -n shopfloor-system rollout status daemonset/shopfloor-agent');
    expect(notes).toContain('kubectl get nodeagents');
    expect(notes).toContain('kubectl apply --server-side -f charts/shopfloor/crds/');
  });
});

describe('the operator Deployment', () => {
  it("passes flags the operator takes, with the binary's own defaults but metrics and floor addresses on the pod's IP and a cluster pod range", async () => {
    const { container } = operatorOf(await render(DEFAULTS));
    expect(operatorFlags(container)).toEqual({ ...parseOperatorFlags([], {}), namespace: NAMESPACE, metricsAddress: '0.0.0.0:8080', floorAddress: '0.0.0.0:8090', podCidrs: podCidrRange(EXAMPLE_CLUSTER_POD_CIDR, DEFAULT_NODE_CIDR_MASK_SIZE) });
    expect(operatorFlags(container).vipCidr).toBe(DEFAULT_VIP_CIDR);
  });

  it.each(byName(VALUE_SETS))('passes flags the operator accepts with %s', async (_name, set) => {
    const { container } = operatorOf(await render(set));
    expect(() => operatorFlags(container)).not.toThrow();
  });

  it('passes every value it has a flag for', async () => {
    const flags = operatorFlags(operatorOf(await render(SINGLE_OPERATOR)).container);
    expect(flags).toMatchObject({ vipCidr: '10.96.0.0/12', leaderElect: false, logLevel: 'debug', nodeLossGraceMs: 120_000, workers: 8 });
  });

  it('runs 2 replicas that elect a leader, probed on /healthz and /readyz where the metrics are', async () => {
    const { deployment, container } = operatorOf(await render(DEFAULTS));
    expect(deployment.spec!.replicas).toBe(2);
    expect(operatorFlags(container).leaderElect).toBe(true);
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    const port = portOf(operatorFlags(container).metricsAddress);
    expect([probePort(container, 'livenessProbe'), probePort(container, 'readinessProbe')]).toEqual([port, port]);
  });

  it('runs as non-root on a read-only root filesystem with no capabilities, its own ServiceAccount and resources', async () => {
    const objects = await render(DEFAULTS);
    const { deployment, container } = operatorOf(objects);
    const pod = deployment.spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.resources?.requests).toEqual({ cpu: '50m', memory: '128Mi' });
    expect(container.resources?.limits).toEqual({ memory: '512Mi' });
    expect(pod.serviceAccountName).toBe('shopfloor-operator');
    expect(objectOf(objects, 'ServiceAccount', '-operator').metadata.name).toBe('shopfloor-operator');
  });

  it('has a metrics Service whose selector and port reach its pods', async () => {
    const objects = await render(DEFAULTS);
    const { deployment, container } = operatorOf(objects);
    const service = objectOf(objects, 'Service', '-operator-metrics') as unknown as IService;
    expect(service.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
    expect(deployment.spec!.template.metadata!.labels).toMatchObject(service.spec!.selector!);
    expect(service.spec!.ports).toEqual([{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(container.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(portOf(operatorFlags(container).metricsAddress));
  });

  it('serves the floor through a Service of its own, behind an Ingress only when asked, and not at all when off', async () => {
    const objects = await render(DEFAULTS);
    const { deployment, container } = operatorOf(objects);
    const service = objectOf(objects, 'Service', '-operator-floor') as unknown as IService;
    expect(service.spec!.selector).toEqual(deployment.spec!.selector.matchLabels);
    expect(service.spec!.ports).toEqual([{ name: 'floor', port: 8090, targetPort: 'floor', protocol: 'TCP' }]);
    expect(container.ports?.find((p) => p.name === 'floor')?.containerPort).toBe(portOf(operatorFlags(container).floorAddress));
    expect(objects.filter((o) => o.kind === 'Ingress')).toEqual([]);

    const ingress = objectOf(await render(FLOOR_INGRESS), 'Ingress', '-operator-floor') as unknown as { spec: Record<string, unknown> };
    expect(ingress.spec).toEqual({
      ingressClassName: 'nginx',
      tls: [{ hosts: ['floor.example.com'], secretName: 'floor-tls' }],
      rules: [{ host: 'floor.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service.metadata!.name, port: { name: 'floor' } } } }] } }],
    });

    const off = await render(FLOOR_OFF);
    expect(operatorFlags(operatorOf(off).container).floorAddress).toBe(false);
    expect(off.filter((o) => o.metadata.name.endsWith('-floor'))).toEqual([]);
  });
});

describe('the agent DaemonSet', () => {
  it("passes flags the agent takes, with the binary's own defaults but metrics on the node's addresses and a pod range from the operator", async () => {
    const { container } = agentOf(await render(DEFAULTS));
    const defaults = parseAgentFlags([], { NODE_NAME: 'node-a' }, { hostname: 'host-a', addresses: () => ['192.0.2.10'] });
    expect(agentFlags(container)).toEqual({ ...defaults, podCIDR: POD_CIDR_ALLOCATED, metricsAddress: '0.0.0.0:10351', logServerAddress: `0.0.0.0:${portOf(DEFAULT_LOG_SERVER_ADDRESS)}` });
    expect(agentFlags(container)).toMatchObject({ dataDir: DEFAULT_DATA_DIR, proxyMode: 'nftables', runtime: { mode: 'managed' }, nodeName: 'node-a' });
  });

  it('refuses a pod range from the operator when the operator has no range to give, saying what to set', async () => {
    const r = await template({ name: 'no-cluster-range', values: { 'operator.clusterPodCIDR': '' } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('agent.podCIDR is allocated, but operator.clusterPodCIDR is empty, so no node would ever get a pod range');
    const single = await template({ name: 'one-node', values: { 'operator.clusterPodCIDR': '', 'agent.podCIDR': DEFAULT_POD_CIDR } });
    if (single.code !== 0) throw new Error(single.stderr);
    const objects = parseObjects(single.stdout, 'one-node');
    expect(agentFlags(agentOf(objects).container).podCIDR).toBe(DEFAULT_POD_CIDR);
    expect(operatorFlags(operatorOf(objects).container).podCidrs).toBeUndefined();
  });

  it.each(byName(VALUE_SETS))('passes flags the agent accepts with %s', async (_name, set) => {
    const { container } = agentOf(await render(set));
    expect(() => agentFlags(container)).not.toThrow();
  });

  it('passes the external runtime, iptables mode, log server and every other value to their flags', async () => {
    expect(agentFlags(agentOf(await render(EXTERNAL_RUNTIME)).container).runtime).toEqual({ mode: 'external', endpoint: 'unix:///run/containerd/containerd.sock' });
    expect(agentFlags(agentOf(await render(IPTABLES_MODE)).container).proxyMode).toBe('iptables');
    expect(agentFlags(agentOf(await render(LOG_SERVER_OFF)).container).logServerAddress).toBe(false);
    expect(agentFlags(agentOf(await render(SINGLE_OPERATOR)).container)).toMatchObject({ podCIDR: '10.88.0.0/16', dataDir: '/srv/shopfloor', podWorkers: 16, logLevel: 'debug' });
  });

  it('runs privileged on the host network on every node, rolling one node at a time, probed where the metrics are', async () => {
    const { daemonSet, container } = agentOf(await render(DEFAULTS));
    const pod = daemonSet.spec!.template.spec!;
    expect(pod.hostNetwork).toBe(true);
    // The managed runtime's containers must not die with the agent's PID namespace.
    expect(pod.hostPID).toBe(true);
    expect(agentOf(await render(EXTERNAL_RUNTIME)).daemonSet.spec!.template.spec!.hostPID).toBeUndefined();
    expect(container.securityContext?.privileged).toBe(true);
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.priorityClassName).toBe('system-node-critical');
    expect(daemonSet.spec!.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    expect(container.resources?.requests).toEqual({ cpu: '100m', memory: '256Mi' });
    expect(pod.serviceAccountName).toBe('shopfloor-agent');
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    const port = portOf(agentFlags(container).metricsAddress);
    expect([probePort(container, 'livenessProbe'), probePort(container, 'readinessProbe')]).toEqual([port, port]);
    expect(container.ports?.map((p) => [p.name, p.containerPort])).toEqual([['metrics', port], ['logs', portOf(agentFlags(container).logServerAddress)]]);
  });

  it('mounts, with the managed runtime, its data dir, the shims\' run dir, the cgroups and the CNI cache, and nothing more', async () => {
    const mounts = hostMounts(agentOf(await render(DEFAULTS)).daemonSet);
    expect(mounts).toEqual({
      [DEFAULT_DATA_DIR]: { hostPath: DEFAULT_DATA_DIR, type: 'DirectoryOrCreate', propagation: 'Bidirectional' },
      '/run/containerd': { hostPath: '/run/containerd', type: 'DirectoryOrCreate', propagation: undefined },
      '/sys/fs/cgroup': { hostPath: '/sys/fs/cgroup', type: 'Directory', propagation: undefined },
      '/var/lib/cni': { hostPath: '/var/lib/cni', type: 'DirectoryOrCreate', propagation: undefined },
    });
    // Everything the managed containerd is configured with lies in the data dir, at the same path as on the host.
    for (const [what, path] of Object.entries(containerdPaths(join(DEFAULT_DATA_DIR, 'containerd')))) {
      if (!path.startsWith(`${DEFAULT_DATA_DIR}/`) && path !== DEFAULT_DATA_DIR) throw new Error(`the managed containerd's ${what} (${path}) is outside the mounted data dir`);
    }
  });

  it('mounts, with an external runtime, its data dir and the runtime\'s socket only', async () => {
    expect(hostMounts(agentOf(await render(EXTERNAL_RUNTIME)).daemonSet)).toEqual({
      [DEFAULT_DATA_DIR]: { hostPath: DEFAULT_DATA_DIR, type: 'DirectoryOrCreate', propagation: 'Bidirectional' },
      '/run/containerd/containerd.sock': { hostPath: '/run/containerd/containerd.sock', type: 'Socket', propagation: undefined },
    });
  });

  it("mounts the node's xtables lock in iptables mode, and the data dir where dataDir says", async () => {
    expect(hostMounts(agentOf(await render(IPTABLES_MODE)).daemonSet)['/run/xtables.lock']).toEqual({ hostPath: '/run/xtables.lock', type: 'FileOrCreate', propagation: undefined });
    expect(hostMounts(agentOf(await render(SINGLE_OPERATOR)).daemonSet)['/srv/shopfloor']).toEqual({ hostPath: '/srv/shopfloor', type: 'DirectoryOrCreate', propagation: 'Bidirectional' });
  });
});

describe('value sets', () => {
  it('RBAC off renders no Role, ClusterRole or binding, but the ServiceAccounts', async () => {
    const kinds = (await render(RBAC_OFF)).map((o) => o.kind);
    expect(kinds.filter((k) => /Role/.test(k))).toEqual([]);
    expect(kinds.filter((k) => k === 'ServiceAccount')).toHaveLength(2);
  });

  it('existing ServiceAccounts are run as and bound, and none is created', async () => {
    const objects = await render(EXISTING_SERVICE_ACCOUNTS);
    expect(objects.filter((o) => o.kind === 'ServiceAccount')).toEqual([]);
    expect(operatorOf(objects).deployment.spec!.template.spec!.serviceAccountName).toBe('ops-operator');
    expect(agentOf(objects).daemonSet.spec!.template.spec!.serviceAccountName).toBe('ops-agent');
    const subjects = objects.filter((o) => o.kind.endsWith('Binding')).map((o) => (o['subjects'] as Array<{ name: string }>)[0]!.name);
    expect(subjects.sort()).toEqual(['ops-agent', 'ops-agent', 'ops-operator', 'ops-operator']);
  });

  it('ServiceMonitor on renders one per metrics Service, selecting it and its port, with the labels given', async () => {
    const objects = await render(SERVICE_MONITOR_ON);
    for (const component of ['operator', 'agent']) {
      const monitor = objectOf(objects, 'ServiceMonitor', `-${component}`) as RenderedObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> } };
      const service = objectOf(objects, 'Service', `-${component}-metrics`) as unknown as IService;
      expect(service.metadata!.labels).toMatchObject(monitor.spec.selector.matchLabels);
      expect(monitor.spec.endpoints.map((e) => [e.port, e.path])).toEqual([['metrics', '/metrics']]);
      expect(service.spec!.ports!.map((p) => p.name)).toContain('metrics');
      expect(monitor.metadata.labels?.['release']).toBe('prometheus');
    }
  });

  it('ServiceMonitor on fails, saying what to install, where the cluster has no ServiceMonitor kind', async () => {
    const r = await template({ ...SERVICE_MONITOR_ON, apiVersions: [] });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("the cluster has no ServiceMonitor kind (monitoring.coreos.com/v1): install prometheus-operator's CRDs first");
  });

  it('with the defaults renders no ServiceMonitor', async () => {
    expect((await render(DEFAULTS, { includeCrds: false })).filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
  });
});
