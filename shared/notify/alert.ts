/**
 * The alert model every notifier renders, the notifier contract, and the helpers the senders share.
 *
 * Every `Alert` field except `incidentId` and `tenant.id` is display text that may come from outside relaywatch
 * (tenant names from config, SMTP replies, DNSBL TXT records): builders escape it for their medium, never trust it.
 */

import { formatSpan } from '../domain/duration.ts';

export type AlertKind = 'opened' | 'reminder' | 'escalated' | 'resolved' | 'flapping' | 'test';
export type AlertSeverity = 'critical' | 'warning' | 'info';
export type Channel = 'slack' | 'teams' | 'email' | 'webhook' | 'file';

export const ALERT_KINDS: readonly AlertKind[] = ['opened', 'reminder', 'escalated', 'resolved', 'flapping', 'test'];

export interface AlertLink {
  readonly label: string;
  readonly url: string;
}

/** A rendered delisting request (see `shared/delist/packet.ts`). */
export interface AlertPacket {
  readonly filename: string;
  /** The RFC 5322 message, as text. */
  readonly eml: string;
  readonly text: string;
  readonly markdown: string;
  /**
   * For Microsoft listings (5.7.606–649, 5.7.511): the essentials a chat message shows inline. Absent for DNSBLs.
   * `portal` is null when the portal cannot be used (5.7.511 banned sender).
   */
  readonly microsoft?: AlertMicrosoftPacket | undefined;
}

export interface AlertMicrosoftPacket {
  readonly ip: string;
  /** The enhanced status code of the reply (`5.7.606`), or null. */
  readonly code: string | null;
  /** The self-service portal (https://sender.office.com/ or the one the reply names), or null for 5.7.511. */
  readonly portal: string | null;
  /** Where the prepared request goes (delist@messaging.microsoft.com, delist@microsoft.com, or what the reply names). */
  readonly to: string;
  /** The address that received the NDR (what the portal asks for), when known. */
  readonly recipient: string | null;
}

export interface Alert {
  readonly kind: AlertKind;
  /** Short id, e.g. `k3m9q2p7`. */
  readonly incidentId: string;
  readonly tenant: { readonly id: string; readonly name: string };
  readonly severity: AlertSeverity;
  /** `blocklist`, `probe-relay`, `spf`, … */
  readonly check: string;
  /** What the check is about: `203.0.113.10 on Spamhaus ZEN`, a domain, … */
  readonly subject: string;
  readonly title: string;
  /**
   * The machine-readable problem for rules (a PSA, a SIEM): the finding code (`spf-relay-ip-not-authorised`), the
   * probe's diagnosis id (`smtp-auth-disabled-mailbox`), `listed:<zone id>` for a listing, `relaywatch-unchecked` for the
   * self-health incident. Null on ad-hoc alerts (`notify test`).
   */
  readonly problem?: string | null | undefined;
  readonly what: string;
  readonly why: string;
  readonly remediation: readonly string[];
  readonly links: readonly AlertLink[];
  /** Raw SMTP reply, TXT record…: UNTRUSTED. */
  readonly evidence: string | null;
  /** ISO 8601. */
  readonly openedAt: string;
  /** ISO 8601: when this alert's event happened (resolution time for `resolved`). */
  readonly at: string;
  /** The delisting request, for listings. */
  readonly packet: AlertPacket | null;
  /** Who acknowledged the incident (`relaywatch incidents ack`), when and why; null or absent when nobody did. */
  readonly acknowledged?: { readonly by: string; readonly at: string; readonly note: string | null } | null | undefined;
  /**
   * For `resolved`: how it ended. `passed` (the check passes again), `retired` (no longer monitored: removed from the
   * configuration), `closed` (closed by hand, with who and the note). Absent is `passed`.
   */
  readonly resolution?:
    | { readonly kind: 'passed' | 'retired' | 'closed'; readonly by: string | null; readonly note: string | null }
    | null
    | undefined;
  /**
   * The delivery key of this notification (one per incident, episode, transition and route; the same on every retry)
   * and the key of the episode's opening notification on the same route. Set for incident notifications; absent on
   * ad-hoc alerts (`notify-test`), which then derive their ids from the alert itself.
   */
  readonly delivery?: { readonly key: string; readonly threadKey: string } | undefined;
}

export type SendResult =
  | { readonly ok: true; readonly detail?: string }
  | {
      readonly ok: false;
      readonly retryable: boolean;
      /** Never contains a webhook URL's path or query, a token or a password. */
      readonly error: string;
    };

