/**
 * The probe mailbox port: where round-trip confirmation looks for a probe message after Exchange Online accepted it.
 * Two adapters implement it: Microsoft Graph (`shared/adapters/mailbox/graph-mailbox.ts`, app-only token, RBAC for
 * Applications) and IMAP (`shared/adapters/mailbox/imap-mailbox.ts`, imapflow, password or XOAUTH2).
 *
 * A lookup is by the probe's Message-ID (without angle brackets), in the folders where a delivered message can be:
 * the Inbox and the Junk Email folder (an adapter may look in more; `folder` says where it was). Only headers are
 * read, never the body.
 *
 * Error contract: `find()` and `remove()` never reject for what the mailbox service or the network does. A refused
 * connection, a timeout, a failed login or token, a throttled request that stays throttled, an answer that is not what
 * the protocol promises: all are a {@link MailboxFailure} value, so the caller records the confirmation as `unknown`
 * (it could not look), never as "not delivered". They reject only for a programming error (a `TypeError` for an empty
 * Message-ID or a ref this adapter did not hand out).
 *
 * Secrets (passwords, tokens) never appear in a result or a failure message.
 */

/** The folder a message was found in. `other` is any folder that is neither (a user rule moved it). */
export type MailboxFolder = 'inbox' | 'junk' | 'other';

export interface MailboxMessage {
  /** Opaque handle for {@link ProbeMailbox.remove}: only the adapter that returned it understands it. */
  readonly ref: string;
  /** The Message-ID as the mailbox has it, without angle brackets. */
  readonly messageId: string;
  readonly folder: MailboxFolder;
  /** The folder's name as the mailbox shows it (`INBOX`, `Junk`, `Junk Email`). */
  readonly folderName: string;
  /** When the mailbox received it (Graph `receivedDateTime`, IMAP INTERNALDATE), ISO 8601 UTC; null when not given. */
  readonly receivedAt: string | null;
  /** The message's header block as received, CRLF line ends, bounded by the adapter (see {@link MAX_HEADER_BYTES}). */
  readonly headers: string;
}

/** The most header bytes an adapter keeps per message; a larger block is cut (the top, where the receiver writes, stays). */
export const MAX_HEADER_BYTES = 256 * 1024;

export type MailboxFailureReason =
  /** Login refused, or a token the service does not accept (401/403, NO [AUTHENTICATIONFAILED]). */
  | 'auth'
  /** No token from Entra ID (the token provider's failure). */
  | 'token'
  /** The mailbox could not be set up from the configuration (a secret reference that does not resolve). */
  | 'config'
  /** Refused, reset, DNS, TLS. */
  | 'network'
  | 'timeout'
  /** Still throttled after the allowed waits (Graph 429/503 with Retry-After). */
  | 'throttled'
  /** No such mailbox or folder (404). */
  | 'not-found'
  /** An answer the protocol does not allow, or the service's 5xx. */
  | 'protocol';

export interface MailboxFailure {
  readonly ok: false;
  readonly reason: MailboxFailureReason;
  /** One line for a person; sanitised, capped, never a secret. */
  readonly message: string;
}

export type FindResult =
  | {
      readonly ok: true;
      /** By the Message-ID asked for (as given); an id with no message maps to an empty list. */
      readonly found: ReadonlyMap<string, readonly MailboxMessage[]>;
    }
  | MailboxFailure;

export type RemoveResult = { readonly ok: true; readonly removed: number } | MailboxFailure;

export interface ProbeMailbox {
  /** Looks for every Message-ID (without angle brackets). Never rejects for the service's behaviour. */
  find(messageIds: readonly string[]): Promise<FindResult>;
  /** Deletes (or moves away, per the adapter's settings) messages `find` returned. Never rejects for the service. */
  remove(refs: readonly string[]): Promise<RemoveResult>;
}

/** A Message-ID without its angle brackets and surrounding space; a `TypeError` for an empty one. */
export function bareMessageId(id: string): string {
  // Brackets stripped by index: `/>+$/` would retry at every '>' of a long run (quadratic on untrusted input).
  const t = id.trim();
  let start = 0;
  let end = t.length;
  while (start < end && t[start] === '<') start++;
  while (end > start && t[end - 1] === '>') end--;
  const bare = t.slice(start, end);
  if (bare === '' || /[\s<>]/.test(bare)) throw new TypeError(`not a Message-ID: ${JSON.stringify(id)}`);
  return bare;
}
