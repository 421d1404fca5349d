// Registers this node like kubelet registers a Node: a NodeAgent named after the node (its labels,
// pod CIDR and a status of capacity, software, addresses and the Ready condition, recomputed every
// 10 s and written only when it changed) and a Lease heartbeat in the system namespace. A deleted
// NodeAgent or Lease is created again; stopping leaves both, so a restarted agent keeps its node.
import type { Registry } from 'prom-client';
import { API_VERSION, DEFAULT_SYSTEM_NAMESPACE, findCondition, type NodeAgent, type NodeAgentStatus } from '../../api/index.js';
import { DNS1123_SUBDOMAIN } from '../../api/fields.js';
import type { KubeClient } from '../../kube/client.js';
import { sleep, systemClock, type Clock } from '../../kube/clock.js';
import { isAlreadyExists, isNotFound } from '../../kube/errors.js';
import { Informer } from '../../kube/informer.js';
import { silentLogger, type Logger } from '../../kube/logger.js';
import { NODE_AGENTS } from '../../kube/resource.js';
import { patchStatusIfChanged } from '../../kube/status.js';
import { stripUnreadMetadata } from '../../kube/strip-metadata.js';
import type { OwnerReference } from '../../kube/types.js';
import type { Part } from '../../kube/part.js';
import type { ProxyMode } from '../proxy/backend.js';
import type { ProxySyncReport } from '../proxy/proxier.js';
import { allocatableOf, DEFAULT_MAX_PODS, type Reservation } from './capacity.js';
import { measureHostCapacity } from './host-capacity.js';
import { NodeLease } from './lease.js';
import { newNodeAgent, nodeAgentStatus, nodeLabels, registrationPatch, type RuntimeInfo, type RuntimeProbe } from './node-status.js';

/** The field manager of the agent's writes to its NodeAgent. */
export const AGENT_FIELD_MANAGER = 'shopfloor-agent';

export interface NodeRegistrationOptions {
  client: KubeClient;
  /** The NodeAgent's and the Lease's name: a DNS-1123 subdomain. */
  nodeName: string;
  /** Namespace of the Lease. Default shopfloor-system. */
  namespace?: string;
  /** Node labels set by flag. */
  labels?: Record<string, string>;
  podCIDR?: string;
  /** The node's InternalIP addresses. */
  nodeAddresses: readonly string[];
  hostname: string;
  proxyMode: ProxyMode;
  agentVersion: string;
  /** The runtime's name and version from CRI Version; throws when the runtime is unreachable. */
  runtimeInfo: () => Promise<RuntimeInfo>;
  /** Replicas running on the node now. */
  runningPods: () => number;
  /** What the agent serves on the node now (its log server), for status.daemonEndpoints. */
  daemonEndpoints?: () => NodeAgentStatus['daemonEndpoints'];
  /** The service proxy's rules now, for status.proxy. */
  proxy?: () => ProxySyncReport;
  /** Replicas the node accepts. Default 110. */
  maxPods?: number;
  /** What the node keeps for itself; allocatable is capacity minus this. */
  reserved?: Reservation;
  clock?: Clock;
  logger?: Logger;
  /** Where the NodeAgent informer's metrics go. */
  registry?: Registry;
  /** Default 40. */
  leaseDurationSeconds?: number;
  /** Default a quarter of the lease duration. */
  renewIntervalMs?: number;
  /** How often the status is recomputed (and written when it changed). Default 10 s. */
  statusIntervalMs?: number;
  /** How long runtimeInfo may take before the runtime counts as unreachable. Default 5 s. */
  runtimeTimeoutMs?: number;
}

export class NodeRegistration implements Part {
  readonly name = 'node-registration';
  private readonly o: NodeRegistrationOptions;
  private readonly namespace: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly statusIntervalMs: number;
  private readonly agents: Informer<NodeAgent>;
  private readonly lease: NodeLease;
  private readonly abort = new AbortController();
  private readonly listeners: Array<(owner: OwnerReference) => void> = [];
  /** The NodeAgent as last seen (watched or written); undefined when it does not exist. */
  private current: NodeAgent | undefined;
  /** The uid of the NodeAgent last seen deleted: a write answered after the delete must not bring it back. */
  private deletedUid: string | undefined;
  private announcedUid: string | undefined;
  private registered = false;
  private lastError: string | undefined;
  private wake: AbortController | undefined;
  private loop: Promise<void> | undefined;

