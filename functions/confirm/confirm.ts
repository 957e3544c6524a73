/**
 * The scheduled confirmation poller: on each tick, looks for every outstanding probe in its tenant's probe mailbox
 * (Graph usually), records what was found or not (`probe-confirmation` results), decides incidents (`not-delivered`,
 * `auth-failing` under the incident policy of every other check) and sends their alerts with claim-before-send;
 * then removes (or moves) the messages that were read. The logic is shared/use-cases/confirm-cycle.ts.
 *
 * The run id comes from the tick's scheduled time (EventBridge's `time`, or Scheduler's `scheduledTime`), so a retried
 * invocation writes the same records (and its observations count once, by run id); overlapping ticks claim each probe's verdict, so one records it. A mailbox or
 * token failure is `unknown` (metric `ConfirmUnknown`), never a failure: the invocation succeeds and the probe is
 * looked for again next tick. The invocation fails (the scheduler retries) only when the config, the secrets or the
 * store fail.
 */
import type { Context } from 'aws-lambda';
import type { MailboxFactory } from '../../shared/adapters/mailbox/lambda-mailboxes.ts';
import type { RelaywatchConfig } from '../../shared/config/schema.ts';
import type { SecretSources } from '../../shared/config/secrets.ts';
import type { ConfirmationCode } from '../../shared/confirm/outcome.ts';
import { CONFIRM_METRICS, METRICS } from '../../shared/deploy/constants.ts';
import type { Notifier } from '../../shared/notify/alert.ts';
import type { ConfigSource } from '../../shared/ports/config-source.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { runConfirmCycle } from '../../shared/use-cases/confirm-cycle.ts';
import type { ScheduleEvent } from '../dispatch/dispatch.ts';
import type { JobLogger, JobMetrics } from '../worker/worker.ts';

export interface ConfirmDeps {
  readonly config: ConfigSource;
  readonly store: Store;
  readonly secrets: (config: RelaywatchConfig) => Promise<SecretSources>;
  readonly mailboxes: MailboxFactory;
  readonly notifiers: (
    config: RelaywatchConfig,
    secrets: SecretSources,
  ) => Promise<(routeId: string) => Notifier | { readonly error: string }>;
  /** The SES receiving domain when the SES inbound path is deployed. */
  readonly sesInboundDomain: string | null;
  readonly logger: JobLogger;
  readonly metrics: JobMetrics;
  readonly now: () => Date;
}

export interface ConfirmSummary {
  readonly runId: string;
  readonly outcomes: Partial<Record<ConfirmationCode, number>>;
  readonly pending: number;
  readonly claimedElsewhere: number;
  readonly alertsSent: number;
  readonly alertsFailed: number;
}

export function makeConfirm(deps: ConfirmDeps) {
  return async (event: ScheduleEvent, context: Context): Promise<ConfirmSummary> => {
    const { logger, metrics } = deps;
    const raw = event?.scheduledTime ?? event?.time;
    const parsed = raw === undefined ? Number.NaN : Date.parse(raw);
    const scheduledAt = Number.isNaN(parsed) ? deps.now() : new Date(parsed);
    const runId = `confirm-${scheduledAt.toISOString()}`;
    // Observations carry the time the run really started, not the tick's: the SES inbound function records the same
    // paths at arrival time, and an observation older than the last one of its path is ignored as late.
    const startedAt = deps.now();
    logger.appendKeys({ runId });
    try {
      const snapshot = await deps.config.load();
      const config = snapshot.loaded.config;
      for (const w of snapshot.loaded.warnings) logger.warn('config warning', { path: w.path, problem: w.message });
      const secrets = await deps.secrets(config);
      const result = await runConfirmCycle({
        config,
        store: deps.store,
        mailboxFor: deps.mailboxes(config, secrets),
        notifierFor: await deps.notifiers(config, secrets),
        sesInboundDomain: deps.sesInboundDomain,
        runId,
        startedAt,
        now: deps.now,
      });
      const outcomes: Partial<Record<ConfirmationCode, number>> = {};
      for (const t of result.confirm.tenants) {
        for (const o of t.outcomes) {
          const code = (o.findings.find((f) => f.severity === 'error') ?? o.findings[0])?.code as ConfirmationCode;
          outcomes[code] = (outcomes[code] ?? 0) + 1;
          logger.info('probe confirmation', {
            tenant: t.tenantId,
            probeId: o.subject,
            status: o.status,
            outcomes: o.findings.map((f) => f.code),
          });
        }
        if (t.mailboxError) logger.warn('probe mailbox not read', { tenant: t.tenantId, error: t.mailboxError });
        if (t.removeError) logger.warn('probe messages not removed', { tenant: t.tenantId, error: t.removeError });
      }
      for (const [code, n] of Object.entries(outcomes) as [ConfirmationCode, number][]) {
        const metric = CONFIRM_METRICS.outcomes[code];
        if (metric && n > 0) metrics.addMetric(metric, 'Count', n);
      }
      const pending = result.confirm.tenants.reduce((n, t) => n + t.pending.length, 0);
      const claimedElsewhere = result.confirm.tenants.reduce((n, t) => n + t.claimedElsewhere.length, 0);
      const dispatches = result.cycle?.dispatches ?? [];
      const alertsSent = dispatches.filter((d) => d.ok === true).length;
      const alertsFailed = dispatches.filter((d) => d.ok === false).length;
      if (pending > 0) metrics.addMetric(CONFIRM_METRICS.pending, 'Count', pending);
      if (claimedElsewhere > 0) metrics.addMetric(CONFIRM_METRICS.claimedElsewhere, 'Count', claimedElsewhere);
      if (alertsSent > 0) metrics.addMetric(METRICS.alertsSent, 'Count', alertsSent);
      if (alertsFailed > 0) metrics.addMetric(METRICS.alertsFailed, 'Count', alertsFailed);
      logger.info('confirmation run done', {
        requestId: context?.awsRequestId,
        ...outcomes,
        pending,
        claimedElsewhere,
        opened: result.cycle?.opened.length ?? 0,
        resolved: result.cycle?.resolved.length ?? 0,
        alertsSent,
        alertsFailed,
      });
      return { runId, outcomes, pending, claimedElsewhere, alertsSent, alertsFailed };
    } catch (err) {
      logger.error('confirmation run failed', {
        error: err instanceof Error ? err.message : String(err),
        errorName: err instanceof Error ? err.name : 'Error',
      });
      throw err;
    } finally {
      logger.removeKeys(['runId']);
    }
  };
}
