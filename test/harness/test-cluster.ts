// The API server an integration suite runs against, chosen by one setting:
// SHOPFLOOR_TEST_API_SERVER=devcluster (the default: Shopfloor's own, needs nothing built) or
// kube-apiserver (the real one with kube-controller-manager, from SHOPFLOOR_TOOLS_BIN). Suites
// call startTestCluster() and get the same TestCluster from either.
import type { KubeConfig } from '@kubernetes/client-node';
import { startDevclusterTestCluster } from './devcluster.js';
import { startKubeApiserverTestCluster } from './kube-apiserver.js';
import type { KubectlResult } from './kubectl.js';

export type { KubectlResult } from './kubectl.js';

export interface TestCluster {
  dataDir: string;
  kubeconfigPath: string;
  url: string;
  token: string;
  kubeConfig: KubeConfig;
  kubectl(args: string[], opts?: { input?: string }): Promise<KubectlResult>;
  /** Stops and starts the API server again on the same data dir and port. */
  restart(): Promise<void>;
  /** Stops everything and removes the temp data dir. */
  stop(): Promise<void>;
  /** etcd's client URL, for suites that compact or inspect storage. */
  etcdEndpoint(): string;
  /** The API server's pid (changes on restart). */
  pid(): number | undefined;
}

export interface TestClusterOptions {
  /** Apply crds/*.yaml and wait until they are Established. */
  crds?: boolean;
}

export const API_SERVER_SETTING = 'SHOPFLOOR_TEST_API_SERVER';
export const TEST_API_SERVERS = ['devcluster', 'kube-apiserver'] as const;
export type TestApiServer = (typeof TEST_API_SERVERS)[number];

/** The API server the setting names; unset or empty is the devcluster. */
export function testApiServer(env: NodeJS.ProcessEnv = process.env): TestApiServer {
  const value = env[API_SERVER_SETTING] || 'devcluster';
  if ((TEST_API_SERVERS as readonly string[]).includes(value)) return value as TestApiServer;
  throw new Error(`${API_SERVER_SETTING}="${value}" is not an API server the tests run on; use one of ${TEST_API_SERVERS.join(', ')} (default devcluster)`);
}

/** Starts the API server SHOPFLOOR_TEST_API_SERVER names on a fresh temp data dir. */
export function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  return testApiServer() === 'kube-apiserver' ? startKubeApiserverTestCluster(opts) : startDevclusterTestCluster(opts);
}
