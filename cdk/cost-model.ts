/**
 * The monthly cost model of docs/deploy.md ("Cost"), as code so an MSP can redo it with its own numbers:
 *
 *   node cdk/cost-model.ts                       # the tables in docs/deploy.md
 *   node cdk/cost-model.ts --tenants 250 --agents 0.2 --check-seconds 0.8
 *
 * Prices are us-east-1 list prices, checked on {@link PRICES_CHECKED} against the AWS pricing pages named in
 * docs/deploy.md. Every line is priced twice: at list price (the target is judged so: the always-free tier is per
 * account, or per organization under consolidated billing, and other workloads may use it up) and with the always-free
 * tier applied as if relaywatch were alone in the account. Item sizes and request units are measured on DynamoDB Local
 * (test/integration/lambda-e2e.int.test.ts checks them against the constants here); durations partly measured
 * (BENCHMARKS.md), partly estimated, as each input says. `--store before` prints the store as it wrote before check
 * results and tenant runs were keyed by time in the tenant's partition (a GSI2 entry per result and run).
 */
import { parseArgs } from 'node:util';

/** When the prices below were last compared with AWS's pricing pages. */
export const PRICES_CHECKED = '2026-12-02';

export const PRICES = {
  /** Lambda arm64, first 7.5 billion GB-seconds a month. */
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** SQS standard queue, per request (a batch of up to 10 messages is one request). */
  sqsRequest: 0.4 / 1e6,
  /** DynamoDB on demand (prices of 1 November 2024): per write request unit (1 KB), per read request unit (4 KB). */
  ddbWru: 0.625 / 1e6,
  ddbRru: 0.125 / 1e6,
  /** DynamoDB Standard table class storage, table and indexes, per GB-month. */
  ddbGbMonth: 0.25,
  /** Point-in-time recovery (continuous backups), per GB-month of the table's size (indexes other than LSIs not counted). */
  ddbPitrGbMonth: 0.2,
  schedulerInvocation: 1 / 1e6,
  /** API Gateway HTTP API, first 300 million requests a month. */
  httpApiRequest: 1 / 1e6,
  secretMonth: 0.4,
  secretApiCall: 0.05 / 1e4,
  /** CloudWatch: per standard-resolution alarm metric (an alarm on a math expression pays for each metric in it). */
  alarmMetricMonth: 0.1,
  dashboardMonth: 3,
  /** Per custom metric series (name + dimension values), first 10,000, prorated by the hour it is published. */
  customMetricMonth: 0.3,
  /** CloudWatch Logs standard class: ingestion per GB, storage per GB-month. */
  logIngestGb: 0.5,
  logStorageGbMonth: 0.03,
  /** S3 Standard GET (a conditional GET answered 304 counts too). */
  s3Get: 0.0004 / 1000,
} as const;

/**
 * The always-free tier per month (AWS Free Tier, "always free": not the 12-month offers, which an MSP's account is
 * past; HTTP API's 1 million calls and Secrets Manager's 30-day trial are such offers and are not counted). It is per
 * account, and per organization under consolidated billing: shared with every other workload there.
 */
export const ALWAYS_FREE = {
  lambdaRequests: 1e6,
  lambdaGbSeconds: 400_000,
  sqsRequests: 1e6,
  schedulerInvocations: 14e6,
  ddbStorageGb: 25,
  customMetrics: 10,
  alarmMetrics: 10,
  /** Three dashboards of up to 50 metrics each (relaywatch's has 13). */
  dashboards: 3,
  /** Logs: ingestion, archive storage and Logs Insights scans together. */
  logGb: 5,
} as const;

/**
 * Item sizes as DynamoDB bills them, measured on DynamoDB Local (the largest of each kind that
 * test/integration/lambda-e2e.int.test.ts writes through the real worker; that test fails when one grows past these or
 * shrinks more than 15 % below): a check result (SPF, MX or blocklist, detail included; tenant, time, run and subject
 * only in the key), a tenant run, a subject state.
 */
