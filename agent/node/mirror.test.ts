import { describe, expect, it } from '@jest/globals';
import type { NodeAssignment } from '../../api/index.js';
import type { OwnerReference } from '../../kube/types.js';
import { mirrorOf, mirrorPatch } from './mirror.js';
import { parseStaticManifest } from './static-manifest.js';

const file = `apiVersion: shopfloor.dev/v1alpha1
kind: NodeWorkload
metadata: { name: web }
spec:
  placement: { mode: EveryNode }
  template:
    containers: [{ name: httpd, image: busybox:1.36 }]
`;
const staticOne = parseStaticManifest(file, 'web.yaml', 'n1').assignments[0]!;
const owner: OwnerReference = { apiVersion: 'shopfloor.dev/v1alpha1', kind: 'NodeAgent', name: 'n1', uid: 'agent-1' };

/** The mirror as the API server returns it: its own uid and version, status written by the agent. */
function stored(m: NodeAssignment): NodeAssignment {
  return { ...structuredClone(m), metadata: { ...structuredClone(m.metadata), uid: 'server-uid', resourceVersion: '5', generation: 1 }, status: { phase: 'Running' } };
}

describe('mirrorOf', () => {
  it('is the static assignment owned by the NodeAgent, without the static uid', () => {
    const m = mirrorOf(staticOne, owner);
    expect(m.metadata.uid).toBeUndefined();
    expect(m.metadata.ownerReferences).toEqual([owner]);
    expect(m.metadata.annotations?.['shopfloor.dev/config-hash']).toBe(staticOne.metadata.uid);
    expect(m.spec).toEqual(staticOne.spec);
  });
});

describe('mirrorPatch', () => {
  const want = mirrorOf(staticOne, owner);

  it('is nothing for the mirror as created, whatever the server added', () => {
    expect(mirrorPatch(stored(want), want)).toBeUndefined();
  });

  it('puts back an edited spec exactly, removing what a user added', () => {
    const edited = stored(want);
    edited.spec = { ...edited.spec, template: { ...edited.spec.template, containers: [{ ...edited.spec.template.containers[0]!, image: 'evil:1' }] } };
    (edited.spec as Record<string, unknown>)['extra'] = 'x';
    expect(mirrorPatch(edited, want)).toEqual({ spec: { template: { containers: want.spec.template.containers }, extra: null } });
  });

  it('restores its own labels and drops shopfloor.dev labels it does not carry, leaving users\' labels', () => {
    const edited = stored(want);
    edited.metadata.labels = { ...edited.metadata.labels, 'shopfloor.dev/static': 'false', 'shopfloor.dev/workload': 'web', team: 'a' };
    expect(mirrorPatch(edited, want)).toEqual({ metadata: { labels: { 'shopfloor.dev/static': 'true', 'shopfloor.dev/workload': null } } });
  });

  it('takes the NodeAgent registered again as its owner', () => {
    const other: OwnerReference = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x' };
    const old = stored(mirrorOf(staticOne, { ...owner, uid: 'agent-0' }));
    old.metadata.ownerReferences = [other, ...(old.metadata.ownerReferences as OwnerReference[])];
    expect(mirrorPatch(old, want)).toEqual({ metadata: { ownerReferences: [other, owner] } });
  });
});
