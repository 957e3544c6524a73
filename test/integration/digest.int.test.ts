/**
 * The weekly digest from a week of history written through the real SQLite store: the numbers, the strips, the
 * incidents, the risks; escaping of hostile stored text; tenant isolation; and the CLI (`digest --out`, `--send`
 * through a real SMTP server, `report --out`).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import {
  type BuiltDigest,
  buildDigest,
  renderMspDigest,
  renderReport,
  renderTenantDigest,
} from '../../shared/use-cases/build-digest.ts';
import {
  FIXTURE_NOW,
  FIXTURE_TENANTS,
  FIXTURE_WEEK,
  fixtureConfig,
  fixtureDigestInput,
  HOSTILE_NAME,
  HOSTILE_REPLY,
  writeFixture,
} from '../support/digest-fixture.ts';
import { runCliCaptured } from '../support/run-cli.ts';
import { startSmtpLab } from '../support/smtp-lab.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';

let dir: string;
let dbPath: string;
let store: SqliteStore;
let built: BuiltDigest;
let cert: SelfSignedCert;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relaywatch-digest-'));
  dbPath = join(dir, 'state.db');
  store = openSqliteStore({ path: dbPath });
  await writeFixture(store);
  cert = await makeSelfSignedCert(dir);
  built = await buildDigest(
    fixtureDigestInput(store, {
      name: 'Acme <MSP> & Co',
      accentColor: '#7b1fa2',
      contactEmail: 'noc@acme-msp.example',
    }),
  );
});

afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function tenant(id: string) {
  const t = built.tenants.find((x) => x.tenant.id === id);
  if (!t) throw new Error(`no digest for ${id}`);
  return t;
}

function path(id: string, p: string) {
  const s = tenant(id).paths.find((x) => x.id === p);
  if (!s) throw new Error(`no path ${p}`);
  return s;
}

describe('digest model from the SQLite store', () => {
  it('counts every stored result of the week once', () => {
    // 28 runs × (spf, mx, blocklist, relay, submission probe, submission settings) = 168; fabrikam's agent was silent 16 runs
    expect(tenant('contoso').checksRun).toBe(168);
    expect(tenant('fabrikam').checksRun).toBe(152);
    expect(tenant('northwind').checksRun).toBe(168);
  });

  it('marks the days a listing lasted in the blocklist strip and computes availability by the stated rule', () => {
    const bl = path('contoso', 'blocklists');
    expect(bl.days).toEqual(['pass', 'fail', 'fail', 'fail', 'pass', 'pass', 'pass']);
    expect(bl.counts).toEqual({ pass: 19, warn: 0, fail: 9, unknown: 0 });
    expect(bl.availability).toBe(67.85);
    expect(bl.now).toBe('pass');
    expect(tenant('contoso').exposure).toEqual([
      {
        ip: '203.0.113.10',
        zone: 'spamhaus-zen',
        zoneName: 'Spamhaus ZEN',
        kind: 'abuse',
        daysListed: 3,
        listedAtEnd: false,
      },
    ]);
  });

  it('keeps unknowns out of availability and lists why they happened', () => {
    const bl = path('fabrikam', 'blocklists');
    expect(bl.counts.unknown).toBe(8);
    expect(bl.availability).toBe(100);
    expect(bl.days.slice(0, 2)).toEqual(['unknown', 'unknown']);
    expect(bl.unknownReasons[0]).toMatchObject({ code: 'blocklist-unknown', count: 8 });
    const sub = path('northwind', 'submission');
    expect(sub.availability).toBe(100);
    expect(sub.probe).toMatchObject({ runs: 28, accepted: 27, successRate: 96.4 });
  });

  it('reports probe latency as median and 95th percentile of the recorded samples', () => {
    const relay = path('contoso', 'relay');
    const samples = Array.from({ length: 28 }, (_, run) => 100 + ((run * 37) % 400)).sort((a, b) => a - b);
    expect(relay.probe?.latencySamples).toBe(28);
    expect(relay.probe?.medianMs).toBe(samples[13]);
    expect(relay.probe?.p95Ms).toBe(samples[26]);
    expect(relay.availability).toBe(96.42);
  });

  it('shows a flapping incident still down at the end of the week and recoveries with durations', () => {
    const fab = tenant('fabrikam').incidents;
    expect(fab).toHaveLength(1);
    expect(fab[0]).toMatchObject({ id: 'mx9f4k1z', fate: 'still-down', flaps: 5, durationMs: (48 * 60 - 5) * 60_000 });
    expect(path('fabrikam', 'mx').days).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'fail', 'fail']);
    expect(path('fabrikam', 'mx').now).toBe('fail');
    const con = tenant('contoso').incidents;
    expect(con.map((i) => [i.id, i.fate, i.durationMs / 3_600_000])).toEqual([
      ['bl7k2m9q', 'recovered', 54],
      ['rl3p8x2w', 'recovered', 6],
    ]);
    expect(tenant('northwind').incidents).toEqual([]);
  });

  it('lists the risks ahead each tenant has, and none for the healthy one', () => {
    expect(
      tenant('contoso')
        .risks.map((r) => r.kind)
        .sort(),
    ).toEqual(['basic-auth', 'spf-lookups']);
    expect(tenant('contoso').risks.find((r) => r.kind === 'basic-auth')?.text).toContain('in 38 days');
    expect(
      tenant('fabrikam')
        .risks.map((r) => r.kind)
        .sort(),
    ).toEqual(['agent-silent', 'certificate-expiry', 'relay-ip-not-authorised', 'zone-unusable']);
    expect(tenant('fabrikam').risks.find((r) => r.kind === 'certificate-expiry')?.text).toContain('2026-12-01');
    expect(tenant('northwind').risks).toEqual([]);
    // one unknown probe result is shown (under unknowns) but is no reason for attention
    expect(tenant('northwind').needsAttention).toBe(false);
  });

  it('records the SPF change with before and after', () => {
    expect(tenant('contoso').changes).toHaveLength(1);
    expect(tenant('contoso').changes[0]).toMatchObject({ kind: 'spf', subject: 'contoso.example' });
    expect(built.totals).toMatchObject({
      tenants: 3,
      incidentsOpened: 3,
      incidentsRecovered: 2,
      stillDown: 1,
      changes: 1,
    });
  });
});

describe('digest rendering', () => {
  it('escapes tenant names, replies and TXT records in the HTML and keeps the text part free of markup tricks', () => {
    const r = renderTenantDigest(tenant('contoso'), built.meta);
    expect(r.html).not.toContain('<script>');
    expect(r.html).not.toContain('<b>&amp;');
    expect(r.html).not.toContain('<!channel>');
    expect(r.html).toContain('Contoso &lt;b&gt;&amp;amp; &quot;Sons&quot;&lt;/b&gt; *bold* _it_ &lt;!channel&gt;');
    expect(r.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(r.html).toContain('Acme &lt;MSP&gt; &amp; Co');
    expect(r.text).toContain(HOSTILE_NAME);
    const report = renderReport(built);
    expect(report).not.toContain('<script>alert');
    expect(report).toContain(HOSTILE_REPLY.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
  });

  it('keeps every other tenant out of a per-tenant digest', () => {
    for (const t of FIXTURE_TENANTS) {
      const r = renderTenantDigest(tenant(t.id), built.meta);
      for (const other of FIXTURE_TENANTS.filter((o) => o.id !== t.id)) {
        for (const needle of [other.name, other.id, other.domain, other.ip, other.mailbox]) {
          expect(r.html).not.toContain(needle);
          expect(r.text).not.toContain(needle);
        }
        expect(r.html).not.toContain(other.name.replace(/&/g, '&amp;').replace(/</g, '&lt;'));
      }
      expect(r.text).toContain(t.name);
    }
  });

  it('uses tables, inline styles and text labels only: no script, SVG, external image or style sheet', () => {
    for (const html of [renderTenantDigest(tenant('fabrikam'), built.meta).html, renderMspDigest(built).html]) {
      expect(html).not.toMatch(/<script|<svg|<img|<link|<style|<div style="display:flex/i);
      expect(html).toContain('bgcolor="#c0262d"');
      expect(html).toMatch(/bgcolor="#c0262d"[^>]*>FAIL<\/td>/);
      expect(html).toContain('#7b1fa2');
    }
    const text = renderTenantDigest(tenant('fabrikam'), built.meta).text;
    expect(text).toContain('MX          FAIL  OK   OK   OK   OK   OK   FAIL FAIL 85.71 % (4 of 28 results down)');
    expect(text).toContain('Availability = results up');
    // a silent agent's days and unknown days are not "stayed up"
    expect(text).toContain('Stayed up all week: SPF, Submission\n');
    expect(text).toContain(
      'Up whenever we could tell, but not watched all week: Relay (no results Thu, Fri, Sat, Sun); Blocklists (unknown Mon, Tue).',
    );
  });
});

describe('relaywatch digest and report', () => {
  async function config(smtpPort?: number): Promise<string> {
    const file = join(dir, `relaywatch-${smtpPort ?? 0}.yaml`);
    await writeFile(file, fixtureConfig(dbPath, smtpPort));
    return file;
  }

  it('writes the MSP-wide digest and its plain-text part for the given week', async () => {
    const out = join(dir, 'msp.html');
    const r = await runCliCaptured(
      ['digest', '--config', await config(), '--week', FIXTURE_WEEK, '--out', out],
      {},
      () => FIXTURE_NOW,
    );
    expect(r.stderr).not.toContain('relaywatch:');
    expect(r.code).toBe(0);
    const html = await readFile(out, 'utf8');
    const text = await readFile(join(dir, 'msp.txt'), 'utf8');
    expect(html).toContain('Fabrikam Ltd');
    expect(html).toContain('Northwind Traders');
    expect(text).toContain('1 still down');
  });

  it('defaults to the last complete week and writes one tenant’s digest', async () => {
    const out = join(dir, 'fab.html');
    const r = await runCliCaptured(
      ['digest', '--config', await config(), '--tenant', 'fabrikam', '--out', out],
      {},
      () => FIXTURE_NOW,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2026-W47');
    const html = await readFile(out, 'utf8');
    expect(html).toContain('Fabrikam Ltd');
    expect(html).not.toContain('Northwind');
  });

  it('writes one file pair per tenant when several are asked for', async () => {
    const out = join(dir, 'each.html');
    const r = await runCliCaptured(
      [
        'digest',
        '--config',
        await config(),
        '--week',
        FIXTURE_WEEK,
        '--tenant',
        'fabrikam',
        '--tenant',
        'northwind',
        '--out',
        out,
      ],
      {},
      () => FIXTURE_NOW,
    );
    expect(r.code).toBe(0);
    expect(await readFile(join(dir, 'each-fabrikam.html'), 'utf8')).toContain('Fabrikam Ltd');
    expect(await readFile(join(dir, 'each-northwind.txt'), 'utf8')).toContain('Northwind Traders');
  });

  it('asks for exactly one of --out and --send, and names an unknown tenant', async () => {
    const both = await runCliCaptured(['digest', '--config', await config(), '--out', join(dir, 'y.html'), '--send']);
    expect(both.code).toBe(3);
    expect(both.stderr).toContain('give exactly one of --out <file> or --send');
    const neither = await runCliCaptured(['digest', '--config', await config()]);
    expect(neither.code).toBe(3);
    const unknown = await runCliCaptured([
      'digest',
      '--config',
      await config(),
      '--tenant',
      'nobody',
      '--out',
      join(dir, 'z.html'),
    ]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('unknown tenant "nobody"');
  });

  it('reads a store that does not exist yet as empty: every path "not run", nothing created', async () => {
    const out = join(dir, 'empty.html');
    const missing = join(dir, 'never', 'state.db');
    const r = await runCliCaptured(
      [
        'digest',
        '--config',
        await config(),
        '--store',
        `sqlite:${missing}`,
        '--tenant',
        'contoso',
        '--week',
        FIXTURE_WEEK,
        '--out',
        out,
      ],
      {},
      () => FIXTURE_NOW,
    );
    expect(r.code).toBe(0);
    const text = await readFile(join(dir, 'empty.txt'), 'utf8');
    expect(text).toContain('not run this week');
    expect(text).toContain('0 checks ran');
    await expect(readFile(missing)).rejects.toThrow();
  });

  it('refuses a week that is not an ISO week, naming the form', async () => {
    const r = await runCliCaptured([
      'digest',
      '--config',
      await config(),
      '--week',
      '2026-48',
      '--out',
      join(dir, 'x.html'),
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('write the ISO week as YYYY-Www');
  });

  it('sends the MSP-wide digest and each switched-on tenant’s digest through the e-mail route', async () => {
    const lab = await startSmtpLab({}, cert);
    try {
      const r = await runCliCaptured(
        ['digest', '--config', await config(lab.port), '--week', FIXTURE_WEEK, '--send', '--smtp-ca', cert.certPath],
        {},
        () => FIXTURE_NOW,
      );
      expect(r.stderr).not.toContain('relaywatch:');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('skipped digest of northwind: switched off');
      expect(lab.received.map((m) => m.to.join(','))).toEqual([
        'noc@acme-msp.example',
        'it@contoso.example',
        'it@fabrikam.example',
      ]);
      expect(lab.received.every((m) => m.secure)).toBe(true);
      const fab = await simpleParser(lab.received[2]!.raw);
      expect(fab.subject).toBe('Acme <MSP> & Co: weekly mail health for Fabrikam Ltd (2026-W47)');
      expect(fab.html || '').toContain('Fabrikam Ltd');
      expect(fab.text).toContain('Fabrikam Ltd');
      expect(lab.received[2]!.raw).not.toContain('Contoso');
      expect(fab.headers.get('x-relaywatch-digest')).toBe('2026-W47');
    } finally {
      await lab.stop();
    }
  });

  it('writes the report page with every tenant', async () => {
    const out = join(dir, 'report.html');
    const r = await runCliCaptured(
      ['report', '--config', await config(), '--week', FIXTURE_WEEK, '--out', out],
      {},
      () => FIXTURE_NOW,
    );
    expect(r.code).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('Content-Security-Policy');
    expect(html.match(/<tr class="tenant"/g)).toHaveLength(3);
  });
});