export const RESULT_ITEM_BYTES = 512;
export const RUN_ITEM_BYTES = 168;
export const STATE_ITEM_BYTES = 313;
/** The same, as the store wrote them before (every key part repeated as an attribute, GSI2 keys): measured likewise. */
export const BEFORE = { resultItemBytes: 673, runItemBytes: 290, gsi2EntryBytes: 173 } as const;

/**
 * What the synthesized example stage holds (test/infra/cost-model.test.ts counts them in the template): secrets,
 * alarms and the metrics they watch (each "no cycle" alarm is a math expression over two metrics), dashboards.
 */
export const STAGE = { secrets: 3, alarms: 16, alarmMetrics: 19, dashboards: 1 } as const;

/**
 * The custom metric series the functions publish every hour at the default schedules (service, and group where
 * named): worker JobsSucceeded per group ×3, ChecksPass/Warn/Fail/Unknown, AlertsSent; dispatch JobsEnqueued per
 * group ×3; ingest IngestAccepted. Failure and skip counters, and the digest's weekly ones, are published in a few
 * hours a month and cost a fraction (prorated by the hour); the tenant is never a dimension. (Before: 14, with
 * JobsSucceeded and JobsEnqueued also without the group, the sum of the per-group series.)
 */
export const CUSTOM_METRIC_SERIES = 12;

/**
 * Log bytes (CloudWatch Logs bills the uncompressed JSON): Powertools lines as Logger and Metrics print them with the
 * Lambda context (measured: about 520 B a "job done" line, 438 B "report accepted", 238 B a single group metric,
 * about 500 B a flush of the job counters; the 443 B "domain checked" line per domain is debug level now: before, at
 * info, it was nearly half the worker's log bytes); Lambda's own JSON platform lines (start and report, about 630 B an
 * invocation) and an HTTP API access-log line (about 250 B) are estimates.
 */
export const LOG_BYTES = {
  perDomainBefore: 443,
  perJob: 520 + 238,
  perInvocation: 630 + 500,
  perReport: 438 + 230 + 630,
  perAccessLogLine: 250,
} as const;

export interface CostInputs {
  readonly tenants: number;
  /** Minutes between check cycles, blocklist sweeps, probe cycles. */
  readonly checksMinutes: number;
  readonly blocklistsMinutes: number;
  readonly probesMinutes: number;
  /** Share of tenants with a submission probe, and with a site agent probing every `agentMinutes`. */
  readonly probeShare: number;
  readonly agentShare: number;
  readonly agentMinutes: number;
  /**
   * An agent posts an ok report that repeats the last accepted one only once per heartbeat (docs/agent.md, "What is
   * posted"); 0, or not above `agentMinutes`, posts every probe as before.
   */
  readonly agentHeartbeatMinutes: number;
  /** Share of an agent's probes that are news (not ok, or a change: posted at once) on top of the heartbeats. */
  readonly agentNewsShare: number;
  /** Worker seconds per tenant check job, per probe, per sweep shard of 100 IPs; ingest seconds per report. */
  readonly checkSeconds: number;
  readonly probeSeconds: number;
  readonly sweepShardSeconds: number;
  readonly ingestSeconds: number;
  /** Digest seconds per tenant a week (reading its week, rendering, one e-mail). */
  readonly digestSecondsPerTenant: number;
  readonly workerGb: number;
  readonly ingestGb: number;
  /** Jobs per worker invocation (the SQS batch size). */
  readonly batchSize: number;
  /** Domains per tenant (each gets an SPF and an MX result per cycle); unique sending IPs per tenant. */
  readonly domainsPerTenant: number;
  readonly ipsPerTenant: number;
  /** Blocklist zones asked per IP (one state per IP and zone; one result per IP carries every zone's verdict). */
  readonly zonesPerIp: number;
  /** Item sizes in bytes as DynamoDB bills them (a probe's result is estimated: its transcript is brotli-compressed). */
  readonly resultItemBytes: number;
  readonly probeItemBytes: number;
  readonly stateItemBytes: number;
  readonly runItemBytes: number;
  readonly retentionDays: number;
  /**
   * `now`: results and tenant runs written once, no run per agent report; `before`: each result and run also with a
   * GSI2 entry (one more write unit, stored twice), key parts repeated as attributes, a run per agent report, and the
   * worker's per-domain log lines at info.
   */
  readonly store: 'now' | 'before';
  readonly pointInTimeRecovery: boolean;
  readonly logRetentionDays: number;
  /** Lambda's SQS pollers long-poll the job queue all the time (20-second receives), jobs or not. */
  readonly sqsPollers: number;
  /** GetSecretValue calls: each warm container fetches each secret it reads once per 5-minute cache lifetime. */
  readonly secretApiCalls: number;
  readonly secrets: number;
  readonly alarmMetrics: number;
  readonly dashboards: number;
  readonly customMetrics: number;
}

