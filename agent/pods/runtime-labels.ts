// The labels and annotations the agent puts on every sandbox and container it creates. They are
// how the agent finds its own objects again after a restart (nothing is kept on disk: the runtime
// holds the state) and how it knows never to touch anything else. kubelet's io.kubernetes.* keys
// are set too, so crictl, log shippers and metrics agents see familiar pods.
import { LABEL_MANAGED_BY, LABEL_NODE, LABEL_WORKLOAD, MANAGED_BY_VALUE } from '../../api/index.js';

export const LABEL_ASSIGNMENT_NAMESPACE = 'shopfloor.dev/assignment-namespace';
export const LABEL_ASSIGNMENT_NAME = 'shopfloor.dev/assignment-name';
export const LABEL_ASSIGNMENT_UID = 'shopfloor.dev/assignment-uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';

/** The template revision a sandbox was made for. */
export const ANNOTATION_REVISION = 'shopfloor.dev/revision';
/** A container instance's restart count: the only record of it that survives an agent restart. */
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
/** Grace period to stop with when the assignment (and so its spec) is already gone. */
export const ANNOTATION_GRACE_PERIOD = 'io.kubernetes.pod.terminationGracePeriod';

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
  workload: string;
}

/** Selects every sandbox and container of this agent's node. */
export function nodeSelector(nodeName: string): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_NODE]: nodeName };
}

export function sandboxLabels(pod: PodIdentity, nodeName: string): Record<string, string> {
  return {
    ...nodeSelector(nodeName),
    [LABEL_WORKLOAD]: pod.workload,
    [LABEL_ASSIGNMENT_NAMESPACE]: pod.namespace,
    [LABEL_ASSIGNMENT_NAME]: pod.name,
    [LABEL_ASSIGNMENT_UID]: pod.uid,
    'io.kubernetes.pod.namespace': pod.namespace,
    'io.kubernetes.pod.name': pod.name,
    'io.kubernetes.pod.uid': pod.uid,
  };
}

export function containerLabels(pod: PodIdentity, nodeName: string, containerName: string): Record<string, string> {
  return { ...sandboxLabels(pod, nodeName), [LABEL_CONTAINER_NAME]: containerName };
}

/** The assignment key (`namespace/name`) an object of ours carries, or undefined for a foreign one. */
export function assignmentKeyOf(labels: Record<string, string>): string | undefined {
  if (labels[LABEL_MANAGED_BY] !== MANAGED_BY_VALUE) return undefined;
  const ns = labels[LABEL_ASSIGNMENT_NAMESPACE];
  const name = labels[LABEL_ASSIGNMENT_NAME];
  return ns && name ? `${ns}/${name}` : undefined;
}
