/**
 * E-mail alerts for people and PSA mailboxes (ConnectWise, Autotask, HaloPSA), over SMTP or Amazon SES.
 *
 * Subject contract (PSA rules match on it; `#<incidentId>` is always last and never cut):
 *   `[relaywatch][<tenant id>] <SEVERITY>: <title> #<incidentId>`            opened, escalated
 *   `[relaywatch][<tenant id>] <SEVERITY>: Reminder: <title> #<incidentId>`  reminder
 *   `[relaywatch][<tenant id>] RESOLVED: <title> #<incidentId>`              resolved
 *   `[relaywatch][<tenant id>] FLAPPING: <title> #<incidentId>`              flapping
 *   `[relaywatch][<tenant id>] TEST: <title> #<incidentId>`                  test
 * Headers `X-Relaywatch-Tenant`, `-Incident`, `-Check`, `-Kind`, `-Severity`; every header value is cleaned of control
 * characters (no CR/LF can reach a header) and capped. The HTML part escapes all alert text; the text part carries it
 * with control characters removed. A delisting packet is attached as `<filename>.eml` (`message/rfc822`).
 * Message-IDs come from the alert's delivery key (one per incident, episode, transition and route: the same on every
 * retry); later messages of an episode carry its opening Message-ID in `In-Reply-To` and `References`.
 *
 * Transports: SMTP through nodemailer; SES through `@aws-sdk/client-ses` `SendRawEmailCommand` with the MIME built by
 * nodemailer's MailComposer (nodemailer 10's own SES transport needs `@aws-sdk/client-sesv2`'s `SESv2Client` and
 * `SendEmailCommand`, which this project does not install).
 */
import { createHash } from 'node:crypto';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import MailComposer from 'nodemailer/lib/mail-composer';
import Mailer from 'nodemailer/lib/mailer';
import SMTPTransport from 'nodemailer/lib/smtp-transport';
import {
  type Alert,
  DEFAULT_TIMEOUT_MS,
  displayTitle,
  endpointLabel,
  kindPhrase,
  type Notifier,
  operatorLines,
  type SendResult,
  safeHttpUrl,
  statusWord,
} from './alert.ts';
import { cap, clean, escapeHtml, headerValue } from './escape.ts';

export interface AlertEmailAddressing {
  readonly from: string;
  readonly to: readonly string[];
  readonly replyTo?: string;
}

export interface AlertEmailAttachment {
  readonly filename: string;
  readonly content: string;
  readonly contentType: 'message/rfc822';
  /** nodemailer makes message/rfc822 parts `inline` by default, which mail clients and parsers show in the body. */
  readonly contentDisposition: 'attachment';
}

/** A nodemailer message (assignable to `SendMailOptions` / `MailComposerOptions` once copied). */
export interface AlertEmail {
  readonly from: string;
  readonly to: readonly string[];
  readonly replyTo?: string;
  readonly subject: string;
  readonly messageId: string;
  readonly inReplyTo?: string;
  readonly references?: string;
  readonly date?: Date;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
  readonly html: string;
  readonly attachments: readonly AlertEmailAttachment[];
}

export const SUBJECT_MAX = 250;

/** The subject per the contract above; only the title is shortened when the whole would exceed `SUBJECT_MAX`. */
export function alertSubject(alert: Alert): string {
  const tenant = headerValue(alert.tenant.id, 64);
  const id = headerValue(alert.incidentId, 40);
  const head = `[relaywatch][${tenant}] ${statusWord(alert)}: `;
  const tail = ` #${id}`;
  return `${head}${headerValue(displayTitle(alert), Math.max(20, SUBJECT_MAX - head.length - tail.length))}${tail}`;
}

function idPart(value: string): string {
  return value.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64) || 'x';
}

function domainOf(address: string): string {
  const at = /@([A-Za-z0-9.-]+)>?\s*$/.exec(address.trim());
  return at?.[1] ?? 'relaywatch.invalid';
}

