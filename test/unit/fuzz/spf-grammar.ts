/**
 * SPF record generators for the fuzz tests: a grammar of RFC 7208 §12 (every mechanism, qualifier, CIDR form, macro
 * and modifier, valid and broken), mutations of real-world-like records (byte flips, truncation, duplicated terms,
 * splices) and random TXT character-string boundaries.
 */
import type { Rng } from '../../support/prng.ts';

export interface GrammarOptions {
  /** Names the record may point at (include/redirect/a/mx/exists targets), so the zone can give them content. */
  readonly names: readonly string[];
  /** Probability that a generated piece is deliberately malformed. */
  readonly broken: number;
  /** Probability that a domain-spec uses macros. */
  readonly macros: number;
  /** Addresses the record may authorise (relay IPs are drawn from these). */
  readonly ips: readonly string[];
}

const LABEL_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

export function label(r: Rng, min = 1, max = 10): string {
  const n = r.int(min, max);
  let s = LABEL_CHARS[r.int(0, 25)]!;
  for (let i = 1; i < n; i++) s += r.chance(0.08) && i < n - 1 ? '-' : LABEL_CHARS[r.int(0, 35)]!;
  return s;
}

export function hostname(r: Rng): string {
  const parts = Array.from({ length: r.int(1, 3) }, () => label(r));
  return `${parts.join('.')}.${r.pick(['example', 'example.com', 'example.net', 'test', 'xn--zckzah'])}`;
}

function octet(r: Rng): number {
  return r.int(0, 255);
}

export function testNetIp(r: Rng): string {
  return `${r.pick(['192.0.2', '198.51.100', '203.0.113'])}.${octet(r)}`;
}

export function ipv4(r: Rng, broken: number): string {
  if (r.chance(broken)) {
    return r.pick([
      '256.1.1.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.04',
      'a.b.c.d',
      '1..2.3',
      '',
      '-1.2.3.4',
      '1.2.3.255x',
      '999.999.999.999',
      '1.2.3.4:25',
      '0x7f.0.0.1',
      '1.2.3.4.',
      '١.٢.٣.٤',
    ]);
  }
  return r.chance(0.8) ? testNetIp(r) : `${octet(r)}.${octet(r)}.${octet(r)}.${octet(r)}`;
}

export function ipv6(r: Rng, broken: number): string {
  if (r.chance(broken)) {
    return r.pick([
      '2001:db8:::1',
      '1:2:3:4:5:6:7:8:9',
      '2001:db8::g',
      '::1.2.3.04',
      '::1.2.3',
      'fe80::1%eth0',
      '12345::1',
      ':1',
      '1:',
      '1::2::3',
      '::ffff:1.2.3.256',
      '',
      '2001:db8:0:0:0:0:0:0:1',
      '1:2:3:4:5:6:7:1.2.3.4',
      '[2001:db8::1]',
      '2001:0db8:0000:0000:0000:0000:0000:00001',
    ]);
  }
  const h = () => r.int(0, 0xffff).toString(16);
  const v = r.weighted<string>([
    [5, () => `2001:db8::${h()}`],
    [2, () => `2001:db8:${h()}:${h()}:${h()}:${h()}:${h()}:${h()}`],
    [1, () => '::'],
    [1, () => '::1'],
    [1, () => `::ffff:${testNetIp(r)}`],
    [1, () => `2001:db8::${testNetIp(r)}`],
    [1, () => `2a01:111:f400::`],
    [1, () => `1:2:3:4:5:6:7::`],
  ]);
  return r.chance(0.2) ? v.toUpperCase() : v;
}

function cidr(r: Rng, max: number, broken: number): string {
  if (r.chance(broken)) {
    return r.pick([`${max + 1}`, `${max + 10}`, '999', `0${r.int(1, 9)}`, '', 'x', '-1', '1e1', '+24', '00', '2 4']);
  }
  return `${r.chance(0.3) ? max : r.int(0, max)}`;
}

const MACRO_LETTERS = 'slodiphv';
const EXP_LETTERS = 'crt';
const DELIMITERS = '.-+,/_=';

