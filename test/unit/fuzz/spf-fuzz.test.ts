/**
 * Property-based fuzzing of the SPF record parser and the SPF check (see prng.ts for how to reproduce a failure).
 *
 * Each case builds a random zone (spf-grammar.ts, zones.ts), runs `spfCheck.run` with the mailauth evaluator and checks:
 * the outcome invariants (invariants.ts); a DNS failure on the root TXT query gives `unknown`; no `unknown` finding
 * without a DNS failure; syntax-error columns inside the record; relay evaluations are RFC 7208 results and their
 * findings match; the check finishes in time even on loops, cliques and 30-deep chains; splitting the root record into
 * other character-strings changes nothing; replacing every injected failure by benign content never removes an error
 * (an outage is never turned into a definite error); mailauth agrees with an RFC 7208 reference evaluator
 * (spf-oracle.ts) on every macro-free evaluation; and when mailauth returns permerror for an IPv4 relay IP our static
 * tree analysis has reported an error too.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { makeSpfEvaluator } from '../../../shared/adapters/spf/mailauth-spf.ts';
import { spfCheck } from '../../../shared/checks/spf.ts';
import type { CheckContext } from '../../../shared/checks/types.ts';
import { ipInEntries } from '../../../shared/domain/ip.ts';
import type { CheckOutcome } from '../../../shared/domain/outcome.ts';
import { isSpfRecord, parseSpf } from '../../../shared/domain/spf-record.ts';
import { isFailure, normaliseName } from '../../../shared/ports/dns-resolver.ts';
import { SPF_RESULTS } from '../../../shared/ports/spf-evaluator.ts';
import { fuzzSettings, hex, Rng } from '../../support/prng.ts';
import { ZoneFake } from '../../support/zone-fake.ts';
import { batchSeeds, type CaseResult, formatFailures, runCases } from './harness.ts';
import { errorCodes, outcomeProblems } from './invariants.ts';
import {
  chunked,
  type GrammarOptions,
  grammarRecord,
  mechanism,
  mutate,
  seedRecord,
  testNetIp,
} from './spf-grammar.ts';
import { LABEL_ONLY_ERROR, mailauthSyntaxError, referenceCheckHost } from './spf-oracle.ts';
import { buildSpfCase, describeZone, FuzzResolver, type SpfCase, withTimeout, type Zone } from './zones.ts';

const FILE = 'test/unit/fuzz/spf-fuzz.test.ts';
const { base, scale, only } = fuzzSettings(0x5bf0_2026);
const SEED = `FUZZ_SEED=${hex(base)}`;
const CHECK_CASES = Math.round(3000 * scale);
const PARSE_RECORDS = Math.round(12000 * scale);
const BATCH = 500;
const CASE_TIMEOUT_MS = 4000;

/** Findings about relay IPs and posture: not what the static tree analysis is about. */
const NOT_TREE = new Set(['spf-relay-ip-not-authorised', 'spf-all-pass', 'spf-m365-include-missing']);

async function runCheck(c: SpfCase, zone: Zone): Promise<{ out: CheckOutcome | 'timed-out'; resolver: FuzzResolver }> {
  const resolver = new FuzzResolver(zone);
  const ctx: CheckContext = { resolver, evaluateSpf: makeSpfEvaluator(resolver), now: () => 0 };
  const out = await withTimeout(spfCheck.run({ domain: c.domain, relayIps: c.relayIps }, ctx), CASE_TIMEOUT_MS, () =>
    resolver.abandon(),
  );
  return { out, resolver };
}

function evaluationsOf(out: CheckOutcome): Array<{ ip: string; result: string }> {
  const raw = out.details?.evaluations;
  return Array.isArray(raw) ? (raw as Array<{ ip: string; result: string }>) : [];
}

