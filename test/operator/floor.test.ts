// The operator's floor over real HTTP, against a real API server and simulated agents (fakes of
// the agent's API writes: no containers run here): what its event stream shows a page, kept as a
// page keeps it (a snapshot, then changes applied by kind and key). The floor listens off
// loopback here, so every request also shows the token review: without a token the API server
// authenticates, 401; with the cluster's own, the floor.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AssignmentRow, FloorSnapshot, NodeCard, WorkloadView } from '../../operator/floor/floor-view.js';
import { FloorStream } from '../harness/floor-stream.js';
import { eventually, mustKubectl, notYet, startOperatorSuite, suffix, workloadYaml, type OperatorSuite } from './support.js';

const ns = `floor-${suffix()}`;
let env: OperatorSuite | undefined;
let base: URL;

beforeAll(async () => {
  env = await startOperatorSuite(ns, [{ name: 'n1', cpu: '2' }, { name: 'n2', cpu: '2' }], 300, { floorAddress: '0.0.0.0:0' });
  const url = new URL(env.op.floorUrl!);
  base = new URL(`http://127.0.0.1:${url.port}/`);
}, 60_000);

afterAll(async () => {
  await env?.stop();
});

function get(path: string, token: string | undefined, method = 'GET'): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the floor', () => {
  it('asks for a token the API server authenticates, and is read-only', async () => {
    const page = await get('/', undefined);
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.body).toContain('<script type="module" src="floor.js">');
    expect(await get('/floor/snapshot', undefined)).toMatchObject({ status: 401, body: 'Unauthorized: send Authorization: Bearer <token> with a token the API server authenticates\n' });
    expect(await get('/floor/snapshot', 'forged')).toMatchObject({ status: 401, body: 'Unauthorized: the API server does not authenticate this token\n' });
    const snapshot = await get('/floor/snapshot', env!.cluster.token);
    expect(snapshot.status).toBe(200);
    expect((JSON.parse(snapshot.body) as FloorSnapshot).items.filter((i) => i.kind === 'node').map((i) => i.key).sort()).toEqual(['n1', 'n2']);
    expect(await get('/floor/snapshot', env!.cluster.token, 'POST')).toMatchObject({ status: 405, body: 'method POST is not allowed: the floor is read-only and answers GET\n' });
    expect((await get('/nodes', env!.cluster.token)).status).toBe(404);
  });

  it('streams a workload from placed to ready, scaled, refused and gone, with the nodes\' usage', async () => {
    const floor = new FloorStream(new URL('/floor/events', base), env!.cluster.token);
    try {
      await eventually('both node cards Ready', () => floor.of('node').filter((n) => n.state === 'Ready').length === 2 || notYet(JSON.stringify(floor.of('node'))));
      await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml(ns, 'web', { replicas: 2, cpu: '500m', service: true }));
      const rows = (): AssignmentRow[] => floor.of('assignment').filter((r) => r.workload === `${ns}/web`);
      await eventually('two ready rows of web', () => (rows().length === 2 && rows().every((r) => r.phase === 'Running' && r.ready && r.differences.length === 0)) || notYet(JSON.stringify(rows())));
      const cards = (): NodeCard[] => floor.of('node');
      expect(cards().map((c) => c.cpu.requested).sort()).toEqual([500, 500]);
      const service = floor.of('service').find((s) => s.key === `${ns}/web`);
      expect(service?.endpoints.map((e) => e.ready)).toEqual([true, true]);
      expect(service?.clusterIP).toMatch(/^10\.250\./);

      await mustKubectl(env!.cluster, ['scale', 'nw/web', '-n', ns, '--replicas=3']);
      await eventually('a third row', () => rows().length === 3 || notYet(JSON.stringify(rows())));

      // 2 cpu a node, 1.5 in use on one and 1 on the other: two replicas of 1500m cannot both go.
      await mustKubectl(env!.cluster, ['apply', '-f', '-'], workloadYaml(ns, 'big', { replicas: 2, cpu: '1500m' }));
      const big = (): WorkloadView | undefined => floor.of('workload').find((w) => w.key === `${ns}/big`);
      // The floor shows the refusal before the operator's Degraded condition reaches the API.
      const refused = await eventually('big refused by a node, in the scheduler\'s words, and Degraded', () =>
        big()?.placed === 1 && big()!.unplaced.length > 0 && big()!.problems.some((p) => p.startsWith('Degraded (InsufficientResources)')) ? big() : notYet(JSON.stringify(big())),
      );
      expect(refused.unplaced.map((u) => u.reason).join('; ')).toMatch(/^Insufficient cpu on n[12] \(requests 1500m, (1|500m) free\)/);

      await mustKubectl(env!.cluster, ['delete', 'nw', 'web', 'big', '-n', ns, '--wait=false']);
      await eventually('web and big gone from the floor', () => [...floor.items.keys()].every((k) => !k.includes(`${ns}/`)) || notYet([...floor.items.keys()].join(', ')));
      expect(cards().map((c) => c.cpu.requested)).toEqual([0, 0]);
    } finally {
      floor.stop();
    }
  });

  it('turns a node Unknown when its agent stops reporting', async () => {
    const floor = new FloorStream(new URL('/floor/events', base), env!.cluster.token);
    try {
      env!.sim.pause('n2');
      const card = await eventually(
        'n2 Unknown',
        () => floor.of('node').find((n) => n.key === 'n2' && n.state === 'Unknown') ?? notYet(JSON.stringify(floor.of('node'))),
        (env!.sim.leaseDurationSeconds + 10) * 1000,
      );
      expect(card.stateWords.text).toMatch(/^stopped reporting \{time\}: its Lease expired|^lost \{time\}/);
    } finally {
      floor.stop();
      await env!.sim.resume('n2');
    }
  }, 60_000);
});
