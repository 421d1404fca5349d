import { describe, expect, it } from '@jest/globals';
import { LABEL_WORKLOAD } from '../api/index.js';
import { AssignmentSlimmer, assignmentRequests, type NodeAssignmentObject } from './objects.js';

/** An assignment as the API server sends it: parsed from JSON, so that no two share a string or an object. */
function fromServer(name: string, nodeName: string): NodeAssignmentObject {
  const now = '2026-03-01T11:30:00Z';
  return JSON.parse(
    JSON.stringify({
      apiVersion: 'shopfloor.dev/v1alpha1',
      kind: 'NodeAssignment',
      metadata: {
        namespace: 'ns',
        name,
        uid: `uid-${name}`,
        resourceVersion: '7',
        creationTimestamp: now,
        labels: { [LABEL_WORKLOAD]: 'web', 'shopfloor.dev/node': nodeName },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', note: 'kept' },
        ownerReferences: [{ apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeWorkload', name: 'web', uid: 'u1', controller: true }],
        managedFields: [{ manager: 'shopfloor-operator', operation: 'Update' }],
      },
      spec: { nodeName, workloadRef: { name: 'web', uid: 'u1' }, revision: 'abcdef0123', template: { containers: [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '100m', memory: '32Mi' } } }] } },
      status: {
        phase: 'Running',
        ready: true,
        podIP: '10.244.0.2',
        containers: [{ name: 'main', state: 'Running', ready: true, restartCount: 0, startedAt: now }],
        conditions: [{ type: 'Ready', status: 'True', reason: 'ContainersReady', message: 'every container is ready', lastTransitionTime: now }],
      },
    }),
  ) as NodeAssignmentObject;
}

describe('AssignmentSlimmer', () => {
  it('keeps everything the operator reads, as the server sent it, without its bookkeeping and ownerReferences', () => {
    const sent = fromServer('web-1', 'node-a');
    const expected = structuredClone(sent) as NodeAssignmentObject & { metadata: Record<string, unknown> };
    delete expected.metadata.managedFields;
    delete expected.metadata.ownerReferences;
    expected.metadata.annotations = { note: 'kept' };
    const slim = new AssignmentSlimmer().slim(sent);
    expect(slim).toEqual(expected);
    // Field order too: a patch or a log renders it the same.
    expect(JSON.stringify(slim)).toBe(JSON.stringify(expected));
  });

  it('shares what replicas have in common: template, workloadRef, equal container statuses and conditions', () => {
    const slimmer = new AssignmentSlimmer();
    const a = slimmer.slim(fromServer('web-1', 'node-a'));
    const b = slimmer.slim(fromServer('web-2', 'node-b'));
    expect(b.spec.template).toBe(a.spec.template);
    expect(b.spec.workloadRef).toBe(a.spec.workloadRef);
    expect(b.status?.containers).toBe(a.status?.containers);
    expect(b.status?.conditions).toBe(a.status?.conditions);
    expect(assignmentRequests(b)).toBe(assignmentRequests(a));
    expect(assignmentRequests(a)).toEqual({ cpuMillis: 100, memoryBytes: 32 * 2 ** 20 });
  });

  it('shares nothing that differs', () => {
    const slimmer = new AssignmentSlimmer();
    const a = slimmer.slim(fromServer('web-1', 'node-a'));
    const other = fromServer('web-2', 'node-b');
    other.status!.conditions![0]!.status = 'False';
    other.spec.workloadRef = { name: 'web', uid: 'u2' };
    const b = slimmer.slim(other);
    expect(b.status?.conditions).not.toBe(a.status?.conditions);
    expect(b.status?.conditions?.[0]?.status).toBe('False');
    expect(b.status?.containers).toBe(a.status?.containers);
    expect(b.spec.workloadRef).toEqual({ name: 'web', uid: 'u2' });
  });
});
