import http from 'node:http';
import https from 'node:https';
import type { Counter, Registry } from 'prom-client';
import type { KubeConfig } from './credentials.js';
import { KubeApiError, KubeTransportError } from './errors.js';
import { LineSplitter } from './json-lines.js';
import { restClientMetrics } from './metrics.js';
import { resourcePath, type ResourceType } from './resource.js';
import type { KubeList, KubeObject, KubeStatus, WatchEvent, WatchEventType } from './types.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the server URL, e.g. `/api/v1/namespaces/default/events`. */
  path: string;
  query?: Query;
  /** Sent as JSON (or as-is when a string). */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  /** Whole-request deadline; the client default when omitted. */
  timeoutMs?: number;
}

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface ListOptions extends Selectors {
  /** Omit for all namespaces of a namespaced resource. */
  namespace?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  signal?: AbortSignal;
}

export interface WatchOptions extends Selectors {
  namespace?: string;
  /** Start after this version (from a list or the last event). */
  resourceVersion?: string;
  /** Ask the server to end the watch after this long, so connections are renewed. */
  timeoutSeconds?: number;
  /** Default true: the server sends BOOKMARK events carrying the current resourceVersion. */
  allowWatchBookmarks?: boolean;
}

export type PatchType = 'merge' | 'json' | 'apply' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
  strategic: 'application/strategic-merge-patch+json',
};

export interface WriteOptions {
  fieldManager?: string;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface PatchOptions extends WriteOptions {
  namespace?: string;
  /** Default `merge`. Custom resources do not support `strategic`. */
  type?: PatchType;
  /** Server-side apply only: take over fields other managers own. */
  force?: boolean;
}

export interface DeleteOptions {
  namespace?: string;
  /** The delete fails with 409 Conflict unless the object still has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  signal?: AbortSignal;
}

export interface KubeClientOptions {
  /** Where `rest_client_requests_total{code,method}` goes. */
  registry?: Registry;
  /** Default deadline of non-watch requests. Default 30 s. */
  timeoutMs?: number;
  userAgent?: string;
}

interface Prepared {
  url: URL;
  options: https.RequestOptions;
  transport: typeof http | typeof https;
}

/**
 * A small REST client for any resource path, on the server and credentials of a KubeConfig
 * (credentials.ts resolves tokens, exec plugins and certificates; requests go through Node's
 * http with a keep-alive agent). Errors are `KubeApiError` (HTTP code + Status reason) or
 * `KubeTransportError`. `watch` is a streaming GET the caller controls: it ends when the server
 * ends it, throws on errors (410 Gone as a `KubeApiError` with code 410), and stops when the
 * caller's signal aborts.
 */
export class KubeClient {
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly requests: Counter<'code' | 'method'> | undefined;
  private agent: { made: AgentCredentials; agent: http.Agent } | undefined;

  constructor(
    readonly kubeConfig: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) {
      throw new Error(`kubeconfig: context "${kubeConfig.getCurrentContext()}" names no cluster; fix current-context or the contexts list`);
    }
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.userAgent = options.userAgent ?? 'shopfloor';
    this.requests = options.registry ? restClientMetrics(options.registry) : undefined;
  }

  /** The API server URL of the current context. */
  get server(): string {
    return (this.kubeConfig.getCurrentCluster() as { server: string }).server;
  }

  /** Sends one request and returns the parsed JSON body (undefined when empty). */
  async request<T>(req: RequestOptions): Promise<T> {
    const res = await this.send(req, false);
    const body = await readBody(res, req);
    const code = res.statusCode ?? 0;
    if (code >= 400) throw KubeApiError.fromResponse(code, body, req.method, req.path);
    if (!body) return undefined as T;
    try {
      return JSON.parse(body) as T;
    } catch (err) {
      throw new KubeTransportError(req.method, req.path, new Error(`response is not JSON (${(err as Error).message})`));
    }
  }

  get<T extends KubeObject>(r: ResourceType, name: string, options: { namespace?: string; signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>({ method: 'GET', path: resourcePath(r, { namespace: options.namespace, name }), signal: options.signal });
  }

  /** One page of a list. */
  list<T extends KubeObject>(r: ResourceType, options: ListOptions = {}): Promise<KubeList<T>> {
    return this.request<KubeList<T>>({
      method: 'GET',
      path: resourcePath(r, { namespace: options.namespace }),
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
        resourceVersionMatch: options.resourceVersionMatch,
      },
      signal: options.signal,
    });
  }

