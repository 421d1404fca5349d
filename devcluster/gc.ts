import type { Logger } from 'pino';
import type { KubeObject } from './objects/object.js';
import type { Registry, ResourceInfo } from './objects/registry.js';
import type { ResourceApi, ResourceRequest } from './http/resource-api.js';
import { storageVersion } from './objects/served-object.js';
import { ApiError } from './objects/status.js';
import type { Storage, StorageEvent } from './storage/storage.js';

const crdCleanup = 'customresourcecleanup.apiextensions.k8s.io';

interface Entry {
  key: string;
  uid: string;
  info: ResourceInfo;
  namespace: string | undefined;
  name: string;
  owners: string[];
  deleting: boolean;
  finalizers: string[];
}

/**
 * The devcluster's garbage collector and namespace/CRD finalizers, level-triggered over an index
 * of every stored object (kept by one etcd watch on the whole registry):
 * - dependents whose owners (ownerReferences) are all gone are deleted; dangling references to
 *   gone owners are dropped from dependents that still have a live owner;
 * - `foregroundDeletion`: dependents are deleted first, then the finalizer is removed;
 * - `orphan`: dependents lose their reference, then the finalizer is removed;
 * - a terminating namespace loses its contents, then is finalized;
 * - a terminating CRD loses its custom resources, then its cleanup finalizer.
 */
