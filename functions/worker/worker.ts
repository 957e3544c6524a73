/**
 * The worker: runs the monitoring jobs of an SQS batch at once (at most {@link JOB_CONCURRENCY}; a blocklist job, which
 * sweeps every tenant, one at a time), with partial batch responses (Powertools batch processing): a job that fails
 * is reported in `batchItemFailures` and retried by SQS (then the DLQ), the others succeed, so one bad tenant never
 * fails the batch.
 *
 * Per invocation: the config is loaded (a conditional S3 read; an invalid document fails every job loudly, never
 * runs half a config), its secrets resolved (Secrets Manager, cached), and one runtime built (a DNS stack whose cache
 * serves every job of the batch, backed by the container's DNS cache when the handler gives one; its `dns.concurrency`
 * bounds the queries in flight for all the jobs together), closed at the end. Per job: tenant, check group, run id
 * and message id go on every line the job logs, passed with the line (never appended to the shared logger, whose keys
 * concurrent jobs would overwrite); one metric per outcome status is added (the tenant is never a dimension).
 *
 * Two jobs of a batch may be for one tenant (its checks and its probe, or a blocklist sweep): their writes are safe
 * at once as they are across workers: each decision is a version-conditional write (a lost race is a conflict, the
 * observation left to the next run), and each alert is claimed under its delivery key by its job's own owner
 * (run, request and message id) before it is sent, so of two jobs that find one alert due, one sends it.
 *
 * The alert step runs in the worker, after the job's results and decisions are written (see docs/architecture.md).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { InvocationRuntime } from '../../shared/adapters/lambda-runtime.ts';
import type { RelaywatchConfig } from '../../shared/config/schema.ts';
import type { SecretSources } from '../../shared/config/secrets.ts';
import { METRICS, type ScheduleGroup } from '../../shared/deploy/constants.ts';
import { parseJob, scheduleGroupOf } from '../../shared/domain/jobs.ts';
import type { CheckStatus } from '../../shared/domain/outcome.ts';
import type { ConfigSource } from '../../shared/ports/config-source.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { type MonitorJobResult, runMonitorJob } from '../../shared/use-cases/monitor-job.ts';

/** The slice of Powertools' Logger the functions use (a recording fake in unit tests). */
export type JobLogger = Pick<Logger, 'appendKeys' | 'removeKeys' | 'debug' | 'info' | 'warn' | 'error'>;

/** What the worker logs through: lines only (its per-job keys go on each line, never on the shared logger). */
export type LineLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/**
 * Jobs of one invocation run at once, at most this many. A tenant job mostly waits (DNS answers, DynamoDB), so a few
 * at once cut a batch's time to about that of its slowest job; more gain little: they share the invocation's DNS
 * stack (`dns.concurrency`, 32 queries in flight by default, which a handful of jobs fill) and the container's one
 * CPU, and each holds its reports until it is recorded. 5 is the deployment's default batch size (`worker.batchSize`):
 * a default batch runs whole at once, a batch of 10 (the maximum) five at a time.
 */
export const JOB_CONCURRENCY = 5;

/** The slice of Powertools' Metrics the worker uses. */
export interface JobMetrics {
  addMetric(name: string, unit: 'Count', value: number): void;
}

/** With the per-group count of the worker and dispatch. */
export interface GroupMetrics extends JobMetrics {
  /**
   * A count with the check group as its one extra dimension (a Powertools single metric): what the per-group "no
   * cycle finished" alarms watch. Never the tenant.
   */
  addGroupMetric(name: string, group: ScheduleGroup, value: number): void;
}

export interface WorkerDeps {
  readonly config: ConfigSource;
  readonly store: Store;
  readonly secrets: (config: RelaywatchConfig) => Promise<SecretSources>;
  readonly runtime: (config: RelaywatchConfig, secrets: SecretSources) => Promise<InvocationRuntime>;
  readonly logger: LineLogger;
  readonly metrics: GroupMetrics;
  readonly now: () => Date;
  /** Jobs at once per invocation (default {@link JOB_CONCURRENCY}). */
  readonly jobConcurrency?: number;
}

