import { ensureServingCertificate, type TlsFiles } from '../../pki/serving-certificate.js';

export type { TlsFiles };

/**
 * Returns the devcluster's CA and serving certificate, generating them with openssl on first
 * start. They stay in the data dir so that kubeconfigs handed out earlier keep working after a
 * restart. The serving certificate covers 127.0.0.1, ::1 and localhost.
 */
export function ensureTls(dataDir: string): Promise<TlsFiles> {
  return ensureServingCertificate({
    dir: dataDir,
    caCommonName: 'shopfloor-devcluster-ca',
    serverCommonName: 'shopfloor-devcluster',
    ipAddresses: ['127.0.0.1', '::1'],
    dnsNames: ['localhost'],
    owner: 'the devcluster',
  });
}
