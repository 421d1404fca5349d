// What the pod lifecycle suites share: a devcluster, a test containerd and the real agent on
// them, and the few ways a test writes an assignment and reads what the agent reports.
import { afterAll, beforeAll } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DEFAULT_SYSTEM_NAMESPACE, LABEL_MANAGED_BY, LABEL_NODE, LABEL_WORKLOAD, MANAGED_BY_VALUE, type NodeAssignment, type NodeAssignmentStatus, type TemplateInput } from '../../api/index.js';
import { KubeClient } from '../../kube/client.js';
import { isNotFound } from '../../kube/errors.js';
import { NAMESPACES, NODE_ASSIGNMENTS } from '../../kube/resource.js';
import { startTestAgent, type TestAgent } from '../harness/agent.js';
import { startTestContainerd, type TestContainerd } from '../harness/containerd.js';
import { crictlOn, type Crictl } from '../harness/crictl.js';
import { startTestCluster, type TestCluster } from '../harness/test-cluster.js';
import { eventually } from '../harness/eventually.js';

export const NAMESPACE = 'default';

export interface PodEnv {
  cluster: TestCluster;
  containerd: TestContainerd;
  agent: TestAgent;
  client: KubeClient;
  /** crictl on the containerd, when SHOPFLOOR_TOOLS_BIN has it (see witness). */
  crictl: Crictl | undefined;
  stop(): Promise<void>;
}

/** What a suite asks of its agent beyond the defaults. */
export interface PodEnvOptions {
  /** Serve container logs here (e.g. 127.0.0.1:0); default none. */
  logServerAddress?: string;
}

export async function startPodEnv(o: PodEnvOptions = {}): Promise<PodEnv> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    const errors: unknown[] = [];
    for (const s of stops.reverse()) await s().catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw errors[0];
  };
  try {
    const cluster = await startTestCluster({ crds: true });
    stops.push(() => cluster.stop());
    // The node Leases live in the system namespace, which the chart or `shopfloor up` makes.
    await new KubeClient(cluster.kubeConfig, {}).create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DEFAULT_SYSTEM_NAMESPACE } });
    const containerd = await startTestContainerd();
    stops.push(() => containerd.stop());
    const agent = await startTestAgent({ cluster, containerd, ...o });
    stops.push(() => agent.stop());
    return { cluster, containerd, agent, client: new KubeClient(cluster.kubeConfig, {}), crictl: crictlOn(containerd.endpoint), stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/**
 * Gives the suite one PodEnv: started before its tests (after `prepare`, if any) and stopped
 * after them. Read it through the returned function once the tests run.
 */
export function usePodEnv(prepare?: () => Promise<void>, options: PodEnvOptions = {}): () => PodEnv {
  let env: PodEnv | undefined;
  beforeAll(async () => {
    await prepare?.();
    env = await startPodEnv(options);
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  }, 120_000);
  return () => {
    if (!env) throw new Error('the pod environment did not start; see the beforeAll error');
    return env;
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Creates a NodeAssignment for the agent's node, as the operator would. */
export async function assign(env: PodEnv, name: string, template: TemplateInput): Promise<NodeAssignment> {
  return env.client.create<NodeAssignment>(
    NODE_ASSIGNMENTS,
    {
      apiVersion: 'shopfloor.dev/v1alpha1',
      kind: 'NodeAssignment',
      metadata: { name, namespace: NAMESPACE, labels: { [LABEL_NODE]: env.agent.nodeName, [LABEL_WORKLOAD]: name, [LABEL_MANAGED_BY]: MANAGED_BY_VALUE } },
      spec: { nodeName: env.agent.nodeName, workloadRef: { name }, revision: 'r1', template },
    } as unknown as NodeAssignment,
    { namespace: NAMESPACE },
  );
}

export async function statusOf(env: PodEnv, name: string): Promise<NodeAssignmentStatus | undefined> {
  try {
    return (await env.client.get<NodeAssignment>(NODE_ASSIGNMENTS, name, { namespace: NAMESPACE })).status;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Waits until the assignment reports every container running (and ready, unless told otherwise). */
export function untilRunning(env: PodEnv, name: string, o: { ready?: boolean; timeoutMs?: number } = {}): Promise<NodeAssignmentStatus> {
  return eventually(
    `${name} running${o.ready === false ? '' : ' and ready'}`,
    async () => {
      const s = await statusOf(env, name);
      return s?.phase === 'Running' && s.containers?.every((c) => c.state === 'Running') && (o.ready === false || s.ready === true) && s;
    },
    o.timeoutMs ?? 60_000,
  );
}

export async function removeAssignment(env: PodEnv, name: string): Promise<void> {
  await env.client.delete(NODE_ASSIGNMENTS, name, { namespace: NAMESPACE }).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

/** The CRI container ID of a status entry (`containerd://<id>`). */
export function containerId(status: NodeAssignmentStatus, name: string): string {
  const id = status.containers?.find((c) => c.name === name)?.containerID?.replace(/^containerd:\/\//, '');
  if (!id) throw new Error(`no container ${name} in ${JSON.stringify(status)}`);
  return id;
}

/** Runs `cmd` in the container over CRI and returns its stdout. */
export async function execIn(env: PodEnv, id: string, cmd: string[]): Promise<string> {
  const r = await env.containerd.cri.execSync(id, cmd, 10);
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} exited ${r.exitCode}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/** The sandboxes of the agent's node on the runtime. */
export async function sandboxesOf(env: PodEnv, assignment: string): Promise<Array<{ id: string; state: string }>> {
  const all = await env.containerd.cri.listPodSandbox({ labelSelector: { 'shopfloor.dev/assignment-name': assignment } });
  return all.map((s) => ({ id: s.id, state: s.state }));
}

/**
 * Checks with crictl, from outside the agent, what a test has just read from the agent's status:
 * the runtime's own view, as a user on the node sees it. No witness where SHOPFLOOR_TOOLS_BIN
 * is not set (`npm test` sets it, see crictlOn).
 */
export async function witness(env: PodEnv, check: (crictl: Crictl) => Promise<void>): Promise<void> {
  if (env.crictl) await check(env.crictl);
}
