/**
 * A week of history (ISO week 2026-W47, Monday 16 to Sunday 22 November 2026, Europe/London = UTC then) for three
 * tenants, written through a real store: a run every 6 hours (28 runs), with
 * - contoso (a hostile name with HTML and mrkdwn characters): a blocklist listing Tuesday to Thursday that
 *   recovered, a relay probe outage Friday 00:00–06:00 that recovered (the refusal's reply holds `<` and `&`), an
 *   SPF change on Wednesday whose new record holds `<script>`, SPF at 9 of 10 lookups, Basic auth submission;
 * - fabrikam: an MX incident flapping on Saturday and still open, a blocklist zone unusable Monday and Tuesday
 *   (unknowns), a site agent silent since Wednesday, a STARTTLS certificate expiring on 1 December, a relay IP not
 *   authorised by SPF;
 * - northwind: healthy all week.
 */
import { parseWeek } from '../../shared/digest/week.ts';
import type {
  CheckRecord,
  CheckStatus,
  EventRecord,
  IncidentRecord,
  JsonValue,
  Store,
} from '../../shared/ports/stores.ts';
import type { BuildDigestInput } from '../../shared/use-cases/build-digest.ts';

export const FIXTURE_WEEK = '2026-W47';
export const FIXTURE_TZ = 'Europe/London';
export const FIXTURE_NOW = new Date('2026-11-23T08:00:00.000Z');
export const WEEK_START = Date.parse('2026-11-16T00:00:00.000Z');
const H = 3_600_000;

export const HOSTILE_NAME = 'Contoso <b>&amp; "Sons"</b> *bold* _it_ <!channel>';
export const HOSTILE_REPLY = '550 5.7.64 TenantAttribution; Relay Access Denied <ATTR35> [contoso & co]';
export const HOSTILE_SPF = 'v=spf1 include:spf.protection.outlook.com ip4:203.0.113.10 <script>alert(1)</script> -all';

export const FIXTURE_TENANTS = [
  { id: 'contoso', name: HOSTILE_NAME, domain: 'contoso.example', ip: '203.0.113.10', mailbox: 'scan@contoso.example' },
  {
    id: 'fabrikam',
    name: 'Fabrikam Ltd',
    domain: 'fabrikam.example',
    ip: '198.51.100.7',
    mailbox: 'app@fabrikam.example',
  },
  {
    id: 'northwind',
    name: 'Northwind Traders',
    domain: 'northwind.example',
    ip: '192.0.2.44',
    mailbox: 'mfp@northwind.example',
  },
] as const;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function rec(
  tenantId: string,
  runId: string,
  at: number,
  check: string,
  subject: string,
  status: CheckStatus,
  codes: string[],
  summary: string,
  detail: JsonValue | null,
): CheckRecord {
  return { tenantId, runId, at: iso(at), check, subject, status, codes, summary, fingerprint: null, detail };
}

function zones(listed: boolean, unusable: boolean): JsonValue {
  return [
    {
      zone: 'spamhaus-zen',
      name: 'Spamhaus ZEN',
      status: unusable ? 'unknown' : listed ? 'listed' : 'clean',
      kind: listed ? 'abuse' : null,
      codes: listed ? [{ code: '127.0.0.2', meaning: 'SBL', kind: 'abuse' }] : [],
      reason: null,
      why: unusable ? 'zone unusable for this run: the zone answered 127.255.255.254 (public resolver refused)' : null,
      removalUrl: null,
      lookupUrl: null,
    },
    {
      zone: 'spamcop',
      name: 'SpamCop',
      status: 'clean',
      kind: null,
      codes: [],
      reason: null,
      why: null,
      removalUrl: null,
      lookupUrl: null,
    },
  ];
}

