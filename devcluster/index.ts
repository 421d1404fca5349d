import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { Authenticator } from './access/authentication.js';
import { builtinResources } from './objects/builtins.js';
import { Compactor } from './storage/compactor.js';
import { crdResource } from './objects/crd.js';
import { ensureToken, writeKubeconfig } from './credentials.js';
import { EtcdProcess } from './storage/etcd-process.js';
import { GarbageCollector } from './gc.js';
import { createDevclusterMetrics } from './http/metrics.js';
import type { KubeObject } from './objects/object.js';
import { OpenApi } from './schema/openapi.js';
import { Registry } from './objects/registry.js';
import { ResourceApi } from './http/resource-api.js';
import { ApiServer } from './http/server.js';
import { ApiError, unavailable } from './objects/status.js';
import { Storage } from './storage/storage.js';
import { ensureTls } from './http/tls.js';
import { WatchHub } from './storage/watch-hub.js';

export interface DevclusterOptions {
  /** Where etcd's data, the certificates, the token and the kubeconfig live. */
  dataDir: string;
  /** HTTPS port; 0 picks a free one. Default 6443. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  logger?: Logger;
  /** How often etcd's history is compacted (watches older than this answer 410). Default 5 min. */
  compactionIntervalMs?: number;
  /** Interval of watch bookmarks for clients that allow them. Default 60 s. */
  bookmarkIntervalMs?: number;
}

export interface Devcluster {
  url: string;
  kubeconfigPath: string;
  token: string;
  /** etcd's client URL (for tests that compact or inspect storage directly). */
  etcdEndpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the devcluster: etcd as a child process on `<dataDir>/etcd`, the Kubernetes API over
 * HTTPS with a bearer token, and `<dataDir>/kubeconfig`. A second start on the same data dir
 * finds every object again.
 */
export async function startDevcluster(opts: DevclusterOptions): Promise<Devcluster> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logger = opts.logger ?? pino({ name: 'devcluster' });
  const host = opts.host ?? '127.0.0.1';
  const tls = await ensureTls(dataDir);
  const token = ensureToken(dataDir);
  const etcd = await EtcdProcess.start({ dataDir, logger });
  const metrics = createDevclusterMetrics();
  const storage = new Storage(etcd.endpoint, (key, reason) => {
    metrics.undecodableValues.inc();
    logger.error({ key, reason }, 'skipped a stored value that does not decode; delete or repair that etcd key');
  });
  const registry = new Registry(builtinResources());
  let etcdUp = true;
  try {
    const crdInfo = registry.byResource('apiextensions.k8s.io', 'customresourcedefinitions');
    if (crdInfo) {
      const crds = await storage.listPage(crdInfo.storagePrefix);
      for (const { object } of crds.items) registry.setCrd(object.metadata.name ?? '', crdResource(object));
    }
    // The server and collector exist once the API does; these late references close the loop.
    const late: { gc?: GarbageCollector; server?: ApiServer } = {};
    const onCrdChange = (crd: KubeObject, deleted: boolean): void => {
      const info = crdResource(crd);
      registry.setCrd(crd.metadata.name ?? '', deleted ? undefined : info);
      // Watches of a resource that is no longer served end, as on kube-apiserver.
      if (deleted) late.server?.endWatches(`${info.group}/${info.resource}`);
    };
    // The collector's index doubles as the namespace cache.
    const api = new ResourceApi(storage, registry, logger, onCrdChange, (name) => late.gc?.namespacePhase(name));
    await ensureNamespaces(api, registry);
    const hub = new WatchHub(storage, logger);
    const server = new ApiServer({
      tls, authenticator: new Authenticator(token), registry, api, hub, logger,
      openapi: new OpenApi(registry),
      metrics: metrics.registry,
      etcdUp: () => etcdUp,
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    });
    late.server = server;
    const port = await server.listen(opts.port ?? 6443, host);
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const kubeconfigPath = writeKubeconfig(dataDir, url, tls.ca, token);
    const collector = new GarbageCollector(storage, registry, api, logger);
    await collector.start();
    late.gc = collector;
    const compactor = new Compactor(storage, logger, opts.compactionIntervalMs ?? 5 * 60_000);
    compactor.start();
    etcd.on('down', () => {
      etcdUp = false;
      server.endWatches();
    });
    etcd.on('up', () => {
      etcdUp = true;
    });
    logger.info({ url, kubeconfig: kubeconfigPath, etcd: etcd.endpoint }, 'devcluster is serving');
    return {
      url,
      kubeconfigPath,
      token,
      etcdEndpoint: etcd.endpoint,
      async stop() {
        compactor.stop();
        await collector.stop();
        await server.close();
        hub.closeAll(unavailable('the devcluster is stopping'));
        storage.close();
        await etcd.stop();
      },
    };
  } catch (err) {
    storage.close();
    await etcd.stop();
    throw err;
  }
}

/** `default` and `kube-system` exist from the first start on, as on a real cluster. */
async function ensureNamespaces(api: ResourceApi, registry: Registry): Promise<void> {
  const info = registry.byResource('', 'namespaces');
  const version = info?.versions[0];
  if (!info || !version) return;
  for (const name of ['default', 'kube-system']) {
    try {
      await api.create({ path: { group: '', version: 'v1', resource: 'namespaces' }, info, version, query: new URLSearchParams(), userAgent: 'devcluster' }, { metadata: { name } });
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}
