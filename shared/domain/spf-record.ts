/**
 * SPF record syntax (RFC 7208 §4.5, §12): selecting the `v=spf1` record among a name's TXT records and parsing it into
 * terms with their positions, so a finding can say *where* a record is broken. Pure: no DNS here.
 *
 * This parser serves the analysis (the include tree, lookup counting, findings). The verdict for an IP is computed by a
 * full RFC 7208 evaluator (mailauth, see adapters/spf); both agree on what is a syntax error because both follow §12.
 */

export type Qualifier = '+' | '-' | '~' | '?';
export type MechanismName = 'all' | 'include' | 'a' | 'mx' | 'ptr' | 'ip4' | 'ip6' | 'exists';

export interface Mechanism {
  readonly kind: 'mechanism';
  readonly qualifier: Qualifier;
  /** Whether the qualifier was written out (`+all`) rather than implied (`all`). */
  readonly explicitQualifier: boolean;
  readonly name: MechanismName;
  /** domain-spec for include/a/mx/ptr/exists (null when omitted: the current domain), network for ip4/ip6. */
  readonly value: string | null;
  readonly cidr4: number | null;
  readonly cidr6: number | null;
  /** 1-based column of the term's first character in the record text. */
  readonly position: number;
  readonly raw: string;
}

export interface Modifier {
  readonly kind: 'modifier';
  readonly name: string;
  readonly value: string;
  readonly position: number;
  readonly raw: string;
}

export type SpfTerm = Mechanism | Modifier;

export interface SpfSyntaxError {
  readonly position: number;
  readonly term: string;
  readonly message: string;
}

export interface ParsedSpf {
  readonly text: string;
  readonly terms: readonly SpfTerm[];
  readonly errors: readonly SpfSyntaxError[];
}

/** Terms that cost one DNS lookup each toward the limit of 10 (RFC 7208 §4.6.4). */
export const LOOKUP_MECHANISMS: ReadonlySet<string> = new Set(['include', 'a', 'mx', 'ptr', 'exists']);

const SPF_VERSION = /^v=spf1(?: |$)/i;

/** Is this TXT record an SPF record (RFC 7208 §4.5: `v=spf1` followed by a space or the end)? */
export function isSpfRecord(txt: string): boolean {
  return SPF_VERSION.test(txt);
}

/** RFC 7208 §4.5 record selection among the TXT records of one name. */
export function selectSpfRecord(
  txts: readonly string[],
): { kind: 'none' } | { kind: 'one'; record: string } | { kind: 'several'; records: string[] } {
  const found = txts.filter(isSpfRecord);
  if (found.length === 0) return { kind: 'none' };
  if (found.length === 1) return { kind: 'one', record: found[0]! };
  return { kind: 'several', records: found };
}

const MECHANISMS: ReadonlySet<string> = new Set(['all', 'include', 'a', 'mx', 'ptr', 'ip4', 'ip6', 'exists']);
const MACRO_LETTERS = new Set('slodiphcrtv');
const MODIFIER_NAME = /^[a-z][a-z0-9\-_.]*$/i;
/**
 * toplabel (RFC 7208 §7.1): `ALPHA / *alphanum ALPHA *alphanum / 1*alphanum "-" *( alphanum / "-" ) alphanum`, i.e.
 * letters, digits and inner hyphens, with a letter or a hyphen (`1-2` is one, `123` is not). Written as one character class plus two look-ups instead of the
 * grammar's alternation: the alternation backtracks quadratically on a long label (100 KB took seconds). The length is
 * checked first anyway: a DNS label is at most 63 octets.
 */
const TOPLABEL_CHARS = /^[a-z0-9-]+$/i;
const HAS_LETTER = /[a-z]/i;

function isTopLabel(label: string): boolean {
  if (label.length === 0 || label.length > 63) return false;
  if (label.startsWith('-') || label.endsWith('-')) return false;
  return TOPLABEL_CHARS.test(label) && (HAS_LETTER.test(label) || label.includes('-'));
}

/**
 * Check a macro-string (RFC 7208 §7.1) and return an error message or null. `expLetters` allows the c, r and t
 * letters, which are only valid in explanation strings.
 */
