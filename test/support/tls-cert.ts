/**
 * A throwaway self-signed certificate for loopback TLS servers (unbound's DoH, fake HTTPS servers), made with the
 * system's openssl: `CN=localhost`, `subjectAltName=IP:127.0.0.1,DNS:localhost`, valid for two days.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SelfSignedCert {
  /** PEM certificate; also the CA to trust. */
  readonly cert: string;
  /** PEM private key (unencrypted). */
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/** Writes `cert.pem` and `key.pem` into `dir` (the caller owns and removes it). @throws when openssl fails. */
export async function makeSelfSignedCert(dir: string): Promise<SelfSignedCert> {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  // argv form, no shell: nothing to quote.
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout',
    keyPath,
    '-out',
    certPath,
  ]);
  const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return { cert, key, certPath, keyPath };
}
