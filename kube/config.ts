import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

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

/** Loads the KubeConfig from the chosen source, optionally switching to `context`. */
export function loadKubeConfig(options: { kubeconfig?: string; context?: string; env?: Record<string, string | undefined> } = {}): {
  kubeConfig: KubeConfig;
  source: KubeConfigSource;
} {
  const source = chooseKubeConfigSource({ flag: options.kubeconfig, env: options.env ?? process.env, home: homedir(), exists: existsSync });
  const kc = new KubeConfig();
  switch (source.kind) {
    case 'flag':
    case 'home':
      kc.loadFromFile(source.path);
      break;
    case 'env': {
      const [first, ...rest] = source.paths as [string, ...string[]];
      kc.loadFromFile(first);
      for (const path of rest) {
        const more = new KubeConfig();
        more.loadFromFile(path);
        // The first file's current-context wins, as with kubectl.
        kc.mergeConfig(more, true);
      }
      break;
    }
    case 'in-cluster':
      kc.loadFromCluster();
      break;
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new Error(`--context ${options.context}: no such context in the kubeconfig; known: ${known}`);
    }
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(`kubeconfig (${describeSource(source)}): current context "${kc.getCurrentContext()}" names no cluster`);
  }
  return { kubeConfig: kc, source };
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
