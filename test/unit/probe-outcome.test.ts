/** Probe reports as checks: which diagnoses pass, warn, fail or stay unknown. */
import { describe, expect, it } from 'vitest';
import { probeOutcome } from '../../shared/checks/probe-outcome.ts';
import { type ClassifyInput, classify, parseReply } from '../../shared/probe/diagnosis.ts';
import type { ProbeReport } from '../../shared/use-cases/run-probe.ts';

function report(input: ClassifyInput, findings: ProbeReport['findings'] = []): ProbeReport {
  return {
    kind: 'submission',
    tenantId: 't',
    tenantName: 'T',
    probeId: 'p',
    startedAt: '2026-11-27T18:00:00.000Z',
    target: { host: 'smtp.office365.com', port: 587, tls: 'starttls-required', hostSource: 'config', note: null },
    from: 'app@t.example',
    to: 'probe@t.example',
    auth: { mechanism: 'XOAUTH2', user: 'app@t.example' },
    result: {
      transcript: [{ stage: input.stage, at: 42 }],
      tls: null,
      diagnosis: classify(input),
      timings: {},
      messageId: 'm',
      queueId: null,
    },
    findings,
  };
}

const reply = (raw: string) => parseReply(raw);

describe('probeOutcome', () => {
  it.each([
    [
      'accepted',
      { stage: 'data-end', reply: reply('250 2.6.0 <m> [InternalId=1] Queued mail for delivery') },
      'pass',
      'probe-ok',
    ],
    [
      'throttled',
      { stage: 'rcpt', reply: reply('451 4.7.500 Server busy. Please try again later from [203.0.113.10]. (AS843)') },
      'warn',
      'probe-ip-throttled',
    ],
    [
      'SMTP AUTH off',
      {
        stage: 'auth',
        reply: reply('535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.'),
      },
      'fail',
      'probe-smtp-auth-disabled-tenant',
    ],
    [
      'timeout (the path)',
      { stage: 'connect', failure: 'timeout', detail: 'no answer in 30 s' },
      'unknown',
      'probe-timeout',
    ],
    [
      'TLS interception (the path)',
      { stage: 'starttls', failure: 'certificate', detail: 'SELF_SIGNED_CERT_IN_CHAIN' },
      'unknown',
      'probe-certificate-invalid',
    ],
    [
      'token endpoint unreachable',
      { stage: 'auth', failure: 'token', detail: '(network) Could not reach the token endpoint' },
      'unknown',
      'probe-oauth-token-failed',
    ],
    [
      'Entra refuses the secret',
      {
        stage: 'auth',
        failure: 'token',
        detail: '(invalid-client-secret) Entra ID rejected the client secret (AADSTS7000215)',
      },
      'fail',
      'probe-oauth-token-failed',
    ],
  ] as const)('%s → %s', (_name, input, status, code) => {
    const o = probeOutcome(report(input as ClassifyInput));
    expect(o.kind).toBe('probe-submission');
    expect(o.subject).toBe('app@t.example');
    expect(o.status).toBe(status);
    expect(o.findings[0]?.code).toBe(code);
  });

  it('keeps the probe’s own findings (Basic auth): an accepted Basic probe warns', () => {
    const o = probeOutcome(
      report({ stage: 'data-end', reply: reply('250 2.6.0 queued') }, [
        { code: 'submission-basic-auth', severity: 'warning', message: 'Basic' },
      ]),
    );
    expect(o.status).toBe('warn');
    expect(o.findings.map((f) => f.code)).toEqual(['probe-ok', 'submission-basic-auth']);
    expect(o.details?.diagnosis).toBe('ok');
  });
});

describe('probeOutcome details for the digest', () => {
  it('keeps the latency, the certificate expiry and the transcript', () => {
    const base = report({ stage: 'data-end', reply: reply('250 2.6.0 <m> Queued mail for delivery') });
    const steps = Array.from({ length: 40 }, (_, i) => ({
      stage: 'rcpt' as const,
      at: i * 10,
      sent: `RCPT TO:<r${i}@t.example>`,
      reply: [`250 ${'x'.repeat(300)}`],
    }));
    const r: ProbeReport = {
      ...base,
      result: {
        ...base.result,
        transcript: steps,
        tls: {
          version: 'TLSv1.3',
          cipher: 'TLS_AES_256_GCM_SHA384',
          subject: 'CN=smtp.office365.com',
          issuer: 'CN=CA',
          validTo: '2027-01-05T00:00:00.000Z',
          authorized: true,
          authorizationError: null,
        },
      },
    };
    const d = probeOutcome(r).details as Record<string, unknown>;
    expect(d.latencyMs).toBe(390);
    expect(d.tls).toMatchObject({ version: 'TLSv1.3', authorized: true, validTo: '2027-01-05T00:00:00.000Z' });
    const transcript = d.transcript as { sent: string; reply: string[] }[];
    expect(transcript).toHaveLength(40);
    expect(transcript[16]!.sent).toBe('RCPT TO:<r16@t.example>');
  });
});
