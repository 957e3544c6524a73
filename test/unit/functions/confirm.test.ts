/**
 * makeConfirm (the scheduled probe-mailbox poller) with fakes: an in-memory SQLite store holding the accepted probes,
 * a mailbox with the port's semantics, a recording notifier, logger and metrics. The event is the scheduled one.
 */
import { describe, expect, it } from 'vitest';
import { makeConfirm } from '../../../functions/confirm/confirm.ts';
import { openSqliteStore } from '../../../shared/adapters/store/sqlite-store.ts';
import { probeOutcome } from '../../../shared/checks/probe-outcome.ts';
import { CONFIRMATION_CHECK } from '../../../shared/confirm/outcome.ts';
import { CONFIRM_METRICS, METRICS } from '../../../shared/deploy/constants.ts';
import { observe } from '../../../shared/monitor/observe.ts';
import type { Alert, Notifier, SendResult } from '../../../shared/notify/alert.ts';
import type { FindResult, MailboxMessage, ProbeMailbox, RemoveResult } from '../../../shared/ports/probe-mailbox.ts';
import type { Store } from '../../../shared/ports/stores.ts';
import { classify, parseReply } from '../../../shared/probe/diagnosis.ts';
import { outstandingProbes } from '../../../shared/use-cases/confirm-probes.ts';
import type { ProbeReport } from '../../../shared/use-cases/run-probe.ts';
import {
  FakeConfigSource,
  HOOK_ALERTS,
  LAB_MSP_LINES,
  LAMBDA_CONTEXT,
  RecordingLogger,
  RecordingMetrics,
} from '../../support/lambda-fakes.ts';
import { AR_ALL_PASS, AR_SPF_SOFTFAIL_DMARC_FAIL, block } from '../confirm/exo-headers.ts';

const CONFIG = `
${LAB_MSP_LINES}
${HOOK_ALERTS}
tenants:
  - id: contoso
    name: Contoso
    domains: [contoso.example]
    probeMailbox:
      kind: graph
      mailbox: probe@contoso.example
      entraTenantId: contoso.onmicrosoft.com
      clientId: 3f0c7a8e-1b2d-4c5e-8f90-123456789abc
      clientSecret: { env: GRAPH_SECRET }
  - { id: fabrikam, name: Fabrikam, domains: [fabrikam.example] }
`;

class MemoryMailbox implements ProbeMailbox {
  messages: MailboxMessage[] = [];
  failing: FindResult | null = null;
  finds = 0;
  removed: string[] = [];
  async find(ids: readonly string[]): Promise<FindResult> {
    this.finds++;
    if (this.failing) return this.failing;
    return { ok: true, found: new Map(ids.map((id) => [id, this.messages.filter((m) => m.messageId === id)])) };
  }
  async remove(refs: readonly string[]): Promise<RemoveResult> {
    this.removed.push(...refs);
    const before = this.messages.length;
    this.messages = this.messages.filter((m) => !refs.includes(m.ref));
    return { ok: true, removed: before - this.messages.length };
  }
}

class RecordingNotifier implements Notifier {
  readonly channel = 'webhook' as const;
  readonly sent: Alert[] = [];
  async send(alert: Alert): Promise<SendResult> {
    this.sent.push(alert);
    return { ok: true };
  }
}

function probeReport(tenantId: string, probeId: string, startedAt: string, to: string): ProbeReport {
  return {
    kind: 'submission',
    tenantId,
    tenantName: tenantId,
    probeId,
    startedAt,
    target: { host: 'smtp.office365.com', port: 587, tls: 'starttls-required', hostSource: 'config', note: null },
    from: `app@${tenantId}.example`,
    to,
    auth: null,
    result: {
      transcript: [],
      tls: null,
      diagnosis: classify({ stage: 'data-end', reply: parseReply('250 2.6.0 Queued mail for delivery') }),
      timings: {},
      messageId: `relaywatch.${probeId}@${tenantId}.example`,
      queueId: null,
    },
    findings: [],
  };
}

const T0 = Date.parse('2026-11-27T18:00:00Z');

