/**
 * `TokenProvider` on `@azure/msal-node`: the client credentials grant (`acquireTokenByClientCredential`) against
 * Microsoft Entra ID, for SMTP AUTH XOAUTH2 with Exchange Online.
 *
 * One `ConfidentialClientApplication` per (authority host, tenant, client ID, SHA-256 of the secret), kept for as long
 * as it is used, so that msal's in-memory token cache serves repeated requests: msal returns a cached access token
 * until it is within 5 minutes of its expiry (`DEFAULT_TOKEN_RENEWAL_OFFSET_SEC`) and then asks the endpoint again. A
 * rotated secret is a new application (its old one is dropped after two idle hours, when its tokens have expired).
 * Concurrent calls for the same application and scope share one request: msal itself does not coalesce
 * `acquireTokenByClientCredential` calls.
 *
 * Network: the only HTTP request is the token POST. msal normally resolves an authority before its first request:
 * cloud instance discovery (`GET https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&…`)
 * and the tenant's OpenID configuration (`GET {authority}/v2.0/.well-known/openid-configuration`), unless the host is
 * in its hard-coded list (login.microsoftonline.com is). We hand msal both answers in the configuration
 * (`cloudDiscoveryMetadata` with the host as its only alias, `authorityMetadata` with the v2.0 endpoints Entra ID
 * publishes for every tenant: `{authority}/oauth2/v2.0/token` etc.), which is what the discovery would return for
 * login.microsoftonline.com, saves the round trips on any host, and makes a private or loopback authority host work
 * without the Internet. With the endpoints taken from the configuration msal also skips region discovery (the IMDS
 * call that `MSAL_FORCE_REGION` would otherwise trigger; the request also opts out of it explicitly).
 *
 * msal's HTTP goes through our `INetworkModule` on Node's https (shared/http/request.ts): one time limit for the whole request (connect, headers,
 * body), extra CA certificates for tests and private endpoints, a capped body, and failures kept apart (refused,
 * reset, DNS, TLS, timeout, a body that is not JSON). msal wraps any error that is not an `AuthError` into a bare
 * `network_error`, so ours are `AuthError`s that carry what happened.
 *
 * Throttling (msal's, not ours): after an HTTP 429 or 5xx answer msal refuses to send the same request again for the
 * server's Retry-After or 60 s (at most an hour) and fails at once with the remembered error; that is reported as
 * `other`, retryable.
 *
 * Secrets: the client secret (also URL-encoded) and anything that looks like a JWT are scrubbed from every message;
 * known Entra ID errors get a fixed sentence, and only unknown ones quote (sanitised) server text.
 */
