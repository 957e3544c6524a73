/**
 * The probe mailbox over IMAP with imapflow (2.x): any mailbox, including Exchange Online over IMAP with XOAUTH2
 * (an app-only token for `https://outlook.office365.com/.default`; the app needs `IMAP.AccessAsApp` and the service
 * principal mailbox permission: RBAC for Applications does not cover IMAP).
 *
 * `find()`: one connection; the Inbox (`INBOX`) and the Junk folder (the `\Junk` special-use mailbox, or the
 * configured name) are opened read-only; in each, `UID SEARCH HEADER Message-ID <id>` per probe, then one `UID FETCH`
 * of the header block and INTERNALDATE only (never the body). IMAP's header search is a substring match, so a hit
 * counts only when its Message-ID equals the one asked for.
 * `remove()`: per folder, `\Deleted` and `UID EXPUNGE` (imapflow's `messageDelete`) of exactly the UIDs found, and
 * only if the folder's UIDVALIDITY is still the one the ref was made under (otherwise the UIDs mean other messages).
 *
 * Error contract (the port's): nothing the server or network does rejects; it becomes a `MailboxFailure`: `auth`
 * (imapflow's `authenticationFailed`), `token` (no token from Entra ID), `network`, `timeout`, `protocol`. Messages are
 * sanitised and never carry the password or the token (imapflow's own logger is off).
 */
import { ImapFlow } from 'imapflow';
import { headerFields } from '../../confirm/evidence.ts';
import {
  bareMessageId,
  type FindResult,
  MAX_HEADER_BYTES,
  type MailboxFailure,
  type MailboxFailureReason,
  type MailboxMessage,
  type ProbeMailbox,
  type RemoveResult,
} from '../../ports/probe-mailbox.ts';
import type { TokenResult } from '../../ports/token-provider.ts';
import { failureText } from './text.ts';

export interface ImapMailboxOptions {
  readonly host: string;
  readonly port: number;
  /** Implicit TLS (993); false means STARTTLS, required unless `allowPlaintext` (loopback tests only). */
  readonly secure: boolean;
  readonly user: string;
  /** The password, or a token source for XOAUTH2 (called once per connection). */
  readonly auth:
    | { readonly kind: 'password'; readonly password: string }
    | { readonly kind: 'oauth'; readonly token: () => Promise<TokenResult> };
  /** The Junk folder's name when the server marks none `\Junk`. */
  readonly junkFolder?: string | undefined;
  readonly timeoutMs?: number | undefined;
  readonly ca?: string | readonly string[] | undefined;
  /** Lab use: no TLS at all (a loopback Dovecot). */
  readonly allowPlaintext?: boolean | undefined;
}

const DEFAULT_TIMEOUT_MS = 30_000;

interface Ref {
  readonly path: string;
  readonly uidValidity: string;
  readonly uid: number;
}

function encodeRef(r: Ref): string {
  return `imap:${Buffer.from(JSON.stringify([r.path, r.uidValidity, r.uid])).toString('base64url')}`;
}

