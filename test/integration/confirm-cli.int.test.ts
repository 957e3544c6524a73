/**
 * `relaywatch confirm` end to end: a probe result in the SQLite store, the probe message in a real Dovecot (STARTTLS
 * with a self-signed certificate trusted through --ca), the confirmation recorded, the incident policy run, the
 * message expunged; a mailbox whose password is not set makes the probe unknown.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProbeMessage } from '../../shared/adapters/smtp/nodemailer-prober.ts';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import { probeOutcome } from '../../shared/checks/probe-outcome.ts';
import { observe } from '../../shared/monitor/observe.ts';
import { classify, parseReply } from '../../shared/probe/diagnosis.ts';
import type { ProbeReport } from '../../shared/use-cases/run-probe.ts';
import { asImapUser, type DovecotServer, dovecotAvailable, startDovecot } from '../support/dovecot.ts';
import { runCliCaptured } from '../support/run-cli.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';
import { AR_SPF_SOFTFAIL_DMARC_FAIL } from '../unit/confirm/exo-headers.ts';

const USER = 'probe@contoso.example';
const PASSWORD = 'imap-secret-71x';

const dovecot = dovecotAvailable();
describe.skipIf(!dovecot.ok)(
  `relaywatch confirm against Dovecot${dovecot.ok ? '' : ` (SKIPPED: ${dovecot.reason})`}`,
  () => {
    let dir: string;
    let cert: SelfSignedCert;
    let server: DovecotServer;
    let configPath: string;
    let store: string;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'relaywatch-confirm-cli-'));
      cert = await makeSelfSignedCert(dir);
      server = await startDovecot({ user: USER, password: PASSWORD, tls: cert });
      configPath = join(dir, 'relaywatch.yaml');
      store = `sqlite:${join(dir, 'state.db')}`;
      await writeFile(join(dir, 'ca.pem'), cert.cert);
      await writeFile(
        configPath,
        `version: 1
msp:
  name: Lab MSP
  contact: { name: Lab NOC, email: noc@msp.example }
dns:
  resolvers: [udp://127.0.0.1:9]
  timeoutMs: 200
tenants:
  - id: contoso
    name: Contoso
    domains: [contoso.example]
    probeRecipients: [${USER}]
    probeMailbox:
      kind: imap
      host: 127.0.0.1
      port: ${server.port}
      secure: false
      user: ${USER}
      password: { env: RW_PROBE_IMAP_PASSWORD }
      lateAfterMinutes: 10
      deadlineMinutes: 30
`,
      );
    });

    afterAll(async () => {
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    async function seedProbe(probeId: string, sent: Date, deliver: boolean, extraHeaders = '') {
      const messageId = `relaywatch.${probeId}@contoso.example`;
      const report: ProbeReport = {
        kind: 'submission',
        tenantId: 'contoso',
        tenantName: 'Contoso',
        probeId,
        startedAt: sent.toISOString(),
        target: { host: 'smtp.office365.com', port: 587, tls: 'starttls-required', hostSource: 'config', note: null },
        from: 'app@contoso.example',
        to: USER,
        auth: null,
        result: {
          transcript: [],
          tls: null,
          diagnosis: classify({ stage: 'data-end', reply: parseReply('250 2.6.0 Queued mail for delivery') }),
          timings: {},
          messageId,
          queueId: null,
        },
        findings: [],
      };
      const s = openSqliteStore({ path: join(dir, 'state.db') });
      try {
        const { checks } = observe(
          [{ id: 'contoso', name: 'Contoso', status: 'pass', domains: [], checks: [probeOutcome(report)] }],
          { runId: `run-${probeId}`, at: sent.toISOString() },
        );
        await s.results.putChecks(checks);
      } finally {
        await s.close();
      }
      if (!deliver) return;
      const { message } = buildProbeMessage(
        {
          host: 'smtp.office365.com',
          port: 587,
          ehloName: 'probe.msp.example',
          tls: 'starttls-required',
          from: 'app@contoso.example',
          to: USER,
          allowedRecipients: [USER],
          tenantId: 'contoso',
          probeId,
        },
        sent,
        messageId,
      );
      await asImapUser(server.port, USER, PASSWORD, (c) =>
        c.append(
          'INBOX',
          `${extraHeaders}Authentication-Results: ${AR_SPF_SOFTFAIL_DMARC_FAIL}\r\n${message}`,
          [],
          new Date(sent.getTime() + 20_000),
        ),
      );
    }

    it('records an arrived probe with failing SPF/DMARC as auth-failing, expunges it, then has nothing outstanding', async () => {
      await seedProbe('p-cli-1', new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000), true);
      const args = ['confirm', '-c', configPath, '--store', store, '--ca', join(dir, 'ca.pem')];
      const env = { RW_PROBE_IMAP_PASSWORD: PASSWORD };
      const first = await runCliCaptured([...args, '--json'], env);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(2);
      const doc = JSON.parse(first.stdout);
      expect(doc.schema).toBe('relaywatch.confirm/v1');
      expect(doc.tenants[0].confirmations.map((c: { outcomes: string[] }) => c.outcomes)).toEqual([['auth-failing']]);
      expect(doc.tenants[0].confirmations[0].details.auth.spf).toEqual({
        result: 'softfail',
        ip: '203.0.113.9',
        mailfrom: 'contoso.com',
      });
      expect(doc.tenants[0].removed).toBe(1);
      expect(doc.state.stored).toBe(1);
      expect(JSON.stringify(doc)).not.toContain(PASSWORD);

      const second = await runCliCaptured(args, env);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('no outstanding probes');
    });

    it('makes a probe unknown (exit 3) when the mailbox password is not set, naming the variable', async () => {
      await seedProbe('p-cli-2', new Date(Date.now() - 3_600_000), false);
      const r = await runCliCaptured(['confirm', '-c', configPath, '--store', store, '--ca', join(dir, 'ca.pem')], {});
      expect(r.code).toBe(3);
      expect(r.stdout).toContain('probe p-cli-2');
      expect(r.stdout).toContain('RW_PROBE_IMAP_PASSWORD is not set');
      expect(r.stdout).toContain('confirmation-unknown');
    });

    it('confirms probes of earlier runs from relaywatch check --confirm, joining its exit status', async () => {
      await seedProbe('p-cli-3', new Date(Math.floor(Date.now() / 1000) * 1000 - 5 * 60_000), true);
      const r = await runCliCaptured(
        [
          'check',
          '-c',
          configPath,
          '--store',
          store,
          '--no-blocklists',
          '--confirm',
          '2',
          '--probe-ca',
          join(dir, 'ca.pem'),
          '--json',
        ],
        { RW_PROBE_IMAP_PASSWORD: PASSWORD },
      );
      const doc = JSON.parse(r.stdout);
      const confirmations = doc.confirm.tenants[0].confirmations.map((c: { probeId: string; outcomes: string[] }) => [
        c.probeId,
        c.outcomes,
      ]);
      // p-cli-2 (no message, an hour old) is not-delivered now that the password is set; p-cli-3 arrived failing SPF.
      expect(confirmations).toEqual([
        ['p-cli-2', ['not-delivered']],
        ['p-cli-3', ['auth-failing']],
      ]);
      expect(r.code).toBe(2);
    });

    it('escapes bidi and C1 characters of the mailbox headers in the --json document', async () => {
      const sent = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
      const received = `Received: from mail\u202eevil\u009b31m.example (mail.evil.example [203.0.113.9]) by mx.contoso.example with ESMTPS; ${sent.toUTCString()}\r\n`;
      await seedProbe('p-cli-5', sent, true, received);
      const r = await runCliCaptured(
        ['confirm', '-c', configPath, '--store', store, '--probe', 'p-cli-5', '--ca', join(dir, 'ca.pem'), '--json'],
        { RW_PROBE_IMAP_PASSWORD: PASSWORD },
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).not.toMatch(/[\u202e\u009b]/);
      expect(r.stdout).toContain('mail\\u202eevil\\u009b31m.example');
      const doc = JSON.parse(r.stdout);
      expect(JSON.stringify(doc.tenants[0].confirmations[0].details.hops)).toContain('mail\u202eevil\u009b31m.example');
    });

    it('explains a --probe that is not outstanding as a usage error', async () => {
      const r = await runCliCaptured(
        ['confirm', '-c', configPath, '--store', store, '--probe', 'nope', '--ca', join(dir, 'ca.pem')],
        { RW_PROBE_IMAP_PASSWORD: PASSWORD },
      );
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('probe "nope" is not outstanding');
    });
  },
);

describe('relaywatch confirm --help', () => {
  it('teaches the outcomes, the exit statuses and gives examples', async () => {
    const r = await runCliCaptured(['confirm', '--help']);
    expect(r.code).toBe(0);
    for (const text of [
      'delivered-junk',
      'auth-failing',
      'not-delivered',
      'Exit status',
      'Examples:',
      '--probe <id>',
    ]) {
      expect(r.stdout).toContain(text);
    }
  });
});