import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import {
  AuthError,
  ConfidentialClientApplication,
  type INetworkModule,
  LogLevel,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { httpRequest } from '../../http/request.ts';
import {
  OUTLOOK_SMTP_SCOPE,
  type TokenFailureReason,
  type TokenProvider,
  type TokenRequest,
  type TokenResult,
} from '../../ports/token-provider.ts';

export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
export const DEFAULT_TOKEN_TIMEOUT_MS = 15_000;

/** Longest token endpoint answer read (Entra ID's are a few KB). */
const MAX_BODY_BYTES = 256 * 1024;
const MAX_MESSAGE_CHARS = 300;
/** An application unused for this long is dropped: its cached tokens (about an hour) have expired anyway. */
const APP_IDLE_MS = 2 * 60 * 60 * 1000;

export interface MsalTokenProviderOptions {
  /** Scheme and host (and port) of the authority; default `https://login.microsoftonline.com`. Must be https. */
  readonly authorityHost?: string;
  /** Limit for one HTTP request (connect, headers, body); default 15 s. */
  readonly timeoutMs?: number;
  /** Extra CA certificates (PEM) to trust besides Node's roots; for tests and private endpoints. */
  readonly ca?: string | readonly string[];
  /** Milliseconds clock for the idle eviction of applications. */
  readonly now?: () => number;
}

interface AppEntry {
  readonly app: ConfidentialClientApplication;
  lastUsed: number;
}

type Failure = Extract<TokenResult, { ok: false }>;

export class MsalTokenProvider implements TokenProvider {
  readonly #authorityHost: string;
  readonly #hostAndPort: string;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #agent: Agent;
  readonly #network: HttpsNetworkClient;
  readonly #apps = new Map<string, AppEntry>();
  readonly #inFlight = new Map<string, Promise<TokenResult>>();

  /** @throws on invalid options (a programming error). */
  constructor(options: MsalTokenProviderOptions = {}) {
    const host = options.authorityHost ?? DEFAULT_AUTHORITY_HOST;
    let url: URL;
    try {
      url = new URL(host);
    } catch {
      throw new Error(`authorityHost is not a URL: ${JSON.stringify(host)}`);
    }
    if (
      url.protocol !== 'https:' ||
      url.username !== '' ||
      url.password !== '' ||
      url.search !== '' ||
      url.hash !== ''
    ) {
      throw new Error(`authorityHost must be a plain https URL: ${JSON.stringify(host)}`);
    }
    if (url.pathname !== '/') throw new Error(`authorityHost must not have a path: ${JSON.stringify(host)}`);
    this.#authorityHost = url.origin;
    this.#hostAndPort = url.host;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new Error('timeoutMs must be a positive number');
    this.#timeoutMs = timeoutMs;
    this.#now = options.now ?? Date.now;
    const extraCa = options.ca === undefined ? [] : typeof options.ca === 'string' ? [options.ca] : [...options.ca];
    // The whole-request time limit of the network client covers connect, headers and body.
    this.#agent = new Agent({
      keepAlive: true,
      ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
    });
    this.#network = new HttpsNetworkClient(this.#agent, timeoutMs);
  }

  async getToken(request: TokenRequest): Promise<TokenResult> {
    let secret = '';
    try {
      secret = typeof request?.clientSecret === 'string' ? request.clientSecret : '';
      const valid = validate(request);
      if ('failure' in valid) return finish(valid.failure, secret);
      const appKey = [
        this.#authorityHost,
        valid.tenant,
        valid.clientId,
        createHash('sha256').update(valid.clientSecret).digest('hex'),
      ].join('\n');
      const flightKey = `${appKey}\n${valid.scope}`;
      const joined = this.#inFlight.get(flightKey);
      if (joined !== undefined) return await joined;
      const flight = this.#acquire(appKey, valid).finally(() => this.#inFlight.delete(flightKey));
      this.#inFlight.set(flightKey, flight);
      return await flight;
    } catch (err) {
      // Not expected: #acquire does not reject. Kept so that the contract holds whatever happens.
      return finish(unexpected(err), secret);
    }
  }

  /** Releases the HTTP connections and forgets every application (and with them msal's cached tokens). */
  async close(): Promise<void> {
    this.#apps.clear();
    this.#agent.destroy();
  }

  async #acquire(appKey: string, req: ValidRequest): Promise<TokenResult> {
    try {
      const app = this.#app(appKey, req);
      const result = await app.acquireTokenByClientCredential({
        scopes: [req.scope],
        // Never let MSAL_FORCE_REGION in the environment send us to a regional endpoint (or IMDS).
        azureRegion: 'DisableMsalForceRegion',
      });
      if (result === null || typeof result.accessToken !== 'string' || result.accessToken === '') {
        return finish(
          fail('bad-response', 'The token endpoint answered without an access token', false),
          req.clientSecret,
        );
      }
      const expiresAt = result.expiresOn;
      if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) {
        return finish(
          fail('bad-response', 'The token endpoint answered without a valid expiry', false),
          req.clientSecret,
        );
      }
      return { ok: true, token: result.accessToken, expiresAt, fromCache: result.fromCache === true };
    } catch (err) {
      return finish(this.#failureFrom(err), req.clientSecret);
    }
  }

  #app(appKey: string, req: ValidRequest): ConfidentialClientApplication {
    const now = this.#now();
    for (const [key, entry] of this.#apps) {
      if (now - entry.lastUsed > APP_IDLE_MS) this.#apps.delete(key);
    }
    const existing = this.#apps.get(appKey);
    if (existing !== undefined) {
      existing.lastUsed = now;
      return existing.app;
    }
    const authority = `${this.#authorityHost}/${req.tenant}`;
    const app = new ConfidentialClientApplication({
      auth: {
        clientId: req.clientId,
        clientSecret: req.clientSecret,
        authority,
        knownAuthorities: [this.#hostAndPort],
        cloudDiscoveryMetadata: JSON.stringify(cloudDiscoveryMetadata(this.#hostAndPort)),
        authorityMetadata: JSON.stringify(authorityMetadata(authority)),
      },
      system: {
        networkClient: this.#network,
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => {} },
      },
    });
    this.#apps.set(appKey, { app, lastUsed: now });
    return app;
  }

  #failureFrom(err: unknown): Failure {
    const host = this.#hostAndPort;
    const transport = transportOf(err);
    if (transport !== null) {
      switch (transport.kind) {
        case 'timeout':
          return fail('timeout', `No answer from the token endpoint ${host} within ${this.#timeoutMs} ms`, true);
        case 'network':
          return fail(
            'network',
            `Could not reach the token endpoint ${host}: ${transport.detail}`,
            transport.retryable,
          );
        case 'bad-response':
        case 'http':
          if (transport.status !== undefined && (transport.status >= 500 || transport.status === 429)) {
            return fail(
              'other',
              `The token endpoint ${host} is unavailable (HTTP ${transport.status}, ${transport.detail}): try again later`,
              true,
            );
          }
          return fail('bad-response', `The token endpoint ${host} ${transport.detail}`, false);
      }
    }
    if (err instanceof AuthError) return authErrorFailure(err, host);
    return unexpected(err);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

interface ValidRequest {
  readonly tenant: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
}

const DNS_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const TENANT = new RegExp(`^${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);
const RESERVED_TENANTS = new Set(['common', 'organizations', 'consumers']);
const PRINTABLE = /^[\x21-\x7e]+$/;

/** Request values are never quoted in messages: a secret pasted into the wrong field must not leak. */
function validate(req: TokenRequest): ValidRequest | { failure: Failure } {
  const invalid = (what: string) => ({ failure: fail('other', `Invalid token request: ${what}`, false) });
  if (req === null || typeof req !== 'object') return invalid('no request');
  if (typeof req.entraTenantId !== 'string') return invalid('entraTenantId is missing');
  const tenant = req.entraTenantId.trim().toLowerCase();
  if (tenant.length === 0 || tenant.length > 253 || !TENANT.test(tenant)) {
    return invalid("entraTenantId must be the tenant's GUID or a domain such as contoso.onmicrosoft.com");
  }
  if (RESERVED_TENANTS.has(tenant)) {
    return invalid("entraTenantId must name the customer's tenant, not common, organizations or consumers");
  }
  if (typeof req.clientId !== 'string' || req.clientId.length > 128 || !PRINTABLE.test(req.clientId.trim())) {
    return invalid('clientId must be the app registration’s application (client) ID');
  }
  if (typeof req.clientSecret !== 'string' || req.clientSecret === '') return invalid('clientSecret is empty');
  const scope = req.scope ?? OUTLOOK_SMTP_SCOPE;
  if (typeof scope !== 'string' || scope.length > 512 || !PRINTABLE.test(scope)) {
    return invalid('scope must be a single scope such as https://outlook.office365.com/.default');
  }
  return { tenant, clientId: req.clientId.trim(), clientSecret: req.clientSecret, scope };
}

/** What instance discovery answers for the host: its only alias, used for requests and as the cache environment. */
function cloudDiscoveryMetadata(hostAndPort: string) {
  return {
    tenant_discovery_endpoint: `https://${hostAndPort}/{tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: hostAndPort, preferred_cache: hostAndPort, aliases: [hostAndPort] }],
  };
}

