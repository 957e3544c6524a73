/**
 * Turns what a probe saw (an SMTP reply at some stage, or a transport failure) into a diagnosis: a stable id, a
 * severity, what it means and what to do. Pure: no I/O, never throws for what it observes.
 *
 * Replies are untrusted text. They are capped (`REPLY_KEEP_CHARS`), control and bidi characters are replaced, and the
 * text is only ever matched against fixed, linear regular expressions (see `diagnosis-table.ts`).
 */
import { canonicalIp } from '../domain/ip.ts';
import {
  CATALOGUE,
  type CodeMatch,
  type DiagnosisId,
  type EnhancedMatch,
  RULES,
  type Rule,
} from './diagnosis-table.ts';

export { DIAGNOSIS_IDS, type DiagnosisId } from './diagnosis-table.ts';

export type ProbeStage = 'connect' | 'banner' | 'ehlo' | 'starttls' | 'auth' | 'mail' | 'rcpt' | 'data' | 'data-end';
export type TransportFailure =
  | 'dns'
  | 'refused'
  | 'timeout'
  | 'tls-handshake'
  | 'certificate'
  /** STARTTLS is required by the probe but the server did not offer it. */
  | 'starttls-not-offered'
  /** The server broke the protocol: closed the connection mid-session, an oversized or garbled reply. */
  | 'protocol'
  /** No OAuth access token could be obtained (submission with XOAUTH2), so no connection was made. */
  | 'token';
export type DiagnosisSeverity = 'info' | 'warning' | 'error';

export const PROBE_STAGES: readonly ProbeStage[] = [
  'connect',
  'banner',
  'ehlo',
  'starttls',
  'auth',
  'mail',
  'rcpt',
  'data',
  'data-end',
];

export interface SmtpReply {
  /** Basic reply code (RFC 5321), e.g. 550. */
  readonly code: number;
  /** RFC 3463 enhanced status code of the reply itself (`class.subject.detail`), or null when it has none. */
  readonly enhanced: string | null;
  /** The reply text: every line without its code and enhanced code, joined with a space. Capped. */
  readonly text: string;
  /** The raw lines as received (sanitised), capped in total length. */
  readonly lines: readonly string[];
  /** True when the raw reply was longer than what is kept. */
  readonly truncated: boolean;
}

export interface Diagnosis {
  readonly id: DiagnosisId;
  readonly severity: DiagnosisSeverity;
  readonly title: string;
  readonly explanation: string;
  readonly remediation: readonly string[];
  readonly delistable: boolean;
  readonly retryable: boolean;
  /** A valid IPv4/IPv6 address the reply names in brackets (canonical form), e.g. Microsoft's 5.7.606 text. */
  readonly ip: string | null;
  readonly reply: SmtpReply | null;
  readonly stage: ProbeStage;
  readonly failure: TransportFailure | null;
  /** For `ok` after the final dot: Exchange's InternalId (or another MTA's "queued as" id). */
  readonly queueId: string | null;
  /** For `ok` after the final dot: the message id Exchange echoes in `250 2.6.0 <id> …`. */
  readonly messageId: string | null;
  /** The caller's detail for a transport failure (e.g. the socket error), sanitised and capped. */
  readonly detail: string | null;
}

export interface ClassifyInput {
  readonly stage: ProbeStage;
  readonly reply?: SmtpReply | null;
  readonly failure?: TransportFailure;
  readonly detail?: string;
}

/** How much of a reply is kept (text, and lines in total). */
export const REPLY_KEEP_CHARS = 2048;
/** How much of a raw reply is looked at at all. */
const RAW_SCAN_CHARS = 8192;
const MAX_LINES = 64;
const DETAIL_KEEP_CHARS = REPLY_KEEP_CHARS;

// C0/C1 controls (except CR/LF, handled as line breaks, and TAB), DEL, and bidi/zero-width formatting characters.
const UNSAFE_CHARS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

function sanitise(text: string): string {
  return text.replace(UNSAFE_CHARS, '\ufffd');
}

