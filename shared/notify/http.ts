/**
 * The HTTP side the Slack, Teams and generic webhook notifiers share: POST a JSON body with undici's fetch and a
 * timeout, and turn every outcome into a `SendResult` whose error shows only the endpoint's scheme and host.
 *
 * Bounds: at most `MAX_RESPONSE_BYTES` of a response body are read (the rest is cancelled, never downloaded), and only
 * that is cleaned for the error snippet: a 64 MiB error body costs a few KiB. Every connection goes through the
 * destination guard (destination.ts): no loopback, private or metadata address unless the policy allows it, and
 * https for Internet hosts.
 */
import { type Dispatcher, fetch, Response } from 'undici';
import { endpointLabel, isRetryableStatus, type SendResult } from './alert.ts';
import { type DestinationPolicy, refusalIn, sharedGuardedAgent } from './destination.ts';
import { clean } from './escape.ts';

/** Largest part of a response body read; enough for any error a webhook service returns. */
export const MAX_RESPONSE_BYTES = 4096;

/**
 * At most `max` bytes of a body as text; the stream is cancelled after that, so the rest is never read. A cut inside
 * a multi-byte character gives one U+FFFD at the end.
 */
export async function readBounded(
  body: ReadableStream<Uint8Array> | null,
  max: number = MAX_RESPONSE_BYTES,
): Promise<string> {
  if (body === null) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  try {
    while (size < max) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

export interface PostJsonOptions {
  /** Used in error messages: `teams`, `webhook`. */
  readonly channel: string;
  readonly timeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Statuses that count as delivered (default: any 2xx). */
  readonly accept?: (status: number) => boolean;
  /** Where the request may go (default: public Internet hosts over https only). */
  readonly destinations?: DestinationPolicy;
}

/** The socket/DNS/TLS code under undici's `fetch failed` (ECONNREFUSED, ENOTFOUND, UND_ERR_…), if any. */
export function networkCode(error: unknown): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/** A response body worth quoting (Slack says `invalid_payload`, Power Automate a JSON error): one line, short,
 * with the URL's secret parts removed in case the server echoes them. */
export function bodySnippet(body: string, url: string, max = 160): string {
  let text = clean(body);
  try {
    const parsed = new URL(url);
    for (const secret of [url, parsed.pathname + parsed.search, parsed.search.slice(1)]) {
      if (secret.length >= 4) text = text.split(secret).join('<redacted>');
    }
    for (const segment of parsed.pathname.split('/')) {
      if (segment.length >= 8) text = text.split(segment).join('<redacted>');
    }
    for (const value of parsed.searchParams.values()) {
      if (value.length >= 4) text = text.split(value).join('<redacted>');
    }
  } catch {
    // not a URL: nothing of it to remove
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function failure(retryable: boolean, error: string): SendResult {
  return { ok: false, retryable, error };
}

/** A request that threw (no HTTP status): timeout, refused, DNS, TLS… all retryable, URL never shown. */
export function requestFailure(channel: string, url: string, timeoutMs: number, error: unknown): SendResult {
  const where = endpointLabel(url);
  const refused = refusalIn(error);
  // not retryable: the same URL is refused next cycle too, until the config changes
  if (refused !== null) return failure(false, `${channel}: ${where}: ${refused.message}`);
  const name = error !== null && typeof error === 'object' ? (error as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return failure(true, `${channel}: no answer from ${where} within ${timeoutMs} ms`);
  }
  const code = networkCode(error);
  if (code === 'ECONNREFUSED') return failure(true, `${channel}: connection refused by ${where}`);
  return failure(true, `${channel}: request to ${where} failed${code === null ? '' : ` (${code})`}`);
}

/** An HTTP status that is not a success. */
export function statusFailure(channel: string, url: string, status: number, body: string): SendResult {
  const snippet = bodySnippet(body, url);
  return failure(
    isRetryableStatus(status),
    `${channel}: HTTP ${status} from ${endpointLabel(url)}${snippet === '' ? '' : `: ${snippet}`}`,
  );
}

/** POST `body` (already serialised JSON) to `url`. Never throws. */
export async function postJson(url: string, body: string, options: PostJsonOptions): Promise<SendResult> {
  const accept = options.accept ?? ((s: number) => s >= 200 && s < 300);
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'relaywatch', ...options.headers },
      body,
      redirect: 'manual',
      signal,
      dispatcher: sharedGuardedAgent(options.destinations),
    });
    const text = await readBounded(res.body).catch(() => '');
    if (accept(res.status)) return { ok: true, detail: `HTTP ${res.status}` };
    return statusFailure(options.channel, url, res.status, text);
  } catch (error) {
    if (signal.aborted) return requestFailure(options.channel, url, options.timeoutMs, signal.reason);
    return requestFailure(options.channel, url, options.timeoutMs, error);
  }
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch for libraries that take one (`@slack/webhook`): undici's fetch through the destination guard, whose
 * response carries at most `MAX_RESPONSE_BYTES` of the body, so the library's `response.text()` cannot read more.
 */
export function boundedFetch(policy: DestinationPolicy = {}, dispatcher?: Dispatcher) {
  return async (url: string | URL, init?: Parameters<typeof fetch>[1]): Promise<Response> => {
    const res = await fetch(url, { ...init, dispatcher: dispatcher ?? sharedGuardedAgent(policy) });
    const text = await readBounded(res.body);
    return new Response(NULL_BODY_STATUSES.has(res.status) ? null : text, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  };
}