export const DEFAULTS: CostInputs = {
  tenants: 1000,
  checksMinutes: 60,
  blocklistsMinutes: 60,
  probesMinutes: 240,
  probeShare: 0.3,
  agentShare: 0.5,
  agentMinutes: 15,
  agentHeartbeatMinutes: 60,
  // Assumed: 2 % of probes are failures or changes (about 58 a month per site, e.g. a day-long outage probed every 15
  // minutes with room to spare); every one of them is posted, so the incident thresholds count as before.
  agentNewsShare: 0.02,
  // Measured: a steady tenant job took 113 ms (median; p95 134 ms) in the worker handler on one core of this machine
  // (BENCHMARKS.md, handlers-cycle); a 1 GB Lambda has about 0.58 of a vCPU (1,769 MB is one), so 113 ms × 1.73.
  checkSeconds: 0.2,
  // Estimates: a probe mostly waits for Exchange Online's replies; a shard is DNS queries; a report one decision.
  probeSeconds: 3,
  sweepShardSeconds: 2,
  ingestSeconds: 0.2,
  digestSecondsPerTenant: 0.3,
  workerGb: 1,
  ingestGb: 0.25,
  batchSize: 5,
  domainsPerTenant: 2,
  ipsPerTenant: 1,
  zonesPerIp: 5,
  resultItemBytes: RESULT_ITEM_BYTES,
  probeItemBytes: 1500,
  stateItemBytes: STATE_ITEM_BYTES,
  runItemBytes: RUN_ITEM_BYTES,
  retentionDays: 90,
  store: 'now',
  pointInTimeRecovery: true,
  logRetentionDays: 30,
  sqsPollers: 5,
  // Ingest: about 2 warm containers × 1 secret × 12 fetches an hour; worker: up to 10 containers × 2 secrets, one
  // fetch per hourly burst and more while the probes run: about 40,000 a month in all.
  secretApiCalls: 40_000,
  secrets: STAGE.secrets,
  alarmMetrics: STAGE.alarmMetrics,
  dashboards: STAGE.dashboards,
  customMetrics: CUSTOM_METRIC_SERIES,
};

/**
 * The deployment before the changes of docs/deploy.md "Cost" (a GSI2 entry per result and run, a run per agent
 * report, per-domain info logs, two more metric series): `monthlyCost({ ...DEFAULTS, ...BEFORE_INPUTS })`.
 */
export const BEFORE_INPUTS: Partial<CostInputs> = {
  store: 'before',
  customMetrics: CUSTOM_METRIC_SERIES + 2,
  // and every agent probe posted (before the heartbeat of docs/agent.md, "What is posted")
  agentHeartbeatMinutes: 0,
};

const MONTH_MINUTES = 30 * 24 * 60;
const MONTH_SECONDS = MONTH_MINUTES * 60;
const WEEKS_A_MONTH = 30 / 7;
/** DynamoDB bills 100 bytes of overhead per stored item and per index entry. */
const ITEM_OVERHEAD_BYTES = 100;
/** One write unit per started KB. */
const wru = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

export interface CostLine {
  readonly item: string;
  /** At list price. */
  readonly usd: number;
  /** With the always-free tier applied, as if no other workload in the account used it. */
  readonly usdFreeTier: number;
}

/** What the store writes, reads and keeps in a month. */
export interface StoreVolume {
  readonly wru: number;
  readonly rru: number;
  /** Bytes stored at steady state (retention applied), table and indexes. */
  readonly storedBytes: number;
  /** The table's own share of it (what point-in-time recovery is billed on). */
  readonly tableBytes: number;
}

