/**
 * Fuzzing parseConfig with mutations of real configuration texts.
 *
 * Invariant: for any text, parseConfig returns a valid config or throws ConfigError (with at least one error, every
 * problem well formed) and never anything else, within a time bound. A second run checks that a secret planted in a
 * secret position, in any YAML form, never appears in what parseConfig reports (nor parseConfigJson, for the same
 * document as JSON). A third, that the JSON reader reports what the YAML reader does, minus the lines.
 *
 * Reproducing: each case has its own seed, printed on failure. `CONFIG_FUZZ_CASE=0x1234abcd npx vitest run
 * test/unit/config/fuzz` runs that case alone; `CONFIG_FUZZ_SEED=0x…` changes the base seed (`random` for a fresh
 * one, printed in the test name) and `CONFIG_FUZZ_CASES=20000` the number of cases.
 */
import { randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfigJson } from '../../../shared/config/document.ts';
import { parseConfig } from '../../../shared/config/load.ts';
import { ConfigError, type ConfigProblem, formatProblem, MAX_LISTED } from '../../../shared/config/problems.ts';
import { parseRelayIp } from '../../../shared/config/relay-ip.ts';
import { RelaywatchConfigSchema } from '../../../shared/config/schema.ts';
import { readYaml } from '../../../shared/config/yaml-source.ts';
import { caseSeed, hex, mulberry32 } from '../../support/prng.ts';
import { EXAMPLE_TEXT, withoutLines as problemWithoutLines, tenant, withTenants } from './helpers.ts';

// ---------------------------------------------------------------------------------------------------------------
// seeded randomness (mulberry32; one independent seed per case)

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

function envSeed(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (v === 'random') return randomInt(0, 2 ** 32);
  return Number.parseInt(v, v.startsWith('0x') ? 16 : 10) >>> 0;
}

const BASE_SEED = envSeed('CONFIG_FUZZ_SEED', 0x5eed_c0f1);
const CASES = Number(process.env.CONFIG_FUZZ_CASES ?? 3000);
const ONLY_CASE = process.env.CONFIG_FUZZ_CASE ? envSeed('CONFIG_FUZZ_CASE', 0) : undefined;
/** Generous: a case takes about a millisecond; the bound is for "never hangs", on a slow CI machine. */
const MAX_CASE_MS = 3000;

// ---------------------------------------------------------------------------------------------------------------
// mutations

const CORPUS: readonly string[] = [
  EXAMPLE_TEXT,
  withTenants(`${tenant('contoso')}  - id: fabrikam
    name: Fabrikam
    domains: [fabrikam.example, { name: fabrikam.co.example, expectedMx: fabrikam-co-example.mail.protection.outlook.com }]
    relayIps: [198.51.100.0/29, "2001:db8::25"]
    submission: { mailbox: scan@fabrikam.example, auth: basic, password: { secret: fabrikam-scan } }
    probeRecipients: [probe@fabrikam.example]
    tags: [gold]
`),
  `version: 1\nmsp: { name: N, contact: { name: C, email: c@n.example } }\ndns: { resolvers: ["udp://192.0.2.53:53"], timeoutMs: 1000 }\nsecrets: { file: ./s.yaml }\ntenants: [{ id: a, name: A, domains: [a.example], relayIps: [203.0.113.1] }]\n`,
];

const SCALARS = [
  '[]',
  '{}',
  '~',
  'null',
  'true',
  'no',
  '-1',
  '0',
  '1.5',
  '1e999',
  '-1e999',
  '.nan',
  '.inf',
  '99999999999999999999999999',
  '0x1F',
  '0o17',
  '"x"',
  "''",
  '[a, [b, [c]]]',
  '{a: {b: {c: 1}}}',
  '*x',
  '&x y',
  '!tag v',
  '!!str 5',
  '!!binary aGk=',
  '|',
  '>-',
  '"\\u0000"',
  '"\\ud800"',
  '2001:db8::1',
  '203.0.113.0/24',
  'a@b',
  '{ env: X }',
  '{ secret: y }',
  '- a',
  ': x',
  '? k',
  '%YAML 1.1',
  '---',
  '...',
];

