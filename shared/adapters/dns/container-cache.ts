/**
 * A DNS answer cache that outlives one run: a Lambda container builds it once (module scope of the worker) and every
 * invocation's per-run `CachingResolver` consults it after its own cache, so a name the tenants share (the Microsoft
 * 365 and vendor SPF includes) is asked once per container while its TTL lasts, not once per invocation.
 *
 * What it keeps, and for how long:
 * - answers, for their TTL (the smallest over the records and the CNAMEs followed), capped at `maxTtlSec`;
 * - NODATA and NXDOMAIN only when the server sent the SOA that says how long (RFC 2308 §5: the TTL is the smaller of
 *   the SOA's TTL and its MINIMUM, which the wire decoder computes). A negative answer without an SOA "SHOULD NOT be
 *   cached" (RFC 2308 §5): it is not kept here (the per-run cache keeps it for that run only, as before);
 * - never a failure (SERVFAIL, REFUSED, timeout, network error, bad response): those stay in the per-run cache for
 *   its 30 s at most, as before, so a new invocation always asks again after an outage.
 * A served entry carries the TTL it has left (rounded down), so a per-run cache that keeps it never extends its life.
 *
 * Bounded: at most `maxEntries` entries and about `maxBytes` of answer data (an estimate of what the entries hold:
 * the strings' UTF-16 size plus a fixed cost per record and per entry); past either, the least recently used entries
 * are dropped first. Expired entries are dropped when met.
 *
 * Answers are kept apart by resolver (`scope`: the per-run resolver's description, e.g. `udp://10.0.0.2:53`): a config
 * that names other resolvers never gets the old ones' answers.
 */
import { type DnsResult, isFailure, type RecordType } from '../../ports/dns-resolver.ts';

type AnyResult = DnsResult<RecordType>;

export interface ContainerDnsCacheOptions {
  /** Most entries kept (default 20,000: a 1,000-domain MSP asks about 1,100 distinct questions per cycle). */
  readonly maxEntries?: number;
  /** Most estimated bytes of answer data kept (default 16 MiB). */
  readonly maxBytes?: number;
  /** Cap on any kept lifetime, seconds (default 3600, the per-run cache's cap). */
  readonly maxTtlSec?: number;
  /** Milliseconds since any epoch (default `Date.now`). Tests pass a fake clock. */
  readonly now?: () => number;
}

interface Entry {
  readonly result: AnyResult;
  readonly expiresAt: number;
  readonly bytes: number;
}

/** Counters since the cache was made (for tests, the bench and logs). */
export interface ContainerDnsCacheStats {
  readonly entries: number;
  readonly bytes: number;
  readonly hits: number;
  readonly misses: number;
  /** Entries dropped to stay within `maxEntries` / `maxBytes`. */
  readonly evictions: number;
  /** Entries dropped because their TTL ran out. */
  readonly expired: number;
  /** Results offered but not kept (failures, negative answers without an SOA, TTL 0). */
  readonly refused: number;
}

export const CONTAINER_CACHE_DEFAULTS = { maxEntries: 20_000, maxBytes: 16 * 1024 * 1024, maxTtlSec: 3600 } as const;

const ENTRY_OVERHEAD = 160;
const RECORD_OVERHEAD = 48;

function strBytes(s: string): number {
  return 2 * s.length;
}

/** A rough size of what an entry holds in memory (not exact: a bound that grows with the data). */
function estimate(key: string, r: AnyResult): number {
  let n = ENTRY_OVERHEAD + strBytes(key) + strBytes(r.name) + strBytes(r.server);
  if (r.kind === 'answer' || r.kind === 'nodata' || r.kind === 'nxdomain') {
    for (const c of r.cnameChain) n += strBytes(c) + 16;
  }
  if (r.kind === 'answer') {
    for (const rec of r.records) {
      n += RECORD_OVERHEAD;
      const d = rec.data as unknown;
      if (typeof d === 'string') n += strBytes(d);
      else if (d !== null && typeof d === 'object') {
        if ('text' in d && typeof d.text === 'string') {
          n += strBytes(d.text);
          if ('chunks' in d && Array.isArray(d.chunks)) {
            for (const c of d.chunks) n += typeof c === 'string' ? strBytes(c) + 16 : 16;
          }
        }
        if ('exchange' in d && typeof d.exchange === 'string') n += strBytes(d.exchange) + 8;
      }
    }
  }
  return n;
}

