/**
 * makeWorker with fakes: an in-memory SQLite store, a DNS zone fake (SPF, MX and a DNSBL zone with its RFC 5782 test
 * points), a recording notifier, logger and metrics. The SQS side is the event shape Lambda delivers.
 */
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { makeWorker } from '../../../functions/worker/worker.ts';
import type { InvocationRuntime } from '../../../shared/adapters/lambda-runtime.ts';
import { makeSpfEvaluator } from '../../../shared/adapters/spf/mailauth-spf.ts';
import { openSqliteStore } from '../../../shared/adapters/store/sqlite-store.ts';
import { planBlocklists } from '../../../shared/blocklist/zone-selection.ts';
import { blocklistZones } from '../../../shared/config/blocklists.ts';
import { probeTenants } from '../../../shared/config/tenants.ts';
import { METRICS } from '../../../shared/deploy/constants.ts';
import { blocklistJob, type MonitorJob, probeJob, tenantJob } from '../../../shared/domain/jobs.ts';
import type { Alert, Notifier, SendResult } from '../../../shared/notify/alert.ts';
import { LAB_ZONE_CUSTOM } from '../../support/lab-config.ts';
import { FakeConfigSource, LAMBDA_CONTEXT, RecordingLogger, RecordingMetrics } from '../../support/lambda-fakes.ts';
import { ZoneFake } from '../../support/zone-fake.ts';

const IP = '203.0.113.7';
const WORKER_CONFIG = `
version: 1
msp: { name: Lab MSP, contact: { name: NOC, email: noc@msp.example } }
blocklists:
${LAB_ZONE_CUSTOM}
alerts:
  routes:
    - { id: hook, webhook: { url: { env: HOOK_URL }, secret: { env: HOOK_SECRET } } }
  default: [hook]
tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example], relayIps: [${IP}] }
  - { id: fabrikam, name: Fabrikam, domains: [fabrikam.example], relayIps: [${IP}] }
`;

class RecordingNotifier implements Notifier {
  readonly channel = 'webhook' as const;
  readonly sent: Alert[] = [];
  async send(alert: Alert): Promise<SendResult> {
    this.sent.push(alert);
    return { ok: true };
  }
}

function dns(): ZoneFake {
  return new ZoneFake({
    'contoso.example': [{ TXT: `v=spf1 ip4:${IP} -all` }, { MX: [0, 'contoso-example.mail.protection.outlook.com'] }],
    'fabrikam.example': [{ TXT: `v=spf1 ip4:${IP} -all` }, { MX: [0, 'fabrikam-example.mail.protection.outlook.com'] }],
    '2.0.0.127.lab.bl.test': [{ A: '127.0.0.2' }, { TXT: 'test point' }],
    '7.113.0.203.lab.bl.test': [{ A: '127.0.0.2' }, { TXT: 'listed by the lab trap' }],
  });
}

function setup(configText = WORKER_CONFIG, options: { probes?: boolean } = {}) {
  const store = openSqliteStore({ path: ':memory:' });
  const resolver = dns();
  const notifier = new RecordingNotifier();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  let runtimes = 0;
  let closed = 0;
  const probed: string[] = [];
  let probeStages = 0;
  const worker = makeWorker({
    config: new FakeConfigSource(configText),
    store,
    secrets: async () => ({ env: {} }),
    runtime: async (config): Promise<InvocationRuntime> => {
      runtimes++;
      return {
        checkContext: { resolver, evaluateSpf: makeSpfEvaluator(resolver), now: () => performance.now() },
        blocklists: () =>
          planBlocklists({
            dns: { resolver, description: 'fake', specs: ['udp://127.0.0.1:53'] },
            zones: blocklistZones(config),
            explicit: false,
          }),
        notifierFor: () => notifier,
        probes: options.probes
          ? {
              prober: {
                probe: async (req) => {
                  probed.push(req.tenantId);
                  throw new Error('the fake prober is not reached: the probe cannot resolve its password');
                },
              },
              tokens: {
                getToken: async () => {
                  throw new Error('no tokens in this test');
                },
              },
              resolver,
              now: () => new Date('2026-11-27T18:01:00.000Z'),
              ehloName: () => 'msp.example',
            }
          : null,
        // The real projection: the password's environment variable is unset, so a probe says why it did not run.
        probeTenants: () => {
          probeStages++;
          return probeTenants(config, async () => ({ env: {} }));
        },
        close: async () => {
          closed++;
        },
      };
    },
    logger,
    metrics,
    now: () => new Date('2026-11-27T18:01:00.000Z'),
  });
  return {
    store,
    resolver,
    notifier,
    logger,
    metrics,
    worker,
    probed,
    counts: () => ({ runtimes, closed, probeStages }),
  };
}

const SLOT = new Date('2026-11-27T18:00:00.000Z');
function sqsEvent(bodies: readonly (MonitorJob | string)[]): SQSEvent {
  return {
    Records: bodies.map((b, i) => ({
      messageId: `m-${i}`,
      receiptHandle: `r-${i}`,
      body: typeof b === 'string' ? b : JSON.stringify(b),
      attributes: {} as SQSEvent['Records'][number]['attributes'],
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:jobs',
      awsRegion: 'eu-west-1',
    })),
  };
}

