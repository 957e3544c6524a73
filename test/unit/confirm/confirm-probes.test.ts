/** The confirm use case over the real SQLite store: outstanding probes, outcomes, incidents, removal after recording. */
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../shared/adapters/store/sqlite-store.ts';
import { probeOutcome } from '../../../shared/checks/probe-outcome.ts';
import { DEFAULT_DEADLINE_MS, DEFAULT_LATE_AFTER_MS } from '../../../shared/confirm/outcome.ts';
import { alertFor } from '../../../shared/monitor/alerts.ts';
import type { Alert, Notifier, SendResult } from '../../../shared/notify/alert.ts';
import type { FindResult, MailboxMessage, ProbeMailbox, RemoveResult } from '../../../shared/ports/probe-mailbox.ts';
import type { Store } from '../../../shared/ports/stores.ts';
import { classify, parseReply } from '../../../shared/probe/diagnosis.ts';
import { type ConfirmTenant, confirmProbes, outstandingProbes } from '../../../shared/use-cases/confirm-probes.ts';
import { recordCycle } from '../../../shared/use-cases/record-cycle.ts';
import type { TenantReport } from '../../../shared/use-cases/run-checks.ts';
import type { ProbeReport } from '../../../shared/use-cases/run-probe.ts';
import { AR_ALL_PASS, AR_SPF_SOFTFAIL_DMARC_FAIL, block } from './exo-headers.ts';

/** An in-memory mailbox with the port's semantics: find by Message-ID, remove only refs it handed out. */
class MemoryMailbox implements ProbeMailbox {
  messages: MailboxMessage[] = [];
  failing: FindResult | null = null;
  calls: string[] = [];
  async find(ids: readonly string[]): Promise<FindResult> {
    this.calls.push(`find ${ids.join(',')}`);
    if (this.failing) return this.failing;
    return { ok: true, found: new Map(ids.map((id) => [id, this.messages.filter((m) => m.messageId === id)])) };
  }
  async remove(refs: readonly string[]): Promise<RemoveResult> {
    this.calls.push(`remove ${refs.join(',')}`);
    const before = this.messages.length;
    this.messages = this.messages.filter((m) => !refs.includes(m.ref));
    return { ok: true, removed: before - this.messages.length };
  }
}

class RecordingNotifier implements Notifier {
  readonly channel = 'webhook' as const;
  sent: Alert[] = [];
  async send(alert: Alert): Promise<SendResult> {
    this.sent.push(alert);
    return { ok: true };
  }
}

function probeReport(probeId: string, startedAt: string): ProbeReport {
  return {
    kind: 'submission',
    tenantId: 'contoso',
    tenantName: 'Contoso',
    probeId,
    startedAt,
    target: { host: 'smtp.office365.com', port: 587, tls: 'starttls-required', hostSource: 'config', note: null },
    from: 'app@contoso.example',
    to: 'probe@contoso.example',
    auth: { mechanism: 'XOAUTH2', user: 'app@contoso.example' },
    result: {
      transcript: [{ stage: 'data-end', at: 800 }],
      tls: null,
      diagnosis: classify({
        stage: 'data-end',
        reply: parseReply('250 2.6.0 <m> [InternalId=1] Queued mail for delivery'),
      }),
      timings: {},
      messageId: `relaywatch.${probeId}@contoso.example`,
      queueId: '1',
    },
    findings: [],
  };
}

