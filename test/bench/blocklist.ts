/**
 * Benchmark: a DNS blocklist sweep of 2,000 IPv4 addresses × 8 zones served by a local rbldnsd, through our engine
 * (`runBlocklists` over `createResolver`) and through the npm package `dnsbl` (the most used Node DNSBL checker), on
 * the same generated data in the same process, against a known truth table.
 *
 * Run with `npm run bench:blocklist` (or `npm run bench`, which runs the DNS/SPF bench first). It prints a summary and
 * rewrites the "DNS blocklist sweep" section of BENCHMARKS.md (between its markers; other sections are kept).
 * Options (environment):
 *   BENCH_RUNS=5        timed runs per checker (the median is reported)
 *   BENCH_WRITE=0       do not touch BENCHMARKS.md
 * Exit status: 0 when every target is met, 1 when one is missed, 2 when the bench could not run.
 *
 * Data (seeded, mulberry32): 2,000 distinct addresses in 198.18.0.0/15 (RFC 2544 benchmarking space), zones
 * z1…z8.bl.test. Seven healthy zones list about 5% of the addresses (ip4set, per-address codes and TXT reasons, some
 * addresses in two data files of a zone and so with two codes; one ip4trie zone lists /24 ranges) and carry the
 * RFC 5782 test points (127.0.0.2 listed, 127.0.0.1 not). One zone (ip4trie 0.0.0.0/0) answers 127.255.255.254 to
 * everything, as operators do for queries from public resolvers: the truth there is `unknown` for every address.
 *
 * Method: one rbldnsd on loopback, no added delay. First one untimed counting run per checker through the UDP relay
 * of delay-relay.ts (delay 0, in a child process), which counts the datagrams each checker puts on the wire; then
 * BENCH_RUNS timed runs per checker straight to rbldnsd, alternating (ours, peer, ours, peer…), each run of ours with
 * a fresh resolver stack. Every run (counting and timed) is checked against the truth table.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { batch, type DnsblBatchItem } from 'dnsbl';
import { createResolver } from '../../shared/adapters/dns/index.ts';
import { type BlocklistRun, type PairStatus, planZone, runBlocklists } from '../../shared/blocklist/engine.ts';
import { queryName, testPointName } from '../../shared/blocklist/query-name.ts';
import { genericZone } from '../../shared/blocklist/registry.ts';
import { classify, healthVerdict } from '../../shared/blocklist/verdict.ts';
import { mulberry32 } from '../support/prng.ts';
import { type RbldnsdServer, type RbldnsdZone, startRbldnsd } from '../support/rbldnsd.ts';
import { layersSentence } from './blocklist-prose.ts';
import { type DelayRelayProcess, type RelayCounts, startDelayRelayProcess } from './delay-relay.ts';
import { median, table, writeBenchmarksSection } from './report.ts';

const SEED = 0x00b1_0c45;
const IP_COUNT = 2000;
const LISTED_SHARE = 0.05;
/** Share of listed pairs (per-address zones) that are in the zone's second data file too, with another code. */
const SECOND_CODE_SHARE = 0.2;
/** Share of listed entries that carry a TXT reason. */
const REASON_SHARE = 0.7;
const ERROR_CODE = '127.255.255.254';
/** Concurrency of both checkers: our resolver's and engine's `maxConcurrent`, the peer's `concurrency`. */
const CONCURRENCY = 64;
/** Our engine's default per-zone limit (not set by the bench; stated in the report). */
const OUR_PER_ZONE = 16;
const TIMEOUT_MS = 5000;
/** The informational WAN-like run: the relay adds this much per query (BENCH_WAN=0 skips it). */
const WAN_DELAY_MS = 25;
const WATCHDOG_MS = 5 * 60_000;
const COMMAND = 'npm run bench:blocklist';
const SECTION = 'blocklist-sweep';
const BENCHMARKS_MD = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url));

// ---------------------------------------------------------------------------------------------------------------
// Data and truth

interface ZoneSpec {
  readonly name: string;
  /** `perIp`: ip4set, listed addresses one by one; `ranges`: ip4trie with /24s; `error`: 0.0.0.0/0 → error code. */
  readonly shape: 'perIp' | 'ranges' | 'error';
  /** Listing codes the zone uses (the first is the range code for `ranges`). */
  readonly codes: readonly string[];
}

const ZONES: readonly ZoneSpec[] = [
  { name: 'z1.bl.test', shape: 'perIp', codes: ['127.0.0.2', '127.0.0.3', '127.0.0.9'] },
  { name: 'z2.bl.test', shape: 'perIp', codes: ['127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'] },
  { name: 'z3.bl.test', shape: 'perIp', codes: ['127.0.0.2'] },
  { name: 'z4.bl.test', shape: 'error', codes: [] },
  { name: 'z5.bl.test', shape: 'perIp', codes: ['127.0.0.2', '127.0.0.3'] },
  { name: 'z6.bl.test', shape: 'perIp', codes: ['127.0.0.10', '127.0.0.11'] },
  { name: 'z7.bl.test', shape: 'ranges', codes: ['127.0.0.2'] },
  { name: 'z8.bl.test', shape: 'perIp', codes: ['127.0.0.2', '127.0.0.4', '127.0.0.5'] },
];

interface Truth {
  readonly status: PairStatus;
  /** Sorted listing codes (listed only). */
  readonly codes: readonly string[];
  /** Non-empty TXT reasons, `$` already replaced by the address (listed only). */
  readonly reasons: readonly string[];
}

