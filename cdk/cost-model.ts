/**
 * The monthly cost model of docs/deploy.md, as code so an MSP can redo it with its own numbers:
 *
 *   node cdk/cost-model.ts                       # the table in docs/deploy.md
 *   node cdk/cost-model.ts --tenants 250 --agents 0.2 --check-seconds 0.8
 *
 * Prices are us-east-1 list prices of late 2026 without free tier. Durations default to estimates from the CLI
 * benchmark until the handler benchmark measures them in the worker (BENCHMARKS.md). Item sizes are measured (the
 * largest of each kind in test/integration/lambda-e2e.int.test.ts); `--store before` prints the store as it wrote
 * before results were batched and states written on change, for comparison.
 */
import { parseArgs } from 'node:util';

export const PRICES = {
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  sqsRequest: 0.4 / 1e6,
  ddbWru: 0.625 / 1e6,
  ddbRru: 0.125 / 1e6,
  ddbGbMonth: 0.25,
  schedulerInvocation: 1 / 1e6,
  httpApiRequest: 1 / 1e6,
  secretMonth: 0.4,
  alarmMonth: 0.1,
  dashboardMonth: 3,
  customMetricMonth: 0.3,
} as const;

/**
 * Item sizes measured on DynamoDB Local (test/integration/lambda-e2e.int.test.ts prints them): a check result (SPF, MX
 * or blocklist, detail included), a subject state, a tenant run, and a result's GSI2 entry (keys and `check`).
 */
export const RESULT_ITEM_BYTES = 673;
export const STATE_ITEM_BYTES = 313;
export const RUN_ITEM_BYTES = 290;
export const GSI2_ENTRY_BYTES = 173;

export interface CostInputs {
  readonly tenants: number;
  /** Minutes between check cycles, blocklist sweeps, probe cycles. */
  readonly checksMinutes: number;
  readonly blocklistsMinutes: number;
  readonly probesMinutes: number;
  /** Share of tenants with a submission probe, and with a site agent posting every `agentMinutes`. */
  readonly probeShare: number;
  readonly agentShare: number;
  readonly agentMinutes: number;
  /** Worker seconds per tenant check job, per probe, per sweep shard of 100 IPs; ingest seconds per report. */
  readonly checkSeconds: number;
  readonly probeSeconds: number;
  readonly sweepShardSeconds: number;
  readonly ingestSeconds: number;
  readonly workerGb: number;
  readonly ingestGb: number;
  /** Domains per tenant (each gets an SPF and an MX result per cycle); unique sending IPs per tenant. */
  readonly domainsPerTenant: number;
  readonly ipsPerTenant: number;
  /** Blocklist zones asked per IP (one state per IP and zone; one result per IP carries every zone's verdict). */
  readonly zonesPerIp: number;
  /**
   * Item sizes in bytes as DynamoDB bills them, measured in test/integration/lambda-e2e.int.test.ts on DynamoDB Local
   * (a probe's result is estimated: its transcript is stored brotli-compressed).
   */
  readonly resultItemBytes: number;
  readonly probeItemBytes: number;
  readonly stateItemBytes: number;
  readonly runItemBytes: number;
  /** A result's or a run's entry in GSI2 (keys and `check` only). */
  readonly gsi2EntryBytes: number;
  readonly retentionDays: number;
  /**
   * `now`: what the store writes (results in BatchWriteItem, GSI2 keys only, a state only when it changes or once a
   * day). `before`: every result and every state every cycle, one PutItem each, GSI2 projection ALL (the store before
   * issue 10's measurements), for comparison.
   */
  readonly store: 'now' | 'before';
  readonly secrets: number;
  readonly alarms: number;
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
  // Measured: a steady tenant job took 113 ms (median; p95 134 ms) in the worker handler on one core of this machine
  // (BENCHMARKS.md, handlers-cycle); a 1 GB Lambda has about 0.58 of a vCPU (1,769 MB is one), so 113 ms × 1.73.
  checkSeconds: 0.2,
  probeSeconds: 3,
  sweepShardSeconds: 2,
  ingestSeconds: 0.2,
  workerGb: 1,
  ingestGb: 0.25,
  domainsPerTenant: 2,
  ipsPerTenant: 1,
  zonesPerIp: 5,
  resultItemBytes: RESULT_ITEM_BYTES,
  probeItemBytes: 1500,
  stateItemBytes: STATE_ITEM_BYTES,
  runItemBytes: RUN_ITEM_BYTES,
  gsi2EntryBytes: GSI2_ENTRY_BYTES,
  retentionDays: 90,
  store: 'now',
  secrets: 3,
  // The example stage as synthesized (test/infra/cost-model.test.ts checks both against the template).
  alarms: 16,
  customMetrics: 8,
};

const MONTH_MINUTES = 30 * 24 * 60;
/** DynamoDB bills 100 bytes of overhead per stored item and per index entry. */
const ITEM_OVERHEAD_BYTES = 100;
/** One write unit per started KB; one read unit per started 4 KB (strongly consistent), half for eventual reads. */
const wru = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