export function macroExpand(r: Rng, broken: number, expLetters: boolean): string {
  if (r.chance(broken)) {
    return r.pick([
      '%{z}',
      '%{d0}',
      '%{c}',
      '%{r}',
      '%',
      '%{',
      '%{d',
      '%x',
      '%{}',
      '%{dd}',
      '%{d1r+-.,/_=x}',
      '%{ d}',
      '%{d-1}',
      '%{d00}',
      '%%%',
    ]);
  }
  return r.weighted<string>([
    [1, () => r.pick(['%%', '%_', '%-'])],
    [
      6,
      () => {
        const letters = expLetters ? MACRO_LETTERS + EXP_LETTERS : MACRO_LETTERS;
        let letter = letters[r.int(0, letters.length - 1)]!;
        if (r.chance(0.2)) letter = letter.toUpperCase();
        const digits = r.chance(0.3) ? `${r.int(1, 130)}` : '';
        const rev = r.chance(0.3) ? r.pick(['r', 'R']) : '';
        let delims = '';
        if (r.chance(0.25)) for (let i = r.int(1, 3); i > 0; i--) delims += DELIMITERS[r.int(0, DELIMITERS.length - 1)];
        return `%{${letter}${digits}${rev}${delims}}`;
      },
    ],
  ]);
}

/** A macro-string followed by a domain-end (RFC 7208 §7.1), optionally broken. */
function macroDomainSpec(r: Rng, broken: number): string {
  const parts: string[] = [];
  for (let i = r.int(0, 3); i > 0; i--) {
    parts.push(r.chance(0.5) ? macroExpand(r, broken, false) : label(r));
    parts.push('.');
  }
  if (r.chance(0.5)) parts.push(macroExpand(r, broken, false));
  else parts.push(hostname(r));
  return parts.join('');
}

const BROKEN_DOMAINS = [
  'example',
  'foo..example.com',
  `${'x'.repeat(64)}.example.com`,
  `${'x'.repeat(63)}.example.com`,
  '.example.com',
  'foo.123',
  'foo.-com',
  'foo.com-',
  'foo.c_m',
  'foo:bar/baz.example.com',
  'foo/bar.example.com',
  'foo.com%%_',
  'foo%%{d}',
  'foo.com%%',
  '%{d}}',
  'foo.com/24',
  'x.é.com',
  'münchen.example',
  `${Array.from({ length: 70 }, (_, i) => `l${i}`).join('.')}.example.com`,
  '',
  'foo.com..',
  'foo.com.',
  'FOO.Example.COM',
  'foo.example.com:8080',
  '_spf.example.com',
  'foo bar.example.com',
  '*.example.com',
  'foo.example.c0m',
  'foo.example.1a',
  'foo.example.a-',
  'foo.example.xn--p1ai',
];

export function domainSpec(r: Rng, opts: GrammarOptions): string {
  if (r.chance(opts.broken)) return r.pick(BROKEN_DOMAINS);
  if (r.chance(opts.macros)) return macroDomainSpec(r, opts.broken);
  return r.weighted<string>([
    [opts.names.length > 0 ? 8 : 0, () => r.pick(opts.names)],
    [3, () => hostname(r)],
    [1, () => `${r.pick(opts.names.length > 0 ? opts.names : ['example.com'])}.`],
    [1, () => r.pick(opts.names.length > 0 ? opts.names : ['example.com']).toUpperCase()],
  ]);
}

function qualifier(r: Rng, broken: number): string {
  if (r.chance(broken * 0.3)) return r.pick(['!', '++', '+-', '*', '=']);
  return r.weighted<string>([
    [12, () => ''],
    [2, () => '+'],
    [3, () => '-'],
    [3, () => '~'],
    [1, () => '?'],
  ]);
}

function mechName(r: Rng, name: string): string {
  if (r.chance(0.05)) return name.toUpperCase();
  if (r.chance(0.03)) return name.charAt(0).toUpperCase() + name.slice(1);
  return name;
}