interface Workload {
  readonly cycles: number;
  readonly sweeps: number;
  readonly probeCycles: number;
  readonly reports: number;
  readonly checkJobs: number;
  readonly probeJobs: number;
  readonly sweepJobs: number;
  readonly jobs: number;
  readonly workerInvocations: number;
}

function workload(i: CostInputs): Workload {
  const cycles = MONTH_MINUTES / i.checksMinutes;
  const sweeps = MONTH_MINUTES / i.blocklistsMinutes;
  const probeCycles = MONTH_MINUTES / i.probesMinutes;
  const probesPerAgent = MONTH_MINUTES / i.agentMinutes;
  // Every probe when the heartbeat is off; else the heartbeats plus the news (a news post also restarts the heartbeat:
  // counting both is the upper bound).
  const postsPerAgent =
    i.agentHeartbeatMinutes > i.agentMinutes
      ? Math.min(probesPerAgent, MONTH_MINUTES / i.agentHeartbeatMinutes + i.agentNewsShare * probesPerAgent)
      : probesPerAgent;
  const reports = i.tenants * i.agentShare * postsPerAgent;
  const checkJobs = i.tenants * cycles;
  const probeJobs = i.tenants * i.probeShare * probeCycles;
  const sweepJobs = sweeps * Math.max(1, Math.ceil((i.tenants * i.ipsPerTenant) / 100));
  const jobs = checkJobs + probeJobs + sweepJobs;
  return {
    cycles,
    sweeps,
    probeCycles,
    reports,
    checkJobs,
    probeJobs,
    sweepJobs,
    jobs,
    workerInvocations: jobs / i.batchSize,
  };
}

export function storeVolume(i: CostInputs): StoreVolume {
  const w = workload(i);
  const before = i.store === 'before';
  const resultBytes = before ? BEFORE.resultItemBytes : i.resultItemBytes;
  const runBytes = before ? BEFORE.runItemBytes : i.runItemBytes;
  // Result items a month: SPF and MX per domain per cycle, a blocklist result per IP per sweep, a probe result per
  // probe, an agent's relay result per report.
  const small = w.checkJobs * i.domainsPerTenant * 2 + i.tenants * i.ipsPerTenant * w.sweeps + w.reports;
  const probes = w.probeJobs;
  // A run per tenant job (tenant runs, expiring with the results; before, one per agent report too: its one result
  // holds all the run did); a sweep's run covers many tenants and is a run without a tenant (GSI2 `RUNS`, kept).
  const tenantRuns = w.checkJobs + w.probeJobs + (before ? w.reports : 0);
  const sweepRuns = w.sweepJobs;
  // States: per domain SPF and MX, per IP and zone, one per probe and agent; written when they change and once a day
  // (the heartbeat), with changes taken as one per state a week.
  const statesPerTenant = i.domainsPerTenant * 2 + i.ipsPerTenant * i.zonesPerIp + i.probeShare + i.agentShare;
  const stateWrites = i.tenants * statesPerTenant * (30 + WEEKS_A_MONTH);
  const index = before ? 1 : 0;
  const writeUnits =
    small * (wru(resultBytes) + index) +
    probes * (wru(i.probeItemBytes) + index) +
    tenantRuns * (wru(runBytes) + index) +
    sweepRuns * (wru(runBytes) + 1) +
    stateWrites * wru(i.stateItemBytes);
  // Measured: each tenant job and report reads the tenant's states (a strongly consistent Query, 1 unit) and its
  // active incidents (GSI3, eventually consistent, 0.5); a sweep job does that for each tenant in its shard.
  const decisionReads = w.checkJobs + w.probeJobs + w.reports + i.tenants * i.ipsPerTenant * w.sweeps;
  // The weekly digest reads each tenant's week of results: now one strongly consistent Query of the partition (1
  // unit per 4 KB read); before, GSI2 entries (eventually consistent) and then each item by BatchGetItem (1 unit each).
  const weekResults = (small + probes) / i.tenants / WEEKS_A_MONTH;
  const digestUnitsPerTenant = before
    ? Math.ceil((weekResults * BEFORE.gsi2EntryBytes) / 4096) / 2 + weekResults
    : Math.ceil((weekResults * resultBytes) / 4096);
  const readUnits = decisionReads * 1.5 + i.tenants * WEEKS_A_MONTH * digestUnitsPerTenant;
  // Stored at steady state: results and tenant runs for `retentionDays` (TTL deletes are free), plus the states.
  const months = i.retentionDays / 30;
  const stored = (items: number, bytes: number) => items * (bytes + ITEM_OVERHEAD_BYTES);
  const tableBytes =
    (stored(small, resultBytes) + stored(probes, i.probeItemBytes) + stored(tenantRuns + sweepRuns, runBytes)) *
      months +
    stored(i.tenants * statesPerTenant, i.stateItemBytes);
  const entries = before ? small + probes + tenantRuns + sweepRuns : sweepRuns;
  const indexBytes = stored(entries, BEFORE.gsi2EntryBytes) * months;
  return { wru: writeUnits, rru: readUnits, storedBytes: tableBytes + indexBytes, tableBytes };
}