export interface Notifier {
  readonly channel: Channel;
  /** Never throws: every failure is a `SendResult` with `ok: false`. */
  send(alert: Alert): Promise<SendResult>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The Microsoft delisting essentials as plain lines (each medium escapes them): the IP, the portal steps or why the
 * portal cannot be used, where the prepared request goes, and where the full request is.
 */
export function microsoftEssentials(packet: AlertPacket): string[] {
  const m = packet.microsoft;
  if (m === undefined) return [];
  const code = m.code === null ? '' : ` (${m.code})`;
  const who = m.recipient ?? 'the address that received the NDR';
  return [
    `Microsoft delisting${code}: ${m.ip} is on Microsoft's blocklist.`,
    m.portal === null
      ? `The self-service portal cannot be used for a banned sender: send the prepared request (with the full NDR) to ${m.to}.`
      : `1. Fix the cause first, then request removal at ${m.portal}: enter ${m.ip} and ${who}, confirm through the e-mail link (up to 24 hours).`,
    ...(m.portal === null ? [] : [`2. If the portal refuses, send the prepared request to ${m.to}.`]),
    `Full request: ${packet.filename}, attached to the e-mail alert and in the webhook payload (data.packet).`,
  ];
}

function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x1f || c === 0x7f) return true;
  }
  return false;
}

/** The URL when it is an absolute http(s) URL without credentials or white space, else null. */
export function safeHttpUrl(url: string): string | null {
  if (typeof url !== 'string' || url.length > 2000 || /[\s<>"'`\\]/.test(url) || hasControl(url)) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  if (parsed.username !== '' || parsed.password !== '' || parsed.hostname === '') return null;
  return parsed.href;
}

/** Only scheme and host (and port) of a URL: what error messages may show of a secret webhook URL. */
export function endpointLabel(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return '(non-http URL)';
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(invalid URL)';
  }
}

/** `3 h 12 min`, `2 d 4 h`, `45 min` (the digest's words too); null when either time is invalid or `to` is before `from`. */
export function formatDuration(fromIso: string, toIso: string): string | null {
  return formatSpan(fromIso, toIso);
}

/** The one-line status every medium puts first: `RESOLVED`, `CRITICAL`, `FLAPPING`, `TEST`… */
export function statusWord(alert: Pick<Alert, 'kind' | 'severity'>): string {
  switch (alert.kind) {
    case 'resolved':
      return 'RESOLVED';
    case 'flapping':
      return 'FLAPPING';
    case 'test':
      return 'TEST';
    default:
      return alert.severity.toUpperCase();
  }
}

/** A human phrase for the kind, used in summaries. */
export function kindPhrase(alert: Pick<Alert, 'kind' | 'openedAt' | 'at' | 'resolution'>): string {
  switch (alert.kind) {
    case 'opened':
      return 'New incident';
    case 'reminder':
      return 'Reminder: still open';
    case 'escalated':
      return 'Escalated';
    case 'resolved': {
      const took = formatDuration(alert.openedAt, alert.at);
      const after = took === null ? '' : ` after ${took}`;
      if (alert.resolution?.kind === 'retired')
        return `Resolved${after}: no longer monitored (removed from the configuration)`;
      if (alert.resolution?.kind === 'closed') return `Closed by ${alert.resolution.by ?? 'an operator'}${after}`;
      return `Resolved${after}`;
    }
    case 'flapping':
      return 'Flapping: opening and resolving repeatedly';
    case 'test':
      return 'Test alert: no action needed';
  }
}

/**
 * Lines about what people did to the incident, for every medium (each escapes them): the acknowledgement and, for a
 * closed incident, the closing note. Empty when there is none.
 */
export function operatorLines(alert: Pick<Alert, 'acknowledged' | 'resolution'>): string[] {
  const out: string[] = [];
  const a = alert.acknowledged;
  if (a) out.push(`Acknowledged by ${a.by} at ${a.at}${a.note ? `: ${a.note}` : ''}`);
  const r = alert.resolution;
  if (r?.kind === 'closed') out.push(`Closed by ${r.by ?? 'an operator'}${r.note ? `: ${r.note}` : ''}`);
  if (r?.kind === 'retired')
    out.push('No longer monitored: its subject was removed from the configuration; this closes the incident.');
  return out;
}

/** The title as shown: reminders get a `Reminder: ` prefix. */
export function displayTitle(alert: Pick<Alert, 'kind' | 'title'>): string {
  return alert.kind === 'reminder' ? `Reminder: ${alert.title}` : alert.title;
}

/** Status classes for HTTP notifiers: 2xx ok; 408, 429 and 5xx retryable; other 4xx (and 1xx/3xx) not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}