export function mechanism(r: Rng, opts: GrammarOptions): string {
  const b = opts.broken;
  const q = qualifier(r, b);
  return r.weighted<string>([
    [2, () => `${q}${mechName(r, 'all')}${r.chance(b * 0.3) ? r.pick([':x', '/24', ':', '=1']) : ''}`],
    [
      6,
      () => {
        if (r.chance(b * 0.3)) return `${q}${mechName(r, 'include')}${r.pick(['', ':', '=x.example.com'])}`;
        return `${q}${mechName(r, 'include')}:${domainSpec(r, opts)}`;
      },
    ],
    [
      4,
      () => {
        let s = `${q}${mechName(r, r.chance(0.5) ? 'a' : 'mx')}`;
        if (r.chance(0.6)) s += `:${domainSpec(r, opts)}`;
        if (r.chance(0.3)) s += `/${cidr(r, 32, b)}`;
        if (r.chance(0.2)) s += `//${cidr(r, 128, b)}`;
        if (r.chance(b * 0.2)) s += r.pick([':', '/', '//', '///64', ':foo']);
        return s;
      },
    ],
    [1, () => `${q}${mechName(r, 'ptr')}${r.chance(0.4) ? `:${domainSpec(r, opts)}` : r.chance(b) ? '/24' : ''}`],
    [
      7,
      () => {
        const ip = opts.ips.length > 0 && r.chance(0.5) ? r.pick(opts.ips) : ipv4(r, b);
        const c = r.chance(0.35) ? `/${cidr(r, 32, b)}` : '';
        return `${q}${mechName(r, 'ip4')}${r.chance(b * 0.1) ? r.pick(['=', '', '::']) : ':'}${ip}${c}`;
      },
    ],
    [
      3,
      () => {
        const c = r.chance(0.5) ? `/${cidr(r, 128, b)}` : '';
        return `${q}${mechName(r, 'ip6')}:${ipv6(r, b)}${c}${r.chance(b * 0.1) ? '//64' : ''}`;
      },
    ],
    [
      2,
      () =>
        `${q}${mechName(r, 'exists')}:${r.chance(0.5) ? `${macroExpand(r, b, false)}.${domainSpec(r, opts)}` : domainSpec(r, opts)}`,
    ],
    [b, () => `${q}${r.pick(['foo', 'ip5', 'spf2', 'a-b', 'mx.example.com', 'inc', 'include.', ''])}`],
  ]);
}

export function modifier(r: Rng, opts: GrammarOptions): string {
  const b = opts.broken;
  return r.weighted<string>([
    [3, () => `${r.chance(0.05) ? 'REDIRECT' : 'redirect'}=${domainSpec(r, opts)}`],
    [2, () => `exp=${r.chance(0.5) ? `explain.${domainSpec(r, opts)}` : domainSpec(r, opts)}`],
    [
      2,
      () => {
        const name = r.pick(['foo', 'x-y.z', 'moo_1', 'v', 'ra', 'rp', 'rr', 'spf', 'a1.b2']);
        const value = r.weighted<string>([
          [3, () => label(r)],
          [1, () => ''],
          [2, () => macroExpand(r, b, true) + label(r)],
          [1, () => `${label(r)}:${label(r)}/x`],
        ]);
        return `${name}=${value}`;
      },
    ],
    [b, () => r.pick(['1bad=x', '=x', '-foo=bar', 'a b=c', 'foo:=bar', 'foo=%{z}', 'exp=', 'redirect='])],
  ]);
}

const VERSIONS_SPF: readonly string[] = ['v=spf1', 'v=spf1', 'v=spf1', 'v=spf1', 'V=SPF1', 'v=Spf1', 'V=spf1'];
const VERSIONS_NOT_SPF: readonly string[] = [
  'v=spf10',
  'v=spf2.0/pra',
  ' v=spf1',
  'v = spf1',
  'spf1',
  '"v=spf1',
  'v=spf1\t',
  'v=spf',
  'v=spf1,',
  'v=DMARC1;',
  'google-site-verification=abc',
  '',
];

const WEIRD_CHARS: readonly string[] = [
  '\t',
  '\n',
  '\r',
  '\u0000',
  '\u007f',
  '\u00a0',
  'é',
  '—',
  '\u200b',
  '😀',
  '\ud800',
  '\u0085',
  '"',
  '\\',
];

/** One generated record: mostly `v=spf1` ones, of 0 to ~80 terms. */
export function grammarRecord(r: Rng, opts: GrammarOptions): string {
  const b = opts.broken;
  const version = r.chance(b * 0.3) ? r.pick(VERSIONS_NOT_SPF) : r.pick(VERSIONS_SPF);
  const count = r.chance(0.05) ? r.int(30, 90) : r.int(0, 8);
  const terms: string[] = [];
  for (let i = 0; i < count; i++) terms.push(r.chance(0.15) ? modifier(r, opts) : mechanism(r, opts));
  if (r.chance(0.15)) {
    const mods = terms.filter((t) => /^(redirect|exp)=/i.test(t));
    if (mods.length > 0) terms.push(r.pick(mods)); // a duplicated modifier
  }
  if (r.chance(0.6)) terms.push(`${r.pick(['-', '~', '?', '', '+'])}all`);
  if (r.chance(b * 0.3) && terms.length > 0) {
    const i = r.int(0, terms.length - 1);
    terms[i] = insertAt(terms[i]!, r.int(0, terms[i]!.length), r.pick(WEIRD_CHARS));
  }
  let out = version;
  for (const t of terms) out += `${r.chance(0.05) ? r.pick(['  ', '   ', r.chance(b) ? '\t' : ' ']) : ' '}${t}`;
  if (r.chance(0.05)) out += r.pick([' ', '  ', r.chance(b) ? '\t' : ' ']);
  return out;
}

