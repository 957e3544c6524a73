/**
 * Generic JSON webhook signed per Standard Webhooks (https://www.standardwebhooks.com/), with the `standardwebhooks`
 * package.
 *
 * Headers: `webhook-id` (the delivery id: derived from the alert's delivery key, one per incident, episode, transition
 * and route, so every retry of the same notification keeps it and receivers can deduplicate on it), `webhook-timestamp` (Unix seconds at sending time; receivers reject more than
 * 5 minutes of skew) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` with the
 * base64-decoded `whsec_…` secret).
 *
 * `buildWebhookPayload` is pure; the payload carries the alert's text as data (JSON-escaped, not rendered).
 */
import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  type Alert,
  type AlertKind,
  type AlertLink,
  type AlertMicrosoftPacket,
  type AlertSeverity,
  DEFAULT_TIMEOUT_MS,
  type Notifier,
  type SendResult,
  safeHttpUrl,
} from './alert.ts';
import type { DestinationPolicy } from './destination.ts';
import { postJson } from './http.ts';

export type WebhookEventType = `relaywatch.incident.${AlertKind}`;

export interface WebhookPayload {
  readonly type: WebhookEventType;
  /** When the event happened (`alert.at`), ISO 8601. */
  readonly timestamp: string;
  readonly data: {
    readonly incidentId: string;
    readonly kind: AlertKind;
    readonly tenant: { readonly id: string; readonly name: string };
    readonly severity: AlertSeverity;
    readonly check: string;
    /** The finding code, diagnosis id or `listed:<zone id>` (what a PSA rule matches); null on test alerts. */
    readonly problem: string | null;
    readonly subject: string;
    readonly title: string;
    readonly what: string;
    readonly why: string;
    readonly remediation: readonly string[];
    /** Only http(s) links. */
    readonly links: readonly AlertLink[];
    /** Untrusted text as received (SMTP reply, TXT record), or null. */
    readonly evidence: string | null;
    readonly openedAt: string;
    readonly at: string;
    /** Who acknowledged the incident, when and why (`relaywatch incidents ack`), or null. */
    readonly acknowledged: { readonly by: string; readonly at: string; readonly note: string | null } | null;
    /** For `resolved`: `passed`, `retired` (no longer monitored) or `closed` (by hand, with who and the note). */
    readonly resolution: {
      readonly kind: 'passed' | 'retired' | 'closed';
      readonly by: string | null;
      readonly note: string | null;
    } | null;
    /**
     * The delisting request, for listings: the RFC 5322 message, the same as text and Markdown, and for Microsoft
     * listings the essentials (IP, code, portal, where to send).
     */
    readonly packet?: {
      readonly filename: string;
      readonly eml: string;
      readonly text: string;
      readonly markdown: string;
      readonly microsoft?: AlertMicrosoftPacket;
    };
  };
}

/**
 * `msg_` + 32 hex characters of SHA-256 over the delivery key: the same for every retry of one notification (the
 * attempt time plays no part). An alert without a delivery key (`notify-test`) hashes its incident id, kind and `at`.
 */
export function deliveryId(alert: Pick<Alert, 'incidentId' | 'kind' | 'at' | 'delivery'>): string {
  const parts = alert.delivery
    ? ['relaywatch', alert.delivery.key]
    : ['relaywatch', alert.incidentId, alert.kind, alert.at];
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}

export function buildWebhookPayload(alert: Alert): WebhookPayload {
  return {
    type: `relaywatch.incident.${alert.kind}`,
    timestamp: alert.at,
    data: {
      incidentId: alert.incidentId,
      kind: alert.kind,
      tenant: { id: alert.tenant.id, name: alert.tenant.name },
      severity: alert.severity,
      check: alert.check,
      problem: alert.problem ?? null,
      subject: alert.subject,
      title: alert.title,
      what: alert.what,
      why: alert.why,
      remediation: [...alert.remediation],
      links: alert.links.flatMap((l) => {
        const url = safeHttpUrl(l.url);
        return url === null ? [] : [{ label: l.label, url }];
      }),
      evidence: alert.evidence,
      openedAt: alert.openedAt,
      at: alert.at,
      acknowledged: alert.acknowledged ? { ...alert.acknowledged } : null,
      resolution:
        alert.kind === 'resolved'
          ? alert.resolution
            ? { ...alert.resolution }
            : { kind: 'passed', by: null, note: null }
          : null,
      ...(alert.packet === null
        ? {}
        : {
            packet: {
              filename: alert.packet.filename,
              eml: alert.packet.eml,
              text: alert.packet.text,
              markdown: alert.packet.markdown,
              ...(alert.packet.microsoft ? { microsoft: { ...alert.packet.microsoft } } : {}),
            },
          }),
    },
  };
}

export interface SignedRequest {
  readonly body: string;
  readonly headers: {
    readonly 'webhook-id': string;
    readonly 'webhook-timestamp': string;
    readonly 'webhook-signature': string;
  };
}

/** The body and Standard Webhooks headers for an alert, signed at `now`. Throws on a malformed secret. */
export function signWebhook(alert: Alert, secret: string, now: Date): SignedRequest {
  const body = JSON.stringify(buildWebhookPayload(alert));
  const id = deliveryId(alert);
  const signature = new Webhook(secret).sign(id, now, body);
  return {
    body,
    headers: {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
}

export interface WebhookNotifierOptions {
  readonly url: string;
  /** `whsec_<base64>` (at least 24 random bytes recommended). */
  readonly secret: string;
  /** Default 10 s. */
  readonly timeoutMs?: number;
  /** For tests: the signing time. */
  readonly clock?: () => Date;
  /** Where it may post (default: public Internet hosts over https only; a lab allows private addresses). */
  readonly destinations?: DestinationPolicy;
}

/** True when `secret` is `whsec_` followed by non-empty standard base64. */
export function isWebhookSecret(secret: string): boolean {
  return /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret) && secret.length > 'whsec_'.length + 3;
}

export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook' as const;
  readonly #url: string;
  readonly #secret: string;
  readonly #timeoutMs: number;
  readonly #clock: () => Date;
  readonly #destinations: DestinationPolicy | undefined;

  constructor(options: WebhookNotifierOptions) {
    this.#url = options.url;
    this.#secret = options.secret;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#clock = options.clock ?? (() => new Date());
    this.#destinations = options.destinations;
  }

  async send(alert: Alert): Promise<SendResult> {
    if (safeHttpUrl(this.#url) === null) {
      return { ok: false, retryable: false, error: 'webhook: the URL is not an http(s) URL' };
    }
    if (!isWebhookSecret(this.#secret)) {
      return { ok: false, retryable: false, error: 'webhook: the secret is not of the form whsec_<base64>' };
    }
    let signed: SignedRequest;
    try {
      signed = signWebhook(alert, this.#secret, this.#clock());
    } catch (error) {
      return { ok: false, retryable: false, error: `webhook: could not sign (${(error as Error).name})` };
    }
    const result = await postJson(this.#url, signed.body, {
      channel: 'webhook',
      timeoutMs: this.#timeoutMs,
      headers: signed.headers,
      ...(this.#destinations ? { destinations: this.#destinations } : {}),
    });
    return result.ok
      ? { ok: true, detail: `${result.detail ?? 'delivered'} (${signed.headers['webhook-id']})` }
      : result;
  }
}
