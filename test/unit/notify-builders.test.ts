import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { ALERT_KINDS, type Alert, type AlertKind } from '../../shared/notify/alert.ts';
import { alertSubject, buildAlertEmail, packetFilename } from '../../shared/notify/email.ts';
import { buildSlackMessage, SLACK_LIMITS, type SlackBlock } from '../../shared/notify/slack.ts';
import { buildTeamsMessage, TEAMS_MAX_BYTES } from '../../shared/notify/teams.ts';
import { buildWebhookPayload, deliveryId, signWebhook } from '../../shared/notify/webhook.ts';

const HOSTILE_NAME = 'Evil <!channel> *bold* \r\nBcc: x@y';
const HOSTILE_EVIDENCE =
  '550 5.7.606 Access denied <script>alert(1)</script> <http://evil|click> [click](http://evil) <!here> ```';

function alert(over: Partial<Alert> = {}): Alert {
  return {
    kind: 'opened',
    incidentId: 'k3m9q2p7',
    tenant: { id: 'contoso', name: 'Contoso Ltd' },
    severity: 'critical',
    check: 'blocklist',
    subject: '203.0.113.10 on Spamhaus ZEN',
    title: '203.0.113.10 is listed on Spamhaus ZEN',
    what: 'Mail from the office printer is rejected.',
    why: 'The public IP is on a blocklist Exchange Online consults.',
    remediation: ['Find the infected machine', 'Request delisting'],
    links: [
      { label: 'Spamhaus lookup', url: 'https://check.spamhaus.org/listed/?searchterm=203.0.113.10' },
      { label: 'evil', url: 'javascript:alert(1)' },
    ],
    evidence: '550 5.7.1 Service unavailable; client host [203.0.113.10] blocked using Spamhaus',
    openedAt: '2026-11-27T10:00:00.000Z',
    at: '2026-11-27T10:00:00.000Z',
    packet: null,
    ...over,
  };
}

const hostile = alert({
  tenant: { id: 'contoso', name: HOSTILE_NAME },
  title: 'Listed <b>now</b> *urgent*',
  evidence: HOSTILE_EVIDENCE,
  remediation: ['Click <http://evil|here>', '[x](http://evil)'],
});

function slackTexts(blocks: readonly SlackBlock[]): string[] {
  const out: string[] = [];
  for (const b of blocks) {
    if (b.type === 'header') out.push(b.text.text);
    if (b.type === 'section') {
      if (b.text) out.push(b.text.text);
      for (const f of b.fields ?? []) out.push(f.text);
    }
    if (b.type === 'context') for (const e of b.elements) out.push(e.text);
    if (b.type === 'actions') for (const e of b.elements) out.push(e.text.text);
  }
  return out;
}

