/**
 * Incidents that end: acknowledgement (no reminders or escalation until the incident changes), closing by hand,
 * retirement of subjects that are no longer configured, the policy-listing policy (no escalation, no daily
 * reminders) and mutes keyed by what the user sees.
 */
import { describe, expect, it } from 'vitest';
import { policyFor } from '../../../shared/incidents/config.ts';
import { pendingNotifications, recordDelivery } from '../../../shared/incidents/deliveries.ts';
import { acknowledge, close, decide, retire } from '../../../shared/incidents/policy.ts';
import { isSuppressed } from '../../../shared/incidents/suppression.ts';
import { encodeContent, isPolicyListing, observe } from '../../../shared/monitor/observe.ts';
import type { IncidentRecord } from '../../../shared/ports/stores.ts';
import { isRetired, subjectNames } from '../../../shared/use-cases/record-cycle.ts';
import type { TenantReport } from '../../../shared/use-cases/run-checks.ts';
import { HOUR, observation, T0 } from './helpers.ts';

const at = (ms: number) => new Date(ms);

function opened(over: Partial<IncidentRecord> = {}): IncidentRecord {
  const d = decide(
    { state: null, incidents: [] },
    observation('fail', T0, 'r1'),
    { openAfter: 1, resolveAfter: 1, remindEveryMs: 24 * HOUR, escalateAfterMs: 72 * HOUR, flapping: null },
    at(T0),
  );
  const inc = d.changes[0]!.incident;
  // The route heard it opened.
  return { ...recordDelivery(inc, 'psa', 'opened', { ok: true }, at(T0)), version: 1, ...over };
}

const POLICY = { openAfter: 1, resolveAfter: 1, remindEveryMs: 24 * HOUR, escalateAfterMs: 72 * HOUR, flapping: null };

describe('acknowledge', () => {
  it('stops reminders and escalation while the incident is unchanged', () => {
    const inc = opened();
    expect(pendingNotifications(inc, ['psa'], POLICY, at(T0 + 25 * HOUR), false).map((p) => p.kind)).toEqual([
      'reminder',
    ]);
    const acked = acknowledge(inc, 'jane', 'ticket 4711', at(T0 + HOUR));
    expect(acked.ack).toEqual({ by: 'jane', at: new Date(T0 + HOUR).toISOString(), note: 'ticket 4711' });
    expect(pendingNotifications(acked, ['psa'], POLICY, at(T0 + 25 * HOUR), false)).toEqual([]);
    expect(pendingNotifications(acked, ['psa'], POLICY, at(T0 + 80 * HOUR), false)).toEqual([]);
    // Still failing 80 hours later: the policy neither escalates nor reminds.
    const d = decide(
      { state: null, incidents: [acked] },
      observation('fail', T0 + 80 * HOUR, 'r9'),
      POLICY,
      at(T0 + 80 * HOUR),
    );
    const change = d.changes.find((c) => c.incident.id === acked.id);
    expect(change?.action ?? 'none').toBe('none');
    expect(change?.incident.severity ?? acked.severity).toBe('warning');
  });

  it('lasts until the incident changes: a higher severity clears it and reminders resume', () => {
    const acked = acknowledge(opened(), 'jane', null, at(T0 + HOUR));
    const d = decide(
      { state: null, incidents: [acked] },
      observation('fail', T0 + 2 * HOUR, 'r2', { severity: 'critical' }),
      POLICY,
      at(T0 + 2 * HOUR),
    );
    const next = d.changes[0]!.incident;
    expect(next.severity).toBe('critical');
    expect(next.ack).toBeNull();
    expect(pendingNotifications(next, ['psa'], POLICY, at(T0 + 25 * HOUR), false).map((p) => p.kind)).toEqual([
      'reminder',
    ]);
  });

  it('is gone when the incident resolves and re-opens as a new episode', () => {
    const acked = acknowledge(opened(), 'jane', null, at(T0 + HOUR));
    const resolved = decide(
      { state: null, incidents: [acked] },
      observation('pass', T0 + 2 * HOUR, 'r2'),
      POLICY,
      at(T0 + 2 * HOUR),
    ).changes[0]!.incident;
    expect(resolved.resolution).toEqual({ kind: 'passed', by: null, note: null });
    const again = decide(
      { state: null, incidents: [{ ...resolved, version: 2 }] },
      observation('fail', T0 + 3 * HOUR, 'r3'),
      POLICY,
      at(T0 + 3 * HOUR),
    ).changes[0]!;
    expect(again.action).toBe('reopen');
    expect(again.incident.ack).toBeNull();
    expect(again.incident.resolution).toBeNull();
  });

  it('refuses a resolved incident and an empty name', () => {
    const resolved = close(opened(), 'jane', 'fixed', at(T0 + HOUR));
    expect(() => acknowledge(resolved, 'jane', null, at(T0 + 2 * HOUR))).toThrow(TypeError);
    expect(() => acknowledge(opened(), '  ', null, at(T0 + 2 * HOUR))).toThrow(/by/);
  });
});

