// The Helm chart under test (charts/shopfloor), rendered, linted and installed by the real helm
// that scripts/build-tools.sh builds (found through SHOPFLOOR_TOOLS_BIN, like every built tool),
// and the value sets the suites render it with.
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { toolBinary } from '../../cli/tools-bin.js';
import { DEFAULT_SYSTEM_NAMESPACE } from '../../api/index.js';
import type { ObjectMeta } from '../../kube/types.js';
import { repoRoot } from '../harness/kubectl.js';
import { runProgram, type ProgramResult } from '../harness/program.js';

export const CHART_DIR = join(repoRoot, 'charts', 'shopfloor');
/** The one namespace the chart installs into (templates/_helpers.tpl says why). */
export const NAMESPACE = DEFAULT_SYSTEM_NAMESPACE;
export const RELEASE = 'shopfloor';
/** The API version --api-versions hands `helm template` for the ServiceMonitor kind. */
export const SERVICE_MONITOR_API = 'monitoring.coreos.com/v1/ServiceMonitor';

/** What `helm template` prints: every object has these, the rest is the kind's own. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string };
  [field: string]: unknown;
}

/** Values over the chart's defaults (dotted path → value), and what the cluster is said to serve. */
export interface ValueSet {
  name: string;
  values: Record<string, unknown>;
  apiVersions?: string[];
}

export const DEFAULTS: ValueSet = { name: 'defaults', values: {} };
export const EXTERNAL_RUNTIME: ValueSet = { name: 'external runtime', values: { 'agent.runtime': 'external', 'agent.criEndpoint': 'unix:///run/containerd/containerd.sock' } };
export const IPTABLES_MODE: ValueSet = { name: 'iptables mode', values: { 'agent.proxyMode': 'iptables' } };
export const SERVICE_MONITOR_ON: ValueSet = { name: 'ServiceMonitor on', values: { 'metrics.serviceMonitor.enabled': true, 'metrics.serviceMonitor.labels': { release: 'prometheus' } }, apiVersions: [SERVICE_MONITOR_API] };
export const RBAC_OFF: ValueSet = { name: 'RBAC off', values: { 'rbac.create': false } };
export const LOG_SERVER_OFF: ValueSet = { name: 'log server off', values: { 'agent.logServer.enabled': false } };
export const FLOOR_OFF: ValueSet = { name: 'floor off', values: { 'operator.floor.enabled': false } };
export const FLOOR_INGRESS: ValueSet = {
  name: 'floor behind an Ingress',
  values: { 'operator.floor.ingress': { enabled: true, className: 'nginx', host: 'floor.example.com', annotations: { 'example.com/auth': 'none' }, tls: [{ hosts: ['floor.example.com'], secretName: 'floor-tls' }] } },
};
export const EXISTING_SERVICE_ACCOUNTS: ValueSet = {
  name: 'existing ServiceAccounts',
  values: { 'operator.serviceAccount': { create: false, name: 'ops-operator' }, 'agent.serviceAccount': { create: false, name: 'ops-agent' } },
};
export const SINGLE_OPERATOR: ValueSet = {
  name: 'one operator without leader election, everything set',
  values: {
    'operator.replicas': 1,
    'operator.leaderElection.enabled': false,
    'operator.vipCIDR': '10.96.0.0/12',
    'operator.extraArgs': ['--node-loss-grace=120', '--workers=8'],
    'agent.podCIDR': '10.88.0.0/16',
    'agent.dataDir': '/srv/shopfloor',
    'agent.extraArgs': ['--pod-workers=16'],
    logLevel: 'debug',
    imagePullSecrets: [{ name: 'regcred' }],
    fullnameOverride: 'sf',
    'operator.image.tag': '0.2.0-rc.1',
    'agent.image.repository': 'registry.example.com:5000/shopfloor/agent',
    'operator.podAnnotations': { 'example.com/team': 'edge' },
    'agent.tolerations': [{ key: 'edge', operator: 'Exists', effect: 'NoSchedule' }],
    'agent.nodeSelector': { 'shopfloor.dev/pool': 'edge' },
  },
};

/** Every value set the suites render, lint and apply. */
export const VALUE_SETS: readonly ValueSet[] = [DEFAULTS, EXTERNAL_RUNTIME, IPTABLES_MODE, SERVICE_MONITOR_ON, RBAC_OFF, LOG_SERVER_OFF, FLOOR_OFF, FLOOR_INGRESS, EXISTING_SERVICE_ACCOUNTS, SINGLE_OPERATOR];

/** helm's flags for the values of a value set. */
export function valueFlags(set: ValueSet): string[] {
  return Object.entries(set.values).flatMap(([path, value]) => ['--set-json', `${path}=${JSON.stringify(value)}`]);
}

/** Runs the built helm with `args`; `env` adds e.g. HELM_*_HOME for commands that reach a cluster. */
export function helm(args: readonly string[], env?: Record<string, string>): Promise<ProgramResult> {
  return runProgram(toolBinary('helm', 'the Helm chart suites'), args, { cwd: repoRoot, ...(env ? { env } : {}) });
}

/** `helm template` of the chart with a value set, in the chart's namespace; the output or helm's error. */
export function template(set: ValueSet, extra: readonly string[] = []): Promise<ProgramResult> {
  const apiVersions = (set.apiVersions ?? []).flatMap((v) => ['--api-versions', v]);
  return helm(['template', RELEASE, CHART_DIR, '--namespace', NAMESPACE, ...valueFlags(set), ...apiVersions, ...extra]);
}

/** The objects of a YAML stream; a document that does not parse fails, naming its place. */
export function parseObjects(text: string, source: string): RenderedObject[] {
  const objects: RenderedObject[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    if (doc.errors.length > 0) throw new Error(`${source}: document ${i + 1} does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as RenderedObject | null;
    if (value === null) return;
    if (typeof value.apiVersion !== 'string' || typeof value.kind !== 'string' || typeof value.metadata?.name !== 'string') {
      throw new Error(`${source}: document ${i + 1} is not a Kubernetes object (apiVersion, kind and metadata.name): ${JSON.stringify(value).slice(0, 200)}`);
    }
    objects.push(value);
  });
  return objects;
}

const rendered = new Map<string, Promise<RenderedObject[]>>();

/**
 * The objects `helm template` renders for a value set (with `--include-crds`, the CRDs too),
 * rendered once per suite; callers must not change them.
 */
export function render(set: ValueSet, o: { includeCrds?: boolean } = {}): Promise<RenderedObject[]> {
  const key = JSON.stringify([set, o.includeCrds ?? false]);
  let objects = rendered.get(key);
  if (!objects) {
    objects = template(set, o.includeCrds ? ['--include-crds'] : []).then((r) => {
      if (r.code !== 0) throw new Error(`helm template with ${set.name} failed: ${r.stderr}`);
      return parseObjects(r.stdout, `helm template with ${set.name}`);
    });
    rendered.set(key, objects);
  }
  return objects;
}

/** The one object of a kind (and name suffix, when several). */
export function objectOf(objects: readonly RenderedObject[], kind: string, nameSuffix = ''): RenderedObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(nameSuffix));
  if (found.length !== 1) throw new Error(`expected one ${kind}${nameSuffix ? ` named *${nameSuffix}` : ''}, found ${found.map((o) => o.metadata.name).join(', ') || 'none'}`);
  return found[0]!;
}