export class GarbageCollector {
  private readonly byUid = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly queue = new Set<string>();
  private cancelWatch: (() => Promise<void>) | undefined;
  private resync: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly registry: Registry,
    private readonly api: ResourceApi,
    private readonly logger: Logger,
    private readonly resyncMs = 5000,
  ) {}

  async start(): Promise<void> {
    await this.sync();
    this.resync = setInterval(() => this.enqueueAll(), this.resyncMs);
    this.resync.unref();
    this.running = true;
    this.loop = this.work();
  }

  /** Rebuilds the index from a list and watches from its revision on. */
  private async sync(): Promise<void> {
    this.byKey.clear();
    this.byUid.clear();
    this.dependents.clear();
    const page = await this.storage.listPage('/registry/');
    for (const { key, object } of page.items) this.index(key, object);
    this.cancelWatch = await this.storage.watch('/registry/', page.revision, (events) => this.onEvents(events), (err) => {
      this.logger.error({ err: err.message }, 'garbage collector watch ended; listing again');
      void this.resyncAfterError();
    });
    this.enqueueAll();
  }

  private async resyncAfterError(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.cancelWatch) await this.cancelWatch().catch(() => undefined);
      await this.sync();
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'garbage collector could not list again; retrying');
      setTimeout(() => void this.resyncAfterError(), 1000).unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    if (this.resync) clearInterval(this.resync);
    this.wake?.();
    // Not awaited: after an etcd restart a watch cancel can wait for a stream that is gone; the client closes next anyway.
    if (this.cancelWatch) void this.cancelWatch().catch(() => undefined);
    await this.loop;
  }

  /** A namespace's phase as the index knows it (undefined when the index has not seen it). */
  namespacePhase(name: string): 'Active' | 'Terminating' | undefined {
    const entry = this.byKey.get(`/registry/core/namespaces/${name}`);
    if (!entry) return undefined;
    return entry.deleting ? 'Terminating' : 'Active';
  }

  private parseKey(key: string): { info: ResourceInfo; namespace: string | undefined; name: string } | undefined {
    const parts = key.split('/');
    // ['', 'registry', group, resource, (namespace,) name]
    const group = parts[2] === 'core' ? '' : (parts[2] ?? '');
    const info = this.registry.byResource(group, parts[3] ?? '');
    if (!info) return undefined;
    if (info.namespaced) return parts.length === 6 ? { info, namespace: parts[4], name: parts[5] ?? '' } : undefined;
    return parts.length === 5 ? { info, namespace: undefined, name: parts[4] ?? '' } : undefined;
  }

  private index(key: string, object: KubeObject): Entry | undefined {
    const where = this.parseKey(key);
    const uid = object.metadata.uid;
    if (!where || !uid) return undefined;
    this.unindex(key);
    const entry: Entry = {
      key, uid, ...where,
      owners: (object.metadata.ownerReferences ?? []).map((r) => r.uid),
      deleting: Boolean(object.metadata.deletionTimestamp),
      finalizers: object.metadata.finalizers ?? [],
    };
    this.byKey.set(key, entry);
    this.byUid.set(uid, entry);
    for (const owner of entry.owners) {
      const set = this.dependents.get(owner) ?? new Set();
      set.add(uid);
      this.dependents.set(owner, set);
    }
    return entry;
  }

  private unindex(key: string): Entry | undefined {
    const old = this.byKey.get(key);
    if (!old) return undefined;
    this.byKey.delete(key);
    this.byUid.delete(old.uid);
    for (const owner of old.owners) this.dependents.get(owner)?.delete(old.uid);
    return old;
  }

  private onEvents(events: StorageEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'DELETED') {
        const old = this.unindex(ev.key);
        if (!old) continue;
        for (const dep of this.dependents.get(old.uid) ?? []) this.queue.add(dep);
        for (const owner of old.owners) this.queue.add(owner);
        if (old.namespace) this.enqueueNamespace(old.namespace);
        this.enqueueCrdOf(old.info);
      } else {
        const entry = this.index(ev.key, ev.object);
        // An object neither being deleted nor owned has nothing to collect (as in enqueueAll).
        if (entry && (entry.deleting || entry.owners.length > 0)) this.queue.add(entry.uid);
      }
    }
    this.wake?.();
  }

  private enqueueNamespace(name: string): void {
    const ns = this.byKey.get(`/registry/core/namespaces/${name}`);
    if (ns) this.queue.add(ns.uid);
  }

  private enqueueCrdOf(info: ResourceInfo): void {
    if (info.builtin) return;
    const crd = this.byKey.get(`/registry/apiextensions.k8s.io/customresourcedefinitions/${info.resource}.${info.group}`);
    if (crd) this.queue.add(crd.uid);
  }

  private enqueueAll(): void {
    for (const e of this.byUid.values()) if (e.deleting || e.owners.length > 0) this.queue.add(e.uid);
    this.wake?.();
  }

  private async work(): Promise<void> {
    while (this.running) {
      const next = this.queue.values().next();
      if (next.done) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      this.queue.delete(next.value);
      const entry = this.byUid.get(next.value);
      if (!entry) continue;
      try {
        await this.process(entry);
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === 404 || err.code === 409 || err.code === 422))) {
          this.logger.warn({ namespace: entry.namespace, name: entry.name, resource: entry.info.resource, err: (err as Error).message }, 'garbage collection step failed; retrying at the next resync');
        }
      }
    }
  }

  private async process(entry: Entry): Promise<void> {
    if (entry.owners.length > 0 && !entry.deleting) {
      const live = entry.owners.filter((o) => this.byUid.has(o));
      if (live.length === 0) {
        const waiting = entry.owners.some((o) => this.byUid.get(o)?.finalizers.includes('foregroundDeletion'));
        await this.api.delete(this.request(entry), { propagationPolicy: waiting ? 'Foreground' : 'Background', preconditions: { uid: entry.uid } });
        return;
      }
      if (live.length < entry.owners.length) {
        await this.patchJson(entry, (current) => {
          const refs = (current.metadata.ownerReferences ?? []).filter((r) => this.byUid.has(r.uid));
          return [{ op: 'test', path: '/metadata/ownerReferences', value: current.metadata.ownerReferences }, { op: 'replace', path: '/metadata/ownerReferences', value: refs }];
        });
      }
    }
    if (!entry.deleting) return;
    const deps = [...(this.dependents.get(entry.uid) ?? [])].map((u) => this.byUid.get(u)).filter((d): d is Entry => d !== undefined);
    if (entry.finalizers.includes('orphan')) {
      for (const d of deps) {
        await this.patchJson(d, (current) => {
          const refs = (current.metadata.ownerReferences ?? []).filter((r) => r.uid !== entry.uid);
          return [{ op: 'test', path: '/metadata/ownerReferences', value: current.metadata.ownerReferences }, { op: 'replace', path: '/metadata/ownerReferences', value: refs }];
        });
      }
      await this.removeFinalizer(entry, 'orphan');
      return;
    }
    if (entry.finalizers.includes('foregroundDeletion')) {
      const pending = deps.filter((d) => !d.deleting);
      for (const d of pending) await this.api.delete(this.request(d), { propagationPolicy: 'Foreground', preconditions: { uid: d.uid } }).catch(ignoreGone);
      if (deps.length === 0) await this.removeFinalizer(entry, 'foregroundDeletion');
      return;
    }
    if (entry.info.resource === 'namespaces' && !entry.info.group) {
      const contents = [...this.byKey.values()].filter((e) => e.namespace === entry.name && e.info.namespaced);
      for (const c of contents.filter((c) => !c.deleting)) await this.api.delete(this.request(c), { preconditions: { uid: c.uid } }).catch(ignoreGone);
      if (contents.length === 0) {
        await this.patchJson(entry, (current) => [{ op: 'replace', path: '/spec/finalizers', value: [] }, { op: 'test', path: '/metadata/uid', value: current.metadata.uid }], 'finalize');
      }
      return;
    }
    if (entry.info.resource === 'customresourcedefinitions' && entry.finalizers.includes(crdCleanup)) {
      const [plural, ...groupParts] = entry.name.split('.');
      const group = groupParts.join('.');
      const prefix = `/registry/${group}/${plural}/`;
      const objects = [...this.byKey.values()].filter((e) => e.key.startsWith(prefix));
      for (const o of objects.filter((o) => !o.deleting)) await this.api.delete(this.request(o), { preconditions: { uid: o.uid } }).catch(ignoreGone);
      if (objects.length === 0) await this.removeFinalizer(entry, crdCleanup);
    }
  }

  private request(entry: Entry): ResourceRequest {
    const version = storageVersion(entry.info);
    return {
      path: { group: entry.info.group, version: version.name, resource: entry.info.resource, name: entry.name, ...(entry.namespace ? { namespace: entry.namespace } : {}) },
      info: entry.info,
      version,
      query: new URLSearchParams({ fieldManager: 'devcluster-garbage-collector' }),
      userAgent: 'devcluster-garbage-collector',
    };
  }

  private async removeFinalizer(entry: Entry, finalizer: string): Promise<void> {
    await this.patchJson(entry, (current) => {
      const rest = (current.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      return [{ op: 'test', path: '/metadata/finalizers', value: current.metadata.finalizers ?? [] }, { op: 'replace', path: '/metadata/finalizers', value: rest }];
    });
  }

  /** A JSON patch built from the current object; its `test` ops make a concurrent change fail it (retried later). */
  private async patchJson(entry: Entry, ops: (current: KubeObject) => unknown[], subresource?: string): Promise<void> {
    const req = this.request(entry);
    const current = await this.api.get(req);
    const patch = ops(current.body as KubeObject);
    await this.api.patch({ ...req, path: { ...req.path, ...(subresource ? { subresource } : {}) } }, Buffer.from(JSON.stringify(patch)), 'application/json-patch+json');
  }
}

function ignoreGone(err: unknown): void {
  if (err instanceof ApiError && err.code === 404) return;
  throw err;
}
