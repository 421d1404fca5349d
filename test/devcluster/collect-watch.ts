import { Watch } from '@kubernetes/client-node';
import type { TestCluster } from '../harness/test-cluster.js';

export type WatchEvent = { phase: string; object: { kind?: string; code?: number; metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> } } };

/** Collects the events of one client-node watch until stopped. */
export async function collectWatch(c: TestCluster, path: string, query: Record<string, string>): Promise<{ events: WatchEvent[]; done: Promise<unknown>; stop: () => void }> {
  const events: WatchEvent[] = [];
  let finish: (err: unknown) => void = () => undefined;
  const done = new Promise((r) => (finish = r));
  const ctl = await new Watch(c.kubeConfig).watch(path, query, (phase, object: WatchEvent['object']) => events.push({ phase, object }), (err) => finish(err));
  return { events, done, stop: () => ctl.abort() };
}
