import { afterEach, describe, expect, it } from '@jest/globals';
import { Counter, Registry } from 'prom-client';
import { startHealthServer, syncedCheck, type HealthServer } from './health-server.js';

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('health server', () => {
  it('binds to 127.0.0.1 and serves the registry on /metrics', async () => {
    const registry = new Registry();
    new Counter({ name: 'shopfloor_test_total', help: 'test', registers: [registry] }).inc(3);
    server = await startHealthServer({ registry, port: 0 });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('shopfloor_test_total 3');
  });

  it('is not ready until every readiness check passes, and says which one fails', async () => {
    let synced = false;
    server = await startHealthServer({
      registry: new Registry(),
      port: 0,
      readiness: { 'informer:nodeworkloads': syncedCheck('nodeworkloads', { hasSynced: () => synced }), leader: () => true },
    });
    const before = await fetch(`${server.url}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.text()).toBe('[-]informer:nodeworkloads failed: nodeworkloads cache has not synced yet\n[+]leader ok\nreadyz check failed\n');
    synced = true;
    const after = await fetch(`${server.url}/readyz`);
    expect(after.status).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('reports a check that throws as failed', async () => {
    server = await startHealthServer({
      registry: new Registry(),
      port: 0,
      liveness: {
        loop: () => {
          throw new Error('event loop stuck');
        },
      },
    });
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('[-]loop failed: check threw: event loop stuck');
  });
});
