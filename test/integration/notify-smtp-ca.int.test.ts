/**
 * An e-mail alert route to an SMTP host whose certificate a private CA signed (`email.smtp.ca`), end to end through
 * `relaywatch notify test` against smtp-server on loopback with STARTTLS (test/support/smtp-lab.ts, tls-cert.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliCaptured } from '../support/run-cli.ts';
import { type SmtpLab, startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';

let dir = '';
let cert: SelfSignedCert;
let lab: SmtpLab;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relaywatch-smtp-ca-'));
  cert = await makeSelfSignedCert(dir);
  await writeFile(join(dir, 'private-ca.pem'), cert.cert);
  await writeFile(join(dir, 'not-a-cert.pem'), 'hello\n');
  lab = await startSmtpLab({}, cert);
});
afterAll(async () => {
  await lab?.stop();
  await rm(dir, { recursive: true, force: true });
});

function config(routes: Record<string, string | null>): string {
  const entries = Object.entries(routes).map(
    ([id, ca]) => `    - id: ${id}
      email:
        from: relaywatch@msp.example
        to: [help@psa.example]
        smtp: { host: 127.0.0.1, port: ${lab.port}, requireTLS: true${ca === null ? '' : `, ca: ${ca}`} }`,
  );
  return `version: 1
msp:
  name: Lab MSP
  contact: { name: Lab NOC, email: noc@msp.example }
alerts:
  routes:
${entries.join('\n')}
tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
`;
}

describe('e-mail route to a host with a private CA (email.smtp.ca)', () => {
  it('trusts the CA named by the route, relative to the config file, and delivers over STARTTLS', async () => {
    const path = join(dir, 'relaywatch.yaml');
    await writeFile(
      path,
      config({ psa: './private-ca.pem', plain: null, missing: './nope.pem', wrong: './not-a-cert.pem' }),
    );
    const before = lab.received.length;
    const ok = await runCliCaptured(['notify', 'test', '--route', 'psa', '--config', path], {});
    expect(ok.stderr).toBe('');
    expect(ok).toMatchObject({ code: 0, stdout: 'sent to psa (email)\n' });
    expect(lab.received).toHaveLength(before + 1);
    expect(lab.received.at(-1)?.secure).toBe(true);
    expect(lab.received.at(-1)?.raw).toContain('TEST:');

    // Without the key the certificate cannot be verified: not sent, and the error says why.
    const plain = await runCliCaptured(['notify', 'test', '--route', 'plain', '--config', path], {});
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/NOT sent to plain \(email\).*(self-signed|certificate)/i);
    const missing = await runCliCaptured(['notify', 'test', '--route', 'missing', '--config', path], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/route missing: email\.smtp\.ca: cannot read .*nope\.pem: ENOENT/);
    const wrong = await runCliCaptured(['notify', 'test', '--route', 'wrong', '--config', path], {});
    expect(wrong.stderr).toMatch(/route wrong: email\.smtp\.ca: .*not-a-cert\.pem holds no PEM certificate/);
    expect(lab.received).toHaveLength(before + 1);

    const validate = await runCliCaptured(['config', 'validate', '--config', path], {});
    expect(validate.code).toBe(3);
    expect(validate.stdout).toMatch(/error: alerts\.routes\[2\]\.email\.smtp\.ca: cannot read .*nope\.pem: ENOENT/);
    expect(validate.stdout).toMatch(/error: alerts\.routes\[3\]\.email\.smtp\.ca: .*holds no PEM certificate/);
  });
});
