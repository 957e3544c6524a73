/**
 * The dispatch: on each schedule tick, reads the config, decides the jobs due for the tick's slot and enqueues them.
 * The slot comes from the event's scheduled time (EventBridge's `time`, or `scheduledTime` from a Scheduler input
 * template), not from the clock, so a late or retried invocation enqueues the same jobs with the same run ids.
 * Jobs that could not be enqueued fail the invocation after the rest are in (the scheduler retries; the copies
 * already enqueued are idempotent by run id).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { METRICS } from '../../shared/deploy/constants.ts';
import type { ConfigSource } from '../../shared/ports/config-source.ts';
import type { JobQueue } from '../../shared/ports/job-queue.ts';
import { type DispatchResult, type DispatchSettings, dispatchCycle } from '../../shared/use-cases/dispatch-cycle.ts';
import type { JobMetrics } from '../worker/worker.ts';

export interface DispatchDeps {
  readonly config: ConfigSource;
  readonly queue: JobQueue;
  readonly settings: DispatchSettings;
  readonly logger: Pick<Logger, 'info' | 'error'>;
  readonly metrics: JobMetrics;
  readonly now: () => Date;
}

/** A scheduled event: EventBridge's `time`, or a Scheduler input with `scheduledTime`. */
export interface ScheduleEvent {
  readonly time?: string;
  readonly scheduledTime?: string;
}

export class DispatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DispatchError';
  }
}

export function makeDispatch(deps: DispatchDeps) {
  return async (event: ScheduleEvent): Promise<DispatchResult> => {
    const raw = event?.scheduledTime ?? event?.time;
    const parsed = raw === undefined ? Number.NaN : Date.parse(raw);
    const scheduledAt = Number.isNaN(parsed) ? deps.now() : new Date(parsed);
    const snapshot = await deps.config.load();
    const result = await dispatchCycle({
      config: snapshot.loaded.config,
      scheduledAt,
      settings: deps.settings,
      queue: deps.queue,
    });
    const enqueued = result.jobs.length - result.failed.length;
    deps.metrics.addMetric(METRICS.jobsEnqueued, 'Count', enqueued);
    deps.logger.info('jobs enqueued', {
      slot: result.slot,
      enqueued,
      tenants: result.jobs.filter((j) => j.kind === 'tenant').length,
      blocklistJobs: result.jobs.filter((j) => j.kind === 'blocklists').length,
      configEtag: snapshot.etag,
    });
    if (result.failed.length > 0) {
      deps.metrics.addMetric(METRICS.jobsNotEnqueued, 'Count', result.failed.length);
      deps.logger.error('jobs not enqueued', {
        failed: result.failed.map((f) => ({ runId: f.job.runId, error: f.error })),
      });
      throw new DispatchError(`${result.failed.length} of ${result.jobs.length} job(s) could not be enqueued`);
    }
    return result;
  };
}