/** The file name of the attached packet: a header-safe name without path separators, ending in `.eml`. */
export function packetFilename(filename: string): string {
  const base = headerValue(filename, 120).replace(/[/\\"]/g, '_') || 'delisting-request';
  return /\.eml$/i.test(base) ? base : `${base}.eml`;
}

function indent(block: string, prefix: string): string {
  return block
    .split('\n')
    .map((l) => (l === '' ? prefix.trimEnd() : prefix + l))
    .join('\n');
}

function textBody(alert: Alert, subjectLine: string): string {
  const resolved = alert.kind === 'resolved';
  const one = (v: string, max = 300) => cap(clean(v), max);
  const block = (v: string, max = 4000) => cap(clean(v, true), max);
  const lines: string[] = [
    `${statusWord(alert)}: ${one(displayTitle(alert))}`,
    one(kindPhrase(alert)),
    '',
    `Tenant:   ${one(alert.tenant.name)} (${one(alert.tenant.id, 64)})`,
    `Check:    ${one(alert.check)}`,
    ...(alert.problem ? [`Problem:  ${one(alert.problem, 120)}`] : []),
    `Subject:  ${one(alert.subject)}`,
    `Severity: ${one(alert.severity)}${resolved ? ' (resolved)' : ''}`,
    `Incident: #${one(alert.incidentId, 40)}, opened ${one(alert.openedAt, 40)}${alert.kind === 'opened' ? '' : `, ${alert.kind} ${one(alert.at, 40)}`}`,
    '',
    resolved ? 'What was wrong' : 'What broke',
    indent(block(alert.what), '  '),
    ...operatorLines(alert).flatMap((l) => ['', one(l, 700)]),
  ];
  if (!resolved) {
    lines.push('', 'Why', indent(block(alert.why), '  '));
    if (alert.remediation.length > 0) {
      lines.push('', 'What to do', ...alert.remediation.slice(0, 30).map((s, i) => `  ${i + 1}. ${one(s, 1000)}`));
    }
    if (alert.evidence !== null && alert.evidence.trim() !== '') {
      lines.push('', 'Evidence (as received, untrusted)', indent(block(alert.evidence, 20_000), '  > '));
    }
  }
  const links = safeLinks(alert);
  if (links.length > 0) lines.push('', 'Links', ...links.map((l) => `  - ${one(l.label, 200)}: ${l.url}`));
  if (alert.packet !== null) {
    lines.push(
      '',
      `Delisting request (attached as ${packetFilename(alert.packet.filename)}, ready to send)`,
      indent(block(alert.packet.text, 20_000), '  | '),
    );
  }
  lines.push(
    '',
    '-- ',
    `relaywatch: ${subjectLine}`,
    `Keep "#${idPart(alert.incidentId)}" in the subject when replying or filing: it identifies the incident.`,
  );
  return `${lines.join('\n')}\n`;
}

function safeLinks(alert: Alert): { label: string; url: string }[] {
  return alert.links.flatMap((l) => {
    const url = safeHttpUrl(l.url);
    return url === null ? [] : [{ label: l.label === '' ? url : l.label, url }];
  });
}

const COLOURS = { critical: '#b00020', warning: '#b36b00', info: '#1f5fa8', resolved: '#1e7b34', other: '#555555' };

function htmlBody(alert: Alert): string {
  const e = escapeHtml;
  const resolved = alert.kind === 'resolved';
  const colour = resolved
    ? COLOURS.resolved
    : alert.kind === 'test' || alert.kind === 'flapping'
      ? COLOURS.other
      : COLOURS[alert.severity];
  const one = (v: string, max = 300) => e(cap(clean(v), max));
  const para = (v: string, max = 4000) => e(cap(clean(v, true), max)).replace(/\n/g, '<br>');
  const h = (t: string) => `<h3 style="margin:16px 0 4px;font-size:15px">${e(t)}</h3>`;
  const row = (k: string, v: string) =>
    `<tr><td style="padding:2px 12px 2px 0;color:#555;vertical-align:top">${e(k)}</td><td style="padding:2px 0">${v}</td></tr>`;
  const parts: string[] = [
    '<!doctype html><html><body style="font-family:Segoe UI,Arial,sans-serif;font-size:14px;color:#222">',
    `<div style="border-left:6px solid ${colour};padding:8px 12px;background:#f6f6f6">`,
    `<div style="font-size:18px;font-weight:bold;color:${colour}">${resolved ? '&#10004; ' : ''}${e(statusWord(alert))}: ${one(displayTitle(alert))}</div>`,
    `<div style="color:#555">${one(kindPhrase(alert))}</div></div>`,
    '<table style="border-collapse:collapse;margin-top:8px">',
    row('Tenant', `${one(alert.tenant.name)} (${one(alert.tenant.id, 64)})`),
    row('Check', one(alert.check)),
    ...(alert.problem ? [row('Problem', one(alert.problem, 120))] : []),
    row('Subject', one(alert.subject)),
    row('Severity', `${one(alert.severity)}${resolved ? ' (resolved)' : ''}`),
    row(
      'Incident',
      `#${one(alert.incidentId, 40)}, opened ${one(alert.openedAt, 40)}${alert.kind === 'opened' ? '' : `, ${e(alert.kind)} ${one(alert.at, 40)}`}`,
    ),
    '</table>',
    h(resolved ? 'What was wrong' : 'What broke'),
    `<p style="margin:0">${para(alert.what)}</p>`,
  ];
  if (!resolved) {
    parts.push(h('Why'), `<p style="margin:0">${para(alert.why)}</p>`);
    if (alert.remediation.length > 0) {
      parts.push(
        h('What to do'),
        `<ol style="margin:0">${alert.remediation
          .slice(0, 30)
          .map((s) => `<li>${one(s, 1000)}</li>`)
          .join('')}</ol>`,
      );
    }
    if (alert.evidence !== null && alert.evidence.trim() !== '') {
      parts.push(
        h('Evidence (as received, untrusted)'),
        `<pre style="background:#f0f0f0;padding:8px;white-space:pre-wrap;font-size:12px">${e(cap(clean(alert.evidence, true), 20_000))}</pre>`,
      );
    }
  }
  const links = safeLinks(alert);
  if (links.length > 0) {
    parts.push(
      h('Links'),
      `<ul style="margin:0">${links.map((l) => `<li><a href="${e(l.url)}">${one(l.label, 200)}</a></li>`).join('')}</ul>`,
    );
  }
  if (alert.packet !== null) {
    parts.push(
      h(`Delisting request (attached as ${packetFilename(alert.packet.filename)}, ready to send)`),
      `<pre style="background:#f0f0f0;padding:8px;white-space:pre-wrap;font-size:12px">${e(cap(clean(alert.packet.text, true), 20_000))}</pre>`,
    );
  }
  parts.push(
    `<p style="color:#777;font-size:12px;margin-top:16px">relaywatch incident #${one(alert.incidentId, 40)}. Keep it in the subject when replying.</p>`,
    '</body></html>',
  );
  return parts.join('\n');
}

/** Pure: the alert as a nodemailer message. `from`/`to`/`replyTo` are configuration, cleaned of control characters. */
export function buildAlertEmail(alert: Alert, addressing: AlertEmailAddressing): AlertEmail {
  const subject = alertSubject(alert);
  const from = clean(addressing.from);
  const domain = idPart(domainOf(from)).replace(/_/g, '') || 'relaywatch.invalid';
  const incident = idPart(alert.incidentId);
  // With a delivery key (incident notifications): one Message-ID per (incident, episode, transition, route), the same
  // on every retry; later messages of the episode reply to its opening message. Without (ad-hoc alerts): per incident.
  const keyHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);
  const root = alert.delivery
    ? `<relaywatch.${incident}.${keyHash(alert.delivery.threadKey)}@${domain}>`
    : `<relaywatch.${incident}@${domain}>`;
  const eventHash = alert.delivery
    ? keyHash(alert.delivery.key)
    : createHash('sha256').update(`${alert.kind}|${alert.at}`).digest('hex').slice(0, 12);
  const messageId =
    alert.kind === 'opened'
      ? alert.delivery
        ? `<relaywatch.${incident}.${eventHash}@${domain}>`
        : root
      : `<relaywatch.${incident}.${alert.kind}.${eventHash}@${domain}>`;
  const at = Date.parse(alert.at);
  const attachments: AlertEmailAttachment[] =
    alert.packet === null
      ? []
      : [
          {
            filename: packetFilename(alert.packet.filename),
            content: alert.packet.eml,
            contentType: 'message/rfc822',
            contentDisposition: 'attachment',
          },
        ];
  return {
    from,
    to: addressing.to.map((t) => clean(t)),
    ...(addressing.replyTo === undefined ? {} : { replyTo: clean(addressing.replyTo) }),
    subject,
    messageId,
    ...(alert.kind === 'opened' ? {} : { inReplyTo: root, references: root }),
    ...(Number.isNaN(at) ? {} : { date: new Date(at) }),
    headers: {
      'X-Relaywatch-Tenant': headerValue(alert.tenant.id, 64),
      'X-Relaywatch-Incident': headerValue(alert.incidentId, 40),
      'X-Relaywatch-Check': headerValue(alert.check, 64),
      ...(alert.problem ? { 'X-Relaywatch-Problem': headerValue(alert.problem, 120) } : {}),
      'X-Relaywatch-Kind': headerValue(alert.kind, 16),
      'X-Relaywatch-Severity': headerValue(alert.severity, 16),
    },
    text: textBody(alert, subject),
    html: htmlBody(alert),
    attachments,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Sending

export interface SmtpTransportConfig {
  readonly kind: 'smtp';
  readonly host: string;
  readonly port: number;
  /** Implicit TLS (port 465). Otherwise STARTTLS is used when offered, and required with `requireTLS`. */
  readonly secure?: boolean;
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Extra trusted CA (PEM) for the server certificate. */
  readonly ca?: string | Buffer;
  readonly requireTLS?: boolean;
}

export interface SesTransportConfig {
  readonly kind: 'ses';
  readonly region: string;
  /** Override the SES endpoint (tests, VPC endpoints). */
  readonly endpoint?: string;
  /** Default: the SDK's credential chain (env, role…). */
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}

export type EmailTransportConfig = SmtpTransportConfig | SesTransportConfig;

export interface EmailNotifierOptions extends AlertEmailAddressing {
  readonly transport: EmailTransportConfig;
  /** Default 10 s, for connecting, each SMTP step and the whole send. */
  readonly timeoutMs?: number;
}

type Failure = Extract<SendResult, { ok: false }>;

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join('<redacted>');
  return out;
}

const NETWORK_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

interface NodemailerLikeError {
  readonly code?: unknown;
  readonly responseCode?: unknown;
  readonly response?: unknown;
  readonly message?: unknown;
}

/** An SMTP failure: 4xx and network trouble retryable; 5xx, authentication, TLS and configuration errors not. */
export function smtpFailure(error: unknown, where: string, secrets: readonly string[]): Failure {
  const err = (error !== null && typeof error === 'object' ? error : {}) as NodemailerLikeError;
  const code = typeof err.code === 'string' ? err.code : null;
  const responseCode = typeof err.responseCode === 'number' ? err.responseCode : null;
  const say = (s: unknown) => scrub(cap(clean(typeof s === 'string' ? s : ''), 200), secrets);
  if (responseCode !== null) {
    const reply = say(err.response) || say(err.message);
    return {
      ok: false,
      retryable: responseCode >= 400 && responseCode < 500,
      error: `email: SMTP ${responseCode} from ${where}${reply === '' ? '' : `: ${reply}`}`,
    };
  }
  const detail = say(err.message);
  if (code !== null && NETWORK_CODES.has(code)) {
    return {
      ok: false,
      retryable: true,
      error: `email: ${code} talking to ${where}${detail === '' ? '' : `: ${detail}`}`,
    };
  }
  if (code !== null) {
    return { ok: false, retryable: false, error: `email: ${code} from ${where}${detail === '' ? '' : `: ${detail}`}` };
  }
  return {
    ok: false,
    retryable: true,
    error: `email: sending through ${where} failed${detail === '' ? '' : `: ${detail}`}`,
  };
}

interface AwsLikeError {
  readonly name?: unknown;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

const SES_RETRYABLE_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ServiceUnavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalFailure',
  'TimeoutError',
  'AbortError',
]);

/** An SES failure: throttling, 5xx, timeouts and network errors retryable; rejections (4xx) not. */
export function sesFailure(error: unknown, where: string, timeoutMs: number, secrets: readonly string[]): Failure {
  const err = (error !== null && typeof error === 'object' ? error : {}) as AwsLikeError;
  const name = typeof err.name === 'string' ? err.name : 'Error';
  const status = typeof err.$metadata?.httpStatusCode === 'number' ? err.$metadata.httpStatusCode : null;
  const detail = scrub(cap(clean(typeof err.message === 'string' ? err.message : ''), 200), secrets);
  if (name === 'TimeoutError' || name === 'AbortError') {
    return { ok: false, retryable: true, error: `email: no answer from ${where} within ${timeoutMs} ms` };
  }
  if (status === null) {
    const code = typeof err.code === 'string' ? ` (${clean(err.code)})` : '';
    return { ok: false, retryable: true, error: `email: request to ${where} failed${code}: ${name}` };
  }
  const retryable =
    status >= 500 ||
    status === 429 ||
    err.$fault === 'server' ||
    err.$retryable !== undefined ||
    SES_RETRYABLE_NAMES.has(name);
  return {
    ok: false,
    retryable,
    error: `email: ${where} answered HTTP ${status} ${clean(name)}${detail === '' ? '' : `: ${detail}`}`,
  };
}

function bareAddress(value: string): string {
  // the first <…> holding no white space and an inner "@"; found pair by pair, as /<([^<>\s]+@[^<>\s]+)>/ was
  // quadratic on a long run of "<@@@…"
  for (const m of value.matchAll(/<([^<>]*)>/g)) {
    const inner = m[1] as string;
    const at = inner.indexOf('@', 1);
    if (at > 0 && at < inner.length - 1 && !/\s/.test(inner)) return inner.trim();
  }
  return value.trim();
}

/** The message as nodemailer takes it (also what the `file` channel composes its `.eml` from). */
export function mailOptions(message: AlertEmail) {
  return {
    from: message.from,
    to: [...message.to],
    ...(message.replyTo === undefined ? {} : { replyTo: message.replyTo }),
    subject: message.subject,
    messageId: message.messageId,
    ...(message.inReplyTo === undefined ? {} : { inReplyTo: message.inReplyTo }),
    ...(message.references === undefined ? {} : { references: message.references }),
    ...(message.date === undefined ? {} : { date: message.date }),
    headers: { ...message.headers },
    text: message.text,
    html: message.html,
    attachments: message.attachments.map((a) => ({ ...a })),
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class EmailNotifier implements Notifier {
  readonly channel = 'email' as const;
  readonly #options: EmailNotifierOptions;
  readonly #timeoutMs: number;

  constructor(options: EmailNotifierOptions) {
    this.#options = options;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async send(alert: Alert): Promise<SendResult> {
    let message: AlertEmail;
    try {
      message = buildAlertEmail(alert, this.#options);
    } catch (error) {
      return { ok: false, retryable: false, error: `email: could not build the message (${(error as Error).name})` };
    }
    return this.deliver(message);
  }

  /** Send a message built elsewhere (the weekly digest) through this route's transport. */
  async deliver(message: AlertEmail): Promise<SendResult> {
    if (message.to.length === 0) return { ok: false, retryable: false, error: 'email: no recipients configured' };
    const t = this.#options.transport;
    return t.kind === 'smtp' ? this.#sendSmtp(t, message) : this.#sendSes(t, message);
  }

  async #sendSmtp(t: SmtpTransportConfig, message: AlertEmail): Promise<SendResult> {
    const where = `smtp://${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
    const secrets = t.auth === undefined ? [] : [t.auth.pass];
    try {
      // What nodemailer.createTransport(options) builds for SMTP options (no url, pool, sendmail…), without the
      // package index, which imports every other transport too (about 20 KB of the functions' e-mail chunk).
      const options: SMTPTransport.Options = {
        host: t.host,
        port: t.port,
        secure: t.secure ?? false,
        requireTLS: t.requireTLS ?? false,
        ...(t.auth === undefined ? {} : { auth: { user: t.auth.user, pass: t.auth.pass } }),
        ...(t.ca === undefined ? {} : { tls: { ca: t.ca } }),
        connectionTimeout: this.#timeoutMs,
        greetingTimeout: this.#timeoutMs,
        socketTimeout: this.#timeoutMs,
        dnsTimeout: this.#timeoutMs,
        logger: false,
        debug: false,
      };
      const transporter = new Mailer(new SMTPTransport(options), options);
      const info = await withTimeout(transporter.sendMail(mailOptions(message)), this.#timeoutMs + 1000);
      transporter.close();
      const response = scrub(cap(clean(String(info.response ?? '')), 160), secrets);
      return { ok: true, detail: `email: ${response || 'accepted'}` };
    } catch (error) {
      return smtpFailure(error, where, secrets);
    }
  }

  async #sendSes(t: SesTransportConfig, message: AlertEmail): Promise<SendResult> {
    const where = `SES ${clean(t.region)}${t.endpoint === undefined ? '' : ` (${endpointLabel(t.endpoint)})`}`;
    const secrets =
      t.credentials === undefined ? [] : [t.credentials.secretAccessKey, t.credentials.sessionToken ?? ''];
    try {
      const raw = await new MailComposer(mailOptions(message)).compile().build();
      const client = new SESClient({
        region: t.region,
        ...(t.endpoint === undefined ? {} : { endpoint: t.endpoint }),
        ...(t.credentials === undefined ? {} : { credentials: { ...t.credentials } }),
        maxAttempts: 1,
        requestHandler: { connectionTimeout: this.#timeoutMs, requestTimeout: this.#timeoutMs },
      });
      try {
        const out = await client.send(
          new SendRawEmailCommand({
            RawMessage: { Data: raw },
            Source: bareAddress(message.from),
            Destinations: message.to.map(bareAddress),
          }),
          { abortSignal: AbortSignal.timeout(this.#timeoutMs) },
        );
        return { ok: true, detail: `email: SES MessageId ${clean(out.MessageId ?? '(none)').slice(0, 100)}` };
      } finally {
        client.destroy();
      }
    } catch (error) {
      return sesFailure(error, where, this.#timeoutMs, secrets);
    }
  }
}
