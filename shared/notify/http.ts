/**
 * The HTTP side the Slack, Teams and generic webhook notifiers share: POST a JSON body (Node's https through the
 * destination guard, shared/http/request.ts) with a timeout, and turn every outcome into a `SendResult` whose error shows only the endpoint's scheme and host.
 *
 * Bounds: at most `MAX_RESPONSE_BYTES` of a response body are read (the rest is cancelled, never downloaded), and only
 * that is cleaned for the error snippet: a 64 MiB error body costs a few KiB. Every connection goes through the
 * destination guard (destination.ts): no loopback, private or metadata address unless the policy allows it, and
 * https for Internet hosts.
 */
import { endpointLabel, isRetryableStatus, type SendResult } from './alert.ts';
import { type DestinationPolicy, guardedRequest, refusalIn, sharedGuardedAgents } from './destination.ts';
import { clean } from './escape.ts';

/** Largest part of a response body read; enough for any error a webhook service returns. */
export const MAX_RESPONSE_BYTES = 4096;

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

/** The socket/DNS/TLS code of a failed request, or under a library's wrapping error (ECONNREFUSED, ENOTFOUND…), if any. */
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
    const res = await guardedRequest(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'relaywatch', ...options.headers },
        body,
        signal,
        maxBodyBytes: MAX_RESPONSE_BYTES,
      },
      sharedGuardedAgents(options.destinations),
    );
    if (accept(res.status)) return { ok: true, detail: `HTTP ${res.status}` };
    return statusFailure(options.channel, url, res.status, res.body.toString('utf8'));
  } catch (error) {
    if (signal.aborted) return requestFailure(options.channel, url, options.timeoutMs, signal.reason);
    return requestFailure(options.channel, url, options.timeoutMs, error);
  }
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** The subset of fetch's `init` the libraries we hand a fetch to (`@slack/webhook`) use. */
export interface BoundedFetchInit {
  readonly method?: string;
  readonly headers?: ConstructorParameters<typeof Headers>[0];
  readonly body?: string | Uint8Array | null;
  readonly signal?: AbortSignal | null;
  readonly redirect?: 'follow' | 'error' | 'manual';
}

/**
 * A fetch for libraries that take one (`@slack/webhook`): a request through the destination guard, whose response
 * carries at most `MAX_RESPONSE_BYTES` of the body, so the library's `response.text()` cannot read more. Redirects
 * are never followed: with `redirect: 'error'` a 3xx rejects, as fetch does; otherwise the 3xx is the response.
 */
export function boundedFetch(policy: DestinationPolicy = {}) {
  return async (url: string | URL, init: BoundedFetchInit = {}): Promise<Response> => {
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const res = await guardedRequest(
      String(url),
      {
        method: init.method ?? 'GET',
        headers,
        ...(init.body !== undefined && init.body !== null ? { body: init.body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
        maxBodyBytes: MAX_RESPONSE_BYTES,
      },
      sharedGuardedAgents(policy),
    );
    if (init.redirect === 'error' && res.status >= 300 && res.status < 400) {
      throw new TypeError(`redirect (HTTP ${res.status}) refused`);
    }
    const out = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) out.append(name, v);
    }
    return new Response(NULL_BODY_STATUSES.has(res.status) ? null : res.body.toString('utf8'), {
      status: res.status,
      statusText: res.statusText,
      headers: out,
    });
  };
}
