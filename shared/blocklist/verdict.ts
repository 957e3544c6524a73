/**
 * What a DNSBL answer means (pure). DOMAIN.md §5 and the issue's §2:
 * - NXDOMAIN → clean. NODATA → clean too (see `classify`).
 * - A records in 127.0.0.0/8 → listed, every code decoded; TXT reason kept as untrusted data. For a zone with
 *   `undocumentedCodes: error` only its documented codes are listings; any other 127/8 answer is an error.
 * - An error code (127.255.255.0/24 for every zone, plus the zone's own) → unknown, zone unusable for the run,
 *   even when mixed with listing codes.
 * - Any A outside 127/8 → unknown ("resolver rewrote the answer"), zone unusable.
 * - SERVFAIL, REFUSED, timeout, network error, broken answer → unknown; the zone stays usable.
 * Unknown must never open or close an incident.
 */
import type { DnsResult } from '../ports/dns-resolver.ts';
import { domainTestPoints, TEST_POINTS, type TestPointFamily } from './query-name.ts';
import type { ListingKind, ZoneDefinition } from './registry.ts';

export interface DecodedCode {
  readonly code: string;
  readonly meaning: string;
  readonly kind: ListingKind;
}

export type Verdict =
  | { readonly status: 'listed'; readonly codes: readonly DecodedCode[]; readonly reason?: string }
  | { readonly status: 'clean'; readonly note?: string }
  | { readonly status: 'unknown'; readonly why: string; readonly zoneUnusable: boolean };

/** Longest TXT reason kept (characters). */
export const MAX_REASON_LENGTH = 300;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function octets(text: string): [number, number, number, number] | null {
  const m = IPV4.exec(text.trim());
  if (!m) return null;
  const o = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])] as [number, number, number, number];
  return o.every((n) => n <= 255) ? o : null;
}

