// The real Kubernetes control plane behind startTestCluster (test-cluster.ts) when
// SHOPFLOOR_TEST_API_SERVER=kube-apiserver: the one `shopfloor up --api-server kube-apiserver`
// runs (cli/kube-control-plane.ts), on a fresh temp dir, binaries from SHOPFLOOR_TOOLS_BIN. The
// kubeconfig has the devcluster's cluster, user and context names.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startKubeControlPlane, type KubeControlPlane } from '../../cli/kube-control-plane.js';
import { toolBinary } from '../../cli/tools-bin.js';
import { silentLogger } from '../../kube/logger.js';
import { installCrds, kubectlFor } from './kubectl.js';
import type { TestCluster, TestClusterOptions } from './test-cluster.js';

const NEEDED_FOR = 'SHOPFLOOR_TEST_API_SERVER=kube-apiserver';

export interface KubeApiserverTestClusterOptions extends TestClusterOptions {
  /** Where ClusterIPs of Services come from; default 10.0.0.0/24. */
  serviceClusterIPRange?: string;
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on a fresh temp dir; `crds: true`
 * applies crds/*.yaml and waits for Established.
 */
export async function startKubeApiserverTestCluster(opts: KubeApiserverTestClusterOptions = {}): Promise<TestCluster> {
  // Both binaries are looked up before anything starts, so a missing one costs nothing.
  const binaries = { kubeApiserver: toolBinary('kube-apiserver', NEEDED_FOR), kubeControllerManager: toolBinary('kube-controller-manager', NEEDED_FOR) };
  const dataDir = mkdtempSync(join(tmpdir(), 'shopfloor-kube-apiserver-'));
  let controlPlane: KubeControlPlane | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await controlPlane?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    })());
  try {
    const cp = (controlPlane = await startKubeControlPlane({ dir: dataDir, port: 0, binaries, logger: silentLogger(), serviceClusterIPRange: opts.serviceClusterIPRange }));
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cp.kubeconfigPath);
    const kubectl = kubectlFor(cp.kubeconfigPath);
    const cluster: TestCluster = {
      dataDir,
      kubeconfigPath: cp.kubeconfigPath,
      url: cp.url,
      token: cp.token,
      kubeConfig,
      kubectl,
      restart: () => cp.restartApiserver(),
      stop,
      etcdEndpoint: () => cp.etcdEndpoint(),
      pid: () => cp.apiserverPid(),
    };
    if (opts.crds) await installCrds(kubectl);
    return cluster;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