export function checkMacroString(s: string, expLetters = false): string | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (s[i] === '%') {
      const next = s[i + 1];
      if (next === '%' || next === '_' || next === '-') {
        i++;
        continue;
      }
      if (next !== '{') return `"%" must be followed by "{", "%", "_" or "-" (at offset ${i + 1})`;
      const end = s.indexOf('}', i + 2);
      if (end < 0) return `unterminated macro "${s.slice(i)}"`;
      const body = s.slice(i + 2, end);
      const m = /^([a-z])(\d*)(r?)([.\-+,/_=]*)$/i.exec(body);
      const letter = m?.[1]?.toLowerCase();
      if (!m || !letter || !MACRO_LETTERS.has(letter)) return `invalid macro "%{${body}}"`;
      if (!expLetters && (letter === 'c' || letter === 'r' || letter === 't')) {
        return `macro letter "${letter}" is only allowed in an explanation ("%{${body}}")`;
      }
      if (m[2] && Number(m[2]) === 0) return `macro "%{${body}}" keeps zero labels`;
      i = end;
      continue;
    }
    if (c < 0x21 || c > 0x7e) return `invalid character ${JSON.stringify(s[i])} (offset ${i + 1})`;
  }
  return null;
}

/**
 * Whether a valid macro-string ends in a macro-expand rather than a literal. Tokenised from the left: in "x%%{d}" the
 * last token is the literal "{d}" (after "%%"), and in "x%%_" it is the literal "_".
 */
function endsWithMacroExpand(s: string): boolean {
  let last = false;
  for (let i = 0; i < s.length; i++) {
    last = s[i] === '%';
    if (!last) continue;
    const end = s[i + 1] === '{' ? s.indexOf('}', i + 2) : i + 1;
    if (end < 0) return false;
    i = end;
  }
  return last;
}

/** domain-spec = macro-string domain-end (RFC 7208 §7.1); returns an error message or null. */
export function checkDomainSpec(spec: string): string | null {
  if (spec.length === 0) return 'empty domain';
  const macroError = checkMacroString(spec);
  if (macroError) return macroError;
  // domain-end: a macro-expand, or "." toplabel ["."]
  if (endsWithMacroExpand(spec)) return null;
  const trimmed = spec.endsWith('.') ? spec.slice(0, -1) : spec;
  const dot = trimmed.lastIndexOf('.');
  if (dot < 0) return `"${spec}" is not a fully qualified domain name`;
  const top = trimmed.slice(dot + 1);
  if (top.length > 63) return `"${spec}" has a label longer than 63 characters`;
  if (!isTopLabel(top)) return `"${spec}" does not end in a valid top-level label`;
  if (!spec.includes('%')) {
    const labels = trimmed.split('.');
    if (labels.some((l) => l.length === 0)) return `"${spec}" has an empty label`;
    if (labels.some((l) => l.length > 63)) return `"${spec}" has a label longer than 63 characters`;
  }
  return null;
}

