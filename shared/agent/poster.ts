/**
 * POST a signed JSON document from the site agent to the MSP's ingest URL, with retries.
 *
 * - Every attempt is signed afresh (`signRequest`), so a retry after a long backoff is never `stale`, and with a
 *   timestamp later than the previous attempt's, so a quick retry is never taken for a replay (same timestamp and
 *   body would give the same signature).
 * - Retried: network errors, timeouts, HTTP 5xx, 408 and 429. `Retry-After` (seconds or an HTTP date) is honoured on
 *   a retryable status, capped by `maxDelayMs`; otherwise exponential backoff with full jitter:
 *   `random() × min(maxDelayMs, baseDelayMs × 2^(retry-1))`.
 * - Only https, except to a loopback address (a local test ingest): a report and its signature never cross a network
 *   in clear.
 * - Not retried: any other 4xx (401/403: the ingest does not accept this agent's id or secret) and 3xx (redirects are
 *   not followed: a signed POST must reach the configured URL).
 *
 * Error contract: `postSigned()` never rejects. Messages never contain the secret nor the URL's query string, user
 * info or fragment (a query may carry a key): the URL is shown as origin + path.
 */

import { Agent } from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { isLoopbackHost } from '../domain/ip.ts';
import { httpRequest } from '../http/request.ts';
import { signRequest } from '../ingest/signature.ts';

export interface PostSignedOptions {
  readonly url: string;
  /** The JSON text, sent and signed byte for byte. */
  readonly body: string;
  readonly agentId: string;
  readonly secret: string;
  /** Budget of one attempt (connect, send, response and body) in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Attempts after the first (default 3). */
  readonly retries?: number;
  /** First backoff ceiling in ms (default 500). */
  readonly baseDelayMs?: number;
  /** Largest wait between attempts in ms, Retry-After included (default 30 000). */
  readonly maxDelayMs?: number;
  /** Uniform in [0, 1) (default `Math.random`). */
  readonly random?: () => number;
  /** Wait `ms`; should end early (resolve or reject) when `signal` aborts. Default: a timer. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Clock for the signature timestamp, ms (default `Date.now`). */
  readonly now?: () => number;
  /** An https agent of the caller's (it is not destroyed). Wins over `ca`. */
  readonly agent?: Agent;
  /** Extra trusted CA (PEM) for an ingest endpoint with a private certificate. */
  readonly ca?: string;
  /** Stops waiting and attempting; the result is then `ok: false`, `retryable: true`. */
  readonly signal?: AbortSignal;
  /** Called before each wait, for logging. */
  readonly onRetry?: (info: { readonly attempt: number; readonly delayMs: number; readonly reason: string }) => void;
}

export type PostResult =
  | { readonly ok: true; readonly status: number; readonly attempts: number }
  | {
      readonly ok: false;
      /** The last HTTP status, or null when the last attempt got no response. */
      readonly status: number | null;
      readonly attempts: number;
      /** Would trying later help? (false for a 4xx other than 408/429, and for a redirect) */
      readonly retryable: boolean;
      readonly message: string;
    };

/** Largest response body read (and shown, shortened) from the ingest. */
const MAX_RESPONSE_BYTES = 4096;
const MAX_SNIPPET = 200;

type AttemptOutcome =
  | { kind: 'ok'; status: number }
  | { kind: 'retry'; status: number | null; reason: string; retryAfterMs: number | null }
  | { kind: 'fatal'; status: number; reason: string };

export async function postSigned(options: PostSignedOptions): Promise<PostResult> {
  const shown = safeUrl(options.url);
  const redact = (text: string): string => redactSecrets(text, options);
  const finish = (result: PostResult): PostResult =>
    result.ok ? result : { ...result, message: redact(result.message) };

  const retries = Math.max(0, Math.floor(options.retries ?? 3));
  const timeoutMs = options.timeoutMs ?? 10_000;
  const baseDelayMs = Math.max(0, options.baseDelayMs ?? 500);
  const maxDelayMs = Math.max(0, options.maxDelayMs ?? 30_000);
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;

  let target: URL;
  try {
    target = new URL(options.url);
  } catch {
    return finish({ ok: false, status: null, attempts: 0, retryable: false, message: 'the ingest URL is not valid' });
  }
  if (target.protocol !== 'https:' && !(target.protocol === 'http:' && isLoopbackHost(target.hostname))) {
    return finish({
      ok: false,
      status: null,
      attempts: 0,
      retryable: false,
      message: `the ingest URL must be https (http only to a loopback address; got ${target.protocol.slice(0, 10)})`,
    });
  }

  let ownAgent: Agent | undefined;
  let dispatcher = options.agent;
  if (dispatcher === undefined && options.ca !== undefined) {
    try {
      ownAgent = new Agent({ keepAlive: true, ca: options.ca });
    } catch (err) {
      return finish({
        ok: false,
        status: null,
        attempts: 0,
        retryable: false,
        message: `the CA could not be used: ${errorText(err)}`,
      });
    }
    dispatcher = ownAgent;
  }

  try {
    let attempts = 0;
    let lastSecond = Number.NEGATIVE_INFINITY;
    let last: AttemptOutcome | undefined;
    for (;;) {
      if (options.signal?.aborted) {
        return finish({
          ok: false,
          status: last && last.kind !== 'ok' ? last.status : null,
          attempts,
          retryable: true,
          message: `posting to ${shown} was aborted after ${attempts} attempt(s)`,
        });
      }
      attempts++;
      let headers: Record<string, string>;
      // Same timestamp and body give the same signature, which the ingest's replay guard rejects: every attempt
      // gets a later second than the previous one (at most `retries` seconds ahead, well inside the tolerance).
      let signAt = now();
      if (Math.floor(signAt / 1000) <= lastSecond) signAt = (lastSecond + 1) * 1000;
      lastSecond = Math.floor(signAt / 1000);
      try {
        headers = signRequest({
          agentId: options.agentId,
          secret: options.secret,
          body: options.body,
          url: target,
          now: signAt,
        });
      } catch (err) {
        return finish({
          ok: false,
          status: null,
          attempts,
          retryable: false,
          message: `the request could not be signed: ${errorText(err)}`,
        });
      }
      last = await attempt(options.url, options.body, headers, timeoutMs, dispatcher, options.signal, redact);
      if (last.kind === 'ok') return { ok: true, status: last.status, attempts };
      if (last.kind === 'fatal') {
        return finish({
          ok: false,
          status: last.status,
          attempts,
          retryable: false,
          message: `${shown} rejected the report: ${last.reason}`,
        });
      }
      if (attempts > retries) {
        return finish({
          ok: false,
          status: last.status,
          attempts,
          retryable: true,
          message: `${shown} failed after ${attempts} attempt(s): ${last.reason}`,
        });
      }
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempts - 1));
      const waitMs =
        last.retryAfterMs !== null ? Math.min(maxDelayMs, last.retryAfterMs) : Math.floor(random() * ceiling);
      options.onRetry?.({ attempt: attempts, delayMs: waitMs, reason: redact(last.reason) });
      try {
        await sleep(waitMs, options.signal);
      } catch {
        // an aborted sleep: the loop's abort check reports it
      }
    }
  } catch (err) {
    // not expected (every step above catches its own errors); keeps the never-rejects promise
    return finish({ ok: false, status: null, attempts: 0, retryable: true, message: `unexpected: ${errorText(err)}` });
  } finally {
    ownAgent?.destroy();
  }
}

