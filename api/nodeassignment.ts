// NodeAssignment: one replica of a NodeWorkload bound to one node. The operator writes spec; the
// node's agent runs it and writes status.
import { z } from 'zod';
import { conditionList, dnsSubdomain, nonNegativeInt, objectMeta } from './fields.js';
import { LABEL_WORKLOAD } from './labels.js';
import { templateSchema } from './template.js';

export const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;
export type Phase = (typeof PHASES)[number];

export const containerStatusSchema = z
  .object({
    name: z.string().describe('Container name.'),
    state: z.enum(['Waiting', 'Running', 'Terminated']).describe('Waiting, Running or Terminated.'),
    reason: z.string().optional().describe('Why the container is in its state, e.g. CrashLoopBackOff, ErrImagePull, Completed.'),
    message: z.string().optional().describe('Details of the reason.'),
    ready: z.boolean().describe('Whether the readiness probe passes.'),
    restartCount: nonNegativeInt('Times the container was restarted.'),
    startedAt: z.string().optional().describe('When the running container started (RFC 3339).'),
    exitCode: z.int().optional().describe('Exit code, when Terminated.'),
    lastTerminationReason: z.string().optional().describe('Reason of the previous termination, e.g. Error, OOMKilled.'),
    lastTerminationExitCode: z.int().optional().describe('Exit code of the previous termination.'),
    image: z.string().optional().describe('Image the container runs.'),
    containerID: z.string().optional().describe('Runtime container ID (containerd://…).'),
  })
  .describe('State of one container.');

export const nodeAssignmentSpecSchema = z
  .object({
    nodeName: dnsSubdomain('Node (NodeAgent name) that runs this replica.'),
    workloadRef: z
      .object({ name: z.string().min(1).describe('NodeWorkload name.'), uid: z.string().optional().describe('NodeWorkload UID.') })
      .describe('The NodeWorkload this replica belongs to (same namespace).'),
    revision: z.string().min(1).describe('Hash of the template; it changes whenever the template does.'),
    template: templateSchema,
  })
  .describe('A replica to run on one node.');

export const nodeAssignmentStatusSchema = z
  .object({
    observedGeneration: nonNegativeInt('metadata.generation the agent acted on.').optional(),
    phase: z.enum(PHASES).optional().describe('Pending, Running, Succeeded, Failed or Unknown.'),
    podIP: z.string().optional().describe('IP of the replica\'s network namespace.'),
    ready: z.boolean().optional().describe('Whether every container is ready.'),
    restartCount: nonNegativeInt('Restarts of all containers together.').optional(),
    containers: z.array(containerStatusSchema).optional().describe('One entry per container.'),
    conditions: conditionList.optional(),
  })
  .describe('What the node\'s agent observes.');

export const nodeAssignmentSchema = z
  .object({
    apiVersion: z.literal('shopfloor.dev/v1alpha1').describe('API version.'),
    kind: z.literal('NodeAssignment').describe('Kind.'),
    metadata: objectMeta,
    spec: nodeAssignmentSpecSchema,
    status: nodeAssignmentStatusSchema.optional(),
  })
  .describe('One replica of a NodeWorkload placed on one node.');

export type NodeAssignment = z.output<typeof nodeAssignmentSchema>;
export type NodeAssignmentSpec = z.output<typeof nodeAssignmentSpecSchema>;
export type NodeAssignmentStatus = z.output<typeof nodeAssignmentStatusSchema>;
export type ContainerStatus = z.output<typeof containerStatusSchema>;

/** The parts of an object's metadata that say which NodeWorkload it belongs to. */
interface LabelledObject {
  metadata?: { namespace?: string | undefined; labels?: Record<string, string> | undefined } | undefined;
}

/**
 * The key (`namespace/name`) of the NodeWorkload an assignment is a replica of, as its
 * `shopfloor.dev/workload` label names it; undefined for an assignment without that label, such
 * as a static assignment's mirror, which belongs to no NodeWorkload of the API (not even one of
 * the same name). The label, not spec.workloadRef, so that the caches agree with label selectors
 * (`kubectl get na -l shopfloor.dev/workload=web`, `shopfloor logs`).
 */
export function workloadKeyOf(assignment: LabelledObject): string | undefined {
  const name = assignment.metadata?.labels?.[LABEL_WORKLOAD];
  const namespace = assignment.metadata?.namespace;
  // Flat (objectKey says why): the assignment caches' index holds one per assignment.
  return name && namespace ? [namespace, name].join('/') : undefined;
}

/** Name of the assignment-cache index by workloadKeyOf, in the operator and the agent alike. */
export const BY_WORKLOAD = 'byWorkload';

/** The index function of BY_WORKLOAD. */
export function workloadIndex(assignment: LabelledObject): string[] {
  const key = workloadKeyOf(assignment);
  return key ? [key] : [];
}

/**
 * A container's message while it waits out its CrashLoopBackOff, in kubelet's words; the floor
 * page reads the wait back (crashLoopBackOffSeconds) to show when the next try comes.
 */
export function crashLoopBackOffMessage(waitMs: number, container: string, assignmentKey: string): string {
  return `back-off ${Math.ceil(waitMs / 1000)}s restarting failed container=${container} pod=${assignmentKey}`;
}

/** The seconds a CrashLoopBackOff message says are left, when it is one. */
export function crashLoopBackOffSeconds(message: string): number | undefined {
  const m = /^back-off (\d+)s\b/.exec(message);
  return m ? Number(m[1]) : undefined;
}
