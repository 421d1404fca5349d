import { execFile } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsFiles {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/**
 * Returns the devcluster's CA and serving certificate, generating them with openssl on first
 * start. They stay in the data dir so that kubeconfigs handed out earlier keep working after a
 * restart. The serving certificate covers 127.0.0.1, ::1 and localhost.
 */
export async function ensureTls(dataDir: string): Promise<TlsFiles> {
  const caKey = join(dataDir, 'ca.key');
  const caCrt = join(dataDir, 'ca.crt');
  const key = join(dataDir, 'server.key');
  const crt = join(dataDir, 'server.crt');
  if (!existsSync(caCrt) || !existsSync(caKey)) {
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', caKey, '-out', caCrt, '-days', '3650', '-subj', '/CN=shopfloor-devcluster-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    chmodSync(caKey, 0o600);
  }
  if (!existsSync(crt) || !existsSync(key)) {
    const csr = join(dataDir, 'server.csr');
    const ext = join(dataDir, 'server.ext');
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', csr, '-subj', '/CN=shopfloor-devcluster']);
    writeFileSync(ext, [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
      '',
    ].join('\n'));
    await openssl(['x509', '-req', '-in', csr, '-CA', caCrt, '-CAkey', caKey, '-CAcreateserial',
      '-out', crt, '-days', '3650', '-extfile', ext]);
    chmodSync(key, 0o600);
    rmSync(csr);
    rmSync(ext);
  }
  return { ca: readFileSync(caCrt), cert: readFileSync(crt), key: readFileSync(key) };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args[0]} failed while generating the devcluster certificates: ${e.stderr ?? e.message}; is Debian's openssl package installed?`);
  }
}
