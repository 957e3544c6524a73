/**
 * Benchmark: one full DNS/SPF monitoring cycle of a synthetic MSP (500 tenants, 1,000 domains, 30 shared vendor
 * includes) against a local unbound behind a UDP relay that adds 20 ms per query, through the real resolver stack
 * (`createResolver` → `CachingResolver` → `FailoverResolver` → `UdpResolver`) and the real checks (`runChecks`).
 *
 * Run with `npm run bench` (Node 24 strips the types). It prints the tables and rewrites the "DNS/SPF monitoring
 * cycle" section of BENCHMARKS.md (between its markers; other sections are kept). Options (environment):
 *   BENCH_CONCURRENCY=32,128   concurrency levels (the resolver's maxConcurrent)
 *   BENCH_RUNS=5               timed runs per level (the median is reported)
 *   BENCH_WRITE=0              do not touch BENCHMARKS.md
 * Exit status: 0 when every target is met, 1 when one is missed, 2 when the bench could not run.
 *
 * Targets (the issue): no name queried twice in a run (in-flight de-duplication); wall time within 1.5× of the
 * critical-path ideal for the concurrency used; peak RSS under 256 MB. The ideal is derived from the generated data:
 * max(longest chain of dependent queries, ⌈unique questions / concurrency⌉) × the relay delay.
 *
 * Timed runs are in this process, one after the other, each with a fresh resolver (cold cache). Peak RSS is measured
 * on one cycle in a fresh child process per level (one cycle per process, like `relaywatch check`); the high-water mark
 * of this process over all timed runs is shown beside it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { UdpResolver } from '../../shared/adapters/dns/udp-resolver.ts';
import { parseSpf, redirectOf, selectSpfRecord } from '../../shared/domain/spf-record.ts';
import { normaliseName, type RecordType } from '../../shared/ports/dns-resolver.ts';
import { startUnbound, type UnboundServer } from '../support/unbound.ts';
import { benchMsp, type ChildCycleMessage, type CycleResult, MSP_SHAPE, runCycle, TIMEOUT_MS } from './cycle.ts';
import { type DelayRelayProcess, type RelayCounts, startDelayRelayProcess } from './delay-relay.ts';
import { median, productFlags, table, writeBenchmarksSection } from './report.ts';
import type { SyntheticMsp } from './synthetic-msp.ts';

const DELAY_MS = 20;
const RSS_LIMIT_MB = 256;
const WALL_TOLERANCE = 1.5;
/** The whole bench (start-up, every run, shut-down) must finish within this. */
const WATCHDOG_MS = 5 * 60_000;
/** One child cycle must finish within this. */
const CHILD_TIMEOUT_MS = 60_000;
const COMMAND = 'npm run bench';
const SECTION = 'dns-spf-cycle';
const BENCHMARKS_MD = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url));
const CYCLE_ENTRY = fileURLToPath(new URL('./cycle.ts', import.meta.url));
/**
 * V8 sizes the young generation from the machine's memory; on a large machine it alone can take ~100 MB. One extra
 * fresh-process cycle per level runs with this flag to show how much of the peak is that (informational only).
 */
/**
 * The V8 flags relaywatch runs with (bin/relaywatch.js's shebang, the npm scripts): a 16 MB young generation instead
 * of one sized from the machine's memory, and a bounded old-generation growth. The fresh-process cycle is measured
 * with them, as `relaywatch check` runs; V8's defaults are measured for comparison.
 */
const PRODUCT_FLAGS = productFlags(fileURLToPath(new URL('../../bin/relaywatch.js', import.meta.url)));
const PRODUCT_FLAG = PRODUCT_FLAGS.join(' ');