/** The tenant's v2.0 OpenID configuration as Entra ID publishes it (only `token_endpoint` is used by this grant). */
function authorityMetadata(authority: string) {
  return {
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
    issuer: `${authority}/v2.0`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Entra ID errors

interface KnownError {
  readonly reason: TokenFailureReason;
  /** `{code}` is replaced by the AADSTS code. */
  readonly text: string;
  readonly retryable?: boolean;
}

const SECRET_ADVICE = "create a new secret for the app and update relaywatch's secret (the secret's value, not its ID)";

/** By AADSTS number. Sources: Entra ID's AADSTS error reference and what the token endpoint answers. */
const KNOWN_CODES: Readonly<Record<string, KnownError>> = {
  '7000215': {
    reason: 'invalid-client-secret',
    text: `Entra ID rejected the client secret ({code}): ${SECRET_ADVICE}`,
  },
  '7000222': {
    reason: 'expired-client-secret',
    text: `The app's client secret has expired ({code}): ${SECRET_ADVICE}`,
  },
  '700016': {
    reason: 'app-not-found',
    text: "Entra ID does not know the app in this tenant ({code}): check the client ID and the tenant; a multi-tenant app needs admin consent in the customer's tenant",
  },
  '90002': {
    reason: 'tenant-not-found',
    text: 'Entra ID does not know the tenant ({code}): check entraTenantId (the tenant GUID or a verified domain)',
  },
  '900023': {
    reason: 'tenant-not-found',
    text: 'Entra ID does not accept the tenant identifier ({code}): check entraTenantId (the tenant GUID or a verified domain)',
  },
  '65001': {
    reason: 'consent-required',
    text: 'Admin consent for the app is missing ({code}): grant admin consent for Office 365 Exchange Online SMTP.SendAsApp',
  },
  '650057': {
    reason: 'consent-required',
    text: 'The app registration does not request Exchange Online permissions ({code}): add Office 365 Exchange Online SMTP.SendAsApp and grant admin consent',
  },
  '7000229': {
    reason: 'consent-required',
    text: "The app has no service principal in the tenant ({code}): grant admin consent in the customer's tenant",
  },
  '7000112': { reason: 'unauthorized-client', text: 'The app is disabled in Entra ID ({code}): enable it' },
  '700025': {
    reason: 'unauthorized-client',
    text: 'The app is registered as a public client and cannot use a client secret ({code}): turn off "Allow public client flows"',
  },
  '53003': {
    reason: 'unauthorized-client',
    text: 'A Conditional Access policy blocked the app ({code}): review the workload identity policies',
  },
  '70011': {
    reason: 'invalid-scope',
    text: 'Entra ID rejected the scope ({code}): app-only SMTP needs https://outlook.office365.com/.default',
  },
  '1002012': {
    reason: 'invalid-scope',
    text: 'Entra ID rejected the scope ({code}): the client credentials grant needs a scope ending in /.default',
  },
  '500011': {
    reason: 'other',
    text: 'Exchange Online is not available in the tenant ({code}): the tenant has no Exchange Online service principal',
  },
};

/** By OAuth `error` when the code is not known. */
const KNOWN_ERRORS: Readonly<Record<string, KnownError>> = {
  invalid_scope: { reason: 'invalid-scope', text: 'Entra ID rejected the scope ({code})' },
  unauthorized_client: { reason: 'unauthorized-client', text: 'Entra ID does not allow the app this grant ({code})' },
  invalid_tenant: { reason: 'tenant-not-found', text: 'Entra ID does not know the tenant ({code})' },
  consent_required: { reason: 'consent-required', text: 'Admin consent for the app is missing ({code})' },
  temporarily_unavailable: {
    reason: 'other',
    text: 'Entra ID is temporarily unavailable ({code}): try again later',
    retryable: true,
  },
};

function authErrorFailure(err: AuthError, host: string): Failure {
  const status = numberProp(err, 'status');
  const errorNo = stringProp(err, 'errorNo');
  const isServerError = err.name === 'ServerError' || err.name === 'InteractionRequiredAuthError';
  const oauthError = /^[a-z_]{1,64}$/.test(err.errorCode) ? err.errorCode : null;
  const digits =
    errorNo !== null && /^\d{1,9}$/.test(errorNo)
      ? errorNo
      : (/AADSTS(\d{1,9})/.exec(err.errorMessage)?.[1] ?? /^(\d{1,9})\b/.exec(err.errorCode)?.[1] ?? null);
  const aadsts = digits === null ? null : `AADSTS${digits}`;
  const label = [aadsts, oauthError].filter((s) => s !== null).join(', ') || 'no error code';

  if (isServerError && err.name === 'ServerError' && status === undefined) {
    // msal's throttle: the remembered answer of an earlier 429/5xx, replayed without a request.
    return fail(
      'other',
      `Entra ID answered an earlier request with HTTP 429 or 5xx (${label}); msal holds this request back for the server's Retry-After or 60 s: try again later`,
      true,
      aadsts,
    );
  }
  if (status !== undefined && (status >= 500 || status === 429)) {
    return fail('other', `Entra ID is unavailable (HTTP ${status}, ${label}): try again later`, true, aadsts);
  }
  const known = digits === null ? undefined : KNOWN_CODES[digits];
  if (known !== undefined) {
    return fail(known.reason, known.text.replace('{code}', label), known.retryable ?? false, aadsts);
  }
  const byError = oauthError === null ? undefined : KNOWN_ERRORS[oauthError];
  if (byError !== undefined) {
    return fail(byError.reason, byError.text.replace('{code}', label), byError.retryable ?? false, aadsts);
  }
  if (isServerError) {
    const description = serverDescription(err.errorMessage);
    return fail(
      'other',
      `Entra ID refused the token request (${label}${status === undefined ? '' : `, HTTP ${status}`})${description === '' ? '' : `: ${description}`}`,
      false,
      aadsts,
    );
  }
  if (err.errorCode === 'network_error') {
    return fail('network', `Could not reach the token endpoint ${host} (msal network_error)`, true);
  }
  const code = /^[A-Za-z0-9_]{1,64}$/.test(err.errorCode) ? err.errorCode : 'unknown';
  return fail('other', `msal failed before or after the token request (${code})`, false);
}

/** The description part of msal's `Error(s): … - Description: AADSTS…: text\r\nTrace ID: … - Correlation ID: …`. */
function serverDescription(errorMessage: string): string {
  let text = errorMessage;
  const at = text.indexOf('Description: ');
  if (at >= 0) text = text.slice(at + 'Description: '.length);
  // indexOf, not a search for /\s*(?:Trace ID:|…)/: that pattern is quadratic on a long run of white space
  const ends = ['Trace ID:', 'Correlation ID:', ' - Correlation ID'].map((m) => text.indexOf(m)).filter((i) => i >= 0);
  if (ends.length > 0) text = text.slice(0, Math.min(...ends));
  return text.replace(/^\s*AADSTS\d+:\s*/, '').trim();
}

function unexpected(err: unknown): Failure {
  const name = err instanceof Error && /^[A-Za-z]{1,40}$/.test(err.name) ? err.name : 'error';
  return fail('other', `Unexpected failure while getting a token (${name})`, false);
}

function fail(reason: TokenFailureReason, message: string, retryable: boolean, aadsts: string | null = null): Failure {
  return { ok: false, reason, aadsts, message, retryable };
}

/** The last step of every failure: the message sanitised and scrubbed. */
function finish(failure: Failure, secret: string): Failure {
  return { ...failure, message: sanitiseMessage(failure.message, secret) };
}

const JWT_LIKE = /eyJ[A-Za-z0-9_\-.+/=%]*/g;

/** One line, no control or bidi characters, no secret (also URL- or JSON-encoded), no JWT, at most 300 chars. */
export function sanitiseMessage(text: string, secret: string): string {
  const variants =
    secret === ''
      ? []
      : [
          ...new Set([
            secret,
            encodeURIComponent(secret),
            encodeURIComponent(secret).replace(/%20/g, '+'),
            JSON.stringify(secret).slice(1, -1),
          ]),
        ].sort((a, b) => b.length - a.length);
  const scrub = (s: string) => {
    let out = s;
    for (const v of variants) if (out.includes(v)) out = out.split(v).join('<redacted>');
    return out.replace(JWT_LIKE, '<redacted>');
  };
  let out = scrub(text);
  out = Array.from(out, (ch) => (isControlOrBidi(ch.codePointAt(0) ?? 0) ? ' ' : ch)).join('');
  out = scrub(out.replace(/\s+/g, ' ').trim());
  if (out.length > MAX_MESSAGE_CHARS) out = `${out.slice(0, MAX_MESSAGE_CHARS - 1)}…`;
  return out;
}

function isControlOrBidi(cp: number): boolean {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x200e ||
    cp === 0x200f ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  );
}

function numberProp(o: object, key: string): number | undefined {
  const v: unknown = (o as Record<string, unknown>)[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function stringProp(o: object, key: string): string | null {
  const v: unknown = (o as Record<string, unknown>)[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// msal's network module on Node's https

type TransportKind = 'network' | 'timeout' | 'bad-response' | 'http';

/**
 * A failure of the HTTP exchange itself. An `AuthError` so that msal passes it through unchanged (it replaces any
 * other error with a bare `network_error`); `detail` is our own text, never the response body.
 */
class TransportError extends AuthError {
  readonly kind: TransportKind;
  readonly detail: string;
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(kind: TransportKind, detail: string, options: { status?: number; retryable?: boolean } = {}) {
    super(`transport_${kind.replace('-', '_')}`, '', detail);
    // AuthError's constructor pins the prototype to AuthError's; restore ours.
    Object.setPrototypeOf(this, new.target.prototype);
    this.name = 'TransportError';
    this.kind = kind;
    this.detail = detail;
    this.status = options.status;
    this.retryable = options.retryable ?? true;
  }
}

function transportOf(err: unknown): TransportError | null {
  return err instanceof TransportError ? err : null;
}

const TIMEOUT_CODES = new Set(['ETIMEDOUT']);

const NETWORK_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'DNS lookup failed temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ERR_STREAM_PREMATURE_CLOSE: 'connection closed unexpectedly',
};

/** OpenSSL verification failures: a retry does not fix a certificate. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function errorCode(err: unknown): string | null {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== null && typeof e === 'object'; depth++) {
    const code: unknown = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

function transportErrorFrom(err: unknown, timedOut: boolean): TransportError {
  const code = errorCode(err);
  if (timedOut || (code !== null && TIMEOUT_CODES.has(code))) return new TransportError('timeout', 'timed out');
  if (code !== null && TLS_CODES.has(code)) {
    return new TransportError('network', `TLS certificate not trusted (${code})`, { retryable: false });
  }
  if (code?.startsWith('ERR_SSL')) {
    return new TransportError('network', `TLS handshake failed (${code})`, { retryable: false });
  }
  const text = code === null ? undefined : NETWORK_TEXT[code];
  return new TransportError(
    'network',
    text === undefined ? `network error (${code ?? 'unknown'})` : `${text} (${code})`,
  );
}

class HttpsNetworkClient implements INetworkModule {
  readonly #agent: Agent;
  readonly #timeoutMs: number;

  constructor(agent: Agent, timeoutMs: number) {
    this.#agent = agent;
    this.#timeoutMs = timeoutMs;
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.#send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.#send<T>('POST', url, options);
  }

  async #send<T>(
    method: 'GET' | 'POST',
    url: string,
    options: NetworkRequestOptions | undefined,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    const limit = timeout !== undefined && timeout > 0 ? Math.min(timeout, this.#timeoutMs) : this.#timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, limit);
    try {
      const res = await httpRequest(url, {
        method,
        headers: options?.headers ?? {},
        ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
        agent: this.#agent,
        signal: controller.signal,
        maxBodyBytes: MAX_BODY_BYTES,
      });
      const status = res.status;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      }
      if (res.overflow) {
        throw new TransportError('bad-response', `answered HTTP ${status} with a body over ${MAX_BODY_BYTES} bytes`, {
          status,
        });
      }
      const body = parseJson(res.body.toString('utf8'));
      const type = describeContentType(headers['content-type']);
      if (body === undefined) {
        throw new TransportError('bad-response', `answered HTTP ${status} with a body that is not JSON (${type})`, {
          status,
        });
      }
      const ok = status >= 200 && status < 300;
      if (!ok && typeof body.error !== 'string') {
        throw new TransportError('http', `answered HTTP ${status} without an OAuth error`, { status });
      }
      if (ok && method === 'POST') {
        const expires = body.expires_in;
        const expiresOk =
          (typeof expires === 'number' && Number.isFinite(expires)) ||
          (typeof expires === 'string' && /^\d{1,10}$/.test(expires));
        if (typeof body.access_token !== 'string' || body.access_token === '' || !expiresOk) {
          throw new TransportError('bad-response', `answered HTTP ${status} without an access token and its lifetime`, {
            status,
          });
        }
      }
      return { headers, body: body as T, status };
    } catch (err) {
      if (err instanceof TransportError) throw err;
      throw transportErrorFrom(err, timedOut);
    } finally {
      clearTimeout(timer);
    }
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function describeContentType(value: string | undefined): string {
  const type = value?.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^[a-z0-9.+-]{1,40}\/[a-z0-9.+-]{1,60}$/.test(type) ? type : 'no usable content type';
}