describe('buildSlackMessage', () => {
  it('has a header with emoji and title, the fields, what/why/steps, evidence, buttons and context', () => {
    const m = buildSlackMessage(alert());
    const [header, ...rest] = m.blocks;
    expect(header?.type).toBe('header');
    expect(header?.type === 'header' && header.text.text).toBe(
      '\u{1F534} CRITICAL: 203.0.113.10 is listed on Spamhaus ZEN',
    );
    const texts = slackTexts(rest);
    expect(texts.some((t) => t.startsWith('*Tenant*\nContoso Ltd'))).toBe(true);
    expect(texts.some((t) => t.startsWith('*What broke*\n'))).toBe(true);
    expect(texts.some((t) => t.startsWith('*Why*\n'))).toBe(true);
    expect(texts.some((t) => t.includes('*What to do*\n1. Find the infected machine\n2. Request delisting'))).toBe(
      true,
    );
    expect(texts.some((t) => t.includes('*Evidence*') && t.includes('```\n550 5.7.1'))).toBe(true);
    const actions = m.blocks.find((b) => b.type === 'actions');
    expect(actions?.type === 'actions' && actions.elements.map((e) => e.url)).toEqual([
      'https://check.spamhaus.org/listed/?searchterm=203.0.113.10',
    ]);
    const context = m.blocks.at(-1);
    expect(context?.type).toBe('context');
    expect(slackTexts([context!])[0]).toContain('k3m9q2p7');
    expect(m.text).toContain('CRITICAL');
    expect(m.text).toContain('#k3m9q2p7');
    for (const b of m.blocks) {
      if (b.type === 'section' && b.text) expect(b.text.verbatim).toBe(true);
    }
  });

  it('escapes a hostile tenant name and evidence: no mention, link or formatting can form', () => {
    const m = buildSlackMessage(hostile);
    const all = [m.text, ...slackTexts(m.blocks)];
    for (const t of all) {
      expect(t).not.toContain('<!channel>');
      expect(t).not.toContain('<!here>');
      expect(t).not.toContain('<http://evil|');
      expect(t).not.toContain('<script>');
      expect(t).not.toMatch(/[\r]/);
    }
    const joined = all.join('\n');
    expect(joined).toContain('&lt;!channel&gt;');
    expect(joined).toContain('&lt;script&gt;');
    // mrkdwn (everything but the plain_text header) has no formatting characters from the input left
    const mrkdwn = [m.text, ...slackTexts(m.blocks.slice(1))].join('\n');
    expect(mrkdwn).not.toContain('*bold*');
    expect(mrkdwn).not.toContain('*urgent*');
    // The evidence code block is closed only by our own fence.
    const evidence = all.find((t) => t.startsWith('*Evidence*'))!;
    expect(evidence.match(/```/g)).toHaveLength(2);
  });

  it('respects Slack limits with a 10 KB evidence and long texts', () => {
    const m = buildSlackMessage(
      alert({
        title: 'T'.repeat(500),
        tenant: { id: 'contoso', name: '&'.repeat(3000) },
        what: '<'.repeat(5000),
        why: 'w'.repeat(5000),
        remediation: Array.from({ length: 40 }, (_, i) => `step ${i} ${'*'.repeat(500)}`),
        evidence: `${'550 <x> & y '.repeat(900)}`.slice(0, 10_240),
        links: Array.from({ length: 12 }, (_, i) => ({ label: 'L'.repeat(200), url: `https://example.test/${i}` })),
      }),
    );
    expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const b of m.blocks) {
      if (b.type === 'header') expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      if (b.type === 'section') {
        if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
        expect((b.fields ?? []).length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
        for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
      }
      if (b.type === 'actions') {
        expect(b.elements.length).toBeLessThanOrEqual(5);
        for (const e of b.elements) expect(e.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.buttonText);
      }
    }
    const evidence = slackTexts(m.blocks).find((t) => t.startsWith('*Evidence*'))!;
    expect(evidence.length).toBeLessThanOrEqual(SLACK_LIMITS.evidence + 50);
    expect(evidence).toContain('…(truncated)');
    expect(m.text.length).toBeLessThanOrEqual(300);
  });

  it('makes a resolved alert visibly different', () => {
    const m = buildSlackMessage(alert({ kind: 'resolved', at: '2026-11-27T13:12:00.000Z' }));
    const header = m.blocks[0];
    expect(header?.type === 'header' && header.text.text).toBe(
      '\u2705 RESOLVED: 203.0.113.10 is listed on Spamhaus ZEN',
    );
    const texts = slackTexts(m.blocks);
    expect(texts).toContain('\u2705 *Resolved after 3 h 12 min*');
    expect(texts.some((t) => t.startsWith('*What to do*'))).toBe(false);
    expect(m.text).toContain('RESOLVED');
    expect(m.text).toContain('Resolved after 3 h 12 min');
  });
});

function cardJson(a: Alert): string {
  return JSON.stringify(buildTeamsMessage(a));
}

describe('buildTeamsMessage', () => {
  it('is a Workflows message with one Adaptive Card attachment', () => {
    const m = buildTeamsMessage(alert());
    expect(m.type).toBe('message');
    expect(m.attachments).toHaveLength(1);
    const [att] = m.attachments;
    expect(att.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(att.contentUrl).toBeNull();
    expect(att.content.type).toBe('AdaptiveCard');
    expect(att.content.$schema).toBe('http://adaptivecards.io/schemas/adaptive-card.json');
    expect(['1.4', '1.5']).toContain(att.content.version);
    expect(att.content.actions).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'Spamhaus lookup',
        url: 'https://check.spamhaus.org/listed/?searchterm=203.0.113.10',
      },
    ]);
    const json = JSON.stringify(att.content.body);
    expect(json).toContain('CRITICAL: 203.0.113.10 is listed on Spamhaus ZEN');
    expect(json).toContain('"FactSet"');
    expect(json).toContain('What to do');
    expect(json).toContain('Monospace');
  });

  it('escapes a hostile tenant name and evidence', () => {
    const json = cardJson(hostile);
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<script>');
    expect(json).not.toContain('[click](http://evil)');
    expect(json).not.toContain('](http');
    expect(json).not.toContain('*bold*');
    expect(json).not.toContain('\\r');
    expect(json).not.toContain('<b>');
  });

  it('stays under 28 KB with hostile, huge input', () => {
    const big = alert({
      what: '*'.repeat(20_000),
      why: '['.repeat(20_000),
      remediation: Array.from({ length: 50 }, () => '_'.repeat(2000)),
      evidence: '<'.repeat(10_240),
    });
    expect(Buffer.byteLength(cardJson(big), 'utf8')).toBeLessThanOrEqual(TEAMS_MAX_BYTES);
  });

  it('shows resolved alerts in the "good" style with the duration', () => {
    const json = cardJson(alert({ kind: 'resolved', at: '2026-11-27T13:12:00.000Z' }));
    expect(json).toContain('"style":"good"');
    expect(json).toContain('RESOLVED');
    expect(json).toContain('Resolved after 3 h 12 min');
  });
});

