/**
 * The submission settings of a tenant, judged against Microsoft's timeline (DOMAIN.md §3): Basic authentication for
 * SMTP AUTH is disabled by default for existing tenants from the end of December 2026, so every tenant still
 * submitting with Basic gets a warning with the migration steps. Pure: it reads the configuration, not the network.
 */
import { type CheckOutcome, type Finding, finding, statusOf } from '../domain/outcome.ts';

export interface SubmissionSettings {
  readonly auth: 'oauth' | 'basic';
  readonly mailbox: string;
  readonly host: string;
  readonly port: number;
}

/** When Microsoft switches Basic authentication for SMTP AUTH off by default for existing tenants (end of December 2026). */
export const BASIC_AUTH_OFF_BY_DEFAULT = new Date('2026-12-31T00:00:00Z');

const MIGRATION = [
  'In Microsoft Entra ID, register an application and grant it Office 365 Exchange Online → Application permission SMTP.SendAsApp, with admin consent.',
  "In Exchange Online PowerShell, register the app's service principal (New-ServicePrincipal) and give it rights on the mailbox (Add-MailboxPermission).",
  'Create a client secret (or certificate) for the app and store it where relaywatch reads secrets (an environment variable or the secrets file).',
  'Set the tenant in relaywatch.yaml to auth: oauth with entraTenantId, clientId and clientSecret: { env: … }, and move the device or application to OAuth 2.0 (XOAUTH2) too; devices that cannot do OAuth should relay through the MX endpoint or use High Volume Email / Azure Communication Services.',
];

export function submissionConfigOutcome(
  tenantName: string,
  submission: SubmissionSettings | undefined,
  now: Date,
): CheckOutcome | null {
  if (!submission) return null;
  const findings: Finding[] = [];
  const where = `${submission.mailbox} on ${submission.host}:${submission.port}`;
  if (submission.auth === 'basic') {
    const days = Math.ceil((BASIC_AUTH_OFF_BY_DEFAULT.getTime() - now.getTime()) / 86_400_000);
    const when =
      days > 0
        ? `Microsoft disables Basic authentication for SMTP AUTH by default at the end of December 2026 (in ${days} day${days === 1 ? '' : 's'})`
        : 'Microsoft has disabled Basic authentication for SMTP AUTH by default since the end of December 2026 (a tenant admin can still re-enable it until the final removal)';
    findings.push(
      finding(
        'submission-basic-auth',
        'warning',
        `${tenantName} submits as ${where} with Basic authentication. ${when}; move to OAuth 2.0: ${MIGRATION.map((s, i) => `${i + 1}. ${s}`).join(' ')}`,
        { mailbox: submission.mailbox, auth: 'basic', offByDefault: BASIC_AUTH_OFF_BY_DEFAULT.toISOString() },
      ),
    );
  } else {
    findings.push(
      finding('submission-oauth', 'info', `${tenantName} submits as ${where} with OAuth 2.0 (XOAUTH2).`, {
        mailbox: submission.mailbox,
        auth: 'oauth',
      }),
    );
  }
  return {
    kind: 'submission',
    subject: submission.mailbox,
    status: statusOf(findings),
    findings,
    details: { mailbox: submission.mailbox, auth: submission.auth, host: submission.host, port: submission.port },
    durationMs: 0,
  };
}
