/** What a check needs and what it is given. Checks take every I/O crossing as a parameter (ARCHITECTURE.md §2). */
import type { CheckKind, CheckOutcome } from '../domain/outcome.ts';
import type { DnsResolver } from '../ports/dns-resolver.ts';
import type { SpfEvaluator } from '../ports/spf-evaluator.ts';

/** One mail domain of one tenant, as the checks see it. */
export interface DomainTarget {
  readonly domain: string;
  /** The tenant's public relay addresses: single IPs or small CIDR ranges (validated config). */
  readonly relayIps: readonly string[];
  /** The MX host the tenant's Microsoft 365 domain page shows, when it is not the default pattern. */
  readonly expectedMx?: string;
}

export interface CheckContext {
  readonly resolver: DnsResolver;
  readonly evaluateSpf: SpfEvaluator;
  /** Milliseconds clock, for durations. */
  readonly now: () => number;
}

export interface DomainCheck {
  readonly kind: CheckKind;
  /** One line for `--help` and the README. */
  readonly title: string;
  /** Never rejects: whatever DNS does becomes findings (`unknown` for outages). */
  run(target: DomainTarget, ctx: CheckContext): Promise<CheckOutcome>;
}
