// Turns the selected context of a kubeconfig into what each request carries: the CA, client
// certificate, bearer token (from the file, a token file or a credential plugin) and, behind a
// proxy-url, a tunnelling agent. Files are read per request so that rotated ones take effect.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import type https from 'node:https';
import { systemClock, type Clock } from './clock.js';
import { selectContext, type ExecConfig, type KubeCluster, type KubeconfigDocument, type KubeUser, type SelectedContext } from './kubeconfig.js';
import { ConnectProxyAgent } from './proxy-agent.js';

/**
 * What KubeClient needs of a kubeconfig. LoadedKubeConfig implements it, and so does
 * client-node's KubeConfig (which tests hand in).
 */
export interface KubeConfig {
  getCurrentContext(): string;
  getCurrentCluster(): { readonly server: string; readonly proxyUrl?: string } | null;
  /** Sets the TLS options, the Authorization header and, behind a proxy, `agent`. */
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
  /** The server answered 401: a plugin's credential is not reused. */
  credentialsRejected?(): void;
}

export interface LoadedKubeConfigOptions {
  /** Default: the document's current-context. */
  context?: string;
  clock?: Clock;
  /** How long a credential plugin may run before it is killed. Default 60 s. */
  execTimeoutMs?: number;
}

interface PluginCredential {
  token?: string;
  cert?: string;
  key?: string;
  /** Epoch ms; without it the credential is kept until the server rejects it. */
  expiresAt?: number;
}

/** One context of a kubeconfig document, ready to authenticate requests. */
export class LoadedKubeConfig implements KubeConfig {
  readonly selected: SelectedContext;
  private readonly clock: Clock;
  private readonly execTimeoutMs: number;
  private credential: PluginCredential | undefined;
  private running: Promise<PluginCredential> | undefined;

  constructor(
    readonly document: KubeconfigDocument,
    options: LoadedKubeConfigOptions = {},
  ) {
    this.selected = selectContext(document, options.context);
    this.clock = options.clock ?? systemClock;
    this.execTimeoutMs = options.execTimeoutMs ?? 60_000;
  }

  getCurrentContext(): string {
    return this.selected.context.name;
  }

  getCurrentCluster(): KubeCluster {
    return this.selected.cluster;
  }

  async applyToHTTPSOptions(options: https.RequestOptions): Promise<void> {
    const { cluster, user } = this.selected;
    const tls: https.AgentOptions = {};
    if (cluster.skipTLSVerify) tls.rejectUnauthorized = false;
    if (cluster.tlsServerName) tls.servername = cluster.tlsServerName;
    const ca = await fileOrData(cluster.caFile, cluster.caData, `kubeconfig ${cluster.origin}: clusters[${cluster.name}].cluster.certificate-authority`);
    if (ca) tls.ca = ca;
    const headers = (options.headers ??= {}) as OutgoingHttpHeaders;
    if (user) {
      const where = `kubeconfig ${user.origin}: users[${user.name}].user`;
      const cert = await fileOrData(user.certFile, user.certData, `${where}.client-certificate`);
      const key = await fileOrData(user.keyFile, user.keyData, `${where}.client-key`);
      if (cert && key) Object.assign(tls, { cert, key });
      const token = user.tokenFile ? await readToken(user.tokenFile, `${where}.tokenFile`) : user.token;
      if (token) headers['Authorization'] = `Bearer ${token}`;
      if (user.username !== undefined) options.auth = `${user.username}:${user.password ?? ''}`;
      if (user.impersonate) headers['Impersonate-User'] = user.impersonate;
      if (user.exec) {
        const credential = await this.pluginCredential(user, user.exec);
        if (credential.token) headers['Authorization'] = `Bearer ${credential.token}`;
        if (credential.cert && credential.key) Object.assign(tls, { cert: credential.cert, key: credential.key });
      }
    }
    Object.assign(options, tls);
    if (cluster.proxyUrl) options.agent = new ConnectProxyAgent(cluster.proxyUrl, tls);
  }

  credentialsRejected(): void {
    this.credential = undefined;
  }

