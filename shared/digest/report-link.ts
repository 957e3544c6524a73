/**
 * The durable link to a weekly report page: `/v1/reports/<week>?exp=<unix seconds>&sig=<base64url HMAC-SHA256>`,
 * answered by the report-link function (functions/report-link/) with a 302 to a freshly pre-signed S3 GET. The link's
 * lifetime is the token's, not the signing credentials' (a SigV4 URL signed by a Lambda role dies with the role's
 * temporary credentials, hours later, whatever `X-Amz-Expires` said).
 *
 * The MAC covers a canonical string naming the format version, the object key and the expiry, so neither the week
 * nor the expiry can be changed without the key; comparison is constant-time (`crypto.timingSafeEqual`). The object
 * key is always `reports/<YYYY-Www>.html`, derived from a week id that must match `YYYY-Www` exactly: no other key
 * (and no path traversal) can be reached through a link. Pure: the clock is the caller's.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The route the HTTP API answers (the week is its one path parameter). */
import { REPORT_LINK_ROUTE } from '../deploy/constants.ts';

export { REPORT_LINK_ROUTE };
/** The HMAC key is at least this long (the CDK-generated key is 48 characters). */
export const MIN_LINK_SECRET_LENGTH = 32;
/** The key prefix of the report pages (the only objects a link can name). */
const REPORT_PREFIX = 'reports/';
const WEEK = /^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$/;
const SIG = /^[A-Za-z0-9_-]{43}$/;
const EXP = /^[1-9]\d{0,11}$/;

export class ReportLinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportLinkError';
  }
}

/** `reports/<week>.html` for a well-formed ISO week id (`2026-W48`), else null. */
export function reportObjectKey(week: string): string | null {
  return WEEK.test(week) ? `${REPORT_PREFIX}${week}.html` : null;
}

function mac(objectKey: string, exp: number, secret: string): Buffer {
  return createHmac('sha256', secret).update(`relaywatch-report-link/v1\n${objectKey}\n${exp}`).digest();
}

function checkSecret(secret: string): void {
  if (secret.length < MIN_LINK_SECRET_LENGTH) {
    throw new ReportLinkError(`the report link key is shorter than ${MIN_LINK_SECRET_LENGTH} characters`);
  }
}

export interface ReportLinkRequest {
  /** The ISO week id (`2026-W48`). */
  readonly week: string;
  /** When the link stops working. */
  readonly expiresAt: Date;
}

/** The path and query of the link (prefix it with the API's base URL). Throws ReportLinkError for bad input. */
export function signReportLink(request: ReportLinkRequest, secret: string): string {
  checkSecret(secret);
  const key = reportObjectKey(request.week);
  if (key === null) throw new ReportLinkError(`not an ISO week id (YYYY-Www): ${JSON.stringify(request.week)}`);
  const exp = Math.floor(request.expiresAt.getTime() / 1000);
  if (!Number.isSafeInteger(exp) || exp < 1) throw new ReportLinkError('the link expiry is not a valid time');
  const sig = mac(key, exp, secret).toString('base64url');
  return `/v1/reports/${request.week}?exp=${exp}&sig=${sig}`;
}

export type ReportLinkVerdict =
  | { readonly ok: true; readonly objectKey: string; readonly week: string; readonly expiresAt: Date }
  /** `malformed-week`: the path names no week (404); `bad-signature`/`expired`: refused (403, same answer). */
  | { readonly ok: false; readonly reason: 'malformed-week' | 'bad-signature' | 'expired' };

export interface ReportLinkInput {
  readonly week: string | undefined;
  readonly exp: string | undefined;
  readonly sig: string | undefined;
}

/** Check a link's week, expiry and signature against `now`; the signature is checked before the expiry. */
export function verifyReportLink(input: ReportLinkInput, secret: string, now: Date): ReportLinkVerdict {
  checkSecret(secret);
  const objectKey = input.week === undefined ? null : reportObjectKey(input.week);
  if (objectKey === null || input.week === undefined) return { ok: false, reason: 'malformed-week' };
  if (input.exp === undefined || input.sig === undefined || !EXP.test(input.exp) || !SIG.test(input.sig)) {
    return { ok: false, reason: 'bad-signature' };
  }
  const exp = Number(input.exp);
  const given = Buffer.from(input.sig, 'base64url');
  const expected = mac(objectKey, exp, secret);
  // The re-encoding check refuses the other spellings of the same bytes (the unused low bits of the last character).
  if (given.length !== expected.length || given.toString('base64url') !== input.sig) {
    return { ok: false, reason: 'bad-signature' };
  }
  if (!timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }
  if (now.getTime() >= exp * 1000) return { ok: false, reason: 'expired' };
  return { ok: true, objectKey, week: input.week, expiresAt: new Date(exp * 1000) };
}
