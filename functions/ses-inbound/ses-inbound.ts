/**
 * The SES inbound function: invoked by the SES receipt rule's Lambda action (event type `Event`) after the rule's
 * S3 action stored the message at `<bucket>/<prefix><messageId>`. Per record: the message's head is read from S3
 * (bounded: a ranged read of the header block, whatever the message's size), parsed (shared/use-cases/ses-inbound.ts:
 * SES's own Authentication-Results, the spam verdict, the probe header), matched to its outstanding probe and
 * recorded with the incident decisions and alerts (claim-before-send); see shared/use-cases/confirm-cycle.ts.
 *
 * A message that is no probe of ours (spam to the receiving domain, a probe confirmed already) is dropped with a log
 * line and writes nothing; when the SES event's own headers are complete and carry no `X-Relaywatch-Probe`, S3 is not
 * even read. An S3 read that fails fails the invocation (Lambda retries an asynchronous event twice). The run id is
 * the SES message id, so a retried event writes the same records.
 */
import type { Context, SESEvent, SESEventRecord } from 'aws-lambda';
import type { RawRead } from '../../shared/adapters/mailbox/s3-raw-message.ts';
import type { RelaywatchConfig } from '../../shared/config/schema.ts';
import type { SecretSources } from '../../shared/config/secrets.ts';
import { CONFIRM_METRICS, METRICS } from '../../shared/deploy/constants.ts';
import type { Notifier } from '../../shared/notify/alert.ts';
import type { ConfigSource } from '../../shared/ports/config-source.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { runInboundConfirmation } from '../../shared/use-cases/confirm-cycle.ts';
import { parseSesInbound } from '../../shared/use-cases/ses-inbound.ts';
import type { JobLogger, JobMetrics } from '../worker/worker.ts';

export interface SesInboundDeps {
  readonly config: ConfigSource;
  readonly store: Store;
  readonly secrets: (config: RelaywatchConfig) => Promise<SecretSources>;
  readonly messages: { keyOf(messageId: string): string; read(messageId: string): Promise<RawRead> };
  readonly notifiers: (
    config: RelaywatchConfig,
    secrets: SecretSources,
  ) => Promise<(routeId: string) => Notifier | { readonly error: string }>;
  readonly logger: JobLogger;
  readonly metrics: JobMetrics;
  readonly now: () => Date;
}

export interface InboundSummary {
  readonly confirmed: { readonly messageId: string; readonly probeId: string; readonly outcomes: string[] }[];
  readonly dropped: { readonly messageId: string; readonly reason: string }[];
}

export class InboundReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InboundReadError';
  }
}

/** The SES event's own header list says there is no probe header (and is not truncated): no need to read S3. */
function surelyNoProbe(r: SESEventRecord): boolean {
  const mail = r.ses?.mail;
  if (mail?.headersTruncated !== false || !Array.isArray(mail.headers)) return false;
  return !mail.headers.some((h) => typeof h?.name === 'string' && h.name.toLowerCase() === 'x-relaywatch-probe');
}

export function makeSesInbound(deps: SesInboundDeps) {
  return async (event: SESEvent, _context: Context): Promise<InboundSummary> => {
    const { logger, metrics } = deps;
    const summary: InboundSummary = { confirmed: [], dropped: [] };
    const records = Array.isArray(event?.Records) ? event.Records : [];
    let loaded: { config: RelaywatchConfig; notifierFor: (id: string) => Notifier | { error: string } } | null = null;
    for (const r of records) {
      const messageId = r.ses?.mail?.messageId;
      if (typeof messageId !== 'string' || messageId === '') {
        logger.warn('not an SES receipt event record', { eventSource: r?.eventSource });
        continue;
      }
      logger.appendKeys({ sesMessageId: messageId });
      const drop = (reason: string) => {
        summary.dropped.push({ messageId, reason });
        metrics.addMetric(CONFIRM_METRICS.inbound.dropped, 'Count', 1);
        logger.info('inbound message dropped', { reason });
      };
      try {
        if (surelyNoProbe(r)) {
          drop('no X-Relaywatch-Probe header: not a probe');
          continue;
        }
        const read = await deps.messages.read(messageId);
        if (!read.ok) {
          metrics.addMetric(CONFIRM_METRICS.inbound.failed, 'Count', 1);
          throw new InboundReadError(`cannot read the stored message: ${read.reason}`);
        }
        if (read.truncated) {
          logger.info('inbound message read in part', {
            bytesRead: read.bytes.byteLength,
            totalBytes: read.totalBytes,
          });
        }
        let arrival: ReturnType<typeof parseSesInbound>;
        try {
          const receivedAt = Date.parse(r.ses.receipt?.timestamp ?? r.ses.mail.timestamp ?? '');
          arrival = parseSesInbound(read.bytes, {
            objectKey: deps.messages.keyOf(messageId),
            receivedAt: Number.isNaN(receivedAt) ? null : new Date(receivedAt).toISOString(),
          });
        } catch (err) {
          if (!(err instanceof TypeError)) throw err;
          drop(`no usable Message-ID (${err.message.slice(0, 120)})`);
          continue;
        }
        if (!arrival.claimed) {
          drop('no X-Relaywatch-Probe header: not a probe');
          continue;
        }
        if (!loaded) {
          const snapshot = await deps.config.load();
          const config = snapshot.loaded.config;
          for (const w of snapshot.loaded.warnings) logger.warn('config warning', { path: w.path, problem: w.message });
          loaded = { config, notifierFor: await deps.notifiers(config, await deps.secrets(config)) };
        }
        const startedAt = deps.now();
        const result = await runInboundConfirmation({
          config: loaded.config,
          store: deps.store,
          notifierFor: loaded.notifierFor,
          arrival,
          runId: `ses-${messageId}`,
          startedAt,
          now: deps.now,
          dropped: drop,
        });
        if (!result.outcome) continue;
        const outcomes = result.outcome.findings.map((f) => f.code);
        summary.confirmed.push({ messageId, probeId: result.outcome.subject, outcomes });
        metrics.addMetric(CONFIRM_METRICS.inbound.confirmed, 'Count', 1);
        const main = result.outcome.findings.find((f) => f.severity === 'error') ?? result.outcome.findings[0];
        const metric = main ? CONFIRM_METRICS.outcomes[main.code as keyof typeof CONFIRM_METRICS.outcomes] : undefined;
        if (metric) metrics.addMetric(metric, 'Count', 1);
        const dispatches = result.cycle?.dispatches ?? [];
        const sent = dispatches.filter((d) => d.ok === true).length;
        const failed = dispatches.filter((d) => d.ok === false).length;
        if (sent > 0) metrics.addMetric(METRICS.alertsSent, 'Count', sent);
        if (failed > 0) metrics.addMetric(METRICS.alertsFailed, 'Count', failed);
        logger.info('probe confirmed on arrival', {
          tenant: arrival.claimed.tenantId,
          probeId: result.outcome.subject,
          status: result.outcome.status,
          outcomes,
          alertsSent: sent,
          alertsFailed: failed,
        });
      } finally {
        logger.removeKeys(['sesMessageId']);
      }
    }
    return summary;
  };
}