const GB = 1e9;
const over = (usage: number, free: number) => Math.max(0, usage - free);

export function monthlyCost(i: CostInputs): CostLine[] {
  const w = workload(i);
  const store = storeVolume(i);

  // Lambda: worker (jobs), ingest (reports), dispatch (a tick per group per slot, 256 MB, ~1 s), digest (weekly).
  const ticks = w.cycles + w.sweeps + w.probeCycles;
  const gbSeconds =
    (w.checkJobs * i.checkSeconds + w.probeJobs * i.probeSeconds + w.sweepJobs * i.sweepShardSeconds) * i.workerGb +
    w.reports * i.ingestSeconds * i.ingestGb +
    ticks * 1 * 0.25 +
    i.tenants * WEEKS_A_MONTH * i.digestSecondsPerTenant * 1;
  const lambdaRequests = w.workerInvocations + w.reports + ticks + WEEKS_A_MONTH;
  const lambdaPrice = (gb: number, req: number) => gb * PRICES.lambdaGbSecond + req * PRICES.lambdaRequest;

  // SQS: dispatch sends in batches of 10; the pollers receive (long polls of 20 s, busy or idle) and delete a batch.
  const sqsRequests = w.jobs / 10 + w.workerInvocations * 2 + (i.sqsPollers * MONTH_SECONDS) / 20;

  const ddbRequests = store.wru * PRICES.ddbWru + store.rru * PRICES.ddbRru;
  const storedGb = store.storedBytes / GB;
  const pitrGb = i.pointInTimeRecovery ? store.tableBytes / GB : 0;

  // Logs: per check job its domains' lines, "job done" and the group metric; per worker invocation the platform lines
  // and the counters' flush; per report the ingest's line, metric, platform lines and the API's access-log line.
  const logBytes =
    w.checkJobs * ((i.store === 'before' ? i.domainsPerTenant * LOG_BYTES.perDomainBefore : 0) + LOG_BYTES.perJob) +
    (w.probeJobs + w.sweepJobs) * LOG_BYTES.perJob +
    w.workerInvocations * LOG_BYTES.perInvocation +
    w.reports * (LOG_BYTES.perReport + LOG_BYTES.perAccessLogLine);
  const logGb = logBytes / GB;
  const logStoredGb = logGb * (i.logRetentionDays / 30);
  const logsPrice = (ingest: number, storedGbMonth: number) =>
    ingest * PRICES.logIngestGb + storedGbMonth * PRICES.logStorageGbMonth;

  const cw = (alarms: number, dashboards: number, metrics: number) =>
    alarms * PRICES.alarmMetricMonth + dashboards * PRICES.dashboardMonth + metrics * PRICES.customMetricMonth;

  const configGets = w.workerInvocations + w.reports + ticks + WEEKS_A_MONTH;
  const retention = `${i.retentionDays}-day retention`;
  return [
    {
      item: 'Lambda (worker, ingest, dispatch, digest)',
      usd: lambdaPrice(gbSeconds, lambdaRequests),
      usdFreeTier: lambdaPrice(
        over(gbSeconds, ALWAYS_FREE.lambdaGbSeconds),
        over(lambdaRequests, ALWAYS_FREE.lambdaRequests),
      ),
    },
    {
      item: 'SQS (jobs, and the pollers’ long polls)',
      usd: sqsRequests * PRICES.sqsRequest,
      usdFreeTier: over(sqsRequests, ALWAYS_FREE.sqsRequests) * PRICES.sqsRequest,
    },
    {
      item: 'Scheduler, HTTP API (agent reports)',
      usd: ticks * PRICES.schedulerInvocation + w.reports * PRICES.httpApiRequest,
      usdFreeTier:
        over(ticks, ALWAYS_FREE.schedulerInvocations) * PRICES.schedulerInvocation + w.reports * PRICES.httpApiRequest,
    },
    { item: 'DynamoDB requests', usd: ddbRequests, usdFreeTier: ddbRequests },
    {
      item: `DynamoDB storage (${retention}, steady state)`,
      usd: storedGb * PRICES.ddbGbMonth,
      usdFreeTier: over(storedGb, ALWAYS_FREE.ddbStorageGb) * PRICES.ddbGbMonth,
    },
    {
      item: 'DynamoDB point-in-time recovery',
      usd: pitrGb * PRICES.ddbPitrGbMonth,
      usdFreeTier: pitrGb * PRICES.ddbPitrGbMonth,
    },
    {
      item: `CloudWatch Logs (${i.logRetentionDays}-day retention)`,
      usd: logsPrice(logGb, logStoredGb),
      // The 5 GB cover ingestion and storage together: spent on ingestion first.
      usdFreeTier: logsPrice(over(logGb, ALWAYS_FREE.logGb), over(logStoredGb, over(ALWAYS_FREE.logGb, logGb))),
    },
    {
      item: 'CloudWatch alarms, dashboard, custom metrics',
      usd: cw(i.alarmMetrics, i.dashboards, i.customMetrics),
      usdFreeTier: cw(
        over(i.alarmMetrics, ALWAYS_FREE.alarmMetrics),
        over(i.dashboards, ALWAYS_FREE.dashboards),
        over(i.customMetrics, ALWAYS_FREE.customMetrics),
      ),
    },
    {
      item: 'Secrets Manager',
      usd: i.secrets * PRICES.secretMonth + i.secretApiCalls * PRICES.secretApiCall,
      usdFreeTier: i.secrets * PRICES.secretMonth + i.secretApiCalls * PRICES.secretApiCall,
    },
    { item: 'S3 (config reads)', usd: configGets * PRICES.s3Get, usdFreeTier: configGets * PRICES.s3Get },
  ];
}

