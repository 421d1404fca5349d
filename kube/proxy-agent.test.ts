import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectProxyAgent } from './proxy-agent.js';
import { makeTls, startConnectProxy, startHttpsServer, type TestTls } from './test-fixtures.js';

let dir: string;
let tls: TestTls;
let server: Awaited<ReturnType<typeof startHttpsServer>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shopfloor-proxy-agent-'));
  tls = await makeTls(dir);
  server = await startHttpsServer(tls, () => ({ status: 200, body: { ok: true } }));
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(agent: ConnectProxyAgent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(`${server.url}/version`, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('ConnectProxyAgent', () => {
  it('tunnels to the server, verifies its certificate inside the tunnel, and keeps the tunnel alive', async () => {
    const proxy = await startConnectProxy();
    const agent = new ConnectProxyAgent(proxy.url, { ca: tls.ca });
    try {
      expect(await get(agent)).toEqual({ status: 200, body: '{"ok":true}' });
      expect(await get(agent)).toEqual({ status: 200, body: '{"ok":true}' });
      expect(proxy.tunnels).toEqual([{ target: server.url.replace('https://', ''), authorization: undefined }]);
      // Without the CA the server's certificate is not trusted, proxy or not.
      await expect(get(new ConnectProxyAgent(proxy.url))).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
    } finally {
      agent.destroy();
      await proxy.close();
    }
  });

  it('reports a proxy that refuses the tunnel', async () => {
    const proxy = await startConnectProxy({ refuseWith: 407 });
    const agent = new ConnectProxyAgent(proxy.url.replace('http://', 'http://bob:wrong@'), { ca: tls.ca });
    try {
      await expect(get(agent)).rejects.toThrow(`proxy ${new URL(proxy.url).host} (kubeconfig proxy-url) refused CONNECT ${server.url.replace('https://', '')}: 407 Refused`);
      expect(proxy.tunnels[0]?.authorization).toBe(`Basic ${Buffer.from('bob:wrong').toString('base64')}`);
    } finally {
      agent.destroy();
      await proxy.close();
    }
  });

  it('reports a proxy it cannot reach', async () => {
    const proxy = await startConnectProxy();
    await proxy.close();
    const agent = new ConnectProxyAgent(proxy.url, { ca: tls.ca });
    await expect(get(agent)).rejects.toThrow(`proxy ${new URL(proxy.url).host} (kubeconfig proxy-url): cannot open a tunnel to ${server.url.replace('https://', '')}: connect ECONNREFUSED`);
  });
});