async function spfCase(seed: number, stats: Stats): Promise<CaseResult> {
  const c = buildSpfCase(new Rng(seed));
  const zone = c.builder.zone;
  const problems: string[] = [];
  const context = () =>
    `  domain ${JSON.stringify(c.domain)}, relayIps ${JSON.stringify(c.relayIps)}, zone:\n${describeZone(zone)}`;

  const first = await runCheck(c, zone);
  stats.cases++;
  stats.queries += first.resolver.queries;
  if (first.out === 'timed-out') {
    return {
      problems: [`spfCheck.run did not finish within ${CASE_TIMEOUT_MS} ms (${first.resolver.queries} queries asked)`],
      context,
    };
  }
  const out = first.out;
  problems.push(...outcomeProblems(out, 'spf', JSON.stringify([zone, c.domain, c.relayIps])));

  const rootTxt = await new ZoneFake(zone).query(c.domain, 'TXT');
  if (isFailure(rootTxt)) {
    stats.rootFailures++;
    if (out.status !== 'unknown') problems.push(`root TXT query fails (${rootTxt.kind}) but status is ${out.status}`);
  }
  if (first.resolver.failures.length === 0) {
    stats.failureFree++;
    const unknown = out.findings.filter((f) => f.severity === 'unknown').map((f) => f.code);
    if (unknown.length > 0) problems.push(`no DNS failure at all, yet unknown findings: ${unknown.join(', ')}`);
  }
  for (const f of out.findings) {
    if (f.code !== 'spf-syntax-error') continue;
    stats.syntaxFindings++;
    const { position, record } = f.evidence as { position: number; record: string };
    if (!Number.isInteger(position) || position < 1 || position > record.length + 1) {
      problems.push(`syntax error column ${position} outside 1..${record.length + 1} of ${JSON.stringify(record)}`);
    }
  }

  const evaluations = evaluationsOf(out);
  const refZone = new ZoneFake(zone);
  for (const e of evaluations) {
    stats.evaluations++;
    if (!(SPF_RESULTS as readonly string[]).includes(e.result)) problems.push(`evaluation result ${e.result}`);
    const code =
      e.result === 'pass'
        ? 'spf-relay-ip-pass'
        : e.result === 'temperror'
          ? 'spf-relay-ip-unknown'
          : 'spf-relay-ip-not-authorised';
    if (!out.findings.some((f) => f.code === code && f.evidence?.ip === e.ip)) {
      problems.push(`evaluation ${e.ip} → ${e.result} has no ${code} finding`);
    }
    const ref = await referenceCheckHost(refZone, normaliseName(c.domain), e.ip);
    if (ref === 'skip') continue;
    stats.differential++;
    if (e.result === 'pass') stats.differentialPass++;
    if (ref !== e.result) {
      problems.push(`mailauth says ${e.result} for ${e.ip}, the RFC 7208 reference evaluation says ${ref}`);
    }
    if (e.result === 'permerror' && !e.ip.includes(':') && first.resolver.failures.length === 0) {
      const treeErrors = out.findings.filter((f) => f.severity === 'error' && !NOT_TREE.has(f.code));
      if (treeErrors.length === 0) {
        problems.push(`mailauth: permerror for ${e.ip}, but the tree analysis reports no error`);
      }
    }
  }

  // the same record published as other character-strings: nothing may change
  if (c.rootUnchunked) {
    stats.chunkTwins++;
    const key = normaliseName(c.root);
    const entries = [...(zone[key] ?? [])];
    entries[c.rootUnchunked.index] = { TXT: c.rootUnchunked.text };
    const twin = await runCheck(c, { ...zone, [key]: entries });
    if (twin.out === 'timed-out') problems.push('the unchunked twin did not finish');
    else if (!isDeepStrictEqual(twin.out, out)) {
      problems.push('splitting the root record into other TXT character-strings changed the outcome');
    }
  }

  // an outage never becomes a definite error: every error must still be there when the failures get benign content
  if (c.builder.injected.size > 0 && !isFailure(rootTxt)) {
    stats.failureTwins++;
    const twin = await runCheck(c, c.builder.twin());
    if (twin.out === 'timed-out') problems.push('the failure-free twin did not finish');
    else {
      const after = errorCodes(twin.out);
      const lost = [...errorCodes(out)].filter((code) => !after.has(code));
      if (lost.length > 0) {
        problems.push(
          `error(s) ${lost.join(', ')} exist only because of a DNS failure (${first.resolver.failures
            .slice(0, 3)
            .map((f) => `${f.name}/${f.type} ${f.kind}`)
            .join(', ')}): outage reported as a definite error`,
        );
      }
    }
  }
  return { problems, context };
}

