// The real Kubernetes control plane on loopback, for `shopfloor up --api-server kube-apiserver`
// and the test harness: etcd, kube-apiserver and kube-controller-manager as child processes
// sharing one dir (certificates, the admin token, etcd's data, logs and pid files), set up the way
// controller-runtime's envtest does. The controller manager runs what the devcluster does by
// itself (garbage collection through ownerReferences, namespace deletion) and EndpointSlices.
//
// Each child runs detached and logs straight into its file: a terminal's Ctrl-C reaches only the
// parent, which stops them last, and a parent killed outright leaves them running without a
// broken pipe to die on; the next start stops those leftovers by their pid files first.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ensureToken, writeKubeconfig } from '../devcluster/credentials.js';
import { EtcdProcess, freePort } from '../devcluster/storage/etcd-process.js';
import { stopLeftover } from '../devcluster/child-process.js';
import { Component } from './component.js';
import { ensureServingCertificate, servingCertificatePaths } from '../pki/serving-certificate.js';

/** The admin identity, as the devcluster names it; the token's group makes it a cluster admin under RBAC. */
const ADMIN_USER = 'shopfloor-admin';
const ADMIN_GROUP = 'system:masters';
/** The devcluster's TokenReview audience; kube-apiserver's default API audience is its issuer. */
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const DEFAULT_SERVICE_CLUSTER_IP_RANGE = '10.0.0.0/24';

export interface KubeControlPlaneOptions {
  /** Everything the control plane keeps; a second start on the same dir keeps every object. */
  dir: string;
  /** kube-apiserver's port on 127.0.0.1; 0 picks a free one. */
  port: number;
  binaries: { kubeApiserver: string; kubeControllerManager: string };
  logger: Logger;
  /** Where ClusterIPs of Services come from; default 10.0.0.0/24. */
  serviceClusterIPRange?: string;
}

export interface KubeControlPlane {
  url: string;
  ca: Buffer;
  token: string;
  /** The admin kubeconfig, `<dir>/kubeconfig`. */
  kubeconfigPath: string;
  etcdEndpoint(): string;
  apiserverPid(): number | undefined;
  /** Resolves with what happened when kube-apiserver or the controller manager exits while it should run. */
  lost: Promise<string>;
  /** Stops kube-apiserver and starts it again on the same port, etcd and certificates. */
  restartApiserver(): Promise<void>;
  /** Stops the controller manager, kube-apiserver, then etcd; the dir stays. */
  stop(): Promise<void>;
}

/** The service-account signing key pair kube-apiserver issues and checks tokens with, made once. */
function ensureServiceAccountKeys(dir: string): { key: string; pub: string } {
  const key = join(dir, 'sa.key');
  const pub = join(dir, 'sa.pub');
  if (!existsSync(key) || !existsSync(pub)) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
    writeFileSync(key, pair.privateKey, { mode: 0o600 });
    writeFileSync(pub, pair.publicKey);
  }
  return { key, pub };
}

/** Starts etcd, kube-apiserver and kube-controller-manager on `dir`, after stopping any a killed start left there. */
export async function startKubeControlPlane(o: KubeControlPlaneOptions): Promise<KubeControlPlane> {
  const { dir, logger } = o;
  mkdirSync(dir, { recursive: true });
  let reportLost: (what: string) => void = () => undefined;
  const lost = new Promise<string>((resolve) => (reportLost = resolve));
  let etcd: EtcdProcess | undefined;
  const components: Component[] = [];
  const stop = async (): Promise<void> => {
    for (const c of [...components].reverse()) await c.stop();
    await etcd?.stop();
  };

  try {
    const tls = await ensureServingCertificate({
      dir,
      caCommonName: 'shopfloor-kube-apiserver-ca',
      serverCommonName: 'kube-apiserver',
      ipAddresses: ['127.0.0.1'],
      dnsNames: ['localhost'],
      owner: 'kube-apiserver',
    });
    const { crt: serverCert, key: serverKey } = servingCertificatePaths(dir);
    const sa = ensureServiceAccountKeys(dir);
    const token = ensureToken(dir);
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(tokenFile, `${token},${ADMIN_USER},${ADMIN_USER},"${ADMIN_GROUP}"\n`, { mode: 0o600 });

    const kubeconfigPath = join(dir, 'kubeconfig');
    const apiserver = new Component('kube-apiserver', o.binaries.kubeApiserver, `--tls-cert-file=${serverCert}`, dir, reportLost);
    const controllerManager = new Component('kube-controller-manager', o.binaries.kubeControllerManager, `--kubeconfig=${kubeconfigPath}`, dir, reportLost);
    // Leftovers of a start that was killed go before etcd, which they would lose mid-way.
    for (const c of [controllerManager, apiserver]) await stopLeftover(c.leftover, logger);
    etcd = await EtcdProcess.start({ dataDir: dir, logger });
    const port = o.port || (await freePort());
    const url = `https://127.0.0.1:${port}`;
    writeKubeconfig(dir, url, tls.ca, token);

    components.push(apiserver);
    apiserver.start([
      `--tls-private-key-file=${serverKey}`,
      `--etcd-servers=${etcd.endpoint}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      // The endpoint reconciler refuses a loopback address for the `kubernetes` Service's
      // endpoints; nothing Shopfloor runs reaches the API through that Service.
      '--endpoint-reconciler-type=none',
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${sa.pub}`,
      `--service-account-signing-key-file=${sa.key}`,
      `--service-cluster-ip-range=${o.serviceClusterIPRange ?? DEFAULT_SERVICE_CLUSTER_IP_RANGE}`,
      '--allow-privileged=true',
      // No service-account controller runs, so namespaces have no `default` ServiceAccount for
      // this admission plugin to require (envtest leaves it out for the same reason).
      '--disable-admission-plugins=ServiceAccount',
      // Shutdown otherwise waits out its 60 s timeout for open watches (the controller manager's,
      // the operator's and agent's informers) that never end on their own.
      '--shutdown-watch-termination-grace-period=2s',
    ]);
    await apiserver.untilHealthy(`${url}/readyz`, tls.ca, token);

    // It serves (on loopback, with the API server's certificate) only so that start can wait on
    // its /healthz; it reaches the API with the admin kubeconfig.
    const controllerManagerPort = await freePort();
    components.push(controllerManager);
    controllerManager.start([
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${controllerManagerPort}`,
      `--tls-cert-file=${serverCert}`,
      `--tls-private-key-file=${serverKey}`,
      '--leader-elect=false',
      '--controllers=garbage-collector-controller,namespace-controller,endpointslice-controller',
    ]);
    await controllerManager.untilHealthy(`https://127.0.0.1:${controllerManagerPort}/healthz`, tls.ca, token);
    logger.info({ url, kubeconfig: kubeconfigPath, etcd: etcd.endpoint, logs: dir }, 'kube-apiserver is serving');

    return {
      url,
      ca: tls.ca,
      token,
      kubeconfigPath,
      etcdEndpoint: () => etcd?.endpoint ?? '',
      apiserverPid: () => apiserver.pid(),
      lost,
      async restartApiserver() {
        await apiserver.stop();
        apiserver.start();
        await apiserver.untilHealthy(`${url}/readyz`, tls.ca, token);
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

