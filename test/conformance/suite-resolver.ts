/**
 * The OpenSPF RFC 7208 test suite (rfc7208-tests.yml) as data, and a DnsResolver built from one scenario's `zonedata`.
 *
 * The zone semantics follow the suite's reference driver (pyspf's test/testspf.py, `getrdata` and `DNSLookup`), since
 * the expected results were written against it:
 *
 * - `SPF:` (type 99) records are never answered as SPF: we never ask for type SPF (RFC 7208 §3.1/§4.4 removed it).
 *   But, as the suite's header says, every section except "Selecting records" writes its policies as `SPF:` and relies
 *   on the driver copying them to TXT. The driver does so only for a name with no `TXT:` entry at all (a `TXT: NONE`
 *   entry counts as one and means "no TXT records"). "Selecting records" uses exactly that to check that type SPF is
 *   ignored (`spfonly` has `SPF` + `TXT: NONE` and expects none; `spfoverride` expects the TXT policy to win).
 *   The copied records come after all written entries, so after a `TIMEOUT` (see below).
 * - `TIMEOUT`: a query for type T gets the T records listed before the `TIMEOUT` entry if there are any, and times out
 *   otherwise (`spftimeout` has `TXT` then `TIMEOUT`: TXT answers, everything else times out).
 * - `TXT: [ "a", "b" ]` (and `SPF: [...]`) is one record of several character-strings; `SPF: [ ]` is a record with
 *   no strings at all (`null-text`).
 * - `MX: [10, host]`, `A`, `AAAA`, `PTR`, `CNAME`: as written. A listed name without records of the asked type is
 *   NODATA, an unlisted name NXDOMAIN, names are case-insensitive and CNAMEs are followed (ZoneFake does those).
 *
 * Anything else in the file is rejected, so a new form cannot slip through as "no records".
 */

import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { SpfResult } from '../../shared/adapters/spf/mailauth-spf.ts';
import { type DnsResolver, RECORD_TYPES, type RecordType } from '../../shared/ports/dns-resolver.ts';
import { type FakeEntry, type FakeZone, ZoneFake } from '../support/zone-fake.ts';

export interface SuiteTest {
  /** `<section> / <test name>` */
  readonly id: string;
  readonly section: string;
  readonly name: string;
  readonly spec: string;
  readonly host: string;
  /** May be empty: then the HELO identity is checked. */
  readonly mailfrom: string;
  readonly helo: string;
  /** Acceptable results, the preferred one first. */
  readonly result: readonly SpfResult[];
  /** The expected explanation for a fail; `DEFAULT` means the implementation's own (no `exp=` text). */
  readonly explanation?: string;
  readonly zonedata: Readonly<Record<string, unknown>>;
}

/** One zonedata entry after parsing, in file order. */
type SuiteRecord =
  | { readonly type: 'TIMEOUT' }
  | { readonly type: 'TXT'; readonly chunks: readonly string[] | 'NONE' }
  | { readonly type: 'SPF'; readonly chunks: readonly string[] }
  | { readonly type: 'MX'; readonly priority: number; readonly exchange: string }
  | { readonly type: 'A' | 'AAAA' | 'PTR' | 'CNAME'; readonly value: string };