/** How long a result may be kept here, seconds; 0 = not at all. */
function keepSeconds(r: AnyResult, cap: number): number {
  if (isFailure(r)) return 0;
  if (r.kind === 'answer') return Math.min(r.ttl, cap);
  // NODATA / NXDOMAIN: only with the SOA's negative TTL (RFC 2308 §5).
  return r.ttl === null ? 0 : Math.min(r.ttl, cap);
}

/** The result with the TTLs it has left: no record outlives the entry. */
function aged(r: AnyResult, leftSec: number): AnyResult {
  if (r.kind === 'answer') {
    if (r.ttl <= leftSec) return r;
    return {
      ...r,
      ttl: leftSec,
      records: r.records.map((rec) => (rec.ttl <= leftSec ? rec : { ...rec, ttl: leftSec })),
    } as AnyResult;
  }
  if ((r.kind === 'nodata' || r.kind === 'nxdomain') && r.ttl !== null && r.ttl > leftSec) {
    return { ...r, ttl: leftSec };
  }
  return r;
}

export class ContainerDnsCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #maxTtlSec: number;
  readonly #now: () => number;
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expired = 0;
  #refused = 0;

  constructor(options: ContainerDnsCacheOptions = {}) {
    const positive = (name: string, v: number) => {
      if (!Number.isFinite(v) || v <= 0) throw new RangeError(`ContainerDnsCache: ${name} must be positive, got ${v}`);
      return v;
    };
    this.#maxEntries = positive('maxEntries', options.maxEntries ?? CONTAINER_CACHE_DEFAULTS.maxEntries);
    this.#maxBytes = positive('maxBytes', options.maxBytes ?? CONTAINER_CACHE_DEFAULTS.maxBytes);
    this.#maxTtlSec = positive('maxTtlSec', options.maxTtlSec ?? CONTAINER_CACHE_DEFAULTS.maxTtlSec);
    this.#now = options.now ?? Date.now;
  }

  /** The kept result for `key` in `scope`, with the TTL it has left, or undefined (expired entries are dropped). */
  get(scope: string, key: string): AnyResult | undefined {
    const k = `${scope}\u0000${key}`;
    const e = this.#entries.get(k);
    if (e === undefined) {
      this.#misses++;
      return undefined;
    }
    const leftMs = e.expiresAt - this.#now();
    const leftSec = Math.floor(leftMs / 1000);
    this.#entries.delete(k);
    if (leftSec < 1) {
      this.#bytes -= e.bytes;
      this.#expired++;
      this.#misses++;
      return undefined;
    }
    // Most recently used last: eviction takes from the front.
    this.#entries.set(k, e);
    this.#hits++;
    return aged(e.result, leftSec);
  }

  /** Offer a result just received from a server; kept only when it may be (see the module comment). */
  put(scope: string, key: string, result: AnyResult): void {
    const ttl = keepSeconds(result, this.#maxTtlSec);
    if (!(ttl >= 1)) {
      this.#refused++;
      return;
    }
    const k = `${scope}\u0000${key}`;
    const bytes = estimate(k, result);
    if (bytes > this.#maxBytes) {
      this.#refused++;
      return;
    }
    const old = this.#entries.get(k);
    if (old !== undefined) {
      this.#entries.delete(k);
      this.#bytes -= old.bytes;
    }
    this.#entries.set(k, { result, expiresAt: this.#now() + ttl * 1000, bytes });
    this.#bytes += bytes;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const first = this.#entries.entries().next();
      if (first.done) break;
      const [fk, fe] = first.value;
      this.#entries.delete(fk);
      this.#bytes -= fe.bytes;
      this.#evictions++;
    }
  }

  /** Forget everything (the counters stay). */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  stats(): ContainerDnsCacheStats {
    return {
      entries: this.#entries.size,
      bytes: this.#bytes,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expired: this.#expired,
      refused: this.#refused,
    };
  }
}
