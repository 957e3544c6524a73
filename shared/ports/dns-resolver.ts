/**
 * The DNS port. Every check asks DNS through this interface and nothing else.
 *
 * Error contract: `query()` never rejects for anything a DNS server or the network does. NXDOMAIN, NODATA,
 * SERVFAIL, REFUSED, a timeout, a broken answer and a network error are all *values* (`DnsResult`), kept apart
 * because they mean different things (NXDOMAIN is a fact about the domain, SERVFAIL and timeouts are facts about
 * the path to it). It rejects only for programming errors (e.g. an unsupported record type) and for an aborted
 * `signal`.
 */

export const RECORD_TYPES = ['A', 'AAAA', 'TXT', 'MX', 'PTR', 'CNAME'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** One TXT record: its character-strings as published and their concatenation without separators (RFC 7208 §3.3). */
export interface TxtData {
  readonly text: string;
  readonly chunks: readonly string[];
}

/** One MX record. A null MX (RFC 7505: `0 .`) has `exchange === ''`. */
export interface MxData {
  readonly priority: number;
  readonly exchange: string;
}

export interface RecordDataByType {
  A: string;
  AAAA: string;
  TXT: TxtData;
  MX: MxData;
  PTR: string;
  CNAME: string;
}

export interface DnsRecord<T extends RecordType> {
  readonly data: RecordDataByType[T];
  /** Seconds, as the server gave them. */
  readonly ttl: number;
}

/** Where an answer came from (e.g. `doh:https://127.0.0.1:8443/dns-query`, `udp://127.0.0.1:5353`, `cache`). */
export type ServerId = string;

interface ResultBase {
  /** The name asked, normalised: lower case, no trailing dot. */
  readonly name: string;
  readonly type: RecordType;
  readonly server: ServerId;
}

/** The name exists and has records of the type (after following CNAMEs). */
export interface DnsAnswer<T extends RecordType> extends ResultBase {
  readonly kind: 'answer';
  readonly records: readonly DnsRecord<T>[];
  /** CNAME targets followed from `name` to the owner of the records, in order (empty when there was none). */
  readonly cnameChain: readonly string[];
  /** The smallest TTL among the records and the CNAMEs followed: how long the whole answer may be cached. */
  readonly ttl: number;
  /**
   * The AA bit of the response, when the adapter read one (wire-format adapters do; a cached answer keeps the bit it
   * was received with). Egress discovery requires it: an answer without it did not come from the service's server.
   */
  readonly authoritative?: boolean;
}

/** The name exists but has no records of this type. `ttl` is the negative-caching TTL from the SOA when given. */
export interface DnsNoData extends ResultBase {
  readonly kind: 'nodata';
  readonly cnameChain: readonly string[];
  readonly ttl: number | null;
}

/** The name (or the end of its CNAME chain) does not exist. */
export interface DnsNxDomain extends ResultBase {
  readonly kind: 'nxdomain';
  readonly cnameChain: readonly string[];
  readonly ttl: number | null;
}

/** The query could not be answered; nothing is known about the name. */
export interface DnsFailure extends ResultBase {
  readonly kind: 'servfail' | 'refused' | 'timeout' | 'network-error' | 'bad-response';
  /** Human-readable cause, e.g. `no answer within 2000 ms`, `ECONNREFUSED`, `rcode FORMERR`. Never contains secrets. */
  readonly detail: string;
}

export type DnsResult<T extends RecordType> = DnsAnswer<T> | DnsNoData | DnsNxDomain | DnsFailure;

export type DnsFailureKind = DnsFailure['kind'];
export const FAILURE_KINDS: readonly DnsFailureKind[] = [
  'servfail',
  'refused',
  'timeout',
  'network-error',
  'bad-response',
];

export interface QueryOptions {
  readonly signal?: AbortSignal;
  /**
   * A question asked once per run (e.g. a DNSBL name for one address and zone): a caching resolver neither looks it up
   * nor stores it, which saves its bookkeeping. Resolvers without a cache ignore it.
   */
  readonly once?: boolean;
}

export interface DnsResolver {
  /** Ask one question. Never rejects for DNS or network outcomes: see the module comment. */
  query<T extends RecordType>(name: string, type: T, options?: QueryOptions): Promise<DnsResult<T>>;
  /** A short, secret-free description for reports (`doh:https://cloudflare-dns.com/dns-query, …`). */
  describe(): string;
}

/** Counters a resolver keeps for one run; reported by `check` and by the benchmark. */
export interface DnsStats {
  /** Questions handed to the resolver by callers. */
  questions: number;
  /** Answered from the TTL cache. */
  cacheHits: number;
  /** Joined a query already in flight for the same name and type. */
  inflightJoins: number;
  /** Queries sent to a server (each failover attempt and each TCP retry counts). */
  queriesSent: number;
  /** Results by kind, from the callers' point of view. */
  byKind: Record<DnsResult<RecordType>['kind'], number>;
}

export function isFailure<T extends RecordType>(r: DnsResult<T>): r is DnsFailure {
  return r.kind !== 'answer' && r.kind !== 'nodata' && r.kind !== 'nxdomain';
}

/** Normalise a DNS name for asking and for cache keys: lower case, no trailing dot. */
export function normaliseName(name: string): string {
  const n = name.trim().toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/** A one-line description of a result for findings and reports. */
export function describeResult(r: DnsResult<RecordType>): string {
  switch (r.kind) {
    case 'answer':
      return `${r.records.length} ${r.type} record(s)`;
    case 'nodata':
      return `no ${r.type} records (NODATA)`;
    case 'nxdomain':
      return 'the name does not exist (NXDOMAIN)';
    case 'servfail':
      return `the resolver failed (SERVFAIL${r.detail ? `: ${r.detail}` : ''}) via ${r.server}`;
    case 'refused':
      return `the resolver refused the query (REFUSED) via ${r.server}`;
    case 'timeout':
      return `no answer in time (${r.detail}) via ${r.server}`;
    case 'network-error':
      return `the resolver could not be reached (${r.detail}) via ${r.server}`;
    case 'bad-response':
      return `the resolver sent a broken answer (${r.detail}) via ${r.server}`;
  }
}
