/**
 * Discover the site's public egress IP: the address Exchange Online sees when the site's devices relay through the
 * tenant's connector, and the address the site agent reports next to its probe results.
 *
 * One answer is not trusted: a DNS-intercepting firewall at the site can answer a UDP query in the service's place with
 * whatever it likes. Methods are tried in order until two of them, at least one over HTTPS, name the same address;
 * otherwise the result is "could not determine" (with every attempt, and why the cross-check failed):
 * - `dns`: ask a service's own server a name it answers with the asker's source address. The server must be the
 *   service's (OpenDNS's resolver, Google's authoritative server), never the site's resolver: a recursive resolver
 *   would ask on its own behalf and the answer would be the resolver's address, not the site's. The answer must have
 *   the AA bit (the service's server is authoritative for that name); an interceptor that answers without it fails.
 * - `https`: GET a URL that returns the caller's address as the whole body (e.g. `https://api.ipify.org`); TLS
 *   proves who answered. `http:` URLs are accepted only to a loopback address (a local service, tests).
 *
 * Every answer is untrusted text. An answer that is not an IP address, names several different addresses, or is a
 * private, loopback, link-local, CGNAT, multicast or otherwise special-purpose address (judged by the config's relay
 * address rules, `parseRelayIp`) makes the method fail, and the next one is tried. Documentation addresses
 * (198.51.100.0/24 …) are accepted, as the config accepts them, because tests use them.
 *
 * Error contract: `discoverEgressIp()` never rejects; every failure is recorded as an `Attempt` with a sanitised,
 * length-capped detail.
 */
import { parseDnsSpec, UdpResolver } from '../adapters/dns/index.ts';
import { parseRelayIp } from '../config/relay-ip.ts';
import { canonicalIp, isLoopbackHost } from '../domain/ip.ts';
import { type HttpResponse, httpRequest } from '../http/request.ts';
import { type DnsResolver, type DnsResult, describeResult } from '../ports/dns-resolver.ts';

export type EgressMethod =
  | {
      readonly kind: 'dns';
      /** The name whose answer is the asker's address, e.g. `myip.opendns.com`. */
      readonly name: string;
      readonly type: 'A' | 'AAAA' | 'TXT';
      /** A resolver spec naming the service's own server, e.g. `udp://208.67.222.222`. */
      readonly server: string;
    }
  | {
      readonly kind: 'https';
      /** A URL whose whole body is the caller's address as text, e.g. `https://api.ipify.org`. */
      readonly url: string;
    };

/**
 * The methods used when the agent's configuration names none, in order:
 * 1. OpenDNS: `myip.opendns.com` A asked at resolver1.opendns.com (208.67.222.222), which answers with the source
 *    address of the query.
 * 2. Google: `o-o.myaddr.l.google.com` TXT asked at ns1.google.com (216.239.32.10), Google's authoritative server,
 *    which answers with the source address (plus an `edns0-client-subnet …` string when the query carried ECS).
 *
 * 3. AWS: `https://checkip.amazonaws.com/` (the address and a newline), and 4. ipify: `https://api.ipify.org/`.
 *
 * The DNS ones are plain UDP to a fixed IP (no name to resolve first); the HTTPS ones confirm them over TLS. Akamai's
 * `whoami.ds.akahelp.net` is not included: it reports the address of the *resolver* that asked, so it only gives the
 * egress IP when asked at Akamai's authoritative servers, whose addresses we could not pin down reliably.
 */
export const DEFAULT_EGRESS_METHODS: readonly EgressMethod[] = [
  { kind: 'dns', name: 'myip.opendns.com', type: 'A', server: 'udp://208.67.222.222' },
  { kind: 'https', url: 'https://checkip.amazonaws.com/' },
  { kind: 'dns', name: 'o-o.myaddr.l.google.com', type: 'TXT', server: 'udp://216.239.32.10' },
  { kind: 'https', url: 'https://api.ipify.org/' },
];

