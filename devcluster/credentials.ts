import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** The bearer token every client of this devcluster presents; generated once, kept in the data dir. */
export function ensureToken(dataDir: string): string {
  const file = join(dataDir, 'token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return token;
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

/** Writes `<dataDir>/kubeconfig` for kubectl and client-node, returning its path. */
export function writeKubeconfig(dataDir: string, url: string, ca: Buffer, token: string): string {
  const file = join(dataDir, 'kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'shopfloor-devcluster', cluster: { server: url, 'certificate-authority-data': ca.toString('base64') } }],
    users: [{ name: 'shopfloor-admin', user: { token } }],
    contexts: [{ name: 'shopfloor-devcluster', context: { cluster: 'shopfloor-devcluster', user: 'shopfloor-admin', namespace: 'default' } }],
    'current-context': 'shopfloor-devcluster',
    preferences: {},
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}
