/**
 * `alertFor` for Microsoft listings seen by a probe: the Microsoft delisting request rendered from what the incident
 * kept (the recipient rules of `shared/delist/recipient.ts` applied), and its essentials in Slack and Teams.
 */
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { alertFor } from '../../../shared/monitor/alerts.ts';
import { encodeContent, type MicrosoftListingContent } from '../../../shared/monitor/observe.ts';
import { buildSlackMessage } from '../../../shared/notify/slack.ts';
import { buildTeamsMessage } from '../../../shared/notify/teams.ts';
import type { IncidentRecord } from '../../../shared/ports/stores.ts';

const CTX = { msp: { name: 'Lab MSP', contact: { name: 'Lab NOC', email: 'noc@msp.example' } } };

function incident(reply: string, ip = '203.0.113.10'): IncidentRecord {
  const microsoft: MicrosoftListingContent = {
    ip,
    reply,
    at: '2026-11-27T18:00:00.000Z',
    recipient: 'app@tailspin.example',
    domains: ['tailspin.example'],
    spf: [{ domain: 'tailspin.example', record: 'v=spf1 ip4:203.0.113.10 -all', resultForIp: 'pass' }],
    relayIps: [ip],
  };
  return {
    tenantId: 'tailspin',
    id: 'k3m9q2p7',
    check: 'probe-submission',
    subject: 'app@tailspin.example',
    problem: 'ms-banned-ip',
    status: 'open',
    severity: 'critical',
    title: 'Submission probe for app@tailspin.example: ms-banned-ip',
    openedAt: '2026-11-27T18:00:00.000Z',
    updatedAt: '2026-11-27T18:00:00.000Z',
    resolvedAt: null,
    lastDetail: encodeContent({ what: 'refused', why: '', remediation: [], links: [], evidence: reply, microsoft }),
    deliveries: {},
    flaps: [],
    version: 1,
  };
}

const at = new Date('2026-11-27T18:15:00.000Z');

describe('alertFor with a Microsoft listing', () => {
  it('attaches the request to delist@messaging.microsoft.com with the portal for 5.7.606, and the same on a reminder', async () => {
    const inc = incident(
      '550 5.7.606 Access denied, banned sending IP [203.0.113.10]. Visit https://sender.office.com/',
    );
    const a = await alertFor(inc, 'opened', 'Tailspin Toys', at, CTX);
    expect(a.packet?.microsoft).toEqual({
      ip: '203.0.113.10',
      code: '5.7.606',
      portal: 'https://sender.office.com/',
      to: 'delist@messaging.microsoft.com',
      recipient: 'app@tailspin.example',
    });
    const eml = await simpleParser(a.packet?.eml ?? '');
    expect(eml.text).toContain('pass');
    const reminder = await alertFor(inc, 'reminder', 'Tailspin Toys', new Date('2026-11-28T18:15:00.000Z'), CTX);
    expect((await simpleParser(reminder.packet?.eml ?? '')).messageId).toBe(eml.messageId);
    expect((await alertFor({ ...inc, status: 'resolved' }, 'resolved', 'Tailspin Toys', at, CTX)).packet).toBeNull();
  });

  it('sends a 5.7.511 banned sender to delist@microsoft.com and says the portal cannot be used', async () => {
    const inc = incident(
      '550 5.7.511 Access denied, banned sender[203.0.113.10]. To request removal from this list, forward this message to delist@microsoft.com.',
    );
    const a = await alertFor(inc, 'opened', 'Tailspin Toys', at, CTX);
    expect(a.packet?.microsoft).toMatchObject({ code: '5.7.511', portal: null, to: 'delist@microsoft.com' });
    const slack = JSON.stringify(buildSlackMessage(a));
    const teams = JSON.stringify(buildTeamsMessage(a));
    for (const body of [slack, teams]) {
      expect(body).toContain('portal cannot be used');
      expect(body).toContain('delist@microsoft.com');
      expect(body).not.toContain('request removal at https://sender.office.com');
    }
  });

  it('keeps hostile reply text out of the chat essentials’ markup', async () => {
    const inc = incident('550 5.7.606 Access denied, banned sending IP [203.0.113.10] <!channel> *x* [a](http://evil)');
    const a = await alertFor(inc, 'opened', 'Tailspin Toys', at, CTX);
    const slack = JSON.stringify(buildSlackMessage(a));
    expect(slack).not.toContain('<!channel>');
    expect(JSON.stringify(buildTeamsMessage(a))).not.toContain('[a](http://evil)');
  });
});
