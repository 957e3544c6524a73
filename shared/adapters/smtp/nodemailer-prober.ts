/**
 * `SmtpProber` on nodemailer's `SMTPConnection`. The transcript is built from the connection's own debug log (a custom
 * logger receives every client line as `tnx: 'client'` and every complete server reply as `tnx: 'server'`), so what is
 * recorded is exactly what went over the wire, minus credentials.
 *
 * Timeouts: nodemailer's connection, greeting and socket timeouts are all set to the step limit, and on top of them a
 * watchdog of our own ends the probe when no complete command or reply has been seen for `stepMs` (nodemailer's
 * socket timeout only notices silence, not a server trickling bytes), and an overall timer ends it after `totalMs`.
 *
 * TLS: the handshake is always made with `rejectUnauthorized: false` so that the certificate's facts are recorded even
 * when it does not verify; when the request wants verification (the default) the probe stops right after the TLS
 * session is up (before AUTH or any envelope) with `certificate-invalid`. Only EHLO is sent over such a session.
 */
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { TLSSocket } from 'node:tls';
import { format } from 'node:util';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import XOAuth2 from 'nodemailer/lib/xoauth2';
import {
  DEFAULT_PROBE_TIMEOUTS,
  type ProbeRequest,
  ProbeRequestError,
  type ProbeResult,
  type SmtpProber,
  type TlsFacts,
  type TranscriptEntry,
} from '../../ports/smtp-prober.ts';
import {
  classify,
  type Diagnosis,
  type ProbeStage,
  parseReply,
  REPLY_KEEP_CHARS,
  type TransportFailure,
} from '../../probe/diagnosis.ts';
import { Redactor } from './redact.ts';

/** Largest server reply accepted (nodemailer's default is 1 MB). */
const MAX_RESPONSE_BYTES = 64 * 1024;
const SOCKET_CLOSE_GRACE_MS = 500;

export interface NodemailerProberOptions {
  /** Wall clock for the Date and X-Relaywatch-Probe headers. */
  readonly clock?: () => Date;
}

export class NodemailerProber implements SmtpProber {
  readonly #clock: () => Date;

  constructor(options: NodemailerProberOptions = {}) {
    this.#clock = options.clock ?? (() => new Date());
  }

