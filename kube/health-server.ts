import { fastify, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** A health check: `true` when fine, otherwise a sentence saying what is wrong. */
export type Check = () => true | string | Promise<true | string>;

export interface HealthServerOptions {
  registry: Registry;
  /** Default 127.0.0.1: the server is for the kubelet and Prometheus, not the world. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Checks `/readyz` runs, e.g. caches synced. Ready means all pass. */
  readiness?: Record<string, Check>;
  /** Checks `/healthz` runs; with none, answering at all means alive. */
  liveness?: Record<string, Check>;
}

export interface HealthServer {
  /** `http://host:port` as bound. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A readiness check that passes once `source` (an informer) has synced. */
/**
 * Splits a `host:port` listen address (`[::1]:8080` for IPv6; an empty host means 127.0.0.1;
 * port 0 picks a free port). The error names the address and shows `example`.
 */
export function parseListenAddress(address: string, example: string, what = 'metrics address'): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`${what} "${address}": expected host:port such as ${example} (port 0 picks a free port)`);
  return { host: (m[1] as string).replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port };
}

export function syncedCheck(what: string, source: { hasSynced(): boolean }): Check {
  return () => source.hasSynced() || `${what} cache has not synced yet`;
}

async function runChecks(checks: Record<string, Check>): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  let ok = true;
  for (const [name, check] of Object.entries(checks)) {
    let result: true | string;
    try {
      result = await check();
    } catch (err) {
      result = `check threw: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (result === true) lines.push(`[+]${name} ok`);
    else {
      ok = false;
      lines.push(`[-]${name} failed: ${result}`);
    }
  }
  return { ok, lines };
}

/**
 * One HTTP server per process for `/metrics` (Prometheus text from the process registry),
 * `/healthz` (liveness) and `/readyz` (readiness). Failing checks answer 503 and list which
 * check failed and why, like the API server's own health endpoints.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const app: FastifyInstance = fastify({ logger: false });
  const route = (path: string, checks: Record<string, Check>): void => {
    app.get(path, async (_req, reply) => {
      const { ok, lines } = await runChecks(checks);
      lines.push(ok ? `${path.slice(1)} check passed` : `${path.slice(1)} check failed`);
      return reply
        .code(ok ? 200 : 503)
        .type('text/plain; charset=utf-8')
        .send(lines.join('\n') + '\n');
    });
  };
  route('/healthz', options.liveness ?? {});
  route('/readyz', options.readiness ?? {});
  app.get('/metrics', async (_req, reply) => {
    const body = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(body);
  });
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () => app.close(),
  };
}
