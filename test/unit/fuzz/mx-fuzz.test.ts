/**
 * Property-based fuzzing of the MX check (see prng.ts for how to reproduce a failure).
 *
 * Each case builds a random MX set (zones.ts: 1–25 hosts, null MX, duplicates, Microsoft 365 hosts of this and other
 * tenants, other providers, hosts that are void, fail per type, are CNAMEs or CNAME loops, a root that fails, is void
 * or is a CNAME) and checks: the outcome invariants (invariants.ts); a failure of the root MX query gives `unknown` and
 * nothing else; no `unknown` finding without a DNS failure; the details list every MX record in priority order; null
 * MX findings, the relay endpoint and per-host findings agree with the zone; reordering the records changes nothing
 * but order; replacing every injected failure by benign content never removes an error; the check finishes in time.
 */
import { describe, expect, it } from 'vitest';
import { makeSpfEvaluator } from '../../../shared/adapters/spf/mailauth-spf.ts';
import { isM365Host, m365DomainKeys, mxCheck } from '../../../shared/checks/mx.ts';
import type { CheckContext } from '../../../shared/checks/types.ts';
import type { CheckOutcome } from '../../../shared/domain/outcome.ts';
import { isFailure, type MxData, normaliseName } from '../../../shared/ports/dns-resolver.ts';
import { fuzzSettings, hex, Rng } from '../../support/prng.ts';
import { ZoneFake } from '../../support/zone-fake.ts';
import { batchSeeds, type CaseResult, formatFailures, runCases } from './harness.ts';
import { errorCodes, outcomeProblems } from './invariants.ts';
import { buildMxCase, describeZone, FuzzResolver, type MxCase, withTimeout, type Zone } from './zones.ts';

const FILE = 'test/unit/fuzz/mx-fuzz.test.ts';
const { base, scale, only } = fuzzSettings(0x3c0f_2026);
const SEED = `FUZZ_SEED=${hex(base)}`;
const CASES = Math.round(3000 * scale);
const BATCH = 1000;
const CASE_TIMEOUT_MS = 4000;

async function runCheck(c: MxCase, zone: Zone): Promise<{ out: CheckOutcome | 'timed-out'; resolver: FuzzResolver }> {
  const resolver = new FuzzResolver(zone);
  const ctx: CheckContext = { resolver, evaluateSpf: makeSpfEvaluator(resolver), now: () => 0 };
  const target = {
    domain: c.domain,
    relayIps: [],
    ...(c.expectedMx !== undefined ? { expectedMx: c.expectedMx } : {}),
  };
  const out = await withTimeout(mxCheck.run(target, ctx), CASE_TIMEOUT_MS, () => resolver.abandon());
  return { out, resolver };
}

function sortedCodes(out: CheckOutcome): string[] {
  return out.findings.map((f) => f.code).sort();
}

/** What the host's addresses are, asked directly of the zone (A or AAAA answer wins; else a failure is unknown). */
async function hostState(fake: ZoneFake, host: string): Promise<'resolves' | 'unknown' | 'unresolvable'> {
  const [a, aaaa] = await Promise.all([fake.query(host, 'A'), fake.query(host, 'AAAA')]);
  if (a.kind === 'answer' || aaaa.kind === 'answer') return 'resolves';
  return isFailure(a) || isFailure(aaaa) ? 'unknown' : 'unresolvable';
}

