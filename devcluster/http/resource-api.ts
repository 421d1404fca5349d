import type { Logger } from 'pino';
import { admit } from '../objects/admission.js';
import type { KubeObject } from '../objects/object.js';
import { isPlainObject, nowTimestamp } from '../objects/object.js';
import { prepareCreate, prepareUpdate, sameStored, setGeneration } from '../objects/object-rules.js';
import { applyPatch, checkPatchType } from '../patch/dispatch.js';
import { groupVersion, subresourcesOf, type Registry, type ResourceInfo, type VersionInfo } from '../objects/registry.js';
import type { ResourcePath } from './request-path.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, type FieldRequirement, type Selector } from '../objects/selectors.js';
import { collectionPrefix, objectKey, toServed, toStored, withoutTypeMeta } from '../objects/served-object.js';
import { ApiError, alreadyExists, badRequest, conflict, gone, invalid, notFound } from '../objects/status.js';
import type { Storage, WriteResult } from '../storage/storage.js';
import { listTypesFor } from '../objects/list-types.js';
import { flagParam, intParam, parseResourceVersion, tooLargeResourceVersion } from './query-params.js';
import { recordManagedFields, type OwnershipContext } from '../objects/managed-fields.js';
import { ClusterIps } from '../objects/cluster-ips.js';
import { readScale, scaleOf, withReplicas, type ScalePaths, type ScaleRequest } from '../objects/scale.js';
import { decodeBody, unsupportedMediaType } from './body.js';
import { mergePatch } from '../patch/merge.js';
import { jsonPatch, JsonPatchError } from '../patch/json.js';

/** One resource request after routing: the served resource and version it addresses. */
export interface ResourceRequest {
  path: ResourcePath;
  info: ResourceInfo;
  version: VersionInfo;
  query: URLSearchParams;
  userAgent: string;
}

export interface ApiResult {
  code: number;
  body: unknown;
  warnings?: string[];
}

export interface ListResult {
  items: KubeObject[];
  /** The stored bytes of each item (same order), when the list was read from etcd: a list is written from them. */
  values?: Buffer[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

const staleMessage = 'the object has been modified; please apply your changes to the latest version and try again';

/**
 * A conditional write that found the object changed since it was read (kube-apiserver's answer
 * to a stale resourceVersion): reading again and retrying may succeed, where a precondition the
 * client set never will.
 */
class LostRace extends ApiError {
  constructor(info: ResourceInfo, name: string) {
    const c = conflict(info.resource, info.group, name, staleMessage);
    super(c.code, c.message, c.reason, c.details);
  }
}

/**
 * Runs a read-then-write again for as long as its write loses the race with another writer, as
 * kube-apiserver's GuaranteedUpdate does: each lost race means another write landed, so the loop
 * ends once the writers stop, and concurrent patches without a resourceVersion all land.
 */
async function retryLostRaces<T>(attempt: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
    }
  }
}

/** The stored object of a conditional write; NotFound when the object went, LostRace when it changed. */
function written(info: ResourceInfo, name: string, result: WriteResult): KubeObject {
  if (result.ok) return result.object;
  if (!result.current) throw notFound(info.resource, info.group, name);
  throw new LostRace(info, name);
}

