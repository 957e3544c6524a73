/**
 * The HTTP side the Teams and generic webhook notifiers share: POST a JSON body with undici's fetch and a timeout,
 * and turn every outcome into a `SendResult` whose error shows only the endpoint's scheme and host.
 */
import { type Dispatcher, fetch } from 'undici';
import { endpointLabel, isRetryableStatus, type SendResult } from './alert.ts';
import { clean } from './escape.ts';

export interface PostJsonOptions {
  /** Used in error messages: `teams`, `webhook`. */
  readonly channel: string;
  readonly timeoutMs: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Statuses that count as delivered (default: any 2xx). */
  readonly accept?: (status: number) => boolean;
  readonly dispatcher?: Dispatcher;
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
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    });
    const text = await res.text().catch(() => '');
    if (accept(res.status)) return { ok: true, detail: `HTTP ${res.status}` };
    return statusFailure(options.channel, url, res.status, text);
  } catch (error) {
    if (signal.aborted) return requestFailure(options.channel, url, options.timeoutMs, signal.reason);
    return requestFailure(options.channel, url, options.timeoutMs, error);
  }
}
