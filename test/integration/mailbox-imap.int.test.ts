/**
 * The IMAP probe mailbox against a real Dovecot on loopback: a probe message (the prober's own format, with the
 * headers Exchange Online adds on top) is appended to the Inbox or Junk, found by its Message-ID, parsed, and
 * expunged; failures are values. Also the whole confirm use case over Dovecot and the SQLite store.
 */
import { createServer, type Server } from 'node:http';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapMailbox } from '../../shared/adapters/mailbox/imap-mailbox.ts';
import { buildProbeMessage } from '../../shared/adapters/smtp/nodemailer-prober.ts';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import { probeOutcome } from '../../shared/checks/probe-outcome.ts';
import { observe } from '../../shared/monitor/observe.ts';
import { classify, parseReply } from '../../shared/probe/diagnosis.ts';
import { confirmProbes } from '../../shared/use-cases/confirm-probes.ts';
import { asImapUser, dovecotAvailable, useDovecot } from '../support/dovecot.ts';
import { freePort } from '../support/ports.ts';
import { AR_ALL_PASS, AR_SPF_SOFTFAIL_DMARC_FAIL } from '../unit/confirm/exo-headers.ts';

const USER = 'probe@contoso.example';
const PASSWORD = 'probe-password-9f3';
const GOOD_TOKEN = 'eyJ0eXAiOiJKV1QifQ.good-app-token';

