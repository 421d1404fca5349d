import { afterEach, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { covers, ensureServingCertificate, type ServingCertificateOptions } from './serving-certificate.js';

describe('ensureServingCertificate (openssl)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const options = (over: Partial<ServingCertificateOptions> = {}): ServingCertificateOptions => {
    const dir = over.dir ?? mkdtempSync(join(tmpdir(), 'sf-pki-'));
    if (!dirs.includes(dir)) dirs.push(dir);
    return { dir, caCommonName: 'test-ca', serverCommonName: 'test-server', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'], owner: 'the test', ...over };
  };

  it('makes a CA and a serving certificate it signed for the addresses and names, keys readable by root only', async () => {
    const o = options({ ipAddresses: ['127.0.0.1', '::1', '192.0.2.7'], dnsNames: ['localhost', 'node-a'] });
    const tls = await ensureServingCertificate(o);
    const cert = new X509Certificate(tls.cert);
    expect(cert.checkIssued(new X509Certificate(tls.ca))).toBe(true);
    expect(cert.subjectAltName).toBe('IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:192.0.2.7, DNS:localhost, DNS:node-a');
    expect(statSync(join(o.dir, 'server.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(o.dir, 'ca.key')).mode & 0o777).toBe(0o600);
  });

  it('keeps both on a second start, and reissues only the serving certificate when an address is new', async () => {
    const o = options();
    const first = await ensureServingCertificate(o);
    const again = await ensureServingCertificate(o);
    expect(again.cert.equals(first.cert)).toBe(true);
    const moved = await ensureServingCertificate({ ...o, ipAddresses: ['127.0.0.1', '198.51.100.3'] });
    expect(moved.ca.equals(first.ca)).toBe(true);
    expect(moved.cert.equals(first.cert)).toBe(false);
    expect(new X509Certificate(moved.cert).checkIP('198.51.100.3')).toBe('198.51.100.3');
  });

  it('reissues a serving certificate that another CA signed or that is not a certificate at all', async () => {
    const a = await ensureServingCertificate(options());
    const b = await ensureServingCertificate(options());
    expect(covers(a.cert, b.ca, { ipAddresses: ['127.0.0.1'], dnsNames: [] })).toBe(false);
    const o = options();
    await ensureServingCertificate(o);
    writeFileSync(join(o.dir, 'server.crt'), 'truncated');
    const fixed = await ensureServingCertificate(o);
    expect(new X509Certificate(fixed.cert).checkIssued(new X509Certificate(fixed.ca))).toBe(true);
  });

  it('refuses addresses and names that are not plain IPs and DNS names, before running openssl', async () => {
    await expect(ensureServingCertificate(options({ ipAddresses: ['127.0.0.1,DNS:evil'] }))).rejects.toThrow('the test: serving certificate address "127.0.0.1,DNS:evil" is not an IP address');
    await expect(ensureServingCertificate(options({ dnsNames: ['a\nb'] }))).rejects.toThrow('is not a DNS name');
    await expect(ensureServingCertificate(options({ serverCommonName: 'x/CN=y' }))).rejects.toThrow('certificate common name "x/CN=y"');
  });
});
