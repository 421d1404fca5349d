// For the few tests whose subject exists only on the devcluster (its restart keeps watch history;
// compacting its etcd expires resourceVersions at once): with SHOPFLOOR_TEST_API_SERVER naming
// another API server they are skipped, and the skipped test's name says why.
import { it } from '@jest/globals';
import { API_SERVER_SETTING, testApiServer } from './test-cluster.js';

/** Why a watch from a compacted resourceVersion is not Gone on kube-apiserver. */
export const WATCH_CACHE_OUTLIVES_COMPACTION = 'kube-apiserver serves watches and Exact lists from its watch cache, whose history outlives an etcd compaction';
/** Why a watch does not resume across a kube-apiserver restart. */
export const RESTART_FORGETS_HISTORY = 'kube-apiserver answers 410 Gone to a watch from a resourceVersion before its restart: its watch cache starts at the current revision';

/** `it` on the devcluster; `it.skip` on any other API server, with `reason` in the test's name. */
export function itOnDevcluster(reason: string, name: string, fn: () => Promise<void>, timeoutMs?: number): void {
  const server = testApiServer();
  if (server === 'devcluster') it(name, fn, timeoutMs);
  else it.skip(`${name} (devcluster only, skipped with ${API_SERVER_SETTING}=${server}: ${reason})`, fn, timeoutMs);
}
