/**
 * The state stage on an in-memory SQLite store with hand-made reports and a recording notifier: drift events,
 * thresholds, unknown, maintenance windows, idempotent retried runs. (The end-to-end version over real servers is
 * test/integration/state.int.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import type { CheckOutcome, CheckStatus } from '../../shared/domain/outcome.ts';
import { alertFor } from '../../shared/monitor/alerts.ts';
import type { Alert, Notifier, SendResult } from '../../shared/notify/alert.ts';
import { buildAlertEmail } from '../../shared/notify/email.ts';
import { deliveryId } from '../../shared/notify/webhook.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { type CycleInput, recordCycle, type TenantAlerting } from '../../shared/use-cases/record-cycle.ts';
import type { TenantReport } from '../../shared/use-cases/run-checks.ts';

class RecordingNotifier implements Notifier {
  readonly channel = 'webhook' as const;
  readonly sent: Alert[] = [];
  readonly attempts: Alert[] = [];
  fail = false;
  async send(alert: Alert): Promise<SendResult> {
    this.attempts.push(alert);
    if (this.fail) return { ok: false, retryable: true, error: 'HTTP 503 from hooks.example' };
    this.sent.push(alert);
    return { ok: true };
  }
}

function spf(domain: string, status: CheckStatus, record: string | null): CheckOutcome {
  return {
    kind: 'spf',
    subject: domain,
    status,
    findings:
      status === 'fail'
        ? [
            {
              code: 'spf-relay-ip-not-authorised',
              severity: 'error',
              message: `${domain} does not authorise 198.51.100.23`,
              evidence: { ip: '198.51.100.23', result: 'fail' },
            },
          ]
        : status === 'unknown'
          ? [{ code: 'spf-dns-unknown', severity: 'unknown', message: 'no resolver answered' }]
          : [],
    details: record === null ? {} : { record },
    durationMs: 1,
  };
}

function report(outcome: CheckOutcome): TenantReport[] {
  return [
    {
      id: 'fabrikam',
      name: 'Fabrikam Inc',
      status: outcome.status,
      domains: [{ domain: outcome.subject, status: outcome.status, checks: [outcome] }],
      checks: [],
    },
  ];
}

const TENANT: TenantAlerting = {
  id: 'fabrikam',
  name: 'Fabrikam Inc',
  routes: [{ id: 'hook', minSeverity: 'warning' }],
};

function harness(tenant: TenantAlerting = TENANT) {
  const store: Store = openSqliteStore({ path: ':memory:' });
  const notifier = new RecordingNotifier();
  let clock = Date.parse('2026-11-27T08:00:00Z');
  let run = 0;
  const cycle = (reports: TenantReport[], extra: Partial<CycleInput> = {}) => {
    run++;
    clock += 15 * 60_000;
    const startedAt = new Date(clock);
    return recordCycle({
      reports,
      tenants: [tenant],
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
      ...extra,
    });
  };
  return { store, notifier, cycle, setClock: (iso: string) => (clock = Date.parse(iso) - 15 * 60_000) };
}

const OLD = 'v=spf1 ip4:198.51.100.7 include:spf.protection.outlook.com -all';
const NEW = 'v=spf1 ip4:198.51.100.23 include:spf.protection.outlook.com -all';

describe('recordCycle', () => {
  it('stores every result and records an SPF change as an event with before and after', async () => {
    const h = harness();
    const first = await h.cycle(report(spf('fabrikam.example', 'pass', OLD)));
    expect(first.stored).toBe(1);
    expect(first.events).toEqual([]);
    const second = await h.cycle(report(spf('fabrikam.example', 'pass', NEW)));
    expect(second.events).toEqual([
      expect.objectContaining({
        kind: 'spf-changed',
        subject: 'fabrikam.example',
        before: OLD,
        after: NEW,
        runId: 'run-2',
      }),
    ]);
    // an unknown run says nothing about the record: no change, and the next known run compares with the last known
    const third = await h.cycle(report(spf('fabrikam.example', 'unknown', null)));
    expect(third.events).toEqual([]);
    const fourth = await h.cycle(report(spf('fabrikam.example', 'pass', NEW)));
    expect(fourth.events).toEqual([]);
    const history = await h.store.results.history('fabrikam');
    expect(history.items.map((c) => c.runId)).toEqual(['run-4', 'run-3', 'run-2', 'run-1']);
    const events = await h.store.results.events('fabrikam');
    expect(events.items.map((e) => e.kind)).toEqual(['spf-changed']);
  });

  it('opens after two failures (unknown in between changes nothing), alerts once, resolves after two passes', async () => {
    const h = harness();
    const fail = report(spf('fabrikam.example', 'fail', OLD));
    expect((await h.cycle(fail)).opened).toEqual([]);
    expect((await h.cycle(report(spf('fabrikam.example', 'unknown', null)))).opened).toEqual([]);
    const opened = await h.cycle(fail);
    expect(opened.opened.map((i) => i.problem)).toEqual(['spf-relay-ip-not-authorised']);
    expect(h.notifier.sent.map((a) => [a.kind, a.title])).toEqual([
      ['opened', 'SPF of fabrikam.example does not authorise relay IP 198.51.100.23'],
    ]);
    expect(h.notifier.sent[0]?.what).toContain('does not authorise 198.51.100.23');
    await h.cycle(fail);
    expect(h.notifier.sent).toHaveLength(1);
    expect((await h.cycle(report(spf('fabrikam.example', 'pass', NEW)))).resolved).toEqual([]);
    const resolved = await h.cycle(report(spf('fabrikam.example', 'pass', NEW)));
    expect(resolved.resolved).toHaveLength(1);
    expect(h.notifier.sent.map((a) => a.kind)).toEqual(['opened', 'resolved']);
  });

  it('records the run, with its tenant, unless told not to (an agent report: its one result is its record)', async () => {
    const h = harness();
    await h.cycle(report(spf('fabrikam.example', 'pass', OLD)), { runTenant: 'fabrikam' });
    await h.cycle(report(spf('fabrikam.example', 'pass', OLD)), { runTenant: 'fabrikam', recordRun: false });
    expect((await h.store.results.runs({ tenantId: 'fabrikam' })).items.map((r) => r.runId)).toEqual(['run-1']);
    expect((await h.store.results.history('fabrikam')).items.map((c) => c.runId)).toEqual(['run-2', 'run-1']);
  });

  it('writes the run with the results when asked (a worker job): in the same putChecks, before the decisions', async () => {
    const h = harness();
    const calls: string[] = [];
    const store = h.store;
    const spy: Store = {
      results: {
        ...store.results,
        putChecks: (records, run) => {
          calls.push(`putChecks ${records.length}${run ? ` + run ${run.runId} of ${run.tenantId}` : ''}`);
          return store.results.putChecks(records, run);
        },
        putRun: (run) => {
          calls.push(`putRun ${run.runId}`);
          return store.results.putRun(run);
        },
      },
      states: store.states,
      incidents: store.incidents,
      budget: store.budget,
      nonces: store.nonces,
      deliveries: store.deliveries,
      writeDecision: (w) => {
        calls.push('writeDecision');
        return store.writeDecision(w);
      },
      prune: (now) => store.prune(now),
      close: () => store.close(),
    };
    await h.cycle(report(spf('fabrikam.example', 'pass', OLD)), {
      store: spy,
      runTenant: 'fabrikam',
      runWithResults: true,
    });
    expect(calls).toEqual(['putChecks 1 + run run-1 of fabrikam', 'writeDecision']);
    const [run] = (await store.results.runs({ tenantId: 'fabrikam' })).items;
    expect(run).toMatchObject({
      runId: 'run-1',
      tenantId: 'fabrikam',
      counts: { pass: 1, warn: 0, fail: 0, unknown: 0 },
    });
    // recordRun: false still writes no run; without runWithResults the run comes last, after the decisions.
    calls.length = 0;
    await h.cycle(report(spf('fabrikam.example', 'pass', OLD)), {
      store: spy,
      runTenant: 'fabrikam',
      runWithResults: true,
      recordRun: false,
    });
    expect(calls).toEqual(['putChecks 1', 'writeDecision']);
    calls.length = 0;
    await h.cycle(report(spf('fabrikam.example', 'fail', OLD)), { store: spy, runTenant: 'fabrikam' });
    expect(calls).toEqual(['putChecks 1', 'writeDecision', 'putRun run-3']);
    expect((await store.results.runs({ tenantId: 'fabrikam' })).items.map((r) => r.runId)).toEqual(['run-3', 'run-1']);
  });

  it('a retried run (same run id) writes nothing twice and sends nothing twice', async () => {
    const h = harness({ ...TENANT });
    const fail = report(spf('fabrikam.example', 'fail', OLD));
    await h.cycle(fail);
    const at = new Date('2026-11-27T12:00:00Z');
    const input = { runId: 'run-x', startedAt: at, now: () => at };
    await h.cycle(fail, input);
    await h.cycle(fail, input);
    expect(h.notifier.sent.map((a) => a.kind)).toEqual(['opened']);
    const history = await h.store.results.history('fabrikam');
    expect(history.items.filter((c) => c.runId === 'run-x')).toHaveLength(1);
  });

  it('holds alerts during a maintenance window and sends them when it ends', async () => {
    const h = harness({
      ...TENANT,
      suppression: { maintenance: [{ from: '2026-11-27T08:00:00Z', until: '2026-11-27T09:00:00Z' }] },
    });
    const fail = report(spf('fabrikam.example', 'fail', OLD));
    await h.cycle(fail); // 08:15
    const inWindow = await h.cycle(fail); // 08:30: opens, held
    expect(inWindow.opened).toHaveLength(1);
    expect(inWindow.held).toEqual([expect.objectContaining({ incidentId: inWindow.opened[0]?.id })]);
    expect(h.notifier.sent).toEqual([]);
    await h.cycle(fail); // 08:45
    const after = await h.cycle(fail); // 09:00: window over
    expect(after.dispatches.map((d) => [d.kind, d.ok])).toEqual([['opened', true]]);
  });

  it('a failed send stays due and goes out on the next run', async () => {
    const h = harness({
      ...TENANT,
      routes: [
        { id: 'hook', minSeverity: 'warning' },
        { id: 'pager', minSeverity: 'critical' },
      ],
    });
    h.notifier.fail = true;
    const fail = report(spf('fabrikam.example', 'fail', OLD));
    await h.cycle(fail);
    const r = await h.cycle(fail);
    expect(r.dispatches.map((d) => [d.route, d.ok, d.error])).toEqual([
      ['hook', false, 'HTTP 503 from hooks.example'],
      ['pager', false, 'HTTP 503 from hooks.example'],
    ]);
    h.notifier.fail = false;
    const retry = await h.cycle(fail);
    expect(retry.dispatches.map((d) => [d.route, d.kind, d.ok])).toEqual([
      ['hook', 'opened', true],
      ['pager', 'opened', true],
    ]);
    const incident = (await h.store.incidents.listOpen()).items[0];
    expect(incident?.deliveries.hook?.opened).not.toBeNull();
  });

  it('a policy listing (warning) goes to routes that take warnings, not to a critical-only route; an abuse listing to both', async () => {
    const h = harness({
      ...TENANT,
      routes: [
        { id: 'hook', minSeverity: 'warning' },
        { id: 'pager', minSeverity: 'critical' },
      ],
    });
    const listing = (kind: 'policy' | 'abuse'): TenantReport[] => [
      {
        id: 'fabrikam',
        name: 'Fabrikam Inc',
        status: 'fail',
        domains: [],
        checks: [
          {
            kind: 'blocklist',
            subject: '198.51.100.23',
            status: kind === 'abuse' ? 'fail' : 'warn',
            findings: [],
            details: {
              ip: '198.51.100.23',
              zones: [
                {
                  zone: kind === 'abuse' ? 'spamcop' : 'pbl',
                  name: kind === 'abuse' ? 'bl.spamcop.net' : 'pbl.example',
                  status: 'listed',
                  kind,
                  codes: [{ code: '127.0.0.2', meaning: 'listed', kind }],
                  reason: null,
                  why: null,
                  removalUrl: null,
                  lookupUrl: null,
                },
              ],
            },
            durationMs: 1,
          },
        ],
      },
    ];
    const policy = await h.cycle(listing('policy'));
    expect(policy.opened.map((i) => [i.subject, i.severity])).toEqual([['198.51.100.23@pbl', 'warning']]);
    expect(policy.dispatches.map((d) => d.route)).toEqual(['hook']);
    const abuse = await h.cycle(listing('abuse'));
    expect(abuse.opened.map((i) => [i.subject, i.severity])).toEqual([['198.51.100.23@spamcop', 'critical']]);
    expect(abuse.dispatches.map((d) => d.route)).toEqual(['hook', 'pager']);
    expect(abuse.dispatches[0]?.alert.packet?.filename).toBe('delist-198.51.100.23-spamcop.eml');
  });

  it('a delivery that meets a concurrent write is applied to the fresh incident: recorded once, not sent twice', async () => {
    const h = harness();
    const fail = report(spf('fabrikam.example', 'fail', OLD));
    await h.cycle(fail);
    // Another writer updates the incident just before this run records the delivery.
    const realPut = h.store.incidents.put.bind(h.store.incidents);
    let raced = false;
    h.store.incidents.put = async (incident, expectedVersion) => {
      if (!raced && Object.values(incident.deliveries).some((d) => d.opened !== null)) {
        raced = true;
        const current = await h.store.incidents.get(incident.tenantId, incident.id);
        if (current) await realPut({ ...current, lastDetail: `${current.lastDetail} ` }, current.version);
      }
      return realPut(incident, expectedVersion);
    };
    const r = await h.cycle(fail);
    expect(raced).toBe(true);
    expect(r.conflicts).toBe(1);
    expect(r.dispatches.map((d) => [d.kind, d.ok])).toEqual([['opened', true]]);
    const stored = (await h.store.incidents.listOpen()).items[0];
    expect(stored?.deliveries.hook?.opened).not.toBeNull();
    await h.cycle(fail);
    expect(h.notifier.sent.map((a) => a.kind)).toEqual(['opened']);
  });

  describe('delivery claims', () => {
    /** The delivery key the next real run will claim, from a dry run (which claims nothing). */
    async function pendingKey(h: ReturnType<typeof harness>, fail: TenantReport[]): Promise<string> {
      const dry = await h.cycle(fail, { dryRun: true });
      const key = dry.dispatches[0]?.alert.delivery?.key;
      if (key === undefined) throw new Error('nothing pending');
      return key;
    }

    it('leaves a notification another run has claimed to that run, then takes the claim over once its lease expired', async () => {
      const h = harness();
      const fail = report(spf('fabrikam.example', 'fail', OLD));
      await h.cycle(fail); // 08:15, opens at the second failure
      await h.cycle(fail, { dryRun: true }); // 08:30: opens
      const key = await pendingKey(h, fail); // 08:45
      // A run claimed it at 08:50 and died before sending (or while sending): its claim holds for the lease.
      const claimedAt = new Date('2026-11-27T08:50:00Z');
      expect((await h.store.deliveries.claim('fabrikam', key, 'dead-run', claimedAt, 5 * 60_000)).status).toBe(
        'claimed',
      );
      h.setClock('2026-11-27T08:54:00Z');
      const during = await h.cycle(fail);
      expect(during.dispatches).toEqual([]);
      expect(during.held).toEqual([expect.objectContaining({ reason: expect.stringContaining('dead-run') })]);
      expect(h.notifier.sent).toEqual([]);
      h.setClock('2026-11-27T08:55:00Z');
      const after = await h.cycle(fail);
      expect(after.dispatches.map((d) => [d.kind, d.ok])).toEqual([['opened', true]]);
      expect(await h.store.deliveries.get('fabrikam', key)).toMatchObject({
        attempts: 2,
        deliveredAt: expect.any(String),
      });
      await h.cycle(fail);
      expect(h.notifier.sent.map((a) => a.kind)).toEqual(['opened']);
    });

    it('records without sending again a notification that was sent and completed by a run that died before recording it', async () => {
      const h = harness();
      const fail = report(spf('fabrikam.example', 'fail', OLD));
      await h.cycle(fail);
      await h.cycle(fail, { dryRun: true });
      const key = await pendingKey(h, fail);
      const t = new Date('2026-11-27T08:50:00Z');
      await h.store.deliveries.claim('fabrikam', key, 'dead-run', t, 5 * 60_000);
      await h.store.deliveries.complete('fabrikam', key, 'dead-run', t);
      const r = await h.cycle(fail);
      expect(r.dispatches).toEqual([]);
      expect(h.notifier.sent).toEqual([]);
      expect((await h.store.incidents.listOpen()).items[0]?.deliveries.hook?.opened).not.toBeNull();
      expect((await h.cycle(fail)).dispatches).toEqual([]);
    });

    it('releases the claim of a failed send so the next run retries it with the same delivery key, webhook-id and Message-ID', async () => {
      const h = harness();
      const fail = report(spf('fabrikam.example', 'fail', OLD));
      h.notifier.fail = true;
      await h.cycle(fail);
      await h.cycle(fail); // opens; the send fails
      await h.cycle(fail); // fails again
      h.notifier.fail = false;
      await h.cycle(fail); // delivered
      const attempts = h.notifier.attempts;
      expect(attempts.map((a) => a.kind)).toEqual(['opened', 'opened', 'opened']);
      expect(new Set(attempts.map((a) => a.at)).size).toBe(3); // each attempt has its own time…
      expect(new Set(attempts.map((a) => a.delivery?.key)).size).toBe(1); // …and the same key
      expect(new Set(attempts.map((a) => deliveryId(a))).size).toBe(1);
      const addressing = { from: 'relaywatch@msp.example', to: ['tickets@psa.example'] };
      expect(new Set(attempts.map((a) => buildAlertEmail(a, addressing).messageId)).size).toBe(1);
      const claim = await h.store.deliveries.get('fabrikam', attempts[0]?.delivery?.key ?? '');
      expect(claim).toMatchObject({ attempts: 3, deliveredAt: expect.any(String) });
    });

    it('sends a notification once when two runs process the same incident at the same time', async () => {
      const h = harness();
      const fail = report(spf('fabrikam.example', 'fail', OLD));
      h.notifier.fail = true;
      await h.cycle(fail);
      await h.cycle(fail); // opened, not delivered
      h.notifier.fail = false;
      const at = new Date('2026-11-27T09:00:00Z');
      const [a, b] = await Promise.all([
        h.cycle(fail, { runId: 'run-a', startedAt: at, now: () => at }),
        h.cycle(fail, { runId: 'run-b', startedAt: at, now: () => at }),
      ]);
      expect(h.notifier.sent.map((x) => x.kind)).toEqual(['opened']);
      expect([...(a?.dispatches ?? []), ...(b?.dispatches ?? [])].map((d) => [d.kind, d.ok])).toEqual([
        ['opened', true],
      ]);
    });
  });
});

