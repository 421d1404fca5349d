// For the few tests whose subject exists only on kube-apiserver (what the devcluster does not
// serve or check): on the devcluster they are skipped, and the skipped test's name says why.
import { it } from '@jest/globals';
import { API_SERVER_SETTING, testApiServer } from './test-cluster.js';

/** `it` on kube-apiserver; `it.skip` on the devcluster, with `reason` in the test's name. */
export function itOnKubeApiserver(reason: string, name: string, fn: () => Promise<void>, timeoutMs?: number): void {
  const server = testApiServer();
  if (server === 'kube-apiserver') it(name, fn, timeoutMs);
  else it.skip(`${name} (kube-apiserver only, skipped with ${API_SERVER_SETTING}=${server}: ${reason})`, fn, timeoutMs);
}