  constructor(options: NodeRegistrationOptions) {
    if (!DNS1123_SUBDOMAIN.test(options.nodeName) || options.nodeName.length > 253) {
      throw new Error(`node name "${options.nodeName}" is not a DNS-1123 subdomain (lowercase letters, digits, "-" and "."); pass a valid --node-name`);
    }
    this.o = options;
    this.namespace = options.namespace ?? DEFAULT_SYSTEM_NAMESPACE;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'node-registration', node: options.nodeName });
    this.statusIntervalMs = options.statusIntervalMs ?? 10_000;
    this.agents = new Informer<NodeAgent>({
      client: options.client,
      resource: NODE_AGENTS,
      fieldSelector: `metadata.name=${options.nodeName}`,
      // Only patched, never written back whole.
      transform: stripUnreadMetadata,
      clock: this.clock,
      logger: this.logger,
      registry: options.registry,
      metricsPrefix: 'shopfloor_agent',
    });
    this.agents.addEventHandler({
      onAdd: (a) => this.seen(a),
      onUpdate: (_old, a) => this.seen(a),
      onDelete: (a) => {
        this.deletedUid = a.metadata?.uid;
        if (this.current && this.current.metadata?.uid !== a.metadata?.uid) return;
        this.current = undefined;
        this.logger.warn('NodeAgent was deleted; registering again');
        this.wake?.abort();
      },
    });
    this.lease = new NodeLease({
      client: options.client,
      nodeName: options.nodeName,
      namespace: this.namespace,
      leaseDurationSeconds: options.leaseDurationSeconds,
      renewIntervalMs: options.renewIntervalMs,
      owner: () => this.ownerReference(),
      clock: this.clock,
      logger: this.logger,
    });
  }

  async start(): Promise<void> {
    this.agents.start();
    this.lease.start();
    this.loop ??= this.run();
  }

  ready(): true | string {
    if (!this.registered) return `NodeAgent ${this.o.nodeName} is not registered yet${this.lastError ? `: ${this.lastError}` : ''}`;
    const renewal = this.lease.lastRenewal();
    if (!renewal) return `Lease ${this.namespace}/${this.o.nodeName} has not been renewed yet`;
    if (!renewal.ok) return `Lease ${this.namespace}/${this.o.nodeName} was not renewed: ${renewal.error}`;
    return true;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await this.lease.stop();
    await this.agents.stop();
  }

  /** The NodeAgent as the owner of what the agent creates for its node; undefined until registered. */
  ownerReference(): OwnerReference | undefined {
    const uid = this.current?.metadata?.uid;
    return uid ? { apiVersion: API_VERSION, kind: 'NodeAgent', name: this.o.nodeName, uid } : undefined;
  }

  /** Calls `listener` whenever the NodeAgent appears with a new uid (registered, or registered again after a delete). */
  onRegistered(listener: (owner: OwnerReference) => void): void {
    this.listeners.push(listener);
  }

  private seen(agent: NodeAgent): void {
    if (agent.metadata?.uid === this.deletedUid) return;
    this.current = agent;
    const owner = this.ownerReference();
    if (!owner || owner.uid === this.announcedUid) return;
    this.announcedUid = owner.uid;
    for (const listener of this.listeners) {
      try {
        listener(owner);
      } catch (err) {
        this.logger.error({ err }, 'NodeAgent registration listener threw');
      }
    }
  }

  private async run(): Promise<void> {
    const stop = this.abort.signal;
    if (!(await this.agents.waitForSync(stop))) return;
    while (!stop.aborted) {
      try {
        await this.sync(stop);
        this.lastError = undefined;
      } catch (err) {
        if (stop.aborted) return;
        if (isNotFound(err) && this.current) {
          // Deleted under us, before the watch said so: register it again at once.
          this.logger.warn('NodeAgent is gone; registering again');
          this.current = undefined;
          continue;
        }
        this.lastError = err instanceof Error ? err.message : String(err);
        this.logger.warn({ err, retryInMs: this.statusIntervalMs }, 'could not register the NodeAgent or write its status');
      }
      this.wake = new AbortController();
      await sleep(this.clock, this.statusIntervalMs, AbortSignal.any([stop, this.wake.signal]));
    }
  }

  /** Creates or updates the NodeAgent, then writes its status if it changed. */
  private async sync(signal: AbortSignal): Promise<void> {
    const labels = nodeLabels({ hostname: this.o.hostname, labels: this.o.labels });
    let agent = this.current ?? (await this.create(labels, signal));
    const patch = registrationPatch(agent, labels, this.o.podCIDR);
    if (patch) agent = await this.o.client.patch<NodeAgent>(NODE_AGENTS, this.o.nodeName, patch, { fieldManager: AGENT_FIELD_MANAGER, signal });
    this.seen(agent);

    const capacity = await measureHostCapacity({ maxPods: this.o.maxPods ?? DEFAULT_MAX_PODS });
    const runtime = await this.probeRuntime();
    const status = nodeAgentStatus({
      previous: agent.status,
      generation: agent.metadata?.generation,
      capacity,
      allocatable: allocatableOf(capacity, this.o.reserved),
      runtime,
      agentVersion: this.o.agentVersion,
      proxyMode: this.o.proxyMode,
      nodeAddresses: this.o.nodeAddresses,
      hostname: this.o.hostname,
      pods: this.o.runningPods(),
      daemonEndpoints: this.o.daemonEndpoints?.(),
      proxy: this.o.proxy?.(),
      now: new Date(this.clock.now()),
    });
    const before = findCondition(agent.status?.conditions, 'Ready');
    const after = findCondition(status.conditions, 'Ready');
    const written = await patchStatusIfChanged(this.o.client, NODE_AGENTS, agent, status, { fieldManager: AGENT_FIELD_MANAGER, signal });
    this.seen(written.object);
    if (!this.registered) this.logger.info({ capacity, runtime: runtime.ok ? `${runtime.runtimeName} ${runtime.runtimeVersion}` : undefined }, 'NodeAgent registered');
    this.registered = true;
    if (after && after.status !== before?.status) {
      const fields = { ready: after.status, reason: after.reason, message: after.message };
      if (after.status === 'True') this.logger.info(fields, 'node is ready');
      else this.logger.warn(fields, 'node is not ready');
    }
  }

  private async create(labels: Record<string, string>, signal: AbortSignal): Promise<NodeAgent> {
    try {
      const created = await this.o.client.create<NodeAgent>(NODE_AGENTS, newNodeAgent(this.o.nodeName, labels, this.o.podCIDR), { fieldManager: AGENT_FIELD_MANAGER, signal });
      this.logger.info({ uid: created.metadata?.uid }, 'created the NodeAgent');
      return created;
    } catch (err) {
      // Created meanwhile (by a previous run of this agent, or its cache lags): take it as it is.
      if (isAlreadyExists(err)) return this.o.client.get<NodeAgent>(NODE_AGENTS, this.o.nodeName, { signal });
      if (isNotFound(err)) {
        throw new Error(`cannot create NodeAgent ${this.o.nodeName}: the API server does not serve nodeagents.shopfloor.dev; install the CRDs (kubectl apply -f crds/)`, { cause: err });
      }
      throw err;
    }
  }

  /** CRI Version, bounded in time: a runtime that hangs is as unreachable as one that refuses. */
  private async probeRuntime(): Promise<RuntimeProbe> {
    const timeoutMs = this.o.runtimeTimeoutMs ?? 5_000;
    let cancel = (): void => {};
    const timeout = new Promise<never>((_resolve, reject) => {
      cancel = this.clock.setTimer(() => reject(new Error(`CRI Version did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const info = await Promise.race([this.o.runtimeInfo(), timeout]);
      return { ok: true, runtimeName: info.runtimeName, runtimeVersion: info.runtimeVersion };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    } finally {
      cancel();
    }
  }
}