function transcript(reply: string, ok: boolean): JsonValue {
  return [
    { stage: 'connect', at: 0, note: 'connected to 127.0.0.1:25' },
    { stage: 'greeting', at: 12, reply: ['220 mx.example ESMTP'] },
    { stage: 'ehlo', at: 20, sent: 'EHLO probe.example', reply: ['250-mx.example', '250 STARTTLS'] },
    { stage: 'mail', at: 41, sent: 'MAIL FROM:<probe@msp.example>', reply: ['250 2.1.0 Sender OK'] },
    { stage: 'rcpt', at: 63, sent: 'RCPT TO:<probe@tenant.example>', reply: [ok ? '250 2.1.5 Recipient OK' : reply] },
  ];
}

/** The records of the week, by tenant. */
export function fixtureRecords(): { checks: CheckRecord[]; events: EventRecord[]; incidents: IncidentRecord[] } {
  const checks: CheckRecord[] = [];
  for (let run = 0; run < 28; run++) {
    const at = WEEK_START + run * 6 * H + 5 * 60_000; // 00:05, 06:05, 12:05, 18:05
    const runId = `run-${String(run).padStart(2, '0')}`;
    const day = Math.floor(run / 4); // 0 = Monday
    for (const t of FIXTURE_TENANTS) {
      // SPF
      const lookups = t.id === 'contoso' ? 9 : 3;
      const evaluations = t.id === 'fabrikam' ? [{ ip: t.ip, result: 'fail' }] : [{ ip: t.ip, result: 'pass' }];
      checks.push(
        rec(
          t.id,
          runId,
          at,
          'spf',
          t.domain,
          t.id === 'contoso' ? 'warn' : 'pass',
          t.id === 'contoso' ? ['spf-lookup-near-limit'] : ['spf-lookups'],
          `The SPF tree needs ${lookups} of 10 DNS lookups.`,
          { record: 'v=spf1 include:spf.protection.outlook.com -all', lookups, voidLookups: 0, evaluations },
        ),
      );
      // MX: fabrikam flaps on Saturday (day 5) and fails from Sunday 12:00 on
      let mx: CheckStatus = 'pass';
      if (t.id === 'fabrikam' && day === 5) mx = run % 2 === 0 ? 'fail' : 'pass';
      if (t.id === 'fabrikam' && day === 6 && run % 4 >= 2) mx = 'fail';
      checks.push(
        rec(
          t.id,
          runId,
          at,
          'mx',
          t.domain,
          mx,
          mx === 'fail' ? ['mx-not-m365'] : ['mx-ok'],
          mx === 'fail' ? `MX of ${t.domain} does not point at Exchange Online.` : 'MX ok.',
          null,
        ),
      );
      // Blocklists: contoso listed Tue 06:05 .. Thu 06:05 (runs 5..13); fabrikam's zone unusable Mon+Tue
      const listed = t.id === 'contoso' && run >= 5 && run <= 13;
      const unusable = t.id === 'fabrikam' && day <= 1;
      checks.push(
        rec(
          t.id,
          runId,
          at,
          'blocklist',
          t.ip,
          listed ? 'fail' : unusable ? 'unknown' : 'pass',
          listed ? ['blocklist-listed'] : unusable ? ['blocklist-unknown'] : ['blocklist-clean'],
          listed
            ? `${t.ip} is listed by Spamhaus ZEN.`
            : unusable
              ? `${t.ip} could not be checked against 1 blocklist(s) unusable in this run.`
              : `${t.ip} is not listed.`,
          { ip: t.ip, zones: zones(listed, unusable), skipped: [] },
        ),
      );
      // Relay probe (site agent): contoso fails Friday 00:05 (run 16); fabrikam's agent goes silent after Wednesday
      if (!(t.id === 'fabrikam' && day > 2)) {
        const fail = t.id === 'contoso' && run === 16;
        checks.push(
          rec(
            t.id,
            runId,
            at + 60_000,
            'probe-relay',
            `probe@${t.domain}`,
            fail ? 'fail' : 'pass',
            fail ? ['probe-tenant-attribution'] : ['probe-ok'],
            fail ? `The relay probe was refused at rcpt: ${HOSTILE_REPLY}` : 'The relay probe was accepted.',
            {
              diagnosis: fail ? 'tenant-attribution' : 'ok',
              target: { host: `${t.id}-example.mail.protection.outlook.com`, port: 25, tls: 'if-offered' },
              latencyMs: 100 + ((run * 37) % 400),
              transcript: transcript(HOSTILE_REPLY, !fail),
              tls: { version: 'TLSv1.3', authorized: true, validTo: '2027-06-01T00:00:00.000Z' },
            },
          ),
        );
      }
      // Submission probe (every run): fabrikam's certificate expires on 1 December
      checks.push(
        rec(
          t.id,
          runId,
          at + 120_000,
          'probe-submission',
          t.mailbox,
          t.id === 'northwind' && run === 3 ? 'unknown' : 'pass',
          t.id === 'northwind' && run === 3 ? ['probe-timeout'] : ['probe-ok'],
          t.id === 'northwind' && run === 3
            ? 'The submission probe could not reach smtp.office365.com:587 (timeout).'
            : 'Accepted.',
          {
            diagnosis: 'ok',
            target: { host: 'smtp.office365.com', port: 587, tls: 'starttls' },
            latencyMs: 200 + ((run * 53) % 300),
            tls: {
              version: 'TLSv1.3',
              authorized: true,
              validTo: t.id === 'fabrikam' ? '2026-12-01T00:00:00.000Z' : '2027-09-01T00:00:00.000Z',
            },
          },
        ),
      );
      checks.push(
        rec(
          t.id,
          runId,
          at,
          'submission',
          t.mailbox,
          t.id === 'contoso' ? 'warn' : 'pass',
          t.id === 'contoso' ? ['submission-basic-auth'] : ['submission-oauth'],
          'Submission settings.',
          null,
        ),
      );
    }
  }
  const events: EventRecord[] = [
    {
      tenantId: 'contoso',
      eventId: 'ev-spf-1',
      at: iso(WEEK_START + 2 * 24 * H + 12 * H + 5 * 60_000),
      kind: 'spf-changed',
      subject: 'contoso.example',
      before: 'v=spf1 include:spf.protection.outlook.com -all',
      after: HOSTILE_SPF,
      runId: 'run-10',
    },
  ];
  const base = { deliveries: {}, lastDetail: '{}', version: 0 } as const;
  const incidents: IncidentRecord[] = [
    {
      ...base,
      tenantId: 'contoso',
      id: 'bl7k2m9q',
      check: 'blocklist',
      subject: '203.0.113.10@spamhaus-zen',
      problem: 'listed:spamhaus-zen',
      status: 'resolved',
      severity: 'critical',
      title: '203.0.113.10 listed by Spamhaus ZEN',
      openedAt: iso(WEEK_START + 30 * H + 5 * 60_000), // Tue 06:05
      updatedAt: iso(WEEK_START + 84 * H + 5 * 60_000),
      resolvedAt: iso(WEEK_START + 84 * H + 5 * 60_000), // Thu 12:05: down 54 hours
      flaps: [iso(WEEK_START + 30 * H + 5 * 60_000), iso(WEEK_START + 84 * H + 5 * 60_000)],
    },
    {
      ...base,
      tenantId: 'contoso',
      id: 'rl3p8x2w',
      check: 'probe-relay',
      subject: 'probe@contoso.example',
      problem: 'tenant-attribution',
      status: 'resolved',
      severity: 'critical',
      title: `Relay probe for probe@contoso.example: tenant-attribution ${HOSTILE_REPLY}`,
      openedAt: iso(WEEK_START + 96 * H + 6 * 60_000), // Fri 00:06
      updatedAt: iso(WEEK_START + 102 * H + 6 * 60_000),
      resolvedAt: iso(WEEK_START + 102 * H + 6 * 60_000), // Fri 06:06
      flaps: [],
    },
    {
      ...base,
      tenantId: 'fabrikam',
      id: 'mx9f4k1z',
      check: 'mx',
      subject: 'fabrikam.example',
      problem: 'mx-not-m365',
      status: 'open',
      severity: 'critical',
      title: 'MX of fabrikam.example: mx-not-m365',
      openedAt: iso(WEEK_START + 120 * H + 5 * 60_000), // Sat 00:05
      updatedAt: iso(WEEK_START + 156 * H + 5 * 60_000),
      resolvedAt: null,
      // opened Sat 00:05, resolved 06:05, reopened 12:05, resolved 18:05, reopened Sun 12:05
      flaps: [120, 126, 132, 138, 156].map((h) => iso(WEEK_START + h * H + 5 * 60_000)),
    },
    {
      ...base,
      tenantId: 'northwind',
      id: 'old00001',
      check: 'spf',
      subject: 'northwind.example',
      problem: 'spf-missing',
      status: 'resolved',
      severity: 'critical',
      title: 'An incident from October',
      openedAt: '2026-10-01T10:00:00.000Z',
      updatedAt: '2026-10-01T12:00:00.000Z',
      resolvedAt: '2026-10-01T12:00:00.000Z',
      flaps: [],
    },
  ];
  return { checks, events, incidents };
}

