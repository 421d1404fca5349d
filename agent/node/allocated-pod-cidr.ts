// With `--pod-cidr allocated` the node's pod range is the operator's to hand out (as kubelet takes
// its Node's spec.podCIDR from the control plane): the agent registers its NodeAgent without one,
// then waits until the operator's allocation (its --cluster-pod-cidr) has written spec.podCIDR.
// Nothing that needs the range starts before: the managed runtime's CNI config is made from it.
import { validatePodCidr } from '../runtime/containerd-config.js';
import type { NodeAgent } from '../../api/index.js';
import type { KubeClient } from '../../kube/client.js';
import { sleep, type Clock } from '../../kube/clock.js';
import { isAlreadyExists, isNotFound } from '../../kube/errors.js';
import type { Logger } from '../../kube/logger.js';
import { NODE_AGENTS } from '../../kube/resource.js';
import { newNodeAgent } from './node-status.js';
import { AGENT_FIELD_MANAGER } from './registration.js';

/** The value of --pod-cidr that asks the operator for the node's range. */
export const POD_CIDR_ALLOCATED = 'allocated';

export interface AllocatedPodCidrOptions {
  client: KubeClient;
  nodeName: string;
  /** The NodeAgent's labels, should the agent create it. */
  labels: Record<string, string>;
  clock: Clock;
  logger: Logger;
  /** How often the NodeAgent is read while waiting. Default 1 s. */
  pollMs?: number;
  /** How often the wait is logged again. Default 60 s. */
  remindMs?: number;
  signal?: AbortSignal;
}

/** Resolves with the range the operator allocated to this node; waits as long as it takes. */
export async function allocatedPodCidr(o: AllocatedPodCidrOptions): Promise<string> {
  const pollMs = o.pollMs ?? 1000;
  const remindMs = o.remindMs ?? 60_000;
  let lastSaid = -Infinity;
  for (;;) {
    o.signal?.throwIfAborted();
    let podCIDR: string | undefined;
    let problem: string | undefined;
    try {
      podCIDR = (await o.client.get<NodeAgent>(NODE_AGENTS, o.nodeName, o.signal ? { signal: o.signal } : {})).spec?.podCIDR;
    } catch (err) {
      if (!isNotFound(err)) problem = (err as Error).message;
      else if ((problem = await register(o)) === undefined) continue;
    }
    if (podCIDR) {
      // The range becomes CNI config: only a well-formed one may get that far.
      validatePodCidr(`NodeAgent ${o.nodeName} spec.podCIDR`, podCIDR);
      o.logger.info({ podCIDR }, 'the operator allocated this node its pod range');
      return podCIDR;
    }
    const now = o.clock.now();
    if (now - lastSaid >= remindMs) {
      lastSaid = now;
      o.logger.warn(
        { node: o.nodeName, ...(problem ? { err: problem } : {}) },
        'waiting for the operator to allocate this node its pod range (NodeAgent spec.podCIDR): the operator hands them out when run with --cluster-pod-cidr; or give this agent its own --pod-cidr',
      );
    }
    await sleep(o.clock, pollMs, o.signal);
  }
}

/** Creates the NodeAgent without a range, so that the operator sees the node ask; the problem, if any. */
async function register(o: AllocatedPodCidrOptions): Promise<string | undefined> {
  try {
    await o.client.create<NodeAgent>(NODE_AGENTS, newNodeAgent(o.nodeName, o.labels, undefined), { fieldManager: AGENT_FIELD_MANAGER, ...(o.signal ? { signal: o.signal } : {}) });
    return undefined;
  } catch (err) {
    return isAlreadyExists(err) ? undefined : (err as Error).message;
  }
}
