/**
 * No regular expression may stall the cycle on untrusted text (issue 15 §2).
 *
 * Two nets:
 * 1. Every regular-expression literal in `shared/` and `functions/` (found with a real parser, oxc-parser, so a new
 *    pattern anywhere is picked up without anyone listing it) is run against adversarial 100 KB inputs built from its
 *    own characters: long runs of one or two characters, with and without a character that makes the match fail at
 *    the end, behind the pattern's literal prefix. A quadratic pattern needs seconds on such input; a linear one needs
 *    well under a millisecond. `new RegExp(…)` call sites cannot be found that way: each must be listed in
 *    DYNAMIC_PATTERNS below (the test fails on an unlisted one) and is then checked the same way.
 * 2. The public parsers that see untrusted text (SPF records and the include tree, the blocklist TXT reason, SMTP
 *    replies and the diagnosis classifier, NDR text for delisting, config strings) run on adversarial 100 KB inputs
 *    under the same bound, so a slow loop that is not a regex is caught too.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseSync } from 'oxc-parser';
import { describe, expect, it } from 'vitest';
import { sanitiseReason } from '../../../shared/blocklist/verdict.ts';
import { buildSpfTree } from '../../../shared/checks/spf-tree.ts';
import { normaliseDomainName, normaliseMailbox } from '../../../shared/config/domain-name.ts';
import { parseRelayIp } from '../../../shared/config/relay-ip.ts';
import { chooseRecipient, portalUrl } from '../../../shared/delist/recipient.ts';
import { canonicalIp } from '../../../shared/domain/ip.ts';
import { checkDomainSpec, parseSpf } from '../../../shared/domain/spf-record.ts';
import { clean } from '../../../shared/notify/escape.ts';
import { bodySnippet } from '../../../shared/notify/http.ts';
import { classifyRaw, parseReply, quotedIp } from '../../../shared/probe/diagnosis.ts';
import { ZoneFake } from '../../support/zone-fake.ts';

const ROOT = join(import.meta.dirname, '../../..');
const SIZE = 100_000;
/** A linear pattern on 100 KB takes a few ms even on a loaded machine; a quadratic one takes seconds. */
const BOUND_MS = 250;
/** The bound at 10 KB, where a quadratic pattern already needs tens of milliseconds and a linear one well under one. */
const PRECHECK_MS = 25;