/** A client's UID precondition (metadata.uid of an update, preconditions.uid of a delete). */
function checkUid(info: ResourceInfo, name: string, uid: string | undefined, current: KubeObject): void {
  if (uid !== undefined && uid !== current.metadata.uid) {
    throw conflict(info.resource, info.group, name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
  }
}

/** A delete's precondition that the object does not meet, worded and its kind named as kube-apiserver's delete words it (unlike an update's). */
function deletePreconditionFailed(info: ResourceInfo, name: string, field: 'UID' | 'ResourceVersion', wanted: string, inRecord: string | undefined, maybe: string): ApiError {
  return new ApiError(409, `Operation cannot be fulfilled on ${info.kind} "${name}": the ${field} in the precondition (${wanted}) does not match the ${field} in record (${inRecord ?? ''}). The object might have been ${maybe}`, 'Conflict', { name, group: info.group, kind: info.kind });
}

/** A client's resourceVersion in the body of an update or patch: it must be the stored one. */
function checkResourceVersion(info: ResourceInfo, name: string, wanted: number | undefined, current: KubeObject): void {
  if (wanted !== undefined && String(wanted) !== current.metadata.resourceVersion) throw conflict(info.resource, info.group, name, staleMessage);
}

/** Where the addressed resource keeps its replicas; NotFound for a resource without a scale subresource. */
function scalePathsOf(req: ResourceRequest): ScalePaths {
  if (!req.version.scale) throw notFound(`${req.info.resource}/scale`, req.info.group, req.path.name ?? '');
  return req.version.scale;
}

/** Reads the label and field selectors of a list, watch or deletecollection request. */
export function selectorsOf(info: ResourceInfo, query: URLSearchParams): { labels: Selector; fields: FieldRequirement[] } {
  try {
    return {
      labels: parseLabelSelector(query.get('labelSelector') ?? ''),
      fields: parseFieldSelector(query.get('fieldSelector') ?? '', info.selectableFields),
    };
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}

interface ContinueToken {
  rv: number;
  start: string;
}

function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', ...token })).toString('base64url');
}

function decodeContinue(text: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString()) as { rv?: unknown; start?: unknown };
    if (typeof parsed.rv === 'number' && typeof parsed.start === 'string') return { rv: parsed.rv, start: parsed.start };
  } catch {
    // falls through to the error below
  }
  throw badRequest('continue key is not valid: take it unchanged from the metadata.continue of the previous list');
}