  /** The plugin's credential, run again once it expired; concurrent requests share one run. */
  private async pluginCredential(user: KubeUser, exec: ExecConfig): Promise<PluginCredential> {
    const cached = this.credential;
    if (cached && (cached.expiresAt === undefined || this.clock.now() < cached.expiresAt)) return cached;
    this.running ??= this.runPlugin(user, exec)
      .then((credential) => (this.credential = credential))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async runPlugin(user: KubeUser, exec: ExecConfig): Promise<PluginCredential> {
    const where = `kubeconfig ${user.origin}: users[${user.name}].user.exec`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const { name, value } of exec.env) env[name] = value;
    env['KUBERNETES_EXEC_INFO'] = JSON.stringify(await this.execInfo(exec));
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn(exec.command, [...exec.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let failure: Error | undefined;
      const cancel = this.clock.setTimer(() => {
        failure = new Error(`${where}: ${exec.command} did not finish within ${this.execTimeoutMs} ms and was killed; check that it runs without a terminal`);
        child.kill('SIGKILL');
      }, this.execTimeoutMs);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        failure ??= new Error(`${where}: cannot run ${exec.command} (${e.message}); ${exec.installHint?.trim() || 'install it or fix the command'}`);
      });
      child.on('close', (code, signal) => {
        cancel();
        const stderr = Buffer.concat(err).toString().trim();
        if (failure) reject(failure);
        else if (code !== 0) reject(new Error(`${where}: ${exec.command} exited with ${code ?? signal}: ${stderr || '(no stderr)'}`));
        else resolve(Buffer.concat(out).toString());
      });
    });
    return parsePluginOutput(stdout, exec.apiVersion, `${where}: ${exec.command}`);
  }

  /** KUBERNETES_EXEC_INFO: the plugin never gets a terminal; with provideClusterInfo it learns the cluster. */
  private async execInfo(exec: ExecConfig): Promise<unknown> {
    const spec: Record<string, unknown> = { interactive: false };
    if (exec.provideClusterInfo) {
      const c = this.selected.cluster;
      const ca = await fileOrData(c.caFile, c.caData, `kubeconfig ${c.origin}: clusters[${c.name}].cluster.certificate-authority`);
      spec['cluster'] = {
        server: c.server,
        ...(c.tlsServerName ? { 'tls-server-name': c.tlsServerName } : {}),
        ...(c.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
        ...(ca ? { 'certificate-authority-data': ca.toString('base64') } : {}),
        ...(c.proxyUrl ? { 'proxy-url': c.proxyUrl } : {}),
      };
    }
    return { apiVersion: exec.apiVersion, kind: 'ExecCredential', spec };
  }
}

function parsePluginOutput(stdout: string, apiVersion: string, where: string): PluginCredential {
  const fail = (problem: string): never => {
    throw new Error(`${where} ${problem}; the plugin must print an ExecCredential (${apiVersion}) with status.token or status.clientCertificateData and clientKeyData`);
  };
  let out: { apiVersion?: unknown; kind?: unknown; status?: Record<string, unknown> };
  try {
    out = JSON.parse(stdout) as typeof out;
  } catch {
    return fail(`printed something that is not JSON: ${stdout.slice(0, 200).trim() || '(nothing)'}`);
  }
  if (typeof out !== 'object' || out === null || out.kind !== 'ExecCredential') return fail('printed JSON that is not an ExecCredential');
  if (out.apiVersion !== apiVersion) return fail(`answered with apiVersion ${String(out.apiVersion)}, but the kubeconfig asks for ${apiVersion}`);
  const status = typeof out.status === 'object' && out.status !== null ? out.status : {};
  const text = (key: string): string | undefined => {
    const value = status[key];
    if (value === undefined || value === null || value === '') return undefined;
    return typeof value === 'string' ? value : fail(`gave status.${key} that is not a string`);
  };
  const token = text('token');
  const cert = text('clientCertificateData');
  const key = text('clientKeyData');
  const expiry = text('expirationTimestamp');
  if (!token && !(cert && key)) fail('gave neither a token nor a client certificate and key');
  if ((cert === undefined) !== (key === undefined)) fail('gave only one of clientCertificateData and clientKeyData');
  const expiresAt = expiry === undefined ? undefined : Date.parse(expiry);
  if (expiresAt !== undefined && Number.isNaN(expiresAt)) fail(`gave status.expirationTimestamp "${expiry}" that is not an RFC 3339 time`);
  return { token, cert, key, expiresAt };
}

async function fileOrData(file: string | undefined, data: string | undefined, where: string): Promise<Buffer | undefined> {
  if (file !== undefined) {
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`${where} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the path or the file's permissions`);
    }
  }
  return data === undefined ? undefined : Buffer.from(data, 'base64');
}

async function readToken(file: string, where: string): Promise<string> {
  const token = (await fileOrData(file, undefined, where))?.toString('utf8').trim();
  if (!token) throw new Error(`${where} ${file} is empty; write the bearer token into it`);
  return token;
}
