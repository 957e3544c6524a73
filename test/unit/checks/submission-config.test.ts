import { describe, expect, it } from 'vitest';
import { submissionConfigOutcome } from '../../../shared/checks/submission-config.ts';

const basic = { auth: 'basic' as const, mailbox: 'scanner@contoso.example', host: 'smtp.office365.com', port: 587 };

describe('submission settings check', () => {
  it('warns every tenant still on Basic authentication, with the days left and the migration steps', () => {
    const out = submissionConfigOutcome('Contoso Ltd', basic, new Date('2026-11-27T18:00:00Z'));
    expect(out?.status).toBe('warn');
    const f = out?.findings[0];
    expect(f?.code).toBe('submission-basic-auth');
    expect(f?.message).toContain('end of December 2026 (in 34 days)');
    expect(f?.message).toContain('SMTP.SendAsApp');
    expect(f?.message).toContain('auth: oauth');
  });

  it('says it is already off by default after the date', () => {
    const out = submissionConfigOutcome('Contoso Ltd', basic, new Date('2027-01-15T00:00:00Z'));
    expect(out?.findings[0]?.message).toContain('has disabled Basic authentication for SMTP AUTH by default');
    expect(out?.status).toBe('warn');
  });

  it('is informational for OAuth and absent without submission settings', () => {
    const out = submissionConfigOutcome('T', { ...basic, auth: 'oauth' }, new Date('2026-11-27T00:00:00Z'));
    expect(out?.status).toBe('pass');
    expect(out?.findings.map((f) => f.code)).toEqual(['submission-oauth']);
    expect(submissionConfigOutcome('T', undefined, new Date())).toBeNull();
  });
});
