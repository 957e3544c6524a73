import { describe, expect, it } from 'vitest';
import type { DomainResult } from '../../../shared/blocklist/engine.ts';
import { domainBlocklistOutcome } from '../../../shared/checks/blocklist.ts';
import { renderDnsblDelist } from '../../../shared/delist/packet.ts';
import { alertFor } from '../../../shared/monitor/alerts.ts';
import { observe } from '../../../shared/monitor/observe.ts';
import type { IncidentRecord } from '../../../shared/ports/stores.ts';
import type { TenantReport } from '../../../shared/use-cases/run-checks.ts';

const LISTED: DomainResult = {
  domain: 'contoso.example',
  zones: [
    {
      zoneId: 'spamhaus-dbl-dqs',
      zone: '{key}.dbl.dq.spamhaus.net',
      operator: 'Spamhaus Technology (Data Query Service)',
      status: 'listed',
      codes: [
        { code: '127.0.1.102', meaning: 'DBL: abused legitimate domain (e.g. a compromised site)', kind: 'abuse' },
      ],
      kind: 'abuse',
      reason: 'https://check.spamhaus.org/results/?query=contoso.example',
      why: null,
      lookupUrl: 'https://check.spamhaus.org/results/?query=contoso.example',
      removalUrl: 'https://check.spamhaus.org/',
    },
    {
      zoneId: 'nordspam-dbl',
      zone: 'dbl.nordspam.com',
      operator: 'The NordSpam Project',
      status: 'clean',
      codes: [],
      kind: null,
      reason: null,
      why: null,
      lookupUrl: null,
      removalUrl: 'https://www.nordspam.com/delist/',
    },
  ],
  skipped: [],
};

describe('a domain blocklist listing, from the check to the alert', () => {
  it('fails the domain-blocklist check with the codes and the removal URL', () => {
    const c = domainBlocklistOutcome(LISTED);
    expect(c).toMatchObject({ kind: 'domain-blocklist', subject: 'contoso.example', status: 'fail' });
    expect(c.findings.map((f) => f.code)).toEqual(['domain-blocklist-listed', 'domain-blocklist-clean']);
    expect(c.findings[0]?.message).toContain('contoso.example is listed by Spamhaus Technology');
    expect(c.findings[0]?.message).toContain('Removal: https://check.spamhaus.org/');
    expect(c.findings[0]?.evidence).toMatchObject({ domain: 'contoso.example', zone: 'spamhaus-dbl-dqs' });
  });

  it('opens one incident subject per (domain, zone) and alerts with a domain delisting packet', async () => {
    const report: TenantReport = {
      id: 'contoso',
      name: 'Contoso Ltd',
      status: 'fail',
      domains: [],
      checks: [domainBlocklistOutcome(LISTED)],
    };
    const { observations } = observe([report], { runId: 'r1', at: '2026-12-02T01:00:00.000Z' });
    expect(observations.map((o) => [o.check, o.subject, o.status, o.severity])).toEqual([
      ['domain-blocklist', 'contoso.example@spamhaus-dbl-dqs', 'fail', 'critical'],
      ['domain-blocklist', 'contoso.example@nordspam-dbl', 'pass', 'critical'],
    ]);
    const o = observations[0]!;
    const incident: IncidentRecord = {
      tenantId: 'contoso',
      id: 'i1',
      check: o.check,
      subject: o.subject,
      problem: o.problem,
      status: 'open',
      severity: o.severity,
      title: o.title,
      openedAt: o.at,
      updatedAt: o.at,
      resolvedAt: null,
      lastDetail: o.detail,
      deliveries: {},
      flaps: [],
      version: 1,
    };
    const alert = await alertFor(incident, 'opened', 'Contoso Ltd', new Date(o.at), {
      msp: { name: 'Lab MSP', contact: { name: 'NOC', email: 'noc@msp.example' } },
    });
    expect(alert.subject).toBe('contoso.example on {key}.dbl.dq.spamhaus.net');
    expect(alert.why).toMatch(/whatever IP it comes from/);
    expect(alert.packet?.filename).toBe('delist-contoso.example-spamhaus-dbl-dqs.eml');
    expect(alert.packet?.text).toContain('DNS blocklist delisting for contoso.example (Contoso Ltd)');
    expect(alert.packet?.text).toContain('This lists the domain contoso.example itself');
    expect(alert.packet?.eml).toContain('X-Relaywatch-Listed-Domain: contoso.example');
  });

  it('refuses a packet for something that is not a domain name', () => {
    expect(() =>
      renderDnsblDelist({
        ip: '',
        domain: 'evil.example\r\nBcc: x@y',
        tenant: { id: 't', name: 'T' },
        listings: [],
        msp: { name: 'M', contact: { name: 'N', email: 'noc@msp.example' } },
      }),
    ).toThrow(/not a domain name/);
  });
});