interface Dataset {
  readonly ips: readonly string[];
  readonly zones: readonly RbldnsdZone[];
  /** `${ip} ${zone}` → truth. */
  readonly truth: ReadonlyMap<string, Truth>;
  readonly listedPairs: number;
  readonly multiCodePairs: number;
  readonly reasonPairs: number;
  readonly ranges: number;
}

const pairKey = (ip: string, zone: string): string => `${ip} ${zone}`;

function sortCodes(codes: readonly string[]): string[] {
  return [...codes].sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3]));
}

function generate(): Dataset {
  const rand = mulberry32(SEED);
  const int = (n: number): number => Math.floor(rand() * n);
  const ipSet = new Set<string>();
  while (ipSet.size < IP_COUNT) {
    const third = int(512); // 198.18.0.0/15: the third octet spans 0–511 over 198.18 and 198.19
    const host = 1 + int(254); // no .0 or .255
    ipSet.add(`198.${18 + (third >> 8)}.${third & 0xff}.${host}`);
  }
  const ips = [...ipSet];
  const truth = new Map<string, Truth>();
  const zones: RbldnsdZone[] = [];
  let listedPairs = 0;
  let multiCodePairs = 0;
  let reasonPairs = 0;
  let ranges = 0;
  const testPoint = '127.0.0.2 :127.0.0.2:RFC 5782 test point';
  const reasonText = (zone: string, code: string): string | null =>
    rand() < REASON_SHARE ? `Listed in ${zone} (${code}): see https://${zone}/lookup?ip=$` : null;
  const entry = (address: string, code: string, reason: string | null): string => `${address} :${code}:${reason ?? ''}`;

  for (const spec of ZONES) {
    if (spec.shape === 'error') {
      zones.push({
        name: spec.name,
        type: 'ip4trie',
        files: [`0.0.0.0/0 :${ERROR_CODE}:Query refused: queries through public resolvers are blocked\n`],
      });
      for (const ip of ips) truth.set(pairKey(ip, spec.name), { status: 'unknown', codes: [], reasons: [] });
      continue;
    }
    if (spec.shape === 'ranges') {
      const code = spec.codes[0] ?? '127.0.0.2';
      const byRange = new Map<string, string[]>();
      for (const ip of ips) {
        const prefix = ip.slice(0, ip.lastIndexOf('.'));
        byRange.set(prefix, [...(byRange.get(prefix) ?? []), ip]);
      }
      // Shuffle the /24s holding our addresses (Fisher–Yates) and list them until about 5% of the addresses are in.
      const prefixes = [...byRange.keys()];
      for (let i = prefixes.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [prefixes[i], prefixes[j]] = [prefixes[j]!, prefixes[i]!];
      }
      const lines = [testPoint];
      const listed = new Set<string>();
      for (const prefix of prefixes) {
        if (listed.size >= LISTED_SHARE * IP_COUNT) break;
        lines.push(`${prefix}.0/24 :${code}:Range ${prefix}.0/24 listed for snowshoe spam ($)`);
        ranges++;
        for (const ip of byRange.get(prefix) ?? []) listed.add(ip);
      }
      zones.push({ name: spec.name, type: 'ip4trie', files: [`${lines.join('\n')}\n`] });
      for (const ip of ips) {
        if (listed.has(ip)) {
          listedPairs++;
          reasonPairs++;
          truth.set(pairKey(ip, spec.name), {
            status: 'listed',
            codes: [code],
            reasons: [`Range ${ip.slice(0, ip.lastIndexOf('.'))}.0/24 listed for snowshoe spam (${ip})`],
          });
        } else {
          truth.set(pairKey(ip, spec.name), { status: 'clean', codes: [], reasons: [] });
        }
      }
      continue;
    }
    const first = [testPoint];
    const second: string[] = [];
    for (const ip of ips) {
      if (rand() >= LISTED_SHARE) {
        truth.set(pairKey(ip, spec.name), { status: 'clean', codes: [], reasons: [] });
        continue;
      }
      const code = spec.codes[int(spec.codes.length)] ?? '127.0.0.2';
      const codes = [code];
      const reasons: string[] = [];
      const reason = reasonText(spec.name, code);
      first.push(entry(ip, code, reason));
      if (reason !== null) reasons.push(reason.replaceAll('$', ip));
      const others = spec.codes.filter((c) => c !== code);
      if (others.length > 0 && rand() < SECOND_CODE_SHARE) {
        const other = others[int(others.length)] ?? '127.0.0.3';
        const otherReason = reasonText(spec.name, other);
        second.push(entry(ip, other, otherReason));
        codes.push(other);
        if (otherReason !== null) reasons.push(otherReason.replaceAll('$', ip));
        multiCodePairs++;
      }
      listedPairs++;
      if (reasons.length > 0) reasonPairs++;
      truth.set(pairKey(ip, spec.name), { status: 'listed', codes: sortCodes(codes), reasons });
    }
    zones.push({
      name: spec.name,
      type: 'ip4set',
      files: second.length > 0 ? [`${first.join('\n')}\n`, `${second.join('\n')}\n`] : [`${first.join('\n')}\n`],
    });
  }
  return { ips, zones, truth, listedPairs, multiCodePairs, reasonPairs, ranges };
}

// ---------------------------------------------------------------------------------------------------------------
// Checking results against the truth

/** What a checker said for one pair. `codes` is null when the checker does not report codes. */
interface Said {
  readonly status: PairStatus;
  readonly codes: readonly string[] | null;
  readonly reason: string | null;
}

