/**
 * Problems found in a configuration (or secrets) file, and the error that carries them.
 *
 * A problem names where it is (`tenants[2].domains[0]`, plus line and column when the file is YAML) and says what is
 * wrong in one sentence. Messages may quote values the user typed (domain names, IP addresses, ids) but never a value
 * found where a secret belongs: those are described, not shown.
 */

export type ProblemSeverity = 'error' | 'warning';

export interface ConfigProblem {
  /** Where: `tenants[2].domains[0]`, `msp.contact.email`; `''` for the file as a whole. */
  readonly path: string;
  /** One sentence, without the path or the line (see `formatProblem`). */
  readonly message: string;
  /** 1-based line in the source, when known. */
  readonly line?: number;
  /** 1-based column in the source, when known. */
  readonly column?: number;
  readonly severity: ProblemSeverity;
}

/** One segment of a path into the parsed document: a mapping key or a list index. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `['tenants', 2, 'domains', 0]` → `tenants[2].domains[0]`; keys that are not identifiers are quoted: `a["b c"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENTIFIER.test(seg) && seg.length <= 64) out += out === '' ? seg : `.${seg}`;
    else out += `[${quote(seg)}]`;
  }
  return out;
}

/**
 * Characters JSON leaves as they are but a terminal or a log viewer may act on: C1 controls, line and paragraph
 * separators, bidirectional overrides (which can make text read differently from what it is), the BOM.
 */
const INVISIBLE = /[\u0080-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * Quote a user-typed value for a message: JSON string syntax (control characters escaped, so a value cannot forge
 * extra lines or terminal escapes), invisible and direction-changing characters escaped too, cut at `max`
 * characters.
 */
export function quote(value: string, max = 80): string {
  const chars = [...value];
  const cut = chars.length > max ? chars.slice(0, max).join('') : value;
  const json = JSON.stringify(cut).replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return chars.length > max ? `${json}…` : json;
}

/** One line: `tenants[2].domains[0]: "contoso..com" is not a valid domain name (line 31)`; warnings say so first. */
export function formatProblem(p: ConfigProblem): string {
  const where = p.path === '' ? '' : `${p.path}: `;
  const line = p.line === undefined ? '' : ` (line ${p.line})`;
  return `${p.severity === 'warning' ? 'warning: ' : ''}${where}${p.message}${line}`;
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Errors first, then warnings; each in source order (problems without a line last, in the order found). */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const rank = (p: ConfigProblem) => (p.severity === 'error' ? 0 : 1);
  return problems
    .map((p, i) => ({ p, i }))
    .sort(
      (a, b) =>
        rank(a.p) - rank(b.p) ||
        (a.p.line ?? Number.MAX_SAFE_INTEGER) - (b.p.line ?? Number.MAX_SAFE_INTEGER) ||
        (a.p.column ?? 0) - (b.p.column ?? 0) ||
        a.i - b.i,
    )
    .map(({ p }) => p);
}

/** At most this many problems are listed in a message (a broken generator can produce thousands). */
export const MAX_LISTED = 200;

/**
 * The configuration (or secrets file) cannot be used. `problems` holds every error found and the warnings found
 * alongside them; `message` lists them one per line (errors first, at most `MAX_LISTED`) after a heading that names
 * the source and the counts.
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  /** The file (or name) the problems are in. */
  readonly source: string;

  constructor(source: string, problems: readonly ConfigProblem[], options?: ErrorOptions & { heading?: string }) {
    const sorted = sortProblems(problems);
    const errors = sorted.filter((p) => p.severity === 'error').length;
    const warnings = sorted.length - errors;
    const heading =
      options?.heading ??
      `invalid configuration ${source}: ${count(errors, 'error')}${warnings > 0 ? `, ${count(warnings, 'warning')}` : ''}`;
    const listed = sorted.slice(0, MAX_LISTED).map((p) => `  ${formatProblem(p)}`);
    if (sorted.length > MAX_LISTED) listed.push(`  … and ${sorted.length - MAX_LISTED} more (all are in .problems)`);
    super([heading, ...listed].join('\n'), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConfigError';
    this.problems = sorted;
    this.source = source;
  }
}

/**
 * Line and column (1-based) of an offset in a text, without a parser's line counter: for text the YAML parser never
 * saw and for JSON, whose parser gives only an offset.
 */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}
