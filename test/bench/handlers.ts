/**
 * Benchmark: one monitoring cycle of the synthetic MSP (500 tenants, 1,000 domains: synthetic-msp.ts) through the
 * real Lambda handler modules (functions/dispatch and functions/worker, in process, as the e2e test runs them) and
 * through the CLI (`relaywatch check --json --store dynamodb:TABLE` as a child process), on DynamoDB Local, with the
 * DNS data served by unbound (`local-data`) behind the delay relay of run.ts (20 ms per query).
 *
 * Measured, per cycle (first: empty table; steady: nothing changed; changed: 10% of the tenants have a new relay IP
 * their SPF does not authorise, so their SPF verdict changes):
 * - wall times of the handlers (dispatch → the SQS event built from what dispatch enqueued → the worker, batches of
 *   BENCH_BATCH messages, BENCH_WORKERS containers in one child process: each its own instance of the worker module,
 *   so its own module scope and container DNS cache, running one invocation at a time) and of the CLI;
 * - DNS queries per cycle at the relay, and the containers' DNS cache hits;
 * - DynamoDB requests per tenant by operation and the capacity units consumed, through a counting proxy in front of
 *   DynamoDB Local that adds `ReturnConsumedCapacity: TOTAL` to every request (DynamoDB Local computes the units);
 * - the CLI's state stage: the span from its first DynamoDB request to its last answer, seen by the proxy;
 * - peak RSS of the process running the concurrent worker invocations, and of a "container" child that handles one
 *   invocation at a time as a Lambda container does, with the duration of each tenant job (batches of one message)
 *   and of batches of BENCH_BATCH;
 * - peak RSS of the CLI's `check --json` with a store, on SQLite and on DynamoDB Local (with bin/relaywatch.js's shebang flags,
 *   as bin/relaywatch.js runs).
 *
 * Nothing about the store is assumed: the counts are whatever the store sends. Blocklists are off on both sides (no
 * zone enabled, `--no-blocklists`, and dispatch is invoked as the `checks` group's schedule: tenant jobs only): the
 * comparison is the domain checks and the state stage.
 *
 * Run: `npm run bench:handlers` (also part of `npm run bench`). Options (environment):
 *   BENCH_TENANTS=500     tenants of the synthetic MSP (two domains each)
 *   BENCH_CONCURRENCY=32  DNS queries in flight (config `dns.concurrency`, for the CLI and every worker invocation)
 *   BENCH_WORKERS=32      worker containers (Lambda concurrency), each running one invocation at a time
 *   BENCH_BATCH=10        SQS messages per worker invocation (the event source's batch size)
 *   BENCH_JOBS=100        tenant jobs of the container child
 *   BENCH_WRITE=0         do not touch BENCHMARKS.md
 * Exit status: 0 when every target is met, 1 when one is missed, 2 when the bench could not run.
 *
 * Roles: without arguments this file is the parent. `handlers.ts handlers <json>` and `handlers.ts container <json>`
 * are the forked children (IPC: they ask the parent before each phase, so the proxy's counts are per phase).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { JOB_CONCURRENCY } from '../../functions/worker/worker.ts';
import { configJson, parseConfigJson } from '../../shared/config/document.ts';
import { readConfigDocument } from '../../shared/config/load.ts';
import { ENV, GROUP_INTERVAL_ENV } from '../../shared/deploy/constants.ts';
import { startDynamoDbLocal } from '../support/dynamodb-local.ts';
import { sqsRecord } from '../support/lambda-fakes.ts';
import { startUnbound } from '../support/unbound.ts';
import { type RelayCounts, startDelayRelayProcess } from './delay-relay.ts';
import { median, productFlags, table, writeBenchmarksSection } from './report.ts';
import { benchConfigYaml, type SyntheticMsp, syntheticMsp } from './synthetic-msp.ts';

const SECTION = 'handlers-cycle';
const COMMAND = 'npm run bench:handlers';
const DELAY_MS = 20;
const RATIO_TARGET = 1.3;
const RSS_LIMIT_MB = 256;
const STEADY_REQUESTS_TARGET = 6;
const STATE_STAGE_TARGET_MS = 3000;
const SELF = fileURLToPath(import.meta.url);
const CLI = fileURLToPath(new URL('../../bin/relaywatch.js', import.meta.url));
/** The Node options bin/relaywatch.js runs with (its shebang line). */
const PRODUCT_FLAGS = productFlags(CLI);
const WATCHDOG_MS = 15 * 60_000;
/** Share of tenants whose relay IP changes in the "changed" cycle. */
const CHANGED_SHARE = 0.1;

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer: ${raw}`);
  return v;
}

const mb = (bytes: number) => bytes / 1048576;
const fmt = (v: number, digits = 0) => v.toFixed(digits);

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
}

// ---------------------------------------------------------------------------------------------------------------
// The config both sides run

/**
 * The MSP of the bench with the relay IP of its last `changed` tenants moved to an address their SPF does not list
 * (the last ones: the container child runs the first tenants' jobs, which stay steady).
 */
function withChangedRelays(msp: SyntheticMsp, changed: number): SyntheticMsp {
  const from = msp.tenants.length - changed;
  return {
    ...msp,
    tenants: msp.tenants.map((t, i) => (i >= from ? { ...t, relayIps: [`198.51.100.${(i % 250) + 1}`] } : t)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// A counting DynamoDB proxy that asks DynamoDB Local for the consumed capacity

const CAPACITY_OPS = new Set([
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'GetItem',
  'Query',
  'Scan',
  'BatchWriteItem',
  'BatchGetItem',
  'TransactWriteItems',
  'TransactGetItems',
]);
const WRITE_OPS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

interface ProxyWindow {
  readonly requests: Record<string, number>;
  readonly total: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Requests whose answer carried no ConsumedCapacity. */
  readonly unmetered: number;
  /** First request to last answer, ms (0 when none). */
  readonly spanMs: number;
  /** Sum of the requests' durations over the span: requests in flight on average. */
  readonly meanInFlight: number;
  readonly errors: number;
}

interface CountingProxy {
  readonly endpoint: string;
  reset(): void;
  window(): ProxyWindow;
  close(): Promise<void>;
}

type Capacity = { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };

async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  let log: { op: string; start: number; end: number; units: number | undefined; status: number }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
      let body = Buffer.concat(chunks);
      if (CAPACITY_OPS.has(op)) {
        try {
          const doc = JSON.parse(body.toString('utf8')) as { ReturnConsumedCapacity?: string };
          if (doc.ReturnConsumedCapacity !== 'INDEXES') doc.ReturnConsumedCapacity = 'TOTAL';
          body = Buffer.from(JSON.stringify(doc), 'utf8');
        } catch {
          // not JSON: forwarded unchanged
        }
      }
      const entry = { op, start: performance.now(), end: 0, units: undefined as number | undefined, status: 0 };
      log.push(entry);
      const headers = { ...req.headers, 'content-length': String(body.byteLength) };
      const fwd = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            const answer = Buffer.concat(parts);
            entry.end = performance.now();
            entry.status = up.statusCode ?? 0;
            try {
              const doc = JSON.parse(answer.toString('utf8')) as { ConsumedCapacity?: Capacity | Capacity[] };
              const cc = doc.ConsumedCapacity;
              if (cc !== undefined) {
                const list = Array.isArray(cc) ? cc : [cc];
                entry.units = list.reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
              }
            } catch {
              // not JSON
            }
            res.writeHead(up.statusCode ?? 500, up.headers);
            res.end(answer);
          });
        },
      );
      fwd.on('error', (err) => {
        entry.end = performance.now();
        entry.status = 502;
        res.writeHead(502).end(String(err));
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    reset: () => {
      log = [];
    },
    window: () => {
      const requests: Record<string, number> = {};
      let writeUnits = 0;
      let readUnits = 0;
      let unmetered = 0;
      let busy = 0;
      let errors = 0;
      for (const e of log) {
        requests[e.op] = (requests[e.op] ?? 0) + 1;
        if (e.units === undefined) unmetered++;
        else if (WRITE_OPS.has(e.op)) writeUnits += e.units;
        else readUnits += e.units;
        if (e.status >= 400) errors++;
        busy += Math.max(0, e.end - e.start);
      }
      const first = log[0]?.start ?? 0;
      const last = log.reduce((m, e) => Math.max(m, e.end), first);
      const spanMs = last - first;
      return {
        requests,
        total: log.length,
        writeUnits,
        readUnits,
        unmetered,
        spanMs,
        meanInFlight: spanMs > 0 ? busy / spanMs : 0,
        errors,
      };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The children: the handler modules in a process of their own

interface ChildArgs {
  readonly env: Record<string, string>;
  readonly workers: number;
  readonly batch: number;
  /** Jobs to run per phase (the first N of what dispatch enqueued), all when absent. */
  readonly maxJobs?: number;
}

interface PhaseStart {
  readonly type: 'phase-start';
  readonly name: string;
}
interface PhaseReply {
  readonly type: 'phase-go';
  /** A config document to push to S3 before the phase (a new ETag: the functions re-read it). */
  readonly config?: string;
  readonly time: string;
  readonly batch?: number;
}
interface PhaseEnd {
  readonly type: 'phase-end';
  readonly name: string;
  readonly wallMs: number;
  readonly dispatchMs: number;
  readonly cpuMs: number;
  readonly jobs: number;
  readonly invocations: number;
  /** Per invocation: duration and jobs in it. */
  readonly durations: readonly { readonly ms: number; readonly jobs: number }[];
  readonly failures: number;
  readonly maxRssMb: number;
  /** Containers that ran at least one invocation in the phase. */
  readonly containersUsed: number;
  /**
   * When the phase pushed a new config (its JSON form, as `config push` uploads it): the CPU time of one parse of it
   * here, as a container parses it, after the phase (median of 3, warm), ms.
   */
  readonly configParseMs: number | null;
  /** The containers' DNS caches over the phase (summed over the containers). */
  readonly dnsCache: { readonly hits: number; readonly misses: number; readonly entries: number; readonly kb: number };
}
interface ChildDone {
  readonly type: 'done';
  readonly maxRssMb: number;
  readonly rssAfterImportMb: number;
}
type ChildMessage = PhaseStart | PhaseEnd | ChildDone;

const CONTEXT = {
  functionName: 'bench-worker',
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

async function childMain(role: string, args: ChildArgs): Promise<void> {
  const send = (m: ChildMessage) => new Promise<void>((resolve) => process.send?.(m, () => resolve()));
  const replies: PhaseReply[] = [];
  let waiting: ((r: PhaseReply) => void) | undefined;
  process.on('message', (m: PhaseReply | { type: 'stop' }) => {
    if (m.type === 'stop') {
      void closeAll().then(() => process.disconnect());
      return;
    }
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(m);
    } else replies.push(m);
  });
  const ask = async (name: string): Promise<PhaseReply> => {
    await send({ type: 'phase-start', name });
    return replies.shift() ?? (await new Promise<PhaseReply>((resolve) => (waiting = resolve)));
  };

  const { startS3StandIn, startSqsStandIn, startSecretsManagerStandIn } = await import('../support/aws-standins.ts');
  const [s3, sqs, sm] = await Promise.all([startS3StandIn(), startSqsStandIn(), startSecretsManagerStandIn()]);
  const closeAll = () => Promise.all([s3.close(), sqs.close(), sm.close()]);
  Object.assign(process.env, args.env, {
    [ENV.jobQueueUrl]: `${sqs.endpoint}/000000000000/relaywatch-jobs`,
    [ENV.s3Endpoint]: s3.endpoint,
    [ENV.sqsEndpoint]: sqs.endpoint,
    [ENV.secretsManagerEndpoint]: sm.endpoint,
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  type Handler<E, R> = (event: E, context: Context) => Promise<R>;
  type WorkerHandler = Handler<SQSEvent, { batchItemFailures: { itemIdentifier: string }[] }>;
  type WorkerModule = typeof import('../../functions/worker/handler.ts');
  const dispatch = (await import('../../functions/dispatch/handler.ts')).handler as unknown as Handler<
    { group: string; scheduledTime: string },
    unknown
  >;
  // One Lambda container per concurrency slot: its own instance of the worker module (a distinct module URL), so its
  // module scope (environment, config source with its ETag cache, store and SDK clients, secrets cache, Powertools,
  // the container's DNS cache) is its own, as in a container of its own. What the slots share is this process: the
  // code of the modules below the handler (stateless), V8's compiled code, one event loop and one core.
  const containers: { readonly worker: WorkerHandler; readonly module: WorkerModule }[] = [];
  for (let i = 0; i < args.workers; i++) {
    const module = (await import(`../../functions/worker/handler.ts?container=${i}`)) as WorkerModule;
    containers.push({ worker: module.handler as unknown as WorkerHandler, module });
  }
  const rssAfterImportMb = process.resourceUsage().maxRSS / 1024;
  const bucket = args.env[ENV.configBucket] ?? 'relaywatch-config';
  const key = args.env[ENV.configKey] ?? 'relaywatch.yaml';

  for (;;) {
    const go = await ask(role);
    if (go.time === '') break;
    if (go.config !== undefined) s3.put(bucket, key, go.config);
    const batch = go.batch ?? args.batch;
    // Each phase is a cycle, 15 minutes after the last one in a deployment: the containers stay (warm), but their DNS
    // caches start empty, so that only what a container saves within one cycle is counted (see the prose).
    const cache0 = containers.map((c) => c.module.container.dnsCache.stats());
    for (const c of containers) c.module.container.dnsCache.clear();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const before = sqs.messages.length;
    await dispatch({ group: 'checks', scheduledTime: go.time }, CONTEXT);
    const dispatchMs = performance.now() - t0;
    const records: SQSRecord[] = sqs.messages
      .slice(before, before + (args.maxJobs ?? Infinity))
      .map((m) => sqsRecord(m.body, m.messageId, 'us-east-1'));
    const batches: SQSRecord[][] = [];
    for (let i = 0; i < records.length; i += batch) batches.push(records.slice(i, i + batch));
    const durations: { ms: number; jobs: number }[] = [];
    let failures = 0;
    let next = 0;
    const used = new Set<number>();
    // Each container takes the next batch when its invocation is over (one invocation at a time per container).
    await Promise.all(
      containers.slice(0, Math.min(args.workers, batches.length)).map(async ({ worker }, slot) => {
        used.add(slot);
        for (let b = batches[next++]; b !== undefined; b = batches[next++]) {
          const s = performance.now();
          const r = await worker({ Records: b }, CONTEXT);
          durations.push({ ms: performance.now() - s, jobs: b.length });
          failures += r.batchItemFailures.length;
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    let configParseMs: number | null = null;
    if (go.config !== undefined) {
      const times: number[] = [];
      // CPU time of this thread (not wall time: the machine is shared, and the parse is synchronous).
      for (let k = 0; k < 3; k++) {
        const p0 = process.threadCpuUsage();
        parseConfigJson(go.config, 'bench.json');
        const p1 = process.threadCpuUsage(p0);
        times.push((p1.user + p1.system) / 1000);
      }
      configParseMs = median(times);
    }
    const cache1 = containers.map((c) => c.module.container.dnsCache.stats());
    const dnsCache = {
      hits: cache1.reduce((n, c, i) => n + c.hits - (cache0[i]?.hits ?? 0), 0),
      misses: cache1.reduce((n, c, i) => n + c.misses - (cache0[i]?.misses ?? 0), 0),
      entries: cache1.reduce((n, c) => n + c.entries, 0),
      kb: cache1.reduce((n, c) => n + c.bytes, 0) / 1024,
    };
    await send({
      type: 'phase-end',
      name: role,
      wallMs,
      dispatchMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      jobs: records.length,
      invocations: batches.length,
      durations,
      failures,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      containersUsed: used.size,
      configParseMs,
      dnsCache,
    });
  }
  await send({ type: 'done', maxRssMb: process.resourceUsage().maxRSS / 1024, rssAfterImportMb });
}

// ---------------------------------------------------------------------------------------------------------------
// The parent

interface PhasePlan {
  readonly name: string;
  readonly time: string;
  readonly config?: string;
  readonly batch?: number;
}

interface PhaseResult {
  readonly plan: PhasePlan;
  readonly end: PhaseEnd;
  readonly ddb: ProxyWindow;
  /** Queries the relay forwarded during the phase (filled in when the relay answers). */
  relay?: RelayCounts;
}

interface ChildRun {
  readonly phases: readonly PhaseResult[];
  readonly done: ChildDone;
}

const running = new Set<ChildProcess>();

function runChild(
  role: 'handlers' | 'container',
  args: ChildArgs,
  plans: readonly PhasePlan[],
  proxy: CountingProxy,
  onPhase: (name: string) => Promise<void>,
  relayCounts: () => Promise<RelayCounts>,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, [role, JSON.stringify(args)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [...process.execArgv, ...PRODUCT_FLAGS],
    });
    running.add(child);
    const phases: PhaseResult[] = [];
    const relayAsked: Promise<unknown>[] = [];
    let i = 0;
    let done: ChildDone | undefined;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'phase-start') {
        const plan = plans[i];
        if (!plan) {
          child.send({ type: 'phase-go', time: '' } satisfies PhaseReply);
          return;
        }
        void onPhase(plan.name).then(() => {
          proxy.reset();
          child.send({
            type: 'phase-go',
            time: plan.time,
            ...(plan.config !== undefined ? { config: plan.config } : {}),
            ...(plan.batch !== undefined ? { batch: plan.batch } : {}),
          } satisfies PhaseReply);
        });
      } else if (m.type === 'phase-end') {
        const plan = plans[i++];
        if (plan) {
          const result: PhaseResult = { plan, end: m, ddb: proxy.window() };
          phases.push(result);
          // Asked before the next phase's reset (the relay's requests are answered in order).
          relayAsked.push(relayCounts().then((c) => (result.relay = c)));
        }
        console.log(
          `[${role}] ${plan?.name}: ${fmt(m.wallMs)} ms, ${m.jobs} jobs in ${m.invocations} invocation(s), ` +
            `${m.failures} failed, ${proxy.window().total} DynamoDB requests, peak RSS ${fmt(m.maxRssMb)} MB`,
        );
      } else if (m.type === 'done') {
        done = m;
        child.send({ type: 'stop' });
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      running.delete(child);
      if (done) {
        const finished = done;
        void Promise.all(relayAsked).then(() => resolve({ phases, done: finished }), reject);
      } else reject(new Error(`the ${role} child exited (${code ?? signal}) before it was done`));
    });
  });
}

interface CliRun {
  readonly name: string;
  readonly wallMs: number;
  /** The report's `durationMs` (from the action's start: config loaded, checks, state stage). */
  readonly durationMs: number;
  readonly maxRssMb: number;
  readonly exitCode: number | null;
  readonly status: string;
  readonly stored: number | null;
  readonly stateError: string | null;
  readonly reportBytes: number;
  /** CPU time of the CLI process (user + system), ms. */
  readonly cpuMs: number;
  readonly ddb: ProxyWindow | null;
  /** With a forced full GC every few hundred ms: the largest heap left after one (MB). */
  readonly liveHeapMb: number | null;
}

async function runCli(
  name: string,
  configPath: string,
  store: string,
  dir: string,
  env: Record<string, string>,
  proxy: CountingProxy | null,
  /** Force a full GC this often (ms) and record the largest heap left after one: what the run really keeps. */
  gcEveryMs = 0,
): Promise<CliRun> {
  const rssFile = join(dir, `rss-${name}-${Date.now()}.txt`);
  const preload = join(dir, 'rss-preload.mjs');
  writeFileSync(
    preload,
    [
      "import { writeFileSync } from 'node:fs';",
      'let live = 0;',
      'const every = Number(process.env.RW_BENCH_GC_MS ?? 0);',
      'if (every > 0 && globalThis.gc) {',
      '  setInterval(() => { globalThis.gc(); live = Math.max(live, process.memoryUsage().heapUsed); }, every).unref();',
      '}',
      "process.on('exit', () => { const c = process.cpuUsage(); writeFileSync(process.env.RW_BENCH_RSS_FILE, JSON.stringify({ maxRss: process.resourceUsage().maxRSS, live, cpuMs: (c.user + c.system) / 1000 })); });",
      '',
    ].join('\n'),
  );
  const args = [
    ...PRODUCT_FLAGS,
    ...(gcEveryMs > 0 ? ['--expose-gc'] : []),
    '--import',
    preload,
    CLI,
    'check',
    '--json',
    '--config',
    configPath,
    '--no-blocklists',
  ];
  args.push('--store', store);
  if (proxy) args.push('--endpoint', proxy.endpoint);
  proxy?.reset();
  const t0 = performance.now();
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, args, {
        cwd: dir,
        env: { ...process.env, ...env, RW_BENCH_RSS_FILE: rssFile, RW_BENCH_GC_MS: String(gcEveryMs), NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      running.add(child);
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
      });
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString('utf8');
      });
      child.on('error', reject);
      child.on('exit', (c) => {
        running.delete(child);
        resolve({ code: c, stdout: out, stderr: err });
      });
    },
  );
  const wallMs = performance.now() - t0;
  let doc: { status?: string; durationMs?: number; state?: { stored?: number } | null; stateError?: string };
  try {
    doc = JSON.parse(stdout) as typeof doc;
  } catch {
    throw new Error(`relaywatch check (${name}) printed no JSON (exit ${code}): ${stderr.slice(0, 2000)}`);
  }
  const measured = JSON.parse(readFileSync(rssFile, 'utf8')) as { maxRss: number; live: number; cpuMs: number };
  const maxRssMb = measured.maxRss / 1024;
  const run: CliRun = {
    name,
    wallMs,
    durationMs: doc.durationMs ?? Number.NaN,
    maxRssMb,
    exitCode: code,
    status: doc.status ?? '?',
    stored: doc.state?.stored ?? null,
    stateError: doc.stateError ?? null,
    reportBytes: Buffer.byteLength(stdout),
    cpuMs: measured.cpuMs,
    ddb: proxy ? proxy.window() : null,
    liveHeapMb: gcEveryMs > 0 ? mb(measured.live) : null,
  };
  console.log(
    `[cli] ${name}: ${fmt(wallMs)} ms (report durationMs ${run.durationMs}), exit ${code}, ${run.status}, ` +
      `stored ${run.stored}, peak RSS ${fmt(maxRssMb)} MB` +
      (run.ddb ? `, ${run.ddb.total} DynamoDB requests over ${fmt(run.ddb.spanMs)} ms` : '') +
      (run.stateError ? `; state error: ${run.stateError}` : ''),
  );
  return run;
}

/** Schedule slots of the `checks` group, 15 minutes apart, in the past. */
function slotTimes(count: number): string[] {
  const step = 15 * 60_000;
  const first = Math.floor(Date.now() / step) - count - 4;
  return Array.from({ length: count }, (_, k) => new Date((first + k) * step + 10_000).toISOString());
}

interface Report {
  readonly date: string;
  readonly machine: string;
  readonly load: readonly [number, number];
  readonly node: string;
  readonly tenants: number;
  readonly domains: number;
  readonly changed: number;
  readonly concurrency: number;
  readonly workers: number;
  readonly batch: number;
  readonly containerJobs: number;
  readonly handlers: ChildRun;
  readonly container: ChildRun;
  readonly cli: readonly CliRun[];
  readonly cliSqlite: CliRun;
  readonly cliGc: CliRun;
  /** Relay counts of the CLI's runs by cycle (the handlers' are in their phases). */
  readonly cliRelay: Readonly<Record<string, RelayCounts>>;
}

function perTenant(w: ProxyWindow, tenants: number): string {
  return fmt(w.total / tenants, 2);
}

function ops(w: ProxyWindow, tenants: number): string {
  return Object.entries(w.requests)
    .sort((a, b) => b[1] - a[1])
    .map(([op, n]) => (n / tenants < 0.05 ? `${op} ×${n} in all` : `${op} ${fmt(n / tenants, 2)}`))
    .join(', ');
}

function units(w: ProxyWindow, tenants: number): string {
  if (w.total > 0 && w.unmetered === w.total) return 'not reported';
  const note = w.unmetered > 0 ? ` (${w.unmetered} requests unmetered)` : '';
  return `${fmt(w.writeUnits / tenants, 2)} / ${fmt(w.readUnits / tenants, 2)}${note}`;
}

interface Target {
  readonly name: string;
  readonly ok: boolean;
}

function targets(r: Report): Target[] {
  const steadyH = r.handlers.phases.find((p) => p.plan.name === 'steady');
  const ratios = ['first', 'steady', 'changed'].map((n) => {
    const h = r.handlers.phases.find((p) => p.plan.name === n);
    const c = r.cli.find((x) => x.name === n);
    return h && c ? h.end.wallMs / c.durationMs : Number.NaN;
  });
  const dyn = r.cli.find((c) => c.name === 'steady');
  const jobMs = r.container.phases.find((p) => p.plan.batch === 1)?.end.durations.map((d) => d.ms) ?? [];
  return [
    { name: 'ratio', ok: ratios.every((x) => x <= RATIO_TARGET) },
    {
      name: 'steady requests (handlers)',
      ok: (steadyH?.ddb.total ?? Infinity) / r.tenants <= STEADY_REQUESTS_TARGET,
    },
    { name: 'state stage', ok: (dyn?.ddb?.spanMs ?? Infinity) < STATE_STAGE_TARGET_MS },
    { name: 'worker RSS', ok: r.container.done.maxRssMb < RSS_LIMIT_MB && jobMs.length > 0 },
    {
      name: 'CLI RSS',
      ok: r.cliSqlite.maxRssMb < RSS_LIMIT_MB && r.cli.every((c) => c.maxRssMb < RSS_LIMIT_MB),
    },
    {
      name: 'no failures',
      ok:
        r.handlers.phases.every((p) => p.end.failures === 0 && p.ddb.errors === 0) &&
        r.cli.every((c) => c.stateError === null),
    },
  ];
}

const pass = (ok: boolean) => (ok ? '**PASS**' : '**FAIL**');

function section(r: Report): string {
  const t = targets(r);
  const ok = (name: string) => t.find((x) => x.name === name)?.ok ?? false;
  const phase = (name: string) => r.handlers.phases.find((p) => p.plan.name === name);
  const cli = (name: string) => r.cli.find((c) => c.name === name);
  const names = ['first', 'steady', 'changed'];

  const wallRows = names.map((n) => {
    const h = phase(n);
    const c = cli(n);
    const ratio = h && c ? h.end.wallMs / c.durationMs : Number.NaN;
    return [
      n,
      h ? `**${fmt(h.end.wallMs)}** (dispatch ${fmt(h.end.dispatchMs)}, CPU ${fmt(h.end.cpuMs)})` : 'n/a',
      c ? `**${fmt(c.durationMs)}** (process ${fmt(c.wallMs)}, CPU ${fmt(c.cpuMs)})` : 'n/a',
      Number.isNaN(ratio) ? 'n/a' : `${fmt(ratio, 2)}×`,
      `≤ ${RATIO_TARGET}×: ${pass(ratio <= RATIO_TARGET)}`,
    ];
  });

  // Where the ratio fails, what stands in the way, from this run's figures: the handlers' CPU (one thread here for all
  // the containers) against the CLI's wall time.
  const failing = names.flatMap((n) => {
    const h = phase(n);
    const c = cli(n);
    if (!h || !c || h.end.wallMs / c.durationMs <= RATIO_TARGET) return [];
    return [
      `The ${n} cycle misses ${RATIO_TARGET}×: the ${r.workers} containers' CPU alone (${fmt(h.end.cpuMs)} ms, run on ` +
        `one thread here) is ${fmt(h.end.cpuMs / c.durationMs, 2)}× the CLI's ${fmt(c.durationMs)} ms (the CLI's own ` +
        `CPU: ${fmt(c.cpuMs)} ms)` +
        (h.plan.config !== undefined
          ? `; a new config document this cycle, so each container parses it on its first invocation: ` +
            `${h.end.containersUsed} parses where the CLI makes one, about ${fmt(h.end.containersUsed * (h.end.configParseMs ?? Number.NaN))} ms ` +
            `of that CPU (one parse of this document takes ${fmt(h.end.configParseMs ?? Number.NaN)} ms of CPU here once ` +
            'compiled, more while the code is cold), which Lambda spreads over the containers’ own CPUs'
          : '') +
        `; the ${fmt(h.ddb.total / r.tenants, 2)} DynamoDB requests per tenant (the CLI: ` +
        `${fmt((c.ddb?.total ?? Number.NaN) / r.tenants, 2)}) each cost the containers CPU too (a worker runs up to ` +
        `${JOB_CONCURRENCY} jobs of a batch at once, which shortens the waits, not the CPU).`,
    ];
  });

  const dnsRows = names.map((n) => {
    const h = phase(n);
    const c = r.cliRelay[n];
    const hq = h?.relay?.forwarded;
    return [
      n,
      hq === undefined ? 'n/a' : `**${hq}**`,
      c ? `**${c.forwarded}**` : 'n/a',
      h?.relay && c ? `${fmt(h.relay.forwarded / c.forwarded, 2)}×` : 'n/a',
      h
        ? `${h.end.dnsCache.hits} hits / ${h.end.dnsCache.misses} misses; ${h.end.dnsCache.entries} entries, ` +
          `${fmt(h.end.dnsCache.kb)} KB at the end (all containers)`
        : 'n/a',
    ];
  });

  const ddbRows: string[][] = [];
  for (const n of names) {
    const h = phase(n);
    const c = cli(n);
    if (h) {
      ddbRows.push([
        `handlers, ${n}`,
        `**${perTenant(h.ddb, r.tenants)}**`,
        ops(h.ddb, r.tenants),
        units(h.ddb, r.tenants),
        `${fmt(h.ddb.spanMs)} ms / ${fmt(h.ddb.meanInFlight, 1)}`,
        n === 'steady' ? `≤ ${STEADY_REQUESTS_TARGET}: ${pass(ok('steady requests (handlers)'))}` : '',
      ]);
    }
    if (c?.ddb) {
      ddbRows.push([
        `CLI, ${n}`,
        `**${perTenant(c.ddb, r.tenants)}**`,
        ops(c.ddb, r.tenants),
        units(c.ddb, r.tenants),
        `**${fmt(c.ddb.spanMs)} ms** / ${fmt(c.ddb.meanInFlight, 1)}`,
        n === 'steady'
          ? `state stage < ${STATE_STAGE_TARGET_MS} ms: ${pass(ok('state stage'))}; ≤ ${STEADY_REQUESTS_TARGET} requests: ${pass(c.ddb.total / r.tenants <= STEADY_REQUESTS_TARGET)}`
          : '',
      ]);
    }
  }

  const jobPhase = r.container.phases.find((p) => p.plan.batch === 1);
  const batchPhase = r.container.phases.find((p) => p.plan.batch !== 1);
  const jobMs = jobPhase?.end.durations.map((d) => d.ms) ?? [];
  const batchMs = batchPhase?.end.durations.map((d) => d.ms) ?? [];
  const perJobInBatch = batchPhase?.end.durations.map((d) => d.ms / d.jobs) ?? [];
  const allInvocations = r.handlers.phases.find((p) => p.plan.name === 'steady')?.end.durations ?? [];
  const concurrentPerJob = allInvocations.map((d) => d.ms / d.jobs);

  const cliRssRows = [
    [
      'SQLite (`--store sqlite:PATH`), first cycle',
      `**${fmt(r.cliSqlite.maxRssMb)} MB**`,
      `${fmt(r.cliSqlite.durationMs)} ms`,
      `${fmt(r.cliSqlite.reportBytes / 1024)} KB`,
    ],
    ...r.cli.map((c) => [
      `DynamoDB Local (\`--store dynamodb:TABLE --endpoint …\`), ${c.name}`,
      `**${fmt(c.maxRssMb)} MB**`,
      `${fmt(c.durationMs)} ms`,
      `${fmt(c.reportBytes / 1024)} KB`,
    ]),
  ];

  const lines = [
    `<!-- bench:${SECTION}:start (written by test/bench/handlers.ts; edits inside are overwritten) -->`,
    '## One cycle through the Lambda handlers and through the CLI, on DynamoDB Local',
    '',
    `The synthetic MSP of the DNS/SPF bench (${r.tenants} tenants / ${r.domains} domains, unbound \`local-data\` behind the ` +
      `relay adding ${DELAY_MS} ms per query), the same config for both sides (\`dns.concurrency: ${r.concurrency}\`, ` +
      'no blocklist zone enabled: the comparison is the domain checks and the state stage), on DynamoDB Local behind a ' +
      'counting proxy that adds `ReturnConsumedCapacity: TOTAL` to every request. Three cycles on each side, each on its ' +
      `own table: **first** (empty table), then two cycles not shown (the pass counters climb to the policy's thresholds), **steady** (nothing changed), **changed** (${r.changed} tenants, ` +
      `${Math.round(CHANGED_SHARE * 100)}%, have a new relay IP their SPF does not authorise: their SPF verdict changes). ` +
      "The sides take turns: each CLI cycle runs just before the handlers' cycle of the same name, so the two figures " +
      'of a row are measured minutes apart, under much the same load of this shared machine.',
    '',
    `- **Handlers**: the real modules \`functions/dispatch/handler.ts\` and \`functions/worker/handler.ts\` (zod-parsed ` +
      'environment, middy, Powertools), in one child process with the S3/SQS/Secrets Manager stand-ins of the e2e test: ' +
      'dispatch (invoked as the `checks` schedule) → the SQS event built from what it enqueued → the worker, ' +
      `batches of ${r.batch} messages, **${r.workers} containers**: each concurrency slot is a container with its own ` +
      'instance of the worker module (a module URL of its own, so its own module scope: environment, config source ' +
      'and its ETag cache, DynamoDB/S3/Secrets Manager clients, Powertools, and the container DNS cache), running ' +
      `its invocations one at a time (each runs up to ${JOB_CONCURRENCY} jobs of its batch at once, as in Lambda) and ` +
      'taking the next batch when it is free, as the SQS poller hands batches to ' +
      `free containers. Nothing one container keeps is seen by another: ${r.workers} containers, ${r.workers} DNS ` +
      'caches, as in Lambda. Each invocation builds its own runtime (sockets, SPF evaluator, notifiers) and closes it; ' +
      "the container's DNS cache stays for its next invocation. What the slots do share is this process: the " +
      "stateless modules below the handler, V8's compiled code (a Lambda container compiles on its own), one event " +
      `loop and **one core**: the ${r.workers} containers' CPU runs on one thread here, where Lambda gives each ` +
      "container its own, so the handlers' wall time below cannot be less than their summed CPU (this is against the " +
      'handlers, not for them). Between cycles the containers stay warm (imported before, config and clients kept) but their ' +
      "DNS caches are emptied: the bench's slots are 15 minutes apart (the deployment's `checks` default is 60), " +
      'Lambda does not promise to keep an idle container that long, and most answers would have expired, so only what ' +
      'a container saves within one cycle (its second and later invocations) is counted, never answers carried over ' +
      'from the cycle before. Wall time from the dispatch call to the last ' +
      'batch answered.',
    `- **CLI**: \`relaywatch check --json --no-blocklists --store dynamodb:TABLE --endpoint <proxy>\` as a child process ` +
      `(\`node ${PRODUCT_FLAGS.join(' ')} bin/relaywatch.js\`), same config, same concurrency (${r.concurrency} DNS queries in ` +
      "flight). Its time is the report's `durationMs` (config load, checks, state stage; not Node's start-up), the " +
      'process wall time beside it.',
    `- Command: \`${COMMAND}\` (\`node test/bench/handlers.ts\`; also part of \`npm run bench\`; \`BENCH_TENANTS\`, ` +
      '`BENCH_CONCURRENCY`, `BENCH_WORKERS`, `BENCH_BATCH`, `BENCH_JOBS` to vary)',
    `- Date: ${r.date}`,
    `- Machine: ${r.machine}; load average (1 min) before / after: ${fmt(r.load[0], 2)} / ${fmt(r.load[1], 2)}` +
      (Math.max(...r.load) > 1.5 ? ' (on 2 shared cores: timings are inflated by other work)' : ''),
    `- Node ${r.node}`,
    '',
    table(['cycle', 'handlers, wall (ms)', 'CLI `durationMs` (ms)', 'handlers / CLI', 'target'], wallRows),
    '',
    table(
      [
        'cycle',
        'DNS queries on the relay, handlers',
        'CLI',
        'handlers / CLI',
        "the containers' DNS caches (hits are questions no server was asked)",
      ],
      dnsRows,
    ),
    '',
    table(
      [
        'side, cycle',
        'DynamoDB requests per tenant',
        'by operation (per tenant)',
        'write / read units per tenant',
        'first request to last answer / requests in flight (mean)',
        'target',
      ],
      ddbRows,
    ),
    '',
    table(
      ['Lambda worker', 'value', 'target'],
      [
        [
          `duration per tenant job (container child: one invocation at a time, ${jobMs.length} invocations of one message, steady cycle)`,
          `median **${fmt(median(jobMs))} ms**, p95 **${fmt(percentile(jobMs, 95))} ms**`,
          'feeds the cost model (docs/deploy.md)',
        ],
        [
          `duration of a batch of ${r.batch} (same child, ${batchMs.length} invocations)`,
          `median ${fmt(median(batchMs))} ms, p95 ${fmt(percentile(batchMs, 95))} ms; per job ${fmt(median(perJobInBatch))} ms (median)`,
          '',
        ],
        [
          'peak RSS of the container child (worker module loaded, every invocation above)',
          `**${fmt(r.container.done.maxRssMb)} MB** (${fmt(r.container.done.rssAfterImportMb)} MB after the imports)`,
          `< ${RSS_LIMIT_MB} MB: ${pass(ok('worker RSS'))}`,
        ],
        [
          `peak RSS of the process running the ${r.workers} containers (all three cycles)`,
          `${fmt(r.handlers.done.maxRssMb)} MB (${fmt(r.handlers.done.rssAfterImportMb)} MB after the imports)`,
          'informational (a Lambda container runs one invocation at a time)',
        ],
        [
          `per job in the concurrent steady cycle (invocation time / jobs, ${r.workers} at once on this machine's cores)`,
          `median ${fmt(median(concurrentPerJob))} ms, p95 ${fmt(percentile(concurrentPerJob, 95))} ms`,
          'informational',
        ],
      ],
    ),
    '',
    table(
      [`CLI \`check --json\` with a store, ${r.domains} domains`, 'peak RSS', '`durationMs`', 'JSON report'],
      cliRssRows,
    ),
    '',
    `CLI peak RSS target: < ${RSS_LIMIT_MB} MB on every run: ${pass(ok('CLI RSS'))}. What the CLI keeps, as opposed to ` +
      `the garbage V8 has not collected yet: one more DynamoDB cycle (the changed config again) with a full GC every 500 ms ` +
      `(\`--expose-gc\`, informational) peaked at ${fmt(r.cliGc.maxRssMb)} MB RSS, and the heap left after any of ` +
      `those GCs was at most ${fmt(r.cliGc.liveHeapMb ?? Number.NaN)} MB (modules, compiled code, the reports of ` +
      `${r.domains} domains, the DNS cache): the rest of the peak above is garbage the old generation grows into ` +
      "before V8 collects it. DNS above: each cycle's queries as the relay in front of unbound saw them (the CLI asks " +
      'each question once per run; a container asks it once per cycle at most, so the containers together ask a ' +
      'shared name once per container that meets it). CPU: the CLI is one process on one thread too, so its CPU ' +
      "beside the handlers' compares the work each side does per cycle." +
      (failing.length > 0 ? ` ${failing.join(' ')}` : ''),
    `<!-- bench:${SECTION}:end -->`,
  ];
  return lines.join('\n');
}

