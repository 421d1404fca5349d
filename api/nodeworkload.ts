// NodeWorkload: what a user declares — a pod template, where its replicas go, and an optional
// service virtual IP that load-balances to the ready replicas.
import { z } from 'zod';
import { IPV4, conditionList, dnsLabel, intOrString, nonNegativeInt, objectMeta, portName, portNumber, portNumberOrName, positiveInt, protocol, stringMap } from './fields.js';
import { namedPorts, templateIssues, templateSchema } from './template.js';

export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

const EVERY_NODE_REPLICAS = 'must not be set when mode is EveryNode: one replica runs on every eligible node, so there is no count to set or scale (choose the nodes with spec.placement.nodeSelector)';
const EVERY_NODE_MAX_PER_NODE = 'must not be set when mode is EveryNode (one replica runs on every eligible node)';

export const placementSchema = z
  .object({
    mode: z
      .enum(['Replicas', 'EveryNode'], { error: 'must be one of Replicas, EveryNode' })
      .default('Replicas')
      .describe('Replicas places spec.placement.replicas replicas over eligible nodes; EveryNode places one on every eligible node.'),
    replicas: nonNegativeInt('How many replicas to run (Replicas mode only; required there).').optional(),
    nodeSelector: stringMap('Labels a NodeAgent must carry to receive replicas.').optional(),
    maxPerNode: positiveInt('Most replicas of this workload on one node (Replicas mode).').optional(),
  })
  .meta({
    description: 'Where replicas run.',
    // What the spec's own checks below say of EveryNode, said to the API server, so that it
    // refuses such a spec (and `kubectl scale` of an EveryNode workload) with the same words.
    'x-kubernetes-validations': [
      { rule: "!has(self.mode) || self.mode != 'EveryNode' || !has(self.replicas)", fieldPath: '.replicas', message: EVERY_NODE_REPLICAS },
      { rule: "!has(self.mode) || self.mode != 'EveryNode' || !has(self.maxPerNode)", fieldPath: '.maxPerNode', message: EVERY_NODE_MAX_PER_NODE },
    ],
  });

export const servicePortSchema = z
  .object({
    name: portName('Port name; required when the service has more than one port.').optional(),
    port: portNumber('Port on the virtual IP.'),
    targetPort: portNumberOrName('Container port number or name the traffic goes to; defaults to port.').optional(),
    protocol,
    nodePort: z
      .int({ error: `must be a port number from ${NODE_PORT_MIN} to ${NODE_PORT_MAX}` })
      .min(NODE_PORT_MIN, { error: `must be from ${NODE_PORT_MIN} to ${NODE_PORT_MAX}` })
      .max(NODE_PORT_MAX, { error: `must be from ${NODE_PORT_MIN} to ${NODE_PORT_MAX}` })
      .optional()
      .describe(`Port opened on every node's addresses (${NODE_PORT_MIN}-${NODE_PORT_MAX}).`),
  })
  .describe('A port of the service.');

export const serviceSchema = z
  .object({
    ports: z.array(servicePortSchema).min(1, { error: 'must list at least one port' }).describe('Ports the virtual IP serves.'),
    clusterIP: z
      .string()
      .regex(IPV4, { error: 'must be an IPv4 address such as 10.250.0.10' })
      .optional()
      .describe('Virtual IP to use; allocated from the operator\'s range when unset.'),
    loadBalancing: z
      .enum(['Random', 'RoundRobin', 'SourceIP'], { error: 'must be one of Random, RoundRobin, SourceIP' })
      .default('Random')
      .describe('How a connection picks a ready replica: Random, RoundRobin, or SourceIP (same client, same replica).'),
  })
  .describe('A virtual IP that load-balances to the ready replicas.');

export const updateStrategySchema = z
  .object({
    // Replicas are replaced, never added beside the old ones (no surge), so 0 would block every update.
    maxUnavailable: intOrString('Most replicas that may be not ready during a rolling update: a number, 1 or more, or a percentage such as 25% (rounded up).', {
      min: 1,
      pattern: /^(100|[1-9][0-9]?)%$/,
      help: 'a whole number 1 or more, or a percentage from 1% to 100% such as 25% (replicas are replaced, not surged, so 0 would block every update)',
    }).default(1),
  })
  .describe('How a template change rolls out.');

