import { describe, expect, it } from 'vitest';
import { composeTenant, formatDuration, percentile, type TenantInput } from '../../../shared/digest/model.ts';
import { parseWeek } from '../../../shared/digest/week.ts';
import type { CheckRecord, CheckStatus, IncidentRecord } from '../../../shared/ports/stores.ts';

const week = parseWeek('2026-W47', 'UTC');
const start = week.startMs;
const H = 3_600_000;
const tenant: TenantInput = { id: 'acme', name: 'Acme', expectsRelayProbe: false, submissionAuth: null };
const opts = {
  basicAuthOffAt: new Date('2026-12-31T00:00:00Z'),
  agentSilenceHours: 24,
  certificateWarningDays: 21,
  nowMs: Date.parse('2026-11-23T08:00:00Z'),
};

function rec(check: string, hours: number, status: CheckStatus, extra: Partial<CheckRecord> = {}): CheckRecord {
  return {
    tenantId: 'acme',
    runId: `r${hours}`,
    at: new Date(start + hours * H).toISOString(),
    check,
    subject: 'acme.example',
    status,
    codes: [],
    summary: '',
    fingerprint: null,
    detail: null,
    ...extra,
  };
}

function incident(over: Partial<IncidentRecord>): IncidentRecord {
  return {
    tenantId: 'acme',
    id: 'i1',
    check: 'mx',
    subject: 'acme.example',
    problem: 'x',
    status: 'resolved',
    severity: 'critical',
    title: 't',
    openedAt: new Date(start - 48 * H).toISOString(),
    updatedAt: new Date(start).toISOString(),
    resolvedAt: new Date(start + 2 * H).toISOString(),
    lastDetail: '',
    deliveries: {},
    flaps: [],
    version: 1,
    ...over,
  };
}

