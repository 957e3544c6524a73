/**
 * makeWorker with fakes: an in-memory SQLite store, a DNS zone fake (SPF, MX and a DNSBL zone with its RFC 5782 test
 * points), a recording notifier, logger and metrics. The SQS side is the event shape Lambda delivers.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { JOB_CONCURRENCY, makeWorker } from '../../../functions/worker/worker.ts';
import type { InvocationRuntime } from '../../../shared/adapters/lambda-runtime.ts';
import { makeSpfEvaluator } from '../../../shared/adapters/spf/mailauth-spf.ts';
import { openSqliteStore } from '../../../shared/adapters/store/sqlite-store.ts';
import { planBlocklists } from '../../../shared/blocklist/zone-selection.ts';
import { blocklistZones } from '../../../shared/config/blocklists.ts';
import { probeTenants } from '../../../shared/config/tenants.ts';
import { METRICS } from '../../../shared/deploy/constants.ts';
import { blocklistJob, type MonitorJob, probeJob, tenantJob } from '../../../shared/domain/jobs.ts';
import type { Alert, Notifier, SendResult } from '../../../shared/notify/alert.ts';
import type { DnsResolver, DnsResult, RecordType } from '../../../shared/ports/dns-resolver.ts';
import type { ClaimOutcome, Store } from '../../../shared/ports/stores.ts';
import { LAB_ZONE_CUSTOM } from '../../support/lab-config.ts';
import {
  FakeConfigSource,
  HOOK_ALERTS,
  LAB_MSP_LINES,
  LAMBDA_CONTEXT,
  RecordingLogger,
  RecordingMetrics,
  sqsRecord,
} from '../../support/lambda-fakes.ts';
import { ZoneFake } from '../../support/zone-fake.ts';

const IP = '203.0.113.7';
const WORKER_CONFIG = `
${LAB_MSP_LINES}
blocklists:
${LAB_ZONE_CUSTOM}
${HOOK_ALERTS}
tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example], relayIps: [${IP}] }
  - { id: fabrikam, name: Fabrikam, domains: [fabrikam.example], relayIps: [${IP}] }
`;

class RecordingNotifier implements Notifier {
  readonly channel = 'webhook' as const;
  readonly sent: Alert[] = [];
  /** Refuse every send (the route is down). */
  failing = false;
  /** Awaited before a send is recorded (a slow route). */
  before: (alert: Alert) => Promise<void> = async () => {};
  async send(alert: Alert): Promise<SendResult> {
    await this.before(alert);
    if (this.failing) return { ok: false, retryable: true, error: 'the route is down' };
    this.sent.push(alert);
    return { ok: true };
  }
}

/**
 * The zone fake behind a delay per question (as a real resolver answers: later), counting the tenants whose questions
 * are in flight at once: a job asks only its own tenant's names, so two tenants at once means two jobs at once.
 */