export function total(lines: readonly CostLine[], freeTier = false): number {
  return lines.reduce((s, l) => s + (freeTier ? l.usdFreeTier : l.usd), 0);
}

const fmt = (n: number) => (n < 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(1)}`);

/** The markdown table of docs/deploy.md: one row per line, for 10, 100 and 1,000 tenants, list price. */
export function table(inputs: Partial<CostInputs>, freeTier = false): string {
  const sizes = [10, 100, 1000];
  const runs = sizes.map((tenants) => monthlyCost({ ...DEFAULTS, ...inputs, tenants }));
  const price = (l: CostLine) => (freeTier ? l.usdFreeTier : l.usd);
  const rows = runs[0]!.map((l, k) => `| ${l.item} | ${runs.map((r) => fmt(price(r[k]!))).join(' | ')} |`);
  return [
    `| | ${sizes.map((s) => `${s} tenants`).join(' | ')} |`,
    `|---|${sizes.map(() => '---').join('|')}|`,
    ...rows,
    `| **total** | ${runs.map((r) => `**${fmt(total(r, freeTier))}**`).join(' | ')} |`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      tenants: { type: 'string' },
      agents: { type: 'string' },
      'check-seconds': { type: 'string' },
      'retention-days': { type: 'string' },
      'probes-minutes': { type: 'string' },
      'agent-minutes': { type: 'string' },
      'agent-heartbeat-minutes': { type: 'string' },
      'agent-news-share': { type: 'string' },
      store: { type: 'string' },
      'free-tier': { type: 'boolean' },
      'no-pitr': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`Usage: node cdk/cost-model.ts [options]

