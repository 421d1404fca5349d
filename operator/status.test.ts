import { describe, expect, it } from '@jest/globals';
import { findCondition } from '../api/index.js';
import type { AssignmentView } from './plan.js';
import { invalidSpecStatus, workloadStatus, type StatusInput } from './status.js';

const now = new Date('2026-01-01T00:00:00Z');
let seq = 0;
function na(over: Partial<AssignmentView> = {}): AssignmentView {
  seq++;
  return { name: `a${seq}`, nodeName: 'w1', revision: 'r2', ready: true, replaced: false, requests: { cpuMillis: 0, memoryBytes: 0 }, createdAt: seq, ...over };
}

function status(over: Partial<StatusInput>) {
  return workloadStatus({ name: 'web', generation: 4, revision: 'r2', desired: 3, replicas: [], nodeLive: () => true, clusterIP: undefined, problems: [], blocked: false, previous: undefined, now, ...over });
}

describe('workloadStatus', () => {
  it('is Ready when every desired replica is ready at the current revision', () => {
    const s = status({ replicas: [na(), na(), na()], clusterIP: '10.250.0.1' });
    expect(s).toMatchObject({ observedGeneration: 4, replicas: 3, readyReplicas: 3, updatedReplicas: 3, availableReplicas: 3, desiredReplicas: 3, clusterIP: '10.250.0.1', currentRevision: 'r2' });
    expect(findCondition(s.conditions, 'Ready')).toMatchObject({ status: 'True', reason: 'ReplicasReady', message: '3 of 3 replicas ready at revision r2', observedGeneration: 4 });
    expect(findCondition(s.conditions, 'Progressing')).toMatchObject({ status: 'False', reason: 'Complete' });
    expect(findCondition(s.conditions, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it.each<[string, Partial<StatusInput>, string, string, string]>([
    ['new replicas not ready yet', { replicas: [na(), na({ ready: false }), na({ ready: false })] }, 'False', 'True', 'WaitingForReady'],
    ['replicas still to be placed', { replicas: [na()] }, 'False', 'True', 'ScalingUp'],
    ['too many replicas', { replicas: [na(), na(), na(), na()] }, 'False', 'True', 'ScalingDown'],
    ['an old revision left', { replicas: [na(), na(), na({ revision: 'r1' })] }, 'False', 'True', 'RollingUpdate'],
    ['a replica on a node that went away', { replicas: [na(), na(), na({ nodeName: 'w9' })], nodeLive: (n: string) => n !== 'w9' }, 'False', 'True', 'WaitingForReady'],
  ])('%s', (_name, over, ready, progressing, reason) => {
    const s = status(over);
    expect(findCondition(s.conditions, 'Ready')?.status).toBe(ready);
    expect(findCondition(s.conditions, 'Progressing')).toMatchObject({ status: progressing, reason });
  });

  it('does not count a replica on a dead node as ready', () => {
    const s = status({ replicas: [na(), na({ nodeName: 'w9' })], nodeLive: (n) => n !== 'w9' });
    expect(s.readyReplicas).toBe(1);
  });

  it('says why it is stuck when replicas cannot be placed', () => {
    const problems = [{ reason: 'Unschedulable', message: '0 of 3 nodes match nodeSelector disk=ssd' }];
    const s = status({ desired: 3, replicas: [], problems, blocked: true });
    expect(findCondition(s.conditions, 'Degraded')).toMatchObject({ status: 'True', reason: 'Unschedulable', message: '0 of 3 nodes match nodeSelector disk=ssd' });
    expect(findCondition(s.conditions, 'Ready')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    expect(findCondition(s.conditions, 'Progressing')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
  });

  it('joins several problems into one Degraded message, the first giving the reason', () => {
    const s = status({ replicas: [na(), na(), na()], problems: [{ reason: 'ClusterIPTaken', message: 'x' }, { reason: 'NodeLost', message: 'y' }] });
    expect(findCondition(s.conditions, 'Degraded')).toMatchObject({ reason: 'ClusterIPTaken', message: 'x; y' });
  });

  it('keeps lastTransitionTime while a condition keeps its status', () => {
    const first = status({ replicas: [na(), na(), na()] });
    const later = status({ replicas: [na(), na(), na()], previous: first, now: new Date('2026-01-01T01:00:00Z') });
    expect(findCondition(later.conditions, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(later).toEqual(first);
  });

  it('is Ready with zero replicas requested', () => {
    const s = status({ desired: 0 });
    expect(findCondition(s.conditions, 'Ready')).toMatchObject({ status: 'True', message: '0 replicas requested' });
  });
});

describe('invalidSpecStatus', () => {
  it('keeps counts and Ready, and names the field in Degraded', () => {
    const before = status({ replicas: [na(), na(), na()] });
    const s = invalidSpecStatus(before, 5, ['spec.placement.replicas: is required when mode is Replicas'], now);
    expect(s).toMatchObject({ observedGeneration: 5, replicas: 3, readyReplicas: 3 });
    expect(findCondition(s.conditions, 'Ready')).toEqual(findCondition(before.conditions, 'Ready'));
    expect(findCondition(s.conditions, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
      observedGeneration: 5,
      message: 'the spec cannot be acted on, nothing was changed: spec.placement.replicas: is required when mode is Replicas',
    });
  });
});