/** At most `limit` calls of `work` at once; the others wait their turn, in order. */
function limiter(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (work) => {
    if (active < limit) active++;
    // A finished call hands its slot straight to the next one waiting (active stays as it is).
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

type Level = 'debug' | 'info' | 'warn' | 'error';
type JobLog = Record<Level, (message: string, extra?: Record<string, unknown>) => void>;

/** A logger that puts the job's keys on every line (Powertools merges the object into the line's top level). */
function jobLogger(logger: LineLogger, keys: Readonly<Record<string, string>>): JobLog {
  const line =
    (level: Level) =>
    (message: string, extra: Record<string, unknown> = {}): void =>
      logger[level](message, { ...keys, ...extra });
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

function statusCounts(result: MonitorJobResult): Record<CheckStatus, number> {
  const c: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, unknown: 0 };
  for (const r of result.reports) {
    for (const d of r.domains) for (const x of d.checks) c[x.status]++;
    for (const x of r.checks) c[x.status]++;
  }
  return c;
}

export function makeWorker(deps: WorkerDeps) {
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const { logger, metrics } = deps;
    let runtime: InvocationRuntime | undefined;
    let config: RelaywatchConfig | undefined;
    let setupError: Error | undefined;
    try {
      const snapshot = await deps.config.load();
      config = snapshot.loaded.config;
      for (const w of snapshot.loaded.warnings) logger.warn('config warning', { path: w.path, problem: w.message });
      runtime = await deps.runtime(config, await deps.secrets(config));
    } catch (err) {
      // Every job of the batch fails (retried, then the DLQ): a worker never runs without a valid config.
      setupError = err instanceof Error ? err : new Error(String(err));
      logger.error('cannot set up the jobs', { error: setupError.message, errorName: setupError.name });
    }
    const processor = new BatchProcessor(EventType.SQS);
    const slot = limiter(Math.max(1, deps.jobConcurrency ?? JOB_CONCURRENCY));
    // A blocklist job checks every tenant's SPF and sweeps their IPs (the memory of a CLI run): one at a time.
    const sweep = limiter(1);
    const record = async (r: SQSRecord): Promise<void> => {
      if (setupError || !runtime || !config) {
        metrics.addMetric(METRICS.jobs.failed, 'Count', 1);
        throw setupError ?? new Error('no runtime');
      }
      let job: ReturnType<typeof parseJob>;
      try {
        job = parseJob(r.body);
      } catch (err) {
        metrics.addMetric(METRICS.jobs.failed, 'Count', 1);
        logger.error('not a job', { messageId: r.messageId, error: err instanceof Error ? err.message : String(err) });
        throw err;
      }
      const log = jobLogger(logger, {
        ...(job.kind !== 'blocklists' ? { tenant: job.tenantId } : {}),
        check: scheduleGroupOf(job),
        runId: job.runId,
        messageId: r.messageId,
      });
      const jobDeps = {
        ...runtime,
        config,
        store: deps.store,
        now: deps.now,
        owner: `${job.runId}/${context.awsRequestId}/${r.messageId}`,
      };
      const run = () => slot(() => runMonitorJob(job, jobDeps));
      try {
        const result = await (job.kind === 'blocklists' ? sweep(run) : run());
        if (result.skipped) {
          metrics.addMetric(METRICS.jobs.skipped, 'Count', 1);
          log.warn('job skipped', { reason: result.skipped });
          return;
        }
        const counts = statusCounts(result);
        for (const status of ['pass', 'warn', 'fail', 'unknown'] as const) {
          if (counts[status] > 0) metrics.addMetric(METRICS.checks[status], 'Count', counts[status]);
        }
        const sent = result.cycle?.dispatches.filter((d) => d.ok === true).length ?? 0;
        const notSent = result.cycle?.dispatches.filter((d) => d.ok === false).length ?? 0;
        if (sent > 0) metrics.addMetric(METRICS.alertsSent, 'Count', sent);
        if (notSent > 0) metrics.addMetric(METRICS.alertsFailed, 'Count', notSent);
        // Only per group (the alarms' metric; their sum is the total): a metric series without the group as well
        // would cost $0.30 a month and tell nothing more (docs/deploy.md, "Cost").
        metrics.addGroupMetric(METRICS.jobs.ok, scheduleGroupOf(job), 1);
        // Per domain at debug level only: the results are stored, and at INFO these lines were nearly half the
        // worker's log bytes (POWERTOOLS_LOG_LEVEL=DEBUG shows them).
        for (const t of result.reports) {
          for (const d of t.domains) log.debug('domain checked', { tenant: t.id, domain: d.domain, status: d.status });
        }
        log.info('job done', {
          tenants: result.tenants.length,
          stored: result.cycle?.stored ?? 0,
          opened: result.cycle?.opened.length ?? 0,
          resolved: result.cycle?.resolved.length ?? 0,
          alertsSent: sent,
          alertsFailed: notSent,
          ...counts,
        });
      } catch (err) {
        metrics.addMetric(METRICS.jobs.failed, 'Count', 1);
        log.error('job failed', { error: err instanceof Error ? err.message : String(err) });
        throw err;
      }
    };
    try {
      return await processPartialResponse(event, record, processor, {
        context,
        // Every record's handler starts at once; `slot` bounds how many run (Powertools' own option has no bound).
        processInParallel: true,
        throwOnFullBatchFailure: false,
      });
    } finally {
      await runtime?.close();
    }
  };
}