function dryRun(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun');
  for (const v of values) if (v !== 'All') throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

/** Fields that `fieldValidation` judges; Strict refuses them, Warn (the default) warns. */
function fieldValidation(info: ResourceInfo, version: VersionInfo, query: URLSearchParams, unknown: string[]): string[] {
  const mode = query.get('fieldValidation') ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(mode)) throw badRequest(`fieldValidation: Unsupported value: "${mode}": supported values: "Ignore", "Strict", "Warn"`);
  if (unknown.length === 0 || mode === 'Ignore') return [];
  if (mode === 'Strict') {
    throw badRequest(`${info.kind} in version "${version.name}" cannot be handled as a ${info.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
  }
  return unknown.map((f) => `unknown field "${f}"`);
}

/**
 * How long after a namespace's deletion a write into it reads the namespace from etcd instead of
 * the cache: the cache follows a watch and may not have seen the deletion yet, and a client
 * that got the delete's answer must see its effect (kube-apiserver's NamespaceLifecycle admission
 * does the same live lookup for 30 s).
 */
const NAMESPACE_LIVE_LOOKUP_MS = 30_000;

/** The verbs on one resource: reads, writes with optimistic concurrency, and deletion. */
export class ResourceApi {
  /** Namespaces deleted through this server lately, with when their live-lookup window ends. */
  private readonly namespacesDeletedAt = new Map<string, number>();
  private readonly clusterIps: ClusterIps;

  constructor(
    private readonly storage: Storage,
    private readonly registry: Registry,
    private readonly logger: Logger,
    /** Called after a CRD is written or removed so that its resource is served at once. */
    private readonly onCrdChange: (crd: KubeObject, deleted: boolean) => void,
    /** A cache of namespace phases (from the garbage collector's index); a miss reads etcd. */
    private readonly cachedNamespace: (name: string) => 'Active' | 'Terminating' | undefined = () => undefined,
  ) {
    this.clusterIps = new ClusterIps(storage);
  }

  /** Runs a write of `object`; a Service's is run once its cluster IP is allocated. */
  private withClusterIp<T>(info: ResourceInfo, object: KubeObject, current: KubeObject | undefined, write: () => Promise<T>): Promise<T> {
    return info.builtin && info.group === '' && info.resource === 'services' ? this.clusterIps.allocating(object, current, write) : write();
  }

  async get(req: ResourceRequest): Promise<ApiResult> {
    const stored = await this.mustGet(req.info, req.path.namespace, req.path.name ?? '');
    return { code: 200, body: toServed(req.info, req.version.name, stored) };
  }

  /** GET of `<name>/scale`: the object's replicas as an autoscaling/v1 Scale. */
  async getScale(req: ResourceRequest): Promise<ApiResult> {
    const paths = scalePathsOf(req);
    const stored = await this.mustGet(req.info, req.path.namespace, req.path.name ?? '');
    return { code: 200, body: scaleOf(toServed(req.info, req.version.name, stored), paths) };
  }

  /** PUT of `<name>/scale`: a whole Scale, whose replicas become the object's. */
  async updateScale(req: ResourceRequest, body: unknown): Promise<ApiResult> {
    const asked = readScale(body, req.path.name ?? '');
    return this.writeScale(req, () => asked);
  }

  /**
   * PATCH of `<name>/scale` (what `kubectl scale` sends): the patch applies to the Scale, not
   * to the object, so a client needs to know nothing of where the object keeps its replicas.
   */
  async patchScale(req: ResourceRequest, body: Buffer, contentType: string): Promise<ApiResult> {
    if (contentType !== 'application/merge-patch+json' && contentType !== 'application/json-patch+json') {
      throw unsupportedMediaType(contentType, ['application/merge-patch+json', 'application/json-patch+json']);
    }
    const patch = decodeBody(body, contentType);
    const name = req.path.name ?? '';
    return this.writeScale(req, (scale) => {
      try {
        return readScale(contentType === 'application/merge-patch+json' ? mergePatch(scale, patch) : jsonPatch(scale, patch), name);
      } catch (err) {
        if (err instanceof JsonPatchError) throw new ApiError(422, `the patch could not be applied to ${req.info.resource}/scale "${name}": ${err.message}`, 'Invalid');
        throw err;
      }
    });
  }

  /** Writes the replicas a Scale asks for as an update of the object, answered as its new Scale. */
  private async writeScale(req: ResourceRequest, ask: (scale: KubeObject) => ScaleRequest): Promise<ApiResult> {
    const { info, version, path } = req;
    const paths = scalePathsOf(req);
    const name = path.name ?? '';
    return retryLostRaces(async () => {
      const current = await this.mustGet(info, path.namespace, name);
      const served = toServed(info, version.name, current);
      const asked = ask(scaleOf(served, paths));
      checkResourceVersion(info, name, parseResourceVersion(asked.resourceVersion, 'metadata.resourceVersion'), current);
      const result = await this.write(req, current, toStored(info, withReplicas(served, paths, asked.replicas)));
      return { ...result, body: scaleOf(result.body as KubeObject, paths) };
    });
  }

  /** A page of the collection on one etcd snapshot, filtered by selectors; `limit` + `continue` page through it. */
  async list(req: ResourceRequest): Promise<ListResult> {
    const { info, path, query } = req;
    const { labels, fields } = selectorsOf(info, query);
    const limit = intParam(query, 'limit') ?? 0;
    // A list ends on its own, but a timeoutSeconds that does not parse is refused on it too.
    intParam(query, 'timeoutSeconds');
    const prefix = collectionPrefix(info, path.namespace);
    let revision: number | undefined;
    let startKey: string | undefined;
    const cont = query.get('continue');
    if (cont) {
      const token = decodeContinue(cont);
      revision = token.rv;
      startKey = prefix + token.start;
      if (!startKey.startsWith(prefix)) throw badRequest('continue key is not valid for this collection');
    } else if (query.get('resourceVersionMatch') === 'Exact') {
      revision = parseResourceVersion(query.get('resourceVersion'), 'resourceVersion');
      if (revision === undefined) throw badRequest('resourceVersionMatch: Forbidden: resourceVersionMatch "Exact" is forbidden for resourceVersion ""');
    }
    // Any other resourceVersion asks for a list at least that new: etcd's current one is, unless
    // the client names a revision etcd has not reached.
    const notOlderThan = cont || revision !== undefined ? undefined : parseResourceVersion(query.get('resourceVersion'), 'resourceVersion');
    const filtered = labels.length > 0 || fields.length > 0;
    const items: KubeObject[] = [];
    const values: Buffer[] = [];
    let more = false;
    let lastKey: string | undefined;
    let remaining: number | undefined;
    try {
      for (;;) {
        const want = limit > 0 ? limit - items.length : 0;
        const page = await this.storage.listPage(prefix, { ...(startKey !== undefined ? { startKey } : {}), ...(revision !== undefined ? { revision } : {}), limit: want });
        if (notOlderThan !== undefined && notOlderThan > page.revision) throw tooLargeResourceVersion(String(notOlderThan), page.revision);
        revision = page.revision;
        for (const { key, object, value } of page.items) {
          lastKey = key;
          const served = toServed(info, req.version.name, object);
          if (filtered && !(matchesLabels(labels, served.metadata.labels) && matchesFields(fields, served))) continue;
          items.push(served);
          values.push(value);
        }
        more = page.more;
        if (!filtered && more) remaining = page.count - page.items.length;
        if (!more || limit === 0 || items.length >= limit) break;
        startKey = `${lastKey}\0`;
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 410 && cont) {
        throw gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      throw err;
    }
    const result: ListResult = { items, values, resourceVersion: String(revision) };
    if (more && lastKey !== undefined) {
      result.continueToken = encodeContinue({ rv: revision ?? 0, start: `${lastKey.slice(prefix.length)}\0` });
      if (remaining !== undefined) result.remainingItemCount = remaining;
    }
    return result;
  }

  listBody(req: ResourceRequest, list: ListResult): Record<string, unknown> & { items: KubeObject[] } {
    return {
      kind: req.info.listKind,
      apiVersion: groupVersion(req.info.group, req.version.name),
      metadata: {
        resourceVersion: list.resourceVersion,
        ...(list.continueToken ? { continue: list.continueToken } : {}),
        ...(list.remainingItemCount !== undefined ? { remainingItemCount: list.remainingItemCount } : {}),
      },
      // kube-apiserver's items of a built-in kind carry no apiVersion and kind (the list says
      // them); a custom resource's items, stored as JSON, keep theirs.
      items: req.info.builtin ? list.items.map(withoutTypeMeta) : list.items,
    };
  }

  async create(req: ResourceRequest, body: unknown, managedFieldsDone = false): Promise<ApiResult> {
    const { info, version, path, query } = req;
    const object = this.checkBody(req, body);
    if (info.namespaced) {
      if (object.metadata.namespace && object.metadata.namespace !== path.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      await this.checkNamespaceWritable(path.namespace ?? '');
    }
    const prepared = prepareCreate(info, toStored(info, object), path.namespace, version.hasStatus);
    const admitted = admit(info, version, prepared);
    const warnings = fieldValidation(info, version, query, admitted.unknownFields);
    if (admitted.causes.length > 0) throw invalid(info.kind, info.group, object.metadata.name ?? object.metadata.generateName ?? '', admitted.causes);
    if (!managedFieldsDone) {
      recordManagedFields(undefined, admitted.object, this.fieldManager(req), groupVersion(info.group, version.name), path.subresource, ownership(info, version));
    }
    const name = admitted.object.metadata.name ?? '';
    const dry = dryRun(query);
    const result = await this.withClusterIp(info, admitted.object, undefined, async () => (dry ? undefined : this.storage.create(objectKey(info, path.namespace, name), admitted.object)));
    // A dry run stores nothing; it answers the object as it would be stored.
    if (!result) return { code: 201, body: toServed(info, version.name, admitted.object), warnings };
    if (!result.ok) throw alreadyExists(info.resource, info.group, name);
    if (info.resource === 'customresourcedefinitions' && info.builtin) this.onCrdChange(result.object, false);
    this.logger.debug({ resource: info.resource, namespace: path.namespace, name }, 'created');
    return { code: 201, body: toServed(info, version.name, result.object), warnings };
  }

  async update(req: ResourceRequest, body: unknown): Promise<ApiResult> {
    const { info, path } = req;
    const object = this.checkBody(req, body);
    const name = path.name ?? '';
    if (object.metadata.name !== name) {
      throw badRequest(`the name of the object (${object.metadata.name ?? ''}) does not match the name on the URL (${name})`);
    }
    if (info.namespaced && object.metadata.namespace && object.metadata.namespace !== path.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const current = await this.mustGet(info, path.namespace, name);
    checkUid(info, name, object.metadata.uid || undefined, current);
    const wanted = parseResourceVersion(object.metadata.resourceVersion, 'metadata.resourceVersion');
    if (wanted === undefined && !info.unconditionalUpdate) {
      throw invalid(info.kind, info.group, name, [{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    checkResourceVersion(info, name, wanted, current);
    return this.write(req, current, toStored(info, object));
  }

  async patch(req: ResourceRequest, body: Buffer, contentType: string): Promise<ApiResult> {
    const { info, path, version } = req;
    const name = path.name ?? '';
    checkPatchType(info, contentType);
    if (req.query.has('force') && contentType !== 'application/apply-patch+yaml') {
      throw badRequest('force: Forbidden: may not be specified for non-apply patch');
    }
    // A patch without a resourceVersion applies to whatever is stored when it is written; one
    // with a resourceVersion that lost a race fails its check on the next read.
    return retryLostRaces(async () => {
      const current = await this.storage.get(objectKey(info, path.namespace, name));
      if (!current && contentType !== 'application/apply-patch+yaml') throw notFound(info.resource, info.group, name);
      const served = current ? toServed(info, version.name, current) : undefined;
      const patched = applyPatch({ info, version, contentType, body, current: served, manager: req.query.get('fieldManager'), force: flagParam(req.query, 'force'), name, namespace: path.namespace, subresource: path.subresource });
      if (!current) {
        return this.create({ ...req, query: withoutParam(req.query, 'force') }, patched.object, patched.managedFieldsDone);
      }
      checkResourceVersion(info, name, parseResourceVersion(patched.object.metadata?.resourceVersion, 'metadata.resourceVersion'), current);
      return this.write(req, current, toStored(info, { ...patched.object, metadata: { ...patched.object.metadata, name } }), patched.managedFieldsDone);
    });
  }

  /** Stores an update of `current`; removes the object when its last finalizer went during deletion. */
  private async write(req: ResourceRequest, current: KubeObject, requested: KubeObject, managedFieldsDone = false): Promise<ApiResult> {
    const { info, version, path, query } = req;
    const name = path.name ?? '';
    if (path.subresource && !subresourcesOf(info, version).some((sub) => sub.name === path.subresource)) {
      throw notFound(`${info.resource}/${path.subresource}`, info.group, name);
    }
    const prepared = prepareUpdate(info, current, requested, path.subresource, version.hasStatus);
    const admitted = admit(info, version, prepared, current);
    const warnings = fieldValidation(info, version, query, admitted.unknownFields);
    if (admitted.causes.length > 0) throw invalid(info.kind, info.group, name, admitted.causes);
    const object = admitted.object;
    setGeneration(info, current, object);
    if (!managedFieldsDone) {
      recordManagedFields(current, object, this.fieldManager(req), groupVersion(info.group, version.name), path.subresource, ownership(info, version));
    }
    return this.withClusterIp(info, object, current, async () => {
      if (sameStored(current, object)) return { code: 200, body: toServed(info, version.name, current), warnings };
      if (dryRun(query)) return { code: 200, body: toServed(info, version.name, object), warnings };
      const key = objectKey(info, path.namespace, name);
      const finished = object.metadata.deletionTimestamp && (object.metadata.finalizers ?? []).length === 0 && !namespacePending(info, object);
      const stored = written(info, name, finished
        ? await this.storage.delete(key, Number(current.metadata.resourceVersion))
        : await this.storage.update(key, object, Number(current.metadata.resourceVersion)));
      if (info.resource === 'customresourcedefinitions' && info.builtin) this.onCrdChange(stored, Boolean(finished));
      return { code: 200, body: toServed(info, version.name, finished ? { ...object, metadata: { ...object.metadata, resourceVersion: stored.metadata.resourceVersion } } : stored), warnings };
    });
  }

  async delete(req: ResourceRequest, body: unknown): Promise<ApiResult> {
    const { info, path } = req;
    const name = path.name ?? '';
    const options = deleteOptions(body, req.query);
    if (info.resource === 'namespaces' && (name === 'default' || name === 'kube-system')) {
      throw new ApiError(403, `namespaces "${name}" is forbidden: this namespace may not be deleted`, 'Forbidden', { name, kind: 'namespaces' });
    }
    return retryLostRaces(async () => {
      const current = await this.mustGet(info, path.namespace, name);
      if (options.uid !== undefined && options.uid !== current.metadata.uid) {
        throw deletePreconditionFailed(info, name, 'UID', options.uid, current.metadata.uid, 'deleted and then recreated');
      }
      if (options.resourceVersion !== undefined && options.resourceVersion !== current.metadata.resourceVersion) {
        throw deletePreconditionFailed(info, name, 'ResourceVersion', options.resourceVersion, current.metadata.resourceVersion, 'modified');
      }
      return this.deleteOnce(req, current, options.propagationPolicy);
    });
  }

  private async deleteOnce(req: ResourceRequest, current: KubeObject, policy: string | undefined): Promise<ApiResult> {
    const { info, version, path, query } = req;
    const name = path.name ?? '';
    const key = objectKey(info, path.namespace, name);
    const finalizers = [...(current.metadata.finalizers ?? [])];
    if (!current.metadata.deletionTimestamp) {
      if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    }
    const pending = finalizers.length > 0 || namespacePending(info, current);
    if (!pending) {
      if (dryRun(query)) return { code: 200, body: deletedBody(req, current) };
      const deleted = written(info, name, await this.storage.delete(key, Number(current.metadata.resourceVersion)));
      if (info.resource === 'customresourcedefinitions' && info.builtin) this.onCrdChange(deleted, true);
      this.noteDeleted(info, name);
      return { code: 200, body: deletedBody(req, deleted) };
    }
    if (current.metadata.deletionTimestamp && jsonArrayEqual(finalizers, current.metadata.finalizers)) {
      return { code: 200, body: toServed(info, version.name, current) };
    }
    const marked: KubeObject = {
      ...current,
      metadata: { ...current.metadata, deletionTimestamp: current.metadata.deletionTimestamp ?? nowTimestamp(), deletionGracePeriodSeconds: 0, finalizers },
    };
    if (finalizers.length === 0) delete marked.metadata.finalizers;
    if (info.resource === 'namespaces' && !info.group) marked.status = { ...(isPlainObject(current.status) ? current.status : {}), phase: 'Terminating' };
    if (dryRun(query)) return { code: 200, body: toServed(info, version.name, marked) };
    const stored = written(info, name, await this.storage.update(key, marked, Number(current.metadata.resourceVersion)));
    this.noteDeleted(info, name);
    return { code: 200, body: toServed(info, version.name, stored) };
  }

  async deleteCollection(req: ResourceRequest, body: unknown): Promise<ApiResult> {
    const list = await this.list({ ...req, query: withoutParam(withoutParam(req.query, 'limit'), 'continue') });
    const deleted: KubeObject[] = [];
    for (const item of list.items) {
      const name = item.metadata.name ?? '';
      try {
        const r = await this.delete({ ...req, path: { ...req.path, name, ...(item.metadata.namespace ? { namespace: item.metadata.namespace } : {}) } }, body);
        deleted.push(isPlainObject(r.body) && r.body.kind !== 'Status' ? (r.body as KubeObject) : item);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    return { code: 200, body: this.listBody(req, { items: deleted, resourceVersion: list.resourceVersion }) };
  }

  private async mustGet(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    const stored = await this.storage.get(objectKey(info, namespace, name));
    if (!stored) throw notFound(info.resource, info.group, name);
    return stored;
  }

  private noteDeleted(info: ResourceInfo, name: string): void {
    if (info.resource !== 'namespaces' || info.group) return;
    const now = Date.now();
    for (const [n, until] of this.namespacesDeletedAt) if (until < now) this.namespacesDeletedAt.delete(n);
    this.namespacesDeletedAt.set(name, now + NAMESPACE_LIVE_LOOKUP_MS);
  }

  private async checkNamespaceWritable(namespace: string): Promise<void> {
    const ns = this.registry.byResource('', 'namespaces');
    if (!ns) return;
    const liveLookup = (this.namespacesDeletedAt.get(namespace) ?? 0) > Date.now();
    let phase = liveLookup ? undefined : this.cachedNamespace(namespace);
    if (phase === undefined) {
      const stored = await this.storage.get(objectKey(ns, undefined, namespace));
      if (!stored) throw notFound('namespaces', '', namespace);
      phase = stored.metadata.deletionTimestamp ? 'Terminating' : 'Active';
    }
    if (phase === 'Terminating') {
      throw new ApiError(403, `unable to create new content in namespace ${namespace} because it is being terminated`, 'Forbidden', { name: namespace, kind: 'namespaces' });
    }
  }

  /** The body as an object of this resource: apiVersion and kind must match the path when given. */
  private checkBody(req: ResourceRequest, body: unknown): KubeObject {
    const { info, version } = req;
    if (!isPlainObject(body)) throw badRequest(`the body must be a ${info.kind} object (a JSON or YAML map)`);
    const expected = groupVersion(info.group, version.name);
    if (body.apiVersion !== undefined && body.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (body.kind !== undefined && body.kind !== info.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${info.kind}) for ${info.resource} in ${expected}`);
    }
    if (body.metadata !== undefined && !isPlainObject(body.metadata)) throw badRequest('metadata: must be an object');
    return { ...body, metadata: { ...(body.metadata as Record<string, unknown> | undefined) } } as KubeObject;
  }

  private fieldManager(req: ResourceRequest): string {
    const given = req.query.get('fieldManager');
    if (given !== null) {
      if (given.length > 128) throw badRequest('fieldManager: Too long: must have at most 128 bytes');
      return given;
    }
    // Like kube-apiserver: the user agent's program name stands in for a missing manager.
    return (req.userAgent.split('/')[0] ?? '').slice(0, 128) || 'unknown';
  }
}