/** Writes the fixture week into `store` (idempotent for checks and events). */
export async function writeFixture(store: Store): Promise<void> {
  const { checks, events, incidents } = fixtureRecords();
  for (let run = 0; run < 28; run++) {
    const at = iso(WEEK_START + run * 6 * H + 5 * 60_000);
    await store.results.putRun({
      runId: `run-${String(run).padStart(2, '0')}`,
      startedAt: at,
      finishedAt: at,
      source: 'cli',
      counts: { pass: 0, warn: 0, fail: 0, unknown: 0 },
    });
  }
  await store.results.putChecks(checks);
  await store.results.putEvents(events);
  for (const i of incidents) await store.incidents.put(i, null);
}

/** A config for the fixture tenants (YAML), with a digest section; `smtpPort` for an e-mail route on 127.0.0.1. */
export function fixtureConfig(storePath: string, smtpPort = 9): string {
  return `version: 1
msp:
  name: "Acme <MSP> & Co"
  contact: { name: Jo Smith, email: noc@acme-msp.example }
state:
  store: sqlite:${storePath}
alerts:
  routes:
    - id: digest-mail
      email:
        from: relaywatch@acme-msp.example
        to: [noc@acme-msp.example]
        smtp: { host: 127.0.0.1, port: ${smtpPort}, requireTLS: true }
digest:
  day: monday
  time: "08:00"
  timeZone: ${FIXTURE_TZ}
  accentColor: "#7b1fa2"
  msp: { route: digest-mail }
  tenants:
    contoso: { to: [it@contoso.example] }
    fabrikam: { to: [it@fabrikam.example] }
    northwind: { enabled: false, to: [it@northwind.example] }
tenants:
  - id: contoso
    name: ${JSON.stringify(HOSTILE_NAME)}
    domains: [contoso.example]
    relayIps: [203.0.113.10]
    relay: { sender: scan@contoso.example }
  - id: fabrikam
    name: Fabrikam Ltd
    domains: [fabrikam.example]
    relayIps: [198.51.100.7]
    relay: { sender: app@fabrikam.example }
  - id: northwind
    name: Northwind Traders
    domains: [northwind.example]
    relayIps: [192.0.2.44]
`;
}

/** The `buildDigest` input for the fixture week over `store` (northwind has no relay probe to expect). */
export function fixtureDigestInput(store: Store, msp: BuildDigestInput['msp']): BuildDigestInput {
  return {
    store,
    tenants: FIXTURE_TENANTS.map((t) => ({
      id: t.id,
      name: t.name,
      expectsRelayProbe: t.id !== 'northwind',
      submissionAuth: null,
    })),
    week: parseWeek(FIXTURE_WEEK, FIXTURE_TZ),
    msp,
    settings: { agentSilenceHours: 24, certificateWarningDays: 21 },
    now: () => FIXTURE_NOW,
  };
}