function setup(options: { sesInboundDomain?: string; config?: string } = {}) {
  const store: Store = openSqliteStore({ path: ':memory:' });
  const mailbox = new MemoryMailbox();
  const notifier = new RecordingNotifier();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  let clock = T0;
  const opened: string[] = [];
  const confirm = makeConfirm({
    config: new FakeConfigSource(options.config ?? CONFIG),
    store,
    secrets: async () => ({ env: {} }),
    mailboxes: () => async (cfg) => {
      opened.push(cfg.kind === 'graph' ? cfg.mailbox : cfg.user);
      return mailbox;
    },
    notifiers: async () => () => notifier,
    sesInboundDomain: options.sesInboundDomain ?? null,
    logger,
    metrics,
    now: () => new Date(clock),
  });
  const sendProbe = async (probeId: string, tenantId = 'contoso', to = `probe@${tenantId}.example`) => {
    const report = probeReport(tenantId, probeId, new Date(clock).toISOString(), to);
    const { checks } = observe(
      [{ id: tenantId, name: tenantId, status: 'pass', domains: [], checks: [probeOutcome(report)] }],
      { runId: `probe-${probeId}`, at: report.startedAt },
    );
    await store.results.putChecks(checks);
  };
  const deliver = (probeId: string, ar: string, afterMs: number) =>
    mailbox.messages.push({
      ref: `graph:${probeId}`,
      messageId: `relaywatch.${probeId}@contoso.example`,
      folder: 'inbox',
      folderName: 'Inbox',
      receivedAt: new Date(clock + afterMs).toISOString(),
      headers: block(ar),
    });
  const tick = (ms: number) => {
    clock += ms;
    return { time: new Date(clock).toISOString() };
  };
  const confirmations = async (tenantId = 'contoso') =>
    (await store.results.history(tenantId, { check: CONFIRMATION_CHECK, limit: 1000 })).items;
  return { store, mailbox, notifier, logger, metrics, confirm, sendProbe, deliver, tick, confirmations, opened };
}