interface Stats {
  cases: number;
  queries: number;
  rootFailures: number;
  failureFree: number;
  syntaxFindings: number;
  evaluations: number;
  differential: number;
  differentialPass: number;
  chunkTwins: number;
  failureTwins: number;
}

const stats: Stats = {
  cases: 0,
  queries: 0,
  rootFailures: 0,
  failureFree: 0,
  syntaxFindings: 0,
  evaluations: 0,
  differential: 0,
  differentialPass: 0,
  chunkTwins: 0,
  failureTwins: 0,
};

const batches = Array.from({ length: Math.ceil(CHECK_CASES / BATCH) }, (_, b) => b);

describe(`SPF check fuzz (${SEED}, ${CHECK_CASES} cases)`, () => {
  it.each(batches)(`spfCheck.run keeps its invariants, batch %i (${SEED})`, async (batch) => {
    const seeds = batchSeeds(base, batch, BATCH, CHECK_CASES, only);
    const failures = await runCases(seeds, (seed) => spfCase(seed, stats));
    if (failures.length > 0) expect.fail(formatFailures(failures, FILE));
  });

  it('exercised what it is meant to', () => {
    if (only !== null) return;
    // guards against a generator change that quietly stops covering the interesting paths
    expect(stats.cases).toBe(CHECK_CASES);
    expect(stats.rootFailures).toBeGreaterThan(CHECK_CASES * 0.01);
    expect(stats.failureFree).toBeGreaterThan(CHECK_CASES * 0.3);
    expect(stats.syntaxFindings).toBeGreaterThan(CHECK_CASES * 0.1);
    expect(stats.differential).toBeGreaterThan(CHECK_CASES * 0.3);
    expect(stats.differentialPass).toBeGreaterThan(CHECK_CASES * 0.05);
    expect(stats.chunkTwins).toBeGreaterThan(CHECK_CASES * 0.1);
    expect(stats.failureTwins).toBeGreaterThan(CHECK_CASES * 0.1);
    console.info(`SPF fuzz (${SEED}): ${JSON.stringify(stats)}`);
  });
});

// ——— a relay IP listed by ip4: before -all ———

/*
 * "A relay IP listed via ip4: before -all passes unless the tree has more than 10 lookups" is not what RFC 7208 says:
 * evaluation is left to right and stops at the first match (§4.6.2, §5), and the limits count the queries actually
 * made (§4.6.4). So `v=spf1 ip4:<relay> include:… ×11 -all` passes, while `v=spf1 include:<no SPF> ip4:<relay> -all`
 * (permerror, §5.2), `v=spf1 -include:<passes> ip4:<relay> -all` (fail) or three void `a:` first (permerror) do not,
 * with far fewer than 10 lookups. What holds, and is checked here on macro-free, syntax-clean, failure-free zones:
 * mailauth equals the reference evaluation; when nothing before the ip4: term queries DNS or matches, the result is
 * pass whatever follows; and a permerror always comes with an error from the tree analysis.
 */
const IP4_CASES = Math.round(400 * scale);
const ip4Stats = { cases: 0, compared: 0, staticPrefixPass: 0, overLimitButPass: 0, underLimitNotPass: 0 };

