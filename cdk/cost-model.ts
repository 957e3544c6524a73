/**
 * The monthly cost model of docs/deploy.md, as code so an MSP can redo it with its own numbers:
 *
 *   node cdk/cost-model.ts                       # the table in docs/deploy.md
 *   node cdk/cost-model.ts --tenants 250 --agents 0.2 --check-seconds 0.8
 *
 * Prices are us-east-1 list prices of late 2026 without free tier. Durations default to estimates from the CLI
 * benchmark until the handler benchmark measures them in the worker (BENCHMARKS.md).
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
  /** Check items per tenant-cycle and their size; unique sending IPs per tenant. */
  readonly checksPerTenant: number;
  readonly checkItemKb: number;
  readonly ipsPerTenant: number;
  readonly retentionDays: number;
  /**
   * `every-cycle`: every result written every cycle, to the table and GSI2 (projection ALL): the store today.
   * `on-change`: a result only when it changes plus a daily heartbeat, GSI2 keys only (the target design).
   */
  readonly writes: 'every-cycle' | 'on-change';
  readonly secrets: number;
  readonly alarms: number;
  readonly customMetrics: number;
}

export const DEFAULTS: CostInputs = {
  tenants: 1000,
  checksMinutes: 60,
  blocklistsMinutes: 60,
  probesMinutes: 60,
  probeShare: 0.3,
  agentShare: 0.5,
  agentMinutes: 15,
  checkSeconds: 0.5,
  probeSeconds: 3,
  sweepShardSeconds: 2,
  ingestSeconds: 0.2,
  workerGb: 1,
  ingestGb: 0.25,
  checksPerTenant: 5,
  checkItemKb: 2,
  ipsPerTenant: 1,
  retentionDays: 400,
  writes: 'every-cycle',
  secrets: 2,
  alarms: 11,
  customMetrics: 8,
};

const MONTH_MINUTES = 30 * 24 * 60;

export interface CostLine {
  readonly item: string;
  readonly usd: number;
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
  const wruPerItem = Math.ceil(i.checkItemKb);
  const gsiFactor = i.writes === 'every-cycle' ? 2 : 1.1;
  // Items written per month: check results of checks, probes and sweeps, the agents' relay results.
  const resultItems =
    i.writes === 'every-cycle'
      ? checkJobs * i.checksPerTenant + probeJobs + i.tenants * i.ipsPerTenant * sweeps + reports
      : i.tenants * 30 * (i.checksPerTenant + 1 + i.ipsPerTenant + i.agentShare);
  // One small run record per job either way.
  const runItems = jobs + reports;
  const wru = resultItems * wruPerItem * gsiFactor + runItems;
  const rru = (checkJobs + reports) * 2;
  const storedGb = ((resultItems * i.checkItemKb * gsiFactor) / 1e6) * (i.retentionDays / 30);
  const fixed = i.secrets * PRICES.secretMonth + i.alarms * PRICES.alarmMonth + PRICES.dashboardMonth;
  return [
    { item: 'Lambda (worker, dispatch, ingest)', usd: lambda },
    { item: 'SQS, Scheduler, HTTP API', usd: sqs + edge },
    { item: 'DynamoDB requests', usd: wru * PRICES.ddbWru + rru * PRICES.ddbRru },
    { item: `DynamoDB storage (${i.retentionDays}-day retention, steady state)`, usd: storedGb * PRICES.ddbGbMonth },
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
      writes: { type: 'string' },
    },
  });
  const over: Partial<Record<keyof CostInputs, unknown>> = {};
  if (values.agents !== undefined) over.agentShare = Number(values.agents);
  if (values['check-seconds'] !== undefined) over.checkSeconds = Number(values['check-seconds']);
  if (values['retention-days'] !== undefined) over.retentionDays = Number(values['retention-days']);
  if (values.writes !== undefined) over.writes = values.writes;
  const o = over as Partial<CostInputs>;
  if (values.tenants !== undefined) {
    const lines = monthlyCost({ ...DEFAULTS, ...o, tenants: Number(values.tenants) });
    for (const l of lines) console.log(`${l.item}: $${l.usd.toFixed(2)}`);
    console.log(`total: $${total(lines).toFixed(2)}`);
  } else {
    console.log('The store as it writes today (every result every cycle, GSI2 projection ALL, 400 days):\n');
    console.log(table(o));
    console.log('\nThe target design (results on change plus a daily heartbeat, GSI2 keys only, 90 days):\n');
    console.log(table({ ...o, writes: 'on-change', retentionDays: 90 }));
  }
}
