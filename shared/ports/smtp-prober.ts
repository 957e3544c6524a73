/**
 * The SMTP probe port: one test send through a relay or submission endpoint, recorded step by step.
 *
 * Error contract: `probe()` never rejects for anything a server or the network does. A refused connection, a DNS
 * failure, a timeout (per step or overall), a failed TLS handshake, an untrusted certificate, a server that stalls,
 * trickles bytes or sends an oversized reply, and every SMTP reply (including 4xx/5xx) are *values*: they end in
 * `ProbeResult.diagnosis`. It rejects only with `ProbeRequestError`, before any connection is made, for a request that
 * is a programming or configuration error: a recipient that is not one of the tenant's configured probe recipients
 * (the prober is not a general mail sender), or an address or value that would break the envelope or the headers.
 *
 * Secrets (passwords, OAuth tokens, and their base64 forms) never appear in a `ProbeResult`.
 */
import type { Diagnosis, ProbeStage } from '../probe/diagnosis.ts';

export type TlsPolicy = 'starttls-required' | 'starttls-if-offered' | 'none';

export type ProbeAuth =
  | { readonly mechanism: 'XOAUTH2'; readonly user: string; readonly token: string }
  | { readonly mechanism: 'LOGIN' | 'PLAIN'; readonly user: string; readonly pass: string };

export interface ProbeTimeouts {
  /** The longest a single step (connect, a command and its reply, the TLS handshake) may take without progress. */
  readonly stepMs: number;
  /** The longest the whole probe may take. */
  readonly totalMs: number;
}

export const DEFAULT_PROBE_TIMEOUTS: ProbeTimeouts = { stepMs: 30_000, totalMs: 120_000 };

export interface ProbeRequest {
  readonly host: string;
  readonly port: number;
  /** The name sent with EHLO. */
  readonly ehloName: string;
  readonly tls: TlsPolicy;
  readonly auth?: ProbeAuth;
  /** Envelope sender and From: address. */
  readonly from: string;
  /** Envelope recipient and To: address; must be one of `allowedRecipients` (compared case-insensitively). */
  readonly to: string;
  /** The tenant's configured probe recipients. */
  readonly allowedRecipients: readonly string[];
  readonly tenantId: string;
  readonly probeId: string;
  readonly timeouts?: ProbeTimeouts;
  /** Extra CA certificates (PEM) to trust; for tests and private endpoints. */
  readonly ca?: string | readonly string[];
  /**
   * When true (the default) a certificate that does not verify ends the probe after STARTTLS with
   * `certificate-invalid`, before AUTH. When false the probe goes on and `TlsFacts.authorized` records the failure.
   */
  readonly rejectUnauthorized?: boolean;
}

export interface TranscriptEntry {
  readonly stage: ProbeStage;
  /** Milliseconds since the probe started. */
  readonly at: number;
  /** The client line sent, with credentials and tokens replaced by `<redacted>`. */
  readonly sent?: string;
  /** The server reply as received: its lines, sanitised (control characters replaced) and capped. */
  readonly reply?: readonly string[];
  /** What happened without a command or reply (resolved address, TLS upgrade, a local decision, an error). */
  readonly note?: string;
}

export interface TlsFacts {
  /** e.g. `TLSv1.3`. */
  readonly version: string | null;
  /** OpenSSL/IANA cipher name, e.g. `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string | null;
  /** The leaf certificate's subject, e.g. `CN=localhost`. */
  readonly subject: string | null;
  readonly issuer: string | null;
  /** ISO 8601 expiry of the leaf certificate. */
  readonly validTo: string | null;
  /** Whether the chain and the host name verified. */
  readonly authorized: boolean;
  /** Node's reason when not authorized, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`. */
  readonly authorizationError: string | null;
}

export interface ProbeResult {
  readonly transcript: readonly TranscriptEntry[];
  /** Null when no TLS session was established. */
  readonly tls: TlsFacts | null;
  /** `ok` at `data-end` when the message was queued; otherwise what stopped the probe, and where. */
  readonly diagnosis: Diagnosis;
  /** Milliseconds spent in each stage that was reached (a stage run twice, like EHLO after STARTTLS, adds up). */
  readonly timings: Partial<Record<ProbeStage, number>>;
  /** The Message-ID header of the probe message, without angle brackets. */
  readonly messageId: string;
  /** The server's queue id from the final reply (Exchange's InternalId), when it gave one. */
  readonly queueId: string | null;
}

export interface SmtpProber {
  /** One probe send. Never rejects for server or network behaviour: see the module comment. */
  probe(request: ProbeRequest): Promise<ProbeResult>;
}

/** A probe request that must not be sent (not a server's answer). */
export class ProbeRequestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProbeRequestError';
  }
}
