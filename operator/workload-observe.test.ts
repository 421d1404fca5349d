import { describe, expect, it } from '@jest/globals';
import { findCondition } from '../api/index.js';
import type { Outcome } from './actions.js';
import { planReconcile } from './reconcile-plan.js';
import { liveNode, observation, workloadObject } from './test-fixtures.js';
import { checkStatus } from './workload-observe.js';
import { reportFor } from './workload-report.js';

const condition = { type: 'Ready', status: 'True', reason: 'ReplicasReady', message: '1 of 1 replica ready', lastTransitionTime: '2026-03-01T11:00:00Z' };

describe('checkStatus', () => {
  it('keeps a valid status whole', () => {
    const stored = { replicas: 2, readyReplicas: 1, clusterIP: '10.250.0.9', conditions: [condition] };
    expect(checkStatus(stored)).toEqual({ status: stored, errors: [] });
    expect(checkStatus(undefined)).toEqual({ status: undefined, errors: [] });
  });

  it.each([
    ['conditions as a string', { conditions: 'Ready' }, /^status\.conditions: must be a list, not the string "Ready"$/],
    ['conditions as an object', { conditions: { Ready: true } }, /^status\.conditions: must be a list/],
    ['a null condition', { conditions: [null] }, /^status\.conditions\[0\]: must be an object, not null/],
    ['a condition without a type', { conditions: [{ ...condition, type: undefined }] }, /^status\.conditions\[0\]\.type: is required/],
    ['readyReplicas as a string', { readyReplicas: 'many' }, /^status\.readyReplicas: must be a whole number/],
    ['negative replicas', { replicas: -1 }, /^status\.replicas: must be 0 or more/],
    ['clusterIP as a number', { clusterIP: 7 }, /^status\.clusterIP: must be a string, not the number 7$/],
  ])('leaves out %s, names it, and keeps the other fields', (_name, bad, error) => {
    const checked = checkStatus({ observedGeneration: 3, ...bad });
    expect(checked.errors).toEqual([expect.stringMatching(error)]);
    expect(checked.status).toEqual({ observedGeneration: 3 });
  });

  it.each([
    ['a string', 'broken', /^status: must be an object, not the string "broken"$/],
    ['a list', [1], /^status: must be an object, not a list$/],
  ])('leaves out a status that is %s', (_name, stored, error) => {
    expect(checkStatus(stored)).toEqual({ status: undefined, errors: [expect.stringMatching(error)] });
  });

  it('drops fields the schema does not know, as the API server prunes them', () => {
    expect(checkStatus({ replicas: 1, phase: 'Running' })).toEqual({ status: { replicas: 1 }, errors: [] });
  });
});

describe('a reconcile of a workload with a bad stored status', () => {
  const outcome = (workload: Outcome['workload']): Outcome => ({ workload, creates: 0, patches: 0, deletes: 0, createsSkipped: false });

  it('judges the spec on its own and names the bad field in Degraded, in a status that replaces it', () => {
    const checked = checkStatus({ conditions: 'Ready' });
    const workload = { ...workloadObject({ placement: { mode: 'Replicas', replicas: 0 } }), ...(checked.status ? { status: checked.status } : {}) };
    const o = observation({ workload, nodes: [liveNode('n1')], storedStatus: { conditions: 'Ready' }, statusErrors: checked.errors });
    const plan = planReconcile(o);
    expect(plan.kind).toBe('placing');
    const report = reportFor({ observation: o, plan, outcome: outcome(o.workload) });
    expect(Array.isArray(report.status?.conditions)).toBe(true);
    expect(findCondition(report.status?.conditions, 'Ready')).toMatchObject({ status: 'True' });
    expect(findCondition(report.status?.conditions, 'Degraded')).toMatchObject({ status: 'True', reason: 'InvalidStatus', message: expect.stringContaining('status.conditions: must be a list, not the string "Ready"') });
    expect(report.statusEvents).toEqual([{ type: 'Warning', reason: 'InvalidStatus', message: expect.stringContaining('status.conditions') }]);
  });

  it('names a bad status field beside the errors of an invalid spec', () => {
    const checked = checkStatus({ readyReplicas: 'many' });
    const workload = { ...workloadObject({ placement: { mode: 'Sometimes' } }), ...(checked.status ? { status: checked.status } : {}) };
    const o = observation({ workload, storedStatus: { readyReplicas: 'many' }, statusErrors: checked.errors });
    const plan = planReconcile(o);
    expect(plan).toMatchObject({ kind: 'invalid', errors: [expect.stringMatching(/^spec\.placement\.mode/)] });
    const degraded = findCondition(reportFor({ observation: o, plan, outcome: outcome(o.workload) }).status?.conditions, 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'InvalidSpec', message: expect.stringMatching(/spec\.placement\.mode.*status\.readyReplicas: must be a whole number/) });
  });
});
