// The chart's objects as an API server takes them (the devcluster, or with
// SHOPFLOOR_TEST_API_SERVER=kube-apiserver the real one): with every value set they pass a
// server-side dry run with strict field validation (on kube-apiserver an unknown or misplaced
// field fails it, which the offline schemas let through), and the defaults apply for real. Every
// kind the chart renders is served by both; the devcluster stores its Deployment, DaemonSet and
// Services and runs no controller for them.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { repoRoot } from '../harness/kubectl.js';
import { itOnKubeApiserver } from '../harness/kube-apiserver-only.js';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';
import { DEFAULTS, NAMESPACE, VALUE_SETS, render, type RenderedObject, type ValueSet } from './chart.js';

/** Why the strictness check runs on kube-apiserver only. */
const UNKNOWN_FIELDS_STORED = 'the devcluster keeps unknown fields of the built-in kinds it serves';

const FIELD_MANAGER = 'shopfloor-chart-test';
const kindOf = (o: RenderedObject): string => `${o.apiVersion} ${o.kind}`;
const stream = (objects: readonly RenderedObject[]): string => objects.map((o) => stringify(o)).join('---\n');

describe(`the chart's objects on ${testApiServer()}`, () => {
  let cluster: TestCluster;
  let served: Set<string>;

  beforeAll(async () => {
    cluster = await startTestCluster();
    const ns = await cluster.kubectl(['create', 'namespace', NAMESPACE]);
    if (ns.code !== 0) throw new Error(ns.stderr);
    const crd = await cluster.kubectl(['apply', '-f', join(repoRoot, 'test', 'chart', 'fixtures', 'servicemonitor-crd-stand-in.yaml')]);
    if (crd.code !== 0) throw new Error(crd.stderr);
    const established = await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com']);
    if (established.code !== 0) throw new Error(established.stderr);
    const resources = await cluster.kubectl(['api-resources', '--no-headers']);
    if (resources.code !== 0) throw new Error(resources.stderr);
    // NAME [SHORTNAMES] APIVERSION NAMESPACED KIND
    served = new Set(resources.stdout.trim().split('\n').map((line) => { const f = line.trim().split(/\s+/); return `${f[f.length - 3]} ${f[f.length - 1]}`; }));
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  /** The objects, once every kind of them is one the server serves. */
  function servedOf(objects: readonly RenderedObject[]): readonly RenderedObject[] {
    expect([...new Set(objects.filter((o) => !served.has(kindOf(o))).map(kindOf))]).toEqual([]);
    return objects;
  }

  it.each(VALUE_SETS.map((s) => [s.name, s] as [string, ValueSet]))('passes a server-side dry run with strict field validation, with %s', async (_name, set) => {
    const objects = servedOf(await render(set, { includeCrds: true }));
    const r = await cluster.kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--dry-run=server', '--validate=strict', '-f', '-'], { input: stream(objects) });
    if (r.code !== 0) throw new Error(`the API server refused the objects rendered with ${set.name}:\n${r.stderr}`);
    expect(r.stdout.trim().split('\n')).toHaveLength(objects.length);
  });

  itOnKubeApiserver(UNKNOWN_FIELDS_STORED, 'refuses an object with a field its kind does not have (the strict validation is real)', async () => {
    const account = (await render(DEFAULTS)).find((o) => o.kind === 'ServiceAccount')!;
    const r = await cluster.kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--dry-run=server', '--validate=strict', '-f', '-'], { input: stream([{ ...account, automountToken: false }]) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('.automountToken: field not declared in schema');
  });

  it('applies the defaults for real: every object is there afterwards', async () => {
    const objects = servedOf(await render(DEFAULTS, { includeCrds: true }));
    const r = await cluster.kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--validate=strict', '-f', '-'], { input: stream(objects) });
    if (r.code !== 0) throw new Error(r.stderr);
    for (const o of objects) {
      const got = await cluster.kubectl(['get', `${o.kind}.${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}`.replace(/\.$/, ''), o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : []), '-o', 'jsonpath={.metadata.name}']);
      expect([kindOf(o), got.stdout, got.stderr]).toEqual([kindOf(o), o.metadata.name, '']);
    }
  });

  it('takes the kustomize base as a user applies it (kubectl apply --server-side -k deploy/base), dry run, strict', async () => {
    const r = await cluster.kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--dry-run=server', '--validate=strict', '-k', join(repoRoot, 'deploy', 'base')]);
    if (r.code !== 0) throw new Error(`kubectl apply -k deploy/base: ${r.stderr}`);
    expect(r.stdout).toContain('daemonset.apps/shopfloor-agent serverside-applied (server dry run)');
    expect(r.stdout).toContain('namespace/shopfloor-system serverside-applied (server dry run)');
  });
});
