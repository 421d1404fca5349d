// The real Kubernetes control plane behind startTestCluster (test-cluster.ts) when
// SHOPFLOOR_TEST_API_SERVER=kube-apiserver, set up the way controller-runtime's envtest does:
// etcd, kube-apiserver and kube-controller-manager as child processes on loopback, on a temp data
// dir, with certificates made here and one admin token. The controller manager runs only what
// the devcluster does by itself (garbage collection through ownerReferences, namespace deletion)
// and EndpointSlices, so that suites see the same cluster behaviour from either API server. The
// kubeconfig has the devcluster's cluster, user and context names.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ensureToken, writeKubeconfig } from '../../devcluster/credentials.js';
import { EtcdProcess, freePort } from '../../devcluster/etcd-process.js';
import { silentLogger } from '../../kube/logger.js';
import { ensureServingCertificate } from '../../pki/serving-certificate.js';
import { startComponent, type Component } from './component.js';
import { httpsGet } from './https-get.js';
import { installCrds, kubectlFor } from './kubectl.js';
import type { TestCluster, TestClusterOptions } from './test-cluster.js';
import { toolBinary } from './tools.js';
import { eventually } from './eventually.js';

/** The admin identity, as the devcluster names it; the token's group makes it a cluster admin under RBAC. */
const ADMIN_USER = 'shopfloor-admin';
const ADMIN_GROUP = 'system:masters';
/** The devcluster's TokenReview audience; kube-apiserver's default API audience is its issuer. */
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;
const NEEDED_FOR = 'SHOPFLOOR_TEST_API_SERVER=kube-apiserver';

/** SIGTERM, then SIGKILL if it has not exited after 15 s. */
function halt(c: Component): Promise<void> {
  return c.stop(STOP_TIMEOUT_MS);
}

/** Waits until `url` answers 200, failing at once with the log tail if the component exits. */
async function untilHealthy(c: Component, url: string, ca: Buffer, token: string): Promise<void> {
  const log = c.logPath;
  let last = 'no answer yet';
  const verdict = await eventually(`${c.name} to answer 200 at ${url}`, async () => {
    if (!c.running()) return 'exited';
    try {
      const r = await httpsGet(url, ca, token);
      if (r.status === 200) return 'healthy';
      last = `${r.status} ${r.body.slice(-1000)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    return false;
  }, START_TIMEOUT_MS, 200).catch((err: Error) => {
    c.child.kill('SIGKILL');
    throw new Error(`${err.message} (last answer: ${last}); see ${log}`);
  });
  if (verdict === 'exited') throw new Error(`${c.name} exited during start (code ${c.child.exitCode}, signal ${c.child.signalCode}); see ${log}: ${c.tail().slice(-2000)}`);
}

/** The service-account signing key pair kube-apiserver issues and checks tokens with. */
function writeServiceAccountKeys(dataDir: string): { key: string; pub: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const key = join(dataDir, 'sa.key');
  const pub = join(dataDir, 'sa.pub');
  writeFileSync(key, pair.privateKey, { mode: 0o600 });
  writeFileSync(pub, pair.publicKey);
  return { key, pub };
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager on a fresh temp data dir, the binaries
 * from SHOPFLOOR_TOOLS_BIN; `crds: true` applies crds/*.yaml and waits for Established.
 */
export async function startKubeApiserverTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  // Both binaries are looked up before anything starts, so a missing one costs nothing.
  const apiserverBinary = toolBinary('kube-apiserver', NEEDED_FOR);
  const controllerManagerBinary = toolBinary('kube-controller-manager', NEEDED_FOR);
  const dataDir = mkdtempSync(join(tmpdir(), 'shopfloor-kube-apiserver-'));
  let etcd: EtcdProcess | undefined;
  let apiserver: Component | undefined;
  let controllerManager: Component | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (controllerManager) await halt(controllerManager);
      if (apiserver) await halt(apiserver);
      await etcd?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    })());

  try {
    const tls = await ensureServingCertificate({
      dir: dataDir,
      caCommonName: 'shopfloor-kube-apiserver-ca',
      serverCommonName: 'kube-apiserver',
      ipAddresses: ['127.0.0.1'],
      dnsNames: ['localhost'],
      owner: 'the test kube-apiserver',
    });
    const serverCert = join(dataDir, 'server.crt');
    const serverKey = join(dataDir, 'server.key');
    const sa = writeServiceAccountKeys(dataDir);
    const token = ensureToken(dataDir);
    const tokenFile = join(dataDir, 'tokens.csv');
    writeFileSync(tokenFile, `${token},${ADMIN_USER},${ADMIN_USER},"${ADMIN_GROUP}"\n`, { mode: 0o600 });

    etcd = await EtcdProcess.start({ dataDir, logger: silentLogger() });
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    const apiserverArgs = [
      `--etcd-servers=${etcd.endpoint}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      // The endpoint reconciler refuses a loopback address for the `kubernetes` Service's
      // endpoints; nothing in the suites reaches the API through that Service.
      '--endpoint-reconciler-type=none',
      `--tls-cert-file=${serverCert}`,
      `--tls-private-key-file=${serverKey}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${sa.pub}`,
      `--service-account-signing-key-file=${sa.key}`,
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      '--allow-privileged=true',
      // No service-account controller runs, so namespaces have no `default` ServiceAccount for
      // this admission plugin to require (envtest leaves it out for the same reason).
      '--disable-admission-plugins=ServiceAccount',
      // Shutdown otherwise waits out its 60 s timeout for open watches (the controller manager's,
      // a suite's informers) that never end on their own; restart() should take seconds.
      '--shutdown-watch-termination-grace-period=2s',
    ];
    const launchApiserver = async (): Promise<void> => {
      apiserver = startComponent('kube-apiserver', apiserverBinary, apiserverArgs, dataDir);
      await untilHealthy(apiserver, `${url}/readyz`, tls.ca, token);
    };
    await launchApiserver();

    const kubeconfigPath = writeKubeconfig(dataDir, url, tls.ca, token);
    // It serves (on loopback, with the API server's certificate) only so that start can wait on
    // its /healthz; it reaches the API with the admin kubeconfig.
    const controllerManagerPort = await freePort();
    controllerManager = startComponent('kube-controller-manager', controllerManagerBinary, [
      `--kubeconfig=${kubeconfigPath}`,
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${controllerManagerPort}`,
      `--tls-cert-file=${serverCert}`,
      `--tls-private-key-file=${serverKey}`,
      '--leader-elect=false',
      '--controllers=garbage-collector-controller,namespace-controller,endpointslice-controller',
    ], dataDir);
    await untilHealthy(controllerManager, `https://127.0.0.1:${controllerManagerPort}/healthz`, tls.ca, token);

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const kubectl = kubectlFor(kubeconfigPath);
    const cluster: TestCluster = {
      dataDir,
      kubeconfigPath,
      url,
      token,
      kubeConfig,
      kubectl,
      async restart() {
        if (apiserver) await halt(apiserver);
        await launchApiserver();
      },
      stop,
      etcdEndpoint: () => etcd?.endpoint ?? '',
      pid: () => apiserver?.child.pid,
    };
    if (opts.crds) await installCrds(kubectl);
    return cluster;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
