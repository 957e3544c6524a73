/**
 * Outcomes are values. A check returns one; it never throws for what it observes, never persists and never sends.
 *
 * Status rules (worst first): a finding of severity `error` makes the check `fail`; otherwise an `unknown` finding makes
 * it `unknown` (we could not tell); otherwise a `warning` makes it `warn`; `info` findings leave it `pass`.
 * A DNS outage is always `unknown`, never `fail`: unknown is not failure.
 */

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'unknown';
export type Severity = 'info' | 'warning' | 'error' | 'unknown';
export type CheckKind =
  | 'spf'
  | 'mx'
  | 'blocklist'
  | 'domain-blocklist'
  | 'submission'
  | 'probe-submission'
  | 'probe-relay'
  | 'probe-confirmation';

/** JSON-safe evidence attached to a finding. */
export type Evidence = { readonly [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface Finding {
  /** Stable, kebab-case identifier (part of the JSON contract; MSPs write rules on it). */
  readonly code: string;
  readonly severity: Severity;
  /** One sentence for a person. Untrusted text inside it (TXT records, host names) is quoted, never interpreted. */
  readonly message: string;
  readonly evidence?: Evidence;
}

export interface CheckOutcome {
  readonly kind: CheckKind;
  /** What was checked: a domain for spf/mx. */
  readonly subject: string;
  readonly status: CheckStatus;
  readonly findings: readonly Finding[];
  /** Check-specific details for the JSON report (the SPF tree, the MX list…). */
  readonly details?: Evidence;
  readonly durationMs: number;
}

const STATUS_RANK: Record<CheckStatus, number> = { pass: 0, warn: 1, unknown: 2, fail: 3 };

/** The status a list of findings implies (see module comment). */
export function statusOf(findings: readonly Finding[]): CheckStatus {
  let status: CheckStatus = 'pass';
  for (const f of findings) {
    const s: CheckStatus =
      f.severity === 'error'
        ? 'fail'
        : f.severity === 'unknown'
          ? 'unknown'
          : f.severity === 'warning'
            ? 'warn'
            : 'pass';
    if (STATUS_RANK[s] > STATUS_RANK[status]) status = s;
  }
  return status;
}

/** The worst of several statuses, in the same order as `statusOf`. */
export function worstStatus(statuses: Iterable<CheckStatus>): CheckStatus {
  let worst: CheckStatus = 'pass';
  for (const s of statuses) if (STATUS_RANK[s] > STATUS_RANK[worst]) worst = s;
  return worst;
}

/**
 * Exit status per the monitoring-plugin convention: 0 all pass, 1 any warn, 2 any fail, 3 unknown.
 * A fail outranks an unknown elsewhere in the run: the MSP must hear about the definite problem.
 */
export function exitCodeFor(status: CheckStatus): 0 | 1 | 2 | 3 {
  switch (status) {
    case 'pass':
      return 0;
    case 'warn':
      return 1;
    case 'fail':
      return 2;
    case 'unknown':
      return 3;
  }
}

export function finding(code: string, severity: Severity, message: string, evidence?: Evidence): Finding {
  return evidence === undefined ? { code, severity, message } : { code, severity, message, evidence };
}
