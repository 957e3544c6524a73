/**
 * The worker: runs the monitoring jobs of an SQS batch, one after the other (the log keys are per job), with partial
 * batch responses (Powertools batch processing): a job that fails is reported in `batchItemFailures` and retried by
 * SQS (then the DLQ), the others succeed, so one bad tenant never fails the batch.
 *
 * Per invocation: the config is loaded (a conditional S3 read; an invalid document fails every job loudly, never
 * runs half a config), its secrets resolved (Secrets Manager, cached), and one runtime built (a DNS stack whose cache
 * serves every job of the batch, backed by the container's DNS cache when the handler gives one), closed at the end. Per job: tenant, check group and run id are appended to the log
 * keys and removed after; one metric per outcome status is added (the tenant is never a dimension).
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

/** The slice of Powertools' Logger the worker uses (a recording fake in unit tests). */
export type JobLogger = Pick<Logger, 'appendKeys' | 'removeKeys' | 'debug' | 'info' | 'warn' | 'error'>;

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
  readonly logger: JobLogger;
  readonly metrics: GroupMetrics;
  readonly now: () => Date;
}

const JOB_KEYS = ['tenant', 'check', 'runId', 'messageId'];

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
      for (const w of snapshot.loaded.warnings) logger.warn('config warning', { path: w.path, message: w.message });
      runtime = await deps.runtime(config, await deps.secrets(config));
    } catch (err) {
      // Every job of the batch fails (retried, then the DLQ): a worker never runs without a valid config.
      setupError = err instanceof Error ? err : new Error(String(err));
      logger.error('cannot set up the jobs', { error: setupError.message, errorName: setupError.name });
    }
    const processor = new BatchProcessor(EventType.SQS);
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
      logger.appendKeys({
        ...(job.kind !== 'blocklists' ? { tenant: job.tenantId } : {}),
        check: scheduleGroupOf(job),
        runId: job.runId,
        messageId: r.messageId,
      });
      try {
        const result = await runMonitorJob(job, {
          ...runtime,
          config,
          store: deps.store,
          now: deps.now,
          owner: `${job.runId}/${context.awsRequestId}/${r.messageId}`,
        });
        if (result.skipped) {
          metrics.addMetric(METRICS.jobs.skipped, 'Count', 1);
          logger.warn('job skipped', { reason: result.skipped });
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
          for (const d of t.domains)
            logger.debug('domain checked', { tenant: t.id, domain: d.domain, status: d.status });
        }
        logger.info('job done', {
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
        logger.error('job failed', { error: err instanceof Error ? err.message : String(err) });
        throw err;
      } finally {
        logger.removeKeys(JOB_KEYS);
      }
    };
    try {
      return await processPartialResponse(event, record, processor, {
        context,
        processInParallel: false,
        throwOnFullBatchFailure: false,
      });
    } finally {
      await runtime?.close();
    }
  };
}