const MISS_KINDS = [
  'clean read as listed',
  'listed read as clean',
  'listed with wrong codes',
  'listed/clean read as unknown',
  'unknown read as listed',
  'unknown read as clean',
  'no result for the pair',
] as const;
type MissKind = (typeof MISS_KINDS)[number];

interface Score {
  readonly said: Record<PairStatus, number>;
  readonly misses: Record<MissKind, number>;
  readonly total: number;
  /** Listed pairs (right codes) whose TXT reason differs from the data (ours only; informational). */
  readonly reasonMismatches: number;
  readonly examples: readonly string[];
}

function score(data: Dataset, said: ReadonlyMap<string, Said>, compareReasons: boolean): Score {
  const counts: Record<PairStatus, number> = { listed: 0, clean: 0, unknown: 0 };
  const misses = Object.fromEntries(MISS_KINDS.map((k) => [k, 0])) as Record<MissKind, number>;
  const examples: string[] = [];
  let reasonMismatches = 0;
  const miss = (kind: MissKind, key: string, detail: string): void => {
    misses[kind]++;
    // One example per kind, so that a wholesale miss (a whole zone) does not hide the others.
    if (misses[kind] === 1) examples.push(`${kind}: ${key} (${detail})`);
  };
  for (const [key, t] of data.truth) {
    const s = said.get(key);
    if (s === undefined) {
      miss('no result for the pair', key, `truth ${t.status}`);
      continue;
    }
    counts[s.status]++;
    if (t.status === 'unknown') {
      if (s.status === 'listed') miss('unknown read as listed', key, 'error-code zone');
      else if (s.status === 'clean') miss('unknown read as clean', key, 'error-code zone');
      continue;
    }
    if (s.status === 'unknown') {
      miss('listed/clean read as unknown', key, `truth ${t.status}`);
      continue;
    }
    if (t.status === 'clean' && s.status === 'listed') {
      miss('clean read as listed', key, `codes ${s.codes?.join(',') ?? 'n/a'}`);
      continue;
    }
    if (t.status === 'listed' && s.status === 'clean') {
      miss('listed read as clean', key, `truth ${t.codes.join(',')}`);
      continue;
    }
    if (t.status === 'listed' && s.codes !== null) {
      const got = sortCodes(s.codes).join(',');
      if (got !== t.codes.join(',')) {
        miss('listed with wrong codes', key, `got ${got}, truth ${t.codes.join(',')}`);
        continue;
      }
      if (compareReasons) {
        const want = [...t.reasons].sort().join(' | ');
        const got = (s.reason ?? '').split(' | ').filter(Boolean).sort().join(' | ');
        if (want !== got) {
          reasonMismatches++;
          if (reasonMismatches === 1) {
            examples.push(`reason differs: ${key}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
          }
        }
      }
    }
  }
  return {
    said: counts,
    misses,
    total: MISS_KINDS.reduce((n, k) => n + misses[k], 0),
    reasonMismatches,
    examples,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The two checkers

interface CheckerRun {
  readonly wallMs: number;
  /** CPU time of this process during the run (user + system), ms. */
  readonly cpuMs: number;
  readonly score: Score;
  /** Our resolver's `stats().queriesSent` and the engine's `questions` (ours only). */
  readonly queriesSent: number | null;
  readonly questions: number | null;
  readonly health: string | null;
}

const cpuSince = (start: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
};

async function runOurs(data: Dataset, port: number): Promise<CheckerRun> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const stack = createResolver({
    specs: [`udp://127.0.0.1:${port}`],
    maxConcurrent: CONCURRENCY,
    timeoutMs: TIMEOUT_MS,
  });
  let run: BlocklistRun;
  try {
    const plans = ZONES.map((z) =>
      planZone({ zone: genericZone(z.name), resolver: stack.resolver, resolverIsPublic: false }),
    );
    run = await runBlocklists({ ips: data.ips, plans, maxConcurrent: CONCURRENCY });
  } finally {
    await stack.close();
  }
  const wallMs = performance.now() - t0;
  const cpuMs = cpuSince(cpu0);
  const said = new Map<string, Said>();
  for (const r of run.ips) {
    for (const z of r.zones) {
      said.set(pairKey(r.ip, z.zone), {
        status: z.status,
        codes: z.codes.map((c) => c.code),
        reason: z.reason,
      });
    }
  }
  const health = run.health.map((h) => `${h.zone}: ${h.status}${h.reason ? ` (${h.reason})` : ''}`).join('; ');
  return {
    wallMs,
    cpuMs,
    score: score(data, said, true),
    queriesSent: stack.resolver.stats().queriesSent,
    questions: run.questions,
    health,
  };
}

/**
 * For reference, not a target: the same questions through the same resolver stack without `runBlocklists` — the RFC
 * 5782 health checks, then the pairs of the usable zones by ${CONCURRENCY} workers pulling from one list (A, and TXT
 * for a listing), read with the same `classify()`. It separates the cost of the resolver stack from the engine's own.
 */
async function runResolverOnly(data: Dataset, port: number): Promise<CheckerRun> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const stack = createResolver({
    specs: [`udp://127.0.0.1:${port}`],
    maxConcurrent: CONCURRENCY,
    timeoutMs: TIMEOUT_MS,
  });
  const said = new Map<string, Said>();
  try {
    const zones = ZONES.map((z) => genericZone(z.name));
    const usable = await Promise.all(
      zones.map(async (zone) => {
        const listed = testPointName('ipv4', 'listed', zone);
        const notListed = testPointName('ipv4', 'notListed', zone);
        if (!listed.ok || !notListed.ok) return false;
        const [tp2, tp1] = await Promise.all([
          stack.resolver.query(listed.name, 'A'),
          stack.resolver.query(notListed.name, 'A'),
        ]);
        return healthVerdict(zone, tp2, tp1).status === 'usable';
      }),
    );
    const pairs: (readonly [string, (typeof zones)[number]])[] = [];
    for (const ip of data.ips) {
      for (const [i, zone] of zones.entries()) {
        if (usable[i]) pairs.push([ip, zone]);
        else said.set(pairKey(ip, zone.name), { status: 'unknown', codes: [], reason: null });
      }
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < pairs.length) {
          const [ip, zone] = pairs[next++]!;
          const name = queryName(ip, zone);
          if (!name.ok) continue;
          const a = await stack.resolver.query(name.name, 'A');
          let v = classify(zone, a);
          if (v.status === 'listed') v = classify(zone, a, await stack.resolver.query(name.name, 'TXT'));
          said.set(pairKey(ip, zone.name), {
            status: v.status,
            codes: v.status === 'listed' ? v.codes.map((c) => c.code) : [],
            reason: v.status === 'listed' ? (v.reason ?? null) : null,
          });
        }
      }),
    );
  } finally {
    await stack.close();
  }
  const wallMs = performance.now() - t0;
  const cpuMs = cpuSince(cpu0);
  const sent = stack.resolver.stats().queriesSent;
  return { wallMs, cpuMs, score: score(data, said, true), queriesSent: sent, questions: sent, health: null };
}

