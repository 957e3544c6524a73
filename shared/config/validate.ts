/**
 * Validating a configuration document that is already parsed (plain data: from YAML by `load.ts`, from JSON by
 * `document.ts`): the zod schema, then the cross-value rules (`checkRules`, `checkBlocklistRules`, `checkAlertRules`,
 * `checkMatchRules`), every problem with its path. Line and column only when a locator is given (the YAML reader's
 * `locate`); without one, the same problems with the same paths, severities and messages, minus the lines (a rule
 * that names a second place says `tenants[0].id` instead of `tenants[0].id on line 12`).
 *
 * No parser here: this module is what a Lambda loads to validate the JSON document `config push` uploads, so it must
 * not reach `yaml` (test/infra/bundle-contents.test.ts checks that no bundle loads it at cold start).
 */
import type { z } from 'zod';
import { checkAlertRules } from './alerts.ts';
import { checkBlocklistRules, customZoneIds, hiddenKeyPath } from './blocklists.ts';
import { checkMatchRules } from './match-rules.ts';
import { ConfigError, type ConfigProblem, formatPath, type PathSegment, quote, sortProblems } from './problems.ts';
import { checkRules } from './rules.ts';
import {
  AUTH_ONLY_KEYS,
  CONFIG_VERSION,
  KNOWN_KEYS,
  type RelaywatchConfig,
  RelaywatchConfigSchema,
  SECRET_REF_HINT,
} from './schema.ts';

export interface LoadedConfig {
  readonly config: RelaywatchConfig;
  /** Warnings (never errors), in source order. */
  readonly warnings: readonly ConfigProblem[];
  /** For `loadConfig` the absolute path of the file; for `parseConfig` and `parseConfigJson` the source name given. */
  readonly path: string;
}

/** Where a path is in the source text (the YAML reader's `locate`). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/**
 * Finds a path in the source text: the key's position for a mapping entry (`atKey`) or the value's; for a path that
 * does not exist, the closest existing ancestor. `YamlSource` is one.
 */
export interface Locator {
  locate(path: readonly PathSegment[], atKey?: boolean): SourcePosition | undefined;
}

/** A `ConfigError` with one problem about the document as a whole. */
export function failConfig(source: string, message: string, options?: ErrorOptions & { line?: number }): never {
  const problem: ConfigProblem = {
    path: '',
    message,
    severity: 'error',
    ...(options?.line !== undefined ? { line: options.line } : {}),
  };
  throw new ConfigError(source, [problem], options?.cause === undefined ? undefined : { cause: options.cause });
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------------------------
// zod issues → messages and problems

export function describeInput(input: unknown): string {
  if (input === null) return 'an empty value';
  if (Array.isArray(input)) return 'a list';
  switch (typeof input) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isFinite(input) ? 'a number' : 'a number out of range';
    case 'boolean':
      return 'true/false';
    case 'object':
      return 'a mapping';
    default:
      return typeof input;
  }
}

