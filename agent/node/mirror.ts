// A static assignment's mirror: its copy in the API, so `kubectl get na` shows what runs from
// files, and where the pod lifecycle writes its status. The mirror is read-only, as kubelet's
// mirror pods are: what its static manifest says wins over any edit. Pure.
import { GROUP, type NodeAssignment } from '../../api/index.js';
import { mergePatchBetween } from '../../kube/status.js';
import type { OwnerReference } from '../../kube/types.js';

/**
 * The mirror of `staticAssignment`, owned by the node's NodeAgent so that deleting the NodeAgent
 * removes its mirrors (a namespaced object may be owned by a cluster-scoped one). Its uid is the
 * API server's; the static uid stays in the config-hash annotation.
 */
export function mirrorOf(staticAssignment: NodeAssignment, owner: OwnerReference): NodeAssignment {
  const { uid: _staticUid, ...metadata } = staticAssignment.metadata;
  return {
    apiVersion: staticAssignment.apiVersion,
    kind: staticAssignment.kind,
    metadata: { ...metadata, ownerReferences: [owner] },
    spec: staticAssignment.spec,
  };
}

/** Keys of `desired` whose value differs in `actual`, and Shopfloor keys `actual` has that `desired` has not (as null). */
function mapPatch(actual: Record<string, string> | undefined, desired: Record<string, string> | undefined): Record<string, string | null> | undefined {
  const have = actual ?? {};
  const want = desired ?? {};
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(want)) if (have[k] !== v) patch[k] = v;
  for (const k of Object.keys(have)) if (k.startsWith(`${GROUP}/`) && !(k in want)) patch[k] = null;
  return Object.keys(patch).length ? patch : undefined;
}

/**
 * The merge patch that makes `actual` the mirror `desired` again, or undefined when it is: the
 * spec exactly, the labels and annotations the mirror carries (other keys may be added by users,
 * except under shopfloor.dev/), and the NodeAgent owner.
 */
export function mirrorPatch(actual: NodeAssignment, desired: NodeAssignment): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  const spec = mergePatchBetween(actual.spec, desired.spec);
  if (spec !== undefined) patch['spec'] = spec;
  const labels = mapPatch(actual.metadata?.labels, desired.metadata?.labels);
  if (labels) metadata['labels'] = labels;
  const annotations = mapPatch(actual.metadata?.annotations, desired.metadata?.annotations);
  if (annotations) metadata['annotations'] = annotations;
  const owners = (actual.metadata as { ownerReferences?: OwnerReference[] }).ownerReferences ?? [];
  const wanted = (desired.metadata as { ownerReferences?: OwnerReference[] }).ownerReferences ?? [];
  if (!wanted.every((w) => owners.some((o) => o.uid === w.uid))) {
    const kinds = new Set(wanted.map((w) => `${w.apiVersion}/${w.kind}`));
    metadata['ownerReferences'] = [...owners.filter((o) => !kinds.has(`${o.apiVersion}/${o.kind}`)), ...wanted];
  }
  if (Object.keys(metadata).length) patch['metadata'] = metadata;
  return Object.keys(patch).length ? patch : undefined;
}