function ownership(info: ResourceInfo, version: VersionInfo): OwnershipContext {
  return { listTypes: listTypesFor(info.builtin, version.schema), hasStatus: version.hasStatus };
}

/** Namespaces are finalized by the namespace controller after their contents are gone. */
function namespacePending(info: ResourceInfo, object: KubeObject): boolean {
  if (info.resource !== 'namespaces' || info.group) return false;
  const spec = object.spec as { finalizers?: string[] } | undefined;
  return (spec?.finalizers ?? []).length > 0;
}

function jsonArrayEqual(a: string[], b: string[] | undefined): boolean {
  return a.length === (b ?? []).length && a.every((v, i) => v === b?.[i]);
}

function withoutParam(query: URLSearchParams, name: string): URLSearchParams {
  const out = new URLSearchParams(query);
  out.delete(name);
  return out;
}

/**
 * What a delete that removed the object at once answers, for built-in kinds and custom resources
 * alike: a Status naming it, as kube-apiserver answers for every kind the devcluster serves (its
 * details leave out the core group's empty name).
 */
function deletedBody(req: ResourceRequest, object: KubeObject): unknown {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: object.metadata.name, ...(req.info.group ? { group: req.info.group } : {}), kind: req.info.resource, uid: object.metadata.uid },
  };
}

