/**
 * Every channel carries the machine-readable problem (finding code or diagnosis id) a PSA rule matches, and what
 * operators did (acknowledged, closed, retired): the webhook JSON, the e-mail's X-Relaywatch-Problem header and body,
 * Slack's fields and Teams' facts.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../shared/notify/alert.ts';
import { buildAlertEmail } from '../../shared/notify/email.ts';
import { buildSlackMessage } from '../../shared/notify/slack.ts';
import { buildTeamsMessage } from '../../shared/notify/teams.ts';
import { buildWebhookPayload } from '../../shared/notify/webhook.ts';

function alert(over: Partial<Alert> = {}): Alert {
  return {
    kind: 'opened',
    incidentId: 'k3m9q2p7',
    tenant: { id: 'contoso', name: 'Contoso Ltd' },
    severity: 'critical',
    check: 'probe-submission',
    problem: 'smtp-auth-disabled-mailbox',
    subject: 'scanner@contoso.example',
    title: 'Submission probe from scanner@contoso.example: SMTP AUTH is disabled for the mailbox',
    what: '535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox.',
    why: 'Applications that submit as this mailbox cannot send.',
    remediation: ['Enable SMTP AUTH for the mailbox'],
    links: [],
    evidence: null,
    openedAt: '2026-11-27T10:00:00.000Z',
    at: '2026-11-27T10:00:00.000Z',
    packet: null,
    ...over,
  };
}

const ADDRESSING = { from: 'relaywatch@msp.example', to: ['tickets@psa.example'] };

describe('the problem code on every channel', () => {
  it('is data.problem in the webhook payload (null on test alerts)', () => {
    expect(buildWebhookPayload(alert()).data.problem).toBe('smtp-auth-disabled-mailbox');
    expect(buildWebhookPayload(alert({ kind: 'test', problem: undefined })).data.problem).toBeNull();
  });

  it('is the X-Relaywatch-Problem header and a Problem line of the e-mail', () => {
    const m = buildAlertEmail(alert(), ADDRESSING);
    expect(m.headers['X-Relaywatch-Problem']).toBe('smtp-auth-disabled-mailbox');
    expect(m.text).toContain('Problem:  smtp-auth-disabled-mailbox');
    expect(m.html).toContain('smtp-auth-disabled-mailbox');
    const hostile = buildAlertEmail(alert({ problem: 'x\r\nBcc: evil@example' }), ADDRESSING);
    expect(hostile.headers['X-Relaywatch-Problem']).not.toMatch(/[\r\n]/);
  });

  it('shows in Slack and Teams', () => {
    expect(JSON.stringify(buildSlackMessage(alert()).blocks)).toContain('smtp-auth-disabled-mailbox');
    const card = JSON.stringify(buildTeamsMessage(alert()));
    expect(card).toContain('"title":"Problem"');
    expect(card).toContain('smtp-auth-disabled-mailbox');
  });
});

describe('what operators did', () => {
  const acked = alert({ acknowledged: { by: 'jane', at: '2026-11-27T11:00:00.000Z', note: 'ticket 4711' } });
  const retired = alert({
    kind: 'resolved',
    at: '2026-11-28T10:00:00.000Z',
    resolution: { kind: 'retired', by: null, note: null },
  });
  const closed = alert({
    kind: 'resolved',
    at: '2026-11-28T10:00:00.000Z',
    resolution: { kind: 'closed', by: 'jane', note: 'printer replaced' },
  });

  it('says who acknowledged it, on every channel', () => {
    expect(buildWebhookPayload(acked).data.acknowledged).toEqual({
      by: 'jane',
      at: '2026-11-27T11:00:00.000Z',
      note: 'ticket 4711',
    });
    expect(buildAlertEmail(acked, ADDRESSING).text).toContain(
      'Acknowledged by jane at 2026-11-27T11:00:00.000Z: ticket 4711',
    );
    expect(JSON.stringify(buildSlackMessage(acked).blocks)).toContain('Acknowledged by jane');
    expect(JSON.stringify(buildTeamsMessage(acked))).toContain('Acknowledged by jane');
  });

  it('says a retired incident is no longer monitored, and who closed one', () => {
    expect(buildWebhookPayload(retired).data.resolution).toEqual({ kind: 'retired', by: null, note: null });
    const mail = buildAlertEmail(retired, ADDRESSING);
    expect(mail.subject).toContain('RESOLVED:');
    expect(mail.text).toContain('no longer monitored');
    expect(JSON.stringify(buildSlackMessage(retired))).toContain('no longer monitored');
    expect(JSON.stringify(buildTeamsMessage(retired))).toContain('no longer monitored');
    expect(buildWebhookPayload(closed).data.resolution).toEqual({
      kind: 'closed',
      by: 'jane',
      note: 'printer replaced',
    });
    expect(buildAlertEmail(closed, ADDRESSING).text).toContain('Closed by jane: printer replaced');
    expect(buildWebhookPayload(alert({ kind: 'resolved' })).data.resolution).toEqual({
      kind: 'passed',
      by: null,
      note: null,
    });
  });
});
