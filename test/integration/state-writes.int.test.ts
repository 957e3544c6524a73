/**
 * Write-on-change on both backends (SQLite file, DynamoDB Local): a state is written only when something the incident
 * policy reads changes, or once a day (the heartbeat); the incident semantics stay as they were (open after N
 * failures, resolve after M passes, unknown neither opens nor resolves, one alert per transition), and every result
 * is still in the history.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDynamoDbStore } from '../../shared/adapters/store/dynamodb-store.ts';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import type { CheckOutcome, CheckStatus } from '../../shared/domain/outcome.ts';
import { alertFor } from '../../shared/monitor/alerts.ts';
import type { Alert, Notifier, SendResult } from '../../shared/notify/alert.ts';
import type { Store, SubjectState } from '../../shared/ports/stores.ts';
import { recordCycle, STATE_HEARTBEAT_MS, stateUnchanged } from '../../shared/use-cases/record-cycle.ts';
import type { TenantReport } from '../../shared/use-cases/run-checks.ts';
import { useDynamoDbLocal } from '../support/dynamodb-local.ts';

const RECORD = 'v=spf1 ip4:198.51.100.7 include:spf.protection.outlook.com -all';
const CHANGED = 'v=spf1 ip4:198.51.100.23 include:spf.protection.outlook.com -all';

function spf(status: CheckStatus, record: string | null = RECORD): TenantReport[] {
  const outcome: CheckOutcome = {
    kind: 'spf',
    subject: 'fabrikam.example',
    status,
    findings:
      status === 'fail'
        ? [
            {
              code: 'spf-relay-ip-not-authorised',
              severity: 'error',
              message: 'fabrikam.example does not authorise 198.51.100.23',
              evidence: { ip: '198.51.100.23', result: 'fail' },
            },
          ]
        : status === 'unknown'
          ? [{ code: 'spf-dns-unknown', severity: 'unknown', message: 'no resolver answered' }]
          : [],
    details: record === null ? {} : { record },
    durationMs: 1,
  };
  return [
    {
      id: 'fabrikam',
      name: 'Fabrikam Inc',
      status,
      domains: [{ domain: 'fabrikam.example', status, checks: [outcome] }],
      checks: [],
    },
  ];
}

class Recorder implements Notifier {
  readonly channel = 'webhook' as const;
  readonly sent: Alert[] = [];
  async send(alert: Alert): Promise<SendResult> {
    this.sent.push(alert);
    return { ok: true };
  }
}

function harness(store: Store) {
  const notifier = new Recorder();
  let clock = Date.parse('2026-11-27T08:00:00Z');
  let run = 0;
  const cycle = async (reports: TenantReport[], stepMs = 15 * 60_000) => {
    run++;
    clock += stepMs;
    const startedAt = new Date(clock);
    return recordCycle({
      reports,
      tenants: [{ id: 'fabrikam', name: 'Fabrikam Inc', routes: [{ id: 'hook', minSeverity: 'info' }] }],
      store,
      runId: `run-${run}`,
      source: 'cli',
      startedAt,
      now: () => startedAt,
      notifierFor: () => notifier,
      alertFor: (incident, kind, name, at) =>
        alertFor(incident, kind, name, at, {
          msp: { name: 'MSP', contact: { name: 'NOC', email: 'noc@msp.example' } },
        }),
    });
  };
  const state = async (): Promise<SubjectState | undefined> =>
    (await store.states.list('fabrikam')).find((s) => s.check === 'spf');
  return { notifier, cycle, state };
}

function describeWrites(name: string, open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>) {
  describe(`state writes on ${name}`, () => {
    it('leaves a steady state unwritten, writes it on a change of status or record, and once a day', async () => {
      const { store, cleanup } = await open();
      try {
        const h = harness(store);
        for (let i = 0; i < 3; i++) expect((await h.cycle(spf('pass'))).unchangedStates).toBe(0);
        const written = await h.state();
        expect(written).toMatchObject({ consecutivePasses: 3, version: 3, lastRunId: 'run-3' });
        // Past resolveAfter + 1 (3 > 2) the count no longer matters: nothing is written.
        for (let i = 0; i < 3; i++) expect((await h.cycle(spf('pass'))).unchangedStates).toBe(1);
        expect(await h.state()).toEqual(written);
        // Every result is still recorded.
        expect((await store.results.history('fabrikam')).items).toHaveLength(6);
        // The SPF record changes: an event, and the state (its fingerprint) is written.
        const changed = await h.cycle(spf('pass', CHANGED));
        expect(changed.events.map((e) => e.kind)).toEqual(['spf-changed']);
        expect(changed.unchangedStates).toBe(0);
        expect(await h.state()).toMatchObject({ version: 4, lastRunId: 'run-7', fingerprintValue: CHANGED });
        expect((await h.cycle(spf('pass', CHANGED))).unchangedStates).toBe(1);
        // A day after the last write the unchanged state is written once more: lastAt catches up.
        const later = await h.cycle(spf('pass', CHANGED), STATE_HEARTBEAT_MS);
        expect(later.unchangedStates).toBe(0);
        expect(await h.state()).toMatchObject({ version: 5, lastRunId: 'run-9' });
        expect((await h.cycle(spf('pass', CHANGED))).unchangedStates).toBe(1);
      } finally {
        await cleanup();
      }
    });

    it('opens after two failures and resolves after two passes with saturated counters; unknown opens and resolves nothing', async () => {
      const { store, cleanup } = await open();
      try {
        const h = harness(store);
        for (let i = 0; i < 5; i++) await h.cycle(spf('pass'));
        // Unknown: the status is written once, the counters stay; it never opens or resolves anything.
        expect((await h.cycle(spf('unknown', null))).unchangedStates).toBe(0);
        expect((await h.cycle(spf('unknown', null))).unchangedStates).toBe(1);
        expect((await h.cycle(spf('fail'))).opened).toEqual([]);
        const opened = await h.cycle(spf('fail'));
        expect(opened.opened.map((i) => i.problem)).toEqual(['spf-relay-ip-not-authorised']);
        expect(h.notifier.sent.map((a) => a.kind)).toEqual(['opened']);
        // Failing on: the count passes openAfter + 1, then nothing is written and nothing is sent again.
        await h.cycle(spf('fail'));
        const failing = await h.state();
        for (let i = 0; i < 3; i++) {
          const c = await h.cycle(spf('fail'));
          expect(c.unchangedStates).toBe(1);
          expect(c.opened).toEqual([]);
        }
        expect(await h.state()).toEqual(failing);
        expect((await h.cycle(spf('unknown', null))).resolved).toEqual([]);
        expect((await h.cycle(spf('unknown', null))).resolved).toEqual([]);
        expect((await h.cycle(spf('pass'))).resolved).toEqual([]);
        const resolved = await h.cycle(spf('pass'));
        expect(resolved.resolved).toHaveLength(1);
        expect(h.notifier.sent.map((a) => a.kind)).toEqual(['opened', 'resolved']);
        expect((await store.incidents.listActive('fabrikam')).filter((i) => i.status === 'open')).toEqual([]);
      } finally {
        await cleanup();
      }
    });
  });
}

describe('stateUnchanged', () => {
  const base: SubjectState = {
    tenantId: 't',
    check: 'spf',
    subject: 'a.example',
    lastStatus: 'pass',
    lastAt: '2026-11-27T08:00:00.000Z',
    lastRunId: 'r1',
    consecutiveFails: 0,
    consecutivePasses: 3,
    fingerprint: 'f',
    fingerprintValue: 'v',
    version: 3,
  };
  const policy = { openAfter: 2, resolveAfter: 2 };
  const at = (ms: number) => new Date(Date.parse(base.lastAt) + ms).toISOString();
  it('is true only when status, fingerprint and counters (up to threshold + 1) stay, within the heartbeat', () => {
    const next = { ...base, lastAt: at(3_600_000), lastRunId: 'r2', consecutivePasses: 4 };
    expect(stateUnchanged(base, next, policy)).toBe(true);
    expect(stateUnchanged({ ...base, consecutivePasses: 2 }, { ...next, consecutivePasses: 3 }, policy)).toBe(false);
    expect(stateUnchanged(base, { ...next, lastStatus: 'warn' }, policy)).toBe(false);
    expect(stateUnchanged(base, { ...next, fingerprint: 'g' }, policy)).toBe(false);
    expect(stateUnchanged(base, { ...next, fingerprintValue: 'w' }, policy)).toBe(false);
    expect(stateUnchanged(base, { ...next, lastAt: at(STATE_HEARTBEAT_MS) }, policy)).toBe(false);
    expect(stateUnchanged(base, { ...next, lastAt: at(STATE_HEARTBEAT_MS - 1) }, policy)).toBe(true);
  });
});

describeWrites('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaywatch-state-writes-'));
  const store = openSqliteStore({ path: join(dir, 'state.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('on DynamoDB Local', () => {
  const ddb = useDynamoDbLocal();
  let n = 0;
  describeWrites('DynamoDB', async () => {
    const store = await openDynamoDbStore({
      tableName: `state-writes-${process.pid}-${++n}`,
      ...ddb().clientOptions,
      createTable: true,
    });
    return { store, cleanup: () => store.close() };
  });
});