const SPECIAL_CHARS = [
  ':',
  '-',
  '[',
  ']',
  '{',
  '}',
  ',',
  '#',
  '&',
  '*',
  '!',
  '|',
  '>',
  "'",
  '"',
  '%',
  '@',
  '`',
  '\t',
  ' ',
  '\n',
  '\\',
  '?',
];

const UNICODE = [
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u200b',
  '\u200e',
  '\u202e',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\ud800',
  '\udfff',
  'é',
  'ß',
  'İ',
  'ﬁ',
  '．',
  '。',
  '🙂',
  '👩‍💻',
  'e\u0301',
  '中文',
  'ⓐ',
  '١٢٣',
];

type Mutation = (text: string, rng: Rng) => string;

function linesOf(text: string): string[] {
  return text.split('\n');
}

const MUTATIONS: ReadonlyArray<[string, Mutation]> = [
  [
    'delete span',
    (t, r) => {
      const at = r.int(t.length + 1);
      return t.slice(0, at) + t.slice(at + r.range(1, 40));
    },
  ],
  [
    'delete line',
    (t, r) => {
      const ls = linesOf(t);
      ls.splice(r.int(ls.length), 1);
      return ls.join('\n');
    },
  ],
  [
    'duplicate line',
    (t, r) => {
      const ls = linesOf(t);
      const line = ls[r.int(ls.length)] ?? '';
      ls.splice(r.chance(0.5) ? r.int(ls.length) : r.int(ls.length + 1), 0, line);
      return ls.join('\n');
    },
  ],
  [
    'duplicate block',
    (t, r) => {
      const ls = linesOf(t);
      const from = r.int(ls.length);
      const block = ls.slice(from, from + r.range(2, 12));
      const copies = r.chance(0.1) ? r.range(20, 300) : 1;
      ls.splice(r.chance(0.7) ? from : r.int(ls.length), 0, ...Array.from({ length: copies }, () => block).flat());
      return ls.join('\n');
    },
  ],
  [
    'swap lines',
    (t, r) => {
      const ls = linesOf(t);
      const a = r.int(ls.length);
      const b = r.int(ls.length);
      [ls[a], ls[b]] = [ls[b] ?? '', ls[a] ?? ''];
      return ls.join('\n');
    },
  ],
  [
    'swap a value type',
    (t, r) => {
      const ls = linesOf(t);
      const candidates = ls.map((l, i) => ({ l, i })).filter(({ l }) => /:\s+\S/.test(l) || /^\s*-\s+\S/.test(l));
      if (candidates.length === 0) return t;
      const { l, i } = r.pick(candidates);
      const m = /^(\s*(?:-\s+)?(?:[^:#]+:\s+)?)(.*)$/.exec(l);
      ls[i] = `${m?.[1] ?? ''}${r.pick(SCALARS)}`;
      return ls.join('\n');
    },
  ],
  [
    'insert unicode',
    (t, r) => {
      const at = r.int(t.length + 1);
      let s = '';
      for (let n = r.range(1, 4); n > 0; n--) s += r.pick(UNICODE);
      return t.slice(0, at) + s + t.slice(at);
    },
  ],
  [
    'random code points',
    (t, r) => {
      const at = r.int(t.length + 1);
      let s = '';
      for (let n = r.range(1, 20); n > 0; n--) s += String.fromCharCode(r.int(0x10000));
      return t.slice(0, at) + s + t.slice(at);
    },
  ],
  [
    'special character',
    (t, r) => {
      const at = r.int(t.length);
      return t.slice(0, at) + r.pick(SPECIAL_CHARS) + t.slice(at + (r.chance(0.5) ? 1 : 0));
    },
  ],
  [
    'deep nesting',
    (t, r) => {
      const ls = linesOf(t);
      const i = r.int(ls.length);
      const n = r.chance(0.2) ? r.range(500, 5000) : r.range(10, 80);
      const open = r.pick(['[', '{a: ', '- ']);
      const close = open === '[' ? ']' : open === '{a: ' ? '}' : '';
      const nested =
        open === '- '
          ? `${' '.repeat(2)}${open.repeat(n)}x`
          : `${open.repeat(n)}x${r.chance(0.5) ? close.repeat(n) : ''}`;
      ls.splice(i, 0, `${r.pick(['k', '  k', '    domains'])}: ${nested}`);
      return ls.join('\n');
    },
  ],
  [
    'indentation',
    (t, r) => {
      const ls = linesOf(t);
      const i = r.int(ls.length);
      const l = ls[i] ?? '';
      ls[i] = r.chance(0.3) ? `\t${l}` : r.chance(0.5) ? ` ${l}` : l.replace(/^ {1,2}/, '');
      return ls.join('\n');
    },
  ],
  [
    'huge number',
    (t, r) => {
      const digits = [...t.matchAll(/\d+/g)];
      if (digits.length === 0) return t;
      const m = r.pick(digits);
      const huge = '9'.repeat(r.range(16, 400));
      return t.slice(0, m.index) + huge + t.slice((m.index ?? 0) + m[0].length);
    },
  ],
  [
    'anchors and aliases',
    (t, r) => {
      const ls = linesOf(t);
      const i = r.int(ls.length);
      const l = ls[i] ?? '';
      ls[i] = r.chance(0.5) ? l.replace(/:\s+/, ': &x ') : l.replace(/:\s+.*$/, ': *x');
      if (r.chance(0.1)) ls.unshift('bomb: &b [*x, *x, *x, *x, *x, *x, *x, *x, *x, *x]');
      return ls.join('\n');
    },
  ],
  [
    'line ends',
    (t, r) => (r.chance(0.5) ? t.replaceAll('\n', '\r\n') : t.replaceAll('\n', r.pick(['\r', '\u2028', '\n\n']))),
  ],
  ['truncate', (t, r) => t.slice(0, r.int(t.length + 1))],
];

function mutate(rng: Rng): { text: string; applied: string[] } {
  let text = rng.pick(CORPUS);
  const applied: string[] = [];
  for (let n = rng.range(1, 4); n > 0; n--) {
    const [name, fn] = rng.pick(MUTATIONS);
    applied.push(name);
    text = fn(text, rng);
  }
  return { text, applied };
}

// ---------------------------------------------------------------------------------------------------------------
// invariants

interface Outcome {
  readonly kind: 'valid' | 'invalid';
  readonly ms: number;
  readonly report: string;
}

function check(text: string): Outcome {
  const lineCount = text.split(/\r\n|\r|\n|\u2028|\u2029/).length;
  const started = performance.now();
  try {
    const { config, warnings } = parseConfig(text, 'fuzz.yaml');
    const ms = performance.now() - started;
    for (const w of warnings) expect(w.severity).toBe('warning');
    // The output is normalised: parsing it again changes nothing, and each relay entry is canonical.
    expect(RelaywatchConfigSchema.parse(config)).toEqual(config);
    for (const t of config.tenants) {
      expect(t.domains.length).toBeGreaterThan(0);
      for (const ip of t.relayIps) {
        const r = parseRelayIp(ip);
        expect(r.ok && r.value.text).toBe(ip);
      }
    }
    return { kind: 'valid', ms, report: warnings.map(formatProblem).join('\n') };
  } catch (err) {
    const ms = performance.now() - started;
    if (!(err instanceof ConfigError)) throw err;
    expect(err.name).toBe('ConfigError');
    expect(err.problems.some((p) => p.severity === 'error')).toBe(true);
    const listed = Math.min(err.problems.length, MAX_LISTED) + (err.problems.length > MAX_LISTED ? 1 : 0);
    expect(err.message.split('\n')).toHaveLength(listed + 1);
    for (const p of err.problems) {
      expect(typeof p.path).toBe('string');
      expect(p.message.length).toBeGreaterThan(0);
      expect(p.message).not.toMatch(/[\n\r\u2028\u2029]/);
      if (p.line !== undefined) {
        expect(Number.isInteger(p.line) && p.line >= 1 && p.line <= lineCount + 1).toBe(true);
      }
      if (p.column !== undefined) expect(Number.isInteger(p.column) && p.column >= 1).toBe(true);
    }
    return { kind: 'invalid', ms, report: `${err.message}\n${err.stack ?? ''}` };
  }
}

function runCase(seed: number): Outcome {
  const rng = new Rng(seed);
  const { text, applied } = mutate(rng);
  try {
    const outcome = check(text);
    if (outcome.ms > MAX_CASE_MS) throw new Error(`took ${Math.round(outcome.ms)} ms`);
    return outcome;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `case ${hex(seed)} (${applied.join(', ')}) broke the invariant: ${why}\n` +
        `re-run: CONFIG_FUZZ_CASE=${hex(seed)} npx vitest run test/unit/config/fuzz\n` +
        `text (JSON): ${JSON.stringify(text).slice(0, 2000)}`,
      { cause: err },
    );
  }
}

describe(`parseConfig fuzz (base seed ${hex(BASE_SEED)})`, () => {
  it(`returns a config or throws ConfigError for ${ONLY_CASE === undefined ? CASES : 1} mutated texts`, () => {
    const seeds =
      ONLY_CASE === undefined ? Array.from({ length: CASES }, (_, i) => caseSeed(BASE_SEED, i)) : [ONLY_CASE];
    const counts = { valid: 0, invalid: 0 };
    let slowest = 0;
    for (const seed of seeds) {
      const o = runCase(seed);
      counts[o.kind]++;
      slowest = Math.max(slowest, o.ms);
    }
    // The mutations must exercise both outcomes, or the fuzzer tests nothing.
    if (ONLY_CASE === undefined) {
      expect(counts.valid).toBeGreaterThan(CASES / 50);
      expect(counts.invalid).toBeGreaterThan(CASES / 2);
    }
    expect(slowest).toBeLessThan(MAX_CASE_MS);
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------------------------
// the same documents as JSON (what `config push` uploads and the Lambdas read)

/** The outcome of a reader without the lines: valid or not, and each problem as `severity path: message`. */
function withoutLines(read: () => { warnings: readonly ConfigProblem[] }): { valid: boolean; problems: string[] } {
  const norm = (ps: readonly ConfigProblem[]) => ps.map(problemWithoutLines).sort();
  try {
    return { valid: true, problems: norm(read().warnings) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { valid: false, problems: norm(err.problems) };
  }
}

describe(`the JSON reader agrees with the YAML reader (base seed ${hex(BASE_SEED)})`, () => {
  it('for the mutated texts that are YAML mappings JSON can hold', () => {
    const n = ONLY_CASE === undefined ? Math.floor(CASES / 3) : 1;
    const counts = { compared: 0, valid: 0 };
    for (let i = 0; i < n; i++) {
      const seed = ONLY_CASE ?? caseSeed(BASE_SEED ^ 0x15_0a, i);
      const { text, applied } = mutate(new Rng(seed));
      const read = readYaml(text);
      // Syntax errors and duplicate keys are the YAML reader's own; JSON cannot hold Infinity or -0.
      if (!read.usable || read.problems.length > 0) continue;
      if (typeof read.value !== 'object' || read.value === null || Array.isArray(read.value)) continue;
      const json = JSON.stringify(read.value);
      if (!isDeepStrictEqual(JSON.parse(json), read.value)) continue;
      const yaml = withoutLines(() => parseConfig(text, 'fuzz.yaml'));
      const fromJson = withoutLines(() => parseConfigJson(json, 'fuzz.yaml'));
      expect(fromJson, `case ${hex(seed)} (${applied.join(', ')}); CONFIG_FUZZ_CASE=${hex(seed)}`).toEqual(yaml);
      counts.compared++;
      if (yaml.valid) counts.valid++;
    }
    if (ONLY_CASE === undefined) {
      expect(counts.compared).toBeGreaterThan(n / 3);
      expect(counts.valid).toBeGreaterThan(n / 50);
    }
  }, 180_000);
});

// ---------------------------------------------------------------------------------------------------------------
// secrets planted in secret positions

const ALNUM = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

function word(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[rng.int(ALNUM.length)];
  return s;
}

/** Forms a secret can take where a `{ env }`/`{ secret }` reference belongs. */
const FORMS: ReadonlyArray<(s: string) => string> = [
  (s) => s,
  (s) => `"${s}"`,
  (s) => `'${s}'`,
  (s) => `|\n        ${s}`,
  (s) => `>-\n        ${s}`,
  (s) => `[${s}]`,
  (s) => `{${s}}`,
  (s) => `{ ${s}: ${s} }`,
  (s) => `{ env: "${s}" }`,
  (s) => `{ secret: "${s}" }`,
  (s) => `{ env: X, secret: "${s}" }`,
  (s) => `{ value: "${s}" }`,
  (s) => `"${s}`,
  (s) => `"${s}\\q"`,
  (s) => `{ env: X } ${s}`,
  (s) => `!vault ${s}`,
  (s) => `&a ${s}`,
  (s) => `*${s}`,
  (s) => `${s}: x`,
  (s) => `\n        ${s}:\n          ${s}: 1`,
  (s) => `\n        - ${s}`,
];

describe(`secret values never leak (base seed ${hex(BASE_SEED)})`, () => {
  it('for secrets planted in any form, with other lines mutated', () => {
    const base = EXAMPLE_TEXT;
    const marker = '{ env: RELAYWATCH_TAILSPIN_CLIENT_SECRET }';
    expect(base).toContain(marker);
    const n = ONLY_CASE === undefined ? Math.max(200, Math.floor(CASES / 5)) : 1;
    for (let i = 0; i < n; i++) {
      const seed = ONLY_CASE ?? caseSeed(BASE_SEED ^ 0x5ec2e7, i);
      const rng = new Rng(seed);
      const left = word(rng, 10);
      const right = word(rng, 10);
      // The separator makes it neither a valid env name nor a valid secret name (those are names, shown by design).
      const secret = `${left}${rng.pick(['!', '%', '/', '+', '=', ' ', '$', '^', '~', ',', '"', '#'])}${right}`;
      let text = base.replace(marker, rng.pick(FORMS)(secret));
      if (rng.chance(0.5)) text = text.replace('auth: oauth', 'auth: basic').replace('clientSecret:', 'password:');
      // Line-level mutations elsewhere: they move the secret's line around the tree, never into another value.
      const ls = text.split('\n');
      const secretLine = ls.findIndex((l) => l.includes(left));
      for (let m = rng.range(0, 3); m > 0; m--) {
        const j = rng.int(ls.length);
        if (Math.abs(j - secretLine) <= 2) continue;
        const op = rng.int(3);
        if (op === 0) ls[j] = '';
        else if (op === 1) ls[j] = ls[j - 1] ?? '';
        else ls[j] = (ls[j] ?? '').replace(/^ {2}/, '');
      }
      text = ls.join('\n');
      let out: string;
      try {
        const { config, warnings } = parseConfig(text, 'leak.yaml');
        out = `${JSON.stringify(warnings)}\n${warnings.map(formatProblem).join('\n')}`;
        // A valid config holds the secret only as a reference name, which needs a valid name: not these.
        expect(JSON.stringify(config)).not.toContain(left);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        out = `${err.message}\n${JSON.stringify(err.problems)}`;
      }
      // The same document as JSON (when it is one), and the JSON text with the secret where it breaks the syntax.
      const read = readYaml(text);
      if (read.usable && typeof read.value === 'object' && read.value !== null && !Array.isArray(read.value)) {
        const json = JSON.stringify(read.value);
        for (const t of [json, json.replace(JSON.stringify(secret), secret)]) {
          try {
            out += `\n${JSON.stringify(parseConfigJson(t, 'leak.json').warnings)}`;
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            out += `\n${err.message}\n${JSON.stringify(err.problems)}`;
          }
        }
      }
      if (out.includes(left) || out.includes(right)) {
        throw new Error(
          `case ${hex(seed)}: the secret appears in the output\nre-run: CONFIG_FUZZ_CASE=${hex(seed)} npx vitest run test/unit/config/fuzz\n${out}`,
        );
      }
    }
  }, 120_000);
});