function envInts(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (!raw) return fallback;
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${name} must be positive integers: ${raw}`);
  return values;
}

// ---------------------------------------------------------------------------------------------------------------
// What the checks should ask, derived from the generated zone data

interface Zone {
  readonly txt: Map<string, string[]>;
  readonly mx: Map<string, string[]>;
  /** Names with an A record. */
  readonly a: Set<string>;
}

/** Read the generated `local-data` lines back into a small zone model (TXT texts, MX hosts). */
function zoneOf(localData: readonly string[]): Zone {
  const txt = new Map<string, string[]>();
  const mx = new Map<string, string[]>();
  const a = new Set<string>();
  for (const line of localData) {
    const m = /^(\S+)\s+\d+\s+IN\s+(\S+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`unexpected local-data line: ${line}`);
    const [, owner = '', type, rdata = ''] = m;
    const name = normaliseName(owner);
    if (type === 'TXT') {
      const text = [...rdata.matchAll(/"([^"]*)"/g)].map((c) => c[1]).join('');
      txt.set(name, [...(txt.get(name) ?? []), text]);
    } else if (type === 'MX') {
      const host = normaliseName(rdata.trim().split(/\s+/)[1] ?? '');
      mx.set(name, [...(mx.get(name) ?? []), host]);
    } else if (type === 'A') {
      a.add(name);
    }
  }
  return { txt, mx, a };
}

interface Prediction {
  /** Every (name, type) the cycle should ask, as `name/TYPE`. */
  readonly questions: ReadonlySet<string>;
  /** The longest chain of dependent queries, in queries. */
  readonly depth: number;
  /** One chain of that length, for the report. */
  readonly chain: readonly string[];
}

/**
 * The questions of one cycle and the longest dependency chain, by walking the data as the checks do: the SPF tree
 * (TXT of the domain, then of every include/redirect target in parallel, A/MX for a/mx/exists terms), the MX check
 * (MX, then A of each host, and AAAA only for a host without A). The SPF evaluation that follows the tree asks, for an IPv4 relay,
 * only names already asked (strict RFC 7208: `a` asks A, `mx` asks MX and then A of the hosts, as the MX check does);
 * the bench checks that prediction against what the checks really asked.
 */
function predict(msp: SyntheticMsp, zone: Zone): Prediction {
  const questions = new Set<string>();
  const memo = new Map<string, string[]>();
  const ask = (name: string, type: RecordType): string => {
    const key = `${normaliseName(name)}/${type}`;
    questions.add(key);
    return key;
  };
  const spfChain = (name: string): string[] => {
    const cached = memo.get(name);
    if (cached) return cached;
    const self = ask(name, 'TXT');
    const selected = selectSpfRecord(zone.txt.get(name) ?? []);
    let longest: string[] = [];
    const consider = (below: string[]): void => {
      if (below.length > longest.length) longest = below;
    };
    if (selected.kind === 'one') {
      const parsed = parseSpf(selected.record);
      let hasAll = false;
      for (const t of parsed.terms) {
        if (t.kind !== 'mechanism') continue;
        if (t.name === 'include' && t.value) consider(spfChain(normaliseName(t.value)));
        else if (t.name === 'a' || t.name === 'exists') consider([ask(t.value ?? name, 'A')]);
        else if (t.name === 'mx') consider([ask(t.value ?? name, 'MX')]);
        else if (t.name === 'all') {
          hasAll = true;
          break;
        }
      }
      const redirect = redirectOf(parsed);
      if (redirect && !hasAll) consider(spfChain(normaliseName(redirect.value)));
    }
    const chain = [self, ...longest];
    memo.set(name, chain);
    return chain;
  };
  let chain: string[] = [];
  for (const tenant of msp.tenants) {
    for (const d of tenant.domains) {
      const domain = normaliseName(d.name);
      const spf = spfChain(domain);
      const mxKey = ask(domain, 'MX');
      let mx = [mxKey];
      for (const host of zone.mx.get(domain) ?? []) {
        const aKey = ask(host, 'A');
        mx = zone.a.has(host) ? [mxKey, aKey] : [mxKey, aKey, ask(host, 'AAAA')];
      }
      for (const c of [spf, mx]) if (c.length > chain.length) chain = c;
    }
  }
  return { questions, depth: chain.length, chain };
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

interface Run {
  readonly cycle: CycleResult;
  readonly relay: RelayCounts;
  /** Asked by the checks but not predicted from the data, and the reverse. */
  readonly unexpected: readonly string[];
  readonly missing: readonly string[];
}

function compare(cycle: CycleResult, relay: RelayCounts, prediction: Prediction): Run {
  const asked = new Set(cycle.asked);
  return {
    cycle,
    relay,
    unexpected: cycle.asked.filter((k) => !prediction.questions.has(k)),
    missing: [...prediction.questions].filter((k) => !asked.has(k)),
  };
}

/** Child cycles running now, so that a signal or the watchdog can stop them. */
const runningChildren = new Set<ChildProcess>();

/** One cycle in a fresh child process: its result and its peak RSS. */
function childCycle(
  relayPort: number,
  concurrency: number,
  execArgv: readonly string[] = [],
): Promise<ChildCycleMessage> {
  return new Promise((resolve, reject) => {
    const child = fork(CYCLE_ENTRY, [String(relayPort), String(concurrency)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [...process.execArgv, ...execArgv],
    });
    runningChildren.add(child);
    let message: ChildCycleMessage | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child cycle did not finish within ${CHILD_TIMEOUT_MS / 1000} s`));
    }, CHILD_TIMEOUT_MS);
    child.on('message', (m) => {
      message = m as ChildCycleMessage;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      runningChildren.delete(child);
      clearTimeout(timer);
      if (message) resolve(message);
      else reject(new Error(`the child cycle exited (${code ?? signal}) without a result`));
    });
  });
}

