import { describe, expect, it } from '@jest/globals';
import { findCondition } from '../api/index.js';
import type { Outcome } from './actions.js';
import { planReconcile } from './reconcile-plan.js';
import { assignmentObject, currentRevision, liveNode, observation, workloadObject } from './test-fixtures.js';
import type { Observation } from './workload-observe.js';
import { reportFor } from './workload-report.js';

/** What the executor did: by default, nothing but what `over` says. */
function outcome(o: Observation, over: Partial<Outcome> = {}): Outcome {
  return { workload: o.workload, creates: 0, patches: 0, deletes: 0, createsSkipped: false, ...over };
}

const degraded = (status: { conditions?: Parameters<typeof findCondition>[0] } | undefined) => findCondition(status?.conditions, 'Degraded');

describe('reportFor', () => {
  it('tells what was placed and leaves the status for when the assignments stand still', () => {
    const o = observation({ workload: workloadObject({ placement: { mode: 'Replicas', replicas: 2 } }), nodes: [liveNode('n1'), liveNode('n2')] });
    const plan = planReconcile(o);
    const report = reportFor({ observation: o, plan, outcome: outcome(o, { creates: 2 }) });
    expect(report.status).toBeUndefined();
    expect(report.events).toEqual([{ type: 'Normal', reason: 'Scheduled', message: `placed 2 replicas of revision ${currentRevision(o.workload!)} on n1, n2` }]);
  });

  it('shows a failed write at once in Degraded, and says nothing was placed when creates were left out', () => {
    const workload = workloadObject({ placement: { mode: 'Replicas', replicas: 1 } });
    const o = observation({ workload, nodes: [liveNode('n1')], assignments: [assignmentObject('web-a', 'n1', { revision: 'old' })] });
    const plan = planReconcile(o);
    const error = new Error('1 of 1 writes for NodeWorkload ns/web failed; first: DELETE web-a: 500 InternalError: etcd hiccup');
    const report = reportFor({ observation: o, plan, outcome: outcome(o, { deletes: 1, createsSkipped: true, error }) });
    expect(report.events).toEqual([{ type: 'Normal', reason: 'Descheduled', message: `removed 1 replica: web-a on n1 (replaced by revision ${currentRevision(workload)})` }]);
    expect(degraded(report.status)).toMatchObject({ status: 'True', reason: 'WriteFailed', message: `could not write NodeAssignments (retrying): ${error.message}` });
    expect(report.statusEvents).toEqual([{ type: 'Warning', reason: 'WriteFailed', message: degraded(report.status)?.message }]);
  });

  it('warns once of replicas that cannot be placed, as FailedScheduling', () => {
    const o = observation({ workload: workloadObject({ placement: { mode: 'Replicas', replicas: 1, nodeSelector: { disk: 'ssd' } } }) });
    const report = reportFor({ observation: o, plan: planReconcile(o), outcome: outcome(o) });
    expect(degraded(report.status)).toMatchObject({ status: 'True', reason: 'Unschedulable', message: expect.stringContaining('0 of 3 nodes match nodeSelector disk=ssd') });
    expect(report.statusEvents).toEqual([{ type: 'Warning', reason: 'FailedScheduling', message: degraded(report.status)?.message }]);
    // The same problem again: the status stands, no second event.
    const again = observation({ workload: { ...o.workload!, status: report.status } });
    expect(reportFor({ observation: again, plan: planReconcile(again), outcome: outcome(again) }).statusEvents).toEqual([]);
  });

  it('shows the VIP the workload holds, or why it has none', () => {
    const workload = workloadObject({ placement: { mode: 'Replicas', replicas: 0 }, service: { ports: [{ port: 80 }], clusterIP: '10.250.0.9' } });
    const o = observation({ workload });
    const plan = planReconcile(o);
    expect(reportFor({ observation: o, plan, outcome: outcome(o, { vip: { result: { ok: true, ip: '10.250.0.9' } } }) }).status?.clusterIP).toBe('10.250.0.9');
    const taken = reportFor({ observation: o, plan, outcome: outcome(o, { vip: { result: { ok: false, reason: 'ClusterIPTaken', message: 'spec.service.clusterIP 10.250.0.9 is already used by NodeWorkload ns/other' } } }) });
    expect(taken.status?.clusterIP).toBeUndefined();
    expect(degraded(taken.status)).toMatchObject({ status: 'True', reason: 'ClusterIPTaken' });
  });

  it('names replicas that fail and replicas on a node that stopped renewing its Lease', () => {
    const workload = workloadObject({ placement: { mode: 'Replicas', replicas: 2 } });
    const revision = currentRevision(workload);
    const crashing = assignmentObject('web-a', 'n1', { revision, status: { phase: 'Running', ready: false, containers: [{ name: 'main', ready: false, restartCount: 3, reason: 'CrashLoopBackOff' }] } as never });
    const o = observation({ workload, nodes: [liveNode('n1'), liveNode('n2', { live: false, health: 'Expired' })], assignments: [crashing, assignmentObject('web-b', 'n2', { revision, status: { phase: 'Unknown', ready: false } })] });
    const report = reportFor({ observation: o, plan: planReconcile(o), outcome: outcome(o) });
    expect(degraded(report.status)?.message).toBe(
      '1 replica on n2 in state Unknown: the node stopped renewing its Lease; web-a on n1: container main CrashLoopBackOff',
    );
  });

  it('reports an invalid spec once, and nothing for a workload that is gone or being deleted', () => {
    const o = observation({ workload: workloadObject({ placement: { mode: 'Replicas', replicas: -1 } }) });
    const report = reportFor({ observation: o, plan: planReconcile(o), outcome: outcome(o) });
    expect(degraded(report.status)).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
    expect(report.statusEvents.map((e) => e.reason)).toEqual(['InvalidSpec']);
    const again = observation({ workload: { ...o.workload!, status: report.status } });
    expect(reportFor({ observation: again, plan: planReconcile(again), outcome: outcome(again) }).statusEvents).toEqual([]);

    const gone = observation({ workload: undefined });
    expect(reportFor({ observation: gone, plan: planReconcile(gone), outcome: outcome(gone) })).toEqual({ events: [], statusEvents: [] });
  });
});
