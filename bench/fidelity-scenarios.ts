// bench/fidelity's scenarios: what test/devcluster/kubectl.test.ts and client-node.test.ts do,
// each reduced to the answer a user sees (kubectl's exit code and output; client-node's status
// code and body), so that the same scenario run on the devcluster and on kube-apiserver can be
// compared. Every scenario makes its own objects, so they run in this order on a fresh cluster.
import { ApiException, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, notYet } from '../test/harness/eventually.js';
import { repoRoot } from '../test/harness/kubectl.js';
import type { TestCluster } from '../test/harness/test-cluster.js';
import type { Answer } from './fidelity-compare.js';

export interface Scenario {
  name: string;
  run(c: TestCluster): Promise<Answer>;
}

const examples = join(repoRoot, 'examples');

/** kubectl's answer: exit code, stdout (parsed when it is JSON) and stderr. */
async function kubectl(c: TestCluster, args: string[], input?: string): Promise<Answer> {
  const r = await c.kubectl(args, input === undefined ? {} : { input });
  let stdout: unknown = r.stdout;
  try {
    stdout = JSON.parse(r.stdout);
  } catch {
    // kubectl printed text
  }
  return { code: r.code, stdout, stderr: r.stderr };
}

/** Runs kubectl steps in order and answers with each step's answer. */
async function steps(c: TestCluster, list: (string[] | [string[], string])[]): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const s of list) out.push(typeof s[0] === 'string' ? await kubectl(c, s as string[]) : await kubectl(c, s[0] as string[], s[1] as string));
  return out;
}

/** A client-node error as an answer: its status code and body (parsed when it is JSON); undefined for other errors. */
export function apiError(err: unknown): Answer | undefined {
  if (!(err instanceof ApiException)) return undefined;
  let body: unknown = err.body;
  try {
    body = JSON.parse(String(err.body));
  } catch {
    // a body that is not JSON is compared as text
  }
  return { status: err.code, body };
}

/** client-node's answer: 200 and the body it returned, or the error's status code and body. */
async function call(fn: () => Promise<unknown>): Promise<Answer> {
  try {
    return { status: 200, body: await fn() };
  } catch (err) {
    const answer = apiError(err);
    if (answer === undefined) throw err;
    return answer;
  }
}

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const json = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** A strategic merge patch of finalizers on a ConfigMap that has `live`; answers with the finalizers after. */
function finalizerOrder(name: string, live: string[], patch: Record<string, unknown>): Scenario {
  return {
    name: `strategic merge patch of finalizers ${JSON.stringify(live)} with ${JSON.stringify(patch)}`,
    async run(c) {
      const core = c.kubeConfig.makeApiClient(CoreV1Api);
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name, finalizers: live } } });
      const patched = await call(async () => (await core.patchNamespacedConfigMap({ namespace: 'default', name, body: { metadata: patch } }, strategic)).metadata?.finalizers);
      await core.patchNamespacedConfigMap({ namespace: 'default', name, body: [{ op: 'remove', path: '/metadata/finalizers' }] }, json);
      await core.deleteNamespacedConfigMap({ namespace: 'default', name });
      return patched;
    },
  };
}