/** One method tried. `method` is the method's label (see `methodLabel`); `detail` is sanitised and capped. */
export interface Attempt {
  readonly method: string;
  readonly outcome: 'ok' | 'failed';
  readonly detail: string;
}

export type EgressResult =
  | {
      readonly ok: true;
      /** Canonical text: IPv4 dotted, IPv6 RFC 5952. */
      readonly ip: string;
      /** The labels of the two methods that agreed, joined by ` + `. */
      readonly method: string;
      /** The labels of the methods that agreed on it (two; at least one over HTTPS). */
      readonly confirmedBy: readonly string[];
      readonly attempts: readonly Attempt[];
    }
  | { readonly ok: false; readonly attempts: readonly Attempt[] };

export interface EgressDeps {
  /** A resolver that sends queries to exactly the server of one spec (no cache, no failover). */
  resolverFor(spec: string): DnsResolver;
  /** GET `url` and return its body as text; reject on any failure. Default `defaultFetchText`. */
  fetchText?(url: string, timeoutMs: number): Promise<string>;
  /** Budget for one method in ms (default 3000). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 3000;
/** Longest answer text shown in a detail. */
const MAX_SHOWN = 80;
/** Largest HTTPS body read (an address is at most 45 characters). */
const MAX_BODY_BYTES = 512;

/** `dns:<name>@<server>` (the server without `udp://` and without the default port) or the URL without its query. */
export function methodLabel(method: EgressMethod): string {
  if (method.kind === 'https') return safeUrl(method.url);
  let server = method.server.trim();
  try {
    const spec = parseDnsSpec(server);
    if (spec.kind === 'doh') server = spec.url;
    else {
      const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host;
      const hostPort = spec.port === 53 ? host : `${host}:${spec.port}`;
      server = spec.kind === 'udp' ? hostPort : `tcp://${hostPort}`;
    }
  } catch {
    server = sanitise(server);
  }
  return `dns:${method.name}@${server}`;
}

/** The label the cross-check failure is recorded under in `attempts`. */
export const CROSS_CHECK = 'cross-check';

interface Found {
  readonly label: string;
  readonly ip: string;
  readonly kind: EgressMethod['kind'];
}

/** The two methods that confirm the newest answer (same address, one of them over HTTPS), or null. */
function confirmation(found: readonly Found[]): readonly [Found, Found] | null {
  const latest = found.at(-1);
  if (latest === undefined) return null;
  const partner = found.slice(0, -1).find((f) => f.ip === latest.ip && (f.kind === 'https' || latest.kind === 'https'));
  return partner === undefined ? null : [partner, latest];
}

function whyUnconfirmed(found: readonly Found[], tried: number): string {
  if (found.length === 0) return `could not determine: none of the ${tried} method(s) gave a usable address`;
  const ips = [...new Set(found.map((f) => f.ip))];
  if (ips.length > 1) {
    return `could not determine: the methods disagree (${found.map((f) => `${f.ip} from ${f.label}`).join(', ')}); something at the site may be answering in a service's place`;
  }
  return `could not determine: only ${found.map((f) => f.label).join(' and ')} named ${ips[0]}; an address counts when two methods, one over HTTPS, agree`;
}

/**
 * Try `methods` in order until two of them, at least one over HTTPS, name the same usable public address. Never
 * rejects; without such an agreement the result is not ok and the last attempt (`cross-check`) says why.
 */
export async function discoverEgressIp(methods: readonly EgressMethod[], deps: EgressDeps): Promise<EgressResult> {
  const attempts: Attempt[] = [];
  const found: Found[] = [];
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  for (const method of methods) {
    const label = methodLabel(method);
    let outcome: MethodOutcome;
    try {
      outcome =
        method.kind === 'dns'
          ? await viaDns(method, deps, timeoutMs)
          : await viaHttps(method, deps.fetchText ?? defaultFetchText, timeoutMs);
    } catch (err) {
      outcome = { ok: false, detail: `failed: ${sanitise(errorText(err))}` };
    }
    if (outcome.ok) {
      attempts.push({ method: label, outcome: 'ok', detail: outcome.detail });
      found.push({ label, ip: outcome.ip, kind: method.kind });
      const pair = confirmation(found);
      if (pair !== null) {
        const confirmedBy = pair.map((f) => f.label);
        return { ok: true, ip: outcome.ip, method: confirmedBy.join(' + '), confirmedBy, attempts };
      }
      continue;
    }
    attempts.push({ method: label, outcome: 'failed', detail: outcome.detail });
  }
  if (methods.length === 0) attempts.push({ method: '(none)', outcome: 'failed', detail: 'no methods configured' });
  attempts.push({ method: CROSS_CHECK, outcome: 'failed', detail: whyUnconfirmed(found, methods.length) });
  return { ok: false, attempts };
}

type MethodOutcome = { ok: true; ip: string; detail: string } | { ok: false; detail: string };

async function viaDns(
  method: Extract<EgressMethod, { kind: 'dns' }>,
  deps: EgressDeps,
  timeoutMs: number,
): Promise<MethodOutcome> {
  const resolver = deps.resolverFor(method.server);
  const signal = AbortSignal.timeout(timeoutMs);
  let result: DnsResult<'A' | 'AAAA' | 'TXT'>;
  try {
    result = await resolver.query(method.name, method.type, { signal, once: true });
  } catch (err) {
    if (signal.aborted) return { ok: false, detail: `no answer within ${timeoutMs} ms` };
    throw err;
  }
  if (result.kind !== 'answer') return { ok: false, detail: describeResult(result) };
  if (result.authoritative !== true) {
    return {
      ok: false,
      detail: `the answer is not authoritative (no AA bit): not from the service's own server; a DNS-intercepting firewall may answer in its place`,
    };
  }
  const texts: string[] = [];
  for (const { data } of result.records) {
    if (typeof data === 'string') texts.push(data);
    // A service may put the address in one string of several (Akamai: "ns" "1.2.3.4"); Google adds a separate
    // record "edns0-client-subnet 1.2.3.0/24". Every string is a candidate; non-addresses are skipped.
    else texts.push(...(data.chunks.length > 0 ? data.chunks : [data.text]));
  }
  return judge(texts, `${method.type} answer`);
}

async function viaHttps(
  method: Extract<EgressMethod, { kind: 'https' }>,
  fetchText: (url: string, timeoutMs: number) => Promise<string>,
  timeoutMs: number,
): Promise<MethodOutcome> {
  let url: URL;
  try {
    url = new URL(method.url);
  } catch {
    return { ok: false, detail: 'not a valid URL' };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return {
      ok: false,
      detail: `unsupported scheme ${sanitise(url.protocol)} (https:, or http: to a loopback address)`,
    };
  }
  const body = await fetchText(method.url, timeoutMs);
  const text = body.trim();
  // The whole body must be one address; a page with an address somewhere in it is not an answer we trust.
  return judge(text === '' ? [] : [text], 'response');
}

/** Pick the one address among untrusted strings, or say why there is none. */
function judge(texts: readonly string[], what: string): MethodOutcome {
  const ips = new Set<string>();
  for (const raw of texts) {
    const ip = canonicalIp(raw.trim());
    if (ip !== null) ips.add(ip);
  }
  if (ips.size === 0) {
    if (texts.length === 0) return { ok: false, detail: `empty ${what}` };
    return { ok: false, detail: `${what} is not an IP address: ${showAll(texts)}` };
  }
  if (ips.size > 1) return { ok: false, detail: `${what} names several different addresses: ${showAll([...ips])}` };
  const ip = [...ips][0] as string;
  const judged = parseRelayIp(ip);
  if (!judged.ok) return { ok: false, detail: `${what} ${quote(ip)} ${judged.reason}` };
  const extra = texts.length - texts.filter((t) => canonicalIp(t.trim()) !== null).length;
  const note = judged.value.documentation ? ` (documentation range: ${judged.value.documentation})` : '';
  return {
    ok: true,
    ip: judged.value.text,
    detail: `${judged.value.text}${note}${extra > 0 ? `, ignored ${extra} other string(s)` : ''}`,
  };
}

function showAll(texts: readonly string[]): string {
  const shown = texts.slice(0, 3).map(quote).join(', ');
  return texts.length > 3 ? `${shown} and ${texts.length - 3} more` : shown;
}

function quote(text: string): string {
  return `"${sanitise(text)}"`;
}

/**
 * Make untrusted text safe for a log line: control, format (bidi) and separator characters become `\u{…}` escapes,
 * quotes and backslashes are escaped, and the result is capped at `max` characters (`…` marks a cut).
 */
export function sanitise(text: string, max = MAX_SHOWN): string {
  let out = '';
  let count = 0;
  for (const ch of text) {
    if (count >= max) return `${out}…`;
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u.test(ch)) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
    count++;
  }
  return out;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    let cause: unknown = err.cause;
    for (let depth = 0; depth < 4 && cause instanceof Error; depth++) {
      const c = (cause as NodeJS.ErrnoException).code;
      if (typeof c === 'string') return c;
      cause = cause.cause;
    }
    return typeof code === 'string' ? code : err.message;
  }
  return String(err);
}

