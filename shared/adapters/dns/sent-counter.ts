/**
 * How the adapters report the queries they really put on the wire, so that `DnsStats.queriesSent` counts packets
 * and requests (each retransmit, TCP retry and failover attempt) rather than questions.
 */
import type { DnsResolver } from '../../ports/dns-resolver.ts';

/** A resolver that counts the queries it sent to servers since it was created. */
export interface SentCounter {
  sent(): number;
}

export function isSentCounter(resolver: DnsResolver): resolver is DnsResolver & SentCounter {
  return typeof (resolver as Partial<SentCounter>).sent === 'function';
}
