/**
 * DNS over HTTPS (RFC 8484, `application/dns-message` wire format) to one endpoint, over one HTTP/2 session of Node's
 * `http2` (unbound's DoH is HTTP/2 only; RFC 8484 §5.2 recommends HTTP/2), opened on first use and again after it
 * closed, optionally trusting an extra CA (self-signed test servers). The TLS handshake offers `h2` and `http/1.1`
 * (ALPN); an endpoint that picks HTTP/1.1 is asked over keep-alive HTTPS from then on.
 *
 * Error contract (the port's): `query()` never rejects for what the server or the network does. No answer in time is
 * `timeout`; a connection or TLS failure, a redirect (never followed), or an HTTP status other than 200, is
 * `network-error` (detail names the
 * code or `HTTP <status>`); a 200 with another content type, an oversized body or unparseable bytes is `bad-response`.
 * It rejects only with the caller's `signal.reason` on abort (an AbortError unless the caller chose another reason),
 * and with TypeError/RangeError for an unsupported type or an unencodable name.
 */
import http2 from 'node:http2';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { readBoundedBody } from '../../http/bounded-body.ts';
import { httpRequest } from '../../http/request.ts';
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
  private readonly ca: string | undefined;
  private session: http2.ClientHttp2Session | undefined;
  private connecting: Promise<http2.ClientHttp2Session | null> | undefined;
  /** Set once the endpoint chose HTTP/1.1 in the TLS handshake. */
  private http1: https.Agent | undefined;
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
    this.ca = options.ca;
  }

  describe(): string {
    return this.id;
  }

  /** HTTP requests sent so far. */
  sent(): number {
    return this.sentCount;
  }

  /** Close the connection (an HTTP/2 session stays open otherwise and keeps the process alive). */
  async close(): Promise<void> {
    this.http1?.destroy();
    const s = this.session;
    this.session = undefined;
    if (s === undefined || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      // streams still open are not waited for
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 1000).unref();
    });
  }

  /** The open HTTP/2 session, a new one, or null when the endpoint speaks HTTP/1.1 only. */
  private h2Session(): Promise<http2.ClientHttp2Session | null> {
    if (this.http1) return Promise.resolve(null);
    const open = this.session;
    if (open !== undefined && !open.closed && !open.destroyed) return Promise.resolve(open);
    this.connecting ??= new Promise<http2.ClientHttp2Session | null>((resolve, reject) => {
      const host = this.url.hostname.startsWith('[') ? this.url.hostname.slice(1, -1) : this.url.hostname;
      const socket = tls.connect({
        host,
        port: Number(this.url.port || 443),
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ALPNProtocols: ['h2', 'http/1.1'],
        ...(this.ca === undefined ? {} : { ca: this.ca }),
      });
      socket.once('error', reject);
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        if (socket.alpnProtocol !== 'h2') {
          socket.destroy();
          this.http1 = new https.Agent({ keepAlive: true, ...(this.ca === undefined ? {} : { ca: this.ca }) });
          resolve(null);
          return;
        }
        const s = http2.connect(this.url.origin, { createConnection: () => socket });
        s.on('error', () => {
          // the streams fail with it; the session is gone and the next query opens another
        });
        s.on('close', () => {
          if (this.session === s) this.session = undefined;
        });
        this.session = s;
        resolve(s);
      });
    }).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /** One exchange on the session: the response headers and at most `max` bytes of the body. */
  private async exchange(
    path: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    signal: AbortSignal,
    max: number,
  ): Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: Buffer | null }> {
    const abort = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    abort.catch(() => {});
    const session = await Promise.race([this.h2Session(), abort]);
    if (session === null) {
      const res = await httpRequest(new URL(path, this.url.origin), {
        method: this.method,
        headers,
        ...(body ? { body } : {}),
        signal,
        agent: this.http1!,
        maxBodyBytes: max,
      });
      return { status: res.status, headers: res.headers, body: res.overflow ? null : res.body };
    }
    const stream = session.request({ ':method': this.method, ':path': path, ...headers }, { signal });
    stream.end(body);
    try {
      const response = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        stream.once('response', resolve);
        stream.once('error', reject);
      });
      const status = Number(response[':status']);
      if (status !== 200) return { status, headers: response, body: null };
      const type = String(response['content-type'] ?? '');
      if (type.split(';')[0]?.trim().toLowerCase() !== DNS_MESSAGE) return { status, headers: response, body: null };
      const declared = Number(response['content-length'] ?? Number.NaN);
      if (declared > max) return { status, headers: response, body: null };
      const read = await readBoundedBody(stream, max);
      return { status, headers: response, body: read.overflow ? null : read.bytes };
    } finally {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
    }
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
    let path = `${this.url.pathname}${this.url.search}`;
    let body: Buffer | undefined;
    if (this.method === 'GET') {
      const url = new URL(this.url);
      url.searchParams.set('dns', q.bytes.toString('base64url'));
      path = `${url.pathname}${url.search}`;
    } else {
      headers['content-type'] = DNS_MESSAGE;
      body = q.bytes;
    }

    try {
      this.sentCount++;
      // A redirect (even https → http) is a failure, never followed: the answer must come from the configured
      // endpoint over TLS.
      const res = await this.exchange(path, headers, body, signal, this.maxResponseBytes);
      if (res.status !== 200) return fail('network-error', `HTTP ${res.status}`);
      const contentType =
        String(res.headers['content-type'] ?? '')
          .split(';')[0]
          ?.trim()
          .toLowerCase() ?? '';
      if (contentType !== DNS_MESSAGE) {
        return fail('bad-response', `HTTP 200 with content-type ${contentType || '(none)'}`);
      }
      const declared = Number(res.headers['content-length'] ?? Number.NaN);
      if (declared > this.maxResponseBytes) {
        return fail('bad-response', `response body of ${declared} bytes exceeds ${this.maxResponseBytes}`);
      }
      if (res.body === null) return fail('bad-response', `response body exceeds ${this.maxResponseBytes} bytes`);
      return parseResponse(res.body, q, this.id);
    } catch (err) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      if (timeoutSignal.aborted) return fail('timeout', `no answer within ${this.timeoutMs} ms`);
      return fail('network-error', describeFetchError(err));
    }
  }
}

/** The socket/TLS code of a failed exchange (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT…), or its text. */
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