export interface CostLine {
  readonly item: string;
  readonly usd: number;
}

/** What the store writes and keeps in a month, by kind of item. */
export interface StoreVolume {
  readonly requests: number;
  readonly wru: number;
  readonly rru: number;
  /** Bytes stored at steady state (retention applied), table and indexes. */
  readonly storedBytes: number;
}

export function storeVolume(i: CostInputs): StoreVolume {
  const cycles = MONTH_MINUTES / i.checksMinutes;
  const sweeps = MONTH_MINUTES / i.blocklistsMinutes;
  const probeCycles = MONTH_MINUTES / i.probesMinutes;
  const reports = i.tenants * i.agentShare * (MONTH_MINUTES / i.agentMinutes);
  const checkJobs = i.tenants * cycles;
  const probeJobs = i.tenants * i.probeShare * probeCycles;
  const shards = Math.max(1, Math.ceil((i.tenants * i.ipsPerTenant) / 100));
  const sweepJobs = sweeps * shards;
  // Result items a month: SPF and MX per domain per cycle, a blocklist result per IP per sweep, a probe result per
  // probe, an agent's relay result per report.
  const domainResults = checkJobs * i.domainsPerTenant * 2;
  const ipResults = i.tenants * i.ipsPerTenant * sweeps;
  const probeResults = probeJobs;
  const relayResults = reports;
  const small = domainResults + ipResults + relayResults;
  const runs = checkJobs + probeJobs + sweepJobs + reports;
  // States: per domain SPF and MX, per IP and zone, one per probe and agent.
  const statesPerTenant = i.domainsPerTenant * 2 + i.ipsPerTenant * i.zonesPerIp + i.probeShare + i.agentShare;
  // Decisions a month: every observation every cycle (before); only changes plus the daily heartbeat (now), with
  // changes taken as one per state a week (the heartbeat dominates).
  const stateWrites =
    i.store === 'before'
      ? checkJobs * i.domainsPerTenant * 2 + i.tenants * i.ipsPerTenant * i.zonesPerIp * sweeps + probeJobs + reports
      : i.tenants * statesPerTenant * (30 + 30 / 7);
  const gsiWrite = (bytes: number) => (i.store === 'before' ? wru(bytes) : wru(i.gsi2EntryBytes));
  const writeUnits =
    small * (wru(i.resultItemBytes) + gsiWrite(i.resultItemBytes)) +
    probeResults * (wru(i.probeItemBytes) + gsiWrite(i.probeItemBytes)) +
    runs * (wru(i.runItemBytes) + gsiWrite(i.runItemBytes)) +
    stateWrites * wru(i.stateItemBytes);
  // Each tenant job and report reads the tenant's states (strongly consistent) and active incidents (GSI3, eventual);
  // a sweep job does that for each tenant in its shard.
  const decisionReads = checkJobs + probeJobs + reports + i.tenants * i.ipsPerTenant * sweeps;
  const readUnits = decisionReads * 1.5;
  const requests =
    i.store === 'before'
      ? decisionReads * 2 + small + probeResults + runs + stateWrites
      : decisionReads * 2 + (checkJobs + probeJobs + sweepJobs + reports) + runs + stateWrites;
  // Stored at steady state: results and tenant runs for `retentionDays`, each in the table and in GSI2.
  const perMonth = (items: number, bytes: number) =>
    items * (bytes + ITEM_OVERHEAD_BYTES + (i.store === 'before' ? bytes : i.gsi2EntryBytes) + ITEM_OVERHEAD_BYTES);
  const storedPerMonth =
    perMonth(small, i.resultItemBytes) + perMonth(probeResults, i.probeItemBytes) + perMonth(runs, i.runItemBytes);
  const retentionMonths = (i.store === 'before' ? 400 : i.retentionDays) / 30;
  const storedBytes =
    storedPerMonth * retentionMonths + i.tenants * statesPerTenant * (i.stateItemBytes + ITEM_OVERHEAD_BYTES);
  return { requests, wru: writeUnits, rru: readUnits, storedBytes };
}