describe('makeConfirm', () => {
  it('records a probe found in the mailbox as delivered, counts it, and removes the message after recording', async () => {
    const h = setup();
    await h.sendProbe('p1');
    h.deliver('p1', AR_ALL_PASS, 30_000);
    const summary = await h.confirm(h.tick(5 * 60_000), LAMBDA_CONTEXT);
    expect(summary.outcomes).toEqual({ delivered: 1 });
    expect(summary.runId).toBe('confirm-2026-11-27T18:05:00.000Z');
    expect(h.metrics.total(CONFIRM_METRICS.outcomes.delivered)).toBe(1);
    expect((await h.confirmations()).map((c) => [c.subject, c.status, c.codes])).toEqual([
      ['p1', 'pass', ['delivered']],
    ]);
    expect(h.mailbox.removed).toEqual(['graph:p1']);
    expect(h.opened).toEqual(['probe@contoso.example']);
    expect(await outstandingProbes(h.store.results, 'contoso', new Date(0))).toEqual([]);
    expect(h.logger.keys.size).toBe(0);
  });

  it('opens a not-delivered incident on the second missing probe, alerts once, and a retried tick adds nothing', async () => {
    const h = setup();
    await h.sendProbe('p1');
    await h.confirm(h.tick(31 * 60_000), LAMBDA_CONTEXT);
    await h.sendProbe('p2');
    const tick = h.tick(31 * 60_000);
    const summary = await h.confirm(tick, LAMBDA_CONTEXT);
    expect(summary.outcomes).toEqual({ 'not-delivered': 1 });
    expect(h.metrics.total(CONFIRM_METRICS.outcomes['not-delivered'])).toBe(2);
    const open = (await h.store.incidents.list('contoso', { status: 'open' })).items;
    expect(open.map((i) => [i.check, i.subject, i.problem])).toEqual([
      [CONFIRMATION_CHECK, 'submission:app@contoso.example', 'not-delivered'],
    ]);
    expect(h.notifier.sent.map((a) => a.kind)).toEqual(['opened']);
    expect(h.metrics.total(METRICS.alertsSent)).toBe(1);

    const before = await h.confirmations();
    const again = await h.confirm(tick, LAMBDA_CONTEXT);
    expect(again.outcomes).toEqual({});
    expect(await h.confirmations()).toEqual(before);
    expect(h.notifier.sent).toHaveLength(1);
  });

  it('counts the observations of a tick that runs late (after a newer one) at the time it ran, not as stale', async () => {
    const h = setup();
    await h.sendProbe('p1');
    h.tick(31 * 60_000);
    await h.confirm({ time: '2026-11-27T18:31:00Z' }, LAMBDA_CONTEXT);
    await h.sendProbe('p2');
    h.tick(31 * 60_000);
    // A tick scheduled before the first one's, delivered late (a scheduler retry), runs now.
    const late = await h.confirm({ time: '2026-11-27T18:30:00Z' }, LAMBDA_CONTEXT);
    expect(late.outcomes).toEqual({ 'not-delivered': 1 });
    expect((await h.store.incidents.list('contoso', { status: 'open' })).items.map((i) => i.problem)).toEqual([
      'not-delivered',
    ]);
  });

  it('records a mailbox failure as unknown: the run succeeds, nothing opens, the probe is looked for again', async () => {
    const h = setup();
    await h.sendProbe('p1');
    h.mailbox.failing = { ok: false, reason: 'token', message: 'AADSTS7000215: Invalid client secret provided' };
    for (const minutes of [40, 15, 15]) {
      const summary = await h.confirm(h.tick(minutes * 60_000), LAMBDA_CONTEXT);
      expect(summary.outcomes).toEqual({ 'confirmation-unknown': 1 });
    }
    expect(h.metrics.total(CONFIRM_METRICS.outcomes['confirmation-unknown'])).toBe(3);
    expect((await h.store.incidents.list('contoso')).items).toEqual([]);
    expect(h.notifier.sent).toEqual([]);
    expect(h.logger.lines.filter((l) => l.message === 'probe mailbox not read')).toHaveLength(3);
    expect((await outstandingProbes(h.store.results, 'contoso', new Date(0))).map((p) => p.probeId)).toEqual(['p1']);
    h.mailbox.failing = null;
    h.deliver('p1', AR_SPF_SOFTFAIL_DMARC_FAIL, 0);
    const found = await h.confirm(h.tick(60_000), LAMBDA_CONTEXT);
    expect(found.outcomes).toEqual({ 'auth-failing': 1 });
  });

  it('records each verdict once when two ticks overlap, and the run that left a probe leaves its message too', async () => {
    const h = setup();
    for (const p of ['p1', 'p2', 'p3']) {
      await h.sendProbe(p);
      h.deliver(p, AR_ALL_PASS, 20_000);
    }
    h.tick(5 * 60_000);
    const [a, b] = await Promise.all([
      h.confirm({ time: '2026-11-27T18:05:00Z' }, LAMBDA_CONTEXT),
      h.confirm({ time: '2026-11-27T18:06:00Z' }, LAMBDA_CONTEXT),
    ]);
    const recorded = (a.outcomes.delivered ?? 0) + (b.outcomes.delivered ?? 0);
    expect(recorded).toBe(3);
    expect(a.claimedElsewhere + b.claimedElsewhere).toBe(3);
    const verdicts = (await h.confirmations()).filter((c) => c.status !== 'unknown');
    expect(verdicts.map((c) => c.subject).sort()).toEqual(['p1', 'p2', 'p3']);
    expect([...h.mailbox.removed].sort()).toEqual(['graph:p1', 'graph:p2', 'graph:p3']);
  });

  it('leaves probes to the SES receiving domain to ses-inbound, and calls them not-delivered after the deadline', async () => {
    const h = setup({ sesInboundDomain: 'probes.msp.example' });
    await h.sendProbe('s1', 'fabrikam', 'probe@probes.msp.example');
    await h.sendProbe('c1', 'contoso', 'probe@probes.msp.example');
    const early = await h.confirm(h.tick(10 * 60_000), LAMBDA_CONTEXT);
    expect(early.pending).toBe(2);
    expect(h.mailbox.finds).toBe(0);
    const late = await h.confirm(h.tick(25 * 60_000), LAMBDA_CONTEXT);
    expect(late.outcomes).toEqual({ 'not-delivered': 2 });
    expect((await h.confirmations('fabrikam')).map((c) => c.codes)).toEqual([['not-delivered']]);
    expect(h.mailbox.finds).toBe(0);
  });

  it('fails the invocation, logged, when the config cannot be read', async () => {
    const h = setup({ config: 'version: 1\ntenants: nope\n' });
    await expect(h.confirm(h.tick(60_000), LAMBDA_CONTEXT)).rejects.toThrow();
    expect(h.logger.lines.map((l) => l.message)).toContain('confirmation run failed');
  });
});
