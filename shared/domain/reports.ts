/**
 * The report types of a monitoring cycle: what the checks of one tenant found, per domain and for the tenant as a
 * whole (blocklists per sending IP, probes). Produced by the use cases, stored as observations, rendered by the CLI
 * and carried in jobs between Lambda functions. The site agent's report (its wire format) is in `agent-report.ts`.
 */
import type { CheckOutcome, CheckStatus } from './outcome.ts';

export interface DomainReport {
  readonly domain: string;
  readonly status: CheckStatus;
  readonly checks: readonly CheckOutcome[];
}

export interface TenantReport {
  readonly id: string;
  readonly name: string;
  readonly status: CheckStatus;
  readonly domains: readonly DomainReport[];
  /** Checks of the tenant as a whole, e.g. one `blocklist` check per sending IP. */
  readonly checks: readonly CheckOutcome[];
}