async function runPeer(data: Dataset, port: number): Promise<CheckerRun> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const items: DnsblBatchItem[] = await batch(
    data.ips,
    ZONES.map((z) => z.name),
    { servers: [`127.0.0.1:${port}`], concurrency: CONCURRENCY, timeout: TIMEOUT_MS },
  );
  const wallMs = performance.now() - t0;
  const cpuMs = cpuSince(cpu0);
  const said = new Map<string, Said>();
  for (const item of items) {
    said.set(pairKey(item.address, item.blacklist), {
      status: item.listed ? 'listed' : 'clean',
      codes: null,
      reason: null,
    });
  }
  return { wallMs, cpuMs, score: score(data, said, false), queriesSent: null, questions: null, health: null };
}

// ---------------------------------------------------------------------------------------------------------------
// Reporting

const ms = (v: number): string => `${Math.round(v)}`;
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  readonly os: string;
  readonly rbldnsd: string;
  readonly dnsbl: string;
}

function machine(): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  let dnsblVersion = 'unknown';
  try {
    const pkg = JSON.parse(
      readFileSync(fileURLToPath(new URL('../../node_modules/dnsbl/package.json', import.meta.url)), 'utf8'),
    ) as { version?: unknown };
    if (typeof pkg.version === 'string') dnsblVersion = pkg.version;
  } catch {
    // keep unknown
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    memoryGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    rbldnsd: '1.0pre (Debian)',
    dnsbl: dnsblVersion,
  };
}

interface Counted {
  readonly run: CheckerRun;
  readonly relay: RelayCounts;
}

interface Report {
  readonly date: string;
  readonly machine: Machine;
  readonly data: Dataset;
  readonly runs: number;
  readonly oursCounted: Counted;
  readonly peerCounted: Counted;
  readonly ours: readonly CheckerRun[];
  readonly peer: readonly CheckerRun[];
  /** Our resolver stack without the engine (reference only). */
  readonly bare: readonly CheckerRun[];
  /** One run each through a relay that adds WAN_DELAY_MS per query (informational), when run. */
  readonly wan: { readonly ours: Counted; readonly peer: Counted } | null;
  readonly load: readonly [number, number];
}

/** The exact number of queries our engine should send (see the interpretation for why). */
function expectedOurs(data: Dataset): { total: number; health: number; a: number; txt: number; literal: number } {
  const healthy = ZONES.filter((z) => z.shape !== 'error').length;
  const health = 2 * ZONES.length;
  const a = healthy * data.ips.length;
  const txt = data.listedPairs;
  return { total: health + a + txt, health, a, txt, literal: data.ips.length * ZONES.length + health };
}

interface Targets {
  readonly wall: boolean;
  readonly queries: boolean;
  readonly correct: boolean;
}

function targets(r: Report): Targets {
  const exp = expectedOurs(r.data).total;
  const everyOurs = [r.oursCounted.run, ...r.ours];
  return {
    wall: median(r.ours.map((x) => x.wallMs)) <= median(r.peer.map((x) => x.wallMs)),
    queries:
      r.oursCounted.relay.forwarded === exp &&
      r.oursCounted.relay.distinct === exp &&
      everyOurs.every((x) => x.queriesSent === exp && x.questions === exp),
    correct: everyOurs.every((x) => x.score.total === 0),
  };
}

function missCell(s: Score, kind: MissKind): string {
  return String(s.misses[kind]);
}

