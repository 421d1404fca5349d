// etcd answers without authentication, so only the devcluster's user may reach it: it listens on
// no TCP port, and its unix socket lies in a directory no other user may enter.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { unixSocketPath } from '../../devcluster/storage/etcd-endpoint.js';
import { startDevclusterTestCluster } from '../harness/devcluster.js';
import type { TestCluster } from '../harness/test-cluster.js';
import { etcdPid } from './etcd-pid.js';
import { http } from './http.js';

/** `nobody`: a local user other than the devcluster's. */
const OTHER_UID = 65534;

/** The local addresses of the TCP sockets `pid` listens on (from /proc/net/tcp and tcp6). */
function listeningTcp(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // the descriptor closed meanwhile
    }
  }
  const listening: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // Columns: sl local_address rem_address st ... inode (10th); st 0A is LISTEN.
      if (f[3] === '0A' && inodes.has(f[9] ?? '')) listening.push(f[1] ?? '');
    }
  }
  return listening;
}

/** What a connect to the unix socket at `path` from a process of user `uid` ends in: "connected" or the error code. */
function connectAs(uid: number, path: string): string {
  const script = `const s = require('node:net').connect(process.argv[1]);
s.on('connect', () => { console.log('connected'); s.destroy(); });
s.on('error', (e) => console.log(e.code));`;
  const r = spawnSync(process.execPath, ['-e', script, path], { uid, gid: uid, encoding: 'utf8', timeout: 10_000, cwd: '/' });
  return r.stdout.trim() || `no answer (status ${r.status}): ${r.stderr}`;
}

describe('devcluster: who can reach etcd', () => {
  let c: TestCluster;

  beforeAll(async () => {
    c = await startDevclusterTestCluster();
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  });

  it('listens on no TCP port, and only on a unix socket other local users cannot connect to', () => {
    expect(listeningTcp(etcdPid(c))).toEqual([]);
    const socket = unixSocketPath(c.etcdEndpoint());
    expect(socket).toBeDefined();
    expect(statSync(dirname(socket!)).mode & 0o777).toBe(0o700);
    expect(connectAs(process.getuid?.() ?? 0, socket!)).toBe('connected');
    expect(connectAs(OTHER_UID, socket!)).toBe('EACCES');
  });

  it('serves the API through that socket, and keeps its objects across a restart on the same data dir', async () => {
    const cms = '/api/v1/namespaces/default/configmaps';
    expect((await http(c, 'POST', cms, { body: '{"metadata":{"name":"kept"}}', contentType: 'application/json' })).status).toBe(201);
    await c.restart();
    expect(listeningTcp(etcdPid(c))).toEqual([]);
    expect((await http(c, 'GET', `${cms}/kept`)).status).toBe(200);
  }, 60_000);
});
