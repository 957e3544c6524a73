/**
 * Ordered failover over several resolvers for one run.
 *
 * Error contract (the port's): `query()` never rejects for DNS or network outcomes. The first answer, NODATA or
 * NXDOMAIN wins (those are facts about the name and never fail over); SERVFAIL, REFUSED, timeout, network-error and
 * bad-response try the next resolver. When every resolver failed, the result is the last failure with a `detail`
 * that lists each server's failure. Rejections of the inner resolvers (abort, programming errors) pass through.
 */
import {
  type DnsFailure,
  type DnsResolver,
  type DnsResult,
  isFailure,
  type QueryOptions,
  type RecordType,
} from '../../ports/dns-resolver.ts';
import { isSentCounter, type SentCounter } from './sent-counter.ts';

/**
 * Asks the resolvers in order until one gives a non-failure. A resolver that answered with `timeout` or
 * `network-error` is tried after the healthy ones until it answers again (per instance, i.e. per run).
 */
export class FailoverResolver implements DnsResolver, SentCounter {
  private readonly resolvers: readonly DnsResolver[];
  private readonly unhealthy = new Set<DnsResolver>();

  /** @throws TypeError for an empty list. */
  constructor(resolvers: readonly DnsResolver[]) {
    if (resolvers.length === 0) throw new TypeError('FailoverResolver needs at least one resolver');
    this.resolvers = [...resolvers];
  }

  describe(): string {
    return this.resolvers.map((r) => r.describe()).join(', ');
  }

  /** Queries sent by the inner resolvers that count them. */
  sent(): number {
    let total = 0;
    for (const r of this.resolvers) if (isSentCounter(r)) total += r.sent();
    return total;
  }

  /** The order the next query will use: healthy resolvers first, each group in configured order. */
  order(): readonly DnsResolver[] {
    return [
      ...this.resolvers.filter((r) => !this.unhealthy.has(r)),
      ...this.resolvers.filter((r) => this.unhealthy.has(r)),
    ];
  }

  async query<T extends RecordType>(name: string, type: T, options?: QueryOptions): Promise<DnsResult<T>> {
    const failures: DnsFailure[] = [];
    for (const resolver of this.order()) {
      const result = await resolver.query(name, type, options);
      if (!isFailure(result)) {
        this.unhealthy.delete(resolver);
        return result;
      }
      if (result.kind === 'timeout' || result.kind === 'network-error') this.unhealthy.add(resolver);
      failures.push(result);
    }
    const last = failures[failures.length - 1];
    if (last === undefined) throw new Error('unreachable: no resolver was asked');
    if (failures.length === 1) return last;
    const detail = `all ${failures.length} servers failed: ${failures.map((f) => `${f.server} ${f.kind} (${f.detail})`).join('; ')}`;
    return { ...last, detail };
  }
}
