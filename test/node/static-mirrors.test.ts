// Static workloads end to end on a devcluster: files in a directory become mirror
// NodeAssignments that kubectl shows, that come back when deleted or edited, go with their file,
// and that the real operator leaves alone — also beside a NodeWorkload of the same name.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { findCondition, type NodeAgent, type NodeAssignment } from '../../api/index.js';
import { isNotFound } from '../../kube/errors.js';
import { NODE_AGENTS, NODE_ASSIGNMENTS } from '../../kube/resource.js';
import { MirrorAssignments } from '../../agent/node/mirror-assignments.js';
import { StaticManifests } from '../../agent/node/static-manifests.js';
import { runOperator } from '../../operator/index.js';
import type { OperatorTestCluster } from '../operator/support.js';
import { getWorkload, listAssignments, workloadYaml } from '../operator/support.js';
import { eventually, mustKubectl, startOperatorTestCluster, SYSTEM_NAMESPACE, testNode, type TestNode } from './support.js';

const NS = 'static-mirrors';
const NODE = 'node-m';

function staticWorkload(name: string, image = 'busybox:1.36'): string {
  return `apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorkload
metadata:
  name: ${name}
  namespace: ${NS}
  labels: { app: ${name} }
spec:
  placement: { mode: EveryNode }
  template:
    containers:
      - name: main
        image: "${image}"
        resources: { requests: { cpu: 100m, memory: 32Mi } }
`;
}