function harness() {
  const store: Store = openSqliteStore({ path: ':memory:' });
  const mailbox = new MemoryMailbox();
  const notifier = new RecordingNotifier();
  let run = 0;
  let clock = Date.parse('2026-11-27T08:00:00Z');
  const now = () => new Date(clock);
  const record = async (reports: readonly TenantReport[]) => {
    run++;
    mailbox.calls.push('record');
    await recordCycle({
      reports,
      tenants: [{ id: 'contoso', name: 'Contoso', routes: [{ id: 'hook', minSeverity: 'info' }] }],
      store,
      runId: `run-${run}`,
      source: 'cli',
      startedAt: now(),
      now,
      notifierFor: () => notifier,
      alertFor: (incident, kind, name, at) =>
        alertFor(incident, kind, name, at, {
          msp: { name: 'MSP', contact: { name: 'NOC', email: 'noc@msp.example' } },
        }),
    });
  };
  const sendProbe = (probeId: string) =>
    record([
      {
        id: 'contoso',
        name: 'Contoso',
        status: 'pass',
        domains: [],
        checks: [probeOutcome(probeReport(probeId, now().toISOString()), 'probe-submission')],
      },
    ]);
  const tenant: ConfirmTenant = {
    id: 'contoso',
    name: 'Contoso',
    policy: { lateAfterMs: DEFAULT_LATE_AFTER_MS, deadlineMs: DEFAULT_DEADLINE_MS },
    afterRead: 'delete',
    mailbox: () => mailbox,
  };
  const confirm = (extra: { probeId?: string; minAgeMs?: number; tenant?: ConfirmTenant } = {}) =>
    confirmProbes({
      tenants: [extra.tenant ?? tenant],
      results: store.results,
      now,
      record,
      ...(extra.probeId ? { probeId: extra.probeId } : {}),
      ...(extra.minAgeMs !== undefined ? { minAgeMs: extra.minAgeMs } : {}),
    });
  const deliver = (probeId: string, ar: string, folder: 'inbox' | 'junk', afterMs: number) =>
    mailbox.messages.push({
      ref: `ref-${probeId}`,
      messageId: `relaywatch.${probeId}@contoso.example`,
      folder,
      folderName: folder === 'inbox' ? 'Inbox' : 'Junk Email',
      receivedAt: new Date(clock + afterMs).toISOString(),
      headers: block(ar),
    });
  return { store, mailbox, notifier, confirm, sendProbe, deliver, tenant, tick: (ms: number) => (clock += ms), now };
}