async function ip4Case(seed: number): Promise<CaseResult> {
  let record = '';
  let staticPrefix = false;
  let prefix: string[] = [];
  const c = buildSpfCase(new Rng(seed), {
    clean: true,
    root: (r, pool, ips) => {
      const opts: GrammarOptions = { names: pool, broken: 0, macros: 0, ips };
      const term = (ok: RegExp) => {
        for (;;) {
          const t = mechanism(r, opts);
          if (ok.test(t) && !/^[-+~?]?(all|ptr)\b/i.test(t)) return t;
        }
      };
      const relay = r.chance(0.7) ? r.pick(ips) : testNetIp(r);
      staticPrefix = r.chance(0.4);
      prefix = Array.from({ length: r.int(0, 6) }, () => term(staticPrefix ? /^[-+~?]?ip[46]:/i : /./));
      const suffix = Array.from({ length: r.int(0, 14) }, () =>
        r.chance(0.6) ? `include:${r.pick(pool)}` : term(/./),
      );
      record = ['v=spf1', ...prefix, `ip4:${relay}`, ...suffix, '-all'].join(' ');
      return { record, relayIps: [relay] };
    },
  });
  const context = () => `  relayIps ${JSON.stringify(c.relayIps)}, zone:\n${describeZone(c.builder.zone)}`;
  const run = await runCheck(c, c.builder.zone);
  ip4Stats.cases++;
  if (run.out === 'timed-out') return { problems: ['spfCheck.run did not finish'], context };
  const out = run.out;
  const problems = outcomeProblems(out, 'spf', JSON.stringify(c.builder.zone));
  if (parseSpf(record).errors.length > 0 || record.includes('%') || run.resolver.failures.length > 0) {
    return { problems, context };
  }
  const [e] = evaluationsOf(out);
  const relay = c.relayIps[0]!;
  if (!e) return { problems: [...problems, 'no evaluation'], context };
  const ref = await referenceCheckHost(new ZoneFake(c.builder.zone), c.root, relay);
  if (ref === 'skip') return { problems, context };
  ip4Stats.compared++;
  if (ref !== e.result) problems.push(`mailauth says ${e.result}, the RFC 7208 reference says ${ref}`);
  const prefixMatches = parseSpf(`v=spf1 ${prefix.join(' ')}`).terms.some(
    (t) => t.kind === 'mechanism' && t.name === 'ip4' && ipInEntries(relay, [`${t.value}/${t.cidr4 ?? 32}`]),
  );
  if (staticPrefix && !prefixMatches) {
    ip4Stats.staticPrefixPass++;
    if (e.result !== 'pass') problems.push(`only non-matching ip4/ip6 terms before ip4:${relay}, yet ${e.result}`);
  }
  const lookups = Number(out.details?.lookups);
  if (lookups > 10 && e.result === 'pass') ip4Stats.overLimitButPass++;
  if (lookups <= 10 && e.result !== 'pass') ip4Stats.underLimitNotPass++;
  if (e.result === 'permerror' && !out.findings.some((f) => f.severity === 'error' && !NOT_TREE.has(f.code))) {
    problems.push('permerror, but the tree analysis reports no error');
  }
  return { problems, context };
}

describe(`SPF relay IP listed by ip4: before -all (${SEED}, ${IP4_CASES} cases)`, () => {
  it(`evaluates as RFC 7208 says, lazily (${SEED})`, async () => {
    const failures = await runCases(batchSeeds(base ^ 0x1b4, 0, IP4_CASES, IP4_CASES, only), ip4Case);
    if (failures.length > 0) expect.fail(formatFailures(failures, FILE));
    if (only !== null) return;
    expect(ip4Stats.compared).toBeGreaterThan(IP4_CASES * 0.5);
    expect(ip4Stats.staticPrefixPass).toBeGreaterThan(IP4_CASES * 0.2);
    console.info(`ip4-before-all (${SEED}): ${JSON.stringify(ip4Stats)}`);
  });
});

// ——— the parser alone ———