/** Median round trip of one query, for context (through the relay, or straight to unbound). */
async function measureRtt(port: number, samples: number): Promise<number> {
  const udp = new UdpResolver({ host: '127.0.0.1', port, timeoutMs: 2000, attempts: 1 });
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const r = await udp.query('spf.protection.outlook.com', 'TXT');
    if (r.kind !== 'answer') throw new Error(`probe query failed: ${r.kind}`);
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Peak resident set of another process (VmHWM), in MB, or undefined when it cannot be read. */
function peakRssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The unbound started by this process (a direct child named `unbound`), found in /proc (Linux only). */
function unboundPid(): number | undefined {
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue;
      }
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat); // pid (comm) state ppid …
      if (m && m[1] === 'unbound' && Number(m[2]) === process.pid) return Number(entry);
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** Share of all cores' time that was idle over `ms` milliseconds (from /proc/stat), or undefined off Linux. */
async function machineIdle(ms: number): Promise<number | undefined> {
  const read = (): number[] | undefined => {
    try {
      const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
      return first.trim().split(/\s+/).slice(1).map(Number);
    } catch {
      return undefined;
    }
  };
  const a = read();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = read();
  if (!a || !b) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const d = b.slice(0, 8).map((v, i) => v - (a[i] ?? 0));
  const total = d.reduce((x, y) => x + y, 0);
  return total > 0 ? ((d[3] ?? 0) + (d[4] ?? 0)) / total : undefined;
}

/** Heap used after a full GC (MB): shows whether the cycles leave anything behind. */
function heapAfterGc(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  return process.memoryUsage().heapUsed / 1048576;
}

// ---------------------------------------------------------------------------------------------------------------
// Reporting

interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  readonly os: string;
  readonly unbound: string;
}

function machine(unboundBinary: string): Machine {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // not Linux: keep os.cpus()
  }
  return {
    cpu,
    cores: os.availableParallelism(),
    memoryGb: os.totalmem() / 1024 ** 3,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    unbound: unboundBinary,
  };
}

interface Level {
  readonly concurrency: number;
  readonly runs: readonly Run[];
  readonly medianRun: Run;
  /** Medians over the timed runs. */
  readonly medianCpuMs: number;
  readonly medianLoopBusy: number;
  readonly medianHoldMs: number;
  readonly medianMs: number;
  readonly throughputMs: number;
  readonly idealMs: number;
  /** The fresh-process cycle for the memory measurement. */
  readonly child: Run;
  readonly childMaxRssMb: number;
  readonly childMaxRssBeforeMb: number;
  /** The same with V8's default young generation (none of PRODUCT_FLAGS), for comparison. */
  readonly smallYoungGen: { readonly maxRssMb: number; readonly heapTotalMb: number; readonly wallMs: number };
}

interface Report {
  readonly machine: Machine;
  readonly date: string;
  /** 1-minute load average before the first and after the last cycle (other work on the machine skews timings). */
  readonly load: readonly [before: number, after: number];
  /** Idle share of the machine in the 3 s before the first cycle. */
  readonly idleBefore: number | undefined;
  /** Heap used before the first cycle and after the last one plus a forced GC, MB. */
  readonly heapBeforeMb: number;
  readonly heapAfterGcMb: number;
  readonly domains: number;
  readonly records: number;
  readonly prediction: Prediction;
  readonly runsPerLevel: number;
  readonly rttRelayMs: number;
  readonly rttDirectMs: number;
  readonly levels: readonly Level[];
  readonly inProcessMaxRssMb: number;
  readonly unboundPeakMb: number | undefined;
  readonly relayPeakMb: number | undefined;
}

const ms = (v: number): string => `${Math.round(v)}`;
const mb = (v: number | undefined): string => (v === undefined ? 'n/a' : `${Math.round(v)} MB`);
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

