/**
 * One HTTP(S) request on Node's own `http`/`https` modules, with the response body read with a bound
 * (bounded-body.ts). It replaces undici's fetch where a client needs what fetch does not give: a `lookup` and an
 * agent of its own at connect time (the destination guard of shared/notify/destination.ts), an extra trusted CA, and
 * never more than `maxBodyBytes` of a body read.
 *
 * Redirects are not followed (the caller sees the 3xx). The request rejects with Node's error: `code` ECONNREFUSED,
 * ENOTFOUND, a TLS code…, an `AbortError` when `signal` aborts (before or while the body is read), or the error the
 * `lookup` gave (a `DestinationRefusedError`).
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { readBoundedBody } from './bounded-body.ts';

export interface HttpRequestOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly signal?: AbortSignal;
  /** Largest part of the response body read (or one per status); the connection is closed once more arrived. */
  readonly maxBodyBytes: number | ((status: number) => number);
  /** The connection pool (its options, such as `lookup` or `ca`, apply to every socket it opens). */
  readonly agent?: http.Agent;
  readonly lookup?: LookupFunction;
  /** Extra trusted CAs (PEM), for https. */
  readonly ca?: string | readonly string[];
}

export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The first `maxBodyBytes` bytes of the body at most. */
  readonly body: Buffer;
  /** The body was longer than `maxBodyBytes`. */
  readonly overflow: boolean;
}

export function httpRequest(url: string | URL, options: HttpRequestOptions): Promise<HttpResponse> {
  let target: URL;
  try {
    target = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return Promise.reject(new TypeError('httpRequest: not a URL'));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(new TypeError(`httpRequest: ${target.protocol} is not http: or https:`));
  }
  const send = target.protocol === 'https:' ? https.request : http.request;
  return new Promise<HttpResponse>((resolve, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? 'GET',
        headers: { ...options.headers },
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
        ...(options.lookup ? { lookup: options.lookup } : {}),
        ...(options.ca !== undefined ? { ca: typeof options.ca === 'string' ? options.ca : [...options.ca] } : {}),
      },
      (res) => {
        const max =
          typeof options.maxBodyBytes === 'number' ? options.maxBodyBytes : options.maxBodyBytes(res.statusCode ?? 0);
        readBoundedBody(res, max).then(
          ({ bytes, overflow }) =>
            resolve({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? '',
              headers: res.headers,
              body: bytes,
              overflow,
            }),
          reject,
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
