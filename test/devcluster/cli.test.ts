import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevclusterTestCluster } from '../harness/devcluster.js';
import type { TestCluster } from '../harness/test-cluster.js';

const runCli = (args: string[]): { status: number | null; stderr: string } => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "import { run } from './cli/main.ts'; process.exitCode = await run(process.argv.slice(1));", ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
};

function etcdRunningFor(dataDir: string): boolean {
  const dir = join(dataDir, 'etcd');
  return spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout.split('\n').some((l) => l.startsWith('etcd ') && l.includes(dir));
}

describe('shopfloor devcluster command', () => {
  it('refuses bad flags with a usage error naming the flag', () => {
    const missing = runCli(['devcluster']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('shopfloor devcluster: --data-dir is required');
    const port = runCli(['devcluster', '--data-dir', '/tmp/x', '--port', 'abc']);
    expect(port.status).toBe(2);
    expect(port.stderr).toContain('--port "abc" is not a port number (0-65535)');
  });

  it('names the port when it is taken, and leaves no etcd behind', async () => {
    const first: TestCluster = await startDevclusterTestCluster();
    const dir = mkdtempSync(join(tmpdir(), 'shopfloor-devcluster-cli-'));
    try {
      const r = runCli(['devcluster', '--data-dir', dir, '--port', new URL(first.url).port]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`port ${new URL(first.url).port} on 127.0.0.1 is in use; pass --port N (0 picks a free port)`);
      expect(etcdRunningFor(dir)).toBe(false);
    } finally {
      await first.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('devcluster data dir', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startDevclusterTestCluster();
  }, 120_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('keeps credentials private, reuses them on restart, and stops etcd on SIGTERM', async () => {
    for (const f of ['token', 'ca.key', 'server.key', 'kubeconfig']) expect(statSync(join(c.dataDir, f)).mode & 0o077).toBe(0);
    const ca = readFileSync(join(c.dataDir, 'ca.crt'), 'utf8');
    expect(etcdRunningFor(c.dataDir)).toBe(true);
    await c.restart();
    expect(readFileSync(join(c.dataDir, 'ca.crt'), 'utf8')).toBe(ca);
    expect((await c.kubectl(['get', 'ns', 'default'])).code).toBe(0);
    const dir = c.dataDir;
    await c.stop();
    expect(etcdRunningFor(dir)).toBe(false);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
