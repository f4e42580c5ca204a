/**
 * The TLS certificate ARM is served with: the ARM SDK refuses bearer tokens over plain http, so the emulator
 * generates a self-signed certificate for 127.0.0.1/localhost and clients trust that PEM (per client through
 * `caCertPath`, or process-wide through NODE_EXTRA_CA_CERTS). With a cert directory the certificate is reused
 * across restarts, so a trust setting made once keeps working.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface EmulatorCertificate {
  cert: string;
  key: string;
  /** The PEM clients must trust. */
  certPath: string;
  /** Removes the certificate files when they were generated into a temporary directory. */
  dispose(): void;
}

const CERT_FILE = 'emulator-cert.pem';
const KEY_FILE = 'emulator-key.pem';
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

export async function loadOrCreateCertificate(dir?: string): Promise<EmulatorCertificate> {
  const certDir = dir ?? mkdtempSync(join(tmpdir(), 'ftpipe-emulator-'));
  const dispose = dir ? () => undefined : () => rmSync(certDir, { recursive: true, force: true });
  mkdirSync(certDir, { recursive: true });
  const certPath = join(certDir, CERT_FILE);
  const keyPath = join(certDir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    if (Date.parse(new X509Certificate(cert).validTo) - Date.now() > RENEW_BEFORE_MS) return { cert, key: readFileSync(keyPath, 'utf8'), certPath, dispose };
  }
  const notBeforeDate = new Date(Date.now() - 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'ftpipe Azure emulator' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 825 * 24 * 3600 * 1000),
    extensions: [
      // A CA flag lets the PEM act as its own trust anchor (NODE_EXTRA_CA_CERTS, tls `ca`).
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  writeFileSync(certPath, pems.cert);
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  return { cert: pems.cert, key: pems.private, certPath, dispose };
}
