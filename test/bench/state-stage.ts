/**
 * A quick measurement of the state stage alone (record results, decide incidents) for the synthetic MSP shape
 * (500 tenants, 2 domains each, SPF and MX passing), on SQLite and on DynamoDB Local behind the counting proxy:
 * wall time and DynamoDB requests per tenant for the first cycle (every state created), the cycles while the
 * counters still climb, and the steady cycle (nothing the policy reads changes).
 *
 *   node test/bench/state-stage.ts [--tenants 500] [--domains 2] [--cycles 4] [--concurrency 16]
 *
 * Not part of `npm run bench` (the handler-vs-CLI benchmark covers the whole cycle); this one isolates the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDynamoDbStore } from '../../shared/adapters/store/dynamodb-store.ts';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import type { CheckOutcome } from '../../shared/domain/outcome.ts';
import { alertFor } from '../../shared/monitor/alerts.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { recordCycle, type TenantAlerting } from '../../shared/use-cases/record-cycle.ts';
import type { TenantReport } from '../../shared/use-cases/run-checks.ts';
import { startDynamoProxy } from '../support/aws-standins.ts';
import { startDynamoDbLocal } from '../support/dynamodb-local.ts';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '500' },
    domains: { type: 'string', default: '2' },
    cycles: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '16' },
  },
});
const TENANTS = Number(values.tenants);
const DOMAINS = Number(values.domains);
const CYCLES = Number(values.cycles);
const CONCURRENCY = Number(values.concurrency);

function outcome(kind: 'spf' | 'mx', domain: string): CheckOutcome {
  return kind === 'spf'
    ? {
        kind,
        subject: domain,
        status: 'pass',
        findings: [],
        details: {
          record: `v=spf1 include:spf.protection.outlook.com ip4:198.51.100.${domain.length} -all`,
          lookups: 2,
          evaluations: [{ ip: '198.51.100.7', result: 'pass', mechanism: 'ip4:198.51.100.7' }],
        },
        durationMs: 12,
      }
    : {
        kind,
        subject: domain,
        status: 'pass',
        findings: [],
        details: { records: [{ priority: 0, exchange: `${domain.replace(/\./g, '-')}.mail.protection.outlook.com` }] },
        durationMs: 8,
      };
}

const reports: TenantReport[] = Array.from({ length: TENANTS }, (_, t) => {
  const id = `t${String(t).padStart(4, '0')}`;
  return {
    id,
    name: `Tenant ${t}`,
    status: 'pass',
    domains: Array.from({ length: DOMAINS }, (_, d) => {
      const domain = `d${d}.${id}.example`;
      return { domain, status: 'pass' as const, checks: [outcome('spf', domain), outcome('mx', domain)] };
    }),
    checks: [],
  };
});
const tenants: TenantAlerting[] = reports.map((r) => ({
  id: r.id,
  name: r.name,
  routes: [{ id: 'hook', minSeverity: 'warning' }],
  monitored: { domains: r.domains.map((d) => d.domain), mailboxes: [] },
}));

async function cycle(store: Store, n: number): Promise<number> {
  const startedAt = new Date(Date.parse('2026-11-27T08:00:00Z') + n * 3_600_000);
  const t0 = performance.now();
  await recordCycle({
    reports,
    tenants,
    store,
    runId: `bench-${n}`,
    source: 'cli',
    startedAt,
    now: () => startedAt,
    notifierFor: () => ({ error: 'no notifier in the bench' }),
    alertFor: (incident, kind, name, at) =>
      alertFor(incident, kind, name, at, { msp: { name: 'MSP', contact: { name: 'NOC', email: 'noc@msp.example' } } }),
    tenantConcurrency: CONCURRENCY,
    selfHealth: { routes: [] },
    configured: { tenantIds: tenants.map((t) => t.id), routeIds: ['hook'] },
  });
  return (performance.now() - t0) / 1000;
}

const label = (n: number) => (n === 0 ? 'first (creates)' : n === CYCLES - 1 ? 'steady' : `cycle ${n + 1}`);

console.log(
  `state stage: ${TENANTS} tenants × ${DOMAINS} domains (SPF + MX), ${CYCLES} cycles an hour apart, ${CONCURRENCY} tenants at once`,
);

const dir = mkdtempSync(join(tmpdir(), 'relaywatch-bench-state-'));
const sqlite = openSqliteStore({ path: join(dir, 'state.db') });
for (let n = 0; n < CYCLES; n++)
  console.log(`  SQLite          ${label(n).padEnd(16)} ${(await cycle(sqlite, n)).toFixed(2)} s`);
await sqlite.close();
rmSync(dir, { recursive: true, force: true });

const ddb = await startDynamoDbLocal({ readyTimeoutMs: 120_000 });
const proxy = await startDynamoProxy(ddb.endpoint);
try {
  const store = await openDynamoDbStore({
    tableName: 'bench-state-stage',
    ...ddb.clientOptions,
    endpoint: proxy.endpoint,
    createTable: true,
  });
  for (let n = 0; n < CYCLES; n++) {
    proxy.reset();
    const s = await cycle(store, n);
    const counts = proxy.counts();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const perTenant = Object.entries(counts)
      .map(([op, c]) => `${op} ${(c / TENANTS).toFixed(2)}`)
      .join(', ');
    console.log(
      `  DynamoDB Local  ${label(n).padEnd(16)} ${s.toFixed(2)} s, ${(total / TENANTS).toFixed(2)} requests per tenant (${perTenant})`,
    );
  }
  await store.close();
} finally {
  await proxy.close();
  await ddb.stop();
}