function tables(r: Report): string {
  const ok = targets(r);
  const exp = expectedOurs(r.data);
  const oursMedian = median(r.ours.map((x) => x.wallMs));
  const peerMedian = median(r.peer.map((x) => x.wallMs));
  const pairs = r.data.ips.length * ZONES.length;
  const wall = table(
    ['checker', `wall, ${r.runs} runs (ms)`, 'median', 'CPU of this process, median (ms)', 'target: ours ≤ peer'],
    [
      [
        'relaywatch engine',
        r.ours.map((x) => ms(x.wallMs)).join(', '),
        `**${ms(oursMedian)}**`,
        ms(median(r.ours.map((x) => x.cpuMs))),
        `**${verdict(ok.wall)}** (${(oursMedian / peerMedian).toFixed(2)}× the peer)`,
      ],
      [
        `dnsbl ${r.machine.dnsbl}`,
        r.peer.map((x) => ms(x.wallMs)).join(', '),
        `**${ms(peerMedian)}**`,
        ms(median(r.peer.map((x) => x.cpuMs))),
        '—',
      ],
      [
        'reference: our resolver stack without the engine (same questions, 64 workers)',
        r.bare.map((x) => ms(x.wallMs)).join(', '),
        ms(median(r.bare.map((x) => x.wallMs))),
        ms(median(r.bare.map((x) => x.cpuMs))),
        `— (${r.bare.every((x) => x.score.total === 0 && x.queriesSent === exp.total) ? `same ${exp.total} queries, 0 misclassified` : 'queries or verdicts differ: see the console'})`,
      ],
    ],
  );
  const oursSent = [r.oursCounted.run, ...r.ours].map((x) => x.queriesSent ?? 0);
  const queries = table(
    [
      'checker',
      'on the wire (relay, counting run)',
      'distinct (name, type) on the wire',
      'resolver `queriesSent`, every run',
      'expected',
      'target: sent = expected',
    ],
    [
      [
        'relaywatch engine',
        String(r.oursCounted.relay.forwarded),
        String(r.oursCounted.relay.distinct),
        [...new Set(oursSent)].join(' / '),
        `${exp.total} = ${exp.health} health + ${exp.a} A + ${exp.txt} TXT`,
        `**${verdict(ok.queries)}**`,
      ],
      [
        `dnsbl ${r.machine.dnsbl}`,
        String(r.peerCounted.relay.forwarded),
        String(r.peerCounted.relay.distinct),
        'n/a',
        `${pairs} (one A per pair, no health check)`,
        '—',
      ],
    ],
  );
  const worstOurs = [r.oursCounted.run, ...r.ours].reduce((a, b) => (b.score.total > a.score.total ? b : a));
  const worstPeer = [r.peerCounted.run, ...r.peer].reduce((a, b) => (b.score.total > a.score.total ? b : a));
  const said = (s: Score): string => `${s.said.listed} / ${s.said.clean} / ${s.said.unknown}`;
  const truthCounts = { listed: 0, clean: 0, unknown: 0 };
  for (const t of r.data.truth.values()) truthCounts[t.status]++;
  const verdicts = table(
    [
      'checker (worst of all runs)',
      'said listed / clean / unknown',
      ...MISS_KINDS,
      '**misclassifications**',
      'target: zero',
    ],
    [
      [
        'truth',
        `${truthCounts.listed} / ${truthCounts.clean} / ${truthCounts.unknown}`,
        ...MISS_KINDS.map(() => '—'),
        '—',
        '—',
      ],
      [
        'relaywatch engine',
        said(worstOurs.score),
        ...MISS_KINDS.map((k) => missCell(worstOurs.score, k)),
        `**${worstOurs.score.total}**`,
        `**${verdict(ok.correct)}**`,
      ],
      [
        `dnsbl ${r.machine.dnsbl}`,
        said(worstPeer.score),
        ...MISS_KINDS.map((k) => (k === 'listed with wrong codes' ? 'n/a (no codes)' : missCell(worstPeer.score, k))),
        `**${worstPeer.score.total}**`,
        'expected (shown)',
      ],
    ],
  );
  const wan = r.wan;
  const wanTable =
    wan === null
      ? ''
      : `Informational, one run each through a relay that adds ${WAN_DELAY_MS} ms per query (a WAN-like link):\n\n${table(
          [
            'checker',
            'wall (ms)',
            `bound at ${CONCURRENCY} in flight (⌈queries needed / ${CONCURRENCY}⌉ × ${WAN_DELAY_MS} ms)`,
            'on the wire (relay)',
            'said listed / clean / unknown',
            'misclassifications',
          ],
          (
            [
              ['relaywatch engine', wan.ours, exp.total],
              [`dnsbl ${r.machine.dnsbl}`, wan.peer, r.data.ips.length * ZONES.length],
            ] as const
          ).map(([label, x, needed]) => {
            const kinds = MISS_KINDS.filter((k) => x.run.score.misses[k] > 0)
              .map((k) => `${x.run.score.misses[k]} ${k}`)
              .join(', ');
            return [
              label,
              ms(x.run.wallMs),
              `${ms(Math.ceil(needed / CONCURRENCY) * WAN_DELAY_MS)} (${needed} queries)`,
              String(x.relay.forwarded),
              said(x.run.score),
              `**${x.run.score.total}**${kinds ? ` (${kinds})` : ''}`,
            ];
          }),
        )}`;
  return [wall, queries, verdicts, wanTable].filter(Boolean).join('\n\n');
}

