// The executor against a fake API client (a real API server cannot be made to answer one chosen
// write with a conflict, a not-found or a 500 on demand).
import { describe, expect, it } from '@jest/globals';
import { FINALIZER_VIP } from '../api/index.js';
import { FakeApiClient } from '../kube/fake-api-client.js';
import { objectKey } from '../kube/types.js';
import { ActionExecutor, type Action } from './actions.js';
import { AssumedUsage } from './assumed-usage.js';
import { Expectations } from './expectations.js';
import { assignmentRequests, type NodeAssignmentObject } from './objects.js';
import { assignmentObject, workloadObject } from './test-fixtures.js';
import { VipAllocator } from './vip-allocator.js';
import { VipClaims } from './vip-claims.js';

function setup() {
  const api = new FakeApiClient();
  const usage = new AssumedUsage();
  const expectations = new Expectations<NodeAssignmentObject>();
  const vips = new VipClaims(new VipAllocator('10.250.0.0/24'), () => {});
  const executor = new ActionExecutor({ client: api, vips, usage, expectations, fieldManager: 'test' });
  const workload = workloadObject({ service: { ports: [{ port: 80 }] } });
  api.put(workload);
  const signal = new AbortController().signal;
  const run = (actions: Action[]) => executor.execute({ key: 'ns/web', workload, actions, signal });
  return { api, usage, expectations, vips, workload, run };
}

/** An assignment the cache holds, counted as the cache's events would have counted it. */
function cached(usage: AssumedUsage, name: string, node: string): NodeAssignmentObject {
  const a = assignmentObject(name, node);
  usage.set(objectKey(a), node, assignmentRequests(a));
  return a;
}

describe('ActionExecutor', () => {
  it('writes the finalizer before it claims the VIP, and returns the workload as the server answered', async () => {
    const { api, vips, run } = setup();
    const out = await run([{ kind: 'setFinalizer' }, { kind: 'claimVip', requested: undefined }]);
    expect(api.calls).toEqual([`patch web {"metadata":{"finalizers":["${FINALIZER_VIP}"],"resourceVersion":"5"}}`]);
    expect(out).toMatchObject({ finalizer: 'set', vip: { result: { ok: true, ip: '10.250.0.1' } }, creates: 0, patches: 0, deletes: 0 });
    expect(out.workload?.metadata?.finalizers).toEqual([FINALIZER_VIP]);
    expect(out.workload?.metadata?.namespace).toBe('ns');
    expect(vips.held('ns/web')).toBe('10.250.0.1');
  });

  it('stops, without an error, when the workload changed under it (conflict): nothing more is done', async () => {
    const { api, vips, run } = setup();
    api.fail('patch', 'web', 409);
    const out = await run([{ kind: 'setFinalizer' }, { kind: 'claimVip', requested: undefined }, { kind: 'createAssignment', assignment: assignmentObject('web-a', 'n1') }]);
    expect(out.stopped).toBe('conflict');
    expect(out.error).toBeUndefined();
    expect(vips.held('ns/web')).toBeUndefined();
    expect(api.calls).toHaveLength(1);
  });

  it('stops, without an error, when the workload is gone (not found)', async () => {
    const { api, run } = setup();
    api.fail('patch', 'web', 404);
    const out = await run([{ kind: 'releaseVip' }, { kind: 'dropFinalizer' }]);
    expect(out).toMatchObject({ stopped: 'gone' });
    expect(out.error).toBeUndefined();
  });

  it('stops with the error when a write of the workload fails otherwise', async () => {
    const { api, run } = setup();
    api.fail('patch', 'web', 500, { message: 'etcd hiccup' });
    const out = await run([{ kind: 'setFinalizer' }, { kind: 'createAssignment', assignment: assignmentObject('web-a', 'n1') }]);
    expect(out.stopped).toBe('failed');
    expect(out.error?.message).toMatch(/etcd hiccup/);
    expect(api.calls).toHaveLength(1);
  });

  it('counts an assignment that is gone already as deleted, and a patch of one as done', async () => {
    const { api, usage, expectations, run } = setup();
    const a = cached(usage, 'web-a', 'n1');
    api.fail('delete', 'web-a', 404);
    api.fail('patchStatus', 'web-b', 404);
    const out = await run([
      { kind: 'deleteAssignment', assignment: a, why: 'scaled down' },
      { kind: 'patchAssignment', assignment: assignmentObject('web-b', 'n2'), subresource: 'status', patch: { status: { phase: 'Unknown' } } },
    ]);
    expect(out).toMatchObject({ deletes: 1, patches: 1 });
    expect(out.error).toBeUndefined();
    expect(usage.usage().get('n1')).toBeUndefined();
    expect(expectations.view('ns/web', [a])).toEqual([]);
  });

  it('counts an assignment again whose delete failed, and creates nothing then: replicas are replaced, never surged', async () => {
    const { api, usage, expectations, run } = setup();
    const a = cached(usage, 'web-a', 'n1');
    api.fail('delete', 'web-a', 500, { message: 'etcd hiccup' });
    const out = await run([
      { kind: 'deleteAssignment', assignment: a, why: 'replaced by revision r1' },
      { kind: 'createAssignment', assignment: assignmentObject('web-b', 'n1') },
    ]);
    expect(api.calls).toEqual(['delete web-a']);
    expect(out).toMatchObject({ deletes: 1, creates: 0, createsSkipped: true });
    expect(out.error?.message).toBe('1 of 1 writes for NodeWorkload ns/web failed; first: DELETE web-a: 500 InternalError: etcd hiccup');
    expect(usage.usage().get('n1')?.pods).toBe(1);
    expect(expectations.view('ns/web', [a])).toEqual([a]);
  });

  it('counts a created assignment before the cache shows it, keeps one that exists already, and takes back one that failed', async () => {
    const { api, usage, expectations, run } = setup();
    api.fail('create', 'web-b', 409, { reason: 'AlreadyExists' });
    api.fail('create', 'web-c', 500, { message: 'etcd hiccup' });
    const out = await run(['web-a', 'web-b', 'web-c'].map((name) => ({ kind: 'createAssignment', assignment: assignmentObject(name, 'n1') }) as const));
    expect(out.creates).toBe(3);
    expect(out.error?.message).toMatch(/^1 of 3 writes for NodeWorkload ns\/web failed; first: .*etcd hiccup/);
    expect(expectations.view('ns/web', []).map((a) => a.metadata?.name)).toEqual(['web-a', 'web-b']);
    expect(usage.usage().get('n1')?.pods).toBe(2);
  });

  it('releases a VIP and says which', async () => {
    const { vips, run } = setup();
    vips.claim('ns/web', '10.250.0.7');
    expect((await run([{ kind: 'releaseVip' }])).released).toBe('10.250.0.7');
    expect((await run([{ kind: 'releaseVip' }])).released).toBeUndefined();
  });
});