/** "No name queried twice": every count of questions on the wire equals the distinct questions asked. */
function noRepeats(r: Run): boolean {
  const sent = r.cycle.stats.queriesSent;
  return (
    sent === r.cycle.asked.length &&
    r.relay.forwarded === sent &&
    r.relay.distinct === sent &&
    r.relay.undecodable === 0
  );
}

function allPass(r: Run, domains: number): boolean {
  return r.cycle.statuses.pass === domains;
}

interface Targets {
  readonly wall: readonly boolean[];
  readonly repeats: readonly boolean[];
  readonly verdicts: readonly boolean[];
  readonly rss: readonly boolean[];
}

function targets(r: Report): Targets {
  const everyRun = (l: Level) => [...l.runs, l.child];
  return {
    wall: r.levels.map((l) => l.medianMs <= WALL_TOLERANCE * l.idealMs),
    repeats: r.levels.map((l) => everyRun(l).every(noRepeats)),
    verdicts: r.levels.map((l) => everyRun(l).every((x) => allPass(x, r.domains))),
    rss: r.levels.map((l) => l.childMaxRssMb < RSS_LIMIT_MB),
  };
}

function allMet(t: Targets): boolean {
  return [...t.wall, ...t.repeats, ...t.verdicts, ...t.rss].every(Boolean);
}

function tables(r: Report): string {
  const ok = targets(r);
  const wall = table(
    [
      'C',
      `wall, ${r.runsPerLevel} runs (ms)`,
      'median',
      `critical path (${r.prediction.depth} × ${DELAY_MS} ms)`,
      `throughput bound (⌈${r.prediction.questions.size} / C⌉ × ${DELAY_MS} ms)`,
      '**ideal**',
      'median / ideal',
      `target ≤ ${WALL_TOLERANCE}× ideal`,
      'CPU / event loop busy (medians)',
      'relay hold, median of means / max',
      'one cycle in a fresh process (cold JIT)',
    ],
    r.levels.map((l, i) => [
      String(l.concurrency),
      l.runs.map((x) => ms(x.cycle.wallMs)).join(', '),
      `**${ms(l.medianMs)}**`,
      ms(r.prediction.depth * DELAY_MS),
      ms(l.throughputMs),
      `**${ms(l.idealMs)}**`,
      `${(l.medianMs / l.idealMs).toFixed(2)}×`,
      `≤ ${ms(WALL_TOLERANCE * l.idealMs)}: **${verdict(ok.wall[i]!)}**`,
      `${ms(l.medianCpuMs)} ms / ${Math.round(100 * l.medianLoopBusy)}%`,
      `${l.medianHoldMs.toFixed(1)} / ${ms(Math.max(...l.runs.map((x) => x.relay.holdMs.max)))} ms`,
      `${ms(l.child.cycle.wallMs)} ms (CPU ${ms(l.child.cycle.cpuMs)} ms)`,
    ]),
  );
  const queries = table(
    [
      'C',
      'questions (checks)',
      'unique (name, type)',
      'queries sent (resolver)',
      'forwarded (relay)',
      'distinct on the wire',
      'cache hits',
      'in-flight joins',
      'target: sent = unique, every run',
    ],
    r.levels.map((l, i) => {
      const m = l.medianRun;
      return [
        String(l.concurrency),
        String(m.cycle.stats.questions),
        String(m.cycle.asked.length),
        String(m.cycle.stats.queriesSent),
        String(m.relay.forwarded),
        String(m.relay.distinct),
        String(m.cycle.stats.cacheHits),
        String(m.cycle.stats.inflightJoins),
        `**${verdict(ok.repeats[i]!)}**`,
      ];
    }),
  );
  const memory = table(
    [
      'C',
      `peak RSS, one cycle in a fresh process (\`${PRODUCT_FLAG}\`, as relaywatch runs)`,
      '(of which before the cycle)',
      'peak heap used / heap total (sampled)',
      `target < ${RSS_LIMIT_MB} MB`,
      "for comparison: peak RSS with V8's default young generation (heap total, wall)",
    ],
    r.levels.map((l, i) => [
      String(l.concurrency),
      `**${mb(l.childMaxRssMb)}**`,
      mb(l.childMaxRssBeforeMb),
      `${mb(l.child.cycle.memory.heapUsed)} / ${mb(l.child.cycle.memory.heapTotal)}`,
      `**${verdict(ok.rss[i]!)}**`,
      `${mb(l.smallYoungGen.maxRssMb)} (${mb(l.smallYoungGen.heapTotalMb)}, ${ms(l.smallYoungGen.wallMs)} ms)`,
    ]),
  );
  const others = table(
    ['process', 'peak RSS'],
    [
      [`this process, over all ${r.levels.length * r.runsPerLevel} timed cycles back to back`, mb(r.inProcessMaxRssMb)],
      ['unbound (child, VmHWM)', mb(r.unboundPeakMb)],
      ['delay relay (child, VmHWM)', mb(r.relayPeakMb)],
    ],
  );
  const verdicts = table(
    ['C', 'domain verdicts (median run)', 'target: all pass, every run'],
    r.levels.map((l, i) => {
      const s = l.medianRun.cycle.statuses;
      return [
        String(l.concurrency),
        `${s.pass} pass, ${s.warn} warn, ${s.fail} fail, ${s.unknown} unknown`,
        `**${verdict(ok.verdicts[i]!)}**`,
      ];
    }),
  );
  return [wall, queries, memory, others, verdicts].join('\n\n');
}

