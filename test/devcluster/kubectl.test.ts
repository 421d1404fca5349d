import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, notYet } from '../harness/eventually.js';
import { startTestCluster, testApiServer, type TestCluster } from '../harness/test-cluster.js';

// kubectl (the one on PATH, v1.32 here) against the devcluster, or the kube-apiserver that
// SHOPFLOOR_TEST_API_SERVER names: what a user types and sees, the same on both.
describe(`${testApiServer()} with kubectl`, () => {
  let c: TestCluster;
  const examples = join(process.cwd(), 'examples');
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await c.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    c = await startTestCluster({ crds: true });
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('lists Shopfloor resources with their short names in api-resources', async () => {
    const out = await ok(['api-resources', '--api-group=shopfloor.dev']);
    expect(out).toMatch(/nodeworkloads\s+nw\s+shopfloor.dev\/v1alpha1\s+true\s+NodeWorkload/);
    expect(out).toMatch(/nodeassignments\s+na\s+shopfloor.dev\/v1alpha1\s+true\s+NodeAssignment/);
    const core = await ok(['api-resources', '--api-group=']);
    expect(core).toMatch(/configmaps\s+cm\s+v1\s+true\s+ConfigMap/);
  });

  it('applies the CRDs again client-side and server-side, and they stay Established', async () => {
    expect(await ok(['apply', '-f', join(process.cwd(), 'crds')])).toMatch(/nodeworkloads.shopfloor.dev (unchanged|configured)/);
    expect(await ok(['apply', '--server-side', '--force-conflicts', '-f', join(process.cwd(), 'crds')])).toContain('nodeworkloads.shopfloor.dev serverside-applied');
    expect(await ok(['wait', '--for=condition=Established', '--timeout=30s', 'crd/nodeworkloads.shopfloor.dev'])).toContain('condition met');
  });

  it('applies the examples client-side and server-side and prints them with the CRD columns', async () => {
    expect(await ok(['apply', '-f', examples])).toContain('created');
    await ok(['create', 'namespace', 'ssa']);
    expect(await ok(['apply', '--server-side', '-n', 'ssa', '-f', examples])).toContain('serverside-applied');
    const table = await ok(['get', 'nw', '-n', 'ssa']);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+MODE\s+DESIRED\s+READY\s+VIP\s+AGE$/);
    expect(table).toMatch(/\nhello\s+Replicas\s+\d*\s*\d*\s*\d+s/);
    const wide = await ok(['get', 'nw', '-A', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+MODE/);
    expect(wide).toMatch(/\nssa\s+hello\s+Replicas/);
    const yaml = await ok(['get', 'nw', 'hello', '-n', 'ssa', '-o', 'yaml']);
    expect(yaml).toContain('kind: NodeWorkload');
    expect(yaml).toMatch(/generation: 1/);
    expect(await ok(['get', 'nw', 'hello', '-n', 'ssa', '-o', 'jsonpath={.spec.placement.mode}'])).toBe('Replicas');
  });

  it('takes kubectl apply --server-side after a client-side apply, merging keyed lists per item; another manager changing an image conflicts unless forced', async () => {
    await ok(['create', 'namespace', 'csa']);
    const hello = readFileSync(join(examples, 'hello.yaml'), 'utf8');
    expect(await ok(['apply', '-n', 'csa', '-f', '-'], hello)).toContain('nodeworkload.shopfloor.dev/hello created');
    // The changed copy adds an env var to the same container and a second service port; the
    // lists the server defaulted (ports with protocol TCP) are merged by key, not replaced whole.
    const changed = hello
      .replace('        ports:\n          - name: http\n            containerPort: 8080', '        env:\n          - name: GREETING\n            value: hi\n        ports:\n          - name: http\n            containerPort: 8080')
      .replace('        targetPort: http', '        targetPort: http\n      - name: alt\n        port: 8081\n        targetPort: 8080');
    expect(changed).toContain('GREETING');
    expect(changed).toContain('port: 8081');
    expect(await ok(['apply', '--server-side', '-n', 'csa', '-f', '-'], changed)).toContain('nodeworkload.shopfloor.dev/hello serverside-applied');
    type Nw = {
      spec: { template: { containers: unknown[] }; service: { ports: { port: number; protocol: string }[] } };
      metadata: { managedFields: { manager: string; operation: string; fieldsV1: { 'f:spec'?: { 'f:template'?: { 'f:containers'?: Record<string, unknown> } } } }[] };
    };
    const got = JSON.parse(await ok(['get', 'nw', 'hello', '-n', 'csa', '-o', 'json', '--show-managed-fields'])) as Nw;
    expect(got.spec.template.containers).toHaveLength(1);
    expect(got.spec.template.containers[0]).toMatchObject({ name: 'httpd', env: [{ name: 'GREETING', value: 'hi' }], ports: [{ containerPort: 8080, protocol: 'TCP' }] });
    expect(got.spec.service.ports.map((p) => `${p.port}/${p.protocol}`)).toEqual(['80/TCP', '8081/TCP']);
    const applied = got.metadata.managedFields.find((m) => m.manager === 'kubectl' && m.operation === 'Apply');
    expect(Object.keys(applied?.fieldsV1['f:spec']?.['f:template']?.['f:containers'] ?? {})).toContain('k:{"name":"httpd"}');

    const newImage = changed.replace('image: shopfloor.dev/busybox:test', 'image: shopfloor.dev/busybox:other');
    const refused = await c.kubectl(['apply', '--server-side', '--field-manager=rollout', '-n', 'csa', '-f', '-'], { input: newImage });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Apply failed with');
    expect(refused.stderr).toContain('conflict with "kubectl"');
    expect(refused.stderr).toContain('.spec.template.containers[name="httpd"].image');
    expect(await ok(['get', 'nw', 'hello', '-n', 'csa', '-o', 'jsonpath={.spec.template.containers[0].image}'])).toBe('shopfloor.dev/busybox:test');
    expect(await ok(['apply', '--server-side', '--field-manager=rollout', '--force-conflicts', '-n', 'csa', '-f', '-'], newImage)).toContain('serverside-applied');
    expect(await ok(['get', 'nw', 'hello', '-n', 'csa', '-o', 'jsonpath={.spec.template.containers[0].image}'])).toBe('shopfloor.dev/busybox:other');
  });

  it('answers kubectl auth can-i with yes: every token is an administrator', async () => {
    expect(await ok(['auth', 'can-i', 'delete', 'nodeworkloads', '--all-namespaces'])).toBe('yes\n');
    expect(await ok(['auth', 'can-i', '--list'])).toMatch(/\*\.\*\s+\[\]\s+\[\]\s+\[\*\]/);
  });

  it('explains a field of a NodeWorkload from the OpenAPI document', async () => {
    const out = await ok(['explain', 'nodeworkloads.spec.placement']);
    expect(out).toContain('KIND:       NodeWorkload');
    expect(out).toContain('FIELD: placement <Object>');
    expect(out).toMatch(/mode\s+<string>/);
  });

  it('labels, annotates and patches (merge, json, strategic) a ConfigMap', async () => {
    await ok(['create', 'configmap', 'cfg', '--from-literal=a=1']);
    await ok(['label', 'configmap', 'cfg', 'tier=web']);
    await ok(['annotate', 'configmap', 'cfg', 'note=hello']);
    expect(await ok(['get', 'cm', '-l', 'tier in (web,db)', '-o', 'name'])).toBe('configmap/cfg\n');
    await ok(['patch', 'configmap', 'cfg', '--type', 'merge', '-p', '{"data":{"b":"2"}}']);
    await ok(['patch', 'configmap', 'cfg', '--type', 'json', '-p', '[{"op":"remove","path":"/data/a"}]']);
    await ok(['patch', 'configmap', 'cfg', '--type', 'strategic', '-p', '{"metadata":{"finalizers":["x.dev/one"]},"data":{"c":"3"}}']);
    await ok(['patch', 'configmap', 'cfg', '--type', 'strategic', '-p', '{"metadata":{"finalizers":["x.dev/two"]}}']);
    const got = JSON.parse(await ok(['get', 'cm', 'cfg', '-o', 'json'])) as { data: Record<string, string>; metadata: { labels: Record<string, string>; annotations: Record<string, string>; finalizers: string[] } };
    expect(got.data).toEqual({ b: '2', c: '3' });
    expect(got.metadata.labels).toEqual({ tier: 'web' });
    expect(got.metadata.annotations).toEqual({ note: 'hello' });
    // A strategic merge puts the patched item first, as kube-apiserver merges it.
    expect(got.metadata.finalizers).toEqual(['x.dev/two', 'x.dev/one']);
    await ok(['patch', 'configmap', 'cfg', '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
  });

  it('refuses a replace with a stale resourceVersion with the conflict message', async () => {
    await ok(['create', 'configmap', 'stale', '--from-literal=a=1']);
    const old = await ok(['get', 'cm', 'stale', '-o', 'yaml']);
    await ok(['label', 'cm', 'stale', 'changed=yes']);
    const r = await c.kubectl(['replace', '-f', '-'], { input: old });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again');
  });

  it('prints the field errors of an invalid NodeWorkload', async () => {
    const bad = ['apiVersion: shopfloor.dev/v1alpha1', 'kind: NodeWorkload', 'metadata:', '  name: bad', 'spec:', '  placement:', '    mode: Sometimes', '  template:', '    containers:', '    - name: c', ''].join('\n');
    const r = await c.kubectl(['create', '-f', '-'], { input: bad });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The NodeWorkload "bad" is invalid:');
    expect(r.stderr).toContain('spec.placement.mode: Unsupported value: "Sometimes": supported values: "Replicas", "EveryNode"');
    expect(r.stderr).toContain('spec.template.containers[0].image: Required value');
    const unknown = bad.replace('    - name: c', '    - name: c\n      image: busybox\n      bogus: 1').replace('Sometimes', 'EveryNode');
    const strict = await c.kubectl(['create', '-f', '-'], { input: unknown });
    expect(strict.stderr).toContain('strict decoding error: unknown field "spec.template.containers[0].bogus"');
    expect((await c.kubectl(['get', 'nw', 'bad'])).code).not.toBe(0);
  });

  it('keeps an object with a finalizer until the finalizer goes; wait --for=delete sees it go', async () => {
    await ok(['create', 'configmap', 'held']);
    await ok(['patch', 'cm', 'held', '--type', 'merge', '-p', '{"metadata":{"finalizers":["x.dev/hold"]}}']);
    expect(await ok(['delete', 'cm', 'held', '--wait=false'])).toContain('configmap "held" deleted');
    expect(await ok(['get', 'cm', 'held', '-o', 'jsonpath={.metadata.deletionTimestamp}'])).toMatch(/^\d{4}-\d\d-\d\dT/);
    const waiting = c.kubectl(['wait', '--for=delete', 'cm/held', '--timeout=30s']);
    await ok(['patch', 'cm', 'held', '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    const w = await waiting;
    expect(w.code).toBe(0);
    expect((await c.kubectl(['get', 'cm', 'held'])).stderr).toContain('configmaps "held" not found');
  });

  it('streams changes with get -w', async () => {
    await ok(['create', 'configmap', 'marker']);
    await ok(['label', 'cm', 'marker', 'watch=me']);
    const child = spawn('kubectl', ['--kubeconfig', c.kubeconfigPath, 'get', 'cm', '-w', '--output-watch-events', '-l', 'watch=me']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const until = (re: RegExp): Promise<unknown> => eventually(`kubectl get -w to print ${re}`, () => re.test(out) || notYet(out), 10_000);
      // Once kubectl prints an object that was there before, it has listed, and watches from that list on.
      await until(/ADDED\s+marker/);
      await ok(['create', 'configmap', 'watched']);
      await ok(['label', 'cm', 'watched', 'watch=me']);
      await until(/ADDED\s+watched/);
      await ok(['label', 'cm', 'watched', 'extra=1']);
      await until(/MODIFIED\s+watched/);
      await ok(['delete', 'cm', 'watched']);
      await until(/DELETED\s+watched/);
    } finally {
      child.kill();
      await ok(['delete', 'cm', 'marker']);
    }
  });
});
