/**
 * The JSON documents the CLI prints. This is a public contract (README, "JSON output"): fields are only ever added,
 * never renamed or removed, within one `schema` version.
 */
import type { BlocklistRun, ZoneHealth } from '../blocklist/engine.ts';
import { zoneReport } from '../checks/blocklist.ts';
import type { CheckOutcome, CheckStatus, Evidence, Finding } from '../domain/outcome.ts';
import type { DnsStats } from '../ports/dns-resolver.ts';
import type { SpfEvaluation } from '../ports/spf-evaluator.ts';
import type { TenantReport } from '../use-cases/run-checks.ts';
import { type CheckSummary, summarise } from './render.ts';

export interface JsonFinding {
  readonly code: string;
  readonly severity: Finding['severity'];
  readonly message: string;
  readonly evidence: Evidence;
}

export interface JsonCheck {
  readonly kind: CheckOutcome['kind'];
  readonly subject: string;
  readonly status: CheckStatus;
  readonly findings: readonly JsonFinding[];
  readonly details: Evidence;
  readonly durationMs: number;
}

export interface JsonDns {
  readonly resolvers: string;
  readonly stats: DnsStats;
}

export interface CheckDocument {
  readonly schema: 'relaywatch.check/v1';
  readonly generatedAt: string;
  readonly msp: string;
  readonly config: string;
  readonly status: CheckStatus;
  readonly exitCode: number;
  readonly summary: CheckSummary;
  readonly notes: readonly string[];
  readonly dns: JsonDns;
  readonly durationMs: number;
  readonly tenants: ReadonlyArray<{
    readonly id: string;
    readonly name: string;
    readonly status: CheckStatus;
    readonly domains: ReadonlyArray<{
      readonly domain: string;
      readonly status: CheckStatus;
      readonly checks: JsonCheck[];
    }>;
    /** Checks of the tenant as a whole: one `blocklist` check per sending IP. */
    readonly checks: JsonCheck[];
  }>;
  /** The blocklist stage: each zone's health for this run, and the questions it asked. Null when skipped. */
  readonly blocklists: JsonBlocklists | null;
}

export interface JsonBlocklists {
  readonly resolvers: string;
  readonly questions: number;
  readonly health: readonly ZoneHealth[];
}

export function jsonCheck(c: CheckOutcome): JsonCheck {
  return {
    kind: c.kind,
    subject: c.subject,
    status: c.status,
    findings: c.findings.map((f) => ({
      code: f.code,
      severity: f.severity,
      message: f.message,
      evidence: f.evidence ?? {},
    })),
    details: c.details ?? {},
    durationMs: Math.round(c.durationMs),
  };
}

export function checkDocument(args: {
  generatedAt: string;
  msp: string;
  configPath: string;
  status: CheckStatus;
  exitCode: number;
  tenants: readonly TenantReport[];
  dns: JsonDns;
  notes: readonly string[];
  durationMs: number;
  blocklists: JsonBlocklists | null;
}): CheckDocument {
  return {
    schema: 'relaywatch.check/v1',
    generatedAt: args.generatedAt,
    msp: args.msp,
    config: args.configPath,
    status: args.status,
    exitCode: args.exitCode,
    summary: summarise(args.tenants),
    notes: args.notes,
    dns: args.dns,
    durationMs: args.durationMs,
    tenants: args.tenants.map((t) => ({
      id: t.id,
      name: t.name,
      status: t.status,
      domains: t.domains.map((d) => ({ domain: d.domain, status: d.status, checks: d.checks.map(jsonCheck) })),
      checks: t.checks.map(jsonCheck),
    })),
    blocklists: args.blocklists,
  };
}

export interface SpfDocument extends JsonCheck {
  readonly schema: 'relaywatch.spf/v1';
  readonly domain: string;
  readonly results: ReadonlyArray<{
    ip: string;
    result: SpfEvaluation['result'];
    comment: string;
    explanation: string | null;
  }>;
  readonly dns: JsonDns;
}

export function spfDocument(
  outcome: CheckOutcome,
  results: readonly SpfEvaluation[],
  resolvers: string,
  stats: DnsStats,
): SpfDocument {
  return {
    schema: 'relaywatch.spf/v1',
    domain: outcome.subject,
    ...jsonCheck(outcome),
    results: results.map((r) => ({
      ip: r.ip,
      result: r.result,
      comment: r.comment,
      explanation: r.explanation ?? null,
    })),
    dns: { resolvers, stats },
  };
}

export function outcomeDocument(outcome: CheckOutcome, resolvers: string, stats: DnsStats) {
  return {
    schema: `relaywatch.${outcome.kind}/v1`,
    domain: outcome.subject,
    ...jsonCheck(outcome),
    dns: { resolvers, stats },
  };
}

export function blocklistDocument(
  run: BlocklistRun,
  outcomes: readonly CheckOutcome[],
  status: CheckStatus,
  dns: JsonDns,
): BlocklistDocument {
  return {
    schema: 'relaywatch.blocklist/v1',
    status,
    ips: run.ips.map((r, i) => ({
      ip: r.ip,
      status: outcomes[i]?.status ?? 'unknown',
      zones: r.zones.map(zoneReport),
      skipped: r.skipped.map((s) => ({ zone: s.zoneId, why: s.why })),
      findings: outcomes[i] ? jsonCheck(outcomes[i]).findings : [],
    })),
    health: run.health,
    dns,
    questions: run.questions,
  };
}

export interface BlocklistDocument {
  readonly schema: 'relaywatch.blocklist/v1';
  readonly status: CheckStatus;
  readonly ips: ReadonlyArray<{
    readonly ip: string;
    readonly status: CheckStatus;
    readonly zones: ReadonlyArray<{
      readonly zone: string;
      readonly name: string;
      readonly status: 'listed' | 'clean' | 'unknown';
      readonly codes: ReadonlyArray<{ readonly code: string; readonly meaning: string; readonly kind: string }>;
      readonly kind: string | null;
      readonly reason: string | null;
      readonly why: string | null;
      readonly removalUrl: string | null;
      readonly lookupUrl: string | null;
    }>;
    readonly skipped: ReadonlyArray<{ readonly zone: string; readonly why: string }>;
    readonly findings: readonly JsonFinding[];
  }>;
  readonly health: readonly ZoneHealth[];
  readonly dns: JsonDns;
  readonly questions: number;
}

/**
 * A JSON document for stdout: JSON.stringify escapes C0 controls; this also escapes DEL, C1 controls, line/paragraph
 * separators and bidi overrides inside strings (still the same JSON value), so a terminal showing it is safe.
 * `indent` 0 gives one line (JSON Lines).
 */
export function safeJson(doc: unknown, indent = 2): string {
  return JSON.stringify(doc, null, indent).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    return `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
  });
}