const EXPECTED_SUBJECTS: Readonly<Record<AlertKind, string>> = {
  opened: '[relaywatch][contoso] CRITICAL: 203.0.113.10 is listed on Spamhaus ZEN #k3m9q2p7',
  reminder: '[relaywatch][contoso] CRITICAL: Reminder: 203.0.113.10 is listed on Spamhaus ZEN #k3m9q2p7',
  escalated: '[relaywatch][contoso] CRITICAL: 203.0.113.10 is listed on Spamhaus ZEN #k3m9q2p7',
  resolved: '[relaywatch][contoso] RESOLVED: 203.0.113.10 is listed on Spamhaus ZEN #k3m9q2p7',
  flapping: '[relaywatch][contoso] FLAPPING: 203.0.113.10 is listed on Spamhaus ZEN #k3m9q2p7',
  test: '[relaywatch][contoso] TEST: 203.0.113.10 is listed on Spamhaus ZEN #k3m9q2p7',
};

describe('buildAlertEmail', () => {
  const addressing = { from: 'relaywatch@msp.example', to: ['help@psa.example'] };

  it.each(ALERT_KINDS)('subject for %s is exactly as specified', (kind) => {
    expect(alertSubject(alert({ kind }))).toBe(EXPECTED_SUBJECTS[kind]);
    expect(buildAlertEmail(alert({ kind }), addressing).subject).toBe(EXPECTED_SUBJECTS[kind]);
  });

  it('uses the severity in upper case', () => {
    expect(alertSubject(alert({ severity: 'warning' }))).toBe(
      '[relaywatch][contoso] WARNING: 203.0.113.10 is listed on Spamhaus ZEN #k3m9q2p7',
    );
    expect(alertSubject(alert({ severity: 'info', kind: 'reminder' }))).toMatch(
      /^\[relaywatch\]\[contoso\] INFO: Reminder: /,
    );
  });

  it('keeps #<incidentId> at the end of a long subject', () => {
    const s = alertSubject(alert({ title: 'x'.repeat(1000) }));
    expect(s.length).toBeLessThanOrEqual(250);
    expect(s.endsWith(' #k3m9q2p7')).toBe(true);
  });

  it('sets the X-Relaywatch headers and threading ids', () => {
    const opened = buildAlertEmail(alert(), addressing);
    expect(opened.headers).toEqual({
      'X-Relaywatch-Tenant': 'contoso',
      'X-Relaywatch-Incident': 'k3m9q2p7',
      'X-Relaywatch-Check': 'blocklist',
      'X-Relaywatch-Kind': 'opened',
      'X-Relaywatch-Severity': 'critical',
    });
    expect(opened.messageId).toBe('<relaywatch.k3m9q2p7@msp.example>');
    const resolved = buildAlertEmail(alert({ kind: 'resolved', at: '2026-11-27T13:12:00.000Z' }), addressing);
    expect(resolved.headers['X-Relaywatch-Kind']).toBe('resolved');
    expect(resolved.references).toBe('<relaywatch.k3m9q2p7@msp.example>');
    expect(resolved.inReplyTo).toBe('<relaywatch.k3m9q2p7@msp.example>');
    expect(resolved.messageId).not.toBe(opened.messageId);
  });

  it('derives Message-IDs from the delivery key: per episode and route, replies thread to the episode’s opening', () => {
    const keys = (episode: string, route: string, kind: string) => ({
      key: `k3m9q2p7-${episode}-${kind}/${route}`,
      threadKey: `k3m9q2p7-${episode}-opened/${route}`,
    });
    const opened = buildAlertEmail(alert({ delivery: keys('mh2x1', 'psa', 'opened') }), addressing);
    const retried = buildAlertEmail(
      alert({ at: '2026-11-27T10:15:00.000Z', delivery: keys('mh2x1', 'psa', 'opened') }),
      addressing,
    );
    expect(retried.messageId).toBe(opened.messageId);
    expect(opened.inReplyTo).toBeUndefined();
    for (const kind of ['reminder', 'escalated', 'resolved'] as const) {
      const later = buildAlertEmail(alert({ kind, delivery: keys('mh2x1', 'psa', `${kind}-1`) }), addressing);
      expect(later.inReplyTo).toBe(opened.messageId);
      expect(later.references).toBe(opened.messageId);
      expect(later.messageId).not.toBe(opened.messageId);
    }
    const nextEpisode = buildAlertEmail(alert({ delivery: keys('mh9zz', 'psa', 'opened') }), addressing);
    expect(nextEpisode.messageId).not.toBe(opened.messageId);
    const otherRoute = buildAlertEmail(alert({ delivery: keys('mh2x1', 'ops', 'opened') }), addressing);
    expect(otherRoute.messageId).not.toBe(opened.messageId);
    // The webhook id follows the same key: stable across retries, distinct per route and episode.
    expect(deliveryId(alert({ delivery: keys('mh2x1', 'psa', 'opened') }))).toBe(
      deliveryId(alert({ at: '2026-11-27T10:15:00.000Z', delivery: keys('mh2x1', 'psa', 'opened') })),
    );
    expect(deliveryId(alert({ delivery: keys('mh2x1', 'ops', 'opened') }))).not.toBe(
      deliveryId(alert({ delivery: keys('mh2x1', 'psa', 'opened') })),
    );
  });

  it('keeps hostile text out of the headers and escapes it in the HTML', () => {
    const m = buildAlertEmail(
      { ...hostile, tenant: { id: 'contoso\r\nBcc: x@y', name: HOSTILE_NAME }, check: 'spf\nX-Evil: 1' },
      addressing,
    );
    for (const v of [m.subject, ...Object.values(m.headers)]) expect(v).not.toMatch(/[\r\n]/);
    expect(m.headers['X-Relaywatch-Tenant']).toBe('contoso Bcc: x@y');
    expect(m.html).not.toContain('<script>');
    expect(m.html).not.toContain('<!channel>');
    expect(m.html).not.toContain('<b>now</b>');
    expect(m.html).toContain('&lt;script&gt;');
    expect(m.html).toContain('Evil &lt;!channel&gt; *bold* Bcc: x@y');
    expect(m.html).not.toContain('javascript:');
    expect(m.text).toContain('Evil <!channel> *bold* Bcc: x@y');
    expect(m.text).not.toMatch(/\r/);
  });

  it('attaches the packet as <filename>.eml with message/rfc822 and quotes its text', () => {
    const packet = {
      filename: 'delist-203.0.113.10-contoso',
      eml: 'To: a@b\r\n\r\nhi\r\n',
      text: 'Hello MS',
      markdown: '# x',
    };
    const m = buildAlertEmail(alert({ packet }), addressing);
    expect(m.attachments).toEqual([
      {
        filename: 'delist-203.0.113.10-contoso.eml',
        content: packet.eml,
        contentType: 'message/rfc822',
        contentDisposition: 'attachment',
      },
    ]);
    expect(m.text).toContain('Hello MS');
    expect(m.html).toContain('Hello MS');
    expect(packetFilename('x.eml')).toBe('x.eml');
    expect(packetFilename('../a/b\r\n.txt')).toBe('.._a_b .txt.eml');
  });
});

