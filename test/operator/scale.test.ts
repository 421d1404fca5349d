// `kubectl scale` on NodeWorkloads, through the scale subresource the CRD declares: scaling up and
// down as a user does it, reading the Scale a HorizontalPodAutoscaler reads, the preconditions
// kubectl offers, a negative count, and an EveryNode workload, which has no count to scale.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually, getWorkload, condition, listAssignments, mustKubectl, notYet, startOperatorSuite, suffix, workloadYaml, type OperatorSuite } from './support.js';

const ns = `scale-${suffix()}`;
let env: OperatorSuite | undefined;

beforeAll(async () => {
  env = await startOperatorSuite(ns, [
    { name: 'n1', labels: {}, cpu: '4', memory: '8Gi' },
    { name: 'n2', labels: {}, cpu: '4', memory: '8Gi' },
  ], 200);
}, 120_000);

afterAll(async () => {
  await env?.stop();
}, 60_000);

const kubectl = (args: string[], input?: string) => env!.cluster.kubectl(args, input === undefined ? {} : { input });
const scaleOf = async (name: string) => JSON.parse(await mustKubectl(env!.cluster, ['get', 'nw', name, '-n', ns, '--subresource=scale', '-o', 'json'])) as { apiVersion: string; kind: string; metadata: { name: string; resourceVersion: string }; spec: { replicas?: number }; status: { replicas: number; selector?: string } };
const replicasOf = async (name: string) => ((await getWorkload(env!.cluster, ns, name)).spec as { placement: { replicas?: number } }).placement.replicas;
/** Waits until the workload has `n` assignments. */
const placed = (name: string, n: number) =>
  eventually(`${name} to have ${n} NodeAssignments`, async () => {
    const count = (await listAssignments(env!.cluster, ns, name)).length;
    return count === n || notYet(`${count}`);
  });
/** Waits until the operator has reported the workload Ready at its generation, so that it writes nothing more. */
const settled = (name: string) =>
  eventually(`${name} to be Ready at its generation`, async () => {
    const wl = await getWorkload(env!.cluster, ns, name);
    const ready = condition(wl, 'Ready');
    return (ready?.status === 'True' && ready.observedGeneration === wl.metadata?.generation) || notYet(JSON.stringify(wl.status));
  });

describe('kubectl scale of a NodeWorkload', () => {
  it('scales a Replicas workload up and down, and its Scale says what runs and how to select it', async () => {
    await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml(ns, 'web', { replicas: 2 }));
    await placed('web', 2);

    expect((await kubectl(['scale', 'nw/web', '-n', ns, '--replicas=5'])).stdout.trim()).toBe('nodeworkload.shopfloor.dev/web scaled');
    expect(await replicasOf('web')).toBe(5);
    await placed('web', 5);
    await settled('web');
    expect(await scaleOf('web')).toMatchObject({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 5 }, status: { replicas: 5, selector: 'shopfloor.dev/workload=web' } });
    // The selector is the one that finds the replicas.
    const selected = JSON.parse(await mustKubectl(env!.cluster, ['get', 'na', '-n', ns, '-l', (await scaleOf('web')).status.selector ?? '', '-o', 'json'])) as { items: unknown[] };
    expect(selected.items).toHaveLength(5);

    await mustKubectl(env!.cluster, ['scale', 'nw/web', '-n', ns, '--replicas=1']);
    await placed('web', 1);
    await settled('web');
    expect((await scaleOf('web')).status.replicas).toBe(1);
  });

  it('keeps kubectl\'s preconditions: the current count and the resourceVersion', async () => {
    await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml(ns, 'api', { replicas: 2 }));
    await settled('api');
    const wrongCount = await kubectl(['scale', 'nw/api', '-n', ns, '--current-replicas=5', '--replicas=3']);
    expect(wrongCount.code).not.toBe(0);
    expect(wrongCount.stderr).toContain('Expected replicas to be 5, was 2');

    const { resourceVersion } = (await scaleOf('api')).metadata;
    await mustKubectl(env!.cluster, ['scale', 'nw/api', '-n', ns, `--resource-version=${resourceVersion}`, '--replicas=3']);
    const stale = await kubectl(['scale', 'nw/api', '-n', ns, `--resource-version=${resourceVersion}`, '--replicas=4']);
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain(`Expected resource version to be ${resourceVersion}`);
    expect(await replicasOf('api')).toBe(3);
  });

  it('refuses a negative count through the workload\'s own schema, takes a whole Scale written back, and refuses a stale one', async () => {
    await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml(ns, 'neg', { replicas: 2 }));
    await settled('neg');
    const path = `/apis/shopfloor.dev/v1alpha1/namespaces/${ns}/nodeworkloads/neg/scale`;
    const scale = await scaleOf('neg');
    const negative = await kubectl(['replace', '--raw', path, '-f', '-'], JSON.stringify({ ...scale, spec: { replicas: -1 } }));
    expect(negative.code).not.toBe(0);
    expect(negative.stderr).toContain('spec.placement.replicas: Invalid value: -1');
    expect(await replicasOf('neg')).toBe(2);

    const written = JSON.parse(await mustKubectl(env!.cluster, ['replace', '--raw', path, '-f', '-'], JSON.stringify({ ...scale, spec: { replicas: 4 } }))) as { kind: string; spec: { replicas: number } };
    expect(written).toMatchObject({ kind: 'Scale', spec: { replicas: 4 } });
    expect(await replicasOf('neg')).toBe(4);
    // A Scale read before that write is stale: the server refuses it rather than undo the write.
    const stale = await kubectl(['replace', '--raw', path, '-f', '-'], JSON.stringify({ ...scale, spec: { replicas: 7 } }));
    expect(stale.stderr).toContain('the object has been modified');
    expect(await replicasOf('neg')).toBe(4);
  });

  it('refuses to scale an EveryNode workload, saying why, and leaves it running on every node', async () => {
    await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml(ns, 'daemon', { mode: 'EveryNode' }));
    await placed('daemon', 2);
    const refused = await kubectl(['scale', 'nw/daemon', '-n', ns, '--replicas=3']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('spec.placement.replicas');
    expect(refused.stderr).toContain('EveryNode');
    expect(await replicasOf('daemon')).toBeUndefined();
    expect(await listAssignments(env!.cluster, ns, 'daemon')).toHaveLength(2);
  });
});
