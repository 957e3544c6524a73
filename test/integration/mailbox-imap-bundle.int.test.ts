/**
 * The IMAP probe mailbox as the confirm function's bundle carries it: shared/adapters/mailbox/imap-mailbox.ts built
 * with the confirm function's esbuild settings and aliases (imapflow then runs on the charset stand-ins of
 * CHARSET_STAND_INS, cdk/bundle-stubs/*-textdecoder.cjs), against a real Dovecot on loopback. The mailbox names go
 * through IMAP's modified UTF-7 both ways (a localised Junk folder), which is the one charset conversion imapflow does
 * on this path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapMailbox as ImapMailboxType } from '../../shared/adapters/mailbox/imap-mailbox.ts';
import { bundleEntries } from '../support/cdk-bundles.ts';
import { asImapUser, dovecotAvailable, useDovecot } from '../support/dovecot.ts';
import { AR_ALL_PASS } from '../unit/confirm/exo-headers.ts';

const USER = 'probe@contoso.example';
const PASSWORD = 'probe-password-51c';
const JUNK = 'Courrier indésirable';

let ImapMailbox: typeof ImapMailboxType;
const out = mkdtempSync(join(tmpdir(), 'relaywatch-imap-bundle-'));
beforeAll(async () => {
  const root = new URL('../../', import.meta.url).pathname;
  const inputs = await bundleEntries('confirm', { imap: `${root}shared/adapters/mailbox/imap-mailbox.ts` }, out);
  expect(inputs.some((p) => p.endsWith('cdk/bundle-stubs/iconv-lite-textdecoder.cjs'))).toBe(true);
  expect(inputs.some((p) => /encoding-japanese\/src|iconv-lite\/encodings\/(sbcs-data|dbcs|tables)/.test(p))).toBe(
    false,
  );
  ({ ImapMailbox } = (await import(pathToFileURL(join(out, 'imap.mjs')).href)) as {
    ImapMailbox: typeof ImapMailboxType;
  });
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

function probe(id: string): { raw: string; messageId: string } {
  const messageId = `relaywatch.${id}@contoso.example`;
  const raw = [
    'Received: from AM0PR01MB1234.eurprd01.prod.exchangelabs.com by AM0PR01MB5678.eurprd01.prod.exchangelabs.com with HTTPS; Fri, 27 Nov 2026 18:00:39 +0000',
    `Authentication-Results: ${AR_ALL_PASS}`,
    'From: <app@contoso.example>',
    `To: <${USER}>`,
    'Subject: =?ISO-8859-1?Q?Test_de_distribution_=E9?=',
    `Message-ID: <${messageId}>`,
    `X-Relaywatch-Probe: tenant=contoso; probe=${id}; sent=2026-11-27T18:00:00.000Z`,
    '',
    'probe body',
    '',
  ].join('\r\n');
  return { raw, messageId };
}

const dovecot = dovecotAvailable();
describe.skipIf(!dovecot.ok)(
  `the bundled IMAP probe mailbox against Dovecot${dovecot.ok ? '' : ` (SKIPPED: ${dovecot.reason})`}`,
  () => {
    const server = useDovecot(() => ({ user: USER, password: PASSWORD }));
    const admin = <T>(fn: (c: ImapFlow) => Promise<T>): Promise<T> => asImapUser(server().port, USER, PASSWORD, fn);
    const mailbox = () =>
      new ImapMailbox({
        host: '127.0.0.1',
        port: server().port,
        secure: false,
        allowPlaintext: true,
        user: USER,
        auth: { kind: 'password', password: PASSWORD },
        junkFolder: JUNK,
        timeoutMs: 5000,
      });

    it('finds probes in the Inbox and in a Junk folder with a non-ASCII name, and removes them', async () => {
      const inbox = probe('p-bundle-inbox');
      const junk = probe('p-bundle-junk');
      await admin(async (c) => {
        await c.mailboxCreate(JUNK);
        await c.append('INBOX', inbox.raw);
        await c.append(JUNK, junk.raw);
      });
      // The real imapflow (unbundled) stored the name as modified UTF-7.
      expect(await admin(async (c) => (await c.list()).map((m) => m.path))).toContain(JUNK);
      const r = await mailbox().find([`<${inbox.messageId}>`, `<${junk.messageId}>`]);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const hits = [...r.found.values()].flat();
      expect(hits.map((h) => [h.messageId, h.folder, h.folderName])).toEqual([
        [inbox.messageId, 'inbox', 'INBOX'],
        [junk.messageId, 'junk', JUNK],
      ]);
      expect(hits[1]?.headers).toContain('Subject: =?ISO-8859-1?Q?Test_de_distribution_=E9?=');
      expect(await mailbox().remove(hits.map((h) => h.ref))).toEqual({ ok: true, removed: 2 });
      const left = await admin(async (c) => {
        const st = await c.status(JUNK, { messages: true });
        return st ? st.messages : -1;
      });
      expect(left).toBe(0);
    });
  },
);
