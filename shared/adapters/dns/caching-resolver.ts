/**
 * A per-run cache in front of a resolver: TTL cache, negative and failure caching, in-flight de-duplication and a
 * concurrency limit, with the counters `DnsStats` reports. Make one per run; it never forgets on its own beyond TTLs.
 * Optionally backed by a `ContainerDnsCache` that outlives the run (a Lambda container's): asked on a miss here,
 * before the query is sent; its hits count as `cacheHits`.
 *
 * Error contract (the port's): `query()` never rejects for DNS or network outcomes; it passes on the inner resolver's
 * values (a cached result keeps the `server` that really gave it). It rejects with the caller's `signal.reason` when
 * that caller aborts; the shared inner query is aborted only when every caller waiting for it has aborted.
 * Programming errors of the inner resolver (e.g. an unsupported type) reject every caller waiting for that query.
 */

import { Semaphore } from '../../domain/semaphore.ts';
import {
  type DnsResolver,
  type DnsResult,
  type DnsStats,
  isFailure,
  normaliseName,
  type QueryOptions,
  type RecordType,
} from '../../ports/dns-resolver.ts';
import type { ContainerDnsCache } from './container-cache.ts';
import { isSentCounter } from './sent-counter.ts';

export interface CachingResolverOptions {
  /** Milliseconds since any epoch (default `Date.now`). Tests pass a fake clock. */
  readonly now?: () => number;
  /** Queries to the inner resolver at once (default 32); the rest wait in FIFO order. */
  readonly maxConcurrent?: number;
  /** How long a failure (servfail, refused, timeout, network-error, bad-response) is remembered (default 30 s; 0 = never). */
  readonly failureTtlSec?: number;
  /** Cap on any cached lifetime (default 3600 s). */
  readonly maxTtlSec?: number;
  /** Lifetime of a NODATA/NXDOMAIN whose answer carried no SOA (default 60 s). */
  readonly negativeTtlSec?: number;
  /**
   * A cache that outlives this run (a Lambda container's): asked after this run's own cache, and given every answer
   * and SOA-backed negative answer this run receives (never a failure). Absent: this run's cache only.
   */
  readonly container?: ContainerDnsCache | undefined;
}

type AnyResult = DnsResult<RecordType>;

interface CacheEntry {
  readonly result: AnyResult;
  readonly expiresAt: number;
}

interface Flight {
  readonly key: string;
  /** Only for a flight started by a caller with a signal: a caller without one never leaves, so nothing aborts it. */
  readonly controller: AbortController | undefined;
  readonly promise: Promise<AnyResult>;
  /** Callers waiting; only callers with a signal ever leave early. */
  waiters: number;
}

/** Caches answers for their TTL (capped), NODATA/NXDOMAIN for their SOA TTL, failures for `failureTtlSec`. */
export class CachingResolver implements DnsResolver {
  readonly inner: DnsResolver;
  private readonly now: () => number;
  private readonly semaphore: Semaphore;
  private readonly failureTtlSec: number;
  private readonly maxTtlSec: number;
  private readonly negativeTtlSec: number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Flight>();
  private readonly sentBaseline: number;
  private readonly container: ContainerDnsCache | undefined;
  /** The container cache's scope: answers are kept apart by the resolvers that gave them. */
  private readonly scope: string;
  private innerQueries = 0;
  private readonly counters: Omit<DnsStats, 'queriesSent'> = {
    questions: 0,
    cacheHits: 0,
    inflightJoins: 0,
    byKind: {
      answer: 0,
      nodata: 0,
      nxdomain: 0,
      servfail: 0,
      refused: 0,
      timeout: 0,
      'network-error': 0,
      'bad-response': 0,
    },
  };

  constructor(inner: DnsResolver, options: CachingResolverOptions = {}) {
    this.inner = inner;
    this.now = options.now ?? Date.now;
    this.semaphore = new Semaphore(options.maxConcurrent ?? 32);
    this.failureTtlSec = options.failureTtlSec ?? 30;
    this.maxTtlSec = options.maxTtlSec ?? 3600;
    this.negativeTtlSec = options.negativeTtlSec ?? 60;
    this.sentBaseline = isSentCounter(inner) ? inner.sent() : 0;
    this.container = options.container;
    this.scope = inner.describe();
  }

