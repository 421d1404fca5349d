// The floor's HTTP server: the page (its HTML, script and style, built with the project and read
// from page/ beside this file), the floor as one JSON document, and the floor as it changes over
// server-sent events. Read-only: it answers GET and HEAD alone, and writes nothing to the API.
//
// On a loopback address it answers anyone on the machine, as the metrics server does. On any
// other address, the floor's data (not the page itself, which holds none) needs a bearer token
// the API server authenticates (TokenReview) and a SubjectAccessReview allowing `list
// nodeworkloads` in every namespace: the floor shows every workload.
//
// One copy of each change is made for all open pages. A page that does not take its events (its
// buffered bytes pass a bound) is disconnected rather than buffered for: it reconnects and starts
// over from a snapshot, so the operator's memory does not grow with slow or many pages.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../../kube/metrics.js';
import { GROUP } from '../../api/index.js';
import type { Logger } from '../../kube/logger.js';
import type { Part } from '../../kube/part.js';
import { AccessRefused, requestUser, requireAccess, type ResourceAttributes, type Reviewer } from '../../kube/webhook-auth.js';
import type { FloorFeed } from './floor-feed.js';
import { FLOOR_PATHS, type FloorChange } from './floor-view.js';

/** Next to the metrics server's 8080. */
export const DEFAULT_FLOOR_ADDRESS = '127.0.0.1:8090';

/** What a token must be allowed off loopback: the floor shows every workload. */
export const FLOOR_ATTRIBUTES: ResourceAttributes = { verb: 'list', group: GROUP, resource: 'nodeworkloads' };

/** A page whose unsent events pass this many bytes is disconnected. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** Open streams beyond this are refused with 503. */
const MAX_STREAMS = 256;
/** A comment line this often keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

const PAGE_FILES = [
  { path: FLOOR_PATHS.page, file: 'index.html', type: 'text/html; charset=utf-8' },
  { path: FLOOR_PATHS.script, file: 'floor.js', type: 'text/javascript; charset=utf-8' },
  { path: FLOOR_PATHS.style, file: 'floor.css', type: 'text/css; charset=utf-8' },
] as const;

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // Everything the page needs comes from this server; nothing runs inline.
  'Content-Security-Policy': "default-src 'self'; frame-ancestors 'none'",
};

export function isLoopback(host: string): boolean {
  return host === 'localhost' || (isIPv4(host) && host.startsWith('127.')) || (isIPv6(host) && (host === '::1' || host === '0:0:0:0:0:0:0:1'));
}

export interface FloorServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  feed: Pick<FloorFeed, 'snapshotJson' | 'subscribe'>;
  /** Checks tokens when the host is not loopback; required then. */
  reviewer?: Reviewer;
  logger: Logger;
  registry?: Registry;
  /** Where index.html, floor.js and floor.css are. Default page/ beside this module. */
  pageDir?: URL;
}

interface Stream {
  res: ServerResponse;
  keepalive: NodeJS.Timeout;
}

export class FloorServer implements Part {
  readonly name = 'floor-server';
  private server: Server | undefined;
  private readonly pages = new Map<string, { body: Buffer; type: string }>();
  private readonly streams = new Set<Stream>();
  private unsubscribe: (() => void) | undefined;
  private boundUrl: string | undefined;
  private readonly requests: Counter<'code'> | undefined;
  private readonly open: Gauge<never> | undefined;

  constructor(private readonly o: FloorServerOptions) {
    if (!isLoopback(o.host) && !o.reviewer) throw new Error(`floor address ${o.host}: off loopback the floor needs a token reviewer`);
    if (o.registry) {
      this.requests = counter(o.registry, 'shopfloor_operator_floor_requests_total', 'Requests to the floor server, by HTTP status code.', ['code']);
      this.open = gauge(o.registry, 'shopfloor_operator_floor_streams', 'Floor event streams open now.', []);
    }
  }

  /** `http://host:port/` of the page, once listening. */
  get url(): string | undefined {
    return this.boundUrl;
  }