function machine(): string {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  return `${cpu}, ${os.availableParallelism()} cores (shared with other work while measured), ${fmt(os.totalmem() / 1024 ** 3, 1)} GB RAM, ${os.type()} ${os.release()} ${os.arch()}`;
}

async function main(): Promise<number> {
  const tenantsN = envInt('BENCH_TENANTS', 500);
  const concurrency = envInt('BENCH_CONCURRENCY', 32);
  const workers = envInt('BENCH_WORKERS', 32);
  const batch = envInt('BENCH_BATCH', 10);
  const containerJobs = envInt('BENCH_JOBS', 100);
  const write = process.env.BENCH_WRITE !== '0';
  const msp = syntheticMsp({ tenants: tenantsN, domainsPerTenant: 2, vendors: 30 });
  const changedN = Math.max(1, Math.round(tenantsN * CHANGED_SHARE));
  const changed = withChangedRelays(msp, changedN);
  const domains = msp.tenants.reduce((n, t) => n + t.domains.length, 0);
  const dir = mkdtempSync(join(os.tmpdir(), 'relaywatch-bench-handlers-'));

  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const c of running) c.kill('SIGKILL');
    await Promise.allSettled(cleanups.splice(0).map((f) => f()));
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    console.error(`the bench did not finish within ${WATCHDOG_MS / 60_000} min; stopping`);
    void cleanup().finally(() => process.exit(2));
  }, WATCHDOG_MS);
  try {
    const unbound = await startUnbound({ localData: msp.localData, doh: false });
    cleanups.push(() => unbound.stop());
    const relay = await startDelayRelayProcess(unbound.udpPort, DELAY_MS);
    cleanups.push(() => relay.close());
    const ddb = await startDynamoDbLocal({ readyTimeoutMs: 120_000 });
    cleanups.push(() => ddb.stop());
    const proxy = await startCountingProxy(ddb.endpoint);
    cleanups.push(() => proxy.close());
    console.log(
      `${tenantsN} tenants, ${domains} domains; unbound :${unbound.udpPort}, relay :${relay.port}, ` +
        `DynamoDB Local ${ddb.endpoint} (up in ${ddb.startupMs} ms), proxy ${proxy.endpoint}`,
    );

    const steadyYaml = benchConfigYaml(msp, relay.port, concurrency);
    const changedYaml = benchConfigYaml(changed, relay.port, concurrency);
    // What `relaywatch config push` uploads for them (the CLI side reads the YAML files).
    const pushed = (yaml: string) => configJson(readConfigDocument(yaml, 'bench.yaml').document);
    const steadyJson = pushed(steadyYaml);
    const changedJson = pushed(changedYaml);
    const steadyPath = join(dir, 'relaywatch.yaml');
    const changedPath = join(dir, 'relaywatch-changed.yaml');
    writeFileSync(steadyPath, steadyYaml);
    writeFileSync(changedPath, changedYaml);

    const creds = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
    const handlersTable = `bench-handlers-${process.pid}`;
    const { openDynamoDbStore } = await import('../../shared/adapters/store/dynamodb-store.ts');
    const created = await openDynamoDbStore({
      tableName: handlersTable,
      endpoint: ddb.endpoint,
      region: creds.AWS_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      createTable: true,
    });
    await created.close();

    const loadBefore = os.loadavg()[0] ?? 0;
    const times = slotTimes(7);
    const childEnv = {
      ...creds,
      [ENV.configBucket]: 'relaywatch-config',
      [ENV.configKey]: 'relaywatch.yaml',
      [ENV.table]: handlersTable,
      [ENV.dynamodbEndpoint]: proxy.endpoint,
      [GROUP_INTERVAL_ENV.checks]: '15',
      [ENV.blocklistShards]: '1',
    };
    const relayCounts = () => relay.counts();
    const cliTable = `bench-cli-${process.pid}`;
    const cli: CliRun[] = [];
    const cliRelay: Record<string, RelayCounts> = {};
    const cliPaths: Record<string, string> = { changed: changedPath };
    // Each CLI cycle runs just before the handlers' cycle of the same name (the handler child waits meanwhile), so that
    // the two sides of a row are measured minutes apart, under the same load of this shared machine.
    const cliThenHandlers = async (name: string) => {
      await relay.reset();
      const run = await runCli(name, cliPaths[name] ?? steadyPath, `dynamodb:${cliTable}`, dir, creds, proxy);
      if (!name.startsWith('warm-up')) {
        cli.push(run);
        cliRelay[name] = await relay.counts();
      }
      await relay.reset();
    };
    const handlers = await runChild(
      'handlers',
      { env: childEnv, workers, batch },
      [
        { name: 'first', time: times[0]!, config: steadyJson },
        // Two cycles not shown: the pass counters climb to the policy's thresholds (resolveAfter + 1), after which
        // nothing a state holds changes and a steady cycle writes no state (shared/use-cases/record-cycle.ts).
        { name: 'warm-up 1', time: times[1]! },
        { name: 'warm-up 2', time: times[2]! },
        { name: 'steady', time: times[3]! },
        { name: 'changed', time: times[4]!, config: changedJson },
      ],
      proxy,
      cliThenHandlers,
      relayCounts,
    );
    // The container child: one invocation at a time, as a Lambda container; steady again (the changed config stays).
    const container = await runChild(
      'container',
      { env: childEnv, workers: 1, batch, maxJobs: Math.max(1, Math.min(containerJobs, tenantsN - changedN)) },
      [
        { name: 'jobs', time: times[5]!, config: changedJson, batch: 1 },
        { name: 'batches', time: times[6]!, batch },
      ],
      proxy,
      () => relay.reset(),
      relayCounts,
    );

    const cliSqlite = await runCli('sqlite', steadyPath, `sqlite:${join(dir, 'state.db')}`, dir, creds, null);
    // Informational: one more DynamoDB cycle (the changed config again) with a full GC every 500 ms: what the run
    // keeps, not its garbage.
    const cliGc = await runCli(
      'again, full GC every 500 ms',
      changedPath,
      `dynamodb:${cliTable}`,
      dir,
      creds,
      proxy,
      500,
    );
    const report: Report = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      machine: machine(),
      load: [loadBefore, os.loadavg()[0] ?? 0],
      node: process.version,
      tenants: tenantsN,
      domains,
      changed: changedN,
      concurrency,
      workers,
      batch,
      containerJobs,
      handlers,
      container,
      cli,
      cliSqlite,
      cliGc,
      cliRelay,
    };
    const text = section(report);
    console.log(`\n${text}\n`);
    if (write) {
      writeBenchmarksSection(SECTION, text);
      console.log('written to BENCHMARKS.md');
    }
    const missed = targets(report).filter((x) => !x.ok);
    console.log(missed.length === 0 ? 'all targets met' : `missed: ${missed.map((m) => m.name).join(', ')}`);
    return missed.length === 0 ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

if (import.meta.main) {
  const [role, json] = process.argv.slice(2);
  if (role === 'handlers' || role === 'container') {
    await childMain(role, JSON.parse(json ?? '{}') as ChildArgs);
  } else {
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
}