function interpretation(r: Report): string {
  const ok = targets(r);
  const parts: string[] = [];
  const byType = new Map<string, number>();
  for (const q of r.prediction.questions) {
    const type = q.slice(q.lastIndexOf('/') + 1);
    byType.set(type, (byType.get(type) ?? 0) + 1);
  }
  const types = [...byType].map(([t, n]) => `${n} ${t}`).join(', ');
  parts.push(
    `Every cycle starts with a fresh resolver stack, so our cache is cold. unbound answers from \`local-data\` (its ` +
      `own cache is off, \`cache-max-ttl: 0\`), so every query costs the relay's ${DELAY_MS} ms plus loopback work ` +
      `(one query alone: ${r.rttRelayMs.toFixed(1)} ms through the relay, ${r.rttDirectMs.toFixed(2)} ms straight to ` +
      `unbound). The cycle asks ${r.prediction.questions.size} distinct (name, type) pairs (${types}), exactly the ` +
      `set predicted from the generated data, so the SPF evaluation (mailauth) asks nothing the tree walk and the MX ` +
      `check did not. The longest chain of dependent queries is ${r.prediction.depth} ` +
      `(${r.prediction.chain.join(' → ')}), so below a concurrency of about ` +
      `${Math.floor(r.prediction.questions.size / r.prediction.depth)} the ideal is the throughput bound, not the chain.`,
  );
  const cores = r.machine.cores;
  if (r.idleBefore !== undefined && r.idleBefore < 0.8) {
    parts.push(
      `Other work was running on the machine (only ${Math.round(100 * r.idleBefore)}% idle just before the first ` +
        `cycle, ${cores} cores; unbound and the relay share them too), so the timings are pessimistic and vary from ` +
        'run to run.',
    );
  }
  for (const [i, l] of r.levels.entries()) {
    const ratio = l.medianMs / l.idealMs;
    const hold = l.medianHoldMs || r.rttRelayMs;
    const busy = (l.medianRun.cycle.stats.queriesSent * hold) / l.medianMs;
    const atHold = Math.max(r.prediction.depth, Math.ceil(r.prediction.questions.size / l.concurrency)) * hold;
    const limit = WALL_TOLERANCE * l.idealMs;
    const otherSide = l.runs.filter((x) => x.cycle.wallMs <= limit !== ok.wall[i]).length;
    const marginal =
      otherSide > 0
        ? `, but marginal: ${otherSide} of ${l.runs.length} runs were ${ok.wall[i] ? 'over' : 'within'} ${ms(limit)} ms`
        : '';
    let text =
      `At C=${l.concurrency} the median cycle took ${ms(l.medianMs)} ms against an ideal of ${ms(l.idealMs)} ms ` +
      `(${ratio.toFixed(2)}×, ${ok.wall[i] ? 'within' : 'outside'} the ${WALL_TOLERANCE}× target${marginal}). ` +
      'The relay held ' +
      `each query ${hold.toFixed(1)} ms on average` +
      (hold > DELAY_MS * 1.05
        ? ` (timer lateness on a busy machine), which alone puts the bound at ${ms(atHold)} ms`
        : '') +
      `; on average ${busy.toFixed(1)} of the ${l.concurrency} slots held a query (queries × hold / wall). A ` +
      `cycle used ${ms(l.medianCpuMs)} ms of CPU in this process and kept its event loop busy ` +
      `${Math.round(100 * l.medianLoopBusy)}% of the time (medians)`;
    if (l.medianLoopBusy > 0.6) {
      text +=
        ': here the cycle is bound by CPU in this process (garbage collection, SPF ' +
        'parsing and findings, mailauth), not by the network; answers wait in their sockets while the loop is busy, ' +
        'holding their slots.';
    } else {
      text +=
        '; an answer that arrives while the loop is busy waits for it, still holding its slot, which is why fewer ' +
        'slots than C are in use on average.';
    }
    parts.push(text);
  }
  const cold = r.levels.map((l) => `${ms(l.child.cycle.wallMs)} ms at C=${l.concurrency}`).join(', ');
  const warm = r.levels.map((l) => `${ms(l.medianMs)} ms`).join(', ');
  parts.push(
    `The timed cycles run back to back in one process, so all but the first run with warm JIT. A single cycle in a ` +
      `fresh process, which is what \`relaywatch check\` does, took ${cold} (medians above: ${warm}): the first ` +
      `cycle in a process also pays for compiling its code paths and growing the heap.`,
  );
  parts.push(
    ok.repeats.every(Boolean)
      ? 'No name was queried twice in any cycle: queries sent (resolver), datagrams forwarded (relay), distinct ' +
          'questions on the wire and distinct questions asked by the checks are equal. Every other question was ' +
          'answered from the cache or joined a query already in flight.'
      : 'Some names were queried more than once (see the query table and the console output for which).',
  );
  const worst = Math.max(...r.levels.map((l) => l.childMaxRssMb));
  const before = Math.max(...r.levels.map((l) => l.childMaxRssBeforeMb));
  const heapTotal = Math.max(...r.levels.map((l) => l.child.cycle.memory.heapTotal));
  const heapUsed = Math.max(...r.levels.map((l) => l.child.cycle.memory.heapUsed));
  const tuned = Math.max(...r.levels.map((l) => l.smallYoungGen.maxRssMb));
  const tunedHeap = Math.max(...r.levels.map((l) => l.smallYoungGen.heapTotalMb));
  const tunedWall = r.levels.map((l) => ms(l.smallYoungGen.wallMs)).join(' / ');
  const coldWall = `${r.levels.map((l) => ms(l.child.cycle.wallMs)).join(' / ')} ms`;
  parts.push(
    `Peak RSS of one cycle in a fresh process was at most ${mb(worst)} (${ok.rss.every(Boolean) ? 'under' : 'over'} ` +
      `the ${RSS_LIMIT_MB} MB target). ${mb(before)} of it is there before the cycle starts: Node with the modules ` +
      `loaded (undici and mailauth are the largest) and the synthetic data built. relaywatch runs with ` +
      `\`${PRODUCT_FLAG}\`, and so does this measurement: during the cycle V8's heap grows to ${mb(heapTotal)} ` +
      `(${mb(heapUsed)} in use at the peak, uncollected garbage included). With V8's default, a young generation ` +
      `sized from the machine's memory (${r.machine.memoryGb.toFixed(0)} GB here), the heap grows to ${mb(tunedHeap)} ` +
      `and the same cycle peaks at ${mb(tuned)} (wall ${tunedWall} ms with the default against ${coldWall} with the ` +
      `flag, per level). Back to back in one process the high-water ` +
      `mark climbs to ${mb(r.inProcessMaxRssMb)} because V8 grows the heap between cycles rather than collecting ` +
      `it, not because the cycles keep anything: after the last cycle and a forced GC the heap holds ` +
      `${mb(r.heapAfterGcMb)} (${mb(r.heapBeforeMb)} before the first). unbound and the relay are separate ` +
      'processes, not part of the target.',
  );
  return parts.join('\n\n');
}

