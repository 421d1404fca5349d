import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Logger } from 'pino';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Authenticator, UserInfo } from '../access/authentication.js';
import { decodeBody, mediaType, unsupportedMediaType } from './body.js';
import { apiGroupDocument, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import type { OpenApi } from '../schema/openapi.js';
import { isPlainObject } from '../objects/object.js';
import { decodeKubernetesProtobuf, ProtobufError } from './protobuf.js';
import { subresourcesOf, type Registry } from '../objects/registry.js';
import { SCALE_COLUMNS } from '../objects/scale.js';
import { parseResourcePath } from './request-path.js';
import type { ApiResult, ResourceApi, ResourceRequest } from './resource-api.js';
import type { Review } from '../access/reviews.js';
import { ApiError, badRequest } from '../objects/status.js';
import { buildTable, type IncludeObject } from './tables.js';
import { servedJson, servedJsonLength, writeServedJson } from '../objects/served-object.js';
import type { KubeObject } from '../objects/object.js';
import type { TlsFiles } from './tls.js';
import { flagParam } from './query-params.js';
import { serveWatch } from './watch.js';
import type { WatchHub } from '../storage/watch-hub.js';

/** kube-apiserver refuses request bodies over 3 MiB. */
export const maxBodyBytes = 3 * 1024 * 1024;

export interface ServerDeps {
  tls: TlsFiles;
  authenticator: Authenticator;
  registry: Registry;
  api: ResourceApi;
  hub: WatchHub;
  openapi: OpenApi;
  logger: Logger;
  /** Served at /metrics to authenticated callers, as kube-apiserver serves its own. */
  metrics: MetricsRegistry;
  /** False while etcd is down: resource requests answer 503. */
  etcdUp: () => boolean;
  bookmarkIntervalMs: number;
}

/** About how much of a list goes out per write: large enough that per-write costs stay small. */
const LIST_BATCH_BYTES = 256 * 1024;
const COMMA = 0x2c;

const publicPaths = new Set(['/healthz', '/livez', '/readyz', '/version']);

/** The HTTPS server: authentication, body limits, content negotiation, and routing to the handlers. */
export class ApiServer {
  readonly server: Server;
  /** Open watches: how to end each, by the group/resource it watches. */
  private readonly watches = new Map<() => void, string>();
  private address = '127.0.0.1:0';

  constructor(private readonly deps: ServerDeps) {
    this.server = createServer({ key: deps.tls.key, cert: deps.tls.cert }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.fail(res, err, req));
    });
    // Watches are long-lived; kube clients keep connections alive between requests.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 65_000;
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is in use; pass --port N (0 picks a free port)`) : err);
      });
      this.server.listen(port, host, () => {
        const addr = this.server.address();
        const bound = typeof addr === 'object' && addr ? addr.port : port;
        this.address = `${host}:${bound}`;
        resolve(bound);
      });
    });
  }

  /** Ends open watches, of one group/resource or all (their clients list and watch again). */
  endWatches(groupResource?: string): void {
    for (const [end, key] of [...this.watches]) if (groupResource === undefined || key === groupResource) end();
  }

  async close(): Promise<void> {
    this.endWatches();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://devcluster');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (publicPaths.has(path) && (method === 'GET' || method === 'HEAD')) {
      this.health(path, url, res);
      return;
    }
    const caller = this.deps.authenticator.header(req.headers.authorization);
    if (!caller) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    if (path === '/metrics' && method === 'GET') {
      res.writeHead(200, { 'Content-Type': this.deps.metrics.contentType });
      res.end(await this.deps.metrics.metrics());
      return;
    }
    if (path === '/api' && method === 'GET') return this.json(res, 200, apiVersions(this.address));
    if (path === '/apis' && method === 'GET') return this.json(res, 200, apiGroupList(this.deps.registry));
    if (path.startsWith('/openapi/')) return this.openapi(path, method, res);
    const discovery = this.discovery(path, method);
    if (discovery) return this.json(res, 200, discovery);
    const rp = parseResourcePath(path);
    if (!rp) throw new ApiError(404, 'the server could not find the requested resource', 'NotFound');
    const info = this.deps.registry.lookup(rp.group, rp.version, rp.resource);
    if (!info || (rp.namespace !== undefined && !info.namespaced)) {
      throw new ApiError(404, 'the server could not find the requested resource', 'NotFound', { group: rp.group, kind: rp.resource });
    }
    if (!this.deps.etcdUp()) throw new ApiError(503, 'etcd is unavailable; the devcluster restarts it, retry in a moment', 'ServiceUnavailable', { retryAfterSeconds: 1 });
    const version = info.versions.find((v) => v.name === rp.version);
    if (!version) throw new ApiError(404, 'the server could not find the requested resource', 'NotFound');
    const rr: ResourceRequest = { path: rp, info, version, query: url.searchParams, userAgent: String(req.headers['user-agent'] ?? '') };
    const accept = String(req.headers.accept ?? '');
    const table = /as=Table/.test(accept);
    if (accept && !/json|\*\/\*|yaml/.test(accept)) {
      throw new ApiError(406, `only the following media types are accepted: application/json, application/yaml (asked for ${accept})`, 'NotAcceptable');
    }
    const include = includeObject(url.searchParams);
    if (info.review) return this.review(req, res, info.review, rr, caller);
    const namespacedWithout = info.namespaced && rp.namespace === undefined;
    if (rp.name === undefined) {
      if (method === 'GET') {
        if (flagParam(url.searchParams, 'watch')) {
          await serveWatch(res, rr, this.deps.api, this.deps.hub, { table, include, bookmarkIntervalMs: this.deps.bookmarkIntervalMs, register: (end) => this.register(end, `${info.group}/${info.resource}`) });
          return;
        }
        const list = await this.deps.api.list(rr);
        if (table) {
          const columns = version.printerColumns;
          return this.json(res, 200, buildTable(columns, list.items, { resourceVersion: list.resourceVersion, ...(list.continueToken ? { continue: list.continueToken } : {}), ...(list.remainingItemCount !== undefined ? { remainingItemCount: list.remainingItemCount } : {}) }, include));
        }
        return this.jsonList(res, this.deps.api.listBody(rr, list), rr, list.values);
      }
      if (method === 'POST' && !namespacedWithout) return this.result(res, await this.deps.api.create(rr, await this.objectBody(req)), rr, table, include);
      if (method === 'DELETE' && !namespacedWithout) return this.result(res, await this.deps.api.deleteCollection(rr, await this.optionalBody(req)), rr, false, include);
      throw methodNotAllowed(method);
    }
    if (rp.subresource !== undefined && method === 'GET' && !subresourcesOf(info, version).some((sub) => sub.name === rp.subresource && sub.verbs.includes('get'))) {
      throw new ApiError(404, 'the server could not find the requested resource', 'NotFound');
    }
    if (rp.subresource === 'scale') return this.scale(req, res, rr, table, include);
    switch (method) {
      case 'GET': return this.result(res, await this.deps.api.get(rr), rr, table, include);
      case 'PUT': return this.result(res, await this.deps.api.update(rr, await this.objectBody(req)), rr, table, include);
      case 'PATCH': return this.result(res, await this.deps.api.patch(rr, await readBody(req), mediaType(req.headers['content-type'])), rr, table, include);
      case 'DELETE': return this.result(res, await this.deps.api.delete(rr, await this.optionalBody(req)), rr, false, include);
      default: throw methodNotAllowed(method);
    }
  }

  /** `<name>/scale`: read and written as an autoscaling/v1 Scale (objects/scale.ts). */
  private async scale(req: IncomingMessage, res: ServerResponse, rr: ResourceRequest, table: boolean, include: IncludeObject): Promise<void> {
    const scaled = { ...rr, version: { ...rr.version, printerColumns: SCALE_COLUMNS } };
    switch (req.method) {
      case 'GET': return this.result(res, await this.deps.api.getScale(rr), scaled, table, include);
      case 'PUT': return this.result(res, await this.deps.api.updateScale(rr, await this.objectBody(req)), scaled, table, include);
      case 'PATCH': return this.result(res, await this.deps.api.patchScale(rr, await readBody(req), mediaType(req.headers['content-type'])), scaled, table, include);
      default: throw methodNotAllowed(req.method ?? '');
    }
  }

  private async review(req: IncomingMessage, res: ServerResponse, review: Review, rr: ResourceRequest, caller: UserInfo): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'POST' || rr.path.name !== undefined) throw methodNotAllowed(method);
    const body = await this.objectBody(req);
    if (!isPlainObject(body)) throw badRequest(`the body must be a ${rr.info.kind} object`);
    const typed = { apiVersion: `${rr.info.group}/${rr.path.version}`, kind: rr.info.kind, ...body, metadata: isPlainObject(body.metadata) ? body.metadata : {} };
    return this.json(res, 201, review(typed, { caller, authenticator: this.deps.authenticator }));
  }

  private register(end: () => void, groupResource: string): () => void {
    this.watches.set(end, groupResource);
    return () => this.watches.delete(end);
  }

  private health(path: string, url: URL, res: ServerResponse): void {
    if (path === '/version') return this.json(res, 200, versionInfo);
    const ready = path !== '/readyz' || this.deps.etcdUp();
    const verbose = url.searchParams.has('verbose');
    const body = verbose ? `[${ready ? '+' : '-'}]etcd ${ready ? 'ok' : 'failed: etcd is unavailable'}\n${path.slice(1)} check ${ready ? 'passed' : 'failed'}\n` : ready ? 'ok' : '[-]etcd failed: etcd is unavailable\nreadyz check failed\n';
    res.writeHead(ready ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  }

  private discovery(path: string, method: string): Record<string, unknown> | undefined {
    if (method !== 'GET') return undefined;
    if (path === '/api/v1') return apiResourceList(this.deps.registry, '', 'v1');
    const m = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (!m) return undefined;
    const [, group, version] = m as unknown as [string, string, string | undefined];
    return version ? apiResourceList(this.deps.registry, group, version) : apiGroupDocument(this.deps.registry, group);
  }

  private openapi(path: string, method: string, res: ServerResponse): void {
    if (method !== 'GET') throw methodNotAllowed(method);
    if (path === '/openapi/v3') return this.json(res, 200, this.deps.openapi.index());
    const doc = this.deps.openapi.document(path.slice('/openapi/v3/'.length));
    if (!doc) throw new ApiError(404, `no OpenAPI v3 document at ${path}`, 'NotFound');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.end(doc);
  }

  private async objectBody(req: IncomingMessage): Promise<unknown> {
    return this.decoded(req, await readBody(req));
  }

  /** A delete's DeleteOptions, if the request has a body: JSON, YAML, or protobuf (as helm's typed clients send it). */
  private async optionalBody(req: IncomingMessage): Promise<unknown> {
    const body = await readBody(req);
    return body.length === 0 ? undefined : this.decoded(req, body);
  }

  private decoded(req: IncomingMessage, body: Buffer): unknown {
    const type = mediaType(req.headers['content-type']);
    if (type === 'application/vnd.kubernetes.protobuf') {
      try {
        return decodeKubernetesProtobuf(body);
      } catch (err) {
        if (err instanceof ProtobufError) throw badRequest(`the protobuf body could not be decoded: ${err.message}`);
        throw err;
      }
    }
    if (type !== 'application/json' && type !== 'application/yaml' && type !== '') {
      throw unsupportedMediaType(type, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
    }
    return decodeBody(body, type || 'application/json');
  }

  private result(res: ServerResponse, result: ApiResult, rr: ResourceRequest, table: boolean, include: IncludeObject): void {
    const headers: Record<string, string | string[]> = {};
    if (result.warnings?.length) headers.Warning = result.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    const body = result.body as { kind?: string; metadata?: { resourceVersion?: string } };
    const out = table && body.kind !== 'Status' && body.metadata
      ? buildTable(rr.version.printerColumns, [body as Parameters<typeof buildTable>[1][number]], { resourceVersion: body.metadata.resourceVersion ?? '' }, include)
      : result.body;
    this.json(res, result.code, out, headers);
  }

  private json(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
    // Encoded once: Buffer.byteLength of the text and then writing the text would each walk it.
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Content-Length': data.length, ...headers });
    res.end(data);
  }

  /**
   * A list, written a batch of items at a time (chunked): a list of thousands of objects is tens
   * of megabytes, and serializing all of it before the first byte leaves holds the whole text in
   * memory and keeps the client waiting while the server could be sending the head. The bytes
   * are those of JSON.stringify of the whole list. An item read from etcd is written from its
   * stored bytes (servedJson) rather than serialized again: that halved the CPU of a list.
   */
  private jsonList(res: ServerResponse, body: { items: KubeObject[] }, rr: ResourceRequest, values: Buffer[] | undefined): void {
    const { items, ...head } = body;
    // `items` is the last field: the list without items ends in `[]}`, which the items go between.
    const open = JSON.stringify({ ...head, items: [] });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    // Items are copied into one buffer per batch: no string or buffer object per item.
    let batch = Buffer.allocUnsafe(LIST_BATCH_BYTES);
    let at = batch.write(open.slice(0, -2));
    const room = (bytes: number): void => {
      if (at + bytes <= batch.length) return;
      res.write(batch.subarray(0, at));
      batch = Buffer.allocUnsafe(Math.max(LIST_BATCH_BYTES, bytes));
      at = 0;
    };
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as KubeObject;
      const stored = values?.[i];
      const layout = stored && servedJson(rr.info, rr.version.name, item, stored);
      if (layout && stored) {
        room(1 + servedJsonLength(layout, stored));
        if (i > 0) batch[at++] = COMMA;
        at = writeServedJson(layout, stored, batch, at);
      } else {
        const text = Buffer.from(JSON.stringify(item));
        room(1 + text.length);
        if (i > 0) batch[at++] = COMMA;
        at += text.copy(batch, at);
      }
    }
    room(2);
    at += batch.write(']}', at, 'latin1');
    res.end(batch.subarray(0, at));
  }

  private fail(res: ServerResponse, err: unknown, req: IncomingMessage): void {
    const apiErr = err instanceof ApiError ? err : new ApiError(500, `internal error: ${(err as Error)?.message ?? String(err)}`, 'InternalError');
    if (apiErr.code >= 500) this.deps.logger.error({ method: req.method, url: req.url, code: apiErr.code, err: apiErr.message }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    const headers: Record<string, string> = {};
    if (apiErr.code === 503) headers['Retry-After'] = '1';
    if (apiErr.code === 413) headers.Connection = 'close';
    this.json(res, apiErr.code, apiErr.toStatus(), headers);
  }
}

function includeObject(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw badRequest(`includeObject: Unsupported value: "${v}": supported values: "None", "Metadata", "Object"`);
}

function methodNotAllowed(method: string): ApiError {
  return new ApiError(405, `the server does not allow this method on the requested resource (${method})`, 'MethodNotAllowed');
}

/** Reads a request body up to 3 MiB; larger ones are refused with 413 before they are parsed. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  const tooLarge = (): ApiError => new ApiError(413, `Request entity too large: limit is ${maxBodyBytes}`, 'RequestEntityTooLarge');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}