const LINE_START = /^(\d{3})(?:([ -])(.*))?$/s;
const ENHANCED_AT_START = /^([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)\s*/;
/** A basic code followed by an enhanced code anywhere (a relay quoting Exchange's reply). */
const EMBEDDED_PAIR = /(?<![\w.])([2-5]\d\d)[ -]([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/g;
/** A basic code after ": " or "said: " with no enhanced code (e.g. `…rejected: 535 Authentication failed`). */
const EMBEDDED_BASIC = /(?:^|:\s)([2-5]\d\d)(?=[ -]|$)/;

/**
 * Parses a raw SMTP reply (one or more lines, CRLF or LF). Accepts replies a relay wrapped in its own words by finding
 * the first `NNN x.y.z` pair in the text. Returns null when no reply code can be found.
 */
export function parseReply(raw: string): SmtpReply | null {
  if (typeof raw !== 'string' || raw.length === 0) return null;
  const truncatedScan = raw.length > RAW_SCAN_CHARS;
  const scanned = sanitise(raw.slice(0, RAW_SCAN_CHARS));
  const rawLines = scanned
    .split(/\r\n|\r|\n/)
    .filter((l) => l.trim() !== '')
    .slice(0, MAX_LINES);
  if (rawLines.length === 0) return null;

  const kept: string[] = [];
  let keptChars = 0;
  let truncated = truncatedScan || scanned.split(/\r\n|\r|\n/).filter((l) => l.trim() !== '').length > MAX_LINES;
  for (const line of rawLines) {
    if (keptChars + line.length > REPLY_KEEP_CHARS) {
      kept.push(line.slice(0, Math.max(0, REPLY_KEEP_CHARS - keptChars)));
      truncated = true;
      break;
    }
    kept.push(line);
    keptChars += line.length;
  }

  const first = LINE_START.exec(rawLines[0]!);
  let code: number;
  let enhanced: string | null = null;
  let text: string;
  if (first) {
    code = Number(first[1]);
    const parts: string[] = [];
    for (const line of rawLines) {
      const m = LINE_START.exec(line);
      // A line of a multi-line reply repeats the code; a line without one is a stray continuation: keep it whole.
      let rest = m && Number(m[1]) === code ? (m[3] ?? '') : line;
      const e = ENHANCED_AT_START.exec(rest);
      if (e) {
        // The first enhanced code (normally on the first line) is the reply's; lines repeating it are stripped.
        if (enhanced === null) enhanced = e[1]!;
        if (e[1] === enhanced) rest = rest.slice(e[0].length);
      }
      const trimmed = rest.trim();
      if (trimmed !== '') parts.push(trimmed);
    }
    text = parts.join(' ');
  } else {
    const joined = rawLines.map((l) => l.trim()).join(' ');
    EMBEDDED_PAIR.lastIndex = 0;
    const pair = EMBEDDED_PAIR.exec(joined);
    if (pair) {
      code = Number(pair[1]);
      enhanced = pair[2]!;
      text = joined.slice(pair.index + pair[0].length).trim();
    } else {
      const basic = EMBEDDED_BASIC.exec(joined);
      if (!basic) return null;
      code = Number(basic[1]);
      text = joined.slice(basic.index + basic[0].length).trim();
    }
  }
  if (text.length > REPLY_KEEP_CHARS) {
    text = text.slice(0, REPLY_KEEP_CHARS);
    truncated = true;
  }
  return { code, enhanced, text, lines: kept, truncated };
}

interface CodePair {
  readonly code: number;
  readonly enhanced: readonly [number, number, number] | null;
}

function splitEnhanced(e: string | null): readonly [number, number, number] | null {
  if (e === null) return null;
  const m = /^([245])\.(\d{1,3})\.(\d{1,3})$/.exec(e);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** The reply's own code pair first, then the pairs quoted in its text. */
function codePairs(reply: SmtpReply): CodePair[] {
  const pairs: CodePair[] = [{ code: reply.code, enhanced: splitEnhanced(reply.enhanced) }];
  for (const m of reply.text.matchAll(EMBEDDED_PAIR)) {
    if (pairs.length >= 16) break;
    pairs.push({ code: Number(m[1]), enhanced: splitEnhanced(m[2]!) });
  }
  return pairs;
}

function codeMatches(match: CodeMatch, code: number): boolean {
  return typeof match === 'number' ? code === match : code >= match[0] && code <= match[1];
}

function enhancedMatches(matches: readonly EnhancedMatch[], e: readonly [number, number, number]): boolean {
  return matches.some((m) => m.cls === e[0] && m.subject === e[1] && e[2] >= m.lo && e[2] <= m.hi);
}

function ruleMatches(rule: Rule, stage: ProbeStage, reply: SmtpReply, pairs: readonly CodePair[]): boolean {
  if (rule.failure !== undefined) return false;
  if (rule.stages && !rule.stages.includes(stage)) return false;
  if (rule.text && !rule.text.test(reply.text)) return false;
  const candidates = rule.ownCodeOnly ? pairs.slice(0, 1) : pairs;
  return candidates.some(
    (p) =>
      (rule.code === undefined || codeMatches(rule.code, p.code)) &&
      (rule.enhanced === undefined || (p.enhanced !== null && enhancedMatches(rule.enhanced, p.enhanced))),
  );
}

const BRACKETED_IP = /\[(?:ipv6:)?([0-9a-f:.]{2,45})\]/gi;
const IP_CONTEXT = /(?:\bip|\bserver|\baddress|\bfrom)\s*$/i;

/** A valid IP named in brackets: one introduced by "IP", "server", "address" or "from" first, else the last one. */
export function quotedIp(text: string): string | null {
  let preferred: string | null = null;
  let last: string | null = null;
  for (const m of text.matchAll(BRACKETED_IP)) {
    const ip = canonicalIp(m[1]!);
    if (ip === null) continue;
    last = ip;
    if (preferred === null && IP_CONTEXT.test(text.slice(Math.max(0, m.index - 16), m.index))) preferred = ip;
  }
  return preferred ?? last;
}

function queueIds(reply: SmtpReply): { queueId: string | null; messageId: string | null } {
  const internal = /\[internalid=(\d{1,32})\b/i.exec(reply.text);
  const queuedAs = /\bqueued as ([0-9a-z]{4,64})\b/i.exec(reply.text);
  const msgId = reply.enhanced === '2.6.0' ? /^<([^<>\s]{1,250})>/.exec(reply.text) : null;
  return { queueId: internal?.[1] ?? queuedAs?.[1] ?? null, messageId: msgId?.[1] ?? null };
}

function cappedDetail(detail: string | undefined): string | null {
  if (typeof detail !== 'string' || detail === '') return null;
  return sanitise(detail.slice(0, DETAIL_KEEP_CHARS));
}

function isStage(stage: unknown): stage is ProbeStage {
  return typeof stage === 'string' && (PROBE_STAGES as readonly string[]).includes(stage);
}

/** The cause-specific text for the first enhanced code of the reply (its own, then quoted ones) that has one. */
function causeOf<T>(causes: { readonly [enhanced: string]: T }, reply: SmtpReply): T | null {
  for (const p of codePairs(reply)) {
    if (p.enhanced === null) continue;
    const key = p.enhanced.join('.');
    const hit = Object.hasOwn(causes, key) ? causes[key] : undefined;
    if (hit !== undefined) return hit;
  }
  return null;
}

/** The diagnosis for a stage's reply or transport failure. Never throws; anything unrecognised is `unclassified`. */
export function classify(input: ClassifyInput): Diagnosis {
  const stage: ProbeStage = isStage(input.stage) ? input.stage : 'connect';
  const reply = input.reply ?? null;
  const failure = input.failure ?? null;
  const detail = cappedDetail(input.detail);

  let id: DiagnosisId = 'unclassified';
  if (failure !== null) {
    id = RULES.find((r) => r.failure === failure)?.id ?? 'unclassified';
  } else if (reply !== null) {
    const pairs = codePairs(reply);
    id = RULES.find((r) => ruleMatches(r, stage, reply, pairs))?.id ?? 'unclassified';
  }

  const entry = CATALOGUE[id];
  const ip = reply !== null ? quotedIp(reply.text) : null;
  let severity = entry.severity;
  let retryable = entry.retryable;
  if (id === 'unclassified') {
    const transient = reply !== null && reply.code >= 400 && reply.code < 500;
    severity = transient || reply === null ? 'warning' : 'error';
    retryable = transient;
  }
  const ids = id === 'ok' && stage === 'data-end' && reply !== null ? queueIds(reply) : null;
  const cause = reply !== null && entry.causes ? causeOf(entry.causes, reply) : null;
  const fill = (text: string) => text.replaceAll('{ip}', ip ?? 'the sending IP');
  return {
    id,
    severity,
    title: entry.title,
    explanation: fill(cause?.explanation ?? entry.explanation),
    remediation: (cause?.remediation ?? entry.remediation).map(fill),
    delistable: entry.delistable,
    retryable,
    ip,
    reply,
    stage,
    failure,
    queueId: ids?.queueId ?? null,
    messageId: ids?.messageId ?? null,
    detail,
  };
}

/** Parse and classify in one step (a raw reply that has no reply code at all is `unclassified`). */
export function classifyRaw(stage: ProbeStage, raw: string): Diagnosis {
  const reply = parseReply(raw);
  if (reply !== null) return classify({ stage, reply });
  return classify({ stage, detail: raw });
}