const EXPECTED: Record<string, string> = {
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

const OUT_OF_RANGE = 'is out of range';

/**
 * Messages for the issues the schemas leave to a default. They describe the value's type, never the value (it may
 * be a secret in the wrong place).
 */
const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return 'is required';
      if (iss.expected === 'int' && typeof iss.input === 'number' && Number.isFinite(iss.input)) {
        return 'must be a whole number';
      }
      return `must be ${EXPECTED[iss.expected] ?? iss.expected} (found ${describeInput(iss.input)})`;
    }
    case 'too_small':
    case 'too_big': {
      const small = iss.code === 'too_small';
      const bound = Number(small ? iss.minimum : iss.maximum);
      // zod's safe-integer range: only reached by absurd numbers, and another bound usually says more.
      if (Math.abs(bound) === Number.MAX_SAFE_INTEGER) return OUT_OF_RANGE;
      const inclusive = iss.inclusive !== false;
      if (iss.origin === 'array') {
        return small ? `must list at least ${bound} item${bound === 1 ? '' : 's'}` : `must list at most ${bound} items`;
      }
      if (iss.origin === 'string') {
        if (small && bound === 1) return 'must not be empty';
        return small ? `must be at least ${bound} characters` : `must be at most ${bound} characters`;
      }
      if (small) return inclusive ? `must be at least ${bound}` : `must be greater than ${bound}`;
      return inclusive ? `must be at most ${bound}` : `must be less than ${bound}`;
    }
    case 'invalid_value':
      return `must be ${iss.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    case 'invalid_format':
      return 'has an invalid format';
    case 'custom':
      // A refinement without its own message: still say something about the value.
      return `is not an accepted value (found ${describeInput(iss.input)})`;
    default:
      return undefined;
  }
};

interface RawProblem {
  readonly path: readonly PathSegment[];
  readonly message: string;
  readonly severity: 'error' | 'warning';
  /** Point at the key rather than the value (unknown and duplicate keys). */
  readonly atKey?: boolean;
}

/** `['tenants', 3, 'submission']` → `tenants[].submission` */
function pattern(path: readonly PathSegment[]): string {
  return formatPath(path.map((s) => (typeof s === 'number' ? -1 : s))).replaceAll('[-1]', '[]');
}

/** Optimal string alignment distance (edits, with a swap of neighbours counting as one). Short strings only. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The path of the secret reference a path is inside (`tenants[2].submission.clientSecret`,
 * `tenants[0].probeMailbox.password`, `blocklists.keys.abusix`), if any. Keys found there that are not `env`/`secret`
 * may be the secret itself (`password: {hunter2}` is a mapping with the key "hunter2"), so problems about them name
 * the key neither in the message nor in the path.
 */
export function secretRefRoot(path: readonly PathSegment[]): readonly PathSegment[] | undefined {
  const [t, i, s, key] = path;
  if (
    t === 'tenants' &&
    typeof i === 'number' &&
    s === 'submission' &&
    (key === 'clientSecret' || key === 'password')
  ) {
    return path.slice(0, 4);
  }
  if (
    t === 'tenants' &&
    typeof i === 'number' &&
    s === 'probeMailbox' &&
    (key === 'clientSecret' || key === 'password')
  ) {
    return path.slice(0, 4);
  }
  if (path[0] === 'blocklists' && path[1] === 'keys' && typeof path[2] === 'string') return path.slice(0, 3);
  if (path[0] === 'agent' && path[1] === 'secret') return path.slice(0, 2);
  if (path[0] === 'ingest' && path[1] === 'agents' && typeof path[2] === 'number') {
    if (path[3] === 'secret' || path[3] === 'previousSecret') return path.slice(0, 4);
  }
  // alerts.routes[i].slack.webhookUrl, .teams.webhookUrl, .webhook.url/.secret, .email.smtp.password
  const [a, r, n, channel, field, sub] = path;
  if (a === 'alerts' && r === 'routes' && typeof n === 'number') {
    if ((channel === 'slack' || channel === 'teams') && field === 'webhookUrl') return path.slice(0, 5);
    if (channel === 'webhook' && (field === 'url' || field === 'secret')) return path.slice(0, 5);
    if (channel === 'email' && field === 'smtp' && sub === 'password') return path.slice(0, 6);
  }
  return undefined;
}

export const SECRET_REF_KEYS: ReadonlySet<string> = new Set(['env', 'secret', 'secretsManager', 'ssm', 'key']);

function unknownKeyMessage(parent: readonly PathSegment[], key: string, input: unknown): string {
  const shown = quote(key, 64);
  // A custom zone's codes are keyed by address: `blocklists.custom[].codes.*`.
  const where =
    parent.length === 5 && parent[0] === 'blocklists' && parent[1] === 'custom' && parent[3] === 'codes'
      ? 'blocklists.custom[].codes.*'
      : pattern(parent);
  const known = KNOWN_KEYS[where] ?? [];
  if (where === 'tenants[].submission' && key in AUTH_ONLY_KEYS && isRecord(input)) {
    const auth = input.auth;
    if (auth === 'oauth' || auth === 'basic') {
      return `unknown key ${shown} for auth: ${auth} (${key} belongs to auth: ${AUTH_ONLY_KEYS[key]})`;
    }
  }
  const lower = key.toLowerCase();
  const close =
    key.length > 64
      ? undefined
      : known
          .map((k) => ({ k, d: editDistance(k.toLowerCase(), lower) }))
          .filter((c) => c.d <= (c.k.length <= 4 ? 1 : 2))
          .sort((a, b) => a.d - b.d)[0];
  if (close) return `unknown key ${shown} (did you mean ${JSON.stringify(close.k)}?)`;
  return `unknown key ${shown}${known.length > 0 ? ` (allowed here: ${known.join(', ')})` : ''}`;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isRecord(v) && typeof seg === 'string' && Object.hasOwn(v, seg)) v = v[seg];
    else return undefined;
  }
  return v;
}

/** Drop "out of range" where a more precise problem is reported for the same path. */
function preciseOnly(problems: RawProblem[]): RawProblem[] {
  const precise = new Set(problems.filter((p) => p.message !== OUT_OF_RANGE).map((p) => formatPath(p.path)));
  return problems.filter((p) => p.message !== OUT_OF_RANGE || !precise.has(formatPath(p.path)));
}

/** Flatten zod issues: one problem per unknown key; for a union, the issues of the branch the value's type chose. */
function issueProblems(
  issues: readonly z.core.$ZodIssue[],
  root: unknown,
  base: readonly PathSegment[] = [],
): RawProblem[] {
  const out: RawProblem[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path.filter((s): s is string | number => typeof s !== 'symbol')];
    if (issue.code === 'unrecognized_keys') {
      const holder = valueAt(root, path);
      const secretRoot = secretRefRoot(path);
      for (const key of issue.keys) {
        if (secretRoot && !SECRET_REF_KEYS.has(key)) {
          out.push({
            path: secretRoot,
            message: `has an unknown key (not shown: it may be the secret); ${SECRET_REF_HINT}`,
            severity: 'error',
          });
          continue;
        }
        out.push({
          path: [...path, key],
          message: unknownKeyMessage(path, key, holder),
          severity: 'error',
          atKey: true,
        });
      }
      continue;
    }
    if (issue.code === 'invalid_key') {
      // A record key (a custom zone's code): its own messages, pointing at the key.
      for (const inner of issue.issues) out.push({ path, message: inner.message, severity: 'error', atKey: true });
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A branch whose issues are not "wrong type at the top" is the one the value meant (string vs mapping).
      const meant = issue.errors.filter(
        (branch) => !branch.some((i) => i.code === 'invalid_type' && i.path.length === 0),
      );
      const [only] = meant;
      if (meant.length === 1 && only) {
        out.push(...issueProblems(only, root, path));
        continue;
      }
      const value = valueAt(root, path);
      if (isRecord(value) && meant.length > 1) {
        // Several mapping forms (a maintenance window by days or by dates, an egress method): the form whose keys the
        // value uses, i.e. the branch with the fewest unknown keys, then the fewest problems.
        const unknownKeys = (b: readonly z.core.$ZodIssue[]) =>
          b.reduce((n, i) => n + (i.code === 'unrecognized_keys' ? i.keys.length : 0), 0);
        const best = [...meant].sort((a, b) => unknownKeys(a) - unknownKeys(b) || a.length - b.length)[0];
        if (best) {
          out.push(...issueProblems(best, root, path));
          continue;
        }
      }
      out.push({ path, message: `must be a string or a mapping (found ${describeInput(value)})`, severity: 'error' });
      continue;
    }
    out.push({ path, message: issue.message, severity: 'error' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// problems with their places

const NO_IDS: ReadonlySet<string> = new Set();

/**
 * Problems with their lines. `customIds`: the custom zone ids of the document; a path under `blocklists.keys.<k>`
 * whose `<k>` is no zone id is shown as `blocklists.keys` (the key may be a secret), still located at `<k>`.
 */
function toProblems(
  raw: readonly RawProblem[],
  source: Locator | undefined,
  customIds: ReadonlySet<string> = NO_IDS,
): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  for (const p of raw) {
    const path = formatPath(hiddenKeyPath(p.path, customIds) ?? p.path);
    const hiddenKey = p.path.length === 3 && hiddenKeyPath(p.path, customIds) !== undefined;
    const pos = source?.locate(p.path, p.atKey === true || hiddenKey);
    const key = `${p.severity}\u0000${path}\u0000${pos?.line ?? ''}\u0000${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      path,
      message: p.message,
      severity: p.severity,
      ...(pos ? { line: pos.line, column: pos.column } : {}),
    });
  }
  return out;
}

