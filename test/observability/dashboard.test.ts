// The Grafana dashboard in deploy/grafana reads only what Shopfloor serves: every metric and
// label its queries name is registered by the operator or the agent, as the binaries build
// their registries (the operator started for real against an API server that does not answer,
// the agent assembled in both proxy modes). A query that misspells a name fails here, not on a
// user's empty panel.
import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { assembleAgent } from '../../agent/main.js';
import { PROXY_MODES, type ProxyMode } from '../../agent/proxy/backend.js';
import { silentLogger } from '../../kube/logger.js';
import { createProcessRegistry } from '../../kube/metrics.js';
import { runOperator } from '../../operator/index.js';
import { createDevclusterMetrics } from '../../devcluster/http/metrics.js';
import { promqlReferences } from './promql-references.js';
import { unreachableKubeConfig } from '../../kube/test-fixtures.js';

const DASHBOARD = new URL('../../deploy/grafana/shopfloor.json', import.meta.url);
/** Labels Prometheus puts on every series it scrapes. */
const TARGET_LABELS = ['instance', 'job'];
const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

/** An API server that is never there: nothing of the binaries' metrics depends on one. */
const unreachable = unreachableKubeConfig();

interface Family {
  type: string;
  labels: Set<string>;
}

/** Every metric family of the registries, by name; a family on several has all their labels. */
function families(registries: Registry[]): Map<string, Family> {
  const byName = new Map<string, Family>();
  for (const registry of registries) {
    for (const metric of registry.getMetricsAsArray()) {
      // prom-client keeps a metric's label names on the metric; its types leave them out.
      const labels = (metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
      const family = byName.get(metric.name) ?? { type: String(metric.type), labels: new Set<string>() };
      for (const l of labels) family.labels.add(l);
      byName.set(metric.name, family);
    }
  }
  return byName;
}

/** The series a query may name for a family: a histogram only through its _bucket, _sum and _count. */
function resolve(metric: string, exposed: Map<string, Family>): { family: Family; extra: string[] } | undefined {
  const exact = exposed.get(metric);
  if (exact && exact.type !== 'histogram') return { family: exact, extra: [] };
  for (const suffix of HISTOGRAM_SERIES) {
    if (!metric.endsWith(suffix)) continue;
    const family = exposed.get(metric.slice(0, -suffix.length));
    if (family?.type === 'histogram') return { family, extra: suffix === '_bucket' ? ['le'] : [] };
  }
  return undefined;
}

/** What is wrong with one query: syntax, metrics no binary exposes, labels their metrics lack. */
function queryProblems(expr: string, exposed: Map<string, Family>): string[] {
  const refs = promqlReferences(expr);
  const problems = refs.errors.map((e) => `does not parse ${e}`);
  const available = new Set(TARGET_LABELS);
  for (const { metric, labels } of refs.selectors) {
    const resolved = resolve(metric, exposed);
    if (!resolved) {
      if (exposed.get(metric)?.type === 'histogram') problems.push(`${metric} is a histogram: name its ${HISTOGRAM_SERIES.join(', ')} series`);
      else problems.push(`${metric || 'a selector without a metric name'} is exposed by neither the operator nor the agent`);
      continue;
    }
    const own = new Set([...resolved.family.labels, ...resolved.extra, ...TARGET_LABELS]);
    for (const l of labels) if (!own.has(l)) problems.push(`${metric} has no label ${l} (it has ${[...own].sort().join(', ')})`);
    for (const l of own) available.add(l);
  }
  for (const l of refs.groupingLabels) if (!available.has(l)) problems.push(`groups by ${l}, a label none of its metrics has`);
  return problems;
}

interface Target {
  expr: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  schemaVersion: number;
  uid: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** `label_values(selector, label)`: the selector is PromQL; the label must be one of its metric's. */
function variableQuery(v: Variable): { expr: string; label: string } | undefined {
  const text = typeof v.query === 'string' ? v.query : v.query.query;
  const m = /^\s*label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(text);
  return m ? { expr: m[1]!, label: m[2]! } : undefined;
}

/** The names other programs' dashboards and alerts know, which the binaries serve as those do. */
const COMPATIBLE_PREFIXES = ['kubelet_', 'prober_', 'kubeproxy_', 'controller_runtime_', 'workqueue_', 'rest_client_', 'leader_election_', 'process_', 'nodejs_'];

let dashboard: Dashboard;
let exposed: Map<string, Family>;
/** Metric names by binary. */
const served: Record<'operator' | 'agent' | 'devcluster', string[]> = { operator: [], agent: [], devcluster: [] };
const dirs: string[] = [];

beforeAll(async () => {
  dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
  const operator = createProcessRegistry();
  const running = await runOperator({ kubeConfig: unreachable, metricsAddress: false, registry: operator, logger: silentLogger() });
  await running.stop();
  const agents = await Promise.all(
    PROXY_MODES.map(async (mode: ProxyMode) => {
      const dataDir = await mkdtemp(join(tmpdir(), 'sf-dashboard-'));
      dirs.push(dataDir);
      // With a static manifest directory, so that the static mirrors' controller is there too.
      const agent = assembleAgent({
        kubeConfig: unreachable,
        nodeName: 'node-1',
        hostname: 'node-1',
        dataDir,
        staticManifestDir: join(dataDir, 'manifests'),
        runtime: { mode: 'external', endpoint: `unix://${join(dataDir, 'no-runtime.sock')}` },
        podCIDR: '10.244.0.0/24',
        proxyMode: mode,
        nodeAddresses: ['192.0.2.1'],
        metricsAddress: false,
        logger: silentLogger(),
        registry: createProcessRegistry(),
      });
      agent.cri.close();
      return agent.registry;
    }),
  );
  exposed = families([operator, ...agents]);
  served.operator = operator.getMetricsAsArray().map((m) => m.name);
  served.agent = agents.flatMap((r) => r.getMetricsAsArray().map((m) => m.name));
  served.devcluster = createDevclusterMetrics().registry.getMetricsAsArray().map((m) => m.name);
});

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('the metrics the binaries serve', () => {
  it.each(['operator', 'agent', 'devcluster'] as const)('are, for the %s, a compatible name or one under the binary\'s own prefix', (binary) => {
    const own = `shopfloor_${binary}_`;
    expect(served[binary].length).toBeGreaterThan(0);
    expect(served[binary].filter((name) => !name.startsWith(own) && !COMPATIBLE_PREFIXES.some((p) => name.startsWith(p)))).toEqual([]);
  });
});

describe('the Grafana dashboard', () => {
  it('names only metrics and labels that the operator or the agent exposes, in queries that parse', () => {
    const problems: string[] = [];
    for (const panel of allPanels(dashboard.panels)) {
      for (const target of panel.targets ?? []) {
        for (const p of queryProblems(target.expr, exposed)) problems.push(`panel "${panel.title}": ${p}`);
      }
    }
    for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const q = variableQuery(v);
      if (!q) {
        problems.push(`variable ${v.name}: its query is not label_values(selector, label)`);
        continue;
      }
      for (const p of queryProblems(`count by (${q.label}) (${q.expr})`, exposed)) problems.push(`variable ${v.name}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  it('queries the Prometheus data source the user picks, and lays its panels out on the 24-column grid', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const datasource = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const picked = { type: 'prometheus', uid: '${datasource}' };
    for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) expect(v.datasource).toEqual(picked);
    const panels = allPanels(dashboard.panels);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const panel of panels) {
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource).toEqual(picked);
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const t of panel.targets ?? []) expect(t.datasource).toEqual(picked);
    }
  });

  it('finds a misspelt metric, a label its metric lacks, a bare histogram name and a query that does not parse', () => {
    expect(queryProblems('sum(rate(kubelet_runtime_operation_errors_total[5m]))', exposed)).toEqual([
      'kubelet_runtime_operation_errors_total is exposed by neither the operator nor the agent',
    ]);
    expect(queryProblems('sum by (node) (kubelet_running_containers{state="running"})', exposed)).toEqual([
      'kubelet_running_containers has no label state (it has container_state, instance, job)',
      'groups by node, a label none of its metrics has',
    ]);
    expect(queryProblems('rate(kubelet_pod_start_duration_seconds[$__rate_interval])', exposed)).toEqual([
      'kubelet_pod_start_duration_seconds is a histogram: name its _bucket, _sum, _count series',
    ]);
    expect(queryProblems('sum(rate(workqueue_adds_total[5m])', exposed)[0]).toMatch(/^does not parse at character/);
    expect(queryProblems('histogram_quantile(0.99, sum by (le, name) (rate(workqueue_queue_duration_seconds_bucket{controller="pods"}[$__rate_interval])))', exposed)).toEqual([]);
  });
});