describe('buildWebhookPayload and signing', () => {
  it('carries the alert as data with a typed event name', () => {
    const p = buildWebhookPayload(alert({ kind: 'resolved' }));
    expect(p.type).toBe('relaywatch.incident.resolved');
    expect(p.timestamp).toBe('2026-11-27T10:00:00.000Z');
    expect(p.data.incidentId).toBe('k3m9q2p7');
    expect(p.data.tenant).toEqual({ id: 'contoso', name: 'Contoso Ltd' });
    expect(p.data.links.map((l) => l.url)).toEqual(['https://check.spamhaus.org/listed/?searchterm=203.0.113.10']);
    expect(p.data.packet).toBeUndefined();
    const withPacket = buildWebhookPayload(alert({ packet: { filename: 'f', eml: 'E', text: 't', markdown: 'm' } }));
    expect(withPacket.data.packet).toEqual({ filename: 'f', eml: 'E', text: 't', markdown: 'm' });
  });

  it('derives the delivery id from incident, kind and time only', () => {
    const a = deliveryId(alert());
    expect(a).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(deliveryId(alert({ title: 'other' }))).toBe(a);
    expect(deliveryId(alert({ kind: 'reminder' }))).not.toBe(a);
    expect(deliveryId(alert({ at: '2026-11-27T11:00:00.000Z' }))).not.toBe(a);
  });

  it('signs so that standardwebhooks verifies', () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const signed = signWebhook(hostile, secret, new Date());
    const parsed = new Webhook(secret).verify(signed.body, { ...signed.headers }) as { data: { evidence: string } };
    expect(parsed.data.evidence).toBe(HOSTILE_EVIDENCE);
    expect(signed.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });
});
