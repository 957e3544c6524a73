/**
 * The DNS adapters' front door: parse resolver specs and build the per-run resolver stack
 * (cache → failover → DoH/UDP/TCP adapters).
 *
 * Error contract: `parseDnsSpec()` and `createResolver()` throw `DnsSpecError` for a spec that is not one of the
 * accepted forms (config errors, reported at the edge). The resolver they build follows the port's contract.
 */
import net from 'node:net';
import type { DnsResolver } from '../../ports/dns-resolver.ts';
import { CachingResolver } from './caching-resolver.ts';
import type { ContainerDnsCache } from './container-cache.ts';
import { DohResolver } from './doh-resolver.ts';
import { FailoverResolver } from './failover-resolver.ts';
import { UdpResolver } from './udp-resolver.ts';

export { CachingResolver, type CachingResolverOptions } from './caching-resolver.ts';
export { ContainerDnsCache, type ContainerDnsCacheOptions, type ContainerDnsCacheStats } from './container-cache.ts';
export { DohResolver, type DohResolverOptions } from './doh-resolver.ts';
export { FailoverResolver } from './failover-resolver.ts';
export { isSentCounter, type SentCounter } from './sent-counter.ts';
export { UdpResolver, type UdpResolverOptions } from './udp-resolver.ts';

/** Public DoH services used when the configuration names none. Not usable for DNS blocklists (DOMAIN.md §5). */
export const DEFAULT_DNS: readonly string[] = [
  'doh:https://cloudflare-dns.com/dns-query',
  'doh:https://dns.google/dns-query',
];

const ACCEPTED_FORMS =
  'accepted forms: doh:https://host[:port]/path (or just https://host[:port]/path), udp://IP[:port], ' +
  'udp://[IPv6][:port], tcp://IP[:port], tcp://[IPv6][:port]';

/** A resolver spec that is not one of the accepted forms. `message` says which forms are accepted. */
export class DnsSpecError extends Error {
  readonly spec: string;
  constructor(spec: string, problem: string, options?: ErrorOptions) {
    super(`invalid DNS resolver ${JSON.stringify(spec)}: ${problem} (${ACCEPTED_FORMS})`, options);
    this.name = 'DnsSpecError';
    this.spec = spec;
  }
}

export type DnsSpec =
  | { readonly kind: 'doh'; readonly url: string }
  | { readonly kind: 'udp' | 'tcp'; readonly host: string; readonly port: number };

/**
 * Parse one resolver spec: `doh:https://host[:port]/path`, a bare `https://…`, `udp://IP[:port]`,
 * `udp://[IPv6][:port]` or the same with `tcp://`. Plain DNS servers must be IP addresses (port default 53).
 * @throws DnsSpecError naming the problem and the accepted forms.
 */
export function parseDnsSpec(spec: string): DnsSpec {
  const text = spec.trim();
  if (text === '') throw new DnsSpecError(spec, 'empty');
  const lower = text.toLowerCase();
  if (lower.startsWith('doh:') || lower.startsWith('https:') || lower.startsWith('http:')) {
    return { kind: 'doh', url: parseDohUrl(spec, lower.startsWith('doh:') ? text.slice(4) : text) };
  }
  if (lower.startsWith('udp://') || lower.startsWith('tcp://')) return parsePlain(spec, text);
  if (net.isIP(text) !== 0 || net.isIP(text.replace(/:\d+$/, '')) === 4) {
    throw new DnsSpecError(spec, `a bare address needs a scheme, e.g. udp://${text}`);
  }
  throw new DnsSpecError(spec, 'unknown scheme');
}

function parseDohUrl(spec: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new DnsSpecError(spec, 'not a valid URL', { cause });
  }
  if (url.protocol !== 'https:') throw new DnsSpecError(spec, 'DoH needs an https:// URL');
  if (url.hostname === '') throw new DnsSpecError(spec, 'the URL has no host');
  if (url.hash !== '') throw new DnsSpecError(spec, 'a DoH URL has no #fragment');
  return url.href;
}

function parsePlain(spec: string, text: string): DnsSpec {
  const kind = text.slice(0, 3).toLowerCase() as 'udp' | 'tcp';
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new DnsSpecError(spec, 'not a valid address', { cause });
  }
  if (url.username !== '' || url.password !== '') throw new DnsSpecError(spec, `${kind}:// takes no user or password`);
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new DnsSpecError(spec, `${kind}:// takes no path, query or fragment`);
  }
  const bracketed = url.hostname.startsWith('[') && url.hostname.endsWith(']');
  const host = bracketed ? url.hostname.slice(1, -1) : url.hostname;
  if (net.isIP(host) === 0) {
    throw new DnsSpecError(spec, `${kind}:// needs an IP address (a DNS server cannot be found by name)`);
  }
  const port = url.port === '' ? 53 : Number(url.port);
  if (port < 1 || port > 65535) throw new DnsSpecError(spec, 'port out of range');
  return { kind, host, port };
}

export interface CreateResolverOptions {
  /** Resolver specs in failover order (default `DEFAULT_DNS`). */
  readonly specs?: readonly string[];
  /** Per-query timeout of each adapter in ms (default 2500). */
  readonly timeoutMs?: number;
  /** Queries in flight at once (default 32). */
  readonly maxConcurrent?: number;
  /** Extra CA (PEM) trusted by the DoH adapters, for self-signed servers. */
  readonly ca?: string;
  /** Failure cache lifetime (default 30 s). */
  readonly failureTtlSec?: number;
  /** Clock for the cache, ms (default `Date.now`). */
  readonly now?: () => number;
  /** A cache that outlives the run (a Lambda container's), behind the per-run one. */
  readonly container?: ContainerDnsCache | undefined;
}

export interface ResolverStack {
  /** The per-run resolver: cache in front of failover over the adapters. `stats()` counts real packets. */
  readonly resolver: CachingResolver;
  /** Closes the DoH agents (HTTP/2 sessions keep a process alive otherwise) and the UDP sockets. Idempotent. */
  close(): Promise<void>;
}

/**
 * Build the per-run resolver stack. Make one per run: the cache and the health memory of the failover live in it.
 * @throws DnsSpecError for an invalid spec or an empty list.
 */
export function createResolver(options: CreateResolverOptions = {}): ResolverStack {
  const specs = options.specs ?? DEFAULT_DNS;
  if (specs.length === 0) throw new DnsSpecError('', 'no resolvers given');
  const parsed = specs.map(parseDnsSpec);
  const dohs: DohResolver[] = [];
  const udps: UdpResolver[] = [];
  const adapters: DnsResolver[] = parsed.map((spec) => {
    if (spec.kind === 'doh') {
      const doh = new DohResolver({ url: spec.url, timeoutMs: options.timeoutMs, ca: options.ca });
      dohs.push(doh);
      return doh;
    }
    const udp = new UdpResolver({
      host: spec.host,
      port: spec.port,
      timeoutMs: options.timeoutMs,
      transport: spec.kind,
    });
    udps.push(udp);
    return udp;
  });
  // one resolver needs no failover layer (it would only pass its answers through)
  const inner = adapters.length === 1 && adapters[0] ? adapters[0] : new FailoverResolver(adapters);
  const resolver = new CachingResolver(inner, {
    maxConcurrent: options.maxConcurrent,
    failureTtlSec: options.failureTtlSec,
    now: options.now,
    container: options.container,
  });
  let closed: Promise<void> | undefined;
  return {
    resolver,
    close: () => {
      for (const u of udps) u.close();
      closed ??= Promise.all(dohs.map((d) => d.close())).then(() => undefined);
      return closed;
    },
  };
}
