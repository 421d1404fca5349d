import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestCluster } from '../harness/test-cluster.js';

/** The pid of the etcd serving this cluster's data dir (found by its --data-dir argument). */
export function etcdPid(c: TestCluster): number {
  const dir = join(c.dataDir, 'etcd');
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args[0]?.endsWith('etcd') && args.includes(dir)) return Number(entry);
    } catch {
      // the process went away meanwhile
    }
  }
  throw new Error(`no etcd process serves ${dir}`);
}