/** An RFC 7662 token introspection endpoint for Dovecot's oauth2 passdb: GOOD_TOKEN is active for USER. */
const introspected: string[] = [];
let introspection: Server;
let introspectionUrl = '';
beforeAll(async () => {
  introspection = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += String(c);
    });
    req.on('end', () => {
      const token = new URLSearchParams(body).get('token') ?? '';
      introspected.push(token);
      // One request per connection: Dovecot's HTTP client otherwise waits on a kept-alive socket Node has closed.
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify(token === GOOD_TOKEN ? { active: 'true', username: USER } : { active: 'false' }));
    });
  });
  await new Promise<void>((r) => introspection.listen(0, '127.0.0.1', () => r()));
  const a = introspection.address();
  introspectionUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/introspect`;
});
afterAll(async () => {
  await new Promise<void>((r) => introspection.close(() => r()));
});

function probeMessage(probeId: string, ar: string, sent: Date): { raw: string; messageId: string } {
  const messageId = `relaywatch.${probeId}@contoso.example`;
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
  const stamp = sent.toUTCString().replace(/GMT$/, '+0000');
  const exo = [
    `Received: from AM0PR01MB1234.eurprd01.prod.exchangelabs.com (2603:10a6:208:1::1) by AM0PR01MB5678.eurprd01.prod.exchangelabs.com with HTTPS; ${stamp}`,
    `Authentication-Results: ${ar}`,
    'X-MS-Exchange-Organization-SCL: 1',
    'X-Forefront-Antispam-Report: CIP:40.107.20.51;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;PTR:;CAT:NONE;SFTY:;',
  ];
  return { raw: `${exo.join('\r\n')}\r\n${message}`, messageId };
}

const dovecot = dovecotAvailable();
describe.skipIf(!dovecot.ok)(
  `IMAP probe mailbox against Dovecot${dovecot.ok ? '' : ` (SKIPPED: ${dovecot.reason})`}`,
  () => {
    const server = useDovecot(() => ({ user: USER, password: PASSWORD, oauth2IntrospectionUrl: introspectionUrl }));

    const admin = <T>(fn: (c: ImapFlow) => Promise<T>): Promise<T> => asImapUser(server().port, USER, PASSWORD, fn);
    const count = (path: string) =>
      admin(async (c) => {
        const st = await c.status(path, { messages: true });
        return st ? (st.messages ?? -1) : -1;
      });
    const mailbox = (password = PASSWORD, port?: number) =>
      new ImapMailbox({
        host: '127.0.0.1',
        port: port ?? server().port,
        secure: false,
        allowPlaintext: true,
        user: USER,
        auth: { kind: 'password', password },
        timeoutMs: 5000,
      });

    it('finds a probe in the Inbox by its Message-ID, reads its headers and INTERNALDATE, and expunges it', async () => {
      const sent = new Date('2026-11-27T18:00:00.000Z');
      const p = probeMessage('p-inbox', AR_ALL_PASS, sent);
      await admin((c) => c.append('INBOX', p.raw, [], new Date('2026-11-27T18:00:40.000Z')));
      const before = await count('INBOX');
      const r = await mailbox().find([`<${p.messageId}>`]);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const hits = r.found.get(`<${p.messageId}>`) ?? [];
      expect(hits).toHaveLength(1);
      expect(hits[0]).toMatchObject({
        messageId: p.messageId,
        folder: 'inbox',
        folderName: 'INBOX',
        receivedAt: '2026-11-27T18:00:40.000Z',
      });
      expect(hits[0]?.headers).toContain(`Authentication-Results: ${AR_ALL_PASS}`);
      expect(hits[0]?.headers).toContain('X-Relaywatch-Probe: tenant=contoso; probe=p-inbox;');
      expect(hits[0]?.headers).not.toContain('This is an automated delivery probe');
      const removed = await mailbox().remove(hits.map((h) => h.ref));
      expect(removed).toEqual({ ok: true, removed: 1 });
      expect(await count('INBOX')).toBe(before - 1);
    });

    it('tells the Junk folder (special-use \\Junk) from the Inbox', async () => {
      const p = probeMessage('p-junk', AR_SPF_SOFTFAIL_DMARC_FAIL, new Date());
      await admin((c) => c.append('Junk', p.raw));
      const r = await mailbox().find([p.messageId]);
      expect(r.ok && r.found.get(p.messageId)?.map((m) => [m.folder, m.folderName])).toEqual([['junk', 'Junk']]);
      if (r.ok) await mailbox().remove((r.found.get(p.messageId) ?? []).map((m) => m.ref));
      expect(await count('Junk')).toBe(0);
    });

    it('does not take a message whose Message-ID merely contains the one asked for', async () => {
      const p = probeMessage('p-sub', AR_ALL_PASS, new Date());
      const longer = p.raw.replace(`Message-ID: <${p.messageId}>`, `Message-ID: <x.${p.messageId}>`);
      await admin((c) => c.append('INBOX', longer));
      const r = await mailbox().find([p.messageId]);
      expect(r.ok && r.found.get(p.messageId)).toEqual([]);
    });

    it('returns a refused login as an auth failure without the password', async () => {
      const r = await mailbox('wrong-password-x').find(['a@b']);
      expect(r).toMatchObject({ ok: false, reason: 'auth' });
      expect(JSON.stringify(r)).not.toContain('wrong-password-x');
    });

    it('signs in with XOAUTH2 using the token the provider gives, and reports a refused token as auth', async () => {
      const p = probeMessage('p-oauth', AR_ALL_PASS, new Date());
      await admin((c) => c.append('INBOX', p.raw));
      const oauth = (token: string) =>
        new ImapMailbox({
          host: '127.0.0.1',
          port: server().port,
          secure: false,
          allowPlaintext: true,
          user: USER,
          auth: { kind: 'oauth', token: async () => ({ ok: true, token, expiresAt: new Date(), fromCache: false }) },
          timeoutMs: 5000,
        });
      const r = await oauth(GOOD_TOKEN).find([p.messageId]);
      expect(r.ok && r.found.get(p.messageId)?.map((m) => m.folder)).toEqual(['inbox']);
      expect(introspected).toContain(GOOD_TOKEN);
      if (r.ok) await oauth(GOOD_TOKEN).remove((r.found.get(p.messageId) ?? []).map((m) => m.ref));
      // Last: after a failed login Dovecot delays the next ones from the address (its auth penalty).
      const refused = await oauth('eyJ0eXAiOiJKV1QifQ.revoked').find([p.messageId]);
      expect(refused).toMatchObject({ ok: false, reason: 'auth' });
      expect(JSON.stringify(refused)).not.toContain('revoked');
    });

    it('reports a token the provider could not get as a token failure, without connecting', async () => {
      const m = new ImapMailbox({
        host: '127.0.0.1',
        port: server().port,
        secure: false,
        allowPlaintext: true,
        user: USER,
        auth: {
          kind: 'oauth',
          token: async () => ({
            ok: false,
            reason: 'consent-required',
            aadsts: 'AADSTS65001',
            message: 'The app needs admin consent for IMAP.AccessAsApp.',
            retryable: false,
          }),
        },
      });
      expect(await m.find(['a@b'])).toMatchObject({ ok: false, reason: 'token' });
    });

    it('returns a refused connection as a network failure', async () => {
      const r = await mailbox(PASSWORD, await freePort()).find(['a@b']);
      expect(r).toMatchObject({ ok: false, reason: 'network' });
    });

    it('confirms a stored probe end to end: found, recorded as delivered with its verdicts, expunged', async () => {
      const store = openSqliteStore({ path: ':memory:' });
      try {
        // INTERNALDATE has whole seconds.
        const sent = new Date(Math.floor((Date.now() - 120_000) / 1000) * 1000);
        const probeId = 'p-e2e';
        const p = probeMessage(probeId, AR_ALL_PASS, sent);
        const report = {
          kind: 'submission' as const,
          tenantId: 'contoso',
          tenantName: 'Contoso',
          probeId,
          startedAt: sent.toISOString(),
          target: {
            host: 'smtp.office365.com',
            port: 587,
            tls: 'starttls-required' as const,
            hostSource: 'config' as const,
            note: null,
          },
          from: 'app@contoso.example',
          to: USER,
          auth: null,
          result: {
            transcript: [],
            tls: null,
            diagnosis: classify({ stage: 'data-end', reply: parseReply('250 2.6.0 Queued mail for delivery') }),
            timings: {},
            messageId: p.messageId,
            queueId: null,
          },
          findings: [],
        };
        const { checks } = observe(
          [{ id: 'contoso', name: 'Contoso', status: 'pass', domains: [], checks: [probeOutcome(report)] }],
          { runId: 'run-probe', at: sent.toISOString() },
        );
        await store.results.putChecks(checks);
        await admin((c) => c.append('INBOX', p.raw, [], new Date(sent.getTime() + 30_000)));
        const recorded: string[] = [];
        const r = await confirmProbes({
          tenants: [
            {
              id: 'contoso',
              name: 'Contoso',
              policy: { lateAfterMs: 600_000, deadlineMs: 1_800_000 },
              afterRead: 'delete',
              mailbox: () => mailbox(),
            },
          ],
          results: store.results,
          now: () => new Date(),
          record: async (reports) => {
            const run = observe(reports, { runId: 'run-confirm', at: new Date().toISOString() });
            recorded.push(...run.checks.map((c) => `${c.subject} ${c.codes.join(',')}`));
            await store.results.putChecks(run.checks);
          },
        });
        expect(recorded).toEqual(['p-e2e delivered']);
        expect(r.tenants[0]).toMatchObject({ removed: 1, removeError: null, mailboxError: null });
        expect(r.tenants[0]?.outcomes[0]?.details).toMatchObject({
          folder: 'inbox',
          latencyMs: 30_000,
          auth: { spf: { result: 'pass' }, dmarc: { result: 'pass' }, compauth: { result: 'pass', reason: '100' } },
        });
        const again = await mailbox().find([p.messageId]);
        expect(again.ok && again.found.get(p.messageId)).toEqual([]);
      } finally {
        await store.close();
      }
    });
  },
);