  async probe(request: ProbeRequest): Promise<ProbeResult> {
    validateRequest(request);
    return new ProbeRun(request, this.#clock()).run();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Request validation (programming/configuration errors: the only rejections)

const ADDRESS = /^[^\s<>()[\]",;:\\@]+@[^\s<>()[\]",;:\\@]+$/;

function normaliseAddress(a: string): string {
  return a.trim().toLowerCase();
}

function validateRequest(req: ProbeRequest): void {
  for (const [field, value] of [
    ['from', req.from],
    ['to', req.to],
  ] as const) {
    if (typeof value !== 'string' || !ADDRESS.test(value)) {
      throw new ProbeRequestError(`probe ${field} address is not a plain mailbox address: ${JSON.stringify(value)}`);
    }
  }
  const allowed = new Set(req.allowedRecipients.map(normaliseAddress));
  if (!allowed.has(normaliseAddress(req.to))) {
    throw new ProbeRequestError(
      `probe recipient ${JSON.stringify(req.to)} is not one of the tenant's configured probe recipients; the prober is not a general mail sender`,
    );
  }
  if (typeof req.host !== 'string' || req.host === '' || /[\s/]/.test(req.host)) {
    throw new ProbeRequestError(`probe host is invalid: ${JSON.stringify(req.host)}`);
  }
  if (!Number.isInteger(req.port) || req.port < 1 || req.port > 65535) {
    throw new ProbeRequestError(`probe port is invalid: ${String(req.port)}`);
  }
  if (typeof req.ehloName !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(req.ehloName)) {
    throw new ProbeRequestError(`EHLO name is invalid: ${JSON.stringify(req.ehloName)}`);
  }
  const t = req.timeouts;
  if (t !== undefined && !(t.stepMs > 0 && t.totalMs > 0 && Number.isFinite(t.stepMs) && Number.isFinite(t.totalMs))) {
    throw new ProbeRequestError('probe timeouts must be positive finite numbers');
  }
  if (req.auth !== undefined) {
    const secret = req.auth.mechanism === 'XOAUTH2' ? req.auth.token : req.auth.pass;
    if (req.auth.user === '' || secret === '') throw new ProbeRequestError('probe credentials are empty');
    if (/[\r\n]/.test(req.auth.user)) throw new ProbeRequestError('probe user name contains a line break');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Message

/** A header parameter value: printable ASCII without `;`, capped. */
function headerValue(v: string): string {
  return v.replace(/[^\x21-\x3a\x3c-\x7e]/g, '_').slice(0, 128) || '_';
}

function rfc5322Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

export function buildProbeMessage(
  req: ProbeRequest,
  sent: Date,
  messageId: string,
): { message: string; header: string } {
  const header = `tenant=${headerValue(req.tenantId)}; probe=${headerValue(req.probeId)}; sent=${sent.toISOString()}`;
  const lines = [
    `From: <${req.from}>`,
    `To: <${req.to}>`,
    `Subject: relaywatch probe ${headerValue(req.probeId)}`,
    `Date: ${rfc5322Date(sent)}`,
    `Message-ID: <${messageId}>`,
    `X-Relaywatch-Probe: ${header}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    'Auto-Submitted: auto-generated',
    '',
    'This is an automated delivery probe sent by relaywatch. It can be deleted.',
    '',
  ];
  return { message: lines.join('\r\n'), header };
}

// ---------------------------------------------------------------------------------------------------------------
// One probe run

interface NodemailerError extends Error {
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

function capLine(s: string): string {
  const clean = s.replace(CONTROL, '\ufffd');
  return clean.length > REPLY_KEEP_CHARS ? `${clean.slice(0, REPLY_KEEP_CHARS)}…` : clean;
}

function commandStage(line: string): ProbeStage | 'other' | null {
  const verb = /^([A-Za-z]+)/.exec(line)?.[1]?.toUpperCase();
  switch (verb) {
    case 'EHLO':
    case 'HELO':
    case 'LHLO':
      return 'ehlo';
    case 'STARTTLS':
      return 'starttls';
    case 'AUTH':
      return 'auth';
    case 'MAIL':
      return 'mail';
    case 'RCPT':
      return 'rcpt';
    case 'DATA':
      return 'data';
    case 'QUIT':
    case 'RSET':
    case 'NOOP':
      return 'other';
    default:
      return null;
  }
}

const CERT_ERROR =
  /certificate|self[- ]signed|unable to verify|CERT_|altnames|hostname\/ip does not match|unable to get (?:local )?issuer/i;

function dnFields(dn: unknown): string | null {
  if (!isRecord(dn)) return null;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(dn)) {
    for (const value of Array.isArray(v) ? v : [v]) parts.push(`${k}=${String(value)}`);
  }
  return parts.length > 0 ? capLine(parts.join(', ')) : null;
}

interface Pending {
  readonly stage: ProbeStage | 'other';
  readonly at: number;
}

class ProbeRun {
  readonly #req: ProbeRequest;
  readonly #stepMs: number;
  readonly #totalMs: number;
  readonly #t0 = performance.now();
  readonly #sentAt: Date;
  readonly #messageId: string;
  readonly #redactor: Redactor;
  readonly #transcript: TranscriptEntry[] = [];
  readonly #timings: Partial<Record<ProbeStage, number>> = {};
  /** Commands (and the greeting) waiting for their reply, oldest first. */
  #pending: Pending[] = [];
  #stage: ProbeStage = 'connect';
  #connected = false;
  #ehloExtensions: string[] = [];
  /** A RCPT TO was refused: a DATA reply after it comes from pipelining (RFC 2920), not a new problem. */
  #rcptRefused = false;
  #tls: TlsFacts | null = null;
  #conn: SMTPConnection | null = null;
  #stepTimer: NodeJS.Timeout | undefined;
  #totalTimer: NodeJS.Timeout | undefined;
  #done = false;
  #resolve: (r: ProbeResult) => void = () => {};

  constructor(req: ProbeRequest, sentAt: Date) {
    this.#req = req;
    this.#stepMs = req.timeouts?.stepMs ?? DEFAULT_PROBE_TIMEOUTS.stepMs;
    this.#totalMs = req.timeouts?.totalMs ?? DEFAULT_PROBE_TIMEOUTS.totalMs;
    this.#sentAt = sentAt;
    const domain = /@([^@]+)$/.exec(req.from)?.[1] ?? 'relaywatch.invalid';
    this.#messageId = `relaywatch.${randomUUID()}@${domain.toLowerCase()}`;
    const secrets: string[] = [];
    const a = req.auth;
    if (a !== undefined) {
      const secret = a.mechanism === 'XOAUTH2' ? a.token : a.pass;
      secrets.push(secret);
      if (a.mechanism === 'XOAUTH2') secrets.push(xoauth2String(a.user, a.token));
      if (a.mechanism === 'PLAIN') secrets.push(`\u0000${a.user}\u0000${a.pass}`);
    }
    this.#redactor = new Redactor(secrets);
  }

  #now(): number {
    return Math.round(performance.now() - this.#t0);
  }

  #record(entry: Omit<TranscriptEntry, 'at'>): void {
    if (this.#done) return;
    const scrub = (s: string) => this.#redactor.scrub(s);
    this.#transcript.push({
      stage: entry.stage,
      at: this.#now(),
      ...(entry.sent !== undefined ? { sent: scrub(entry.sent) } : {}),
      ...(entry.reply !== undefined ? { reply: entry.reply.map(scrub) } : {}),
      ...(entry.note !== undefined ? { note: scrub(entry.note) } : {}),
    });
  }

  #addTiming(stage: ProbeStage, since: number): void {
    this.#timings[stage] = (this.#timings[stage] ?? 0) + Math.max(0, this.#now() - since);
  }

  /** A complete command or reply, or a connection/TLS milestone: the step watchdog starts over. */
  #progress(): void {
    clearTimeout(this.#stepTimer);
    if (this.#done) return;
    this.#stepTimer = setTimeout(
      () => this.#finishFailure('timeout', `no progress within ${this.#stepMs} ms (step limit)`),
      this.#stepMs,
    );
  }

  /** The stage a failure without a command of its own belongs to. */
  #trackedStage(): ProbeStage {
    if (!this.#connected) return 'connect';
    const head = this.#pending.find((p) => p.stage !== 'other');
    return head !== undefined && head.stage !== 'other' ? head.stage : this.#stage;
  }

  // --- logger hooks -------------------------------------------------------------------------------------------

  #onLog(entry: unknown, fmt: unknown, args: unknown[]): void {
    if (this.#done || !isRecord(entry)) return;
    // Client and server lines are passed as the format string itself; never format them.
    const text = typeof fmt === 'string' ? (args.length > 0 ? format(fmt, ...args) : fmt) : '';
    switch (entry.tnx) {
      case 'client':
        this.#onClient(text);
        return;
      case 'server':
        this.#onServer(text);
        return;
      case 'dns':
        this.#record({ stage: 'connect', note: `resolved ${String(entry.source)} as ${String(entry.resolved)}` });
        return;
      case 'network':
        if (/established to/.test(text)) this.#onConnected(entry);
        return;
      case 'smtp':
        if (text === 'Connection upgraded with STARTTLS') this.#onTlsUpgraded();
        return;
      default:
        return;
    }
  }

  #onConnected(entry: Record<string, unknown>): void {
    this.#connected = true;
    this.#addTiming('connect', 0);
    this.#record({
      stage: 'connect',
      note: `connected to ${String(entry.remoteAddress)}:${String(entry.remotePort)} from ${String(entry.localAddress)}:${String(entry.localPort)}`,
    });
    this.#pending.push({ stage: 'banner', at: this.#now() });
    this.#stage = 'banner';
    this.#progress();
  }

  #onClient(line: string): void {
    const verbStage = commandStage(line);
    let stage: ProbeStage | 'other';
    let sent = line;
    if (verbStage === 'auth') {
      const mech = /^AUTH\s+(\S+)/i.exec(line)?.[1] ?? '';
      const hasPayload = /^AUTH\s+\S+\s+\S/i.test(line);
      sent = `AUTH ${mech}${hasPayload ? ' <redacted>' : ''}`;
      stage = 'auth';
    } else if (verbStage === null && this.#stage === 'auth') {
      // A SASL continuation line (base64 user name, password or token, or an empty answer).
      sent = '<redacted>';
      stage = 'auth';
    } else {
      stage = verbStage ?? this.#stage;
    }
    this.#pending.push({ stage, at: this.#now() });
    if (stage !== 'other') {
      this.#stage = stage;
      this.#record({ stage, sent: capLine(sent) });
    }
    this.#progress();
  }

  #onServer(text: string): void {
    const p = this.#pending.shift() ?? { stage: this.#stage, at: this.#now() };
    const lines = (parseReply(text)?.lines ?? [text]).map(capLine);
    if (p.stage === 'other') {
      this.#progress();
      return;
    }
    const stage = p.stage;
    this.#addTiming(stage, p.at);
    let note: string | undefined;
    if (stage === 'ehlo' && /^2/.test(text)) {
      this.#ehloExtensions = lines
        .slice(1)
        .map((l) => l.replace(/^\d{3}[ -]/, '').trim())
        .filter((l) => l !== '');
      note = `extensions: ${this.#ehloExtensions.join(', ') || '(none)'}`;
    }
    if (stage === 'rcpt' && /^[45]/.test(text)) this.#rcptRefused = true;
    if (stage === 'data' && this.#rcptRefused && !/^3/.test(text)) {
      note =
        'DATA went out with RCPT TO in one batch (PIPELINING, RFC 2920): this reply follows from the refused recipient above';
    }
    this.#record({ stage, reply: lines, ...(note !== undefined ? { note } : {}) });
    this.#stage = stage;
    if (stage === 'data' && /^3/.test(text)) {
      // The message is streamed now; its final reply belongs to data-end.
      this.#pending.push({ stage: 'data-end', at: this.#now() });
      this.#stage = 'data-end';
    }
    this.#progress();
  }