function decodeRef(ref: string): Ref {
  try {
    if (!ref.startsWith('imap:')) throw new Error('prefix');
    const v: unknown = JSON.parse(Buffer.from(ref.slice(5), 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string' && Number.isInteger(v[2])) {
      return { path: v[0], uidValidity: v[1], uid: v[2] as number };
    }
  } catch {
    // below
  }
  throw new TypeError(`not a ref from the IMAP mailbox: ${JSON.stringify(ref.slice(0, 40))}`);
}

interface ImapError extends Error {
  code?: string;
  authenticationFailed?: boolean;
  responseText?: string;
}

function failure(err: unknown, secret: string | null): MailboxFailure {
  const e = err as ImapError;
  const code = typeof e?.code === 'string' ? e.code : '';
  let reason: MailboxFailureReason = 'protocol';
  if (e?.authenticationFailed) reason = 'auth';
  else if (/TIMEOUT|ETIMEDOUT/i.test(code)) reason = 'timeout';
  else if (/^E[A-Z]+$/.test(code) || /^ERR_TLS|CERT|SSL/i.test(code)) reason = 'network';
  const text = e?.responseText || (e instanceof Error ? e.message : String(err));
  return { ok: false, reason, message: failureText(`${code ? `${code}: ` : ''}${text}`, [secret]) };
}

export class ImapMailbox implements ProbeMailbox {
  readonly #o: ImapMailboxOptions;

  /** Without `secure`, STARTTLS is required (imapflow's `doSTARTTLS: true`) unless `allowPlaintext`. */
  constructor(options: ImapMailboxOptions) {
    this.#o = options;
  }

  /** A connected client, or the failure; the secret in use is returned for scrubbing messages. */
  async #connect(): Promise<{ client: ImapFlow; secret: string } | MailboxFailure> {
    const o = this.#o;
    let secret: string;
    let auth: { user: string; pass?: string; accessToken?: string };
    if (o.auth.kind === 'password') {
      secret = o.auth.password;
      auth = { user: o.user, pass: secret };
    } else {
      const token = await o.auth.token();
      if (!token.ok) return { ok: false, reason: 'token', message: failureText(`${token.reason}: ${token.message}`) };
      secret = token.token;
      auth = { user: o.user, accessToken: secret };
    }
    const timeout = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const client = new ImapFlow({
      host: o.host,
      port: o.port,
      secure: o.secure,
      doSTARTTLS: o.secure ? undefined : !o.allowPlaintext,
      auth,
      logger: false,
      disableAutoIdle: true,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      // Headers only, bounded: nothing a server sends can make us hold more than a few MiB.
      maxLiteralSize: 4 * MAX_HEADER_BYTES,
      maxResponseSize: 16 * MAX_HEADER_BYTES,
      ...(o.ca ? { tls: { ca: typeof o.ca === 'string' ? o.ca : [...o.ca] } } : {}),
    });
    client.on('error', () => {});
    try {
      await client.connect();
      return { client, secret };
    } catch (err) {
      client.close();
      return failure(err, secret);
    }
  }

  async #junkPath(client: ImapFlow): Promise<string | null> {
    const list = await client.list();
    if (this.#o.junkFolder) return list.find((m) => m.path === this.#o.junkFolder)?.path ?? null;
    return list.find((m) => m.specialUse === '\\Junk')?.path ?? null;
  }

  async find(messageIds: readonly string[]): Promise<FindResult> {
    const wanted = messageIds.map((id) => ({ asked: id, bare: bareMessageId(id) }));
    const found = new Map<string, MailboxMessage[]>(wanted.map((w) => [w.asked, []]));
    if (wanted.length === 0) return { ok: true, found };
    const c = await this.#connect();
    if ('ok' in c) return c;
    const { client, secret } = c;
    try {
      const junk = await this.#junkPath(client);
      const folders: { path: string; folder: MailboxMessage['folder'] }[] = [{ path: 'INBOX', folder: 'inbox' }];
      if (junk && junk !== 'INBOX') folders.push({ path: junk, folder: 'junk' });
      for (const f of folders) {
        const lock = await client.getMailboxLock(f.path, { readOnly: true });
        try {
          const mailbox = client.mailbox;
          const uidValidity = mailbox ? String(mailbox.uidValidity) : '0';
          for (const w of wanted) {
            const uids = await client.search({ header: { 'message-id': w.bare } }, { uid: true });
            if (!uids || uids.length === 0) continue;
            for await (const msg of client.fetch(
              uids,
              { uid: true, headers: true, internalDate: true },
              { uid: true },
            )) {
              const raw = msg.headers ? msg.headers.subarray(0, MAX_HEADER_BYTES).toString('utf8') : '';
              const mid = headerFields(raw)
                .find((h) => h.key === 'message-id')
                ?.value.replace(/^<|>$/g, '');
              if (mid !== w.bare) continue;
              const date = msg.internalDate ? new Date(msg.internalDate) : null;
              found.get(w.asked)?.push({
                ref: encodeRef({ path: f.path, uidValidity, uid: msg.uid }),
                messageId: w.bare,
                folder: f.folder,
                folderName: f.path,
                receivedAt: date && !Number.isNaN(date.getTime()) ? date.toISOString() : null,
                headers: raw,
              });
            }
          }
        } finally {
          lock.release();
        }
      }
      await client.logout().catch(() => {});
      return { ok: true, found };
    } catch (err) {
      client.close();
      return failure(err, secret);
    }
  }

  async remove(refs: readonly string[]): Promise<RemoveResult> {
    const parsed = refs.map(decodeRef);
    if (parsed.length === 0) return { ok: true, removed: 0 };
    const byPath = new Map<string, Ref[]>();
    for (const r of parsed) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
    const c = await this.#connect();
    if ('ok' in c) return c;
    const { client, secret } = c;
    let removed = 0;
    try {
      for (const [path, list] of byPath) {
        const lock = await client.getMailboxLock(path);
        try {
          const current = client.mailbox ? String(client.mailbox.uidValidity) : '0';
          const uids = list.filter((r) => r.uidValidity === current).map((r) => r.uid);
          if (uids.length === 0) continue;
          const before = client.mailbox ? client.mailbox.exists : 0;
          await client.messageDelete(uids.join(','), { uid: true });
          const after = client.mailbox ? client.mailbox.exists : 0;
          removed += Math.max(0, before - after);
        } finally {
          lock.release();
        }
      }
      await client.logout().catch(() => {});
      return { ok: true, removed };
    } catch (err) {
      client.close();
      return failure(err, secret);
    }
  }
}