interface FoundPattern {
  readonly where: string;
  readonly pattern: string;
  readonly flags: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function walk(node: unknown, visit: (n: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  visit(record);
  for (const key of Object.keys(record)) if (key !== 'parent') walk(record[key], visit);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function findPatterns(): { literals: FoundPattern[]; dynamic: string[] } {
  const literals: FoundPattern[] = [];
  const dynamic: string[] = [];
  for (const file of [...sourceFiles(join(ROOT, 'shared')), ...sourceFiles(join(ROOT, 'functions'))]) {
    const text = readFileSync(file, 'utf8');
    const parsed = parseSync(file, text, { lang: 'ts' });
    if (parsed.errors.length > 0) throw new Error(`${file} does not parse: ${parsed.errors[0]?.message}`);
    const rel = relative(ROOT, file);
    walk(parsed.program, (n) => {
      const regex = n.regex as { pattern: string; flags: string } | undefined;
      if (n.type === 'Literal' && regex !== undefined) {
        literals.push({ where: `${rel}:${lineOf(text, n.start as number)}`, ...regex });
      }
      if (n.type === 'NewExpression' || n.type === 'CallExpression') {
        const callee = n.callee as { type?: string; name?: string } | undefined;
        if (callee?.type === 'Identifier' && callee.name === 'RegExp') dynamic.push(rel);
      }
    });
  }
  return { literals, dynamic };
}

/**
 * Patterns built at run time, by file: what they are built from, as a pattern. Add a line here when adding a
 * `new RegExp(…)`, with the pattern it builds.
 */
const DYNAMIC_PATTERNS: Readonly<Record<string, readonly FoundPattern[]>> = {
  'shared/adapters/oauth/msal-token-provider.ts': [
    {
      where: 'msal-token-provider.ts TENANT',
      pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$',
      flags: 'i',
    },
  ],
};

/** Characters an input is built from: the pattern's own printable characters and representatives of its escapes. */
function alphabet(pattern: string): string[] {
  const chars = new Set<string>(['a', 'A', '0', ' ', '.', '-', '@', ':', '/', '%', '=', '_', 'é', '\t']);
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const e = pattern[i + 1] ?? '';
      i++;
      const rep: Record<string, string> = { d: '0', w: 'a', s: ' ', D: 'a', W: ' ', S: 'a', n: '\n', r: '\r', t: '\t' };
      chars.add(rep[e] ?? e);
      continue;
    }
    if (c >= ' ' && c <= '~' && !'^$|()?*+{}'.includes(c)) chars.add(c);
  }
  return [...chars];
}

/** The literal text a pattern starts with after `^` (so an anchored pattern gets to its loops). */
function literalPrefix(pattern: string): string {
  let out = '';
  let i = pattern.startsWith('^') ? 1 : 0;
  for (; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const e = pattern[i + 1] ?? '';
      if (/[.\-/\\[\]()?*+{}^$|]/.test(e)) {
        out += e;
        i++;
        continue;
      }
      break;
    }
    if (/[[\](){}?*+|.^$]/.test(c)) break;
    out += c;
  }
  // a quantifier after the last literal makes it optional: drop it
  return /[?*+{]/.test(pattern[i] ?? '') ? out.slice(0, -1) : out;
}

function* adversarialInputs(pattern: string, size: number): Generator<string> {
  const chars = alphabet(pattern);
  const prefix = literalPrefix(pattern);
  const endings = ['', '\u0000', '!', '\n'];
  for (const c of chars) {
    const run = c.repeat(size);
    for (const end of endings) {
      yield run + end;
      if (prefix !== '') yield prefix + run + end;
    }
  }
  const core = chars.filter((c) => /[a-z0-9.\-@:/%= ]/i.test(c)).slice(0, 14);
  for (const c of core) {
    for (const d of core) {
      if (c === d) continue;
      const run = (c + d).repeat(size / 2);
      yield `${prefix}${run}\u0000`;
    }
  }
}

function exercise(re: RegExp, input: string): void {
  // replace scans every position for a global pattern (like matchAll) and tries every start for another; split too
  input.replace(re, '');
  input.split(new RegExp(re.source, re.flags.replace(/[gy]/g, '')), 8);
}

/**
 * The slowest input for a pattern. Every input is first tried at a tenth of the size: a pattern that is slow there
 * (quadratic: a hundred times slower at full size) is reported at once, so a failing run stays short.
 */
function measure(re: RegExp, input: string): number {
  const started = performance.now();
  exercise(re, input);
  return performance.now() - started;
}

function slowest(p: FoundPattern): { ms: number; input: string; size: number } {
  const re = new RegExp(p.pattern, p.flags);
  let worst = { ms: 0, input: '', size: SIZE };
  for (const size of [SIZE / 10, SIZE]) {
    const bound = size === SIZE ? BOUND_MS : PRECHECK_MS;
    for (const input of adversarialInputs(p.pattern, size)) {
      let ms = measure(re, input);
      // the machine is shared: a slow run is measured twice more and the fastest counts (a quadratic one stays slow)
      for (let again = 0; again < 2 && ms > bound; again++) ms = Math.min(ms, measure(re, input));
      if (ms > bound) return { ms, input, size };
      if (size === SIZE && ms > worst.ms) worst = { ms, input, size };
    }
  }
  return worst;
}

/** Slower than its bound: 250 ms at 100 KB, or 25 ms already at 10 KB. */
function tooSlow(worst: { ms: number; size: number }): boolean {
  return worst.ms > (worst.size === SIZE ? BOUND_MS : PRECHECK_MS);
}

function describeInput(input: string): string {
  return JSON.stringify(input.length > 40 ? `${input.slice(0, 30)}…(${input.length} chars)…${input.slice(-4)}` : input);
}

describe('regular expressions on adversarial 100 KB inputs', () => {
  const { literals, dynamic } = findPatterns();

  it('finds the project regexes with a parser (the net is not empty)', () => {
    expect(literals.length).toBeGreaterThan(100);
    expect(literals.some((p) => p.where.startsWith('shared/domain/spf-record.ts'))).toBe(true);
  });

  it('lists every new RegExp(…) call site with the pattern it builds', () => {
    const unlisted = [...new Set(dynamic)].filter((file) => DYNAMIC_PATTERNS[file] === undefined);
    expect(unlisted).toEqual([]);
  });

  it('runs every regex literal in linear time (each within 250 ms on every input)', () => {
    const slow: string[] = [];
    for (const p of [...literals, ...Object.values(DYNAMIC_PATTERNS).flat()]) {
      const worst = slowest(p);
      if (tooSlow(worst)) {
        const ms = Math.round(worst.ms);
        slow.push(`${p.where} /${p.pattern}/${p.flags}: ${ms} ms on ${describeInput(worst.input)}`);
      }
    }
    expect(slow).toEqual([]);
  }, 120_000);

  it('flags a quadratic pattern (the net catches what it is for)', () => {
    // the TOPLABEL pattern that was in spf-record.ts, and the address token of recipient.ts
    const old = [
      { where: 'old TOPLABEL', pattern: '^(?:[a-z0-9]*[a-z][a-z0-9]*|[a-z0-9]+-[a-z0-9-]*[a-z0-9])$', flags: 'i' },
      { where: 'old ADDRESS_TOKEN', pattern: '[^\\s<>()[\\]{},;:"\'`]+@[^\\s<>()[\\]{},;:"\'`]+', flags: 'g' },
    ];
    for (const p of old) expect(tooSlow(slowest(p)), p.where).toBe(true);
  }, 60_000);
});

function timed<T>(run: () => T): { ms: number; value: T } {
  const started = performance.now();
  const value = run();
  return { ms: performance.now() - started, value };
}

const LONG_LABEL = 'a'.repeat(SIZE);
const LONG_DIGITS = '1'.repeat(SIZE);

describe('parsers of untrusted text on adversarial 100 KB inputs', () => {
  const records = [
    `v=spf1 include:example.${LONG_LABEL} -all`,
    `v=spf1 include:example.${LONG_LABEL}!`,
    `v=spf1 a:x.${'a-'.repeat(SIZE / 2)}1 -all`,
    `v=spf1 redirect=x.${LONG_DIGITS}a-`,
    `v=spf1 exists:%{${'i'.repeat(SIZE)}} -all`,
    `v=spf1 mx:${'/1'.repeat(SIZE / 2)}`,
    `v=spf1 ip4:${'1.'.repeat(SIZE / 2)}`,
    `v=spf1 ip6:${':'.repeat(SIZE)}`,
    `v=spf1 ${'%{'.repeat(SIZE / 2)}`,
  ];

  it('parses every adversarial SPF record within 250 ms and reports it broken', () => {
    for (const record of records) {
      const { ms, value } = timed(() => parseSpf(record));
      expect(ms, describeInput(record)).toBeLessThan(BOUND_MS);
      expect(value.errors.length, describeInput(record)).toBeGreaterThan(0);
    }
    // a valid record (an unknown modifier whose value holds "=") of 100 KB is parsed within the bound too
    for (const valid of [`v=spf1 ${'x='.repeat(SIZE / 2)}`, `v=spf1 ${' '.repeat(SIZE)}-all`]) {
      expect(timed(() => parseSpf(valid)).ms, describeInput(valid)).toBeLessThan(BOUND_MS);
    }
    expect(timed(() => checkDomainSpec(`x.${LONG_LABEL}`)).ms).toBeLessThan(BOUND_MS);
    expect(checkDomainSpec(`x.${LONG_LABEL}`)).toMatch(/longer than 63/);
  });

  it('builds the include tree of a domain whose record holds a 60 KB term within the bound', async () => {
    const fake = new ZoneFake({
      'tenant.example': [{ TXT: `v=spf1 include:spf.${'a'.repeat(60_000)} include:x.${'b'.repeat(60_000)}! -all` }],
    });
    const started = performance.now();
    await buildSpfTree(fake, 'tenant.example');
    expect(performance.now() - started).toBeLessThan(BOUND_MS * 2);
  });

  it('classifies adversarial SMTP replies and NDR text within the bound', () => {
    const replies = [
      `550 5.7.606 ${'a'.repeat(SIZE)}`,
      `550 ${'5.7.'.repeat(SIZE / 4)}`,
      `550-${'550-'.repeat(SIZE / 4)}`,
      `${'4.4.4 '.repeat(SIZE / 6)}`,
      `[${'1.'.repeat(SIZE / 2)}]`,
      `${'@'.repeat(SIZE)}`,
      `${'a@'.repeat(SIZE / 2)}`,
      `${'a.'.repeat(SIZE / 2)}@microsoft.com`,
      `https://sender.office.com/${'a'.repeat(SIZE)}`,
      `${'https://sender.office.com'.repeat(SIZE / 25)}`,
      `${'.'.repeat(SIZE)}x`,
    ];
    for (const reply of replies) {
      for (const [name, run] of [
        ['parseReply', () => parseReply(reply)],
        ['classifyRaw', () => classifyRaw('rcpt', reply)],
        ['quotedIp', () => quotedIp(reply)],
        ['chooseRecipient', () => chooseRecipient(reply)],
        ['portalUrl', () => portalUrl(reply)],
        ['sanitiseReason', () => sanitiseReason(reply)],
        ['clean', () => clean(reply)],
        ['bodySnippet', () => bodySnippet(reply, 'https://hooks.example/abc')],
      ] as ReadonlyArray<readonly [string, () => unknown]>) {
        expect(timed(run).ms, `${name} on ${describeInput(reply)}`).toBeLessThan(BOUND_MS);
      }
    }
  });

  it('checks adversarial config strings within the bound', () => {
    for (const text of [LONG_LABEL, `${'a.'.repeat(SIZE / 2)}`, `${'a-'.repeat(SIZE / 2)}`, `a@${LONG_LABEL}`]) {
      for (const [name, run] of [
        ['normaliseDomainName', () => normaliseDomainName(text)],
        ['normaliseMailbox', () => normaliseMailbox(text)],
        ['parseRelayIp', () => parseRelayIp(text)],
        ['canonicalIp', () => canonicalIp(text)],
      ] as ReadonlyArray<readonly [string, () => unknown]>) {
        expect(timed(run).ms, `${name} on ${describeInput(text)}`).toBeLessThan(BOUND_MS);
      }
    }
  });
});