describe('recordCycle over many tenants', () => {
  it('writes nothing more once it has failed: the tenants in flight settle before it rejects, no new one starts', async () => {
    const inner = openSqliteStore({ path: ':memory:' });
    let writes = 0;
    const store: Store = {
      ...inner,
      results: inner.results,
      states: inner.states,
      incidents: inner.incidents,
      budget: inner.budget,
      nonces: inner.nonces,
      deliveries: inner.deliveries,
      prune: (now) => inner.prune(now),
      close: () => inner.close(),
      writeDecision: async (w) => {
        if (w.state.tenantId === 't0') throw new Error('disk full');
        await new Promise((r) => setTimeout(r, 20));
        writes++;
        return inner.writeDecision(w);
      },
    };
    const tenants = Array.from({ length: 6 }, (_, i) => `t${i}`);
    const reports: TenantReport[] = tenants.map((id) => ({
      id,
      name: id,
      status: 'pass',
      domains: ['a', 'b', 'c'].map((d) => ({
        domain: `${d}.${id}.example`,
        status: 'pass' as const,
        checks: [spf(`${d}.${id}.example`, 'pass', OLD)],
      })),
      checks: [],
    }));
    const at = new Date('2026-11-27T08:00:00Z');
    await expect(
      recordCycle({
        reports,
        tenants: tenants.map((id) => ({ id, name: id, routes: [] })),
        store,
        runId: 'r1',
        source: 'cli',
        startedAt: at,
        now: () => at,
        notifierFor: () => ({ error: 'none' }),
        alertFor: () => Promise.reject(new Error('no alerts expected')),
        tenantConcurrency: 2,
      }),
    ).rejects.toThrow('disk full');
    const settled = writes;
    // t0 failed at once; t1 was in flight and finished its three decisions; nobody else started.
    expect(settled).toBe(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(writes).toBe(settled);
  });
});

describe('recordCycle reads', () => {
  it("asks for a tenant's states and its active incidents at once, not one after the other", async () => {
    const inner = openSqliteStore({ path: ':memory:' });
    let inFlight = 0;
    let most = 0;
    const slow = async <T>(read: () => Promise<T>): Promise<T> => {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        await new Promise((r) => setTimeout(r, 20));
        return await read();
      } finally {
        inFlight--;
      }
    };
    const store: Store = {
      ...inner,
      results: inner.results,
      states: { ...inner.states, list: (tenantId) => slow(() => inner.states.list(tenantId)) },
      incidents: { ...inner.incidents, listActive: (tenantId) => slow(() => inner.incidents.listActive(tenantId)) },
      budget: inner.budget,
      nonces: inner.nonces,
      deliveries: inner.deliveries,
      writeDecision: (w) => inner.writeDecision(w),
      prune: (now) => inner.prune(now),
      close: () => inner.close(),
    };
    const startedAt = new Date('2026-11-27T08:00:00Z');
    const result = await recordCycle({
      reports: report(spf('fabrikam.example', 'pass', OLD)),
      tenants: [TENANT],
      store,
      runId: 'run-reads',
      source: 'cli',
      startedAt,
      now: () => startedAt,
      notifierFor: () => new RecordingNotifier(),
      alertFor: (incident, kind, name, at) =>
        alertFor(incident, kind, name, at, {
          msp: { name: 'MSP', contact: { name: 'NOC', email: 'noc@msp.example' } },
        }),
    });
    expect(result.stored).toBe(1);
    expect(most).toBe(2);
    await inner.close();
  });
});