function parseCidr(text: string, max: number): number | null {
  if (!/^(0|[1-9]\d{0,2})$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function isIpv6(text: string): boolean {
  // Leave the strict validation to the URL parser; it accepts exactly RFC 4291 text forms (incl. embedded IPv4).
  if (!/^[0-9a-f:.]+$/i.test(text) || !text.includes(':')) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/** Parse one SPF record. Never throws: syntax problems come back in `errors` with their column. */
export function parseSpf(record: string): ParsedSpf {
  const errors: SpfSyntaxError[] = [];
  const terms: SpfTerm[] = [];
  if (!isSpfRecord(record)) {
    return {
      text: record,
      terms,
      errors: [{ position: 1, term: record.slice(0, 10), message: 'not a v=spf1 record' }],
    };
  }
  // Terms are separated by one or more spaces (SP only; RFC 7208 §12). Other whitespace is a syntax error.
  let i = 6;
  const seen = new Map<string, number>();
  while (i < record.length) {
    if (record[i] === ' ') {
      i++;
      continue;
    }
    let end = record.indexOf(' ', i);
    if (end < 0) end = record.length;
    const raw = record.slice(i, end);
    const position = i + 1;
    const fail = (message: string) => errors.push({ position, term: raw, message });
    i = end;

    const modifier = /^([^:/=]+)=(.*)$/s.exec(raw);
    if (modifier && !/^[+\-~?]/.test(raw)) {
      const name = modifier[1]!.toLowerCase();
      const value = modifier[2]!;
      if (!MODIFIER_NAME.test(modifier[1]!)) {
        fail(`invalid modifier name "${modifier[1]}"`);
        continue;
      }
      if (name === 'redirect' || name === 'exp') {
        if (seen.has(name)) fail(`"${name}=" appears more than once (RFC 7208 §6)`);
        seen.set(name, position);
        const problem = checkDomainSpec(value);
        if (problem) fail(`${name}=: ${problem}`);
      } else {
        const problem = checkMacroString(value, true);
        if (problem) fail(`${name}=: ${problem}`);
      }
      terms.push({ kind: 'modifier', name, value, position, raw });
      continue;
    }

    let rest = raw;
    let qualifier: Qualifier = '+';
    let explicitQualifier = false;
    if (/^[+\-~?]/.test(rest)) {
      qualifier = rest[0] as Qualifier;
      explicitQualifier = true;
      rest = rest.slice(1);
    }
    const m = /^([a-z0-9]+)(.*)$/is.exec(rest);
    const name = m?.[1]?.toLowerCase() ?? '';
    if (!m || !MECHANISMS.has(name)) {
      fail(`unknown mechanism "${raw}"`);
      continue;
    }
    const arg = m[2] ?? '';
    const mech = name as MechanismName;
    let value: string | null = null;
    let cidr4: number | null = null;
    let cidr6: number | null = null;

    switch (mech) {
      case 'all':
        if (arg !== '') fail('"all" takes no argument');
        break;
      case 'include':
      case 'exists': {
        if (!arg.startsWith(':') || arg.length === 1) {
          fail(`"${mech}" needs a domain ("${mech}:example.com")`);
          break;
        }
        value = arg.slice(1);
        const problem = checkDomainSpec(value);
        if (problem) fail(`${mech}: ${problem}`);
        break;
      }
      case 'ptr': {
        if (arg === '') break;
        if (!arg.startsWith(':') || arg.length === 1) {
          fail('"ptr" takes an optional ":domain"');
          break;
        }
        value = arg.slice(1);
        const problem = checkDomainSpec(value);
        if (problem) fail(`ptr: ${problem}`);
        break;
      }
      case 'a':
      case 'mx': {
        // [":" domain-spec] [ip4-cidr] ["/" ip6-cidr]. A domain-spec may itself contain "/" (a macro-literal, or a
        // macro delimiter as in %{l/}); a CIDR length is digits only, so only a trailing "/digits" is one.
        const dm = /^(?::(.*?))?(?:\/(\d*))?(?:\/\/(\d*))?$/s.exec(arg);
        if (!dm || (arg.startsWith(':') && !dm[1])) {
          fail(`"${mech}" argument "${arg}" is malformed`);
          break;
        }
        if (dm[1] !== undefined) {
          value = dm[1];
          const problem = checkDomainSpec(value);
          if (problem) fail(`${mech}: ${problem}`);
        }
        if (dm[2] !== undefined) {
          cidr4 = parseCidr(dm[2], 32);
          if (cidr4 === null) fail(`${mech}: invalid IPv4 prefix length "/${dm[2]}"`);
        }
        if (dm[3] !== undefined) {
          cidr6 = parseCidr(dm[3], 128);
          if (cidr6 === null) fail(`${mech}: invalid IPv6 prefix length "//${dm[3]}"`);
        }
        break;
      }
      case 'ip4': {
        const im = /^:([^/]*)(?:\/(.*))?$/s.exec(arg);
        if (!im || !IPV4.test(im[1]!)) {
          fail(`ip4: "${arg.slice(1)}" is not an IPv4 address`);
          break;
        }
        value = im[1]!;
        if (im[2] !== undefined) {
          cidr4 = parseCidr(im[2], 32);
          if (cidr4 === null) fail(`ip4: invalid prefix length "/${im[2]}"`);
        }
        break;
      }
      case 'ip6': {
        const im = /^:([^/]*)(?:\/(.*))?$/s.exec(arg);
        if (!im || !isIpv6(im[1]!)) {
          fail(`ip6: "${arg.slice(1)}" is not an IPv6 address`);
          break;
        }
        value = im[1]!.toLowerCase();
        if (im[2] !== undefined) {
          cidr6 = parseCidr(im[2], 128);
          if (cidr6 === null) fail(`ip6: invalid prefix length "/${im[2]}"`);
        }
        break;
      }
    }
    terms.push({ kind: 'mechanism', qualifier, explicitQualifier, name: mech, value, cidr4, cidr6, position, raw });
  }
  for (let k = 0; k < record.length; k++) {
    const c = record.charCodeAt(k);
    if (c !== 0x20 && (c < 0x21 || c > 0x7e)) {
      errors.push({
        position: k + 1,
        term: record.slice(Math.max(0, k - 5), k + 5),
        message: `invalid character ${JSON.stringify(record[k])} (only printable ASCII and spaces are allowed)`,
      });
      break;
    }
  }
  errors.sort((a, b) => a.position - b.position);
  return { text: record, terms, errors };
}

/** The `all` mechanism of a record, if any (terms after it are never evaluated). */
export function allMechanism(parsed: ParsedSpf): Mechanism | undefined {
  return parsed.terms.find((t): t is Mechanism => t.kind === 'mechanism' && t.name === 'all');
}

export function redirectOf(parsed: ParsedSpf): Modifier | undefined {
  return parsed.terms.find((t): t is Modifier => t.kind === 'modifier' && t.name === 'redirect');
}

/** True when the domain-spec contains macros, so its target depends on the sender or client and cannot be resolved ahead. */
export function hasMacro(spec: string): boolean {
  return spec.includes('%');
}