function sortCodes(a: string, b: string): number {
  const x = octets(a) ?? [0, 0, 0, 0];
  const y = octets(b) ?? [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** Control characters, C1 controls, bidi overrides, line separators, BOM: dropped from untrusted TXT text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** Untrusted TXT text as data: control and direction characters removed, whitespace collapsed, length capped. */
export function sanitiseReason(text: string): string {
  const clean = text.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...clean];
  return chars.length > MAX_REASON_LENGTH ? `${chars.slice(0, MAX_REASON_LENGTH - 1).join('')}…` : clean;
}

function txtReason(txt: DnsResult<'TXT'> | undefined): string | undefined {
  if (txt === undefined || txt.kind !== 'answer') return undefined;
  const joined = txt.records
    .map((r) => r.data.text)
    .filter((t) => t.trim() !== '')
    .join(' | ');
  const reason = sanitiseReason(joined);
  return reason === '' ? undefined : reason;
}

/** The reason of an error answer, or undefined when `code` is not an error for this zone. */
export function errorReason(zone: ZoneDefinition, code: string): string | undefined {
  const own = zone.errorCodes[code];
  if (own !== undefined) return own;
  if (code.startsWith('127.255.255.')) return `error code ${code}`;
  return undefined;
}

function failureWhy(result: Exclude<DnsResult<'A'>, { kind: 'answer' | 'nodata' | 'nxdomain' }>): string {
  switch (result.kind) {
    case 'servfail':
      return `the resolver failed (SERVFAIL${result.detail ? `: ${result.detail}` : ''})`;
    case 'refused':
      return 'the resolver refused the query (REFUSED)';
    case 'timeout':
      return `no answer in time (${result.detail})`;
    case 'network-error':
      return `the resolver could not be reached (${result.detail})`;
    case 'bad-response':
      return `the resolver sent a broken answer (${result.detail})`;
  }
}

/**
 * A bitmask answer (SURBL, URIBL: the last octet is the sum of list bits) as the documented codes it is made of, or
 * null when the answer is not 127.0.0.x or carries a bit no code documents.
 */
function bitsOf(zone: ZoneDefinition, code: string): DecodedCode[] | null {
  const o = octets(code);
  if (o === null || o[1] !== 0 || o[2] !== 0 || o[3] === 0) return null;
  const out: DecodedCode[] = [];
  let rest = o[3];
  for (let bit = 1; bit <= 128; bit <<= 1) {
    if ((rest & bit) === 0) continue;
    const known = zone.codes[`127.0.0.${bit}`];
    if (!known) return null;
    out.push({ code: `127.0.0.${bit}`, meaning: `${known.meaning} (bit of ${code})`, kind: known.kind });
    rest &= ~bit;
  }
  return out;
}

/**
 * The verdict for one address in one zone, from the A answer and (optionally) the TXT answer for the same name.
 *
 * NODATA (the name exists, without A records) is read as clean with a note: RFC 5782 defines a listing as an A record,
 * rbldnsd answers an unlisted address with NXDOMAIN, and NODATA at a full query name happens only for TXT-only entries
 * or empty non-terminals — never a listing. Unlike an error it says nothing bad about the zone.
 *
 * Messages never contain the query name (it may carry a key).
 */
export function classify(zone: ZoneDefinition, aResult: DnsResult<'A'>, txtResult?: DnsResult<'TXT'>): Verdict {
  switch (aResult.kind) {
    case 'nxdomain':
      return { status: 'clean' };
    case 'nodata':
      return { status: 'clean', note: 'the name exists without A records (NODATA): not a listing' };
    case 'answer':
      break;
    default:
      return { status: 'unknown', why: failureWhy(aResult), zoneUnusable: false };
  }
  const answers = [...new Set(aResult.records.map((r) => r.data.trim()))].sort(sortCodes);
  if (answers.length === 0) return { status: 'clean', note: 'the answer held no A records: not a listing' };

  const outside = answers.filter((a) => octets(a)?.[0] !== 127);
  if (outside.length > 0) {
    const shown = outside.slice(0, 3).map((a) => JSON.stringify(a.slice(0, 45)));
    return {
      status: 'unknown',
      why: `resolver rewrote the answer (${shown.join(', ')}${outside.length > 3 ? ', …' : ''} is outside 127.0.0.0/8)`,
      zoneUnusable: true,
    };
  }

  const errors: string[] = [];
  for (const code of answers) {
    const reason = errorReason(zone, code);
    if (reason !== undefined) errors.push(`${reason} (${code})`);
    else if (code === '127.0.0.1' && zone.codes[code] === undefined)
      errors.push(
        'answered 127.0.0.1, the RFC 5782 "never listed" address: the list is shutting down or wildcarded (127.0.0.1)',
      );
    else if (zone.undocumentedCodes === 'error' && zone.codes[code] === undefined)
      errors.push(`answered ${code}, which the operator does not document as a listing: an error answer`);
  }
  if (errors.length > 0)
    return { status: 'unknown', why: `zone refused the query: ${errors.join('; ')}`, zoneUnusable: true };

  const fallbackKind: ListingKind = zone.kind === 'mixed' ? 'abuse' : zone.kind;
  const codes: DecodedCode[] = answers.flatMap((code): DecodedCode[] => {
    const known = zone.codes[code];
    if (known) return [{ code, meaning: known.meaning, kind: known.kind }];
    const bits = zone.bitmask ? bitsOf(zone, code) : null;
    if (bits !== null) return bits;
    return [{ code, meaning: `unlisted code ${code} (not in the registry)`, kind: fallbackKind }];
  });
  const reason = txtReason(txtResult);
  return reason === undefined ? { status: 'listed', codes } : { status: 'listed', codes, reason };
}

/**
 * What a listing means for the customer, worst first: `abuse` (the address itself), `policy` (e.g. PBL "dynamic IP
 * space"), `neighbourhood` (UCEPROTECT 2/3: the range or ASN; never a listing of the customer). Null when not listed.
 */
export function listingKind(verdict: Verdict): ListingKind | null {
  if (verdict.status !== 'listed') return null;
  const kinds = new Set(verdict.codes.map((c) => c.kind));
  if (kinds.has('abuse')) return 'abuse';
  if (kinds.has('policy')) return 'policy';
  return 'neighbourhood';
}

/** Does this verdict count as a listing of the customer's address (may open an incident)? */
export function isCustomerListing(verdict: Verdict): boolean {
  const kind = listingKind(verdict);
  return kind === 'abuse' || kind === 'policy';
}

export type HealthVerdict = { readonly status: 'usable' } | { readonly status: 'unusable'; readonly reason: string };

/**
 * Can this (resolver, zone) pair be trusted for the run? From the answers for the RFC 5782 test points: the listed
 * one (127.0.0.2 or ::ffff:7f00:2) must be listed, the not-listed one (127.0.0.1 or ::ffff:7f00:1) must not.
 * Any failure to tell (SERVFAIL, timeout…) also makes the zone unusable for the run: we cannot vouch for it.
 */
export function healthVerdict(
  zoneDefinition: ZoneDefinition,
  testPoint2Result: DnsResult<'A'>,
  testPoint1Result: DnsResult<'A'>,
  family: TestPointFamily | 'domain' = 'ipv4',
): HealthVerdict {
  const points = family === 'domain' ? domainTestPoints(zoneDefinition) : TEST_POINTS[family];
  // The test points say whether the zone answers, not which code it gives them: a zone whose undocumented codes are
  // errors (SpamRATS) may answer its listed test point with any code in 127/8.
  const zone: ZoneDefinition =
    zoneDefinition.undocumentedCodes === 'error' ? { ...zoneDefinition, undocumentedCodes: 'listed' } : zoneDefinition;
  // A healthy zone must not answer the never-listed point with anything in 127/8 that is not an error code.
  if (testPoint1Result.kind === 'answer') {
    const listing = testPoint1Result.records
      .map((r) => r.data.trim())
      .filter((a) => octets(a)?.[0] === 127 && errorReason(zone, a) === undefined);
    if (listing.length > 0)
      return {
        status: 'unusable',
        reason: `lists ${points.notListed}: the zone lists everything (dead or wildcarded)`,
      };
  }
  for (const result of [testPoint2Result, testPoint1Result]) {
    if (result.kind !== 'answer') continue;
    const v = classify(zone, result);
    if (v.status === 'unknown') return { status: 'unusable', reason: `refused: ${v.why}` };
  }
  for (const result of [testPoint2Result, testPoint1Result]) {
    if (result.kind === 'answer' || result.kind === 'nxdomain' || result.kind === 'nodata') continue;
    const v = classify(zone, result);
    if (v.status === 'unknown')
      return { status: 'unusable', reason: `${result.kind === 'refused' ? 'refused' : 'unknown'}: ${v.why}` };
  }
  if (classify(zone, testPoint2Result).status !== 'listed')
    return { status: 'unusable', reason: `does not list ${points.listed}` };
  return { status: 'usable' };
}
