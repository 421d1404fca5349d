import { describe, expect, it } from '@jest/globals';
import { ANNOTATION_REPLACED_AT, FINALIZER_VIP, LABEL_NODE } from '../api/index.js';
import type { Action } from './actions.js';
import { assignmentName, planReconcile } from './reconcile-plan.js';
import { NOW, assignmentObject, currentRevision, liveNode, observation, workloadObject } from './test-fixtures.js';

/** Actions as one line each: what a reader of a plan wants to see. */
function describeActions(actions: readonly Action[]): string[] {
  return actions.map((a) => {
    switch (a.kind) {
      case 'claimVip':
        return `claimVip ${a.requested ?? 'any'}`;
      case 'createAssignment':
        return `create on ${a.assignment.spec.nodeName}`;
      case 'patchAssignment':
        return `patch ${a.subresource ?? 'metadata'} of ${a.assignment.metadata?.name}`;
      case 'deleteAssignment':
        return `delete ${a.assignment.metadata?.name} (${a.why})`;
      default:
        return a.kind;
    }
  });
}

const terminating = { deletionTimestamp: '2026-03-01T11:59:00Z' };

describe('planReconcile', () => {
  it('releases the VIP of a workload that is gone and deletes what is left of it, terminating ones aside', () => {
    const plan = planReconcile(observation({ workload: undefined, assignments: [assignmentObject('web-a', 'n1'), assignmentObject('web-b', 'n2', { metadata: terminating })] }));
    expect(plan.kind).toBe('gone');
    expect(describeActions(plan.actions)).toEqual(['releaseVip', 'delete web-a (its NodeWorkload is gone)']);
  });

  it('deletes the replicas of a workload being deleted, then releases its VIP and drops the finalizer', () => {
    const deleting = workloadObject({}, { deletionTimestamp: '2026-03-01T11:59:00Z', finalizers: [FINALIZER_VIP] });
    const withReplicas = planReconcile(observation({ workload: deleting, assignments: [assignmentObject('web-a', 'n1'), assignmentObject('web-b', 'n2', { metadata: terminating })] }));
    expect(describeActions(withReplicas.actions)).toEqual(['delete web-a (its NodeWorkload is being deleted)']);
    // A terminating replica still holds the VIP: nothing more until it is gone.
    expect(planReconcile(observation({ workload: deleting, assignments: [assignmentObject('web-b', 'n2', { metadata: terminating })] })).actions).toEqual([]);
    // So does one this operator deleted that the cache still shows as it was (the view hides it).
    expect(planReconcile(observation({ workload: deleting, unconfirmedDeletes: 1 })).actions).toEqual([]);
    expect(describeActions(planReconcile(observation({ workload: deleting })).actions)).toEqual(['releaseVip', 'dropFinalizer']);
    // Without the finalizer nothing waits for the replicas.
    const plain = workloadObject({}, { deletionTimestamp: '2026-03-01T11:59:00Z' });
    expect(describeActions(planReconcile(observation({ workload: plain, assignments: [assignmentObject('web-a', 'n1')] })).actions)).toEqual(['releaseVip']);
  });

  it('changes nothing for a spec it cannot act on, and names the field', () => {
    const plan = planReconcile(observation({ workload: workloadObject({ placement: { mode: 'Replicas', replicas: -1 } }) }));
    expect(plan.kind).toBe('invalid');
    expect(plan.actions).toEqual([]);
    expect(plan.kind === 'invalid' && plan.errors.join()).toMatch(/replicas/);
  });

  it('sets the finalizer before it claims a VIP, and drops both when the service goes', () => {
    const service = workloadObject({ service: { ports: [{ port: 80 }], clusterIP: '10.250.0.9' } });
    expect(describeActions(planReconcile(observation({ workload: service })).actions).slice(0, 2)).toEqual(['setFinalizer', 'claimVip 10.250.0.9']);
    const held = workloadObject({ service: { ports: [{ port: 80 }] } }, { finalizers: [FINALIZER_VIP] });
    expect(describeActions(planReconcile(observation({ workload: held })).actions).slice(0, 1)).toEqual(['claimVip any']);
    const gone = workloadObject({}, { finalizers: [FINALIZER_VIP] });
    expect(describeActions(planReconcile(observation({ workload: gone })).actions).slice(0, 2)).toEqual(['releaseVip', 'dropFinalizer']);
    expect(describeActions(planReconcile(observation()).actions).slice(0, 1)).toEqual(['releaseVip']);
  });

  it('creates the missing replicas as assignments of the current revision, named from revision, node and ordinal', () => {
    const workload = workloadObject({ placement: { mode: 'Replicas', replicas: 3 } });
    const revision = currentRevision(workload);
    const taken = assignmentName('web', revision, 'n1', 0);
    const plan = planReconcile(observation({ workload, nodes: [liveNode('n1')], takenNames: new Set([taken]) }));
    const creates = plan.actions.filter((a) => a.kind === 'createAssignment').map((a) => (a.kind === 'createAssignment' ? a.assignment : undefined));
    expect(creates.map((a) => a?.metadata?.name)).toEqual([1, 2, 3].map((ordinal) => assignmentName('web', revision, 'n1', ordinal)));
    expect(creates[0]).toMatchObject({
      kind: 'NodeAssignment',
      metadata: { namespace: 'ns', labels: { [LABEL_NODE]: 'n1' }, ownerReferences: [{ kind: 'NodeWorkload', name: 'web', uid: 'u1', controller: true }] },
      spec: { nodeName: 'n1', workloadRef: { name: 'web', uid: 'u1' }, revision },
    });
  });

  it('deletes leftovers of an earlier workload of the same name and does not count them', () => {
    const workload = workloadObject({ placement: { mode: 'Replicas', replicas: 1 } });
    const revision = currentRevision(workload);
    const plan = planReconcile(observation({ workload, assignments: [assignmentObject('web-old', 'n1', { uid: 'u0', revision }), assignmentObject('web-a', 'n2', { revision })] }));
    expect(describeActions(plan.actions)).toEqual(['releaseVip', 'delete web-old (left over from an earlier NodeWorkload of the same name)']);
    expect(plan.kind === 'placing' && plan.replicas.map((a) => a.metadata?.name)).toEqual(['web-a']);
  });

  it('marks replicas of an expired node Unknown, and those of a lost node replaced, with a new one elsewhere', () => {
    const workload = workloadObject({ placement: { mode: 'Replicas', replicas: 2 } });
    const revision = currentRevision(workload);
    const plan = planReconcile(
      observation({
        workload,
        nodes: [liveNode('n1'), liveNode('n2', { live: false, health: 'Expired' }), liveNode('n3', { live: false, health: 'Lost' }), liveNode('n4')],
        assignments: [assignmentObject('web-a', 'n2', { revision }), assignmentObject('web-b', 'n3', { revision })],
      }),
    );
    expect(describeActions(plan.actions)).toEqual(['releaseVip', 'patch status of web-a', 'patch status of web-b', 'patch metadata of web-b', expect.stringMatching(/^create on n[14]$/)]);
    const unknown = plan.actions[1];
    expect(unknown?.kind === 'patchAssignment' && unknown.patch).toMatchObject({
      status: { phase: 'Unknown', ready: false, conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeLost', lastTransitionTime: new Date(NOW).toISOString().replace('.000', '') }] },
    });
    const replaced = plan.actions[3];
    expect(replaced?.kind === 'patchAssignment' && replaced.patch).toEqual({ metadata: { annotations: { [ANNOTATION_REPLACED_AT]: new Date(NOW).toISOString().replace('.000', '') } } });
  });

  it('replaces an old revision: the delete of the old replica and the create of the new one in one plan', () => {
    const workload = workloadObject({ placement: { mode: 'Replicas', replicas: 1 } });
    const plan = planReconcile(observation({ workload, nodes: [liveNode('n1')], assignments: [assignmentObject('web-a', 'n1', { revision: 'old' })] }));
    expect(describeActions(plan.actions)).toEqual(['releaseVip', `delete web-a (replaced by revision ${currentRevision(workload)})`, 'create on n1']);
  });

  it('plans nothing for a workload that is as asked', () => {
    const workload = workloadObject({ placement: { mode: 'Replicas', replicas: 1 } });
    const plan = planReconcile(observation({ workload, assignments: [assignmentObject('web-a', 'n1', { revision: currentRevision(workload) })] }));
    expect(describeActions(plan.actions)).toEqual(['releaseVip']);
    expect(plan.kind === 'placing' && plan.placement.kept.map((a) => a.name)).toEqual(['web-a']);
  });
});