async function mxCase(seed: number, stats: Stats): Promise<CaseResult> {
  const r = new Rng(seed);
  const c = buildMxCase(r, m365DomainKeys);
  const zone = c.builder.zone;
  const problems: string[] = [];
  const context = () =>
    `  domain ${JSON.stringify(c.domain)}, expectedMx ${JSON.stringify(c.expectedMx)}, zone:\n${describeZone(zone)}`;

  const first = await runCheck(c, zone);
  stats.cases++;
  if (first.out === 'timed-out') {
    return { problems: [`mxCheck.run did not finish within ${CASE_TIMEOUT_MS} ms`], context };
  }
  const out = first.out;
  problems.push(...outcomeProblems(out, 'mx', JSON.stringify([zone, c.domain, c.expectedMx ?? null])));
  const domain = normaliseName(c.domain);
  if (out.subject !== domain) problems.push(`subject ${out.subject}, expected ${domain}`);

  const fake = new ZoneFake(zone);
  const rootMx = await fake.query(domain, 'MX');
  if (isFailure(rootMx)) {
    stats.rootFailures++;
    if (out.status !== 'unknown') problems.push(`root MX query fails (${rootMx.kind}) but status is ${out.status}`);
    if (sortedCodes(out).join() !== 'mx-dns-unknown') problems.push(`root failure gives ${sortedCodes(out).join()}`);
  }
  if (first.resolver.failures.length === 0) {
    stats.failureFree++;
    const unknown = out.findings.filter((f) => f.severity === 'unknown').map((f) => f.code);
    if (unknown.length > 0) problems.push(`no DNS failure at all, yet unknown findings: ${unknown.join(', ')}`);
  }

  if (rootMx.kind === 'answer') {
    stats.answers++;
    const records: MxData[] = rootMx.records.map((x) => x.data);
    const listed = (out.details?.records ?? []) as Array<{ priority: number; exchange: string }>;
    if (listed.length !== records.length) problems.push(`details list ${listed.length} of ${records.length} records`);
    for (let i = 1; i < listed.length; i++) {
      if (listed[i]!.priority < listed[i - 1]!.priority) problems.push('details.records not in priority order');
    }
    const nulls = records.filter((m) => m.exchange === '').length;
    const has = (code: string) => out.findings.some((f) => f.code === code);
    if (has('mx-null') !== (nulls > 0 && nulls === records.length)) problems.push('mx-null disagrees with the zone');
    if (has('mx-null-mixed') !== (nulls > 0 && nulls < records.length)) {
      problems.push('mx-null-mixed disagrees with the zone');
    }
    const hosts = records.filter((m) => m.exchange !== '');
    const m365 = hosts.filter((m) => isM365Host(m.exchange));
    const endpoint = out.details?.relayEndpoint;
    if (m365.length > 0) {
      stats.m365++;
      const best = Math.min(...m365.map((m) => m.priority));
      const at = m365.filter((m) => m.priority === best).map((m) => m.exchange);
      if (typeof endpoint !== 'string' || !at.includes(endpoint)) {
        problems.push(`relayEndpoint ${String(endpoint)} is not a preferred M365 host (${at.join(', ')})`);
      }
      if (!has('mx-m365-ok')) problems.push('M365 host present but no mx-m365-ok');
    } else if (endpoint !== undefined || has('mx-m365-ok')) {
      problems.push('relay endpoint reported without an M365 host');
    }
    if (hosts.length > 10) stats.over10++;
    // per-host findings, against the zone asked directly
    const expected = new Map<string, string>();
    for (const h of new Set(hosts.map((m) => m.exchange))) {
      const state = await hostState(fake, h);
      if (state !== 'resolves') expected.set(h, state === 'unknown' ? 'mx-host-unknown' : 'mx-host-unresolvable');
    }
    const got = new Map<string, string>();
    for (const f of out.findings) {
      if (f.code !== 'mx-host-unknown' && f.code !== 'mx-host-unresolvable') continue;
      const host = String(f.evidence?.host);
      if (got.has(host) && got.get(host) !== f.code) problems.push(`host ${host} has both host findings`);
      got.set(host, f.code);
    }
    for (const [h, code] of expected) if (got.get(h) !== code) problems.push(`host ${h}: expected ${code}`);
    for (const [h, code] of got) if (!expected.has(h)) problems.push(`host ${h}: unexpected ${code}`);

    // the order of the records in DNS carries no meaning
    if (r.chance(0.3)) {
      stats.reordered++;
      const key = normaliseName(rootMx.cnameChain.at(-1) ?? domain);
      const shuffled = { ...zone, [key]: r.shuffle(zone[key] ?? []) };
      const again = await runCheck(c, shuffled);
      if (again.out === 'timed-out') problems.push('the reordered twin did not finish');
      else if (again.out.status !== out.status || sortedCodes(again.out).join() !== sortedCodes(out).join()) {
        problems.push(`reordering the MX records changed the outcome: ${sortedCodes(again.out).join()}`);
      }
    }
  }

  // an outage never becomes a definite error
  if (c.builder.injected.size > 0 && !isFailure(rootMx)) {
    stats.failureTwins++;
    const twin = await runCheck(c, c.builder.twin());
    if (twin.out === 'timed-out') problems.push('the failure-free twin did not finish');
    else {
      const after = errorCodes(twin.out);
      const lost = [...errorCodes(out)].filter((code) => !after.has(code));
      if (lost.length > 0) problems.push(`error(s) ${lost.join(', ')} exist only because of a DNS failure`);
    }
  }
  return { problems, context };
}

interface Stats {
  cases: number;
  rootFailures: number;
  failureFree: number;
  answers: number;
  m365: number;
  over10: number;
  reordered: number;
  failureTwins: number;
}

const stats: Stats = {
  cases: 0,
  rootFailures: 0,
  failureFree: 0,
  answers: 0,
  m365: 0,
  over10: 0,
  reordered: 0,
  failureTwins: 0,
};

const batches = Array.from({ length: Math.ceil(CASES / BATCH) }, (_, b) => b);

describe(`MX check fuzz (${SEED}, ${CASES} cases)`, () => {
  it.each(batches)(`mxCheck.run keeps its invariants, batch %i (${SEED})`, async (batch) => {
    const seeds = batchSeeds(base, batch, BATCH, CASES, only);
    const failures = await runCases(seeds, (seed) => mxCase(seed, stats));
    if (failures.length > 0) expect.fail(formatFailures(failures, FILE));
  });

  it('exercised what it is meant to', () => {
    if (only !== null) return;
    expect(stats.cases).toBe(CASES);
    expect(stats.rootFailures).toBeGreaterThan(CASES * 0.03);
    expect(stats.failureFree).toBeGreaterThan(CASES * 0.2);
    expect(stats.answers).toBeGreaterThan(CASES * 0.7);
    expect(stats.m365).toBeGreaterThan(CASES * 0.3);
    expect(stats.over10).toBeGreaterThan(CASES * 0.03);
    expect(stats.reordered).toBeGreaterThan(CASES * 0.1);
    expect(stats.failureTwins).toBeGreaterThan(CASES * 0.2);
    console.info(`MX fuzz (${SEED}): ${JSON.stringify(stats)}`);
  });
});
