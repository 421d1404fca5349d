// Keeps a mirror in the API of every static assignment of this node, as kubelet keeps mirror pods:
// created when a static workload appears, recreated when deleted, restored when edited, deleted
// when its file goes (also one left over from before a restart). Mirrors are owned by the
// NodeAgent, so they are written only once the node is registered.
import type { Registry } from 'prom-client';
import type { NodeAssignment } from '../../api/index.js';
import type { KubeClient } from '../../kube/client.js';
import { Controller, type ReconcileResult } from '../../kube/controller.js';
import type { Clock } from '../../kube/clock.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../kube/errors.js';
import { Informer } from '../../kube/informer.js';
import { silentLogger, type Logger } from '../../kube/logger.js';
import { NODE_ASSIGNMENTS } from '../../kube/resource.js';
import { stripUnreadMetadata } from '../../kube/strip-metadata.js';
import { splitKey, type EventSource, type OwnerReference } from '../../kube/types.js';
import type { Part } from '../../kube/part.js';
import { mirrorOf, mirrorPatch } from './mirror.js';
import { ANNOTATION_CONFIG_SOURCE, isStatic, mirrorSelector } from './static-manifest.js';

const FIELD_MANAGER = 'shopfloor-agent';
/** How soon a mirror that cannot be written yet (no namespace, a name taken) is tried again. */
const BLOCKED_RETRY_MS = 20_000;

/** The static assignments, as StaticManifests serves them. */
export interface StaticAssignmentSource extends EventSource<NodeAssignment> {
  get(key: string): NodeAssignment | undefined;
  list(): NodeAssignment[];
}

/** The node's registration, as the owner of its mirrors. */
export interface MirrorOwner {
  ownerReference(): OwnerReference | undefined;
  onRegistered(listener: (owner: OwnerReference) => void): void;
}

export interface MirrorAssignmentsOptions {
  client: KubeClient;
  nodeName: string;
  source: StaticAssignmentSource;
  owner: MirrorOwner;
  clock?: Clock;
  logger?: Logger;
  registry?: Registry;
}

export class MirrorAssignments implements Part {
  readonly name = 'static-mirrors';
  private readonly o: MirrorAssignmentsOptions;
  private readonly logger: Logger;
  private readonly mirrors: Informer<NodeAssignment>;
  private readonly controller: Controller;
  private running: Promise<void> | undefined;

  constructor(options: MirrorAssignmentsOptions) {
    this.o = options;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'static-mirrors', node: options.nodeName });
    this.mirrors = new Informer<NodeAssignment>({
      client: options.client,
      resource: NODE_ASSIGNMENTS,
      labelSelector: mirrorSelector(options.nodeName),
      // Mirrors are only patched, never written back whole.
      transform: stripUnreadMetadata,
      clock: options.clock,
      logger: this.logger,
      registry: options.registry,
      metricsPrefix: 'shopfloor_agent',
    });
    this.controller = new Controller({
      name: 'static-mirrors',
      reconcile: (key, signal) => this.reconcile(key, signal),
      clock: options.clock,
      logger: this.logger,
      registry: options.registry,
    });
    this.controller.watch(options.source);
    this.controller.watch(this.mirrors);
    // A NodeAgent registered again has a new uid: every mirror takes it as its owner.
    options.owner.onRegistered(() => {
      for (const a of [...options.source.list(), ...this.mirrors.list()]) this.controller.queue.add(`${a.metadata?.namespace}/${a.metadata?.name}`);
    });
  }

  async start(): Promise<void> {
    this.mirrors.start();
    this.running ??= this.controller.run();
  }

  ready(): true | string {
    return this.mirrors.hasSynced() || 'the mirrors of static assignments have not been listed yet';
  }

  async stop(): Promise<void> {
    await this.controller.stop();
    await this.running;
    await this.mirrors.stop();
  }

  private async reconcile(key: string, signal: AbortSignal): Promise<ReconcileResult | void> {
    const { client } = this.o;
    const { namespace, name } = splitKey(key);
    const log = this.logger.child({ namespace, name });
    const desired = this.o.source.get(key);
    const actual = this.mirrors.get(key);
    if (!desired) {
      if (!actual || actual.metadata?.deletionTimestamp) return;
      try {
        await client.delete(NODE_ASSIGNMENTS, name, { namespace, preconditions: { uid: actual.metadata?.uid }, signal });
        log.info('deleted the mirror: its static manifest is gone');
      } catch (err) {
        // Gone already, or replaced by another object: either way not this mirror any more.
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
      return;
    }
    const owner = this.o.owner.ownerReference();
    // Not registered yet: onRegistered queues every mirror when it is.
    if (!owner) return;
    const want = mirrorOf(desired, owner);
    if (!actual) return this.create(want, log, signal);
    // Its deletion event brings it back.
    if (actual.metadata?.deletionTimestamp) return;
    const patch = mirrorPatch(actual, want);
    if (!patch) return;
    const metadata = { ...((patch['metadata'] as Record<string, unknown> | undefined) ?? {}), resourceVersion: actual.metadata?.resourceVersion };
    await client.patch(NODE_ASSIGNMENTS, name, { ...patch, metadata }, { namespace, fieldManager: FIELD_MANAGER, signal });
    log.info({ changed: Object.keys(patch) }, 'restored the mirror: it is read-only, its static manifest says what it holds');
  }

  private async create(want: NodeAssignment, log: Logger, signal: AbortSignal): Promise<ReconcileResult | void> {
    const { client } = this.o;
    const { namespace, name } = want.metadata;
    const file = want.metadata.annotations?.[ANNOTATION_CONFIG_SOURCE];
    try {
      await client.create(NODE_ASSIGNMENTS, want, { fieldManager: FIELD_MANAGER, signal });
      log.info({ file }, 'created the mirror of a static assignment');
      return;
    } catch (err) {
      if (isNotFound(err)) {
        log.warn({ file, retryInMs: BLOCKED_RETRY_MS }, `namespace ${namespace} does not exist: the static workload runs, its mirror is created once the namespace exists`);
        return { requeueAfterMs: BLOCKED_RETRY_MS };
      }
      if (!isAlreadyExists(err)) throw err;
    }
    const existing = await client.get<NodeAssignment>(NODE_ASSIGNMENTS, name ?? '', { namespace, signal });
    // A mirror the cache has not seen yet: its event comes.
    if (isStatic(existing)) return;
    log.warn({ file, retryInMs: BLOCKED_RETRY_MS }, 'a NodeAssignment of this name exists and is not a mirror: the static workload runs without one; rename the workload in its file or delete the other NodeAssignment');
    return { requeueAfterMs: BLOCKED_RETRY_MS };
  }
}