describe('composeTenant', () => {
  it('counts warn as up, fail as down and leaves unknown out of availability', () => {
    const d = composeTenant(
      tenant,
      {
        checks: [
          rec('mx', 1, 'pass'),
          rec('mx', 2, 'warn'),
          rec('mx', 3, 'fail'),
          rec('mx', 4, 'unknown', { codes: ['mx-dns-unknown'] }),
        ],
        events: [],
        incidents: [],
      },
      week,
      opts,
    );
    const mx = d.paths.find((p) => p.id === 'mx')!;
    expect(mx.availability).toBe(66.66);
    expect(mx.now).toBe('unknown');
    expect(mx.days[0]).toBe('fail');
    expect(mx.unknownReasons).toEqual([{ code: 'mx-dns-unknown', count: 1, example: '' }]);
    expect(d.paths.find((p) => p.id === 'spf')!.availability).toBeNull();
    expect(d.paths.find((p) => p.id === 'spf')!.days).toEqual(Array(7).fill('none'));
  });

  it('counts the ok probes a site agent held back (unpostedOk) as up, as if every probe had been posted', () => {
    // 96 probes at 15 minutes: 4 failures posted one by one, the 92 ok ones as 23 hourly heartbeats standing for 4.
    const checks = [
      ...Array.from({ length: 4 }, (_, i) => rec('probe-relay', 10 + i / 4, 'fail')),
      ...Array.from({ length: 23 }, (_, i) =>
        rec('probe-relay', i < 10 ? i : i + 1, 'pass', { detail: i === 0 ? {} : { unpostedOk: 3 } }),
      ),
    ];
    // Heartbeats after the first carry 3 held back each (22 × 3 = 66), plus the first's own: 23 + 66 = 89 up of 93.
    const d = composeTenant(tenant, { checks, events: [], incidents: [] }, week, opts);
    const relay = d.paths.find((p) => p.id === 'relay')!;
    expect(relay.counts).toMatchObject({ pass: 89, fail: 4 });
    expect(relay.availability).toBe(95.69);
    expect(relay.probe?.runs).toBe(93);
    // Without the count the same results read 85.18 %: what every heartbeat-only site showed before.
    const bare = composeTenant(
      tenant,
      { checks: checks.map((c) => ({ ...c, detail: null })), events: [], incidents: [] },
      week,
      opts,
    );
    expect(bare.paths.find((p) => p.id === 'relay')!.availability).toBe(85.18);
  });

  it('counts the tenant domains on domain blocklists in the blocklists path and its exposure', () => {
    const zones = (listed: boolean) => ({
      domain: 'acme.example',
      zones: [
        {
          zone: 'spamhaus-dbl',
          name: 'Spamhaus DBL',
          status: listed ? 'listed' : 'clean',
          kind: listed ? 'abuse' : null,
        },
      ],
    });
    const d = composeTenant(
      tenant,
      {
        checks: [
          rec('domain-blocklist', 1, 'fail', { detail: zones(true) }),
          rec('domain-blocklist', 30, 'pass', { detail: zones(false) }),
          rec('blocklist', 30, 'pass', { subject: '198.51.100.7', detail: { ip: '198.51.100.7', zones: [] } }),
        ],
        events: [],
        incidents: [],
      },
      week,
      opts,
    );
    const bl = d.paths.find((p) => p.id === 'blocklists')!;
    expect(bl.days.slice(0, 2)).toEqual(['fail', 'pass']);
    expect(bl.counts).toEqual({ pass: 2, warn: 0, fail: 1, unknown: 0 });
    expect(d.exposure).toEqual([
      {
        ip: 'acme.example',
        zone: 'spamhaus-dbl',
        zoneName: 'Spamhaus DBL',
        kind: 'abuse',
        daysListed: 1,
        listedAtEnd: false,
      },
    ]);
  });

  it('ignores results outside the week', () => {
    const d = composeTenant(
      tenant,
      { checks: [rec('mx', -1, 'fail'), rec('mx', 168, 'fail')], events: [], incidents: [] },
      week,
      opts,
    );
    expect(d.checksRun).toBe(0);
    expect(d.needsAttention).toBe(false);
  });

  it('counts an incident opened before the week only for its time inside the week', () => {
    const d = composeTenant(tenant, { checks: [], events: [], incidents: [incident({})] }, week, opts);
    expect(d.incidents).toHaveLength(1);
    expect(d.incidents[0]).toMatchObject({ fate: 'recovered', openedThisWeek: false, durationMs: 2 * H });
    const old = composeTenant(
      tenant,
      { checks: [], events: [], incidents: [incident({ resolvedAt: new Date(start - H).toISOString() })] },
      week,
      opts,
    );
    expect(old.incidents).toEqual([]);
  });

  it('calls an incident resolved after the week still down at the end of it', () => {
    const d = composeTenant(
      tenant,
      {
        checks: [],
        events: [],
        incidents: [
          incident({
            openedAt: new Date(start + 160 * H).toISOString(),
            resolvedAt: new Date(start + 200 * H).toISOString(),
          }),
        ],
      },
      week,
      opts,
    );
    expect(d.incidents[0]).toMatchObject({ fate: 'still-down', resolvedAt: null, durationMs: 8 * H });
    expect(d.needsAction).toBe(true);
  });

  it('counts an incident resolved at exactly the reference time as recovered, and one at the week end as next week', () => {
    const at = (ms: number) =>
      composeTenant(
        tenant,
        {
          checks: [],
          events: [],
          incidents: [
            incident({ openedAt: new Date(start + H).toISOString(), resolvedAt: new Date(ms).toISOString() }),
          ],
        },
        week,
        { ...opts, nowMs: ms },
      ).incidents[0];
    expect(at(start + 10 * H)).toMatchObject({ fate: 'recovered', durationMs: 9 * H });
    expect(at(week.endMs)).toMatchObject({ fate: 'still-down' });
  });

  it('turns Basic auth, SPF lookups and silent agents into risks worded by the date', () => {
    const after = composeTenant(
      { ...tenant, submissionAuth: 'basic', expectsRelayProbe: true },
      { checks: [rec('spf', 1, 'warn', { detail: { lookups: 8, evaluations: [] } })], events: [], incidents: [] },
      week,
      { ...opts, basicAuthOffAt: new Date('2026-11-01T00:00:00Z') },
    );
    expect(after.risks.map((r) => r.kind)).toEqual(['basic-auth', 'spf-lookups', 'agent-silent']);
    expect(after.risks[0]!.text).toContain('has turned off by default');
    expect(after.risks[0]!.severity).toBe('critical');
    expect(after.risks[2]!.text).toContain('no relay probe result this week');
    const oauth = composeTenant(
      tenant,
      { checks: [rec('submission', 1, 'pass', { codes: ['submission-oauth'] })], events: [], incidents: [] },
      week,
      { ...opts },
    );
    expect(oauth.risks).toEqual([]);
  });

  it('does not raise a certificate risk when the probe recorded no expiry', () => {
    const d = composeTenant(
      tenant,
      {
        checks: [rec('probe-submission', 1, 'pass', { detail: { tls: { version: 'TLSv1.3', authorized: true } } })],
        events: [],
        incidents: [],
      },
      week,
      opts,
    );
    expect(d.risks).toEqual([]);
  });
});

describe('numbers', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([10], 95)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
  });

  it('formats durations for a reader', () => {
    expect(formatDuration(30_000)).toBe('under a minute');
    expect(formatDuration(45 * 60_000)).toBe('45 min');
    expect(formatDuration(6 * H + 5 * 60_000)).toBe('6 h 05 min');
    expect(formatDuration(54 * H)).toBe('2 d 6 h');
  });
});
