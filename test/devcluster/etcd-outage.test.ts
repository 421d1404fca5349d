import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startDevclusterTestCluster } from '../harness/devcluster.js';
import { eventually, notYet } from '../harness/eventually.js';
import type { TestCluster } from '../harness/test-cluster.js';
import { etcdPid } from './etcd-pid.js';
import { http } from './http.js';

describe('devcluster: etcd outage', () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await startDevclusterTestCluster();
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('answers 503 while etcd is down and recovers when the devcluster has restarted it', async () => {
    const cms = '/api/v1/namespaces/default/configmaps';
    expect((await http(c, 'POST', cms, { body: '{"metadata":{"name":"before"}}', contentType: 'application/json' })).status).toBe(201);
    const first = etcdPid(c);
    process.kill(first, 'SIGKILL');
    // The devcluster restarts etcd within a fraction of a second, so the API's answer and
    // /readyz are each watched through the outage rather than checked one after the other.
    let unavailable: Record<string, unknown> | undefined;
    let sawNotReady = false;
    await eventually('a 503 from the API and a failing /readyz while etcd is down', async () => {
      if ((await http(c, 'GET', '/readyz')).status === 500) sawNotReady = true;
      const res = await http(c, 'GET', cms);
      if (res.status === 503) unavailable = res.json();
      return (unavailable !== undefined && sawNotReady) || notYet(JSON.stringify({ unavailable, sawNotReady }));
    }, 10_000, 20);
    expect(unavailable).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
    await eventually('the API to serve again', async () => {
      const { status } = await http(c, 'GET', `${cms}/before`);
      return status === 200 || notYet(`status ${status}`);
    }, 30_000);
    expect(etcdPid(c)).not.toBe(first);
    expect((await http(c, 'GET', '/readyz')).status).toBe(200);
    expect((await http(c, 'POST', cms, { body: '{"metadata":{"name":"after"}}', contentType: 'application/json' })).status).toBe(201);
  }, 60_000);
});
