/** `relaywatch config validate` on the digest section: wrong route and tenant references and a bad time zone, named. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValidationDocument } from '../../shared/cli/commands/config.ts';
import { runCliCaptured } from '../support/run-cli.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relaywatch-digest-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function config(digest: string): string {
  return `version: 1
msp: { name: MSP, contact: { name: NOC, email: noc@msp.example } }
alerts:
  routes:
    - id: digest-mail
      email: { from: rw@msp.example, to: [noc@msp.example], ses: { region: eu-west-1 } }
digest:
${digest}
tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example] }
`;
}

async function validate(text: string, json = false) {
  const path = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, text);
  return runCliCaptured(['config', 'validate', '--config', path, ...(json ? ['--json'] : [])], {});
}

describe('relaywatch config validate: the digest section', () => {
  it('accepts a digest whose routes and tenants exist', async () => {
    const r = await validate(
      config('  msp: { route: digest-mail }\n  tenants:\n    contoso: { to: [it@contoso.example] }'),
    );
    expect(r.stdout).toMatch(/VALID \(1 tenant/);
    // A route that only sends the digest is used: no "matches nothing, never sent to" warning about it.
    expect(r.stdout).not.toContain('matches nothing');
    expect(r.code).toBe(0);
  });

  it('names a missing route and an unknown tenant, exit 3', async () => {
    const r = await validate(
      config('  msp: { route: digest-mai }\n  tenants:\n    contosso: { to: [it@contoso.example] }'),
    );
    expect(r.stdout).toContain(
      'error: digest.msp.route: names route "digest-mai", which is not under alerts.routes (routes: digest-mail)',
    );
    expect(r.stdout).toContain('error: digest.tenants.contosso: is not a tenant of the config (tenants: contoso)');
    expect(r.stdout).toContain('INVALID: 2 errors');
    expect(r.code).toBe(3);
    const doc = JSON.parse((await validate(config('  msp: { route: nope }'), true)).stdout) as ValidationDocument;
    expect(doc.problems.filter((p) => p.path.startsWith('digest'))).toEqual([
      expect.objectContaining({
        path: 'digest.msp.route',
        severity: 'error',
        message: expect.stringContaining('"nope"'),
      }),
    ]);
  });

  it('names an invalid IANA time zone', async () => {
    const r = await validate(config('  timeZone: Europe/Lodnon\n  msp: { route: digest-mail }'));
    expect(r.stdout).toMatch(/digest\.timeZone.*must be an IANA time zone name, e\.g\. Europe\/London/);
    expect(r.code).toBe(3);
  });
});