  #onTlsUpgraded(): void {
    const socket = this.#conn?._socket;
    if (socket instanceof TLSSocket) {
      const cert = socket.getPeerCertificate();
      const validTo = cert.valid_to ? new Date(cert.valid_to) : null;
      const authError: unknown = socket.authorizationError;
      this.#tls = {
        version: socket.getProtocol(),
        cipher: socket.getCipher()?.name ?? null,
        subject: dnFields(cert.subject),
        issuer: dnFields(cert.issuer),
        validTo: validTo !== null && !Number.isNaN(validTo.getTime()) ? validTo.toISOString() : null,
        authorized: socket.authorized,
        authorizationError: socket.authorized || authError == null ? null : String(authError),
      };
      const t = this.#tls;
      this.#record({
        stage: 'starttls',
        note: `TLS ${t.version ?? '?'} ${t.cipher ?? '?'}; certificate ${t.subject ?? '?'} issued by ${t.issuer ?? '?'}, valid to ${t.validTo ?? '?'}; ${t.authorized ? 'verified' : `not verified (${t.authorizationError ?? 'unknown reason'})`}`,
      });
    } else {
      this.#record({ stage: 'starttls', note: 'connection upgraded with STARTTLS' });
    }
    this.#progress();
  }

  // --- flow ---------------------------------------------------------------------------------------------------

  run(): Promise<ProbeResult> {
    return new Promise<ProbeResult>((resolve) => {
      this.#resolve = resolve;
      const req = this.#req;
      const log =
        () =>
        (entry: unknown, fmt?: unknown, ...args: unknown[]): void => {
          try {
            this.#onLog(entry, fmt, args);
          } catch (err) {
            this.#finishFailure(null, `internal error while recording: ${String(err)}`);
          }
        };
      const logger = { trace: log(), debug: log(), info: log(), warn: log(), error: log(), fatal: log() };
      const auth = req.auth;
      const conn = new SMTPConnection({
        host: req.host,
        port: req.port,
        name: req.ehloName,
        secure: false,
        ignoreTLS: req.tls === 'none',
        requireTLS: false,
        opportunisticTLS: false,
        connectionTimeout: this.#stepMs,
        greetingTimeout: this.#stepMs,
        socketTimeout: this.#stepMs,
        dnsTimeout: this.#stepMs,
        socketCloseTimeout: SOCKET_CLOSE_GRACE_MS,
        maxResponseSize: MAX_RESPONSE_BYTES,
        logger,
        debug: true,
        transactionLog: true,
        tls: {
          rejectUnauthorized: false,
          minVersion: 'TLSv1.2',
          ...(req.ca !== undefined ? { ca: typeof req.ca === 'string' ? req.ca : [...req.ca] } : {}),
          ...(isIP(req.host) === 0 ? { servername: req.host } : {}),
        },
        ...(auth?.mechanism === 'XOAUTH2'
          ? { customAuth: { XOAUTH2: xoauth2Handler(xoauth2String(auth.user, auth.token)) } }
          : {}),
      });
      this.#conn = conn;
      conn.on('error', (err: NodemailerError) => this.#finishError(err));
      conn.on('end', () => this.#finishFailure('protocol', 'the connection closed before the probe finished'));
      this.#totalTimer = setTimeout(
        () => this.#finishFailure('timeout', `no result within ${this.#totalMs} ms (overall limit)`),
        this.#totalMs,
      );
      this.#progress();
      conn.connect((err?: NodemailerError) => {
        if (err) this.#finishError(err);
        else this.#afterHandshake();
      });
    });
  }

  #afterHandshake(): void {
    if (this.#done || this.#conn === null) return;
    const conn = this.#conn;
    const req = this.#req;
    if (req.tls === 'starttls-required' && !conn.secure) {
      this.#record({ stage: 'starttls', note: 'the server did not offer STARTTLS, which this probe requires' });
      this.#finishFailure(
        'starttls-not-offered',
        'the server did not offer STARTTLS (policy starttls-required)',
        'starttls',
      );
      return;
    }
    if (this.#tls !== null && !this.#tls.authorized && req.rejectUnauthorized !== false) {
      this.#finishFailure(
        'certificate',
        `the server certificate did not verify: ${this.#tls.authorizationError ?? 'unknown reason'}`,
        'starttls',
      );
      return;
    }
    const auth = req.auth;
    if (auth === undefined) {
      this.#send();
      return;
    }
    const authData =
      auth.mechanism === 'XOAUTH2'
        ? // The XOAuth2 object only pins the method: without one nodemailer silently picks another mechanism the
          // server offers. Our custom handler (registered above) does the exchange.
          { method: 'XOAUTH2', user: auth.user, oauth2: new XOAuth2({ user: auth.user, accessToken: auth.token }) }
        : { method: auth.mechanism, user: auth.user, pass: auth.pass };
    conn.login(authData, (err) => {
      if (err) this.#finishError(err);
      else this.#send();
    });
  }

  #send(): void {
    if (this.#done || this.#conn === null) return;
    const { message, header } = buildProbeMessage(this.#req, this.#sentAt, this.#messageId);
    this.#record({
      stage: 'mail',
      note: `probe message Message-ID <${this.#messageId}>, X-Relaywatch-Probe: ${header}`,
    });
    this.#conn.send({ from: this.#req.from, to: [this.#req.to] }, message, (err, info) => {
      if (err) {
        this.#finishError(err);
        return;
      }
      const raw = this.#redactor.scrub(info?.response ?? '');
      const reply = parseReply(raw);
      const diagnosis =
        reply !== null
          ? classify({ stage: 'data-end', reply })
          : classify({ stage: 'data-end', detail: 'the server accepted the message without a reply code' });
      this.#conn?.quit();
      this.#finish(diagnosis);
    });
  }

  #finishError(err: NodemailerError): void {
    if (this.#done) return;
    const tracked = this.#trackedStage();
    const stage = errorStage(err, tracked);
    const detail = this.#redactor.scrub(`${err.code ?? 'Error'}: ${err.message}`);
    const response = typeof err.response === 'string' ? this.#redactor.scrub(err.response) : '';
    const reply = response !== '' ? parseReply(response) : null;
    if (reply !== null) {
      this.#finish(classify({ stage, reply, detail }));
      return;
    }
    this.#finishFailure(transportFailure(err), detail, stage);
  }

  #finishFailure(failure: TransportFailure | null, detail: string, stage?: ProbeStage): void {
    if (this.#done) return;
    const at = stage ?? this.#trackedStage();
    this.#record({ stage: at, note: detail });
    this.#finish(
      classify({ stage: at, ...(failure !== null ? { failure } : {}), detail: this.#redactor.scrub(detail) }),
    );
  }

  #finish(diagnosis: Diagnosis): void {
    if (this.#done) return;
    if (diagnosis.id !== 'ok' || diagnosis.stage !== 'data-end') {
      this.#record({ stage: diagnosis.stage, note: `probe ended: ${diagnosis.id}` });
    }
    this.#done = true;
    clearTimeout(this.#stepTimer);
    clearTimeout(this.#totalTimer);
    const conn = this.#conn;
    if (conn !== null && diagnosis.id !== 'ok') {
      try {
        conn.close();
      } catch {
        // closing a broken connection is best effort
      }
    }
    this.#resolve({
      transcript: this.#transcript,
      tls: this.#tls,
      diagnosis,
      timings: this.#timings,
      messageId: this.#messageId,
      queueId: diagnosis.queueId,
    });
  }
}