describe('makeWorker', () => {
  it('runs every job of a batch and reports only the bad one as a batch item failure', async () => {
    const w = setup();
    const res = await w.worker(
      sqsEvent([tenantJob(SLOT, 'contoso'), blocklistJob(SLOT, 0, 1), '{"not":"a job"}']),
      LAMBDA_CONTEXT,
    );
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    // Succeeded jobs are counted per group only (no series without the group).
    expect(w.metrics.total(METRICS.jobs.ok)).toBe(0);
    expect(w.metrics.groupTotal(METRICS.jobs.ok, 'checks') + w.metrics.groupTotal(METRICS.jobs.ok, 'blocklists')).toBe(
      2,
    );
    expect(w.metrics.total(METRICS.jobs.failed)).toBe(1);
    expect(w.metrics.total(METRICS.checks.fail)).toBeGreaterThanOrEqual(2); // the listed IP, for both tenants
    // The listing opened one incident per tenant, alerted once each.
    expect(w.notifier.sent.map((a) => a.tenant.id).sort()).toEqual(['contoso', 'fabrikam']);
    expect(w.counts()).toMatchObject({ runtimes: 1, closed: 1 });
  });

  it('appends tenant, check group and run id to the log keys per job and removes them after', async () => {
    const w = setup();
    await w.worker(sqsEvent([tenantJob(SLOT, 'contoso'), blocklistJob(SLOT, 0, 1)]), LAMBDA_CONTEXT);
    const done = w.logger.lines.filter((l) => l.message === 'job done');
    expect(done.map((l) => l.keys)).toEqual([
      { tenant: 'contoso', check: 'checks', runId: tenantJob(SLOT, 'contoso').runId, messageId: 'm-0' },
      { check: 'blocklists', runId: blocklistJob(SLOT, 0, 1).runId, messageId: 'm-1' },
    ]);
    expect(w.logger.lines.filter((l) => l.message === 'domain checked').map((l) => [l.level, l.extra])).toEqual([
      ['debug', { tenant: 'contoso', domain: 'contoso.example', status: expect.any(String) }],
    ]);
    expect([...w.logger.keys]).toEqual([]);
  });

  it('asks each shared IP once per cycle: one blocklist job covers both tenants', async () => {
    const w = setup();
    await w.worker(sqsEvent([blocklistJob(SLOT, 0, 1)]), LAMBDA_CONTEXT);
    expect(w.resolver.log.filter((q) => q.name === '7.113.0.203.lab.bl.test' && q.type === 'A')).toHaveLength(1);
    for (const tenant of ['contoso', 'fabrikam']) {
      const h = await w.store.results.history(tenant, { check: 'blocklist' });
      expect(h.items.map((c) => c.status)).toEqual(['fail']);
    }
  });

  it('writes and sends nothing new when the same message is delivered again', async () => {
    const w = setup();
    const event = sqsEvent([tenantJob(SLOT, 'contoso'), blocklistJob(SLOT, 0, 1)]);
    await w.worker(event, LAMBDA_CONTEXT);
    const before = (await w.store.results.history('contoso', { limit: 1000 })).items.length;
    const incidents = (await w.store.incidents.list('contoso')).items;
    await w.worker(event, LAMBDA_CONTEXT);
    expect((await w.store.results.history('contoso', { limit: 1000 })).items).toHaveLength(before);
    expect((await w.store.incidents.list('contoso')).items).toEqual(incidents);
    expect(w.notifier.sent).toHaveLength(2);
  });

  it('lets a job that arrives after a newer one change nothing (its observations are older than the state)', async () => {
    const w = setup();
    const later = new Date(SLOT.getTime() + 15 * 60_000);
    await w.worker(sqsEvent([blocklistJob(later, 0, 1)]), LAMBDA_CONTEXT);
    const states = await w.store.states.list('contoso');
    const incidents = (await w.store.incidents.list('contoso')).items;
    const res = await w.worker(sqsEvent([blocklistJob(SLOT, 0, 1)]), LAMBDA_CONTEXT);
    expect(res.batchItemFailures).toEqual([]);
    expect(await w.store.states.list('contoso')).toEqual(states);
    expect((await w.store.incidents.list('contoso')).items).toEqual(incidents);
    expect(states.every((s) => s.lastRunId === blocklistJob(later, 0, 1).runId)).toBe(true);
    expect(w.notifier.sent.filter((a) => a.tenant.id === 'contoso')).toHaveLength(1);
  });

  it('fails every job loudly when the config is invalid, and builds no runtime', async () => {
    const w = setup('version: 1\nmsp: { name: x }\ntenants: []\n');
    const res = await w.worker(sqsEvent([tenantJob(SLOT, 'contoso'), blocklistJob(SLOT, 0, 1)]), LAMBDA_CONTEXT);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m-0', 'm-1']);
    expect(w.counts().runtimes).toBe(0);
    expect(w.metrics.total(METRICS.jobs.failed)).toBe(2);
    expect(w.logger.lines.some((l) => l.level === 'error' && /tenants/.test(JSON.stringify(l.extra)))).toBe(true);
  });

  it('skips, and counts, a job for a tenant that left the config', async () => {
    const w = setup();
    const res = await w.worker(sqsEvent([tenantJob(SLOT, 'gone')]), LAMBDA_CONTEXT);
    expect(res.batchItemFailures).toEqual([]);
    expect(w.metrics.total(METRICS.jobs.skipped)).toBe(1);
  });

  describe('the probes group', () => {
    const PROBE_CONFIG = WORKER_CONFIG.replace(
      `  - { id: fabrikam, name: Fabrikam, domains: [fabrikam.example], relayIps: [${IP}] }`,
      `  - id: fabrikam
    name: Fabrikam
    domains: [fabrikam.example]
    relayIps: [${IP}]
    probeRecipients: [probe@fabrikam.example]
    submission: { auth: basic, mailbox: scanner@fabrikam.example, password: { env: FABRIKAM_SMTP } }`,
    );

    it('runs only the submission probe in a probe job: no domain check, only the probe recorded', async () => {
      expect(PROBE_CONFIG).toContain('FABRIKAM_SMTP');
      const w = setup(PROBE_CONFIG, { probes: true });
      const res = await w.worker(sqsEvent([probeJob(SLOT, 'fabrikam')]), LAMBDA_CONTEXT);
      expect(res.batchItemFailures).toEqual([]);
      // No SPF or MX question was asked for the tenant's domain.
      expect(w.resolver.log.filter((q) => q.name === 'fabrikam.example')).toEqual([]);
      const recorded = (await w.store.results.history('fabrikam', { limit: 100 })).items;
      expect(recorded.map((c) => [c.check, c.status])).toEqual([['probe-submission', 'unknown']]);
      expect(recorded[0]?.codes).toEqual(['probe-not-run']);
      const done = w.logger.lines.filter((l) => l.message === 'job done');
      expect(done.map((l) => l.keys)).toEqual([
        { tenant: 'fabrikam', check: 'probes', runId: probeJob(SLOT, 'fabrikam').runId, messageId: 'm-0' },
      ]);
      expect(w.metrics.groupTotal(METRICS.jobs.ok, 'probes')).toBe(1);
      expect(w.metrics.groupTotal(METRICS.jobs.ok, 'checks')).toBe(0);
    });

    it('sends no second probe for a redelivered probe job, and probes again in the next slot', async () => {
      const w = setup(PROBE_CONFIG, { probes: true });
      const event = sqsEvent([probeJob(SLOT, 'fabrikam')]);
      await w.worker(event, LAMBDA_CONTEXT);
      expect(w.counts().probeStages).toBe(1);
      const res = await w.worker(event, LAMBDA_CONTEXT);
      expect(res.batchItemFailures).toEqual([]);
      expect(w.counts().probeStages).toBe(1);
      expect(w.metrics.total(METRICS.jobs.skipped)).toBe(1);
      expect((await w.store.results.history('fabrikam', { limit: 100 })).items).toHaveLength(1);
      const next = new Date(SLOT.getTime() + 240 * 60_000);
      await w.worker(sqsEvent([probeJob(next, 'fabrikam')]), LAMBDA_CONTEXT);
      expect(w.counts().probeStages).toBe(2);
    });

    it('runs no probe in a checks job, even when the deployment probes', async () => {
      const w = setup(PROBE_CONFIG, { probes: true });
      await w.worker(sqsEvent([tenantJob(SLOT, 'fabrikam')]), LAMBDA_CONTEXT);
      const recorded = (await w.store.results.history('fabrikam', { limit: 100 })).items.map((c) => c.check);
      expect(recorded).toContain('spf');
      expect(recorded).not.toContain('probe-submission');
      expect(w.probed).toEqual([]);
      expect(w.metrics.groupTotal(METRICS.jobs.ok, 'checks')).toBe(1);
    });

    it('skips, and counts, a probe job for a tenant without a submission probe', async () => {
      const w = setup(PROBE_CONFIG, { probes: true });
      const res = await w.worker(sqsEvent([probeJob(SLOT, 'contoso')]), LAMBDA_CONTEXT);
      expect(res.batchItemFailures).toEqual([]);
      expect(w.metrics.total(METRICS.jobs.skipped)).toBe(1);
      expect(w.logger.lines.find((l) => l.message === 'job skipped')?.extra).toEqual({
        reason: 'tenant contoso has no submission probe in the config',
      });
      expect((await w.store.results.history('contoso', { limit: 100 })).items).toEqual([]);
    });
  });

  it('counts each finished job under its check group (the only dimension besides the service)', async () => {
    const w = setup();
    await w.worker(sqsEvent([tenantJob(SLOT, 'contoso'), blocklistJob(SLOT, 0, 1)]), LAMBDA_CONTEXT);
    expect(w.metrics.groupTotal(METRICS.jobs.ok, 'checks')).toBe(1);
    expect(w.metrics.groupTotal(METRICS.jobs.ok, 'blocklists')).toBe(1);
    expect(w.metrics.total(METRICS.jobs.ok)).toBe(0);
  });
});