  /** Every page of a list (`pageSize` items per request), with the list's resourceVersion. */
  async listAll<T extends KubeObject>(
    r: ResourceType,
    options: Omit<ListOptions, 'limit' | 'continue'> & { pageSize?: number } = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const { pageSize = 500, ...rest } = options;
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.list<T>(r, { ...rest, limit: pageSize, continue: cont });
      items.push(...(page.items ?? []));
      // Later pages are served from the first page's snapshot; its version is the list's.
      if (!cont) resourceVersion = page.metadata?.resourceVersion ?? '';
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  create<T extends KubeObject>(r: ResourceType, obj: T, options: WriteOptions & { namespace?: string } = {}): Promise<T> {
    return this.request<T>({
      method: 'POST',
      path: resourcePath(r, { namespace: options.namespace ?? obj.metadata?.namespace }),
      query: writeQuery(options),
      body: obj,
      signal: options.signal,
    });
  }

  /** PUT of the whole object; fails with 409 Conflict if its resourceVersion is stale. */
  update<T extends KubeObject>(r: ResourceType, obj: T, options: WriteOptions = {}): Promise<T> {
    return this.request<T>({ method: 'PUT', path: objectPath(r, obj), query: writeQuery(options), body: obj, signal: options.signal });
  }

  patch<T extends KubeObject>(r: ResourceType, name: string, patch: unknown, options: PatchOptions = {}): Promise<T> {
    return this.sendPatch<T>(r, name, patch, options);
  }

  /** Patches only the `/status` subresource (a merge patch by default). */
  patchStatus<T extends KubeObject>(r: ResourceType, name: string, patch: unknown, options: PatchOptions = {}): Promise<T> {
    return this.sendPatch<T>(r, name, patch, options, 'status');
  }

  /** Deletes an object; returns what the server answered (the object, or a Status). */
  delete(r: ResourceType, name: string, options: DeleteOptions = {}): Promise<KubeObject | KubeStatus> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.preconditions) body['preconditions'] = options.preconditions;
    if (options.propagationPolicy) body['propagationPolicy'] = options.propagationPolicy;
    if (options.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = options.gracePeriodSeconds;
    return this.request({
      method: 'DELETE',
      path: resourcePath(r, { namespace: options.namespace, name }),
      body,
      signal: options.signal,
    });
  }

  /**
   * Streams watch events. Iteration ends when the server closes the watch (e.g. after
   * `timeoutSeconds`) or when `signal` aborts; it throws `KubeApiError` for an error status or
   * ERROR event (410 = the resourceVersion is too old: relist) and `KubeTransportError` when the
   * connection breaks.
   */
  async *watch<T extends KubeObject>(r: ResourceType, options: WatchOptions, signal?: AbortSignal): AsyncGenerator<WatchEvent<T>> {
    const req: RequestOptions = {
      method: 'GET',
      path: resourcePath(r, { namespace: options.namespace }),
      query: {
        watch: 'true',
        allowWatchBookmarks: options.allowWatchBookmarks ?? true,
        resourceVersion: options.resourceVersion,
        timeoutSeconds: options.timeoutSeconds,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      },
      signal,
    };
    let res: http.IncomingMessage;
    try {
      res = await this.send(req, true);
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
    const code = res.statusCode ?? 0;
    if (code >= 400) throw KubeApiError.fromResponse(code, await readBody(res, req), req.method, req.path);
    res.setEncoding('utf8');
    const lines = new LineSplitter();
    try {
      for await (const chunk of res as AsyncIterable<string>) {
        for (const line of lines.push(chunk)) yield parseWatchLine<T>(line, req);
      }
      for (const line of lines.end()) yield parseWatchLine<T>(line, req);
    } catch (err) {
      if (signal?.aborted) return;
      if (err instanceof KubeApiError || err instanceof KubeTransportError) throw err;
      throw new KubeTransportError(req.method, req.path, err);
    } finally {
      res.destroy();
    }
  }

  private sendPatch<T>(r: ResourceType, name: string, patch: unknown, options: PatchOptions, subresource?: string): Promise<T> {
    const type = options.type ?? 'merge';
    const query = writeQuery(options);
    if (type === 'apply') {
      if (!options.fieldManager) throw new Error('server-side apply needs a fieldManager');
      if (options.force) query['force'] = true;
    }
    return this.request<T>({
      method: 'PATCH',
      path: resourcePath(r, { namespace: options.namespace, name, subresource }),
      query,
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      signal: options.signal,
    });
  }

  /** Opens the request and resolves with the response once its headers arrived. */
  private async send(req: RequestOptions, streaming: boolean): Promise<http.IncomingMessage> {
    const prepared = await this.prepare(req);
    const payload = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    const headers = prepared.options.headers as http.OutgoingHttpHeaders;
    headers['Accept'] = 'application/json';
    headers['User-Agent'] = this.userAgent;
    if (payload !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      if (req.signal?.aborted) {
        reject(abortError(req));
        return;
      }
      const request = prepared.transport.request(prepared.url, prepared.options);
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        cleanup();
        this.requests?.inc({ code: '<error>', method: req.method });
        reject(err instanceof KubeTransportError || (err instanceof Error && err.name === 'AbortError') ? err : new KubeTransportError(req.method, req.path, err));
      };
      const onAbort = (): void => {
        const err = abortError(req);
        fail(err);
        request.destroy(err);
      };
      // Streams keep only the deadline for their headers; plain requests keep it to the end.
      const timer = setTimeout(() => {
        const err = new KubeTransportError(req.method, req.path, new Error(`timed out after ${timeoutMs} ms`));
        fail(err);
        request.destroy(err);
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
      };
      req.signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', fail);
      request.on('response', (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        settled = true;
        this.requests?.inc({ code: String(res.statusCode ?? 0), method: req.method });
        if (res.statusCode === 401) this.kubeConfig.credentialsRejected?.();
        if (streaming) {
          clearTimeout(timer);
          // A caller's abort now ends the stream instead of the request promise.
          req.signal?.removeEventListener('abort', onAbort);
          req.signal?.addEventListener('abort', () => res.destroy(), { once: true });
        } else {
          res.on('close', cleanup);
        }
        resolve(res);
      });
      request.end(payload);
    });
  }