describe('close', () => {
  it('resolves the incident as closed with who and the note, so routes that heard it opened get RESOLVED', () => {
    const closed = close(opened(), 'jane', 'printer replaced', at(T0 + HOUR));
    expect(closed.status).toBe('resolved');
    expect(closed.resolution).toEqual({ kind: 'closed', by: 'jane', note: 'printer replaced' });
    expect(pendingNotifications(closed, ['psa', 'slack'], POLICY, at(T0 + HOUR), false)).toMatchObject([
      { route: 'psa', kind: 'resolved' },
    ]);
  });

  it('needs a note', () => {
    expect(() => close(opened(), 'jane', ' ', at(T0 + HOUR))).toThrow(/note/);
  });

  it('re-opens when the problem fails again', () => {
    const closed = { ...close(opened(), 'jane', 'fixed elsewhere', at(T0 + HOUR)), version: 2 };
    const d = decide(
      { state: null, incidents: [closed] },
      observation('fail', T0 + 2 * HOUR, 'r2'),
      POLICY,
      at(T0 + 2 * HOUR),
    );
    expect(d.changes[0]!.action).toBe('reopen');
  });
});

describe('retire', () => {
  const tenant = {
    id: 'contoso',
    name: 'Contoso',
    routes: [],
    relayIps: ['192.0.2.0/30'],
    monitored: { domains: ['contoso.example'], mailboxes: ['scan@contoso.example'] },
  };
  const run = { blocklistsRan: true, checkedIps: new Set(['192.0.2.1']) };
  const of = (check: string, subject: string) => ({ ...opened(), check, subject });

  it('resolves as retired and owes RESOLVED to the routes that heard it opened', () => {
    const r = retire(opened(), at(T0 + HOUR));
    expect(r.status).toBe('resolved');
    expect(r.resolution).toEqual({ kind: 'retired', by: null, note: null });
    expect(pendingNotifications(r, ['psa'], POLICY, at(T0 + HOUR), false).map((p) => p.kind)).toEqual(['resolved']);
  });

  it('retires removed domains, IPs and mailboxes, and nothing still configured', () => {
    expect(isRetired(of('spf', 'fabrikam.example'), tenant, run)).toBe(true);
    expect(isRetired(of('spf', 'contoso.example'), tenant, run)).toBe(false);
    expect(isRetired(of('mx', 'Contoso.Example'), tenant, run)).toBe(false);
    expect(isRetired(of('domain-blocklist', 'old.example@spamhaus-dbl'), tenant, run)).toBe(true);
    expect(isRetired(of('blocklist', '198.51.100.7@lab'), tenant, run)).toBe(true);
    // Inside a relay range, or checked in this run (an address the tenant's SPF authorises): still monitored.
    expect(isRetired(of('blocklist', '192.0.2.2@lab'), tenant, run)).toBe(false);
    expect(isRetired(of('blocklist', '192.0.2.1@lab'), tenant, run)).toBe(false);
    // A run without blocklists (--no-blocklists) cannot tell: nothing is retired.
    expect(isRetired(of('blocklist', '198.51.100.7@lab'), tenant, { ...run, blocklistsRan: false })).toBe(false);
    expect(isRetired(of('probe-submission', 'old@contoso.example'), tenant, run)).toBe(true);
    expect(isRetired(of('probe-submission', 'scan@contoso.example'), tenant, run)).toBe(false);
    expect(isRetired(of('probe-relay', 'printer@contoso.example'), tenant, run)).toBe(false);
    expect(isRetired(of('spf', 'fabrikam.example'), { ...tenant, monitored: undefined }, run)).toBe(false);
  });
});

function pblReport(): TenantReport {
  return {
    id: 'contoso',
    name: 'Contoso',
    status: 'warn',
    domains: [],
    checks: [
      {
        kind: 'blocklist',
        subject: '192.0.2.10',
        status: 'warn',
        findings: [],
        details: {
          zones: [
            {
              zone: 'spamhaus-zen',
              name: 'zen.spamhaus.org',
              status: 'listed',
              kind: 'policy',
              codes: [{ code: '127.0.0.10', meaning: 'PBL (ISP-maintained)', kind: 'policy' }],
              reason: null,
              removalUrl: 'https://check.spamhaus.org/',
              lookupUrl: null,
            },
          ],
        },
      },
    ],
  } as unknown as TenantReport;
}