The monthly cost of a deployment at us-east-1 list prices of ${PRICES_CHECKED} (docs/deploy.md, "Cost"). Without
--tenants: the tables for 10, 100 and 1,000 tenants at list price, with the always-free tier, and as the store wrote
before. Every other input is a named constant in DEFAULTS (cdk/cost-model.ts).

Options:
  --tenants N            one line per cost item for N tenants (list price, and with the always-free tier)
  --agents SHARE         share of tenants with a site agent (default ${DEFAULTS.agentShare})
  --agent-minutes M      minutes between an agent's probes (default ${DEFAULTS.agentMinutes})
  --agent-heartbeat-minutes M
                         an unchanged ok report is posted once per M minutes; failures and changes at
                         once (default ${DEFAULTS.agentHeartbeatMinutes}; 0: every probe is posted)
  --agent-news-share F   share of probes that are failures or changes, posted at once (default ${DEFAULTS.agentNewsShare})
  --check-seconds S      worker seconds per tenant check job (default ${DEFAULTS.checkSeconds}, measured)
  --probes-minutes M     minutes between submission probes (default ${DEFAULTS.probesMinutes})
  --retention-days D     days raw results are kept (default ${DEFAULTS.retentionDays})
  --store now|before     the store's layout (default now; before: a GSI2 entry per result and run)
  --free-tier            the tables with the always-free tier applied (only if nothing else in the account uses it)
  --no-pitr              without point-in-time recovery (not advised: it is the only undo of a bad write)

Examples:
  node cdk/cost-model.ts
  node cdk/cost-model.ts --tenants 250 --agents 0.2 --agent-minutes 60
  node cdk/cost-model.ts --tenants 1000 --agent-heartbeat-minutes 0   # every probe posted
  node cdk/cost-model.ts --retention-days 30 --free-tier`);
    process.exit(0);
  }
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) {
      console.error(`cost-model: --${name} must be a non-negative number, got ${JSON.stringify(v)}`);
      process.exit(2);
    }
    return n;
  };
  const o: Partial<Record<keyof CostInputs, unknown>> = {};
  const set = (key: keyof CostInputs, name: string, v: string | undefined) => {
    const n = num(name, v);
    if (n !== undefined) o[key] = n;
  };
  set('agentShare', 'agents', values.agents);
  set('agentMinutes', 'agent-minutes', values['agent-minutes']);
  set('agentHeartbeatMinutes', 'agent-heartbeat-minutes', values['agent-heartbeat-minutes']);
  set('agentNewsShare', 'agent-news-share', values['agent-news-share']);
  set('checkSeconds', 'check-seconds', values['check-seconds']);
  set('retentionDays', 'retention-days', values['retention-days']);
  set('probesMinutes', 'probes-minutes', values['probes-minutes']);
  if (values['no-pitr']) o.pointInTimeRecovery = false;
  if (values.store !== undefined) {
    if (values.store !== 'now' && values.store !== 'before') {
      console.error(`cost-model: --store must be now or before, got ${JSON.stringify(values.store)}`);
      process.exit(2);
    }
    if (values.store === 'before') Object.assign(o, BEFORE_INPUTS);
  }
  const inputs = o as Partial<CostInputs>;
  const tenants = num('tenants', values.tenants);
  if (tenants !== undefined) {
    const lines = monthlyCost({ ...DEFAULTS, ...inputs, tenants });
    for (const l of lines)
      console.log(`${l.item}: $${l.usd.toFixed(2)} (always-free tier applied: $${l.usdFreeTier.toFixed(2)})`);
    console.log(`total: $${total(lines).toFixed(2)} (always-free tier applied: $${total(lines, true).toFixed(2)})`);
  } else {
    const free = values['free-tier'] === true;
    console.log(`${free ? 'With the always-free tier' : 'At list price'}, the store as it writes now:\n`);
    console.log(table(inputs, free));
    console.log(
      `\n${free ? 'With the always-free tier' : 'At list price'}, the store as it wrote before (GSI2 entries):\n`,
    );
    console.log(table({ ...inputs, ...BEFORE_INPUTS }, free));
  }
}
