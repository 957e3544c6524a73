/**
 * DNS over HTTPS (RFC 8484, `application/dns-message` wire format) to one endpoint, over undici's fetch with an
 * `Agent` that speaks HTTP/2 (unbound's DoH is HTTP/2 only) and optionally trusts an extra CA (self-signed test servers).
 *
 * Error contract (the port's): `query()` never rejects for what the server or the network does. No answer in time is
 * `timeout`; a connection or TLS failure, a redirect (never followed), or an HTTP status other than 200, is
 * `network-error` (detail names the
 * code or `HTTP <status>`); a 200 with another content type, an oversized body or unparseable bytes is `bad-response`.
 * It rejects only with the caller's `signal.reason` on abort (an AbortError unless the caller chose another reason),
 * and with TypeError/RangeError for an unsupported type or an unencodable name.
 */
import { Agent, fetch } from 'undici';
import { readBoundedBody } from '../../http/bounded-body.ts';
import type { DnsResolver, DnsResult, QueryOptions, RecordType } from '../../ports/dns-resolver.ts';
import { errorDetail } from './exchange.ts';
import type { SentCounter } from './sent-counter.ts';
import { buildQuery, failure, parseResponse } from './wire.ts';

const DNS_MESSAGE = 'application/dns-message';

export interface DohResolverOptions {
  /** The endpoint, e.g. `https://cloudflare-dns.com/dns-query`. Userinfo becomes a Basic Authorization header. */
  readonly url: string;
  /** Default `POST` (random id). `GET` sends `?dns=<base64url>` with id 0 (RFC 8484 §4.1, cache-friendly). */
  readonly method?: 'POST' | 'GET';
  /** Per-query budget in ms, connection and body included (default 2500). */
  readonly timeoutMs?: number;
  /** Extra trusted CA certificate(s), PEM. For self-signed test servers. */
  readonly ca?: string;
  /** Largest response body accepted, in bytes (default 65535, the largest DNS message). */
  readonly maxResponseBytes?: number;
}

/** A `DnsResolver` over one RFC 8484 endpoint. `describe()` is `doh:<url>` without userinfo, query or fragment. */
export class DohResolver implements DnsResolver, SentCounter {
  readonly url: URL;
  readonly method: 'POST' | 'GET';
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  private readonly id: string;
  private readonly authorization: string | undefined;
  private readonly agent: Agent;
  private sentCount = 0;

  /** @throws TypeError when the URL is not an absolute https URL or a number option is out of range. */
  constructor(options: DohResolverOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'https:') throw new TypeError(`DoH endpoint must be https, got ${url.protocol}`);
    this.authorization =
      url.username || url.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
        : undefined;
    url.username = '';
    url.password = '';
    url.hash = '';
    this.url = url;
    this.id = `doh:${url.origin}${url.pathname}`;
    this.method = options.method ?? 'POST';
    this.timeoutMs = options.timeoutMs ?? 2500;
    this.maxResponseBytes = options.maxResponseBytes ?? 65535;
    if (!(this.timeoutMs > 0)) throw new TypeError(`timeoutMs must be positive, got ${this.timeoutMs}`);
    this.agent = new Agent({ allowH2: true, connect: options.ca === undefined ? {} : { ca: options.ca } });
  }

  describe(): string {
    return this.id;
  }

  /** HTTP requests sent so far. */
  sent(): number {
    return this.sentCount;
  }

  /** Close the connections (HTTP/2 sessions stay open otherwise and keep the process alive). */
  async close(): Promise<void> {
    await this.agent.destroy();
  }

  async query<T extends RecordType>(name: string, type: T, options: QueryOptions = {}): Promise<DnsResult<T>> {
    const callerSignal = options.signal;
    callerSignal?.throwIfAborted();
    const q = buildQuery(name, type, this.method === 'GET' ? { id: 0 } : {});
    const fail = (kind: 'timeout' | 'network-error' | 'bad-response', detail: string): DnsResult<T> =>
      failure(kind, q.name, type, this.id, detail);

    const timeoutSignal = AbortSignal.timeout(this.timeoutMs);
    const signal = callerSignal ? AbortSignal.any([timeoutSignal, callerSignal]) : timeoutSignal;
    const headers: Record<string, string> = { accept: DNS_MESSAGE };
    if (this.authorization) headers.authorization = this.authorization;
    let target = this.url.href;
    let body: Buffer | undefined;
    if (this.method === 'GET') {
      const url = new URL(this.url);
      url.searchParams.set('dns', q.bytes.toString('base64url'));
      target = url.href;
    } else {
      headers['content-type'] = DNS_MESSAGE;
      body = q.bytes;
    }

    try {
      this.sentCount++;
      // redirect: 'error': a redirect (even https → http) is a failure, never followed (the answer must come from
      // the configured endpoint over TLS)
      const res = await fetch(target, {
        method: this.method,
        headers,
        body,
        signal,
        dispatcher: this.agent,
        redirect: 'error',
      });
      if (res.status !== 200) {
        await res.body?.cancel().catch(() => {});
        return fail('network-error', `HTTP ${res.status}`);
      }
      const contentType = res.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
      if (contentType !== DNS_MESSAGE) {
        await res.body?.cancel().catch(() => {});
        return fail('bad-response', `HTTP 200 with content-type ${contentType || '(none)'}`);
      }
      const declared = Number(res.headers.get('content-length') ?? Number.NaN);
      if (declared > this.maxResponseBytes) {
        await res.body?.cancel().catch(() => {});
        return fail('bad-response', `response body of ${declared} bytes exceeds ${this.maxResponseBytes}`);
      }
      const bytes = await readCapped(res.body, this.maxResponseBytes);
      if (bytes === null) return fail('bad-response', `response body exceeds ${this.maxResponseBytes} bytes`);
      return parseResponse(bytes, q, this.id);
    } catch (err) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      if (timeoutSignal.aborted) return fail('timeout', `no answer within ${this.timeoutMs} ms`);
      return fail('network-error', describeFetchError(err));
    }
  }
}

/** The body, or null when it is larger than `max` (the stream is cancelled then). */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<Buffer | null> {
  const r = await readBoundedBody(body, max);
  return r.overflow ? null : r.bytes;
}

/** `fetch failed` says nothing: the cause carries the socket/TLS code (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT…). */
function describeFetchError(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    if (current.cause === undefined) break;
    current = current.cause;
  }
  return errorDetail(current);
}