describe('static manifests and their mirrors', () => {
  let t: OperatorTestCluster;
  let dir: string;
  let node: TestNode;
  let source: StaticManifests;
  let mirrors: MirrorAssignments;
  const logLines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shopfloor-static-mirrors-'));
    t = await startOperatorTestCluster(NS);
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(...chunk.toString().split('\n').filter(Boolean));
          done();
        },
      }),
    );
    node = testNode(t.cluster.kubeConfig, NODE, { logger });
    source = new StaticManifests({ dir, nodeName: NODE, logger });
    mirrors = new MirrorAssignments({ client: node.client, nodeName: NODE, source, owner: node.registration, logger });
    await source.start();
    await node.registration.start();
    await mirrors.start();
    await eventually('registered', () => node.registration.ready() === true);
  });

  afterAll(async () => {
    await mirrors?.stop();
    await source?.stop();
    await node?.registration.stop();
    node?.client.close();
    t?.client.close();
    await t?.cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const mirror = async (name: string): Promise<NodeAssignment | undefined> => {
    try {
      return await t.client.get<NodeAssignment>(NODE_ASSIGNMENTS, name, { namespace: NS });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const image = (a: NodeAssignment | undefined): string | undefined => a?.spec.template.containers[0]?.image;

  it('creates a mirror of a static file that kubectl get na shows, owned by the NodeAgent', async () => {
    writeFileSync(join(dir, 'web.yaml'), staticWorkload('web'));
    await eventually('kubectl get na to show the mirror', async () => (await mustKubectl(t.cluster, ['get', 'na', '-n', NS])).includes(`web-${NODE}`));
    const m = (await mirror(`web-${NODE}`))!;
    const s = source.get(`${NS}/web-${NODE}`)!;
    const agent = await t.client.get<NodeAgent>(NODE_AGENTS, NODE);
    expect(m.metadata.labels).toEqual({
      app: 'web',
      'shopfloor.dev/node': NODE,
      'shopfloor.dev/revision': s.spec.revision,
      'app.kubernetes.io/managed-by': 'shopfloor',
      'shopfloor.dev/static': 'true',
    });
    expect(m.metadata.annotations).toMatchObject({ 'shopfloor.dev/config-hash': s.metadata.uid, 'shopfloor.dev/config-source': join(dir, 'web.yaml') });
    expect(m.metadata.ownerReferences).toEqual([{ apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeAgent', name: NODE, uid: agent.metadata.uid }]);
    expect(m.metadata.uid).not.toBe(s.metadata.uid);
    expect(m.spec).toEqual(s.spec);
  });

  it('brings a deleted mirror back', async () => {
    const before = (await mirror(`web-${NODE}`))!;
    await mustKubectl(t.cluster, ['delete', 'na', `web-${NODE}`, '-n', NS]);
    const after = await eventually('the mirror to come back', async () => {
      const m = await mirror(`web-${NODE}`);
      return m && m.metadata.uid !== before.metadata.uid && m;
    });
    expect(after.spec).toEqual(before.spec);
  });

  it('puts back a mirror a user edited, keeping the status the agent wrote, and then leaves it be', async () => {
    await t.client.patchStatus(NODE_ASSIGNMENTS, `web-${NODE}`, { status: { phase: 'Running' } }, { namespace: NS });
    await mustKubectl(t.cluster, ['patch', 'na', `web-${NODE}`, '-n', NS, '--type', 'merge', '-p', '{"spec":{"template":{"containers":[{"name":"main","image":"evil:1"}]}},"metadata":{"labels":{"shopfloor.dev/workload":"web"}}}']);
    const restored = await eventually('the edit to be undone', async () => {
      const m = await mirror(`web-${NODE}`);
      return image(m) === 'busybox:1.36' && m?.metadata.labels?.['shopfloor.dev/workload'] === undefined && m;
    });
    expect(restored.spec).toEqual(source.get(`${NS}/web-${NODE}`)?.spec);
    expect(restored.status?.phase).toBe('Running');
    // Restored once, not over and over: the mirror stays as it is while time passes.
    const ticks = node.statusTicks();
    await eventually('a second of status rounds', () => node.statusTicks() >= ticks + 5);
    expect((await mirror(`web-${NODE}`))?.metadata.resourceVersion).toBe(restored.metadata.resourceVersion);
  });

  it('follows an edit of the file', async () => {
    writeFileSync(join(dir, 'web.yaml'), staticWorkload('web', 'busybox:1.37'));
    const m = await eventually('the mirror to follow the file', async () => {
      const a = await mirror(`web-${NODE}`);
      return image(a) === 'busybox:1.37' && a;
    });
    expect(m.metadata.labels?.['shopfloor.dev/revision']).toBe(source.get(`${NS}/web-${NODE}`)?.spec.revision);
    expect(m.metadata.annotations?.['shopfloor.dev/config-hash']).toBe(source.get(`${NS}/web-${NODE}`)?.metadata.uid);
  });

  it('reports a bad file with its field error and skips it, while the good ones stay', async () => {
    writeFileSync(join(dir, 'bad.yaml'), staticWorkload('bad').replace('image: "busybox:1.36"', 'image: ""'));
    await eventually('the bad file to be reported', () => source.problems().some((p) => p.file === join(dir, 'bad.yaml')));
    const logged = await eventually('the problem in the log', () => logLines.find((l) => l.includes('static manifest skipped') && l.includes('bad.yaml')));
    expect(JSON.parse(logged)).toMatchObject({
      level: 40,
      file: join(dir, 'bad.yaml'),
      errors: [{ path: 'spec.template.containers[0].image', message: 'must be an image reference such as busybox:1.36' }],
    });
    expect(await mirror(`bad-${NODE}`)).toBeUndefined();
    expect(await mirror(`web-${NODE}`)).toBeDefined();
    unlinkSync(join(dir, 'bad.yaml'));
  });

  it('is left alone by the operator, also beside a NodeWorkload of the same name', async () => {
    writeFileSync(join(dir, 'solo.yaml'), staticWorkload('solo'));
    const solo = await eventually('the solo mirror', () => mirror(`solo-${NODE}`));
    const web = (await mirror(`web-${NODE}`))!;
    const operator = await runOperator({ kubeConfig: t.cluster.kubeConfig, namespace: SYSTEM_NAMESPACE, leaderElect: false, metricsAddress: false });
    try {
      await mustKubectl(t.cluster, ['apply', '-f', '-'], workloadYaml(NS, 'web', { mode: 'EveryNode' }));
      // The operator places its own replica of web on the node and reports it: it has reconciled.
      await eventually('the operator to place web', async () => (await listAssignments(t.cluster, NS, 'web')).length === 1);
      await eventually('the operator to report web', async () => (await getWorkload(t.cluster, NS, 'web')).status?.replicas === 1);
      expect((await mirror(`solo-${NODE}`))?.metadata.uid).toBe(solo.metadata.uid);
      const webNow = await mirror(`web-${NODE}`);
      expect(webNow?.metadata.uid).toBe(web.metadata.uid);
      expect(webNow?.spec).toEqual(web.spec);

      await mustKubectl(t.cluster, ['delete', 'nw', 'web', '-n', NS, '--wait=true']);
      await eventually('the operator to remove its replica', async () => (await listAssignments(t.cluster, NS, 'web')).length === 0);
      expect((await mirror(`web-${NODE}`))?.metadata.uid).toBe(web.metadata.uid);
      expect((await mirror(`solo-${NODE}`))?.metadata.uid).toBe(solo.metadata.uid);
    } finally {
      await operator.stop();
    }
  });

  it('deletes the mirror when its file goes', async () => {
    unlinkSync(join(dir, 'solo.yaml'));
    await eventually('the mirror to go', async () => (await mirror(`solo-${NODE}`)) === undefined);
    expect(await mirror(`web-${NODE}`)).toBeDefined();
  });

  it('mirrors again, owned by the new NodeAgent, when the NodeAgent is deleted', async () => {
    const old = await t.client.get<NodeAgent>(NODE_AGENTS, NODE);
    await mustKubectl(t.cluster, ['delete', 'nodeagent', NODE]);
    const renewed = await eventually('the node to be registered again', async () => {
      try {
        const a = await t.client.get<NodeAgent>(NODE_AGENTS, NODE);
        return a.metadata.uid !== old.metadata.uid && findCondition(a.status?.conditions, 'Ready') && a;
      } catch {
        return false;
      }
    });
    await eventually('the mirror owned by the new NodeAgent', async () => {
      const m = await mirror(`web-${NODE}`);
      return (m?.metadata.ownerReferences as Array<{ uid: string }> | undefined)?.[0]?.uid === renewed.metadata.uid;
    });
  });
});
