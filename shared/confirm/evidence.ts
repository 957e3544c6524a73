/**
 * What a probe's headers say on arrival (pure): the authentication verdicts the receiving Exchange Online stamped,
 * the spam verdict, and the hops with their times. Headers are read with mailauth's parsers (RFC 5322 fields: its
 * `parseHeaders`, copied in header-rows.ts; RFC 8601 Authentication-Results, Received), never with ad-hoc regexes over
 * the verdicts.
 *
 * Which Authentication-Results counts (anything upstream, the sender included, can write one):
 * - Headers are read top-down (a receiver prepends its own above everything it received).
 * - Exchange Online writes its header **without an authserv-id** (`Authentication-Results: spf=pass (sender IP is …)`).
 *   Such a header counts only when it is the topmost one: that is where EOP puts its own; one lower down was written
 *   before Exchange Online saw the message and proves nothing.
 * - A header whose authserv-id is in `trustedAuthservIds` (a filter in front of Exchange Online, a lab MTA) counts
 *   wherever it is: RFC 8601 §5 has a receiver remove forged headers carrying its own id.
 * - The first header that counts is the verdict; every other one is ignored (and counted in `ignored`).
 * - No header that counts (intra-organisation mail, which Exchange Online does not evaluate) gives null verdicts:
 *   "not evaluated", never a failure.
 */

import { isIP } from 'node:net';
import headerParser, { type ArEntry, type ParsedAuthResults } from 'mailauth/lib/parse-dkim-headers.js';
import { getClientAddress, parseReceived } from 'mailauth/lib/parse-received.js';
import { parseHeaderRows } from './header-rows.ts';

export interface SpfVerdict {
  readonly result: string;
  /** The IP the receiver judged (Exchange Online's `sender IP is …` comment, else the antispam report's CIP). */
  readonly ip: string | null;
  readonly mailfrom: string | null;
}

export interface DkimVerdict {
  readonly result: string;
  readonly domain: string | null;
  readonly note: string | null;
}

export interface DmarcVerdict {
  readonly result: string;
  readonly action: string | null;
  readonly headerFrom: string | null;
}

export interface CompauthVerdict {
  readonly result: string;
  readonly reason: string | null;
}

export interface AuthVerdicts {
  /** Which header counted: Exchange Online's (no authserv-id, topmost), a trusted authserv-id's, or none. */
  readonly source: 'exchange-online' | 'trusted' | null;
  readonly authservId: string | null;
  readonly spf: SpfVerdict | null;
  readonly dkim: readonly DkimVerdict[];
  readonly dmarc: DmarcVerdict | null;
  readonly compauth: CompauthVerdict | null;
  /** Authentication-Results headers that did not count. */
  readonly ignored: number;
}

export interface Hop {
  readonly from: string | null;
  readonly by: string | null;
  readonly with: string | null;
  /** ISO 8601 UTC, null when the header's date does not parse. */
  readonly at: string | null;
  /** Milliseconds since the previous hop (oldest first); null for the first or when a time is missing. */
  readonly delayMs: number | null;
}

export interface SpamVerdict {
  /** Spam confidence level (-1..9): X-MS-Exchange-Organization-SCL, else the antispam report's SCL. */
  readonly scl: number | null;
  /** SFV (NSPM, SPM, SKN…), CAT (NONE, SPM, SPOOF…), the connecting IP (CIP), from X-Forefront-Antispam-Report. */
  readonly sfv: string | null;
  readonly cat: string | null;
  readonly connectingIp: string | null;
}

export interface MessageEvidence {
  readonly auth: AuthVerdicts;
  readonly spam: SpamVerdict;
  /** Oldest first, at most {@link MAX_HOPS}. */
  readonly hops: readonly Hop[];
  /** The Message-ID header, without brackets. */
  readonly messageId: string | null;
  /** The X-Relaywatch-Probe header (`tenant=…; probe=…; sent=…`), when present. */
  readonly probeHeader: string | null;
}

export const MAX_HOPS = 20;

export interface EvidenceOptions {
  /** Authserv-ids (lower case) whose headers count anywhere; see the module comment. */
  readonly trustedAuthservIds?: readonly string[];
}

interface Field {
  readonly key: string;
  /** The value, unfolded. */
  readonly value: string;
  readonly line: string;
}

/** The fields of a header block, top first. */
export function headerFields(headers: string): Field[] {
  const block = headers.replace(/\r?\n\r?\n[\s\S]*$/, '');
  if (block.trim() === '') return [];
  return parseHeaderRows(Buffer.from(block, 'utf8'))
    .parsed.filter((r) => r.key !== null)
    .map((r) => {
      const line = r.line.toString('utf8');
      const colon = line.indexOf(':');
      return {
        key: r.key ?? '',
        value: (colon >= 0 ? line.slice(colon + 1) : '').replace(/\r?\n[ \t]+/g, ' ').trim(),
        line,
      };
    });
}

function first(fields: readonly Field[], key: string): string | null {
  return fields.find((f) => f.key === key)?.value ?? null;
}

const METHOD_FIRST = /^\s*(?:\([^)]*\)\s*)*[A-Za-z0-9_.-]+(?:\/\d+)?\s*=/;

function prop(entry: ArEntry | undefined, ptype: string, property: string): string | null {
  const group = entry?.[ptype];
  if (group && typeof group === 'object' && property in group) {
    const v = (group as Record<string, unknown>)[property];
    return typeof v === 'string' && v !== '' ? v : null;
  }
  return null;
}