function interpretation(r: Report): string {
  const ok = targets(r);
  const exp = expectedOurs(r.data);
  const oursMedian = median(r.ours.map((x) => x.wallMs));
  const peerMedian = median(r.peer.map((x) => x.wallMs));
  const parts: string[] = [];
  parts.push(
    `Our engine sends exactly ${exp.total} queries: the RFC 5782 health check of every zone (2 × ${ZONES.length} = ` +
      `${exp.health}), one A query per (address, zone) pair in the ${ZONES.length - 1} zones that passed it ` +
      `(${exp.a}), and one TXT query per listed pair for its reason (${exp.txt}; \`genericZone\` sets \`txt: true\`). ` +
      `The issue's formula, pairs plus health checks, gives ${exp.literal}: the difference is the TXT queries (+${exp.txt}) ` +
      `and the error-code zone, whose health check answers ${ERROR_CODE} so the engine marks it unusable and asks none ` +
      `of its ${r.data.ips.length} pairs (−${r.data.ips.length}), reporting each as \`unknown\` with the reason. ` +
      `${ok.queries ? 'The counts on the wire, in the resolver and in the engine agree with that formula in every run.' : 'The counts did NOT match that formula (see the table and the console output).'}`,
  );
  const reasonMisses = Math.max(...[r.oursCounted.run, ...r.ours].map((x) => x.score.reasonMismatches));
  parts.push(
    reasonMisses === 0
      ? `Every run of ours reported each of the ${r.data.listedPairs} listings with exactly its codes (both codes for ` +
          `the ${r.data.multiCodePairs} addresses in two data files) and its TXT reason(s) as served ` +
          `(${r.data.reasonPairs} with a reason), every clean pair as clean, and every pair of the error-code zone as ` +
          '`unknown` with the reason "zone unusable for this run: refused: … error code 127.255.255.254".'
      : `In at least one run ${reasonMisses} listings of ours had the right codes but a TXT reason that differs from ` +
          'the data (not counted as misclassifications; see the console output).',
  );
  const peerRun = r.peer[0]?.score;
  parts.push(
    `dnsbl reads any A answer as "listed" and everything else (NXDOMAIN, SERVFAIL, timeout) as "not listed"; it has ` +
      `no health check, no notion of error codes and does not return the codes, so it cannot tell a listing from a ` +
      `refusal: all ${r.data.ips.length} pairs of the error-code zone come back listed ` +
      `(${peerRun?.misses['unknown read as listed'] ?? 'n/a'} "unknown read as listed" per run). Its other ` +
      `classifications were ${peerRun && peerRun.total === (peerRun.misses['unknown read as listed'] ?? 0) ? 'right (on loopback nothing failed or timed out)' : 'not all right (see the table)'}. ` +
      `It asks no TXT by default (with \`includeTxt\` it would ask TXT for every pair, listed or not), and it sends ` +
      `one A query for every pair of every zone, ${r.peerCounted.relay.forwarded} in all here.`,
  );
  const oursCpu = median(r.ours.map((x) => x.cpuMs));
  const peerCpu = median(r.peer.map((x) => x.cpuMs));
  const bareMedian = median(r.bare.map((x) => x.wallMs));
  const bareCpu = median(r.bare.map((x) => x.cpuMs));
  const fewer = r.peerCounted.relay.forwarded - exp.total;
  parts.push(
    `Wall time: our median ${ms(oursMedian)} ms against ${ms(peerMedian)} ms for dnsbl ` +
      `(${(oursMedian / peerMedian).toFixed(2)}×, ${ok.wall ? 'target met' : '**target missed**'}), both at ` +
      `${CONCURRENCY} queries in flight (our resolver's and engine's \`maxConcurrent\`, per-zone limit ` +
      `${OUR_PER_ZONE} by default; dnsbl's \`concurrency\`), although we send ${fewer >= 0 ? `${fewer} fewer` : `${-fewer} more`} ` +
      `queries. rbldnsd answers on loopback in well under a millisecond and no delay is added, so both are bound by ` +
      `CPU, not by the network: the numbers compare client overhead, and a resolver across a WAN would add the same ` +
      `round trips to both${
        r.wan
          ? ` (over the ${WAN_DELAY_MS} ms link below ours took ${ms(r.wan.ours.run.wallMs)} ms, ` +
            `${(r.wan.ours.run.wallMs / (Math.ceil(exp.total / CONCURRENCY) * WAN_DELAY_MS)).toFixed(2)}× the bound for its queries)`
          : ''
      }. CPU of this process per run (medians): ours ${ms(oursCpu)} ms, dnsbl ${ms(peerCpu)} ms ` +
      `(${(oursCpu / peerCpu).toFixed(2)}×). dnsbl resolves through \`node:dns\` (c-ares, native code: building, ` +
      'sending and parsing packets costs no JavaScript and makes little garbage); we use our own UDP adapter in ' +
      `JavaScript: per query, dnsbl used ${((1000 * peerCpu) / (r.data.ips.length * ZONES.length)).toFixed(0)} µs of ` +
      `CPU, our resolver stack alone ${((1000 * bareCpu) / exp.total).toFixed(0)} µs and our engine ` +
      `${((1000 * oursCpu) / exp.total).toFixed(0)} µs. The reference row separates the two layers: the same ` +
      `${exp.total} questions through the same resolver stack without \`runBlocklists\` (health checks, then ` +
      `${CONCURRENCY} workers pulling pairs from one list, the same \`classify()\`) took ${ms(bareMedian)} ms ` +
      `(CPU ${ms(bareCpu)} ms). ` +
      layersSentence(oursMedian, bareMedian, peerMedian),
  );
  const wanPeer = r.wan?.peer;
  const lost = wanPeer ? wanPeer.run.score.misses['listed read as clean'] : 0;
  parts.push(
    'A defect of dnsbl (index.js 4.0.3): the per-query timeout timer is cleared only when the query succeeds; for a ' +
      'clean address (NXDOMAIN rejects) it keeps running and, after `timeout` ms (5 s by default), calls ' +
      '`resolver.cancel()` on the one resolver shared by the whole batch, which cancels every query in flight or ' +
      'still queued in c-ares; those pairs then read as "not listed". Any batch that runs longer than the timeout ' +
      'silently loses listings. ' +
      (Math.max(...[r.peerCounted.run, ...r.peer].map((x) => x.wallMs)) < TIMEOUT_MS
        ? `On loopback every batch finished within ${TIMEOUT_MS / 1000} s, so it did not happen there. `
        : `A loopback batch here ran longer than ${TIMEOUT_MS / 1000} s, so it may have happened there too. `) +
      (wanPeer
        ? lost > 0
          ? `The WAN-like run shows it: over a ${WAN_DELAY_MS} ms link the batch took ${ms(wanPeer.run.wallMs)} ms, ` +
            `${lost} of the ${r.data.listedPairs} listings came back "not listed", and only ` +
            `${wanPeer.relay.forwarded} of ${r.data.ips.length * ZONES.length} queries reached the wire; it ` +
            `finished under its bound of ${ms(Math.ceil((r.data.ips.length * ZONES.length) / CONCURRENCY) * WAN_DELAY_MS)} ms ` +
            'only because it abandoned queries. '
          : `Over the ${WAN_DELAY_MS} ms link the batch took ${ms(wanPeer.run.wallMs)} ms and lost no listing. `
        : '') +
      'The timers also keep the process alive for 5 s after a batch.',
  );
  const busy = r.load[0] > 0.5 * r.machine.cores || r.load[1] > 0.5 * r.machine.cores;
  parts.push(
    `Load average (1 min) before / after: ${r.load[0].toFixed(2)} / ${r.load[1].toFixed(2)} on ` +
      `${r.machine.cores} cores${busy ? ': other work was running on the machine, and rbldnsd shares the cores with this process, so wall times are pessimistic and vary from run to run (CPU time varies less)' : ''}. ` +
      'Every run is listed. The first, counting run of each checker (through the relay) is untimed and also warms ' +
      'the JIT; runs alternate so that both checkers see the same machine state.',
  );
  return parts.join('\n\n');
}