interface DeleteOptions {
  propagationPolicy?: string;
  uid?: string;
  resourceVersion?: string;
}

function deleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const out: DeleteOptions = {};
  const b = isPlainObject(body) ? body : {};
  if (body !== undefined && !isPlainObject(body)) throw badRequest('the body of a delete must be a DeleteOptions object');
  const policy = query.get('propagationPolicy') ?? (typeof b.propagationPolicy === 'string' ? b.propagationPolicy : undefined);
  const orphan = query.has('orphanDependents') ? flagParam(query, 'orphanDependents') : typeof b.orphanDependents === 'boolean' ? b.orphanDependents : undefined;
  if (policy !== undefined) {
    if (!['Background', 'Foreground', 'Orphan'].includes(policy)) {
      throw badRequest(`propagationPolicy: Unsupported value: "${policy}": supported values: "Background", "Foreground", "Orphan"`);
    }
    out.propagationPolicy = policy;
  } else if (orphan !== undefined) out.propagationPolicy = orphan ? 'Orphan' : 'Background';
  const pre = isPlainObject(b.preconditions) ? b.preconditions : {};
  if (typeof pre.uid === 'string') out.uid = pre.uid;
  if (typeof pre.resourceVersion === 'string') out.resourceVersion = pre.resourceVersion;
  return out;
}