class SlowResolver implements DnsResolver {
  readonly #inner: DnsResolver;
  readonly #ms: number;
  readonly #inFlight = new Map<string, number>();
  maxTenantsAtOnce = 0;
  constructor(inner: DnsResolver, ms: number) {
    this.#inner = inner;
    this.#ms = ms;
  }
  describe(): string {
    return 'slow zone fake';
  }
  async query<T extends RecordType>(name: string, type: T): Promise<DnsResult<T>> {
    // `contoso.example`, `contoso-example.mail.protection.outlook.com`: the tenant's own names begin with its id.
    const tenant = name.split(/[.-]/)[0] ?? name;
    this.#inFlight.set(tenant, (this.#inFlight.get(tenant) ?? 0) + 1);
    this.maxTenantsAtOnce = Math.max(this.maxTenantsAtOnce, this.#inFlight.size);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.#ms));
      return await this.#inner.query(name, type);
    } finally {
      const n = (this.#inFlight.get(tenant) ?? 1) - 1;
      if (n === 0) this.#inFlight.delete(tenant);
      else this.#inFlight.set(tenant, n);
    }
  }
}

/** A store that delegates to `store`, with some parts replaced. */
function storeWith(store: Store, parts: Partial<Pick<Store, 'states' | 'deliveries'>>): Store {
  return {
    results: store.results,
    states: parts.states ?? store.states,
    incidents: store.incidents,
    budget: store.budget,
    nonces: store.nonces,
    deliveries: parts.deliveries ?? store.deliveries,
    writeDecision: (w) => store.writeDecision(w),
    prune: (now) => store.prune(now),
    close: () => store.close(),
  };
}

const JOB_KEY_NAMES = ['tenant', 'check', 'runId', 'messageId'] as const;
/** The job keys of a recorded line: what Powertools prints at the line's top level (the extra object merged in). */
function jobKeys(line: { keys: Record<string, string>; extra: unknown }): Record<string, unknown> {
  const all: Record<string, unknown> = { ...line.keys, ...(line.extra as Record<string, unknown> | undefined) };
  return Object.fromEntries(JOB_KEY_NAMES.filter((k) => k in all).map((k) => [k, all[k]]));
}

function dns(): ZoneFake {
  return new ZoneFake({
    'contoso.example': [{ TXT: `v=spf1 ip4:${IP} -all` }, { MX: [0, 'contoso-example.mail.protection.outlook.com'] }],
    'fabrikam.example': [{ TXT: `v=spf1 ip4:${IP} -all` }, { MX: [0, 'fabrikam-example.mail.protection.outlook.com'] }],
    '2.0.0.127.lab.bl.test': [{ A: '127.0.0.2' }, { TXT: 'test point' }],
    '7.113.0.203.lab.bl.test': [{ A: '127.0.0.2' }, { TXT: 'listed by the lab trap' }],
  });
}

interface SetupOptions {
  readonly probes?: boolean;
  readonly jobConcurrency?: number;
  /** Delay every DNS answer by this many ms (jobs then overlap as they do against a real resolver). */
  readonly dnsDelayMs?: number;
  readonly store?: (store: Store) => Store;
  /** The logger the worker gets (default the recording fake). */
  readonly logger?: RecordingLogger | Logger;
}

function setup(configText = WORKER_CONFIG, options: SetupOptions = {}) {
  const sqlite = openSqliteStore({ path: ':memory:' });
  const store: Store = options.store ? options.store(sqlite) : sqlite;
  const zone = dns();
  const slow = options.dnsDelayMs !== undefined ? new SlowResolver(zone, options.dnsDelayMs) : null;
  const resolver: DnsResolver = slow ?? zone;
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
    logger: options.logger ?? logger,
    metrics,
    now: () => new Date('2026-11-27T18:01:00.000Z'),
    ...(options.jobConcurrency !== undefined ? { jobConcurrency: options.jobConcurrency } : {}),
  });
  return {
    store: sqlite,
    resolver: zone,
    slow,
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
  return { Records: bodies.map((b, i) => sqsRecord(typeof b === 'string' ? b : JSON.stringify(b), `m-${i}`)) };
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

  it('puts tenant, check group, run id and message id on every line of a job, and no key on the shared logger', async () => {
    const w = setup();
    await w.worker(sqsEvent([tenantJob(SLOT, 'contoso'), blocklistJob(SLOT, 0, 1)]), LAMBDA_CONTEXT);
    const done = w.logger.lines.filter((l) => l.message === 'job done');
    expect(done.map(jobKeys).sort((a, b) => String(a.messageId).localeCompare(String(b.messageId)))).toEqual([
      { tenant: 'contoso', check: 'checks', runId: tenantJob(SLOT, 'contoso').runId, messageId: 'm-0' },
      { check: 'blocklists', runId: blocklistJob(SLOT, 0, 1).runId, messageId: 'm-1' },
    ]);
    expect(w.logger.lines.filter((l) => l.message === 'domain checked').map((l) => [l.level, l.extra])).toEqual([
      [
        'debug',
        {
          tenant: 'contoso',
          check: 'checks',
          runId: tenantJob(SLOT, 'contoso').runId,
          messageId: 'm-0',
          domain: 'contoso.example',
          status: expect.any(String),
        },
      ],
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
      expect(done.map(jobKeys)).toEqual([
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
        tenant: 'contoso',
        check: 'probes',
        runId: probeJob(SLOT, 'contoso').runId,
        messageId: 'm-0',
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

  describe('the jobs of a batch at once', () => {
    const TENANTS = ['contoso', 'fabrikam', 'northwind', 'tailspin', 'woodgrove', 'litware'];
    const MANY = `
${LAB_MSP_LINES}
${HOOK_ALERTS}
tenants:
${TENANTS.map((t) => `  - { id: ${t}, name: ${t}, domains: [${t}.example], relayIps: [${IP}] }`).join('\n')}
`;
    const manyDns = (w: ReturnType<typeof setup>) => {
      for (const t of TENANTS.slice(2)) {
        w.resolver.set(`${t}.example`, [
          { TXT: `v=spf1 ip4:${IP} -all` },
          { MX: [0, `${t}-example.mail.protection.outlook.com`] },
        ]);
      }
    };

    it(`runs them at once, at most ${JOB_CONCURRENCY} by default or as many as asked`, async () => {
      const jobs = sqsEvent(TENANTS.map((t) => tenantJob(SLOT, t)));
      const dflt = setup(MANY, { dnsDelayMs: 20 });
      manyDns(dflt);
      expect((await dflt.worker(jobs, LAMBDA_CONTEXT)).batchItemFailures).toEqual([]);
      expect(dflt.slow?.maxTenantsAtOnce).toBe(Math.min(JOB_CONCURRENCY, TENANTS.length));
      const two = setup(MANY, { dnsDelayMs: 20, jobConcurrency: 2 });
      manyDns(two);
      expect((await two.worker(jobs, LAMBDA_CONTEXT)).batchItemFailures).toEqual([]);
      expect(two.slow?.maxTenantsAtOnce).toBe(2);
      // Every job ran to its end: its results are stored and it logged that it is done.
      for (const t of TENANTS) {
        expect((await two.store.results.history(t, { check: 'spf' })).items).toHaveLength(1);
      }
      expect(two.logger.lines.filter((l) => l.message === 'job done')).toHaveLength(TENANTS.length);
    });

    it("keeps each job's log keys on its own lines: none bleeds into a job running beside it", async () => {
      const w = setup(MANY, { dnsDelayMs: 20 });
      manyDns(w);
      const event = sqsEvent(TENANTS.map((t) => tenantJob(SLOT, t)));
      await w.worker(event, LAMBDA_CONTEXT);
      expect(w.slow?.maxTenantsAtOnce).toBeGreaterThan(1);
      const expected = new Map(
        TENANTS.map((t, i) => [
          `m-${i}`,
          { tenant: t, check: 'checks', runId: tenantJob(SLOT, t).runId, messageId: `m-${i}` },
        ]),
      );
      const lines = w.logger.lines.filter((l) => l.message === 'job done' || l.message === 'domain checked');
      expect(lines).toHaveLength(2 * TENANTS.length);
      for (const line of lines) {
        const keys = jobKeys(line);
        expect(keys).toEqual(expected.get(String(keys.messageId)));
        if (line.message === 'domain checked') {
          expect((line.extra as { domain: string }).domain).toBe(`${keys.tenant}.example`);
        }
      }
      // One "job done" per job, each under its own message id (a shared key set would show one job's id twice).
      const done = w.logger.lines.filter((l) => l.message === 'job done').map((l) => String(jobKeys(l).messageId));
      expect(done.sort()).toEqual([...expected.keys()].sort());
      expect([...w.logger.keys]).toEqual([]);
    });

    it("prints each job's keys with Powertools' Logger too, and leaves none on it", async () => {
      const out: string[] = [];
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      });
      // Powertools writes WARN and ERROR lines to stderr.
      const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      });
      try {
        const logger = new Logger({ serviceName: 'worker-test', logLevel: 'DEBUG' });
        const w = setup(MANY, { dnsDelayMs: 20, logger });
        manyDns(w);
        await w.worker(sqsEvent(TENANTS.map((t) => tenantJob(SLOT, t))), LAMBDA_CONTEXT);
        logger.info('after the batch');
      } finally {
        write.mockRestore();
        writeErr.mockRestore();
      }
      const lines = out
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const done = lines.filter((l) => l.message === 'job done');
      expect(done.map((l) => [l.messageId, l.tenant]).sort()).toEqual(TENANTS.map((t, i) => [`m-${i}`, t]).sort());
      for (const l of lines.filter((x) => x.message === 'domain checked')) {
        expect(l.domain).toBe(`${String(l.tenant)}.example`);
        expect(l.runId).toBe(tenantJob(SLOT, String(l.tenant)).runId);
      }
      // Powertools drops a key named `message` (its own): a config warning's text travels as `problem`.
      const warning = lines.find((l) => l.message === 'config warning');
      expect(String(warning?.path)).toMatch(/^tenants\[\d\]\.relayIps\[0\]$/);
      expect(typeof warning?.problem).toBe('string');
      expect(String(warning?.problem).length).toBeGreaterThan(8);
      const after = lines.find((l) => l.message === 'after the batch');
      expect(after).toBeDefined();
      for (const k of JOB_KEY_NAMES) expect(after).not.toHaveProperty(k);
    });

    it('fails only the record of the job that fails, while the jobs beside it finish', async () => {
      const w = setup(MANY, {
        dnsDelayMs: 20,
        store: (s) =>
          storeWith(s, {
            states: {
              list: async (tenantId) => {
                if (tenantId === 'fabrikam') throw new Error('the table is throttled for fabrikam');
                return s.states.list(tenantId);
              },
              put: (state, v) => s.states.put(state, v),
            },
          }),
      });
      manyDns(w);
      const res = await w.worker(sqsEvent(TENANTS.map((t) => tenantJob(SLOT, t))), LAMBDA_CONTEXT);
      expect(w.slow?.maxTenantsAtOnce).toBeGreaterThan(1);
      expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
      expect(w.metrics.total(METRICS.jobs.failed)).toBe(1);
      expect(w.metrics.groupTotal(METRICS.jobs.ok, 'checks')).toBe(TENANTS.length - 1);
      const failed = w.logger.lines.filter((l) => l.message === 'job failed');
      expect(failed.map(jobKeys)).toEqual([
        { tenant: 'fabrikam', check: 'checks', runId: tenantJob(SLOT, 'fabrikam').runId, messageId: 'm-1' },
      ]);
      expect(failed[0]?.extra).toMatchObject({ error: 'the table is throttled for fabrikam' });
      for (const t of TENANTS.filter((x) => x !== 'fabrikam')) {
        expect((await w.store.states.list(t)).map((x) => x.check).sort()).toEqual(['mx', 'spf']);
      }
      expect(await w.store.states.list('fabrikam')).toEqual([]);
      expect(w.counts()).toMatchObject({ runtimes: 1, closed: 1 });
    });

    it('sends an alert that two jobs of the batch find due once: the one that claims it first sends it', async () => {
      const outcomes: ClaimOutcome['status'][] = [];
      let claimed: () => void = () => {};
      const secondClaim = new Promise<void>((resolve) => {
        claimed = resolve;
      });
      const w = setup(WORKER_CONFIG, {
        store: (s) =>
          storeWith(s, {
            deliveries: {
              ...s.deliveries,
              claim: async (...args) => {
                const outcome = await s.deliveries.claim(...args);
                if (args[0] === 'contoso') {
                  outcomes.push(outcome.status);
                  if (outcomes.length === 2) claimed();
                }
                return outcome;
              },
            },
          }),
      });
      // The listing opens an incident per tenant; the route is down, so both alerts stay due.
      w.notifier.failing = true;
      await w.worker(sqsEvent([blocklistJob(SLOT, 0, 1)]), LAMBDA_CONTEXT);
      expect(w.notifier.sent).toEqual([]);
      outcomes.length = 0;
      // Next slot: contoso's checks job and the sweep run at once, and both find contoso's alert due. The route is
      // slow: the first send waits until the other job has tried to claim it too (or 2 s).
      w.notifier.failing = false;
      w.notifier.before = async (alert) => {
        if (alert.tenant.id === 'contoso') await Promise.race([secondClaim, new Promise((r) => setTimeout(r, 2000))]);
      };
      const next = new Date(SLOT.getTime() + 15 * 60_000);
      const res = await w.worker(sqsEvent([tenantJob(next, 'contoso'), blocklistJob(next, 0, 1)]), LAMBDA_CONTEXT);
      expect(res.batchItemFailures).toEqual([]);
      expect(outcomes.sort()).toEqual(['claimed', 'held']);
      expect(w.notifier.sent.map((a) => a.tenant.id).sort()).toEqual(['contoso', 'fabrikam']);
      const key = w.notifier.sent.find((a) => a.tenant.id === 'contoso')?.delivery?.key;
      expect(key).toBeDefined();
      // The job that held back left it to the sender, which recorded it: later cycles never send it again.
      for (const minutes of [30, 45]) {
        const later = new Date(SLOT.getTime() + minutes * 60_000);
        await w.worker(sqsEvent([tenantJob(later, 'contoso'), blocklistJob(later, 0, 1)]), LAMBDA_CONTEXT);
      }
      expect(w.notifier.sent.filter((a) => a.delivery?.key === key)).toHaveLength(1);
      // Both jobs' states are there, side by side in the tenant's partition: the checks job's SPF and MX, the sweep's.
      expect(new Set((await w.store.states.list('contoso')).map((x) => x.check))).toEqual(
        new Set(['blocklist', 'mx', 'spf']),
      );
    });
  });
});