export const SCENARIOS: Scenario[] = [
  { name: 'kubectl api-resources of shopfloor.dev', run: (c) => kubectl(c, ['api-resources', '--api-group=shopfloor.dev']) },
  {
    name: 'kubectl apply of the CRDs again, client-side and server-side',
    run: (c) => steps(c, [['apply', '-f', join(repoRoot, 'crds')], ['apply', '--server-side', '--force-conflicts', '-f', join(repoRoot, 'crds')]]),
  },
  {
    name: 'kubectl apply of the examples, get as a table and as JSON',
    run: (c) => steps(c, [['apply', '-f', examples], ['get', 'nw'], ['get', 'nw', 'hello', '-o', 'json']]),
  },
  {
    name: 'kubectl apply --server-side after a client-side apply, then a conflicting manager',
    async run(c) {
      await kubectl(c, ['create', 'namespace', 'csa']);
      const hello = readFileSync(join(examples, 'hello.yaml'), 'utf8');
      const changed = hello.replace('        targetPort: http', '        targetPort: http\n      - name: alt\n        port: 8081\n        targetPort: 8080');
      const other = changed.replace('image: shopfloor.dev/busybox:test', 'image: shopfloor.dev/busybox:other');
      return steps(c, [
        [['apply', '-n', 'csa', '-f', '-'], hello],
        [['apply', '--server-side', '-n', 'csa', '-f', '-'], changed],
        ['get', 'nw', 'hello', '-n', 'csa', '-o', 'json', '--show-managed-fields'],
        [['apply', '--server-side', '--field-manager=rollout', '-n', 'csa', '-f', '-'], other],
      ]);
    },
  },
  { name: 'kubectl auth can-i', run: (c) => steps(c, [['auth', 'can-i', 'delete', 'nodeworkloads', '--all-namespaces']]) },
  { name: 'kubectl explain nodeworkloads.spec.placement', run: (c) => kubectl(c, ['explain', 'nodeworkloads.spec.placement']) },
  {
    name: 'kubectl label, annotate and patch (merge, json, strategic) a ConfigMap',
    run: (c) => steps(c, [
      ['create', 'configmap', 'cfg', '--from-literal=a=1'],
      ['label', 'configmap', 'cfg', 'tier=web'],
      ['annotate', 'configmap', 'cfg', 'note=hello'],
      ['get', 'cm', '-l', 'tier in (web,db)', '-o', 'name'],
      ['patch', 'configmap', 'cfg', '--type', 'merge', '-p', '{"data":{"b":"2"}}'],
      ['patch', 'configmap', 'cfg', '--type', 'json', '-p', '[{"op":"remove","path":"/data/a"}]'],
      ['patch', 'configmap', 'cfg', '--type', 'strategic', '-p', '{"metadata":{"finalizers":["x.dev/one"]},"data":{"c":"3"}}'],
      ['patch', 'configmap', 'cfg', '--type', 'strategic', '-p', '{"metadata":{"finalizers":["x.dev/two"]}}'],
      ['get', 'cm', 'cfg', '-o', 'json'],
      ['patch', 'configmap', 'cfg', '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]'],
    ]),
  },
  finalizerOrder('order-append', ['x/a', 'x/b'], { finalizers: ['x/c'] }),
  finalizerOrder('order-middle', ['x/a', 'x/b', 'x/c'], { finalizers: ['x/b', 'x/d'] }),
  finalizerOrder('order-front', ['x/a', 'x/b', 'x/c'], { finalizers: ['x/d', 'x/a'] }),
  finalizerOrder('order-swap', ['x/a', 'x/b', 'x/c'], { finalizers: ['x/c', 'x/a'] }),
  finalizerOrder('order-tail', ['x/a', 'x/b', 'x/c', 'x/d'], { finalizers: ['x/d', 'x/e', 'x/b'] }),
  finalizerOrder('order-set', ['x/a', 'x/b', 'x/c'], { '$setElementOrder/finalizers': ['x/c', 'x/b', 'x/a'] }),
  finalizerOrder('order-set-new', ['x/a', 'x/b', 'x/c'], { '$setElementOrder/finalizers': ['x/c', 'x/d', 'x/a'], finalizers: ['x/d'] }),
  finalizerOrder('order-set-delete', ['x/a', 'x/b', 'x/c'], { '$setElementOrder/finalizers': ['x/c', 'x/a'], '$deleteFromPrimitiveList/finalizers': ['x/b'] }),
  {
    name: 'strategic merge patch of a keyed list (ServiceAccount secrets) adds, merges and removes items',
    async run(c) {
      const core = c.kubeConfig.makeApiClient(CoreV1Api);
      const name = 'keyed';
      await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name }, secrets: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } });
      const secrets = (body: unknown) => call(async () => (await core.patchNamespacedServiceAccount({ namespace: 'default', name, body }, strategic)).secrets);
      return [
        await secrets({ secrets: [{ name: 'd' }] }),
        await secrets({ secrets: [{ name: 'e' }, { name: 'b' }] }),
        await secrets({ secrets: [{ name: 'a', $patch: 'delete' }, { name: 'c' }] }),
        await secrets({ '$setElementOrder/secrets': [{ name: 'c' }, { name: 'b' }, { name: 'd' }, { name: 'e' }] }),
      ];
    },
  },
  {
    name: 'kubectl replace with a stale resourceVersion',
    async run(c) {
      await kubectl(c, ['create', 'configmap', 'stale', '--from-literal=a=1']);
      const old = (await c.kubectl(['get', 'cm', 'stale', '-o', 'yaml'])).stdout;
      await kubectl(c, ['label', 'cm', 'stale', 'changed=yes']);
      return kubectl(c, ['replace', '-f', '-'], old);
    },
  },
  {
    name: 'kubectl create of an invalid NodeWorkload, and one with an unknown field',
    run(c) {
      const bad = ['apiVersion: shopfloor.dev/v1alpha1', 'kind: NodeWorkload', 'metadata:', '  name: bad', 'spec:', '  placement:', '    mode: Sometimes', '  template:', '    containers:', '    - name: c', ''].join('\n');
      const unknown = bad.replace('    - name: c', '    - name: c\n      image: busybox\n      bogus: 1').replace('Sometimes', 'EveryNode');
      return steps(c, [[['create', '-f', '-'], bad], [['create', '-f', '-'], unknown], ['get', 'nw', 'bad']]);
    },
  },
  {
    name: 'kubectl scale of a NodeWorkload: up, its Scale as JSON and as a table, a whole Scale with a negative count, and an EveryNode one',
    async run(c) {
      const workload = (name: string, placement: string) => ['apiVersion: shopfloor.dev/v1alpha1', 'kind: NodeWorkload', 'metadata:', `  name: ${name}`, 'spec:', '  placement:', placement, '  template:', '    containers:', '    - name: c', '      image: busybox', ''].join('\n');
      const path = '/apis/shopfloor.dev/v1alpha1/namespaces/default/nodeworkloads/sc/scale';
      const first = await steps(c, [
        [['create', '-f', '-'], workload('sc', '    replicas: 2')],
        ['scale', 'nw/sc', '--replicas=3'],
        ['get', 'nw', 'sc', '--subresource=scale', '-o', 'json'],
        ['get', 'nw', 'sc', '--subresource=scale'],
      ]);
      const negative = await kubectl(c, ['replace', '--raw', path, '-f', '-'], JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'sc', namespace: 'default' }, spec: { replicas: -1 } }));
      const every = await steps(c, [[['create', '-f', '-'], workload('sc-every', '    mode: EveryNode')], ['scale', 'nw/sc-every', '--replicas=3']]);
      return [...first, negative, ...every];
    },
  },
  {
    name: 'kubectl delete of an object held by a finalizer, then wait --for=delete',
    async run(c) {
      const before = await steps(c, [
        ['create', 'configmap', 'held'],
        ['patch', 'cm', 'held', '--type', 'merge', '-p', '{"metadata":{"finalizers":["x.dev/hold"]}}'],
        ['delete', 'cm', 'held', '--wait=false'],
        ['get', 'cm', 'held', '-o', 'jsonpath={.metadata.deletionTimestamp}'],
      ]);
      // Only wait's exit code: whether it prints "condition met" depends on whether the object
      // was still there when it looked, which races the patch below on either server.
      const waiting = c.kubectl(['wait', '--for=delete', 'cm/held', '--timeout=30s']).then((r) => ({ code: r.code }));
      const after = await steps(c, [['patch', 'cm', 'held', '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']]);
      return [...before, ...after, await waiting, await kubectl(c, ['get', 'cm', 'held'])];
    },
  },
  {
    name: 'kubectl get of the ConfigMaps and namespaces a fresh cluster has',
    run: (c) => steps(c, [['get', 'cm', '-A', '-o', 'name'], ['get', 'namespaces', '-o', 'name']]),
  },
  {
    name: 'client-node create, read, duplicate create and read of a missing ConfigMap',
    async run(c) {
      const core = c.kubeConfig.makeApiClient(CoreV1Api);
      const body = { metadata: { name: 'cn', labels: { app: 'cn' } }, data: { k: 'v' } };
      return [
        await call(() => core.createNamespacedConfigMap({ namespace: 'default', body })),
        await call(() => core.readNamespacedConfigMap({ namespace: 'default', name: 'cn' })),
        await call(() => core.createNamespacedConfigMap({ namespace: 'default', body })),
        await call(() => core.readNamespacedConfigMap({ namespace: 'default', name: 'missing' })),
      ];
    },
  },
  {
    name: 'client-node list by label selector, and a malformed selector',
    async run(c) {
      const core = c.kubeConfig.makeApiClient(CoreV1Api);
      return [
        await call(() => core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app=cn' })),
        await call(() => core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app in cn' })),
      ];
    },
  },
  {
    name: 'client-node patches: merge, a stale merge, a failing JSON patch',
    async run(c) {
      const core = c.kubeConfig.makeApiClient(CoreV1Api);
      const name = 'cn-patch';
      const base = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name }, data: { k: 'v' } } });
      return [
        await call(() => core.patchNamespacedConfigMap({ namespace: 'default', name, body: { data: { k: 'changed', n: 'new' } } }, merge)),
        await call(() => core.patchNamespacedConfigMap({ namespace: 'default', name, body: { metadata: { resourceVersion: base.metadata?.resourceVersion }, data: { late: 'x' } } }, merge)),
        await call(() => core.patchNamespacedConfigMap({ namespace: 'default', name, body: [{ op: 'test', path: '/data/k', value: 'other' }] }, json)),
      ];
    },
  },
  {
    name: 'client-node delete with a wrong uid precondition, a wrong resourceVersion one, then a right one',
    async run(c) {
      const core = c.kubeConfig.makeApiClient(CoreV1Api);
      const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cn-pre' } } });
      // The message names the object's resourceVersion, which differs from server to server.
      const rv = created.metadata?.resourceVersion ?? '';
      const masked = (a: Answer): Answer => JSON.parse(JSON.stringify(a).replaceAll(`(${rv})`, '(<rv>)')) as Answer;
      return [
        await call(() => core.deleteNamespacedConfigMap({ namespace: 'default', name: 'cn-pre', body: { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } } })),
        masked(await call(() => core.deleteNamespacedConfigMap({ namespace: 'default', name: 'cn-pre', body: { preconditions: { resourceVersion: '1' } } }))),
        await call(async () => (await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'cn-pre', body: { preconditions: { uid: created.metadata?.uid } } })).status),
      ];
    },
  },
  {
    name: 'client-node watch of a label selector as an object starts and stops matching',
    async run(c) {
      const core = c.kubeConfig.makeApiClient(CoreV1Api);
      const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'role=x' });
      const events: string[] = [];
      const ctl = await new Watch(c.kubeConfig).watch('/api/v1/namespaces/default/configmaps', { labelSelector: 'role=x', resourceVersion: list.metadata?.resourceVersion ?? '' }, (phase, o: { metadata?: { name?: string; labels?: Record<string, string> } }) => events.push(`${phase} ${o.metadata?.name} ${JSON.stringify(o.metadata?.labels)}`), () => undefined);
      try {
        const seen = (n: number) => eventually(`${n} watch events`, () => events.length >= n || notYet(events.join('; ')), 10_000);
        await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'sel', labels: { role: 'x' } } } });
        await seen(1);
        await core.patchNamespacedConfigMap({ namespace: 'default', name: 'sel', body: { metadata: { labels: { role: 'y' } } } }, merge);
        await seen(2);
        await core.patchNamespacedConfigMap({ namespace: 'default', name: 'sel', body: { metadata: { labels: { role: 'x' } } } }, merge);
        await seen(3);
        await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'sel' });
        await seen(4);
      } finally {
        ctl.abort();
      }
      return events;
    },
  },
  {
    name: 'client-node status subresource and generation of a NodeWorkload',
    async run(c) {
      const custom = c.kubeConfig.makeApiClient(CustomObjectsApi);
      const ref = { group: 'shopfloor.dev', version: 'v1alpha1', namespace: 'default', plural: 'nodeworkloads', name: 'st' };
      return [
        await call(() => custom.createNamespacedCustomObject({ ...ref, body: { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', metadata: { name: 'st' }, spec: { placement: { mode: 'EveryNode' }, template: { containers: [{ name: 'c', image: 'busybox' }] } }, status: { readyReplicas: 9 } } })),
        await call(() => custom.patchNamespacedCustomObjectStatus({ ...ref, body: { status: { readyReplicas: 2, observedGeneration: 1 }, spec: { placement: { mode: 'Replicas' } } } }, merge)),
        await call(() => custom.patchNamespacedCustomObject({ ...ref, body: { spec: { placement: { mode: 'Replicas', replicas: 2 } }, status: { readyReplicas: 0 } } }, merge)),
        await call(() => custom.getNamespacedCustomObject({ ...ref, name: 'missing' })),
      ];
    },
  },
];