function fail(where: string, what: string): never {
  throw new Error(`rfc7208-tests.yml: ${where}: ${what}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseRecord(where: string, raw: unknown): SuiteRecord {
  if (raw === 'TIMEOUT') return { type: 'TIMEOUT' };
  if (!isRecord(raw) || Object.keys(raw).length !== 1) fail(where, `unsupported record ${JSON.stringify(raw)}`);
  const [type, value] = Object.entries(raw)[0]!;
  switch (type) {
    case 'TXT':
    case 'SPF': {
      let chunks: readonly string[];
      if (typeof value === 'string') chunks = [value];
      else if (Array.isArray(value) && value.every((s) => typeof s === 'string')) chunks = value;
      else return fail(where, `bad ${type} data ${JSON.stringify(value)}`);
      if (type === 'SPF') {
        if (value === 'NONE') fail(where, 'SPF: NONE is not a form the driver defines');
        return { type, chunks };
      }
      return { type, chunks: value === 'NONE' ? 'NONE' : chunks };
    }
    case 'MX':
      if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string') {
        return { type, priority: value[0], exchange: value[1] };
      }
      return fail(where, `bad MX data ${JSON.stringify(value)}`);
    case 'A':
    case 'AAAA':
    case 'PTR':
    case 'CNAME':
      if (typeof value === 'string') return { type, value };
      return fail(where, `bad ${type} data ${JSON.stringify(value)}`);
    default:
      return fail(where, `unsupported record type ${type}`);
  }
}

function toFakeEntry(r: Exclude<SuiteRecord, { type: 'TIMEOUT' | 'SPF' }>): FakeEntry | null {
  switch (r.type) {
    case 'TXT':
      return r.chunks === 'NONE' ? null : { TXT: r.chunks };
    case 'MX':
      return { MX: [r.priority, r.exchange] };
    case 'A':
      return { A: r.value };
    case 'AAAA':
      return { AAAA: r.value };
    case 'PTR':
      return { PTR: r.value };
    case 'CNAME':
      return { CNAME: r.value };
  }
}

/** The entries ZoneFake serves for one name, per the driver semantics in the module comment. */
export function entriesFor(name: string, rawRecords: unknown): FakeEntry[] {
  if (!Array.isArray(rawRecords)) fail(`zonedata ${name}`, 'records must be a list');
  const written = rawRecords.map((r: unknown) => parseRecord(`zonedata ${name}`, r));
  const hasTxt = written.some((r) => r.type === 'TXT');
  const copied: SuiteRecord[] = hasTxt
    ? []
    : written.flatMap((r) => (r.type === 'SPF' ? [{ type: 'TXT' as const, chunks: r.chunks }] : []));

  const entries: FakeEntry[] = [];
  const answered = new Set<RecordType>();
  for (const r of [...written, ...copied]) {
    if (r.type === 'TIMEOUT') {
      // Types with records before the TIMEOUT answer with those; every other question times out.
      for (const type of RECORD_TYPES) if (!answered.has(type)) entries.push({ fail: 'timeout', type });
      return entries;
    }
    if (r.type === 'SPF') continue; // type 99: never asked
    const entry = toFakeEntry(r);
    if (entry === null) continue;
    entries.push(entry);
    answered.add(r.type);
  }
  return entries;
}

export function zoneFromZonedata(zonedata: Readonly<Record<string, unknown>>): FakeZone {
  const zone: Record<string, readonly FakeEntry[]> = {};
  for (const [name, records] of Object.entries(zonedata)) {
    // Names are case-insensitive: two spellings of one name would be merged by the driver's dict; none exist.
    const key = name.toLowerCase();
    if (key in zone) fail(`zonedata ${name}`, 'listed twice');
    zone[key] = entriesFor(name, records);
  }
  return zone;
}

/** A DnsResolver answering from one scenario's zonedata. */
export function makeSuiteResolver(zonedata: Readonly<Record<string, unknown>>): DnsResolver {
  return new ZoneFake(zoneFromZonedata(zonedata));
}

function str(where: string, v: unknown): string {
  if (typeof v !== 'string') fail(where, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** The results the suite may expect (RFC 7208 §2.6); `satisfies` keeps them within what our evaluator reports. */
const RESULTS = [
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'permerror',
  'temperror',
] as const satisfies readonly SpfResult[];

function isSpfResult(v: unknown): v is SpfResult {
  return typeof v === 'string' && (RESULTS as readonly string[]).includes(v);
}

/** The tests of a parsed YAML stream, in file order. Throws on anything that does not look like the suite. */
export function suiteTests(documents: readonly unknown[]): SuiteTest[] {
  const out: SuiteTest[] = [];
  for (const [i, doc] of documents.entries()) {
    const where = `document ${i + 1}`;
    if (!isRecord(doc)) fail(where, 'not a mapping');
    const section = str(`${where} description`, doc.description);
    const { tests, zonedata } = doc;
    if (!isRecord(tests)) fail(where, 'tests is not a mapping');
    if (!isRecord(zonedata)) fail(where, 'zonedata is not a mapping');
    zoneFromZonedata(zonedata); // validate every name, including ones no test reaches
    for (const [name, t] of Object.entries(tests)) {
      const tw = `${section} / ${name}`;
      if (!isRecord(t)) fail(tw, 'not a mapping');
      const result = Array.isArray(t.result) ? t.result : [t.result];
      if (result.length === 0 || !result.every(isSpfResult)) fail(tw, `bad result ${JSON.stringify(t.result)}`);
      out.push({
        id: tw,
        section,
        name,
        spec: String(t.spec ?? ''),
        host: str(`${tw} host`, t.host),
        mailfrom: str(`${tw} mailfrom`, t.mailfrom),
        helo: str(`${tw} helo`, t.helo),
        result,
        ...(t.explanation === undefined ? {} : { explanation: str(`${tw} explanation`, t.explanation) }),
        zonedata,
      });
    }
  }
  return out;
}

/** The suite's 203 tests, from rfc7208-tests.yml beside this file. */
export function loadSuite(): SuiteTest[] {
  // The suite is specified as latin-1 (its non-ASCII test data is written as \x escapes).
  const parsed = parseAllDocuments(readFileSync(new URL('rfc7208-tests.yml', import.meta.url), 'latin1'));
  if (!Array.isArray(parsed)) throw new Error('rfc7208-tests.yml: empty YAML stream');
  for (const doc of parsed) {
    if (doc.errors.length > 0) throw new Error(`rfc7208-tests.yml: ${doc.errors.map((e) => e.message).join('; ')}`);
  }
  return suiteTests(parsed.map((doc) => doc.toJS()));
}