export interface ValidateOptions {
  /** Where paths are in the source text, for line numbers (none for JSON). */
  readonly locator?: Locator;
  /** Problems the reader already found (YAML duplicate keys), reported with the rest. */
  readonly readerProblems?: readonly ConfigProblem[];
}

/**
 * Validate a parsed document (a mapping: the caller says, in its own words, when the document is empty or no
 * mapping). `sourceName` names it in messages.
 * @throws ConfigError with every problem when there is at least one error (or a reader problem).
 */
export function validateConfigDocument(
  doc: Record<string, unknown>,
  sourceName: string,
  options: ValidateOptions = {},
): LoadedConfig {
  const { locator } = options;
  // Another version may mean other keys: report only that.
  if (Object.hasOwn(doc, 'version') && doc.version !== CONFIG_VERSION) {
    const issues = RelaywatchConfigSchema.shape.version.safeParse(doc.version).error?.issues ?? [];
    throw new ConfigError(sourceName, toProblems(issueProblems(issues, doc, ['version']), locator));
  }

  const lineOf = (path: readonly PathSegment[]) => locator?.locate(path)?.line;
  const parsed = RelaywatchConfigSchema.safeParse(doc, { error: errorMap });
  const raw: RawProblem[] = [
    ...(parsed.success ? [] : preciseOnly(issueProblems(parsed.error.issues, doc))),
    ...checkRules(doc, lineOf),
    ...checkBlocklistRules(doc, lineOf),
    ...checkAlertRules(doc, lineOf),
    ...(parsed.success ? checkMatchRules(parsed.data) : []),
  ];
  const problems = sortProblems([...(options.readerProblems ?? []), ...toProblems(raw, locator, customZoneIds(doc))]);
  if (!parsed.success || problems.some((p) => p.severity === 'error')) throw new ConfigError(sourceName, problems);
  return { config: parsed.data, warnings: problems, path: sourceName };
}