export function monthlyCost(i: CostInputs): CostLine[] {
  const cycles = MONTH_MINUTES / i.checksMinutes;
  const sweeps = MONTH_MINUTES / i.blocklistsMinutes;
  const probeCycles = MONTH_MINUTES / i.probesMinutes;
  const reports = i.tenants * i.agentShare * (MONTH_MINUTES / i.agentMinutes);
  const checkJobs = i.tenants * cycles;
  const probeJobs = i.tenants * i.probeShare * probeCycles;
  const shards = Math.max(1, Math.ceil((i.tenants * i.ipsPerTenant) / 100));
  const sweepJobs = sweeps * shards;
  const workerGbS =
    (checkJobs * i.checkSeconds + probeJobs * i.probeSeconds + sweepJobs * i.sweepShardSeconds) * i.workerGb;
  const ingestGbS = reports * i.ingestSeconds * i.ingestGb;
  const jobs = checkJobs + probeJobs + sweepJobs;
  const lambda =
    (workerGbS + ingestGbS) * PRICES.lambdaGbSecond + (jobs / 5 + reports + sweeps * 3) * PRICES.lambdaRequest;
  // send (batches of 10) + receive (batches of 5) + delete (batches of 5)
  const sqs = (jobs / 10 + (2 * jobs) / 5) * PRICES.sqsRequest;
  const edge = reports * PRICES.httpApiRequest + (cycles + sweeps + probeCycles) * PRICES.schedulerInvocation;
  const store = storeVolume(i);
  const fixed = i.secrets * PRICES.secretMonth + i.alarms * PRICES.alarmMonth + PRICES.dashboardMonth;
  const retention = i.store === 'before' ? 400 : i.retentionDays;
  return [
    { item: 'Lambda (worker, dispatch, ingest)', usd: lambda },
    { item: 'SQS, Scheduler, HTTP API', usd: sqs + edge },
    { item: 'DynamoDB requests', usd: store.wru * PRICES.ddbWru + store.rru * PRICES.ddbRru },
    {
      item: `DynamoDB storage (${retention}-day retention, steady state)`,
      usd: (store.storedBytes / 1e9) * PRICES.ddbGbMonth,
    },
    { item: 'Secrets, alarms, dashboard, custom metrics', usd: fixed + i.customMetrics * PRICES.customMetricMonth },
  ];
}

export function total(lines: readonly CostLine[]): number {
  return lines.reduce((s, l) => s + l.usd, 0);
}

function table(inputs: Partial<CostInputs>): string {
  const sizes = [10, 100, 1000];
  const runs = sizes.map((tenants) => monthlyCost({ ...DEFAULTS, ...inputs, tenants }));
  const fmt = (n: number) => (n < 1 ? `$${n.toFixed(2)}` : `$${n.toFixed(1)}`);
  const rows = runs[0]!.map((l, k) => `| ${l.item} | ${runs.map((r) => fmt(r[k]!.usd)).join(' | ')} |`);
  return [
    `| | ${sizes.map((s) => `${s} tenants`).join(' | ')} |`,
    `|---|${sizes.map(() => '---').join('|')}|`,
    ...rows,
    `| **total** | ${runs.map((r) => `**${fmt(total(r))}**`).join(' | ')} |`,
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
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`Usage: node cdk/cost-model.ts [options]

The monthly cost of a deployment at us-east-1 list prices (docs/deploy.md, "Cost"). Without --tenants: the tables for
10, 100 and 1,000 tenants, as the store writes now and as it wrote before. Every other input is a named constant in
DEFAULTS (cdk/cost-model.ts).

Options:
  --tenants N            one line per cost item for N tenants
  --agents SHARE         share of tenants with a site agent (default ${DEFAULTS.agentShare})
  --agent-minutes M      minutes between an agent's reports (default ${DEFAULTS.agentMinutes})
  --check-seconds S      worker seconds per tenant check job (default ${DEFAULTS.checkSeconds}, measured)
  --probes-minutes M     minutes between submission probes (default ${DEFAULTS.probesMinutes})
  --retention-days D     days raw results are kept (default ${DEFAULTS.retentionDays})
  --store now|before     the store's write pattern (default now)

Examples:
  node cdk/cost-model.ts
  node cdk/cost-model.ts --tenants 250 --agents 0.2 --agent-minutes 60`);
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
  const over: Partial<Record<keyof CostInputs, unknown>> = {};
  const set = (key: keyof CostInputs, name: string, v: string | undefined) => {
    const n = num(name, v);
    if (n !== undefined) over[key] = n;
  };
  set('agentShare', 'agents', values.agents);
  set('agentMinutes', 'agent-minutes', values['agent-minutes']);
  set('checkSeconds', 'check-seconds', values['check-seconds']);
  set('retentionDays', 'retention-days', values['retention-days']);
  set('probesMinutes', 'probes-minutes', values['probes-minutes']);
  if (values.store !== undefined) {
    if (values.store !== 'now' && values.store !== 'before') {
      console.error(`cost-model: --store must be now or before, got ${JSON.stringify(values.store)}`);
      process.exit(2);
    }
    over.store = values.store;
  }
  const o = over as Partial<CostInputs>;
  const tenants = num('tenants', values.tenants);
  if (tenants !== undefined) {
    const lines = monthlyCost({ ...DEFAULTS, ...o, tenants });
    for (const l of lines) console.log(`${l.item}: $${l.usd.toFixed(2)}`);
    console.log(`total: $${total(lines).toFixed(2)}`);
  } else {
    console.log(
      'The store as it writes now (results batched, GSI2 keys only, a state on change or once a day, 90 days):\n',
    );
    console.log(table(o));
    console.log('\nThe store before (every result and state every cycle, one request each, GSI2 ALL, 400 days):\n');
    console.log(table({ ...o, store: 'before' }));
  }
}