  async start(): Promise<void> {
    const dir = this.o.pageDir ?? new URL('./page/', import.meta.url);
    for (const p of PAGE_FILES) {
      const at = new URL(p.file, dir);
      const body = await readFile(at).catch((err: NodeJS.ErrnoException) => {
        throw new Error(`the floor page's ${p.file} is missing at ${at.pathname} (${err.code ?? err.message}): run \`npm run build\`, which copies operator/floor/page/ into dist/`);
      });
      this.pages.set(p.path, { body, type: p.type });
    }
    const server = createServer((req, res) => void this.handle(req, res));
    // Event streams are long-lived.
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(err.code === 'EADDRINUSE' ? new Error(`floor server: ${this.o.host}:${this.o.port} is in use; pass another --floor-address (port 0 picks a free one), or off`) : err);
      });
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    this.server = server;
    const bound = server.address();
    const port = typeof bound === 'object' && bound ? bound.port : this.o.port;
    this.boundUrl = `http://${isIPv6(this.o.host) ? `[${this.o.host}]` : this.o.host}:${port}/`;
    this.unsubscribe = this.o.feed.subscribe((change) => this.broadcast(change));
    this.o.logger.info({ url: this.boundUrl, tokens: isLoopback(this.o.host) ? 'not needed on loopback' : 'required' }, 'serving the floor');
  }

  ready(): true | string {
    return this.server ? true : 'the floor server is not listening yet';
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const s of this.streams) this.close(s);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.on('finish', () => this.requests?.inc({ code: String(res.statusCode) }));
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return this.answer(res, 405, `method ${req.method} is not allowed: the floor is read-only and answers GET`, { Allow: 'GET, HEAD' });
      }
      const path = new URL(req.url ?? '/', 'http://floor').pathname;
      const page = this.pages.get(path);
      if (page) {
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': page.type, 'Content-Length': page.body.length, 'Cache-Control': 'no-cache' });
        res.end(req.method === 'HEAD' ? undefined : page.body);
        return;
      }
      if (path === '/favicon.ico') {
        // Browsers ask for one on their own; the floor has none, and says so without an error.
        res.writeHead(204, SECURITY_HEADERS);
        res.end();
        return;
      }
      if (path !== FLOOR_PATHS.events && path !== FLOOR_PATHS.snapshot) {
        return this.answer(res, 404, `nothing is served at ${path}: the floor is at ${FLOOR_PATHS.page}, its data at ${FLOOR_PATHS.snapshot} and ${FLOOR_PATHS.events}`);
      }
      if (!isLoopback(this.o.host)) {
        const user = await requestUser(this.o.reviewer!, req.headers.authorization);
        await requireAccess(this.o.reviewer!, user, FLOOR_ATTRIBUTES);
      }
      if (path === FLOOR_PATHS.snapshot) {
        const body = this.o.feed.snapshotJson();
        res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      this.stream(res);
    } catch (err) {
      if (err instanceof AccessRefused) {
        this.o.logger.info({ url: req.url, status: err.status, err: err.message }, 'floor request refused');
        return this.answer(res, err.status, err.message, err.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
      }
      this.o.logger.error({ url: req.url, err: (err as Error).message }, 'floor request failed');
      this.answer(res, 500, `internal error: ${(err as Error).message}`);
    }
  }

  private stream(res: ServerResponse): void {
    if (this.streams.size >= MAX_STREAMS) return this.answer(res, 503, `${MAX_STREAMS} floor pages are open already; close one and reload`, { 'Retry-After': '10' });
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' });
    const stream: Stream = { res, keepalive: setInterval(() => this.send(stream, ': keep-alive\n\n'), KEEPALIVE_MS) };
    this.streams.add(stream);
    this.open?.set(this.streams.size);
    res.on('close', () => this.close(stream));
    this.send(stream, event('snapshot', this.o.feed.snapshotJson()));
  }

  private broadcast(change: FloorChange): void {
    if (this.streams.size === 0) return;
    const text = event('change', JSON.stringify(change));
    for (const s of this.streams) this.send(s, text);
  }

  private send(s: Stream, text: string): void {
    if (s.res.writableLength > MAX_BUFFERED_BYTES) {
      this.o.logger.warn({ bufferedBytes: s.res.writableLength }, 'a floor page does not take its events: disconnected, it starts over when it reconnects');
      s.res.destroy();
      return;
    }
    s.res.write(text);
  }

  private close(s: Stream): void {
    clearInterval(s.keepalive);
    if (this.streams.delete(s)) this.open?.set(this.streams.size);
    s.res.end();
  }

  private answer(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`${message}\n`);
  }
}

/** One server-sent event; JSON has no raw newlines, so the data is one line. */
function event(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}
