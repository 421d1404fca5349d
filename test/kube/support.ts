import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import type { Informer } from '../../kube/informer.js';
import type { ResourceType } from '../../kube/resource.js';
import type { KubeObject } from '../../kube/types.js';

export { eventually, notYet } from '../harness/eventually.js';
export { metricValue } from '../harness/metrics.js';

export const CONFIGMAPS: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
export const NAMESPACES: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export function suffix(): string {
  return randomBytes(4).toString('hex');
}

/** A copy of `kc` whose server is `https://127.0.0.1:<port>` (a proxy in front of the devcluster). */
export function throughPort(kc: KubeConfig, port: number): KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const server = new URL(cluster.server);
  server.port = String(port);
  const copy = new KubeConfig();
  copy.loadFromOptions({
    clusters: kc.getClusters().map((c) => (c.name === cluster.name ? { ...c, server: server.href.replace(/\/$/, '') } : c)),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  return copy;
}

/** Records every handler call of `informer` as `add:name`, `update:name`, `delete:name`. */
export function recordChanges<T extends KubeObject>(informer: Informer<T>): string[] {
  const seen: string[] = [];
  informer.addEventHandler({
    onAdd: (o) => seen.push(`add:${o.metadata?.name}`),
    onUpdate: (_old, o) => seen.push(`update:${o.metadata?.name}`),
    onDelete: (o) => seen.push(`delete:${o.metadata?.name}`),
  });
  return seen;
}

