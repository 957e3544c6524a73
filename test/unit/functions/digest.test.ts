/**
 * makeDigest with fakes: the fixture week in an in-memory SQLite store (the real claim semantics), a recording report
 * bucket and a recording mailer with failure injection.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type DigestMailer, DigestRunError, makeDigest } from '../../../functions/digest/digest.ts';
import { openSqliteStore, type SqliteStore } from '../../../shared/adapters/store/sqlite-store.ts';
import { METRICS } from '../../../shared/deploy/constants.ts';
import { signReportLink, verifyReportLink } from '../../../shared/digest/report-link.ts';
import type { AlertEmail } from '../../../shared/notify/email.ts';
import type { ReportBucket } from '../../../shared/ports/report-bucket.ts';
import { FIXTURE_NOW, fixtureConfig, HOSTILE_NAME, writeFixture } from '../../support/digest-fixture.ts';
import { FakeConfigSource, RecordingLogger, RecordingMetrics } from '../../support/lambda-fakes.ts';

const SCHEDULED = '2026-11-23T08:00:00Z';
const LINK_KEY = 'k'.repeat(48);
const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com/';
// The e-mail's link: the HTTP API's report route, signed for 7 days from the run (not an S3 pre-signed URL).
const LINK = `${API.slice(0, -1)}${signReportLink({ week: '2026-W47', expiresAt: new Date(FIXTURE_NOW.getTime() + 604_800_000) }, LINK_KEY)}`;

class RecordingBucket implements ReportBucket {
  readonly puts: { key: string; html: string }[] = [];
  readonly signed: { key: string; seconds: number }[] = [];
  failPut = false;
  async put(key: string, html: string): Promise<void> {
    if (this.failPut) throw new Error('AccessDenied');
    this.puts.push({ key, html });
  }
  async presignGet(key: string, seconds: number): Promise<string> {
    this.signed.push({ key, seconds });
    return `https://bucket.s3.example/${key}?X-Amz-Expires=${seconds}&X-Amz-Signature=abc`;
  }
}

class RecordingMailer implements DigestMailer {
  readonly sent: AlertEmail[] = [];
  failTo: string | null = null;
  async deliver(message: AlertEmail) {
    if (this.failTo !== null && message.to.includes(this.failTo)) {
      return { ok: false as const, retryable: true, error: 'email: 454 4.7.0 try again later' };
    }
    this.sent.push(message);
    return { ok: true as const, detail: 'email: SES MessageId 1' };
  }
}

let stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores) await s.close();
  stores = [];
});

async function setup(configText = fixtureConfig('/unused.db'), linkSecret = async () => LINK_KEY) {
  const store = openSqliteStore({ path: ':memory:' });
  stores.push(store);
  await writeFixture(store);
  const reports = new RecordingBucket();
  const mailer = new RecordingMailer();
  const metrics = new RecordingMetrics();
  const logger = new RecordingLogger();
  const routes: string[] = [];
  const secretRoutes: string[][] = [];
  const digest = makeDigest({
    config: new FakeConfigSource(configText),
    store,
    reports,
    reportLinkSecret: linkSecret,
    secrets: async (asked) => {
      secretRoutes.push(asked.map((r) => r.id));
      return { env: {} };
    },
    mailer: async (route) => {
      routes.push(route.id);
      return mailer;
    },
    settings: { reportPrefix: 'reports/', reportUrlSeconds: 604_800, reportLinkBaseUrl: API, leaseMs: 360_000 },
    logger,
    metrics,
    now: () => FIXTURE_NOW,
  });
  return { store, reports, mailer, metrics, logger, routes, secretRoutes, digest };
}

describe('makeDigest', () => {
  it('writes the report page of the scheduled week and sends the MSP-wide digest with its link and each switched-on tenant its own', async () => {
    const { reports, mailer, metrics, digest } = await setup();
    const r = await digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' });
    expect(r.week).toBe('2026-W47');
    expect(reports.puts.map((p) => p.key)).toEqual(['reports/2026-W47.html']);
    expect(reports.puts[0]!.html).toContain('Fabrikam Ltd');
    // No S3 pre-signed URL goes into an e-mail: the link is the report route's, verified by the report-link function.
    expect(reports.signed).toEqual([]);
    expect(mailer.sent.map((m) => m.to)).toEqual([
      ['noc@acme-msp.example'],
      ['it@contoso.example'],
      ['it@fabrikam.example'],
    ]);
    const [msp, contoso, fabrikam] = mailer.sent;
    expect(msp!.html).toContain(LINK.replaceAll('&', '&amp;'));
    expect(msp!.text).toContain(LINK);
    const url = new URL(LINK);
    expect(`${url.origin}${url.pathname}`).toBe(`${API}v1/reports/2026-W47`);
    const verdict = verifyReportLink(
      { week: '2026-W47', exp: url.searchParams.get('exp') ?? '', sig: url.searchParams.get('sig') ?? '' },
      LINK_KEY,
      new Date(FIXTURE_NOW.getTime() + 604_799_000),
    );
    expect(verdict).toMatchObject({ ok: true, objectKey: 'reports/2026-W47.html' });
    expect(msp!.subject).toMatch(/2026-W47/);
    expect(msp!.messageId).toBe('<digest.2026-W47.msp@acme-msp.example>');
    // The per-tenant digests hold their own tenant only, and never the link to the every-tenant report.
    for (const m of [contoso!, fabrikam!]) {
      expect(m.html).not.toContain('/v1/reports/');
      expect(m.text).not.toContain('/v1/reports/');
    }
    expect(contoso!.html).not.toContain('Fabrikam');
    expect(fabrikam!.html).not.toContain('Contoso');
    expect(fabrikam!.html).not.toContain(HOSTILE_NAME);
    expect(metrics.total(METRICS.digest.sent)).toBe(3);
    expect(r.recipientsSent).toBe(3);
  });

  it('sends nothing twice when the same scheduled run is invoked again (a retry), and writes the same object', async () => {
    const { reports, mailer, metrics, digest } = await setup();
    await digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' });
    const again = await digest({ scheduledTime: '2026-11-23T08:00:00Z' }, { awsRequestId: 'req-2' });
    expect(mailer.sent).toHaveLength(3);
    expect(again.recipientsSent).toBe(0);
    expect(again.recipientsAlreadySent).toBe(3);
    expect(again.deliveries.every((d) => d.ok)).toBe(true);
    expect(metrics.total(METRICS.digest.alreadySent)).toBe(3);
    expect(reports.puts.map((p) => p.key)).toEqual(['reports/2026-W47.html', 'reports/2026-W47.html']);
  });

  it('fails the run when an e-mail is not sent, and the retry sends only that one', async () => {
    const { mailer, metrics, digest } = await setup();
    mailer.failTo = 'it@contoso.example';
    await expect(digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' })).rejects.toThrow(
      new DigestRunError('1 of 3 digest e-mail(s) not sent (contoso); a retry sends only those'),
    );
    expect(mailer.sent.map((m) => m.to[0])).toEqual(['noc@acme-msp.example', 'it@fabrikam.example']);
    expect(metrics.total(METRICS.digest.failed)).toBe(1);
    mailer.failTo = null;
    const retry = await digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-2' });
    expect(mailer.sent.map((m) => m.to[0])).toEqual([
      'noc@acme-msp.example',
      'it@fabrikam.example',
      'it@contoso.example',
    ]);
    expect(retry.recipientsSent).toBe(1);
    expect(retry.recipientsAlreadySent).toBe(2);
  });

  it('leaves out a recipient whose claim another run holds, and reports the e-mail as not sent', async () => {
    const { store, mailer, digest } = await setup();
    await store.deliveries.claim(
      'fabrikam',
      'digest/2026-W47/fabrikam/it@fabrikam.example',
      'digest/2026-W47/other',
      FIXTURE_NOW,
      360_000,
    );
    await expect(digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' })).rejects.toThrow(/\(fabrikam\)/);
    expect(mailer.sent.map((m) => m.to[0])).toEqual(['noc@acme-msp.example', 'it@contoso.example']);
  });

  it('sends nothing when the report page cannot be written', async () => {
    const { reports, mailer, digest } = await setup();
    reports.failPut = true;
    await expect(digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' })).rejects.toThrow('AccessDenied');
    expect(mailer.sent).toEqual([]);
  });

  it('writes and sends nothing when the report link key cannot be read', async () => {
    const { reports, mailer, digest } = await setup(undefined, async () => {
      throw new Error('secret "relaywatch/test/report-link" does not exist');
    });
    await expect(digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' })).rejects.toThrow(/report-link/);
    expect(reports.puts).toEqual([]);
    expect(mailer.sent).toEqual([]);
  });

  it('reports the week before the scheduled time in the digest time zone, whatever the clock says', async () => {
    const { digest } = await setup();
    // Monday 00:30 in Auckland is still Sunday in UTC: the week just ended there is W48.
    const cfg = fixtureConfig('/unused.db').replace('timeZone: Europe/London', 'timeZone: Pacific/Auckland');
    const nz = (await setup(cfg)).digest;
    expect((await nz({ scheduledTime: '2026-11-29T11:30:00Z' }, { awsRequestId: 'r' })).week).toBe('2026-W48');
    expect((await digest({ scheduledTime: '2026-11-29T11:30:00Z' }, { awsRequestId: 'r' })).week).toBe('2026-W47');
  });

  it('warns, naming both times, when the deployed schedule fires at another time than the document says', async () => {
    const { digest, logger } = await setup();
    const drift = () => logger.lines.filter((l) => l.message === 'digest schedule differs from the config document');
    // The fixture document: monday 08:00 Europe/London (GMT in November).
    await digest({ scheduledTime: '2026-11-23T08:00:00Z' }, { awsRequestId: 'on-time' });
    expect(drift()).toEqual([]);
    const late = await digest({ scheduledTime: '2026-11-23T09:30:00Z' }, { awsRequestId: 'late' });
    expect(late.week).toBe('2026-W47');
    expect(drift()).toHaveLength(1);
    expect(drift()[0]?.extra).toMatchObject({
      expected: 'monday 08:00 Europe/London (digest.day, digest.time, digest.timeZone)',
      actual: 'monday 09:30 Europe/London',
    });
  });

  it('does nothing when the config has no digest section or switches it off', async () => {
    const noDigest = fixtureConfig('/unused.db').replace(/digest:\n(?: {2}.*\n)+/, '');
    const { reports, mailer, digest, logger } = await setup(noDigest);
    const r = await digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' });
    expect(r.status).toBe('off');
    expect(reports.puts).toEqual([]);
    expect(mailer.sent).toEqual([]);
    expect(logger.lines.find((l) => l.message === 'digest off')?.extra).toEqual({ reason: 'no digest section' });
    const off = fixtureConfig('/unused.db').replace('digest:\n', 'digest:\n  enabled: false\n');
    expect((await (await setup(off)).digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'r' })).status).toBe('off');
  });

  it('fails before reading or writing anything when a digest route does not exist', async () => {
    const bad = fixtureConfig('/unused.db').replace('msp: { route: digest-mail }', 'msp: { route: nowhere }');
    const { reports, mailer, digest } = await setup(bad);
    await expect(digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' })).rejects.toThrow(
      /digest\.msp\.route names route "nowhere", which is not under alerts\.routes/,
    );
    expect(reports.puts).toEqual([]);
    expect(mailer.sent).toEqual([]);
  });

  it('asks for the secrets of the routes it sends through only, once per run', async () => {
    const withOther = fixtureConfig('/unused.db').replace(
      'alerts:\n  routes:\n',
      'alerts:\n  routes:\n    - id: siem\n      webhook: { url: { secretsManager: relaywatch/routes, key: url }, secret: { secretsManager: relaywatch/routes, key: secret } }\n',
    );
    expect(withOther).toContain('id: siem');
    const { secretRoutes, routes, digest } = await setup(withOther);
    await digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' });
    expect(secretRoutes).toEqual([['digest-mail']]);
    expect(routes).toEqual(['digest-mail']);
  });

  it('logs no recipient address', async () => {
    const { logger, digest } = await setup();
    await digest({ scheduledTime: SCHEDULED }, { awsRequestId: 'req-1' });
    expect(JSON.stringify(logger.lines)).not.toMatch(/@(contoso|fabrikam|acme-msp)\.example/);
  });
});