function plain(entry: ArEntry | undefined, key: string): string | null {
  const v = entry?.[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

function entry(parsed: ParsedAuthResults, method: string): ArEntry | undefined {
  const e = parsed[method];
  return e && typeof e === 'object' && !Array.isArray(e) && 'value' in e ? (e as ArEntry) : undefined;
}

/** The IP in Exchange Online's SPF comment (`sender IP is 40.107.1.2`), checked to be an address. */
function commentIp(comment: string | undefined): string | null {
  const m = comment?.match(/sender IP is ([0-9A-Fa-f:.]+)/i);
  return m?.[1] && isIP(m[1]) ? m[1] : null;
}

function addressOf(text: string | null): string | null {
  return text && isIP(text) ? text : null;
}

function verdictsOf(
  parsed: ParsedAuthResults,
  source: 'exchange-online' | 'trusted',
  authservId: string | null,
  ignored: number,
  fallbackIp: string | null,
): AuthVerdicts {
  const spf = entry(parsed, 'spf');
  const dmarc = entry(parsed, 'dmarc');
  const compauth = entry(parsed, 'compauth');
  const dkim = Array.isArray(parsed.dkim) ? parsed.dkim : [];
  return {
    source,
    authservId,
    spf: spf
      ? {
          result: spf.value.toLowerCase(),
          // Exchange Online: `(sender IP is …)`; Amazon SES: a `client-ip=…` property of the SPF result.
          ip: commentIp(spf.comment) ?? addressOf(plain(spf, 'client-ip')) ?? fallbackIp,
          mailfrom: prop(spf, 'smtp', 'mailfrom'),
        }
      : null,
    dkim: dkim.map((d) => ({
      result: d.value.toLowerCase(),
      domain: prop(d, 'header', 'd') ?? prop(d, 'header', 'i'),
      note: d.comment ?? null,
    })),
    dmarc: dmarc
      ? { result: dmarc.value.toLowerCase(), action: plain(dmarc, 'action'), headerFrom: prop(dmarc, 'header', 'from') }
      : null,
    compauth: compauth ? { result: compauth.value.toLowerCase(), reason: plain(compauth, 'reason') } : null,
    ignored,
  };
}

/** The verdicts of the header that counts (module comment). */
export function authVerdicts(
  fields: readonly Field[],
  options: EvidenceOptions = {},
  fallbackIp: string | null = null,
): AuthVerdicts {
  const trusted = new Set((options.trustedAuthservIds ?? []).map((s) => s.toLowerCase()));
  const headers = fields.filter((f) => f.key === 'authentication-results');
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    const parsed = headerParser(h.line).parsed;
    const noId = METHOD_FIRST.test(h.value);
    const id = noId ? null : (parsed.value?.toLowerCase() ?? null);
    if (noId && i === 0) return verdictsOf(parsed, 'exchange-online', null, headers.length - 1, fallbackIp);
    if (id !== null && trusted.has(id)) return verdictsOf(parsed, 'trusted', id, headers.length - 1, fallbackIp);
  }
  return {
    source: null,
    authservId: null,
    spf: null,
    dkim: [],
    dmarc: null,
    compauth: null,
    ignored: headers.length,
  };
}

/** X-Forefront-Antispam-Report is `KEY:value;KEY:value;…` (Microsoft's format, not RFC 8601). */
function antispamReport(value: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!value) return out;
  for (const part of value.split(';')) {
    const colon = part.indexOf(':');
    if (colon <= 0) continue;
    const key = part.slice(0, colon).trim().toUpperCase();
    if (!out.has(key)) out.set(key, part.slice(colon + 1).trim());
  }
  return out;
}

function sclOf(text: string | null | undefined): number | null {
  if (text === null || text === undefined || !/^-?\d$/.test(text.trim())) return null;
  const n = Number(text.trim());
  return n >= -1 && n <= 9 ? n : null;
}

export function spamVerdict(fields: readonly Field[]): SpamVerdict {
  const report = antispamReport(first(fields, 'x-forefront-antispam-report'));
  const cip = report.get('CIP') ?? null;
  return {
    scl: sclOf(first(fields, 'x-ms-exchange-organization-scl')) ?? sclOf(report.get('SCL')),
    sfv: report.get('SFV') || null,
    cat: report.get('CAT') || null,
    connectingIp: cip && isIP(cip) ? cip : null,
  };
}

function isoOf(date: string | undefined): string | null {
  if (!date) return null;
  const t = Date.parse(date);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** The Received hops, oldest first, with the delay each added (as far as the clocks of the hops agree). */
export function hopsOf(fields: readonly Field[]): Hop[] {
  const received = fields.filter((f) => f.key === 'received').slice(0, MAX_HOPS);
  const hops: Hop[] = [];
  let previous: number | null = null;
  for (const f of received.reverse()) {
    const r = parseReceived(f.line);
    if (!r) continue;
    const at = isoOf(r.timestamp);
    const t = at ? Date.parse(at) : null;
    const client = getClientAddress(r.from);
    const from = r.from ? `${r.from.value}${client ? ` [${client}]` : ''}` : null;
    hops.push({
      from: from?.slice(0, 200) ?? null,
      by: r.by?.value.slice(0, 200) ?? null,
      with: r.with?.value.slice(0, 80) ?? null,
      at,
      delayMs: t !== null && previous !== null ? t - previous : null,
    });
    if (t !== null) previous = t;
  }
  return hops;
}

/** Everything the confirmation records from a header block (see the module comment for the trust rules). */
export function messageEvidence(headers: string, options: EvidenceOptions = {}): MessageEvidence {
  const fields = headerFields(headers);
  const spam = spamVerdict(fields);
  const mid = first(fields, 'message-id');
  return {
    auth: authVerdicts(fields, options, spam.connectingIp),
    spam,
    hops: hopsOf(fields),
    messageId: mid ? mid.replace(/^\s*<|>\s*$/g, '').trim() || null : null,
    probeHeader: first(fields, 'x-relaywatch-probe'),
  };
}
