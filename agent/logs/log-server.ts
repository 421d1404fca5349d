// The agent's log server: container logs over HTTPS, as kubelet serves /containerLogs to
// `kubectl logs` (through the API server there; straight from `shopfloor logs` here). It
// listens on the node's addresses because serving the node is its job; everything it answers
// needs a bearer token the API server authenticates (TokenReview) and a SubjectAccessReview
// allowing `get` of `nodeassignments/log` (group shopfloor.dev) on the assignment, as pods/log
// is granted in RBAC. Without a valid token: 401; not allowed: 403; an assignment or container
// this node does not run: 404; any path but /containerLogs/…: 404. Its serving certificate is
// signed by a CA of its own under the data dir, announced in the NodeAgent's status for
// clients to pin.
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { isIP } from 'node:net';
import { Counter, type Registry } from 'prom-client';
import { GROUP, type LogServerEndpoint } from '../../api/index.js';
import type { Clock } from '../../kube/clock.js';
import type { Logger } from '../../kube/logger.js';
import { ensureServingCertificate } from '../../pki/serving-certificate.js';
import type { Part } from '../../kube/part.js';
import type { ObservedPod } from '../pods/observed.js';
import type { DesiredAssignment } from '../pods/pod-sync.js';
import { chooseLogInstance } from './log-instance.js';
import { readLog } from './log-reader.js';
import { LOG_PATH_PREFIX, LogRequestError, parseLogOptions, parseLogPath } from './log-request.js';
import { AccessRefused, requestUser, requireAccess, type ResourceAttributes, type Reviewer } from '../../kube/webhook-auth.js';

/** Not kubelet's 10250: the agent may run on a node beside a kubelet. */
export const DEFAULT_LOG_SERVER_ADDRESS = '0.0.0.0:10350';

/** What the server reads of the pod lifecycle (PodLifecycle is one). */
export interface LogSource {
  desired(key: string): DesiredAssignment | undefined;
  observe(key: string): Promise<ObservedPod>;
}

export interface LogServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The node's InternalIP addresses: announced when listening on every address, and in the certificate. */
  nodeAddresses: readonly string[];
  hostname: string;
  /** Where the CA and serving certificate live. */
  certDir: string;
  pods: LogSource;
  reviewer: Reviewer;
  clock: Clock;
  logger: Logger;
  registry?: Registry;
  stateCheckPeriodMs?: number;
}