  describe(): string {
    return this.inner.describe();
  }

  /**
   * Counters since this resolver was made. `queriesSent` is what the inner resolver reports it put on the wire
   * (`sent()`), or the number of inner queries when it does not count.
   */
  stats(): DnsStats {
    const queriesSent = isSentCounter(this.inner) ? this.inner.sent() - this.sentBaseline : this.innerQueries;
    return { ...this.counters, byKind: { ...this.counters.byKind }, queriesSent };
  }

  async query<T extends RecordType>(name: string, type: T, options: QueryOptions = {}): Promise<DnsResult<T>> {
    const { signal } = options;
    signal?.throwIfAborted();
    this.counters.questions++;
    if (options.once && signal === undefined) return this.counted(await this.direct(name, type)) as DnsResult<T>;
    const key = `${normaliseName(name)}/${type}`;

    const cached = this.cache.get(key);
    if (cached !== undefined) {
      if (cached.expiresAt > this.now()) {
        this.counters.cacheHits++;
        return this.counted(cached.result) as DnsResult<T>;
      }
      this.cache.delete(key);
    }
    const kept = this.container?.get(this.scope, key);
    if (kept !== undefined) {
      this.counters.cacheHits++;
      return this.counted(kept) as DnsResult<T>;
    }

    let flight = this.inflight.get(key);
    if (flight === undefined) flight = this.start(key, name, type, signal !== undefined);
    else this.counters.inflightJoins++;
    return this.counted(await this.wait(flight, signal)) as DnsResult<T>;
  }

  /** A question that will not be asked again: no cache, no flight bookkeeping, still within the concurrency limit. */
  private async direct(name: string, type: RecordType): Promise<AnyResult> {
    const release = this.semaphore.tryAcquire() ?? (await this.semaphore.acquire());
    try {
      this.innerQueries++;
      return await this.inner.query(name, type);
    } finally {
      release();
    }
  }

  private counted(result: AnyResult): AnyResult {
    this.counters.byKind[result.kind]++;
    return result;
  }

  private start(key: string, name: string, type: RecordType, abortable: boolean): Flight {
    // An AbortController per query costs measurable CPU in a blocklist sweep: make one only when it can be used.
    const controller = abortable ? new AbortController() : undefined;
    const options = controller ? { signal: controller.signal } : {};
    const run = async (): Promise<AnyResult> => {
      const release = await this.semaphore.acquire(controller?.signal);
      try {
        this.innerQueries++;
        const result = await this.inner.query(name, type, options);
        this.store(key, result);
        return result;
      } finally {
        release();
      }
    };
    const promise = run().finally(() => {
      if (this.inflight.get(key) === flight) this.inflight.delete(key);
    });
    // Waiters get the rejection through their own handlers; this keeps an abandoned flight from being "unhandled".
    promise.catch(() => {});
    const flight: Flight = { key, controller, promise, waiters: 0 };
    this.inflight.set(key, flight);
    return flight;
  }

  private wait(flight: Flight, signal: AbortSignal | undefined): Promise<AnyResult> {
    flight.waiters++;
    if (signal === undefined) return flight.promise;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        flight.waiters--;
        if (flight.waiters === 0) {
          // Nobody wants this answer any more: stop it, and let a later ask start afresh.
          if (this.inflight.get(flight.key) === flight) this.inflight.delete(flight.key);
          flight.controller?.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (result) => {
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  private store(key: string, result: AnyResult): void {
    let ttlSec: number;
    if (result.kind === 'answer') ttlSec = result.ttl;
    else if (!isFailure(result)) ttlSec = result.ttl ?? this.negativeTtlSec;
    else ttlSec = this.failureTtlSec;
    ttlSec = Math.min(ttlSec, this.maxTtlSec);
    if (ttlSec > 0) this.cache.set(key, { result, expiresAt: this.now() + ttlSec * 1000 });
    // The container cache decides for itself what it may keep (answers, SOA-backed negatives; never failures).
    this.container?.put(this.scope, key, result);
  }
}