function errorStage(err: NodemailerError, tracked: ProbeStage): ProbeStage {
  const cmd = err.command ?? '';
  if (/^(?:EHLO|HELO|LHLO)\b/.test(cmd)) return 'ehlo';
  if (cmd === 'STARTTLS') return 'starttls';
  if (cmd.startsWith('AUTH')) return 'auth';
  if (cmd === 'MAIL FROM') return 'mail';
  if (cmd === 'RCPT TO') return 'rcpt';
  if (cmd === 'DATA') return err.code === 'EMESSAGE' ? 'data-end' : 'data';
  return tracked;
}

function transportFailure(err: NodemailerError): TransportFailure | null {
  const code = err.code ?? '';
  const orig = err.originalCode ?? '';
  const msg = err.message ?? '';
  if (code === 'EDNS' || /^(?:ENOTFOUND|EAI_AGAIN|ENODATA)$/.test(orig) || /\bENOTFOUND\b/.test(msg)) return 'dns';
  if (orig === 'ECONNREFUSED' || /\bECONNREFUSED\b/.test(msg)) return 'refused';
  if (code === 'ETIMEDOUT' || orig === 'ETIMEDOUT') return 'timeout';
  if (code === 'ETLS') return CERT_ERROR.test(msg) ? 'certificate' : 'tls-handshake';
  // closed mid-session, oversized or unparseable replies: the server broke the protocol
  if (code === 'EPROTOCOL' || code === 'ECONNECTION' || code === 'ESOCKET') return 'protocol';
  return null;
}

export function xoauth2String(user: string, token: string): string {
  return `user=${user}\u0001auth=Bearer ${token}\u0001\u0001`;
}

/** SASL XOAUTH2 (RFC 7628 style): one initial response; a 334 error challenge is answered with an empty line. */
function xoauth2Handler(sasl: string) {
  const initial = Buffer.from(sasl, 'utf8').toString('base64');
  return async (ctx: SMTPConnection.CustomAuthenticationContext): Promise<void> => {
    try {
      let reply = await ctx.sendCommand(`AUTH XOAUTH2 ${initial}`);
      if (reply.status === 334) reply = await ctx.sendCommand('');
      if (reply.status === 235) ctx.resolve();
      else ctx.reject(new Error('Invalid login'));
    } catch (err) {
      ctx.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
}
