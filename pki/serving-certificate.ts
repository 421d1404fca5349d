// A CA and a serving certificate it signed, made with openssl and kept in a directory, for the
// HTTPS servers Shopfloor runs itself: the devcluster's API and the agent's log server. Clients
// pin the CA (a kubeconfig's certificate-authority-data, a NodeAgent's log server caBundle), so
// the CA stays across restarts and only the serving certificate is issued again when it no
// longer covers the addresses asked for, has expired, or was not signed by this CA.
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsFiles {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface ServingCertificateOptions {
  /** Holds ca.crt, ca.key, server.crt and server.key. */
  dir: string;
  caCommonName: string;
  serverCommonName: string;
  /** IP addresses the serving certificate covers. */
  ipAddresses: readonly string[];
  /** DNS names the serving certificate covers. */
  dnsNames: readonly string[];
  /** Who serves with them, for errors ("the devcluster"). */
  owner: string;
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i;
const COMMON_NAME = /^[\w .-]{1,64}$/;

/** Where ensureServingCertificate keeps its files in `dir`, for servers that are given paths. */
export function servingCertificatePaths(dir: string): { caKey: string; caCrt: string; key: string; crt: string } {
  return { caKey: join(dir, 'ca.key'), caCrt: join(dir, 'ca.crt'), key: join(dir, 'server.key'), crt: join(dir, 'server.crt') };
}

/** Returns the CA and serving certificate in `dir`, making or reissuing them as needed. */
export async function ensureServingCertificate(o: ServingCertificateOptions): Promise<TlsFiles> {
  // The names go into an openssl extension file: anything but a plain address or name is refused.
  for (const ip of o.ipAddresses) if (!isIP(ip)) throw new Error(`${o.owner}: serving certificate address "${ip}" is not an IP address`);
  for (const name of o.dnsNames) if (!DNS_NAME.test(name)) throw new Error(`${o.owner}: serving certificate name "${name}" is not a DNS name`);
  for (const cn of [o.caCommonName, o.serverCommonName]) if (!COMMON_NAME.test(cn)) throw new Error(`${o.owner}: certificate common name "${cn}" must be 1-64 letters, digits, spaces, ".", "_" or "-"`);
  const { caKey, caCrt, key, crt } = servingCertificatePaths(o.dir);
  if (!existsSync(caCrt) || !existsSync(caKey)) {
    await openssl(o.owner, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', caKey, '-out', caCrt, '-days', '3650', '-subj', `/CN=${o.caCommonName}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    chmodSync(caKey, 0o600);
  }
  const ca = readFileSync(caCrt);
  if (!existsSync(crt) || !existsSync(key) || !covers(readFileSync(crt), ca, o)) {
    const csr = join(o.dir, 'server.csr');
    const ext = join(o.dir, 'server.ext');
    await openssl(o.owner, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', csr, '-subj', `/CN=${o.serverCommonName}`]);
    const sans = [...o.ipAddresses.map((ip) => `IP:${ip}`), ...o.dnsNames.map((n) => `DNS:${n}`)];
    writeFileSync(ext, [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${sans.join(',')}`,
      '',
    ].join('\n'));
    try {
      await openssl(o.owner, ['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-CAcreateserial',
        '-out', crt, '-days', '3650', '-extfile', ext]);
    } finally {
      rmSync(csr, { force: true });
      rmSync(ext, { force: true });
    }
    chmodSync(key, 0o600);
  }
  return { ca, cert: readFileSync(crt), key: readFileSync(key) };
}

/** Whether a serving certificate is still good: signed by `ca`, unexpired, covering every address and name. */
export function covers(certPem: Buffer, caPem: Buffer, want: { ipAddresses: readonly string[]; dnsNames: readonly string[] }, now = new Date()): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    if (new Date(cert.validTo) <= now) return false;
    return want.ipAddresses.every((ip) => cert.checkIP(ip) !== undefined) && want.dnsNames.every((n) => cert.checkHost(n) !== undefined);
  } catch {
    // Not a certificate (a truncated write): make a new one.
    return false;
  }
}

async function openssl(owner: string, args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args[0]} failed while generating the certificates of ${owner}: ${e.stderr ?? e.message}; is Debian's openssl package installed?`);
  }
}