  private async prepare(req: RequestOptions): Promise<Prepared> {
    const base = new URL(this.server);
    const url = new URL(base.href);
    url.pathname = base.pathname.replace(/\/$/, '') + req.path;
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    }
    const options: https.RequestOptions = { method: req.method, headers: {} };
    // Resolves credentials on every request: tokens from files and exec plugins rotate.
    await this.kubeConfig.applyToHTTPSOptions(options);
    options.agent = this.agentFor(options);
    return { url, options, transport: url.protocol === 'http:' ? http : https };
  }

  /** One keep-alive agent per set of TLS credentials (a proxy's agent is kept as given). */
  private agentFor(options: https.RequestOptions): http.Agent {
    const proxied = Boolean(this.kubeConfig.getCurrentCluster()?.proxyUrl);
    // Compared on every request, so compared as bytes: hashing the PEMs cost more than the request.
    const made: AgentCredentials = [this.server, proxied, options.ca, options.cert, options.key, options.rejectUnauthorized, options.servername];
    if (this.agent && made.every((v, i) => sameCredential(v, this.agent?.made[i]))) return this.agent.agent;
    this.agent?.agent.destroy();
    const agent =
      proxied && options.agent instanceof http.Agent
        ? options.agent
        : this.server.startsWith('http:')
          ? new http.Agent({ keepAlive: true })
          : new https.Agent({
              keepAlive: true,
              ca: options.ca,
              cert: options.cert,
              key: options.key,
              ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
              ...(options.servername ? { servername: options.servername } : {}),
            });
    this.agent = { made, agent };
    return agent;
  }

  /** Closes idle keep-alive connections (open watches end when their signals abort). */
  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }
}

/** What a keep-alive agent was made for: server, proxied, ca, cert, key, rejectUnauthorized, servername. */
type AgentCredentials = readonly unknown[];

function sameCredential(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameCredential(v, b[i]));
  return false;
}

function writeQuery(options: WriteOptions): Query {
  return { fieldManager: options.fieldManager, dryRun: options.dryRun ? 'All' : undefined };
}

function objectPath(r: ResourceType, obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`${r.kind}: cannot update an object without metadata.name`);
  return resourcePath(r, { namespace: obj.metadata?.namespace, name });
}

function abortError(req: RequestOptions): Error {
  const err = new Error(`${req.method} ${req.path}: aborted by the caller`);
  err.name = 'AbortError';
  return err;
}

async function readBody(res: http.IncomingMessage, req: RequestOptions): Promise<string> {
  res.setEncoding('utf8');
  let body = '';
  try {
    for await (const chunk of res as AsyncIterable<string>) body += chunk;
  } catch (err) {
    throw new KubeTransportError(req.method, req.path, err);
  }
  return body;
}

const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

function parseWatchLine<T>(line: string, req: RequestOptions): WatchEvent<T> {
  let event: { type?: string; object?: unknown };
  try {
    event = JSON.parse(line) as { type?: string; object?: unknown };
  } catch {
    throw new KubeTransportError(req.method, req.path, new Error(`watch sent a line that is not JSON: ${line.slice(0, 200)}`));
  }
  if (!event.type || !EVENT_TYPES.has(event.type) || typeof event.object !== 'object' || event.object === null) {
    throw new KubeTransportError(req.method, req.path, new Error(`watch sent an event without a known type and object: ${line.slice(0, 200)}`));
  }
  if (event.type === 'ERROR') {
    const status = event.object as KubeStatus;
    throw new KubeApiError(status.code ?? 500, status.reason ?? 'Unknown', status, req.method, req.path);
  }
  return { type: event.type as WatchEventType, object: event.object as T };
}