/** The URL for messages: no userinfo, query or fragment (a query may carry a key). */
function safeUrl(text: string): string {
  try {
    const url = new URL(text);
    return sanitise(`${url.origin}${url.pathname}`, 200);
  } catch {
    return '(invalid URL)';
  }
}

/**
 * GET `url` (Node's http/https, shared/http/request.ts) and return the body as text (at most 512 bytes). Rejects on a
 * network error, a timeout, a redirect, a status other than 2xx, or a larger body; the rejection's message names the
 * problem, not the query string.
 */
export async function defaultFetchText(url: string, timeoutMs: number): Promise<string> {
  const signal = AbortSignal.timeout(timeoutMs);
  let res: HttpResponse;
  try {
    res = await httpRequest(url, {
      method: 'GET',
      signal,
      headers: { accept: 'text/plain' },
      maxBodyBytes: (status) => (status >= 200 && status <= 299 ? MAX_BODY_BYTES : 0),
    });
  } catch (err) {
    if (signal.aborted) throw new Error(`no answer within ${timeoutMs} ms`);
    throw new Error(errorText(err));
  }
  if (res.status < 200 || res.status > 299) throw new Error(`HTTP ${res.status}`);
  if (res.overflow) throw new Error(`response body larger than ${MAX_BODY_BYTES} bytes`);
  return res.body.toString('utf8');
}

/** Budget of one DNS query of `defaultResolverFor` in ms: short, the agent has other methods to try. */
export const DEFAULT_EGRESS_DNS_TIMEOUT_MS = 2000;

/**
 * The production `resolverFor`: a non-caching `UdpResolver` (the project's plain-DNS adapter) for one `udp://` or
 * `tcp://` spec, with a short timeout. No cache (an egress IP must be asked fresh each run) and no failover (the
 * question only makes sense at that one server).
 * @throws DnsSpecError for an invalid spec; TypeError for a DoH spec (the answer must come from the named server's
 *   own view of the source address, asked directly). `discoverEgressIp` records either as a failed attempt.
 */
export function defaultResolverFor(spec: string, timeoutMs = DEFAULT_EGRESS_DNS_TIMEOUT_MS): DnsResolver {
  const parsed = parseDnsSpec(spec);
  if (parsed.kind === 'doh') throw new TypeError('egress discovery asks a plain DNS server (udp:// or tcp://)');
  return new UdpResolver({ host: parsed.host, port: parsed.port, timeoutMs, transport: parsed.kind });
}
