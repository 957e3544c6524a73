/**
 * The weekly digest function: on the weekly schedule, reads the config, builds the last complete week's digest from
 * the store, writes the report page (every tenant) to the config bucket and signs a 7-day report link to it (served by
 * functions/report-link/, which redirects to a fresh pre-signed S3 GET), then sends the
 * MSP-wide digest (with the link) to the MSP's recipients and each switched-on tenant's digest (its own data only, no
 * link) to that tenant's recipients, through the e-mail routes of the config's `digest` section.
 *
 * Idempotent under retries: the week comes from the event's scheduled time (not the clock), so a retried or late
 * invocation reports the same week, overwrites the same report object and claims the same (week, audience, recipient)
 * keys before sending (`shared/use-cases/send-digest-once.ts`): a recipient already sent to is never sent to again.
 * An e-mail that failed releases its claims and fails the invocation after the others are sent (Lambda retries it;
 * only what is missing goes out then).
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { AlertRouteConfig } from '../../shared/config/schema.ts';
import type { SecretSources } from '../../shared/config/secrets.ts';
import { METRICS } from '../../shared/deploy/constants.ts';
import { digestEmail } from '../../shared/digest/message.ts';
import { digestTenantInputs, sendPlan } from '../../shared/digest/plan.ts';
import { reportObjectKey, signReportLink } from '../../shared/digest/report-link.ts';
import { digestScheduleDrift, previousWeek } from '../../shared/digest/week.ts';
import type { SendResult } from '../../shared/notify/alert.ts';
import type { AlertEmail } from '../../shared/notify/email.ts';
import type { ConfigSource } from '../../shared/ports/config-source.ts';
import type { ReportBucket } from '../../shared/ports/report-bucket.ts';
import type { DeliveryStore } from '../../shared/ports/stores.ts';
import {
  buildDigest,
  type DigestDelivery,
  type DigestStore,
  renderReport,
  type SendDigest,
  sendDigests,
} from '../../shared/use-cases/build-digest.ts';
import { type ClaimTally, sendOncePerRecipient } from '../../shared/use-cases/send-digest-once.ts';
import type { ScheduleEvent } from '../dispatch/dispatch.ts';
import type { JobMetrics } from '../worker/worker.ts';

/** The one thing the digest asks of an e-mail route: send this message (the EmailNotifier's `deliver`). */
export interface DigestMailer {
  deliver(message: AlertEmail): Promise<SendResult>;
}

export interface DigestFunctionDeps {
  readonly config: ConfigSource;
  readonly store: DigestStore & { readonly deliveries: Pick<DeliveryStore, 'claim' | 'complete' | 'release'> };
  readonly reports: Pick<ReportBucket, 'put'>;
  /** The report link's HMAC key (Secrets Manager, shared with the report-link function). */
  readonly reportLinkSecret: () => Promise<string>;
  /** The secrets of these routes only (an SMTP password; SES routes need none). */
  readonly secrets: (routes: readonly AlertRouteConfig[]) => Promise<SecretSources>;
  readonly mailer: (route: AlertRouteConfig, sources: SecretSources) => Promise<DigestMailer>;
  readonly settings: {
    /** Key prefix of the report pages, ending in '/'. */
    readonly reportPrefix: string;
    /** Lifetime of the e-mail's report link (at most 604,800 s). */
    readonly reportUrlSeconds: number;
    /** The HTTP API's base URL (`https://…/`) the report link is served under (functions/report-link/). */
    readonly reportLinkBaseUrl: string;
    /** Claim lease: longer than one e-mail's send (the claims are taken just before it, completed just after). */
    readonly leaseMs: number;
  };
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly metrics: JobMetrics;
  readonly now: () => Date;
}

export interface DigestRunResult {
  readonly status: 'sent' | 'off';
  readonly week: string | null;
  readonly reportKey: string | null;
  readonly deliveries: readonly DigestDelivery[];
  readonly recipientsSent: number;
  readonly recipientsAlreadySent: number;
}

export class DigestRunError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestRunError';
  }
}

