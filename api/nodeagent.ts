// NodeAgent: a node as Shopfloor's agent registers it (like kubelet registers a Node): what it
// can run, its runtime and proxy mode. Liveness is a Lease named after the node.
import { z } from 'zod';
import { conditionList, nonNegativeInt, objectMeta, portNumber, quantity } from './fields.js';

const resources = z
  .object({
    cpu: quantity('CPU cores.'),
    memory: quantity('Memory bytes.'),
    pods: nonNegativeInt('Replicas the node accepts.').optional(),
  })
  .describe('Amounts of node resources.');

export const nodeAgentSpecSchema = z
  .object({
    podCIDR: z.string().optional().describe('Range the node\'s replicas get IPs from.'),
    unschedulable: z.boolean().optional().describe('When true the operator places no new replicas here.'),
  })
  .describe('Node settings.');

/**
 * Where the agent serves container logs (like a Node's status.daemonEndpoints.kubeletEndpoint),
 * and the CA its serving certificate chains to, so that clients pin it instead of trusting any CA.
 */
const logServerEndpoint = z
  .object({
    address: z.string().describe('IP address the log server answers on.'),
    port: portNumber('HTTPS port of the log server.'),
    caBundle: z.string().describe('Base64 of the PEM CA certificate that signed the log server\'s serving certificate.'),
  })
  .describe('The agent\'s HTTPS log server: GET /containerLogs/<namespace>/<assignment>/<container> with a bearer token.');

export const nodeAgentStatusSchema = z
  .object({
    capacity: resources.optional(),
    allocatable: resources.optional(),
    nodeInfo: z
      .object({
        runtimeName: z.string().optional().describe('Container runtime name, e.g. containerd.'),
        runtimeVersion: z.string().optional().describe('Container runtime version.'),
        agentVersion: z.string().optional().describe('Shopfloor agent version.'),
        proxyMode: z.enum(['nftables', 'iptables']).optional().describe('Service proxy mode: nftables or iptables.'),
      })
      .optional()
      .describe('Software on the node.'),
    addresses: z
      .array(z.object({ type: z.enum(['InternalIP', 'ExternalIP', 'Hostname']).describe('Address type.'), address: z.string().describe('The address.') }))
      .optional()
      .describe('Addresses of the node.'),
    pods: nonNegativeInt('Replicas the node runs now.').optional(),
    daemonEndpoints: z
      .object({ logServer: logServerEndpoint.optional() })
      .optional()
      .describe('Endpoints the agent serves on the node.'),
    proxy: z
      .object({
        lastSyncTime: z.string().optional().describe('When the service rules last took what the API asks for (RFC 3339).'),
        servicePorts: nonNegativeInt('Service ports (virtual IP or node port, port and protocol) in the rules.'),
        rules: nonNegativeInt('Rules the agent has programmed: nftables rules and set elements, or iptables rules.'),
        inSync: z.boolean().describe('Whether the rules match what the API asks for: false while a change waits for the next sync and while syncs fail.'),
        message: z.string().optional().describe('Why the rules are not in sync: the error of the last failed sync.'),
      })
      .optional()
      .describe('The service proxy\'s rules on the node, as of the last status update (every 10 s).'),
    conditions: conditionList.optional(),
  })
  .describe('What the agent reports.');

export const nodeAgentSchema = z
  .object({
    apiVersion: z.literal('shopfloor.dev/v1alpha1').describe('API version.'),
    kind: z.literal('NodeAgent').describe('Kind.'),
    metadata: objectMeta,
    spec: nodeAgentSpecSchema.optional(),
    status: nodeAgentStatusSchema.optional(),
  })
  .describe('A node registered by its Shopfloor agent.');

export type NodeAgent = z.output<typeof nodeAgentSchema>;
export type NodeAgentStatus = z.output<typeof nodeAgentStatusSchema>;
export type LogServerEndpoint = z.output<typeof logServerEndpoint>;
