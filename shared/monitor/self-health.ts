/**
 * Watching the watcher (pure): one observation per run of whether relaywatch could check anything at all, for the
 * MSP-wide self-health incident. A run in which every verdict is unknown (no resolver answered, every blocklist zone
 * unusable) opens nothing for any tenant, so without this nobody would hear that the monitor is blind.
 *
 * - The subject is the MSP's monitor: tenant {@link SELF_TENANT}, check {@link SELF_CHECK}, subject `monitor`.
 * - Failing when the run produced verdicts and every one of them is unknown; passing when at least one is not;
 *   a run without any check (no tenant selected) says nothing (unknown).
 * - Its own thresholds (`defaultThresholds('relaywatch')`: open after 3 such runs in a row, resolve after 1 run
 *   that checks something), tunable as `incidents.checks.relaywatch`; it goes to the default routes.
 */
import type { Observation } from '../incidents/policy.ts';
import type { CheckStatus } from '../ports/stores.ts';
import type { TenantReport } from '../use-cases/run-checks.ts';
import { type AlertContent, encodeContent } from './observe.ts';

/** The pseudo-tenant of MSP-wide incidents (not a valid configured tenant id: it starts with `_`). */
export const SELF_TENANT = '_relaywatch';
export const SELF_CHECK = 'relaywatch';
export const SELF_SUBJECT = 'monitor';
export const SELF_PROBLEM = 'relaywatch-unchecked';

export interface CheckCoverage {
  readonly domains: number;
  readonly domainsUnchecked: number;
  readonly ips: number;
  readonly ipsUnchecked: number;
  /** Verdicts of the run by status. */
  readonly counts: Readonly<Record<CheckStatus, number>>;
}

export function coverage(reports: readonly TenantReport[]): CheckCoverage {
  const counts = { pass: 0, warn: 0, fail: 0, unknown: 0 };
  let domains = 0;
  let domainsUnchecked = 0;
  let ips = 0;
  let ipsUnchecked = 0;
  for (const t of reports) {
    for (const d of t.domains) {
      domains++;
      for (const c of d.checks) counts[c.status]++;
      if (d.checks.length > 0 && d.checks.every((c) => c.status === 'unknown')) domainsUnchecked++;
    }
    for (const c of t.checks) {
      counts[c.status]++;
      if (c.kind === 'blocklist') {
        ips++;
        if (c.status === 'unknown') ipsUnchecked++;
      }
    }
  }
  return { domains, domainsUnchecked, ips, ipsUnchecked, counts };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The run's self-health observation, or null when the run had no verdict at all. `runs` is how many runs in a row
 * (this one included) could not check anything, for the title.
 */
export function selfHealthObservation(
  reports: readonly TenantReport[],
  run: { readonly runId: string; readonly at: string },
  runs: number,
): Observation | null {
  const c = coverage(reports);
  const total = c.counts.pass + c.counts.warn + c.counts.fail + c.counts.unknown;
  if (total === 0) return null;
  const blind = c.counts.pass + c.counts.warn + c.counts.fail === 0;
  const reasons = [
    ...(c.domains > 0 && c.domainsUnchecked === c.domains ? ['no resolver answered'] : []),
    ...(c.ips > 0 && c.ipsUnchecked === c.ips ? ['every blocklist zone was unusable'] : []),
  ];
  const reason = reasons.join(' and ') || 'every verdict was unknown';
  const scope = [
    ...(c.domains > 0 ? [`${c.domainsUnchecked} of ${plural(c.domains, 'domain')}`] : []),
    ...(c.ips > 0 ? [`${c.ipsUnchecked} of ${plural(c.ips, 'sending IP')}`] : []),
  ].join(' and ');
  const content: AlertContent = {
    what: `relaywatch could not check ${scope || 'anything'} in ${runs === 1 ? 'this run' : `${runs} runs in a row`}: ${reason}. No tenant's incidents can open or resolve while this lasts.`,
    why: 'While relaywatch cannot check, a new listing, a broken SPF record or a refused relay goes unnoticed: no incident opens and no alert is sent for any tenant.',
    remediation: [
      'Check that the resolvers in dns.resolvers answer from this host (relaywatch check --dns udp://<resolver> for one run; the report’s DNS line shows timeouts and refusals).',
      'For blocklists, the report’s zone health says why each zone is unusable (Spamhaus through a public resolver, a missing DQS key, a zone that stopped answering); set blocklists.resolvers to a private recursive resolver.',
      'This incident resolves on the first run that checks something again.',
    ],
    links: [],
    evidence: null,
  };
  return {
    tenantId: SELF_TENANT,
    check: SELF_CHECK,
    subject: SELF_SUBJECT,
    status: blind ? 'fail' : 'pass',
    problem: SELF_PROBLEM,
    severity: 'critical',
    title: `relaywatch could not check ${scope || 'anything'} for ${plural(runs, 'run')}: ${reason}`,
    detail: encodeContent(content),
    runId: run.runId,
    at: run.at,
  };
}