function section(r: Report): string {
  const m = r.machine;
  return [
    `<!-- bench:${SECTION}:start (written by test/bench/run.ts; edits inside are overwritten) -->`,
    '## DNS/SPF monitoring cycle',
    '',
    `One full monitoring cycle (SPF tree, RFC 7208 evaluation of the relay IP by mailauth, MX check) for a synthetic ` +
      `MSP of ${MSP_SHAPE.tenants} tenants / ${r.domains} domains with ${MSP_SHAPE.vendors} shared vendor includes ` +
      `(${r.records} records), served by a local unbound behind a UDP relay that adds ${DELAY_MS} ms per query. ` +
      `In-process: \`createResolver({ specs: ['udp://127.0.0.1:<relay>'], maxConcurrent: C, timeoutMs: ${TIMEOUT_MS} })\` ` +
      `and \`runChecks\` with \`ALL_DOMAIN_CHECKS\`; median of ${r.runsPerLevel} cycles per concurrency level C, ` +
      `then one more cycle per level in a fresh process for peak RSS, with \`${PRODUCT_FLAG}\` as relaywatch runs ` +
      "(and one with V8's default young generation for comparison).",
    '',
    `- Command: \`${COMMAND}\` (\`node test/bench/run.ts\`; \`BENCH_CONCURRENCY\`, \`BENCH_RUNS\` to vary)`,
    `- Date: ${r.date}`,
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb.toFixed(1)} GB RAM, ${m.os}`,
    `- Machine idle in the 3 s before the first cycle: ` +
      `${r.idleBefore === undefined ? 'n/a' : `${Math.round(100 * r.idleBefore)}%`}; load average (1 min) ` +
      `before / after: ${r.load[0].toFixed(2)} / ${r.load[1].toFixed(2)}`,
    `- Node ${m.node}; unbound ${m.unbound}`,
    '',
    tables(r),
    '',
    interpretation(r),
    `<!-- bench:${SECTION}:end -->`,
  ].join('\n');
}

function describeRun(label: string, run: Run): string {
  const c = run.cycle;
  const lines = [
    `${label}: ${ms(c.wallMs)} ms, cpu ${ms(c.cpuMs)} ms, loop busy ${Math.round(100 * c.eventLoopBusy)}%` +
      (c.memory.rss > 0 ? `, heap ${ms(c.memory.heapUsed)}/${ms(c.memory.heapTotal)} MB` : '') +
      `; sent ${c.stats.queriesSent}, relay ${run.relay.forwarded} ` +
      `(${run.relay.distinct} distinct, hold ${run.relay.holdMs.mean.toFixed(1)}/${ms(run.relay.holdMs.max)} ms), ` +
      `unique asked ${c.asked.length}, questions ${c.stats.questions}, hits ${c.stats.cacheHits}, ` +
      `joins ${c.stats.inflightJoins}; ${c.statuses.pass} pass, ${c.statuses.warn} warn, ${c.statuses.fail} fail, ` +
      `${c.statuses.unknown} unknown`,
  ];
  if (run.unexpected.length > 0 || run.missing.length > 0) {
    lines.push(
      `  asked but not predicted (${run.unexpected.length}): ${run.unexpected.slice(0, 10).join(', ')}`,
      `  predicted but not asked (${run.missing.length}): ${run.missing.slice(0, 10).join(', ')}`,
    );
  }
  if (run.relay.repeated.length > 0) {
    lines.push(`  asked more than once on the wire: ${run.relay.repeated.map(([q, n]) => `${q}×${n}`).join(', ')}`);
  }
  if (Object.keys(c.problems).length > 0) {
    lines.push(`  findings of non-passing domains: ${JSON.stringify(c.problems)}`);
    for (const e of c.problemExamples) lines.push(`    ${e}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const levels = envInts('BENCH_CONCURRENCY', [32, 128]);
  const runsPerLevel = envInts('BENCH_RUNS', [5])[0] ?? 5;
  const write = process.env.BENCH_WRITE !== '0';

  const msp = benchMsp();
  const zone = zoneOf(msp.localData);
  const prediction = predict(msp, zone);
  const domains = msp.tenants.reduce((n, t) => n + t.domains.length, 0);
  console.log(
    `synthetic MSP: ${msp.tenants.length} tenants, ${domains} domains, ${MSP_SHAPE.vendors} vendors, ` +
      `${msp.localData.length} records; ${prediction.questions.size} distinct questions expected, ` +
      `longest chain ${prediction.depth} (${prediction.chain.join(' → ')})`,
  );

  let unbound: UnboundServer | undefined;
  let relay: DelayRelayProcess | undefined;
  const cleanup = async (): Promise<void> => {
    const r = relay;
    const u = unbound;
    relay = undefined;
    unbound = undefined;
    for (const child of runningChildren) child.kill('SIGKILL');
    await Promise.allSettled([r?.close(), u?.stop()]);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping unbound and the relay`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    console.error(`the bench did not finish within ${WATCHDOG_MS / 1000} s; stopping`);
    void cleanup().finally(() => process.exit(2));
  }, WATCHDOG_MS);

  try {
    unbound = await startUnbound({ localData: msp.localData, doh: false });
    const pidOfUnbound = unboundPid();
    relay = await startDelayRelayProcess(unbound.udpPort, DELAY_MS);
    console.log(`unbound on 127.0.0.1:${unbound.udpPort} (up in ${unbound.startupMs} ms), relay on :${relay.port}`);

    const rttDirectMs = await measureRtt(unbound.udpPort, 50);
    const rttRelayMs = await measureRtt(relay.port, 20);
    console.log(`one query: ${rttRelayMs.toFixed(1)} ms through the relay, ${rttDirectMs.toFixed(2)} ms direct`);

    const idleBefore = await machineIdle(3000);
    const loadBefore = os.loadavg()[0] ?? 0;
    const heapBeforeMb = process.memoryUsage().heapUsed / 1048576;
    const results: Level[] = [];
    for (const concurrency of levels) {
      const runs: Run[] = [];
      for (let i = 0; i < runsPerLevel; i++) {
        await relay.reset();
        const cycle = await runCycle(msp, relay.port, concurrency);
        const run = compare(cycle, await relay.counts(), prediction);
        runs.push(run);
        console.log(describeRun(`C=${concurrency} run ${i + 1}/${runsPerLevel}`, run));
      }
      await relay.reset();
      const fromChild = await childCycle(relay.port, concurrency, PRODUCT_FLAGS);
      const child = compare(fromChild.result, await relay.counts(), prediction);
      console.log(
        `${describeRun(`C=${concurrency} fresh process`, child)}\n  peak RSS ${ms(fromChild.maxRssMb)} MB ` +
          `(${ms(fromChild.maxRssBeforeMb)} MB before the cycle)`,
      );
      const tuned = await childCycle(relay.port, concurrency, []);
      console.log(
        `C=${concurrency} fresh process with V8's default young generation: ${ms(tuned.result.wallMs)} ms, ` +
          `peak RSS ${ms(tuned.maxRssMb)} MB, heap ${ms(tuned.result.memory.heapUsed)}/${ms(tuned.result.memory.heapTotal)} MB`,
      );
      const sorted = [...runs].sort((a, b) => a.cycle.wallMs - b.cycle.wallMs);
      const throughputMs = Math.ceil(prediction.questions.size / concurrency) * DELAY_MS;
      results.push({
        concurrency,
        runs,
        medianRun: sorted[Math.floor(sorted.length / 2)]!,
        medianCpuMs: median(runs.map((r) => r.cycle.cpuMs)),
        medianLoopBusy: median(runs.map((r) => r.cycle.eventLoopBusy)),
        medianHoldMs: median(runs.map((r) => r.relay.holdMs.mean)),
        medianMs: median(runs.map((r) => r.cycle.wallMs)),
        throughputMs,
        idealMs: Math.max(prediction.depth * DELAY_MS, throughputMs),
        child,
        childMaxRssMb: fromChild.maxRssMb,
        childMaxRssBeforeMb: fromChild.maxRssBeforeMb,
        smallYoungGen: {
          maxRssMb: tuned.maxRssMb,
          heapTotalMb: tuned.result.memory.heapTotal,
          wallMs: tuned.result.wallMs,
        },
      });
    }

    const report: Report = {
      machine: machine(/start of service \(unbound ([^)]+)\)/.exec(await unbound.log())?.[1] ?? 'version unknown'),
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      load: [loadBefore, os.loadavg()[0] ?? 0],
      idleBefore,
      heapBeforeMb,
      heapAfterGcMb: 0,
      domains,
      records: msp.localData.length,
      prediction,
      runsPerLevel,
      rttRelayMs,
      rttDirectMs,
      levels: results,
      inProcessMaxRssMb: process.resourceUsage().maxRSS / 1024,
      unboundPeakMb: peakRssOf(pidOfUnbound),
      relayPeakMb: peakRssOf(relay.pid),
    };
    // After the RSS high-water mark is read: a forced GC only to show what the cycles left behind.
    const final: Report = { ...report, heapAfterGcMb: heapAfterGc() };
    const text = section(final);
    console.log(`\n${text}\n`);
    if (write) {
      writeBenchmarksSection(SECTION, text);
      console.log(`written to ${BENCHMARKS_MD}`);
    }
    const met = allMet(targets(final));
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
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error('the bench failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 2;
  },
);
