import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { LoadedKubeConfig } from './credentials.js';
import { inClusterKubeconfig, mergeKubeconfigs, parseKubeconfig, SERVICE_ACCOUNT_DIR, type KubeconfigDocument } from './kubeconfig.js';

export const SERVICE_ACCOUNT_TOKEN = join(SERVICE_ACCOUNT_DIR, 'token');

/** Where the Kubernetes configuration comes from, in the order they are tried. */
export type KubeConfigSource =
  | { kind: 'flag'; path: string }
  | { kind: 'env'; paths: string[] }
  | { kind: 'home'; path: string }
  | { kind: 'in-cluster' };

export interface KubeConfigInputs {
  /** The `--kubeconfig` flag, if given. */
  flag?: string;
  env: Record<string, string | undefined>;
  home: string;
  exists: (path: string) => boolean;
  serviceAccountToken?: string;
}

/**
 * Picks the configuration source: `--kubeconfig`, else `KUBECONFIG` (a list of files, the
 * missing ones skipped, as kubectl does), else `~/.kube/config`, else the pod's service account
 * (in-cluster). The error says what was tried and how to fix it.
 */
export function chooseKubeConfigSource(inputs: KubeConfigInputs): KubeConfigSource {
  if (inputs.flag !== undefined) {
    if (!inputs.flag) throw new Error('--kubeconfig is empty; give the path of a kubeconfig file');
    if (!inputs.exists(inputs.flag)) throw new Error(`--kubeconfig ${inputs.flag}: no such file`);
    return { kind: 'flag', path: inputs.flag };
  }
  const env = inputs.env['KUBECONFIG'];
  if (env) {
    const listed = env.split(delimiter).filter((p) => p.length > 0);
    const paths = listed.filter((p) => inputs.exists(p));
    if (paths.length === 0) throw new Error(`KUBECONFIG=${env}: none of its files exist; fix the variable or unset it`);
    return { kind: 'env', paths };
  }
  const home = join(inputs.home, '.kube', 'config');
  if (inputs.exists(home)) return { kind: 'home', path: home };
  const token = inputs.serviceAccountToken ?? SERVICE_ACCOUNT_TOKEN;
  if (inputs.env['KUBERNETES_SERVICE_HOST'] && inputs.env['KUBERNETES_SERVICE_PORT'] && inputs.exists(token)) {
    return { kind: 'in-cluster' };
  }
  throw new Error(
    `no Kubernetes configuration found: pass --kubeconfig <file>, set KUBECONFIG, create ${home}, or run in a pod with a service account token (${token})`,
  );
}

/**
 * Loads the kubeconfig of the chosen source, on `context` if given (else its current-context),
 * checked for use: errors name the file and field to fix.
 */
export function loadKubeConfig(options: { kubeconfig?: string; context?: string; env?: Record<string, string | undefined> } = {}): {
  kubeConfig: LoadedKubeConfig;
  source: KubeConfigSource;
} {
  const env = options.env ?? process.env;
  const source = chooseKubeConfigSource({ flag: options.kubeconfig, env, home: homedir(), exists: existsSync });
  const document = readDocument(source, env);
  if (options.context && !document.contexts.some((c) => c.name === options.context)) {
    const known = document.contexts.map((c) => c.name).join(', ') || 'none';
    throw new Error(`--context ${options.context}: no such context in the kubeconfig; known: ${known}`);
  }
  return { kubeConfig: new LoadedKubeConfig(document, { context: options.context }), source };
}

function readDocument(source: KubeConfigSource, env: Record<string, string | undefined>): KubeconfigDocument {
  switch (source.kind) {
    case 'flag':
    case 'home':
      return parseKubeconfig(readText(source.path), source.path);
    case 'env':
      return mergeKubeconfigs(source.paths.map((path) => parseKubeconfig(readText(path), path)));
    case 'in-cluster': {
      const namespace = join(SERVICE_ACCOUNT_DIR, 'namespace');
      return inClusterKubeconfig({
        host: env['KUBERNETES_SERVICE_HOST'] ?? '',
        port: env['KUBERNETES_SERVICE_PORT'] ?? '',
        namespace: existsSync(namespace) ? readFileSync(namespace, 'utf8').trim() : undefined,
      });
    }
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`kubeconfig ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix the path or the file's permissions`);
  }
}

export function describeSource(source: KubeConfigSource): string {
  switch (source.kind) {
    case 'flag':
      return `--kubeconfig ${source.path}`;
    case 'env':
      return `KUBECONFIG=${source.paths.join(delimiter)}`;
    case 'home':
      return source.path;
    case 'in-cluster':
      return 'in-cluster service account';
  }
}
