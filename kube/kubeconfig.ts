// The kubeconfig document: parsing one file, merging several the way kubectl does, the
// in-cluster equivalent, and picking the context to use with the checks that make it usable.
// Pure: reading files and spawning credential plugins happen in credentials.ts and config.ts.
import { isIPv6 } from 'node:net';
import { delimiter, dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export const EXEC_API_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;
export type ExecApiVersion = (typeof EXEC_API_VERSIONS)[number];

/** Field names follow client-node's `Cluster`, so code reading either kind of config reads the same. */
export interface KubeCluster {
  readonly name: string;
  /** Empty when the file gives none; `selectContext` rejects that. */
  readonly server: string;
  /** Base64 PEM (`certificate-authority-data`). */
  readonly caData?: string;
  /** Absolute path (`certificate-authority`). */
  readonly caFile?: string;
  readonly skipTLSVerify: boolean;
  readonly tlsServerName?: string;
  readonly proxyUrl?: string;
  /** The file this entry came from, named in errors. */
  readonly origin: string;
}

export interface ExecConfig {
  readonly apiVersion: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly installHint?: string;
  readonly provideClusterInfo: boolean;
}

export interface KubeUser {
  readonly name: string;
  readonly token?: string;
  /** Absolute path; read on every request, so a rotated token is picked up. */
  readonly tokenFile?: string;
  readonly certData?: string;
  readonly certFile?: string;
  readonly keyData?: string;
  readonly keyFile?: string;
  readonly username?: string;
  readonly password?: string;
  /** `as`: the user to impersonate. */
  readonly impersonate?: string;
  readonly exec?: ExecConfig;
  /** Only the name: auth providers are refused when the user is selected. */
  readonly authProvider?: string;
  readonly origin: string;
}

export interface KubeContext {
  readonly name: string;
  readonly cluster: string;
  /** Empty for a context without credentials. */
  readonly user: string;
  readonly namespace?: string;
  readonly origin: string;
}

export interface KubeconfigDocument {
  readonly clusters: readonly KubeCluster[];
  readonly users: readonly KubeUser[];
  readonly contexts: readonly KubeContext[];
  readonly currentContext?: string;
  /** Where the document came from (files joined as in KUBECONFIG), named in errors. */
  readonly origin: string;
}

/** What one context resolves to, checked for use. */
export interface SelectedContext {
  readonly context: KubeContext;
  readonly cluster: KubeCluster;
  readonly user?: KubeUser;
}

type Fields = Record<string, unknown>;

class Reader {
  constructor(readonly file: string) {}

  fail(field: string, problem: string, fix: string): never {
    throw new Error(`kubeconfig ${this.file}: ${field} ${problem}; ${fix}`);
  }

  mapping(value: unknown, field: string): Fields {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) this.fail(field, `must be a mapping, not ${describe(value)}`, 'fix the file');
    return value as Fields;
  }

  list(value: unknown, field: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(field, `must be a list, not ${describe(value)}`, 'fix the file');
    return value;
  }

  string(fields: Fields, key: string, field: string): string | undefined {
    const value = fields[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') this.fail(`${field}.${key}`, `must be a string, not ${describe(value)}`, 'quote the value');
    return value || undefined;
  }

  boolean(fields: Fields, key: string, field: string): boolean {
    const value = fields[key];
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean') this.fail(`${field}.${key}`, `must be true or false, not ${describe(value)}`, 'fix the value');
    return value;
  }

  /** Relative paths in a kubeconfig are relative to the file's own directory, as with kubectl. */
  path(fields: Fields, key: string, field: string): string | undefined {
    const value = this.string(fields, key, field);
    return value === undefined ? undefined : resolve(dirname(this.file), value);
  }

  /** The `- name: X\n  <kind>: {...}` entries of a named list, with the field path of each. */
  entries(doc: Fields, list: string, kind: string): { name: string; body: Fields; field: string }[] {
    return this.list(doc[list], list).map((item, i) => {
      const entry = this.mapping(item, `${list}[${i}]`);
      const name = this.string(entry, 'name', `${list}[${i}]`);
      if (name === undefined) this.fail(`${list}[${i}].name`, 'is missing', `name every entry of ${list}`);
      const field = `${list}[${name}].${kind}`;
      return { name, body: this.mapping(entry[kind], field), field };
    });
  }
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

/** Parses one kubeconfig file's text (YAML or JSON); `file` resolves relative paths and names errors. */
export function parseKubeconfig(text: string, file: string): KubeconfigDocument {
  const r = new Reader(file);
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new Error(`kubeconfig ${file}: not valid YAML (${(err as Error).message}); fix the file`);
  }
  const doc = r.mapping(raw, 'the document');
  const clusters = r.entries(doc, 'clusters', 'cluster').map(({ name, body, field }): KubeCluster => ({
    name,
    server: r.string(body, 'server', field) ?? '',
    caData: r.string(body, 'certificate-authority-data', field),
    caFile: r.path(body, 'certificate-authority', field),
    skipTLSVerify: r.boolean(body, 'insecure-skip-tls-verify', field),
    tlsServerName: r.string(body, 'tls-server-name', field),
    proxyUrl: r.string(body, 'proxy-url', field),
    origin: file,
  }));
  const users = r.entries(doc, 'users', 'user').map(({ name, body, field }): KubeUser => ({
    name,
    token: r.string(body, 'token', field),
    tokenFile: r.path(body, 'tokenFile', field),
    certData: r.string(body, 'client-certificate-data', field),
    certFile: r.path(body, 'client-certificate', field),
    keyData: r.string(body, 'client-key-data', field),
    keyFile: r.path(body, 'client-key', field),
    username: r.string(body, 'username', field),
    password: r.string(body, 'password', field),
    impersonate: r.string(body, 'as', field),
    exec: body['exec'] === undefined || body['exec'] === null ? undefined : parseExec(r, r.mapping(body['exec'], `${field}.exec`), `${field}.exec`),
    authProvider: body['auth-provider'] === undefined || body['auth-provider'] === null ? undefined : (r.string(r.mapping(body['auth-provider'], `${field}.auth-provider`), 'name', `${field}.auth-provider`) ?? '(unnamed)'),
    origin: file,
  }));
  const contexts = r.entries(doc, 'contexts', 'context').map(({ name, body, field }): KubeContext => ({
    name,
    cluster: r.string(body, 'cluster', field) ?? '',
    user: r.string(body, 'user', field) ?? '',
    namespace: r.string(body, 'namespace', field),
    origin: file,
  }));
  return { clusters, users, contexts, currentContext: r.string(doc, 'current-context', 'the document'), origin: file };
}

function parseExec(r: Reader, body: Fields, field: string): ExecConfig {
  const command = r.string(body, 'command', field);
  if (command === undefined) r.fail(`${field}.command`, 'is missing', 'name the credential plugin to run');
  const args = r.list(body['args'], `${field}.args`).map((arg, i) => {
    if (typeof arg !== 'string') r.fail(`${field}.args[${i}]`, `must be a string, not ${describe(arg)}`, 'quote the argument');
    return arg;
  });
  const env = r.list(body['env'], `${field}.env`).map((item, i) => {
    const entry = r.mapping(item, `${field}.env[${i}]`);
    const name = r.string(entry, 'name', `${field}.env[${i}]`);
    if (name === undefined) r.fail(`${field}.env[${i}].name`, 'is missing', 'name the variable');
    return { name, value: r.string(entry, 'value', `${field}.env[${i}]`) ?? '' };
  });
  return {
    apiVersion: r.string(body, 'apiVersion', field) ?? '',
    // A command with a slash is a path relative to the kubeconfig; a bare name is looked up on PATH.
    command: command.includes('/') && !isAbsolute(command) ? resolve(dirname(r.file), command) : command,
    args,
    env,
    installHint: r.string(body, 'installHint', field),
    provideClusterInfo: r.boolean(body, 'provideClusterInfo', field),
  };
}

/**
 * Merges the files of a KUBECONFIG list as kubectl does: the first file that names a cluster,
 * user or context wins, and so does the first file that sets current-context.
 */
export function mergeKubeconfigs(docs: readonly KubeconfigDocument[]): KubeconfigDocument {
  const firstByName = <T extends { name: string }>(lists: (readonly T[])[]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: firstByName(docs.map((d) => d.clusters)),
    users: firstByName(docs.map((d) => d.users)),
    contexts: firstByName(docs.map((d) => d.contexts)),
    currentContext: docs.find((d) => d.currentContext)?.currentContext,
    origin: docs.map((d) => d.origin).join(delimiter),
  };
}

/**
 * The configuration of a pod: the API server from KUBERNETES_SERVICE_HOST/PORT, the service
 * account's CA and token files under `dir` (the token is re-read, as the kubelet rotates it).
 */
export function inClusterKubeconfig(options: { host: string; port: string; dir?: string; namespace?: string }): KubeconfigDocument {
  const dir = options.dir ?? SERVICE_ACCOUNT_DIR;
  const origin = 'in-cluster service account';
  if (!/^\d+$/.test(options.port)) {
    throw new Error(`in-cluster: KUBERNETES_SERVICE_PORT=${options.port} is not a port number; fix the pod's environment`);
  }
  const host = isIPv6(options.host) ? `[${options.host}]` : options.host;
  return {
    clusters: [{ name: 'in-cluster', server: `https://${host}:${options.port}`, caFile: `${dir}/ca.crt`, skipTLSVerify: false, origin }],
    users: [{ name: 'in-cluster', tokenFile: `${dir}/token`, origin }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', origin, ...(options.namespace ? { namespace: options.namespace } : {}) }],
    currentContext: 'in-cluster',
    origin,
  };
}

/**
 * Resolves context `name` (default: current-context) to its cluster and user and checks that
 * they can be used; the errors name the file and the field to fix.
 */
export function selectContext(doc: KubeconfigDocument, name = doc.currentContext): SelectedContext {
  if (!name) {
    throw new Error(`kubeconfig ${doc.origin}: current-context is not set; set it (kubectl config use-context NAME) or pass --context NAME`);
  }
  const context = doc.contexts.find((c) => c.name === name);
  if (!context) {
    const known = doc.contexts.map((c) => c.name).join(', ') || 'none';
    throw new Error(`kubeconfig ${doc.origin}: context "${name}" is not in contexts (known: ${known}); fix current-context or pass --context NAME`);
  }
  const field = `contexts[${context.name}].context`;
  if (!context.cluster) throw new Error(`kubeconfig ${context.origin}: ${field}.cluster is missing; name the cluster this context uses`);
  const cluster = doc.clusters.find((c) => c.name === context.cluster);
  if (!cluster) {
    throw new Error(`kubeconfig ${context.origin}: ${field}.cluster "${context.cluster}" is not in clusters; add the cluster or fix the context`);
  }
  checkCluster(cluster);
  if (!context.user) return { context, cluster };
  const user = doc.users.find((u) => u.name === context.user);
  if (!user) throw new Error(`kubeconfig ${context.origin}: ${field}.user "${context.user}" is not in users; add the user or fix the context`);
  checkUser(user);
  return { context, cluster, user };
}

function checkCluster(c: KubeCluster): void {
  const field = `clusters[${c.name}].cluster`;
  const fail = (problem: string, fix: string): never => {
    throw new Error(`kubeconfig ${c.origin}: ${field}${problem}; ${fix}`);
  };
  if (!c.server) fail('.server is missing', 'give the API server URL, e.g. https://host:6443');
  const server = parseUrl(c.server);
  if (server?.protocol !== 'https:' && server?.protocol !== 'http:') fail(`.server "${c.server}" is not an http(s) URL`, 'give the API server URL, e.g. https://host:6443');
  if (c.caData !== undefined && c.caFile !== undefined) fail(' sets both certificate-authority and certificate-authority-data', 'keep one');
  if (c.skipTLSVerify && (c.caData !== undefined || c.caFile !== undefined)) {
    fail(' sets insecure-skip-tls-verify together with a certificate authority', 'drop one of them');
  }
  if (c.caData !== undefined) checkBase64(c.caData, `${field}.certificate-authority-data`, c.origin);
  if (c.proxyUrl !== undefined) {
    const proxy = parseUrl(c.proxyUrl);
    if (proxy?.protocol.startsWith('socks')) fail(`.proxy-url "${c.proxyUrl}": SOCKS proxies are not supported`, 'use an http:// or https:// proxy');
    if (proxy?.protocol !== 'http:' && proxy?.protocol !== 'https:') fail(`.proxy-url "${c.proxyUrl}" is not an http(s) URL`, 'fix the proxy URL');
    if (server?.protocol !== 'https:') fail('.proxy-url is set for a plain-http server', 'use an https server or drop the proxy');
  }
}

function checkUser(u: KubeUser): void {
  const field = `users[${u.name}].user`;
  const fail = (problem: string, fix: string): never => {
    throw new Error(`kubeconfig ${u.origin}: ${field}${problem}; ${fix}`);
  };
  if (u.authProvider !== undefined) {
    fail(`.auth-provider "${u.authProvider}" is not supported`, 'use an exec credential plugin instead (e.g. kubelogin for OIDC, gke-gcloud-auth-plugin for GKE)');
  }
  const methods = [
    u.token !== undefined || u.tokenFile !== undefined ? 'token' : undefined,
    u.username !== undefined || u.password !== undefined ? 'username/password' : undefined,
    u.exec !== undefined ? 'exec' : undefined,
  ].filter((m) => m !== undefined);
  if (methods.length > 1) fail(` sets more than one way to authenticate (${methods.join(', ')})`, 'keep one');
  if (u.certData !== undefined && u.certFile !== undefined) fail(' sets both client-certificate and client-certificate-data', 'keep one');
  if (u.keyData !== undefined && u.keyFile !== undefined) fail(' sets both client-key and client-key-data', 'keep one');
  const hasCert = u.certData !== undefined || u.certFile !== undefined;
  const hasKey = u.keyData !== undefined || u.keyFile !== undefined;
  if (hasCert !== hasKey) fail(hasCert ? ' has a client certificate but no client-key' : ' has a client-key but no client certificate', 'give both or neither');
  if (u.certData !== undefined) checkBase64(u.certData, `${field}.client-certificate-data`, u.origin);
  if (u.keyData !== undefined) checkBase64(u.keyData, `${field}.client-key-data`, u.origin);
  if (u.exec && !(EXEC_API_VERSIONS as readonly string[]).includes(u.exec.apiVersion)) {
    fail(`.exec.apiVersion "${u.exec.apiVersion}" is not supported`, `use ${EXEC_API_VERSIONS.join(' or ')}`);
  }
}

function checkBase64(value: string, field: string, origin: string): void {
  if (!/^[A-Za-z0-9+/=\s]+$/.test(value)) {
    throw new Error(`kubeconfig ${origin}: ${field} is not base64; encode the PEM with base64 -w0, or give a file instead`);
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
