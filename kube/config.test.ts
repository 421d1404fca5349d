import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { chooseKubeConfigSource, loadKubeConfig } from './config.js';

const files = (...present: string[]) => (p: string) => present.includes(p);

describe('chooseKubeConfigSource', () => {
  it('prefers the flag, then KUBECONFIG, then ~/.kube/config, then in-cluster', () => {
    const all = files('/flag', '/env1', '/home/u/.kube/config', '/token');
    const env = { KUBECONFIG: '/env1', KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(chooseKubeConfigSource({ flag: '/flag', env, home: '/home/u', exists: all, serviceAccountToken: '/token' })).toEqual({ kind: 'flag', path: '/flag' });
    expect(chooseKubeConfigSource({ env, home: '/home/u', exists: all, serviceAccountToken: '/token' })).toEqual({ kind: 'env', paths: ['/env1'] });
    const noEnv = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(chooseKubeConfigSource({ env: noEnv, home: '/home/u', exists: all, serviceAccountToken: '/token' })).toEqual({ kind: 'home', path: '/home/u/.kube/config' });
    expect(chooseKubeConfigSource({ env: noEnv, home: '/home/u', exists: files('/token'), serviceAccountToken: '/token' })).toEqual({ kind: 'in-cluster' });
  });

  it('skips missing KUBECONFIG entries like kubectl', () => {
    expect(chooseKubeConfigSource({ env: { KUBECONFIG: '/a:/b:/c' }, home: '/h', exists: files('/b', '/c') })).toEqual({ kind: 'env', paths: ['/b', '/c'] });
  });

  it('explains each dead end', () => {
    expect(() => chooseKubeConfigSource({ flag: '/nope', env: {}, home: '/h', exists: files() })).toThrow('--kubeconfig /nope: no such file');
    expect(() => chooseKubeConfigSource({ env: { KUBECONFIG: '/x' }, home: '/h', exists: files() })).toThrow(/KUBECONFIG=\/x: none of its files exist/);
    expect(() => chooseKubeConfigSource({ env: {}, home: '/h', exists: files(), serviceAccountToken: '/t' })).toThrow(
      'no Kubernetes configuration found: pass --kubeconfig <file>, set KUBECONFIG, create /h/.kube/config, or run in a pod with a service account token (/t)',
    );
  });
});

describe('loadKubeConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shopfloor-kubeconfig-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, context: string, server: string): string => {
    const path = join(dir, name);
    writeFileSync(
      path,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: `c-${context}`, cluster: { server } }],
        users: [{ name: `u-${context}`, user: { token: 't' } }],
        contexts: [{ name: context, context: { cluster: `c-${context}`, user: `u-${context}` } }],
        'current-context': context,
      }),
    );
    return path;
  };

  it('merges KUBECONFIG files keeping the first current-context, and switches context on request', () => {
    const a = write('a', 'one', 'https://one.example:6443');
    const b = write('b', 'two', 'https://two.example:6443');
    const merged = loadKubeConfig({ env: { KUBECONFIG: `${a}:${b}` } });
    expect(merged.kubeConfig.getCurrentCluster()?.server).toBe('https://one.example:6443');
    const switched = loadKubeConfig({ env: { KUBECONFIG: `${a}:${b}` }, context: 'two' });
    expect(switched.kubeConfig.getCurrentCluster()?.server).toBe('https://two.example:6443');
    expect(() => loadKubeConfig({ kubeconfig: a, context: 'three' })).toThrow('--context three: no such context in the kubeconfig; known: one');
  });

  it('names the file and field a kubeconfig gets wrong', () => {
    const path = join(dir, 'bad');
    writeFileSync(path, 'clusters: [{ name: c, cluster: { server: 6443 } }]\n');
    expect(() => loadKubeConfig({ kubeconfig: path })).toThrow(`kubeconfig ${path}: clusters[c].cluster.server must be a string, not number 6443; quote the value`);
  });
});
