/**
 * Benchmark: where the peak RSS of the CLI's `check --json` with a store goes (issue 10 §6: a 1,000-domain run stays
 * under 256 MB). The synthetic MSP of the handler bench (500 tenants, 1,000 domains, unbound `local-data` behind the
 * 20 ms delay relay, blocklists off), the CLI as a child process exactly as `bin/relaywatch.js` runs it, on SQLite
 * and on DynamoDB Local, plus the `relaywatch --help` floor.
 *
 * In every child a preload (`--import`) samples `process.memoryUsage()` every 20 ms and, whenever RSS reaches a new
 * high (by 2 MB), V8's heap spaces and `/proc/self/smaps_rollup`; at exit it writes the kernel's peak RSS
 * (`resourceUsage().maxRSS`), the largest value of every field and the breakdown at the peak. So a run shows what the
 * peak is made of: V8 heap (used vs. committed), code, external/array buffers, and the rest (native: malloc arenas,
 * the binary's own pages, thread stacks).
 *
 * Run: `node test/bench/cli-memory.ts` (`npm run bench:cli-memory`). Options (environment):
 *   BENCH_TENANTS=500     tenants (two domains each)
 *   BENCH_RUNS=3          runs of each variant
 *   BENCH_VARIANTS=help,sqlite,dynamodb   which to run (comma-separated)
 *   BENCH_SETS=           option sets to compare, run interleaved: `name:--node-flag ENV=value|name2:…` (default:
 *                         the product's flags alone)
 *   BENCH_TRACE_GC=0      1: pass --trace-gc and keep each child's stderr in the temp dir (its path is printed)
 *   BENCH_CLI=            another checkout's bin/relaywatch.js to measure (e.g. main's, for a before/after)
 *   RW_MEM_TIMELINE=0     1: print each child's memoryUsage() every 200 ms
 * Exit status: 0 when every measured `check` stays under 256 MB, 1 when one does not, 2 when the bench could not run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDynamoDbLocal } from '../support/dynamodb-local.ts';
import { startUnbound } from '../support/unbound.ts';
import { startDelayRelayProcess } from './delay-relay.ts';
import { median, productFlags as shebangFlags } from './report.ts';
import { benchConfigYaml, syntheticMsp } from './synthetic-msp.ts';

const RSS_LIMIT_MB = 256;
const DELAY_MS = 20;
/** The CLI measured: this checkout's, or BENCH_CLI (another checkout's bin/relaywatch.js, for a before/after). */
const CLI = process.env.BENCH_CLI ?? fileURLToPath(new URL('../../bin/relaywatch.js', import.meta.url));

/** The Node options of bin/relaywatch.js's shebang line (what the product runs with). */
function productFlags(cli = CLI): string[] {
  return shebangFlags(cli);
}

const PRELOAD = `
import { readFileSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
const max = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
let atPeak = null;
let lastDetail = 0;
const smaps = () => {
  try {
    const out = {};
    for (const line of readFileSync('/proc/self/smaps_rollup', 'utf8').split('\\n')) {
      const m = /^(\\w+):\\s+(\\d+) kB/.exec(line);
      if (m) out[m[1]] = Number(m[2]);
    }
    return out;
  } catch { return null; }
};
const spaces = () => Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]));
const sample = () => {
  const u = process.memoryUsage();
  for (const k of Object.keys(max)) if (u[k] > max[k]) max[k] = u[k];
  if (u.rss > lastDetail + 2 * 1048576) {
    lastDetail = u.rss;
    atPeak = { usage: u, spaces: spaces(), smaps: smaps(), uptimeMs: Math.round(process.uptime() * 1000) };
  }
};
const timeline = [];
let snapped = false;
const snapAt = Number(process.env.RW_MEM_SNAPSHOT_AB_MB ?? 0) * 1048576;
setInterval(() => {
  if (!snapped && snapAt > 0 && process.memoryUsage().arrayBuffers > snapAt) {
    snapped = true;
    v8.writeHeapSnapshot(process.env.RW_MEM_FILE + '.heapsnapshot');
  }
}, 20).unref();
let ticks = 0;
setInterval(() => {
  sample();
  if (process.env.RW_MEM_TIMELINE === '1' && ticks++ % 10 === 0) {
    const u = process.memoryUsage();
    timeline.push([Math.round(process.uptime() * 1000), ...['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'].map((k) => Math.round(u[k] / 1048576))]);
  }
}, 20).unref();
process.on('exit', () => {
  sample();
  writeFileSync(process.env.RW_MEM_FILE, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, max, atPeak, timeline }));
});
`;

export interface MemRun {
  readonly variant: string;
  readonly maxRssMb: number;
  readonly durationMs: number | null;
  readonly wallMs: number;
  readonly exitCode: number | null;
  readonly max: Record<string, number>;
  readonly atPeak: {
    readonly usage: Record<string, number>;
    readonly spaces: Record<string, { size: number; used: number }>;
    readonly smaps: Record<string, number> | null;
    readonly uptimeMs: number;
  } | null;
}

