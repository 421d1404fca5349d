import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeAssignment } from '../../api/index.js';
import { systemClock } from '../../kube/clock.js';
import { silentLogger } from '../../kube/logger.js';
import type { ObservedPod } from '../pods/observed.js';
import { running, sandbox, template } from '../pods/test-fixtures.js';
import { LogServer, type LogSource } from './log-server.js';
import type { Decision, ResourceAttributes, Reviewer, UserInfo } from '../../kube/webhook-auth.js';

/**
 * A fake of the API server's reviews: the devcluster knows only its administrator, so a second
 * identity, and an API server that fails, exist only here. test/logs/ runs the real reviews.
 */
class FakeReviewer implements Reviewer {
  readonly asked: Array<{ user: string; attributes: ResourceAttributes }> = [];
  failing = false;
  async authenticate(token: string): Promise<UserInfo | undefined> {
    if (this.failing) throw new Error('connect ECONNREFUSED');
    return token === 'alice-token' ? { username: 'alice', groups: ['system:authenticated'] } : token === 'bob-token' ? { username: 'bob', groups: [] } : undefined;
  }
  async authorize(user: UserInfo, attributes: ResourceAttributes): Promise<Decision> {
    this.asked.push({ user: user.username, attributes });
    return user.username === 'alice' ? { allowed: true, reason: '' } : { allowed: false, reason: 'no RBAC rule allows it' };
  }
}

describe('LogServer', () => {
  let dir: string;
  let server: LogServer;
  const reviewer = new FakeReviewer();
  const app = running('app', 0);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sf-log-server-'));
    mkdirSync(join(dir, 'logs'));
    app.logPath = join(dir, 'logs', '0.log');
    writeFileSync(app.logPath, '2026-03-01T10:00:00Z stdout F hello\n2026-03-01T10:00:01Z stderr F world\n');
    const assignment = { metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1' }, spec: { nodeName: 'n1', workloadRef: { name: 'web' }, revision: 'rev-1', template: template() } } as unknown as NodeAssignment;
    const pods: LogSource = {
      desired: (key) => (key === 'shop/web-0' ? { assignment, isStatic: false, statusTarget: assignment } : undefined),
      observe: async (key): Promise<ObservedPod> => ({ key, sandboxes: [sandbox([{ ...app, state: 'CONTAINER_EXITED' }])] }),
    };
    server = new LogServer({ host: '127.0.0.1', port: 0, nodeAddresses: ['192.0.2.1'], hostname: 'Node-A', certDir: join(dir, 'pki'), pods, reviewer, clock: systemClock, logger: silentLogger() });
    await server.start();
  });

  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, o: { token?: string; method?: string; pin?: boolean } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const ep = server.endpoint()!;
      const req = request(
        { host: ep.address, port: ep.port, path, method: o.method ?? 'GET', ...(o.pin === false ? {} : { ca: Buffer.from(ep.caBundle, 'base64') }), headers: o.token ? { Authorization: `Bearer ${o.token}` } : {} },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('announces the address it listens on, its port and the CA that verifies it; an unpinned client does not trust it', async () => {
    const ep = server.endpoint()!;
    expect(ep.address).toBe('127.0.0.1');
    expect(ep.port).toBeGreaterThan(0);
    expect(Buffer.from(ep.caBundle, 'base64').toString()).toContain('BEGIN CERTIFICATE');
    await expect(get('/containerLogs/shop/web-0/app', { token: 'alice-token', pin: false })).rejects.toThrow(/self-signed certificate|unable to verify/);
  });

  it('serves the decoded log to a user the reviews authenticate and allow', async () => {
    const r = await get('/containerLogs/shop/web-0/app?timestamps=true', { token: 'alice-token' });
    expect(r).toMatchObject({ status: 200, body: '2026-03-01T10:00:00Z hello\n2026-03-01T10:00:01Z world\n' });
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(reviewer.asked.at(-1)).toEqual({ user: 'alice', attributes: { verb: 'get', group: 'shopfloor.dev', resource: 'nodeassignments', subresource: 'log', namespace: 'shop', name: 'web-0' } });
  });

  it('answers 401 without a token or with one the API server does not authenticate, whatever the path', async () => {
    for (const [path, token] of [['/containerLogs/shop/web-0/app', undefined], ['/containerLogs/shop/web-0/app', 'forged'], ['/metrics', undefined]] as const) {
      const r = await get(path, token ? { token } : {});
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('answers 403 naming the user and attributes when the review does not allow it', async () => {
    const r = await get('/containerLogs/shop/web-0/app', { token: 'bob-token' });
    expect(r).toEqual(expect.objectContaining({ status: 403, body: 'Forbidden (user=bob, verb=get, resource=nodeassignments, subresource=log, namespace=shop, name=web-0): no RBAC rule allows it\n' }));
  });

  it('answers 404 for an unknown assignment or container and for any other path, 405 for other methods', async () => {
    expect((await get('/containerLogs/shop/web-9/app', { token: 'alice-token' })).status).toBe(404);
    expect(await get('/containerLogs/shop/web-0/db', { token: 'alice-token' })).toMatchObject({ status: 404, body: 'container "db" not found in assignment shop/web-0; its containers: app\n' });
    expect((await get('/exec/shop/web-0/app', { token: 'alice-token' })).status).toBe(404);
    expect((await get('/containerLogs/shop/web-0/app', { token: 'alice-token', method: 'POST' })).status).toBe(405);
    expect((await get('/containerLogs/shop/web-0/app?tailLines=-1', { token: 'alice-token' })).status).toBe(422);
  });

  it('answers 503 when the API server cannot review the token', async () => {
    reviewer.failing = true;
    try {
      const r = await get('/containerLogs/shop/web-0/app', { token: 'alice-token' });
      expect(r.status).toBe(503);
      expect(r.body).toContain('the API server did not answer the review (connect ECONNREFUSED)');
    } finally {
      reviewer.failing = false;
    }
  });
});
