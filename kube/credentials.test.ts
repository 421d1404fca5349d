import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KubeConfig as ClientNodeKubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { KubeClient } from './client.js';
import { LoadedKubeConfig } from './credentials.js';
import { FakeClock } from './fake-clock.js';
import { parseKubeconfig } from './kubeconfig.js';
import { makeTls, startConnectProxy, startHttpsServer, type TestTls } from './test-fixtures.js';

const V1 = 'client.authentication.k8s.io/v1';

let dir: string;
let tls: TestTls;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shopfloor-credentials-'));
  tls = await makeTls(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let written = 0;
/** Writes a kubeconfig with one cluster, user and context into the test dir; returns its path. */
function writeKubeconfig(cluster: object, user: object): string {
  const file = join(dir, `kubeconfig-${written++}`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443', ...cluster } }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
  return file;
}

function load(file: string, options: ConstructorParameters<typeof LoadedKubeConfig>[1] = {}): LoadedKubeConfig {
  return new LoadedKubeConfig(parseKubeconfig(readFileSync(file, 'utf8'), file), options);
}

/** The parts of request options a kubeconfig decides, for comparing two loaders. */
async function applied(kc: { applyToHTTPSOptions(o: https.RequestOptions): Promise<void> }): Promise<Record<string, unknown>> {
  const options: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(options);
  const headers = options.headers as Record<string, unknown>;
  return {
    ca: options.ca,
    cert: options.cert,
    key: options.key,
    rejectUnauthorized: options.rejectUnauthorized,
    servername: options.servername,
    auth: options.auth,
    authorization: headers['Authorization'],
    impersonate: headers['Impersonate-User'],
  };
}

/** A credential plugin: a shell script that logs each run and prints `credential` (or fails). */
function writePlugin(name: string, script: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

function runs(log: string): number {
  try {
    return readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

describe('LoadedKubeConfig.applyToHTTPSOptions', () => {
  it('gives the same request options as client-node for files, inline data and static credentials', async () => {
    const kubeconfigs = [
      writeKubeconfig(
        { 'certificate-authority': tls.files.ca, 'tls-server-name': 'localhost' },
        { 'client-certificate': tls.files.clientCert, 'client-key': tls.files.clientKey, token: 'static-token', as: 'jane' },
      ),
      writeKubeconfig(
        { 'certificate-authority-data': tls.ca.toString('base64') },
        { 'client-certificate-data': tls.clientCert.toString('base64'), 'client-key-data': tls.clientKey.toString('base64') },
      ),
      writeKubeconfig({ 'insecure-skip-tls-verify': true }, { username: 'admin', password: 'secret' }),
    ];
    for (const file of kubeconfigs) {
      const theirs = new ClientNodeKubeConfig();
      theirs.loadFromFile(file);
      const ours = await applied(load(file));
      expect(ours).toEqual(await applied(theirs));
      expect(ours['authorization'] ?? ours['auth'] ?? ours['cert']).toBeDefined();
    }
  });

  it('re-reads tokenFile on each request, so a rotated token takes effect, and prefers it to token', async () => {
    const tokenFile = join(dir, 'sa-token');
    writeFileSync(tokenFile, 'first\n');
    const kc = load(writeKubeconfig({}, { tokenFile, token: 'stale' }));
    expect((await applied(kc))['authorization']).toBe('Bearer first');
    // The kubelet rotates projected tokens by swapping in a new file.
    writeFileSync(`${tokenFile}.new`, 'second');
    renameSync(`${tokenFile}.new`, tokenFile);
    expect((await applied(kc))['authorization']).toBe('Bearer second');
    writeFileSync(tokenFile, 'third');
    expect((await applied(kc))['authorization']).toBe('Bearer third');
  });

  it('names the kubeconfig, the field and the file it cannot read', async () => {
    const file = writeKubeconfig({ 'certificate-authority': join(dir, 'no-ca.crt') }, { token: 't' });
    await expect(load(file).applyToHTTPSOptions({})).rejects.toThrow(
      `kubeconfig ${file}: clusters[c].cluster.certificate-authority ${join(dir, 'no-ca.crt')}: cannot read it (ENOENT); fix the path or the file's permissions`,
    );
    writeFileSync(join(dir, 'empty-token'), '\n');
    const empty = writeKubeconfig({}, { tokenFile: join(dir, 'empty-token') });
    await expect(load(empty).applyToHTTPSOptions({})).rejects.toThrow(`kubeconfig ${empty}: users[u].user.tokenFile ${join(dir, 'empty-token')} is empty; write the bearer token into it`);
  });
});

describe('exec credential plugins', () => {
  it('runs the plugin with its arguments and environment, and keeps the token until expirationTimestamp', async () => {
    const clock = new FakeClock();
    const log = join(dir, 'expiring.log');
    const info = join(dir, 'expiring.info');
    const expiry = new Date(clock.now() + 60_000).toISOString();
    const plugin = writePlugin(
      'expiring',
      `echo run >> "$LOG"; printf '%s' "$KUBERNETES_EXEC_INFO" > "$INFO"
printf '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"%s-%s","expirationTimestamp":"${expiry}"}}' "$1" "$REGION"`,
    );
    const kc = load(
      writeKubeconfig(
        { 'certificate-authority-data': tls.ca.toString('base64') },
        { exec: { apiVersion: V1, command: plugin, args: ['tok'], env: [{ name: 'LOG', value: log }, { name: 'INFO', value: info }, { name: 'REGION', value: 'eu' }], provideClusterInfo: true } },
      ),
      { clock },
    );
    // Concurrent requests share one run.
    const [a, b] = await Promise.all([applied(kc), applied(kc)]);
    expect([a['authorization'], b['authorization']]).toEqual(['Bearer tok-eu', 'Bearer tok-eu']);
    expect(runs(log)).toBe(1);
    expect(JSON.parse(readFileSync(info, 'utf8'))).toEqual({
      apiVersion: V1,
      kind: 'ExecCredential',
      spec: { interactive: false, cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': tls.ca.toString('base64') } },
    });
    await clock.advance(59_000);
    await applied(kc);
    expect(runs(log)).toBe(1);
    await clock.advance(1_000);
    await applied(kc);
    expect(runs(log)).toBe(2);
  });

  it('keeps a credential without expiry until the server rejects it', async () => {
    const log = join(dir, 'forever.log');
    const plugin = writePlugin('forever', `echo run >> "${log}"; echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'`);
    const kc = load(writeKubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: plugin } }));
    await applied(kc);
    await applied(kc);
    expect(runs(log)).toBe(1);
    kc.credentialsRejected();
    await applied(kc);
    expect(runs(log)).toBe(2);
  });

  it('uses a client certificate the plugin gives', async () => {
    const credential = { apiVersion: V1, kind: 'ExecCredential', status: { clientCertificateData: tls.clientCert.toString(), clientKeyData: tls.clientKey.toString() } };
    writeFileSync(join(dir, 'cert-credential.json'), JSON.stringify(credential));
    const plugin = writePlugin('cert', `cat "${join(dir, 'cert-credential.json')}"`);
    const out = await applied(load(writeKubeconfig({}, { exec: { apiVersion: V1, command: plugin } })));
    expect(out).toMatchObject({ cert: tls.clientCert.toString(), key: tls.clientKey.toString(), authorization: undefined });
  });

  it('says which plugin failed, how, and what to do', async () => {
    const cases: [string, string, string][] = [
      ['fails', 'echo "token expired, run login" >&2; exit 3', 'exited with 3: token expired, run login'],
      ['garbage', 'echo hello', 'printed something that is not JSON: hello; the plugin must print an ExecCredential (client.authentication.k8s.io/v1) with status.token'],
      ['old-version', `echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'`, 'answered with apiVersion client.authentication.k8s.io/v1beta1, but the kubeconfig asks for client.authentication.k8s.io/v1'],
      ['empty-status', `echo '{"apiVersion":"${V1}","kind":"ExecCredential","status":{}}'`, 'gave neither a token nor a client certificate and key'],
      ['bad-expiry', `echo '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}}'`, 'gave status.expirationTimestamp "soon" that is not an RFC 3339 time'],
    ];
    for (const [name, script, message] of cases) {
      const plugin = writePlugin(name, script);
      const file = writeKubeconfig({}, { exec: { apiVersion: V1, command: plugin } });
      await expect(load(file).applyToHTTPSOptions({})).rejects.toThrow(`kubeconfig ${file}: users[u].user.exec: ${plugin}`);
      await expect(load(file).applyToHTTPSOptions({})).rejects.toThrow(message);
    }
    const missing = writeKubeconfig({}, { exec: { apiVersion: V1, command: 'shopfloor-no-such-plugin', installHint: 'apt-get install shopfloor-plugin' } });
    await expect(load(missing).applyToHTTPSOptions({})).rejects.toThrow(
      `kubeconfig ${missing}: users[u].user.exec: cannot run shopfloor-no-such-plugin (spawn shopfloor-no-such-plugin ENOENT); apt-get install shopfloor-plugin`,
    );
  });

  it('kills a plugin that does not finish in time', async () => {
    const clock = new FakeClock();
    const plugin = writePlugin('hangs', 'exec sleep 600');
    const kc = load(writeKubeconfig({}, { exec: { apiVersion: V1, command: plugin } }), { clock, execTimeoutMs: 5_000 });
    const pending = kc.applyToHTTPSOptions({});
    const failed = expect(pending).rejects.toThrow(`${plugin} did not finish within 5000 ms and was killed; check that it runs without a terminal`);
    await clock.advance(5_000);
    await failed;
  });
});

describe('KubeClient on a LoadedKubeConfig', () => {
  it('authenticates with a client certificate and a plugin token, re-runs the plugin after a 401, and tunnels through proxy-url', async () => {
    let accepted = 'first';
    const server = await startHttpsServer(tls, (seen) =>
      seen.authorization === `Bearer ${accepted}` ? { status: 200, body: { kind: 'Status', user: seen.clientName } } : { status: 401, body: { kind: 'Status', code: 401, reason: 'Unauthorized' } },
    );
    const proxy = await startConnectProxy();
    const tokens = join(dir, 'plugin-tokens');
    const log = join(dir, 'client.log');
    writeFileSync(tokens, 'first\n');
    // Prints the token the file holds now.
    const plugin = writePlugin('from-file', `echo run >> "${log}"; printf '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat "${tokens}")"`);
    const proxyUrl = proxy.url.replace('http://', 'http://user:p%40ss@');
    const kc = load(
      writeKubeconfig(
        { server: server.url, 'certificate-authority': tls.files.ca, 'proxy-url': proxyUrl },
        { 'client-certificate': tls.files.clientCert, 'client-key': tls.files.clientKey, exec: { apiVersion: V1, command: plugin } },
      ),
    );
    const client = new KubeClient(kc);
    try {
      expect(await client.request({ method: 'GET', path: '/api' })).toEqual({ kind: 'Status', user: 'kubeconfig-test' });
      expect(proxy.tunnels[0]).toEqual({ target: server.url.replace('https://', ''), authorization: `Basic ${Buffer.from('user:p@ss').toString('base64')}` });

      accepted = 'second';
      writeFileSync(tokens, 'second\n');
      await expect(client.request({ method: 'GET', path: '/api' })).rejects.toThrow(/401/);
      expect(await client.request({ method: 'GET', path: '/api' })).toEqual({ kind: 'Status', user: 'kubeconfig-test' });
      expect(runs(log)).toBe(2);
      expect(server.seen.map((s) => s.authorization)).toEqual(['Bearer first', 'Bearer first', 'Bearer second']);
    } finally {
      client.close();
      await proxy.close();
      await server.close();
    }
  });
});