export const nodeWorkloadSpecSchema = z
  .object({
    placement: placementSchema,
    template: templateSchema,
    service: serviceSchema.optional(),
    updateStrategy: updateStrategySchema.optional(),
  })
  .superRefine((spec, ctx) => {
    const { mode = 'Replicas', replicas } = spec.placement;
    if (mode === 'Replicas' && replicas === undefined) {
      ctx.addIssue({ code: 'custom', path: ['placement', 'replicas'], message: 'is required when mode is Replicas' });
    }
    if (mode === 'EveryNode' && replicas !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['placement', 'replicas'], message: EVERY_NODE_REPLICAS });
    }
    if (mode === 'EveryNode' && spec.placement.maxPerNode !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['placement', 'maxPerNode'], message: EVERY_NODE_MAX_PER_NODE });
    }
    for (const issue of templateIssues(spec.template)) ctx.addIssue({ code: 'custom', path: ['template', ...issue.path], message: issue.message });
    if (spec.service) serviceIssues(spec, ctx);
  })
  .describe('The desired state of a NodeWorkload.');

function serviceIssues(spec: z.input<typeof nodeWorkloadSpecSchema>, ctx: z.RefinementCtx): void {
  const service = spec.service!;
  const ports = namedPorts(spec.template);
  const names = new Map<string, number>();
  const numbers = new Map<string, number>();
  const nodePorts = new Map<number, number>();
  const add = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path: ['service', ...path], message });
  service.ports.forEach((p, i) => {
    if (service.ports.length > 1 && p.name === undefined) add(['ports', i, 'name'], 'is required when the service has more than one port');
    if (p.name !== undefined) {
      if (names.has(p.name)) add(['ports', i, 'name'], `duplicate port name "${p.name}" (also ports[${names.get(p.name)}])`);
      else names.set(p.name, i);
    }
    const key = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (numbers.has(key)) add(['ports', i, 'port'], `duplicate port ${key} (also ports[${numbers.get(key)}])`);
    else numbers.set(key, i);
    if (p.nodePort !== undefined) {
      if (nodePorts.has(p.nodePort)) add(['ports', i, 'nodePort'], `duplicate nodePort ${p.nodePort} (also ports[${nodePorts.get(p.nodePort)}])`);
      else nodePorts.set(p.nodePort, i);
    }
    const target = p.targetPort;
    if (typeof target === 'string') {
      const known = [...ports.keys()];
      if (!ports.has(target)) {
        add(['ports', i, 'targetPort'], `no container port named "${target}": use a port number or one of ${known.length ? known.join(', ') : '(no named container ports)'}`);
      }
    }
  });
}

export const nodeWorkloadStatusSchema = z
  .object({
    observedGeneration: nonNegativeInt('metadata.generation the status was computed from.').optional(),
    replicas: nonNegativeInt('Replicas placed on nodes.').optional(),
    readyReplicas: nonNegativeInt('Replicas whose containers are ready.').optional(),
    updatedReplicas: nonNegativeInt('Replicas running the current template revision.').optional(),
    availableReplicas: nonNegativeInt('Ready replicas of the current revision.').optional(),
    desiredReplicas: nonNegativeInt('Replicas the placement asks for.').optional(),
    clusterIP: z.string().optional().describe('Virtual IP allocated to the service.'),
    selector: z.string().optional().describe('Label selector of the replicas (their NodeAssignments), for the scale subresource: kubectl scale and HorizontalPodAutoscalers read it.'),
    currentRevision: z.string().optional().describe('Hash of the current template.'),
    conditions: conditionList.optional(),
  })
  .describe('The observed state of a NodeWorkload.');

export const nodeWorkloadSchema = z
  .object({
    apiVersion: z.literal('shopfloor.dev/v1alpha1', { error: 'must be shopfloor.dev/v1alpha1' }).describe('API version.'),
    kind: z.literal('NodeWorkload', { error: 'must be NodeWorkload' }).describe('Kind.'),
    metadata: objectMeta.extend({ name: dnsLabel('Workload name.') }),
    spec: nodeWorkloadSpecSchema,
    status: nodeWorkloadStatusSchema.optional(),
  })
  .describe('Containers run straight on nodes\' container runtimes, with an optional service virtual IP.');

export type NodeWorkload = z.output<typeof nodeWorkloadSchema>;
export type NodeWorkloadInput = z.input<typeof nodeWorkloadSchema>;
export type NodeWorkloadSpec = z.output<typeof nodeWorkloadSpecSchema>;
export type NodeWorkloadStatus = z.output<typeof nodeWorkloadStatusSchema>;
export type Placement = z.output<typeof placementSchema>;
export type Service = z.output<typeof serviceSchema>;
export type ServicePort = z.output<typeof servicePortSchema>;