describe('policy listings', () => {
  it('are a warning (WARN, not FAIL) that still opens an incident, with setup advice first', () => {
    const { observations } = observe([pblReport()], { runId: 'r1', at: new Date(T0).toISOString() });
    const o = observations[0]!;
    expect(o.status).toBe('warn');
    expect(o.failing).toBe(true);
    expect(o.severity).toBe('warning');
    const content = JSON.parse(o.detail) as { remediation: string[] };
    expect(content.remediation[0]).not.toMatch(/compromised/i);
    expect(content.remediation.join(' ')).toMatch(/Exchange Online/);
    expect(content.remediation.join(' ')).toMatch(/static IP.*reverse DNS/);
    expect(isPolicyListing(JSON.parse(o.detail))).toBe(true);
    const d = decide({ state: null, incidents: [] }, o, policyFor('blocklist'), at(T0));
    expect(d.changes[0]!.action).toBe('open');
  });

  it('never escalate and send no reminders, unless incidents.checks.policy-listing says so', () => {
    const p = policyFor('blocklist', undefined, { policyListing: true });
    expect(p.escalateAfterMs).toBeNull();
    expect(p.remindEveryMs).toBe(0);
    const inc = opened({ severity: 'warning' });
    expect(pendingNotifications(inc, ['psa'], p, at(T0 + 100 * HOUR), false)).toEqual([]);
    const d = decide(
      { state: null, incidents: [inc] },
      observation('fail', T0 + 100 * HOUR, 'r5'),
      p,
      at(T0 + 100 * HOUR),
    );
    expect(d.changes.find((c) => c.action === 'escalate')).toBeUndefined();
    const weekly = policyFor(
      'blocklist',
      { checks: { 'policy-listing': { remindEveryHours: 168 } } },
      {
        policyListing: true,
      },
    );
    expect(weekly.remindEveryMs).toBe(168 * HOUR);
    expect(weekly.escalateAfterMs).toBeNull();
    // An abuse listing keeps the defaults.
    expect(policyFor('blocklist').escalateAfterMs).toBe(72 * HOUR);
  });
});

describe('mutes keyed by what the user sees', () => {
  const listing = {
    ...opened(),
    check: 'blocklist',
    subject: '203.0.113.50@lab2',
    lastDetail: encodeContent({
      what: 'listed',
      why: '',
      remediation: [],
      links: [],
      evidence: null,
      listing: {
        ip: '203.0.113.50',
        zoneId: 'lab2',
        zone: 'bl2.lab.test',
        codes: [],
        reason: null,
        removalUrl: null,
        lookupUrl: null,
      },
    }),
  };
  const now = at(T0);
  const mute = (subject: string) => ({ mutes: [{ until: '2030-01-01T00:00:00Z', check: 'blocklist', subject }] });

  it('matches the zone name as alerts show it, and the zone id as the store keeps it', () => {
    expect(subjectNames(listing)).toEqual(['203.0.113.50@lab2', '203.0.113.50@bl2.lab.test']);
    expect(isSuppressed(mute('203.0.113.50@bl2.lab.test'), 'blocklist', subjectNames(listing), now).suppressed).toBe(
      true,
    );
    expect(isSuppressed(mute('203.0.113.50@lab2'), 'blocklist', subjectNames(listing), now).suppressed).toBe(true);
    expect(isSuppressed(mute('203.0.113.50@BL2.lab.test'), 'blocklist', subjectNames(listing), now).suppressed).toBe(
      true,
    );
    expect(isSuppressed(mute('203.0.113.51@bl2.lab.test'), 'blocklist', subjectNames(listing), now).suppressed).toBe(
      false,
    );
  });
});

describe('self-health observation', () => {
  const run = { runId: 'r1', at: new Date(T0).toISOString() };
  const report = (domainStatus: 'unknown' | 'pass', ipStatus: 'unknown' | 'pass'): TenantReport =>
    ({
      id: 'contoso',
      name: 'Contoso',
      status: 'unknown',
      domains: [
        {
          domain: 'contoso.example',
          checks: [
            { kind: 'spf', subject: 'contoso.example', status: domainStatus, findings: [] },
            { kind: 'mx', subject: 'contoso.example', status: domainStatus, findings: [] },
          ],
        },
      ],
      checks: [{ kind: 'blocklist', subject: '192.0.2.10', status: ipStatus, findings: [] }],
    }) as unknown as TenantReport;

  it('fails when every verdict of the run is unknown, naming what could not be checked and for how many runs', async () => {
    const { selfHealthObservation } = await import('../../../shared/monitor/self-health.ts');
    const o = selfHealthObservation([report('unknown', 'unknown')], run, 3);
    expect(o?.status).toBe('fail');
    expect(o?.tenantId).toBe('_relaywatch');
    expect(o?.title).toBe(
      'relaywatch could not check 1 of 1 domain and 1 of 1 sending IP for 3 runs: no resolver answered and every blocklist zone was unusable',
    );
    expect(policyFor(o!.check).openAfter).toBe(3);
    expect(policyFor(o!.check).resolveAfter).toBe(1);
  });

  it('passes when one verdict is known, and says nothing without any check', async () => {
    const { selfHealthObservation } = await import('../../../shared/monitor/self-health.ts');
    expect(selfHealthObservation([report('unknown', 'pass')], run, 1)?.status).toBe('pass');
    expect(selfHealthObservation([report('pass', 'unknown')], run, 1)?.status).toBe('pass');
    expect(selfHealthObservation([], run, 1)).toBeNull();
  });
});