function section(r: Report): string {
  const m = r.machine;
  const d = r.data;
  return [
    `<!-- bench:${SECTION}:start (written by test/bench/blocklist.ts; edits inside are overwritten) -->`,
    '## DNS blocklist sweep',
    '',
    `${d.ips.length} IPv4 addresses (198.18.0.0/15, seeded) × ${ZONES.length} zones served by one local rbldnsd on ` +
      `loopback (no added delay). ${ZONES.length - 1} healthy zones list ${d.listedPairs} of ` +
      `${d.ips.length * (ZONES.length - 1)} pairs (${((100 * d.listedPairs) / (d.ips.length * (ZONES.length - 1))).toFixed(1)}%; ` +
      `${d.multiCodePairs} with two codes from two data files, ${d.reasonPairs} with TXT reasons, one ip4trie zone ` +
      `listing ${d.ranges} /24 ranges) and carry the RFC 5782 test points; one zone (ip4trie 0.0.0.0/0) answers ` +
      `${ERROR_CODE} to everything, the "refused" answer operators give public resolvers, so its truth is ` +
      `\`unknown\` for every address. Ours: \`runBlocklists\` with each zone as \`genericZone(name)\` ` +
      `(\`planZone(…, resolverIsPublic: false)\`) over \`createResolver({ specs: ['udp://127.0.0.1:<rbldnsd>'], ` +
      `maxConcurrent: ${CONCURRENCY}, timeoutMs: ${TIMEOUT_MS} })\`, a fresh stack per run. Peer: ` +
      `\`batch(ips, zones, { servers: ['127.0.0.1:<rbldnsd>'], concurrency: ${CONCURRENCY}, timeout: ${TIMEOUT_MS} })\` ` +
      `of the npm package dnsbl ${m.dnsbl}. One untimed counting run each through the UDP relay of ` +
      `\`delay-relay.ts\` (delay 0) for the queries on the wire, then ${r.runs} timed runs each straight to rbldnsd, ` +
      'alternating ours and the peer. Every run is checked against the truth table.',
    '',
    `- Command: \`${COMMAND}\` (\`node test/bench/blocklist.ts\`; also part of \`npm run bench\`; \`BENCH_RUNS\` to vary)`,
    `- Date: ${r.date}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb.toFixed(1)} GB RAM, ${m.os}`,
    `- Node ${m.node}; rbldnsd ${m.rbldnsd}; dnsbl ${m.dnsbl}; data seed 0x${SEED.toString(16)}`,
    '',
    tables(r),
    '',
    interpretation(r),
    `<!-- bench:${SECTION}:end -->`,
  ].join('\n');
}