function insertAt(s: string, at: number, piece: string): string {
  return s.slice(0, at) + piece + s.slice(at);
}

/** Real-world-like records (names are rewritten to the fuzz zone's pool before use). */
export const SEED_RECORDS: readonly string[] = [
  'v=spf1 include:spf.protection.outlook.com -all',
  'v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all',
  'v=spf1 mx a:mail.$0 ip4:198.51.100.0/24 include:spf.protection.outlook.com include:$1 ~all',
  'v=spf1 include:$0 include:$1 include:$2 include:spf.protection.outlook.com -all',
  'v=spf1 redirect=$0',
  'v=spf1 exists:%{i}._spf.$1 -all',
  'v=spf1 ip6:2a01:111:f400::/48 ip4:40.92.0.0/15 -all',
  'v=spf1 a mx ptr ?all',
  'v=spf1 include:spf.protection.outlook.com exp=explain._spf.%{d} -all',
  'v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.7 a:$0/28 mx:$1//64 include:spf.protection.outlook.com ~all',
  'v=spf1 include:$0 redirect=$1',
  'v=spf1 +mx +a:$2 -ip4:203.0.113.99 +ip4:203.0.113.0/24 include:spf.protection.outlook.com -all',
  'v=spf1 ip4:203.0.113.10 ip4:203.0.113.11 ip4:203.0.113.12 include:$0 include:spf.protection.outlook.com -all',
  'v=spf1 include:%{ir}.%{v}._spf.$0 include:spf.protection.outlook.com -all',
  'v=spf1 -include:$0 include:spf.protection.outlook.com ~all',
  'v=spf1 ?include:$1 ip4:203.0.113.10 -all',
];

export function seedRecord(r: Rng, names: readonly string[]): string {
  const pool = names.length > 0 ? names : ['example.com'];
  return r.pick(SEED_RECORDS).replace(/\$(\d)/g, () => r.pick(pool));
}

/** 1–4 random byte-level or term-level mutations. */
export function mutate(r: Rng, record: string, other: string): string {
  let s = record;
  for (let n = r.int(1, 4); n > 0; n--) {
    const terms = s.split(' ');
    s = r.weighted<string>([
      [3, () => (s.length === 0 ? s : replaceChar(r, s))],
      [2, () => s.slice(0, r.int(0, s.length))],
      [2, () => (s.length === 0 ? s : s.slice(0, r.int(0, s.length - 1)) + s.slice(r.int(0, s.length)))],
      [2, () => insertAt(s, r.int(0, s.length), r.pick([' ', ':', '/', '=', '%', '.', '-', '+', '{', '}', '%{d}']))],
      [
        3,
        () => {
          const i = r.int(0, terms.length - 1);
          terms.splice(r.int(0, terms.length), 0, terms[i]!);
          return terms.join(' ');
        },
      ],
      [2, () => r.shuffle(terms.slice(1)).reduce((acc, t) => `${acc} ${t}`, terms[0] ?? '')],
      [
        2,
        () => {
          terms.splice(r.int(1, Math.max(1, terms.length - 1)), 1);
          return terms.join(' ');
        },
      ],
      [2, () => s.slice(0, r.int(0, s.length)) + other.slice(r.int(0, other.length))],
      [1, () => `${s} ${other.split(' ').slice(1).join(' ')}`],
      [1, () => flipCase(r, s)],
      [1, () => s.replace(' ', r.pick(['\t', '  ', '\u00a0', '']))],
      [1, () => insertAt(s, r.int(0, s.length), r.pick(WEIRD_CHARS))],
    ]);
  }
  return s;
}

function replaceChar(r: Rng, s: string): string {
  const i = r.int(0, s.length - 1);
  const c = r.chance(0.8) ? String.fromCharCode(r.int(0x20, 0x7e)) : r.pick(WEIRD_CHARS);
  return s.slice(0, i) + c + s.slice(i + 1);
}

function flipCase(r: Rng, s: string): string {
  let out = '';
  for (const c of s) out += r.chance(0.3) ? (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) : c;
  return out;
}

/** The same text split into random character-strings (some empty), as DNS may carry it. */
export function chunked(r: Rng, text: string): string[] {
  if (text.length === 0) return [''];
  const cuts = new Set<number>();
  for (let n = r.int(1, 6); n > 0; n--) cuts.add(r.int(0, text.length));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const c of sorted) {
    out.push(text.slice(from, c));
    from = c;
  }
  out.push(text.slice(from));
  return out;
}