/** The attributes a log request is authorized with: what `kubectl logs` needs of pods, for assignments. */
export function logAttributes(namespace: string, name: string): ResourceAttributes {
  return { verb: 'get', group: GROUP, resource: 'nodeassignments', subresource: 'log', namespace, name };
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class LogServer implements Part {
  readonly name = 'log-server';
  private server: Server | undefined;
  private announced: LogServerEndpoint | undefined;
  private readonly open = new Set<AbortController>();
  private readonly requests: Counter<'code'> | undefined;

  constructor(private readonly o: LogServerOptions) {
    const name = 'shopfloor_agent_log_requests_total';
    this.requests = o.registry
      ? ((o.registry.getSingleMetric(name) as Counter<'code'> | undefined) ?? new Counter({ name, help: 'Requests to the agent\'s log server, by HTTP status code.', labelNames: ['code'], registers: [o.registry] }))
      : undefined;
  }

  /** The address to announce: the one listened on, or the node's first address when listening on every one. */
  private announceAddress(): string {
    const any = this.o.host === '0.0.0.0' || this.o.host === '::' || this.o.host === '';
    return any ? (this.o.nodeAddresses[0] ?? '127.0.0.1') : this.o.host;
  }

  async start(): Promise<void> {
    const address = this.announceAddress();
    if (!isIP(address)) throw new Error(`log server address "${this.o.host}" is not an IP address; pass --log-server-address IP:PORT (e.g. ${DEFAULT_LOG_SERVER_ADDRESS})`);
    mkdirSync(this.o.certDir, { recursive: true, mode: 0o700 });
    const host = this.o.hostname.toLowerCase();
    const tls = await ensureServingCertificate({
      dir: this.o.certDir,
      caCommonName: 'shopfloor-agent-log-server-ca',
      serverCommonName: 'shopfloor-agent-log-server',
      ipAddresses: [...new Set([address, ...this.o.nodeAddresses, '127.0.0.1', '::1'])],
      dnsNames: [...new Set([...(DNS_NAME.test(host) ? [host] : []), 'localhost'])],
      owner: 'the agent\'s log server',
    });
    const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => void this.handle(req, res));
    // Follows are long-lived.
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'EADDRINUSE' ? new Error(`log server: ${this.o.host}:${this.o.port} is in use; pass another --log-server-address (port 0 picks a free one)`) : err);
      });
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    this.server = server;
    const bound = server.address();
    const port = typeof bound === 'object' && bound ? bound.port : this.o.port;
    this.announced = { address, port, caBundle: tls.ca.toString('base64') };
    this.o.logger.info({ address, port, listen: this.o.host }, 'serving container logs');
  }

  ready(): true | string {
    return this.server ? true : 'the log server is not listening yet';
  }

  /** What the NodeAgent announces; undefined until listening. */
  endpoint(): LogServerEndpoint | undefined {
    return this.announced;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.announced = undefined;
    for (const a of this.open) a.abort();
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const abort = new AbortController();
    this.open.add(abort);
    res.on('close', () => abort.abort());
    try {
      await this.serve(req, res, abort.signal);
    } catch (err) {
      const known = err instanceof LogRequestError || err instanceof AccessRefused;
      if (!known) this.o.logger.error({ url: req.url, err: (err as Error).message }, 'log request failed');
      else if (err instanceof AccessRefused) this.o.logger.info({ url: req.url, status: err.status, err: err.message }, 'log request refused');
      this.answer(res, known ? err.status : 500, known ? err.message : `internal error: ${(err as Error).message}`);
    } finally {
      this.open.delete(abort);
      this.requests?.inc({ code: String(res.statusCode) });
    }
  }

  private async serve(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const user = await requestUser(this.o.reviewer, req.headers.authorization);
    if (req.method !== 'GET') throw new LogRequestError(405, `method ${req.method} is not allowed; the log server answers GET`);
    const url = new URL(req.url ?? '/', 'https://agent');
    const target = parseLogPath(url.pathname, url.searchParams);
    if (!target) throw new LogRequestError(404, `nothing is served at ${url.pathname}; the log server answers GET ${LOG_PATH_PREFIX}<namespace>/<assignment>/<container>`);
    const attributes = logAttributes(target.namespace, target.name);
    await requireAccess(this.o.reviewer, user, attributes);
    const options = parseLogOptions(url.searchParams, this.o.clock.now());
    const key = `${target.namespace}/${target.name}`;
    const desired = this.o.pods.desired(key);
    const instance = chooseLogInstance({
      key,
      assignment: desired?.assignment,
      statusOf: desired?.statusTarget,
      observed: desired ? await this.o.pods.observe(key) : { key, sandboxes: [] },
      container: target.container,
      previous: options.previous,
    });
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff' });
    // The headers go now: a follow of a quiet container must not look like a hung request.
    res.flushHeaders();
    await readLog({
      ...options,
      path: instance.logPath,
      follow: options.follow && instance.running,
      running: async () => (await this.o.pods.observe(key)).sandboxes.some((s) => s.containers.some((c) => c.id === instance.containerId && c.state === 'CONTAINER_RUNNING')),
      write: (chunk) => write(res, chunk, signal),
      signal,
      clock: this.o.clock,
      ...(this.o.stateCheckPeriodMs !== undefined ? { stateCheckPeriodMs: this.o.stateCheckPeriodMs } : {}),
    });
    res.end();
  }

  private answer(res: ServerResponse, status: number, message: string): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };
    if (status === 401) headers['WWW-Authenticate'] = 'Bearer';
    res.writeHead(status, headers);
    res.end(`${message}\n`);
  }
}

/** Writes a chunk, waiting for the client to take it (or to go away). */
function write(res: ServerResponse, chunk: Buffer, signal: AbortSignal): Promise<void> {
  if (res.write(chunk) || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