function describe(label: string, run: CheckerRun, relay?: RelayCounts): string {
  const s = run.score;
  const misses = MISS_KINDS.filter((k) => s.misses[k] > 0)
    .map((k) => `${s.misses[k]} ${k}`)
    .join(', ');
  const lines = [
    `${label}: ${ms(run.wallMs)} ms (CPU ${ms(run.cpuMs)} ms); said ${s.said.listed} listed, ${s.said.clean} clean, ${s.said.unknown} unknown; ` +
      `${s.total} misclassified${misses ? ` (${misses})` : ''}` +
      (run.queriesSent !== null ? `; sent ${run.queriesSent}, questions ${run.questions}` : '') +
      (relay
        ? `; relay ${relay.forwarded} forwarded, ${relay.distinct} distinct, ${relay.undecodable} undecodable`
        : '') +
      (s.reasonMismatches > 0 ? `; ${s.reasonMismatches} TXT reasons differ` : ''),
  ];
  for (const e of s.examples) lines.push(`  ${e}`);
  if (relay && relay.repeated.length > 0) {
    lines.push(`  repeated on the wire: ${relay.repeated.map(([q, n]) => `${q}×${n}`).join(', ')}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const runs = Number(process.env.BENCH_RUNS ?? '5');
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_RUNS must be a positive integer`);
  const write = process.env.BENCH_WRITE !== '0';
  const data = generate();
  const exp = expectedOurs(data);
  console.log(
    `blocklist sweep: ${data.ips.length} IPs × ${ZONES.length} zones; ${data.listedPairs} listed pairs ` +
      `(${data.multiCodePairs} with two codes, ${data.reasonPairs} with reasons, ${data.ranges} /24 ranges), ` +
      `1 error-code zone; our expected queries ${exp.total}`,
  );

  let server: RbldnsdServer | undefined;
  let relay: DelayRelayProcess | undefined;
  let wanRelay: DelayRelayProcess | undefined;
  const cleanup = async (): Promise<void> => {
    const r = relay;
    const w = wanRelay;
    wanRelay = undefined;
    const s = server;
    relay = undefined;
    server = undefined;
    await Promise.allSettled([r?.close(), w?.close(), s?.stop()]);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping rbldnsd and the relay`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    console.error(`the bench did not finish within ${WATCHDOG_MS / 1000} s; stopping`);
    void cleanup().finally(() => process.exit(2));
  }, WATCHDOG_MS);

  try {
    server = await startRbldnsd({ zones: data.zones });
    relay = await startDelayRelayProcess(server.port, 0);
    console.log(
      `rbldnsd on 127.0.0.1:${server.port} (up in ${server.startupMs} ms), relay (delay 0) on :${relay.port}`,
    );
    const loadBefore = os.loadavg()[0] ?? 0;

    await relay.reset();
    const oursCountRun = await runOurs(data, relay.port);
    const oursCounted: Counted = { run: oursCountRun, relay: await relay.counts() };
    console.log(describe('ours, counting run (relay)', oursCounted.run, oursCounted.relay));
    console.log(`  health: ${oursCountRun.health}`);
    await relay.reset();
    const peerCountRun = await runPeer(data, relay.port);
    const peerCounted: Counted = { run: peerCountRun, relay: await relay.counts() };
    console.log(describe('dnsbl, counting run (relay)', peerCounted.run, peerCounted.relay));

    const ours: CheckerRun[] = [];
    const peer: CheckerRun[] = [];
    const bare: CheckerRun[] = [];
    for (let i = 0; i < runs; i++) {
      const o = await runOurs(data, server.port);
      ours.push(o);
      console.log(describe(`ours run ${i + 1}/${runs}`, o));
      const p = await runPeer(data, server.port);
      peer.push(p);
      console.log(describe(`dnsbl run ${i + 1}/${runs}`, p));
      const b = await runResolverOnly(data, server.port);
      bare.push(b);
      console.log(describe(`resolver stack only (reference) run ${i + 1}/${runs}`, b));
    }

    let wan: Report['wan'] = null;
    if (process.env.BENCH_WAN !== '0') {
      wanRelay = await startDelayRelayProcess(server.port, WAN_DELAY_MS);
      const wanOurs = await runOurs(data, wanRelay.port);
      const oursCounts = await wanRelay.counts();
      console.log(describe(`ours over a ${WAN_DELAY_MS} ms link (informational)`, wanOurs, oursCounts));
      await wanRelay.reset();
      const wanPeer = await runPeer(data, wanRelay.port);
      const peerCounts = await wanRelay.counts();
      console.log(describe(`dnsbl over a ${WAN_DELAY_MS} ms link (informational)`, wanPeer, peerCounts));
      wan = { ours: { run: wanOurs, relay: oursCounts }, peer: { run: wanPeer, relay: peerCounts } };
    }

    const report: Report = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      machine: machine(),
      data,
      runs,
      oursCounted,
      peerCounted,
      ours,
      peer,
      bare,
      wan,
      load: [loadBefore, os.loadavg()[0] ?? 0],
    };
    const text = section(report);
    console.log(`\n${text}\n`);
    if (write) {
      writeBenchmarksSection(SECTION, text);
      console.log(`written to ${BENCHMARKS_MD}`);
    }
    const t = targets(report);
    console.log(
      `summary: ours median ${ms(median(ours.map((x) => x.wallMs)))} ms vs dnsbl ${ms(median(peer.map((x) => x.wallMs)))} ms ` +
        `(${verdict(t.wall)}); our queries ${oursCounted.relay.forwarded} on the wire vs expected ${exp.total} ` +
        `(${verdict(t.queries)}); our misclassifications ${Math.max(...[oursCountRun, ...ours].map((x) => x.score.total))} ` +
        `(${verdict(t.correct)}); dnsbl misclassifications ${Math.max(...[peerCountRun, ...peer].map((x) => x.score.total))} ` +
        `(expected), ${peerCounted.relay.forwarded} queries`,
    );
    const met = t.wall && t.queries && t.correct;
    console.log(met ? 'all targets met' : 'some targets were missed (FAIL above)');
    return met ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().then(
  (code) => {
    // dnsbl leaves a 5 s timer per clean pair running (see the interpretation): do not wait for them.
    process.exit(code);
  },
  (err: unknown) => {
    console.error('the bench failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(2);
  },
);
