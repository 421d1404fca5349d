// A value in etcd that does not decode (written past the API with etcdctl or an etcd client, or
// damaged) is left out of lists and watches, logged with its key and counted: the rest of its
// resource stays served, and the devcluster process stays up.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Etcd3 } from 'etcd3';
import { startDevclusterTestCluster } from '../harness/devcluster.js';
import { eventually, notYet } from '../harness/eventually.js';
import { parseSamples, sampleSum } from '../harness/metrics.js';
import type { TestCluster } from '../harness/test-cluster.js';
import { collectWatch } from './collect-watch.js';
import { http } from './http.js';

const COUNTER = 'shopfloor_devcluster_storage_undecodable_values_total';
const cms = '/api/v1/namespaces/default/configmaps';
const damagedKey = '/registry/core/configmaps/default/damaged';

async function undecodable(c: TestCluster): Promise<number> {
  const res = await http(c, 'GET', '/metrics');
  expect(res.status).toBe(200);
  return sampleSum(parseSamples(res.text), COUNTER) ?? notYet(`${COUNTER} is not served`);
}

const create = (c: TestCluster, name: string): ReturnType<typeof http> =>
  http(c, 'POST', cms, { body: JSON.stringify({ metadata: { name }, data: { k: 'v' } }), contentType: 'application/json' });

describe('devcluster: a value in etcd that does not decode', () => {
  let c: TestCluster;
  let etcd: Etcd3;

  beforeAll(async () => {
    c = await startDevclusterTestCluster();
    etcd = new Etcd3({ hosts: c.etcdEndpoint() });
  }, 120_000);

  afterAll(async () => {
    etcd?.close();
    await c?.stop();
  });

  it('is left out of lists, counted, and named in the get that meets it', async () => {
    for (const name of ['good-a', 'good-b']) expect((await create(c, name)).status).toBe(201);
    const before = await undecodable(c);
    await etcd.put(damagedKey).value('{"metadata": {"name": "damaged"'); // cut off mid-object
    const list = await http(c, 'GET', cms);
    expect(list.status).toBe(200);
    const names = (list.json().items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
    expect(names).toEqual(['good-a', 'good-b']);
    expect(await undecodable(c)).toBeGreaterThan(before);
    const get = await http(c, 'GET', `${cms}/damaged`);
    expect(get.status).toBe(500);
    expect(get.json().message).toContain(damagedKey);
  });

  it('is skipped by a watch, which keeps delivering the good objects, and the process stays up', async () => {
    const pid = c.pid();
    const list = await http(c, 'GET', cms);
    const w = await collectWatch(c, cms, { resourceVersion: String((list.json().metadata as { resourceVersion: string }).resourceVersion) });
    try {
      const before = await undecodable(c);
      await etcd.put(damagedKey).value('not json at all');
      await etcd.put(damagedKey).value('["an array, not an object"]');
      expect((await create(c, 'after-damage')).status).toBe(201);
      await etcd.delete().key(damagedKey);
      expect((await create(c, 'after-delete')).status).toBe(201);
      await eventually('the watch to deliver both objects created after the damaged writes', () => {
        const seen = w.events.map((e) => `${e.phase} ${e.object.metadata?.name}`);
        return seen.includes('ADDED after-delete') || notYet(seen.join(', '));
      });
      expect(w.events.map((e) => `${e.phase} ${e.object.metadata?.name}`)).toEqual(['ADDED after-damage', 'ADDED after-delete']);
      expect(await undecodable(c)).toBeGreaterThan(before);
    } finally {
      w.stop();
    }
    expect(c.pid()).toBe(pid);
    expect(() => process.kill(pid ?? 0, 0)).not.toThrow();
    expect((await http(c, 'GET', '/readyz')).status).toBe(200);
  });
});
