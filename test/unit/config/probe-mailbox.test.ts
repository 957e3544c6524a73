/** The per-tenant probeMailbox section: defaults, each kind's required keys, and clear errors. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';
import { formatProblem } from '../../../shared/config/problems.ts';
import { problemsOf, withTenants } from './helpers.ts';

const tenantWith = (mailbox: string) =>
  withTenants(`  - id: contoso
    name: Contoso
    domains: [contoso.example]
    probeRecipients: [probe@contoso.example]
    probeMailbox:
${mailbox}`);

describe('tenants[].probeMailbox', () => {
  it('reads a Graph mailbox with its defaults', () => {
    const { config } = parseConfig(
      tenantWith(`      kind: graph
      mailbox: probe@contoso.example
      entraTenantId: contoso.onmicrosoft.com
      clientId: 3F0C7A8E-1B2D-4C5E-8F90-123456789ABC
      clientSecret: { env: CONTOSO_READER }
`),
      'test.yaml',
    );
    expect(config.tenants[0]?.probeMailbox).toEqual({
      kind: 'graph',
      mailbox: 'probe@contoso.example',
      entraTenantId: 'contoso.onmicrosoft.com',
      clientId: '3f0c7a8e-1b2d-4c5e-8f90-123456789abc',
      clientSecret: { env: 'CONTOSO_READER' },
      endpoint: 'https://graph.microsoft.com',
      lateAfterMinutes: 10,
      deadlineMinutes: 30,
      afterRead: 'delete',
      trustedAuthservIds: [],
    });
  });

  it('reads a Graph moveTo folder, and refuses an empty one by its path', () => {
    const graph = (moveTo: string) => `      kind: graph
      mailbox: probe@contoso.example
      entraTenantId: contoso.onmicrosoft.com
      clientId: 3f0c7a8e-1b2d-4c5e-8f90-123456789abc
      clientSecret: { env: CONTOSO_READER }
      moveTo: ${moveTo}
`;
    const { config } = parseConfig(tenantWith(graph("' relaywatch-probes '")), 'test.yaml');
    expect(config.tenants[0]?.probeMailbox).toMatchObject({ moveTo: 'relaywatch-probes' });
    expect(problemsOf(tenantWith(graph("''"))).map((p) => p.path)).toEqual(['tenants[0].probeMailbox.moveTo']);
  });

  it('reads an IMAP mailbox with a password, defaulting to implicit TLS on 993', () => {
    const { config } = parseConfig(
      tenantWith(`      kind: imap
      host: imap.contoso.example
      user: probe@contoso.example
      password: { secret: contoso-imap }
      trustedAuthservIds: [MX.Contoso.Example]
`),
      'test.yaml',
    );
    expect(config.tenants[0]?.probeMailbox).toMatchObject({
      kind: 'imap',
      port: 993,
      secure: true,
      auth: 'password',
      trustedAuthservIds: ['mx.contoso.example'],
    });
  });

  it('names what an IMAP mailbox with auth: oauth lacks', () => {
    const problems = problemsOf(
      tenantWith(`      kind: imap
      host: outlook.office365.com
      user: probe@contoso.example
      auth: oauth
`),
    );
    expect(problems.map((p) => p.path)).toEqual([
      'tenants[0].probeMailbox.entraTenantId',
      'tenants[0].probeMailbox.clientId',
      'tenants[0].probeMailbox.clientSecret',
    ]);
    expect(problems[0]?.message).toBe('is required for auth: oauth');
  });

  it('refuses a deadline that is not after the late threshold, and an unknown kind', () => {
    const late = problemsOf(
      tenantWith(`      kind: imap
      host: imap.contoso.example
      user: probe
      password: { env: X }
      lateAfterMinutes: 30
      deadlineMinutes: 30
`),
    );
    expect(late.map((p) => [p.path, p.message])).toEqual([
      ['tenants[0].probeMailbox.deadlineMinutes', 'deadlineMinutes must be greater than lateAfterMinutes'],
    ]);
    const kind = problemsOf(tenantWith('      kind: pop3\n'));
    expect(kind.map((p) => formatProblem(p))).toEqual([expect.stringContaining('kind must be graph or imap')]);
  });

  it('never shows a secret pasted as a key of the password or client secret reference', () => {
    for (const mailbox of [
      `      kind: imap
      host: imap.contoso.example
      user: probe
      password: {Hunter2Secret}
`,
      `      kind: graph
      mailbox: probe@contoso.example
      entraTenantId: contoso.onmicrosoft.com
      clientId: 3F0C7A8E-1B2D-4C5E-8F90-123456789ABC
      clientSecret: { env: X, Hunter2Secret: 1 }
`,
    ]) {
      const problems = problemsOf(tenantWith(mailbox));
      const shown = problems.map((p) => formatProblem(p)).join('\n');
      expect(shown).toContain('has an unknown key (not shown: it may be the secret)');
      expect(shown).not.toContain('Hunter2Secret');
    }
  });
});
