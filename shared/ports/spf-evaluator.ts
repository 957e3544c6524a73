/**
 * The SPF evaluation port: RFC 7208 check_host() for one client address. Implemented by adapters/spf/mailauth-spf.ts.
 * Error contract: never rejects for DNS or record problems; they are the `temperror`/`permerror` results.
 */

export const SPF_RESULTS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'permerror', 'temperror'] as const;
export type SpfResult = (typeof SPF_RESULTS)[number];

export interface SpfEvaluationInput {
  /** The connecting client's address. */
  readonly ip: string;
  /** MAIL FROM; when absent the HELO identity is checked (`postmaster@<helo>`), or `postmaster@<domain>`. */
  readonly sender?: string;
  readonly helo?: string;
  /** Shortcut for `sender = postmaster@<domain>` when no sender is given. */
  readonly domain?: string;
  /** The evaluating host's name, used in the %{r} macro and comments (default `relaywatch.invalid`). */
  readonly mta?: string;
}

export interface SpfEvaluation {
  readonly ip: string;
  readonly domain: string;
  readonly result: SpfResult;
  /** The evaluator's comment, e.g. `domain of x designates 192.0.2.1 as permitted sender`. */
  readonly comment: string;
  /** The `exp=` text, only for `fail`. Third-party text: escape wherever it is shown. */
  readonly explanation?: string;
  /** DNS-querying terms counted by the evaluation (RFC 7208 §4.6.4). */
  readonly lookups?: number;
  readonly voidLookups?: number;
}

export type SpfEvaluator = (input: SpfEvaluationInput) => Promise<SpfEvaluation>;