describe('confirmProbes', () => {
  it('remembers an accepted probe from its stored result and confirms its delivery, then removes it', async () => {
    const h = harness();
    await h.sendProbe('p1');
    expect((await outstandingProbes(h.store.results, 'contoso', new Date(0))).map((p) => p.probeId)).toEqual(['p1']);
    h.deliver('p1', AR_ALL_PASS, 'inbox', 45_000);
    h.tick(60_000);
    const r = await h.confirm();
    const t = r.tenants[0]!;
    expect(t.outcomes.map((o) => [o.findings[0]?.code, o.status])).toEqual([['delivered', 'pass']]);
    expect(t.outcomes[0]?.details).toMatchObject({
      probeId: 'p1',
      path: 'submission:app@contoso.example',
      folder: 'inbox',
      latencyMs: 45_000,
      auth: { source: 'exchange-online', spf: { result: 'pass', ip: '40.107.20.51' } },
      spam: { scl: 1 },
    });
    expect(t.removed).toBe(1);
    expect(h.mailbox.calls.indexOf('record')).toBeLessThan(h.mailbox.calls.findIndex((c) => c.startsWith('remove')));
    const stored = await h.store.results.history('contoso', { check: 'probe-confirmation' });
    expect(stored.items.map((i) => [i.subject, i.status, i.codes])).toEqual([['p1', 'pass', ['delivered']]]);
    expect(await outstandingProbes(h.store.results, 'contoso', new Date(0))).toEqual([]);
  });

  it('keeps a probe pending before the deadline and calls it not-delivered after; two in a row open an incident', async () => {
    const h = harness();
    await h.sendProbe('p1');
    h.tick(5 * 60_000);
    const early = await h.confirm();
    expect(early.tenants[0]?.pending.map((p) => p.probeId)).toEqual(['p1']);
    expect(early.reports).toEqual([]);
    h.tick(DEFAULT_DEADLINE_MS);
    const late = await h.confirm();
    expect(late.tenants[0]?.outcomes.map((o) => o.findings[0]?.code)).toEqual(['not-delivered']);
    expect((await h.store.incidents.list('contoso', { status: 'open' })).items).toEqual([]);
    await h.sendProbe('p2');
    h.tick(DEFAULT_DEADLINE_MS + 1000);
    await h.confirm();
    const open = (await h.store.incidents.list('contoso', { status: 'open' })).items;
    expect(open.map((i) => [i.check, i.subject, i.problem])).toEqual([
      ['probe-confirmation', 'submission:app@contoso.example', 'not-delivered'],
    ]);
    expect(open[0]?.title).toBe('Probe on submission:app@contoso.example was accepted but never arrived');
    expect(h.notifier.sent.map((a) => a.kind)).toEqual(['opened']);
  });

  it('records auth-failing with the verdicts, and junk and late as warnings', async () => {
    const h = harness();
    await h.sendProbe('p1');
    h.deliver('p1', AR_SPF_SOFTFAIL_DMARC_FAIL, 'junk', DEFAULT_LATE_AFTER_MS + 60_000);
    h.tick(DEFAULT_LATE_AFTER_MS + 120_000);
    const r = await h.confirm();
    const o = r.tenants[0]!.outcomes[0]!;
    expect(o.status).toBe('fail');
    expect(o.findings.map((f) => f.code)).toEqual(['auth-failing', 'delivered-junk', 'delivered-late']);
    expect(o.findings[0]?.evidence).toEqual({ verdicts: ['spf=softfail', 'dmarc=fail'] });
  });

  it('records an unreadable mailbox as unknown, opens nothing, and looks again next time', async () => {
    const h = harness();
    await h.sendProbe('p1');
    h.tick(DEFAULT_DEADLINE_MS * 3);
    h.mailbox.failing = { ok: false, reason: 'auth', message: 'LOGIN refused' };
    for (let i = 0; i < 3; i++) {
      const r = await h.confirm();
      expect(r.tenants[0]?.outcomes.map((o) => [o.status, o.findings[0]?.code])).toEqual([
        ['unknown', 'confirmation-unknown'],
      ]);
      h.tick(60_000);
    }
    expect((await h.store.incidents.list('contoso')).items).toEqual([]);
    expect((await outstandingProbes(h.store.results, 'contoso', new Date(0))).map((p) => p.probeId)).toEqual(['p1']);
    expect(h.mailbox.calls.some((c) => c.startsWith('remove'))).toBe(false);
  });

  it('makes probes of a tenant whose mailbox cannot be opened unknown, saying why', async () => {
    const h = harness();
    await h.sendProbe('p1');
    h.tick(60_000);
    const r = await h.confirm({ tenant: { ...h.tenant, mailbox: () => ({ error: 'RW_GRAPH_SECRET is not set' }) } });
    expect(r.tenants[0]?.mailboxError).toBe('RW_GRAPH_SECRET is not set');
    expect(r.tenants[0]?.outcomes[0]?.findings[0]?.message).toContain('RW_GRAPH_SECRET is not set');
  });

  it('looks only for the probe asked for, and only for probes older than minAgeMs', async () => {
    const h = harness();
    await h.sendProbe('p1');
    h.tick(60_000);
    await h.sendProbe('p2');
    h.deliver('p1', AR_ALL_PASS, 'inbox', 0);
    h.deliver('p2', AR_ALL_PASS, 'inbox', 0);
    const one = await h.confirm({ probeId: 'p2' });
    expect(one.tenants[0]?.outcomes.map((o) => o.subject)).toEqual(['p2']);
    const aged = await h.confirm({ minAgeMs: 30_000 });
    expect(aged.tenants[0]?.outcomes.map((o) => o.subject)).toEqual(['p1']);
  });

  it('does not remove anything when the recording fails', async () => {
    const h = harness();
    await h.sendProbe('p1');
    h.deliver('p1', AR_ALL_PASS, 'inbox', 1000);
    h.tick(60_000);
    await expect(
      confirmProbes({
        tenants: [h.tenant],
        results: h.store.results,
        now: h.now,
        record: async () => {
          throw new Error('disk full');
        },
      }),
    ).rejects.toThrow('disk full');
    expect(h.mailbox.messages).toHaveLength(1);
  });
});