/** Node options and environment variables a child runs with, beside the product's own flags. */
interface OptionSet {
  readonly name: string;
  readonly nodeArgs: readonly string[];
  readonly env: Record<string, string>;
}

/**
 * `BENCH_SETS="base:|semi8:--max-semi-space-size=8|cache:NODE_COMPILE_CACHE=/tmp/cc"`: NAME=VALUE words are env;
 * `BENCH_CLI=PATH` in a set measures another checkout's bin/relaywatch.js (before/after, interleaved).
 */
function optionSets(spec: string): OptionSet[] {
  if (spec.trim() === '') return [{ name: '', nodeArgs: [], env: {} }];
  return spec.split('|').map((part) => {
    const [name = '', rest = ''] = part.split(/:(.*)/s);
    const words = rest.split(/\s+/).filter(Boolean);
    const env = Object.fromEntries(
      words.filter((w) => /^[A-Z_][A-Z0-9_]*=/.test(w)).map((w) => w.split(/=(.*)/s) as [string, string]),
    );
    return { name: name.trim(), nodeArgs: words.filter((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w)), env };
  });
}

const mb = (bytes: number) => bytes / 1048576;
const f0 = (v: number) => v.toFixed(0);

async function runChild(
  variant: string,
  cliArgs: readonly string[],
  dir: string,
  set: OptionSet,
  traceGc: boolean,
): Promise<MemRun> {
  const memFile = join(dir, `mem-${variant}-${Date.now()}.json`);
  const preload = join(dir, 'mem-preload.mjs');
  writeFileSync(preload, PRELOAD);
  const cli = set.env.BENCH_CLI ?? CLI;
  const args = [
    ...productFlags(cli),
    ...set.nodeArgs,
    ...(traceGc ? ['--trace-gc'] : []),
    '--import',
    preload,
    cli,
    ...cliArgs,
  ];
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, args, {
        cwd: dir,
        env: {
          ...process.env,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          ...set.env,
          RW_MEM_FILE: memFile,
          NO_COLOR: '1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      child.on('error', reject);
      child.on('exit', (c) =>
        resolve({ code: c, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
      );
    },
  );
  const wallMs = performance.now() - t0;
  let durationMs: number | null = null;
  if (traceGc) {
    // V8 prints its GC trace to stdout, in among the report.
    const path = join(dir, `gc-${variant.replace(/\W+/g, '-')}-${Date.now()}.txt`);
    writeFileSync(path, stdout);
    console.log(`[${variant}] --trace-gc output: ${path}`);
    const d = /"durationMs": (\d+)/.exec(stdout);
    durationMs = d ? Number(d[1]) : null;
  } else if (cliArgs[0] === 'check') {
    try {
      durationMs = (JSON.parse(stdout) as { durationMs?: number }).durationMs ?? null;
    } catch {
      throw new Error(`relaywatch ${cliArgs.join(' ')} printed no JSON (exit ${code}): ${stderr.slice(0, 2000)}`);
    }
  }
  if (process.env.BENCH_STDERR === '1') console.log(`[${variant}] stderr: ${stderr.slice(-1000)}`);
  const m = JSON.parse(readFileSync(memFile, 'utf8')) as {
    maxRssKb: number;
    max: Record<string, number>;
    atPeak: MemRun['atPeak'];
    timeline?: number[][];
  };
  if (process.env.RW_MEM_TIMELINE === '1') {
    console.log(`[${variant}] timeline (ms: rss heapTotal heapUsed external arrayBuffers, MB)`);
    for (const row of m.timeline ?? []) console.log(`  ${row.join(' ')}`);
  }
  return { variant, maxRssMb: m.maxRssKb / 1024, durationMs, wallMs, exitCode: code, max: m.max, atPeak: m.atPeak };
}

function describe(r: MemRun): string {
  const p = r.atPeak;
  const parts = [
    `peak RSS ${f0(r.maxRssMb)} MB`,
    r.durationMs !== null ? `durationMs ${r.durationMs}` : `wall ${f0(r.wallMs)} ms`,
    `max heapTotal ${f0(mb(r.max.heapTotal ?? 0))} / heapUsed ${f0(mb(r.max.heapUsed ?? 0))} / external ${f0(mb(r.max.external ?? 0))} / arrayBuffers ${f0(mb(r.max.arrayBuffers ?? 0))} MB`,
  ];
  if (p) {
    const sp = Object.entries(p.spaces)
      .filter(([, s]) => s.size > 512 * 1024)
      .map(([n, s]) => `${n.replace(/_space$/, '')} ${f0(mb(s.size))}(${f0(mb(s.used))})`)
      .join(' ');
    const heap = mb(p.usage.heapTotal ?? 0);
    const rss = mb(p.usage.rss ?? 0);
    parts.push(
      `at the peak sample (${p.uptimeMs} ms): rss ${f0(rss)}, heap committed ${f0(heap)} [${sp}], ` +
        `external ${f0(mb(p.usage.external ?? 0))}, rest (native) ${f0(rss - heap)} MB` +
        (p.smaps
          ? `; smaps: anon ${f0((p.smaps.Anonymous ?? 0) / 1024)} MB, file-backed ${f0(((p.smaps.Rss ?? 0) - (p.smaps.Anonymous ?? 0)) / 1024)} MB`
          : ''),
    );
  }
  return parts.join('; ');
}

async function main(): Promise<number> {
  const tenantsN = Number(process.env.BENCH_TENANTS ?? 500);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const variants = (process.env.BENCH_VARIANTS ?? 'help,sqlite,dynamodb').split(',').map((s) => s.trim());
  const sets = optionSets(process.env.BENCH_SETS ?? '');
  const traceGc = process.env.BENCH_TRACE_GC === '1';
  const msp = syntheticMsp({ tenants: tenantsN, domainsPerTenant: 2, vendors: 30 });
  const domains = msp.tenants.reduce((n, t) => n + t.domains.length, 0);
  const dir = mkdtempSync(join(os.tmpdir(), 'relaywatch-bench-cli-memory-'));
  const cleanups: (() => Promise<unknown>)[] = [];
  const results: MemRun[] = [];
  const onSignal = () => void Promise.allSettled(cleanups.splice(0).map((c) => c())).finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const needDns = variants.some((v) => v !== 'help');
    let configPath = '';
    if (needDns) {
      const unbound = await startUnbound({ localData: msp.localData, doh: false });
      cleanups.push(() => unbound.stop());
      const relay = await startDelayRelayProcess(unbound.udpPort, DELAY_MS);
      cleanups.push(() => relay.close());
      configPath = join(dir, 'relaywatch.yaml');
      writeFileSync(configPath, benchConfigYaml(msp, relay.port, 32));
    }
    let endpoint = '';
    if (variants.includes('dynamodb')) {
      const ddb = await startDynamoDbLocal({ readyTimeoutMs: 120_000 });
      cleanups.push(() => ddb.stop());
      endpoint = ddb.endpoint;
    }
    console.log(
      `${domains} domains; Node ${process.version}, flags ${productFlags().join(' ')}, sets ${sets.map((x) => `${x.name || '(product)'}: ${[...x.nodeArgs, ...Object.entries(x.env).map(([k, v]) => `${k}=${v}`)].join(' ')}`).join('; ')}; ` +
        `load ${os.loadavg()[0]?.toFixed(2)}`,
    );
    const check = ['check', '--json', '--config', configPath, '--no-blocklists'];
    const sqliteStore = `sqlite:${join(dir, 'state.db')}`;
    const ddbArgs = [...check, '--store', `dynamodb:bench-mem-${process.pid}`, '--endpoint', endpoint];
    const run = async (variant: string, cliArgs: readonly string[], set: OptionSet) => {
      const r = await runChild(`${variant}${set.name ? ` [${set.name}]` : ''}`, cliArgs, dir, set, traceGc);
      console.log(`[${r.variant}] ${describe(r)}`);
      results.push(r);
    };
    // The first cycle of each store (every state written; the DynamoDB table created) before the steady ones.
    if (variants.includes('sqlite'))
      await runChild('sqlite-first', [...check, '--store', sqliteStore], dir, sets[0] as OptionSet, false);
    if (variants.includes('dynamodb')) await run('dynamodb-first', ddbArgs, sets[0] as OptionSet);
    // The sets interleaved run by run, so a change in the machine's load hits all of them alike.
    for (let i = 0; i < runs; i++) {
      for (const set of sets) {
        for (const variant of variants) {
          if (variant === 'help') await run('help', ['--help'], set);
          else if (variant === 'sqlite') await run('sqlite', [...check, '--store', sqliteStore], set);
          else if (variant === 'dynamodb') await run('dynamodb', ddbArgs, set);
          else throw new Error(`unknown variant ${variant} (help, sqlite, dynamodb)`);
        }
      }
    }
    console.log('\nsummary (peak RSS MB; durationMs median):');
    for (const v of [...new Set(results.map((r) => r.variant))]) {
      const rs = results.filter((r) => r.variant === v);
      const d = rs.map((r) => r.durationMs).filter((x): x is number => x !== null);
      console.log(
        `  ${v}: ${rs.map((r) => f0(r.maxRssMb)).join(', ')}` +
          (d.length > 0 ? `; durationMs ${f0(median(d))} (${d.join(', ')})` : ''),
      );
    }
    console.log(`load after ${os.loadavg()[0]?.toFixed(2)}`);
    const over = results.filter((r) => r.variant !== 'help' && r.maxRssMb >= RSS_LIMIT_MB);
    return over.length === 0 ? 0 : 1;
  } finally {
    await Promise.allSettled(cleanups.splice(0).map((c) => c()));
    if (process.env.BENCH_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error('the bench failed:', err instanceof Error ? (err.stack ?? err.message) : err);
      process.exitCode = 2;
    },
  );
}