async function attempt(
  url: string,
  body: string,
  signed: Record<string, string>,
  timeoutMs: number,
  dispatcher: Agent | undefined,
  callerSignal: AbortSignal | undefined,
  redact: (text: string) => string,
): Promise<AttemptOutcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = callerSignal ? AbortSignal.any([timeout, callerSignal]) : timeout;
  let status: number | null = null;
  try {
    // Redirects are never followed (httpRequest returns the 3xx).
    const res = await httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/plain;q=0.9', ...signed },
      body,
      signal,
      maxBodyBytes: MAX_RESPONSE_BYTES,
      ...(dispatcher && url.startsWith('https:') ? { agent: dispatcher } : {}),
    });
    status = res.status;
    const text = res.body.toString('utf8');
    if (status >= 200 && status <= 299) return { kind: 'ok', status };
    const snippet = snippetOf(text, redact);
    if (status >= 500 || status === 408 || status === 429) {
      return {
        kind: 'retry',
        status,
        reason: `HTTP ${status}${snippet}`,
        retryAfterMs: retryAfter(headerValue(res.headers['retry-after'])),
      };
    }
    if (status === 401 || status === 403) {
      return {
        kind: 'fatal',
        status,
        reason: `HTTP ${status}: the ingest does not accept this agent's signature; check the agent id and secret (and the clock)${snippet}`,
      };
    }
    if (status >= 300 && status <= 399) {
      return {
        kind: 'fatal',
        status,
        reason: `HTTP ${status} redirect; a signed report is not forwarded, configure the final ingest URL`,
      };
    }
    return { kind: 'fatal', status, reason: `HTTP ${status}${snippet}` };
  } catch (err) {
    if (timeout.aborted) {
      return { kind: 'retry', status, reason: `no response within ${timeoutMs} ms`, retryAfterMs: null };
    }
    if (callerSignal?.aborted) return { kind: 'retry', status, reason: 'aborted', retryAfterMs: null };
    return { kind: 'retry', status, reason: `network error: ${errorText(err)}`, retryAfterMs: null };
  }
}

/** `Retry-After` in ms: delta seconds or an HTTP date; null when absent or unreadable. */
export function retryAfter(value: string | null, nowMs = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^[0-9]{1,9}$/.test(text)) return Number(text) * 1000;
  if (!/[A-Za-z]/.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** `: <first 200 characters of the body>` with control characters replaced, or '' for an empty body. */
function snippetOf(text: string, redact: (text: string) => string): string {
  const clean = redact(text)
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu, ' ')
    .trim();
  if (clean === '') return '';
  return `: ${clean.length > MAX_SNIPPET ? `${clean.slice(0, MAX_SNIPPET)}…` : clean}`;
}

/** The URL without userinfo, query and fragment. */
function safeUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Remove the secret and the URL's query string and userinfo from `text`, wherever they appear. */
function redactSecrets(text: string, options: Pick<PostSignedOptions, 'secret' | 'url'>): string {
  const hidden: string[] = [];
  if (options.secret.length > 0) hidden.push(options.secret);
  try {
    const url = new URL(options.url);
    if (url.search.length > 1) hidden.push(url.search.slice(1));
    for (const value of url.searchParams.values()) if (value.length >= 4) hidden.push(value);
    if (url.password.length > 0) hidden.push(url.password, decodeURIComponent(url.password));
    if (url.username.length > 0) hidden.push(url.username);
  } catch {
    // an invalid URL is never shown
  }
  let out = text;
  for (const h of hidden.sort((a, b) => b.length - a.length)) out = out.split(h).join('[redacted]');
  return out;
}

function errorText(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR_')) return code;
    if (current.cause === undefined) break;
    current = current.cause;
  }
  if (current instanceof Error) {
    const code = (current as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? code : current.message.slice(0, 200);
  }
  return String(current).slice(0, 200);
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : {});
}