export function makeDigest(deps: DigestFunctionDeps) {
  return async (event: ScheduleEvent, context: Pick<Context, 'awsRequestId'>): Promise<DigestRunResult> => {
    const { logger, metrics } = deps;
    const raw = event?.scheduledTime ?? event?.time;
    const parsed = raw === undefined ? Number.NaN : Date.parse(raw);
    const scheduledAt = Number.isNaN(parsed) ? deps.now() : new Date(parsed);
    const snapshot = await deps.config.load();
    const config = snapshot.loaded.config;
    for (const w of snapshot.loaded.warnings) logger.warn('config warning', { path: w.path, problem: w.message });
    if (!config.digest?.enabled) {
      logger.info('digest off', { reason: config.digest ? 'digest.enabled is false' : 'no digest section' });
      return {
        status: 'off',
        week: null,
        reportKey: null,
        deliveries: [],
        recipientsSent: 0,
        recipientsAlreadySent: 0,
      };
    }
    const digest = config.digest;
    // Every setting the send needs is checked before anything is read or written (DigestConfigError names it).
    const plan = sendPlan(config, null);
    const week = previousWeek(scheduledAt.getTime(), digest.timeZone);
    // The schedule is deployed from the stage config (cdk), the document says when it wants the digest: say so when
    // the two disagree (the week reported is the same; only the hour of sending is not what the document reads).
    const drift = Number.isNaN(parsed) ? null : digestScheduleDrift(parsed, digest);
    if (drift) {
      logger.warn('digest schedule differs from the config document', {
        expected: `${drift.expected} ${digest.timeZone} (digest.day, digest.time, digest.timeZone)`,
        actual: `${drift.actual} ${digest.timeZone}`,
        fix: 'set schedules.digest (day, hour, minute, timeZone) in the stage config to match, then cdk deploy',
      });
    }
    const built = await buildDigest({
      store: deps.store,
      tenants: digestTenantInputs(config),
      week,
      msp: { name: config.msp.name, accentColor: digest.accentColor, contactEmail: config.msp.contact.email },
      reportUrl: null,
      settings: { agentSilenceHours: digest.agentSilenceHours, certificateWarningDays: digest.certificateWarningDays },
      now: deps.now,
    });
    const reportKey = reportObjectKey(week.id);
    if (reportKey === null || !reportKey.startsWith(deps.settings.reportPrefix)) {
      throw new DigestRunError(`no report link can name week ${week.id} under ${deps.settings.reportPrefix}`);
    }
    // The key first: a missing or unreadable key fails the run before anything is written or sent.
    const linkSecret = await deps.reportLinkSecret();
    await deps.reports.put(reportKey, renderReport(built));
    // A durable link through the HTTP API (not an S3 pre-signed URL: one signed with this role's temporary
    // credentials dies with them, hours later). The report-link function redirects it to a fresh pre-signed GET.
    const path = signReportLink(
      { week: week.id, expiresAt: new Date(deps.now().getTime() + deps.settings.reportUrlSeconds * 1000) },
      linkSecret,
    );
    const reportUrl = `${withoutTrailingSlashes(deps.settings.reportLinkBaseUrl)}${path}`;
    // The link goes into the MSP-wide digest only (the per-tenant renderers never read reportUrl: the page holds
    // every tenant's data).
    const withLink = { ...built, meta: { ...built.meta, reportUrl } };

    const used = [plan.mspRoute, plan.tenantRoute].filter((r): r is AlertRouteConfig => r !== null);
    const sources = await deps.secrets([...new Map(used.map((r) => [r.id, r])).values()]);
    const mailers = new Map<string, Promise<DigestMailer>>();
    const send: SendDigest = async (audience, message) => {
      const route = audience === 'msp' ? plan.mspRoute : plan.tenantRoute;
      if (!route?.email) return { ok: false, detail: 'no e-mail route' };
      let mailer = mailers.get(route.id);
      if (!mailer) {
        mailer = deps.mailer(route, sources);
        mailers.set(route.id, mailer);
      }
      const r = await (await mailer).deliver(digestEmail(route, withLink.meta, audience, message, ''));
      return r.ok ? { ok: true, detail: r.detail ?? 'accepted' } : { ok: false, detail: r.error };
    };
    const tally: ClaimTally = { sent: 0, alreadySent: 0, held: 0 };
    const once = sendOncePerRecipient(
      send,
      {
        deliveries: deps.store.deliveries,
        week: week.id,
        owner: `digest/${week.id}/${context.awsRequestId}`,
        now: deps.now,
        leaseMs: deps.settings.leaseMs,
      },
      tally,
    );
    const deliveries = await sendDigests(withLink, plan.recipients, once);
    const failed = deliveries.filter((d) => !d.ok);
    if (tally.sent > 0) metrics.addMetric(METRICS.digest.sent, 'Count', tally.sent);
    if (tally.alreadySent > 0) metrics.addMetric(METRICS.digest.alreadySent, 'Count', tally.alreadySent);
    if (failed.length > 0) metrics.addMetric(METRICS.digest.failed, 'Count', failed.length);
    for (const d of deliveries) {
      // Recipient addresses stay out of the logs; the audience (a tenant id or 'msp') and the count say enough.
      const fields = { week: week.id, audience: d.audience, recipients: d.to.length, detail: d.detail };
      if (d.ok) logger.info('digest sent', fields);
      else logger.error('digest not sent', fields);
    }
    logger.info('digest run done', {
      week: week.id,
      reportKey,
      tenants: built.tenants.length,
      needingAttention: built.totals.needingAttention,
      emails: deliveries.length,
      failed: failed.length,
      recipientsSent: tally.sent,
      recipientsAlreadySent: tally.alreadySent,
      recipientsHeld: tally.held,
      skipped: plan.skipped.length,
    });
    if (failed.length > 0) {
      throw new DigestRunError(
        `${failed.length} of ${deliveries.length} digest e-mail(s) not sent (${failed.map((f) => f.audience).join(', ')}); a retry sends only those`,
      );
    }
    return {
      status: 'sent',
      week: week.id,
      reportKey,
      deliveries,
      recipientsSent: tally.sent,
      recipientsAlreadySent: tally.alreadySent,
    };
  };
}

/** `https://api.example/` → `https://api.example`, in one pass (a `/\/+$/` regex is quadratic on many slashes). */
function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 0x2f) end--;
  return url.slice(0, end);
}