function parserRecord(r: Rng): string {
  const names = ['contoso.example', '_spf.contoso.example', 'spf.protection.outlook.com', 'n1.fz.example'];
  const opts: GrammarOptions = {
    names,
    broken: r.pick([0, 0.05, 0.2, 0.5]),
    macros: r.pick([0, 0.2, 0.5]),
    ips: ['203.0.113.10'],
  };
  return r.weighted<string>([
    [5, () => grammarRecord(r, opts)],
    [1, () => seedRecord(r, names)],
    [4, () => mutate(r, r.chance(0.5) ? seedRecord(r, names) : grammarRecord(r, opts), grammarRecord(r, opts))],
    [1, () => chunked(r, grammarRecord(r, opts)).join('')],
  ]);
}

function parserProblems(record: string): string[] {
  const p: string[] = [];
  let parsed: ReturnType<typeof parseSpf>;
  try {
    parsed = parseSpf(record);
  } catch (e) {
    return [`parseSpf threw: ${String(e)}`];
  }
  if (parsed.text !== record) p.push('text is not the record');
  for (const e of parsed.errors) {
    if (!Number.isInteger(e.position) || e.position < 1 || e.position > record.length + 1) {
      p.push(`error position ${e.position} outside 1..${record.length + 1}`);
    }
    if (typeof e.message !== 'string' || e.message.length === 0) p.push('error without a message');
    if (typeof e.term !== 'string') p.push('error without a term');
  }
  for (let i = 1; i < parsed.errors.length; i++) {
    if (parsed.errors[i]!.position < parsed.errors[i - 1]!.position) p.push('errors not in column order');
  }
  let last = 0;
  for (const t of parsed.terms) {
    if (t.position <= last) p.push(`term positions not increasing at ${t.position}`);
    last = t.position;
    if (record.slice(t.position - 1, t.position - 1 + t.raw.length) !== t.raw) {
      p.push(`term ${JSON.stringify(t.raw)} is not at column ${t.position}`);
    }
    if (t.raw.length === 0 || t.raw.includes(' ')) p.push(`term ${JSON.stringify(t.raw)} is empty or has a space`);
  }
  if (!isSpfRecord(record) && parsed.errors.length === 0) p.push('a non-v=spf1 record parses without error');
  if (isSpfRecord(record)) {
    const ours = parsed.errors.length > 0;
    const theirs = mailauthSyntaxError(record);
    const labelOnly = parsed.errors.every((e) => LABEL_ONLY_ERROR.test(e.message));
    if (ours && theirs === null && !labelOnly) {
      p.push(
        `parser disagreement: we report ${JSON.stringify(parsed.errors.map((e) => e.message))}, mailauth (strict) accepts the record`,
      );
    }
    if (!ours && theirs !== null) {
      p.push(`parser disagreement: we accept the record, mailauth (strict) says permerror: ${theirs}`);
    }
  }
  return p;
}

describe(`SPF parser fuzz (${SEED}, ${PARSE_RECORDS} records)`, () => {
  it(`parseSpf keeps its invariants and agrees with mailauth's RFC 7208 §12 syntax check (${SEED})`, async () => {
    const seeds = batchSeeds(base ^ 0x7a7a7a7a, 0, PARSE_RECORDS, PARSE_RECORDS, only);
    const failures = await runCases(seeds, async (seed) => {
      const record = parserRecord(new Rng(seed));
      return { problems: parserProblems(record), context: () => `  record ${JSON.stringify(record)}` };
    });
    if (failures.length > 0) expect.fail(formatFailures(failures, FILE, 12));
  });

  it('parses very long hostile records in linear time', () => {
    const r = new Rng(base);
    for (const unit of ['a:', 'a:x/', '%{', 'include:%%', ':/', 'ip6:::', 'x=', 'a:a.b.c/1//', '/'.repeat(7)]) {
      const record = `v=spf1 ${unit.repeat(Math.ceil(60_000 / unit.length))}${r.pick([' -all', ''])}`;
      const started = performance.now();
      parseSpf(record);
      const ms = performance.now() - started;
      expect(ms, `parsing 60 kB of ${JSON.stringify(unit)}`).toBeLessThan(1000);
    }
  });
});
