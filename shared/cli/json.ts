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
  return escapeUnsafe(JSON.stringify(doc, null, indent));
}

function escapeUnsafe(json: string): string {
  return json.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    return `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;
  });
}

/** A plain object or array the streaming writer may open (anything with `toJSON`, a Date…, is left to JSON.stringify). */
function isOpenable(v: unknown): v is Record<string, unknown> | unknown[] {
  if (Array.isArray(v)) return true;
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

/** What JSON.stringify drops from an object (and writes as null in an array). */
const omitted = (v: unknown) => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * The text of `safeJson(doc, indent)` in pieces: the outer `depth` levels of objects and arrays are opened here and
 * every value below them is stringified on its own, so the whole document never exists as one string (a 1,000-domain
 * `check --json` report is ~6 MB; as one string, its escaped copy and its UTF-8 buffer it cost ~30 MB at the run's
 * memory peak). The concatenation of the pieces equals `safeJson(doc, indent)` exactly.
 */
export function* safeJsonPieces(doc: unknown, indent = 2, depth = 3): Generator<string> {
  const pad = ' '.repeat(indent);
  function* value(v: unknown, at: string, level: number): Generator<string> {
    if (level >= depth || !isOpenable(v)) {
      const text = JSON.stringify(v, null, indent) ?? 'null';
      yield escapeUnsafe(indent > 0 && text.includes('\n') ? text.replaceAll('\n', `\n${at}`) : text);
      return;
    }
    const inner = at + pad;
    const nl = indent > 0 ? '\n' : '';
    const sep = indent > 0 ? ': ' : ':';
    if (Array.isArray(v)) {
      if (v.length === 0) return yield '[]';
      yield `[${nl}`;
      for (let i = 0; i < v.length; i++) {
        yield `${i > 0 ? `,${nl}` : ''}${inner}`;
        yield* value(omitted(v[i]) ? null : v[i], inner, level + 1);
      }
      return yield `${nl}${at}]`;
    }
    const entries = Object.entries(v).filter(([, x]) => !omitted(x));
    if (entries.length === 0) return yield '{}';
    yield `{${nl}`;
    for (let i = 0; i < entries.length; i++) {
      const [k, x] = entries[i] as [string, unknown];
      yield `${i > 0 ? `,${nl}` : ''}${inner}${escapeUnsafe(JSON.stringify(k))}${sep}`;
      yield* value(x, inner, level + 1);
    }
    yield `${nl}${at}}`;
  }
  yield* value(doc, '', 0);
}

/**
 * Write `safeJson(doc, indent)` and a newline to a stream in pieces of about 64 KB (see `safeJsonPieces`). process.stdout
 * writes to files and pipes synchronously on Linux, so the pieces do not pile up in memory either.
 */
export function writeSafeJson(stream: NodeJS.WritableStream, doc: unknown, indent = 2): void {
  let buffered = '';
  for (const piece of safeJsonPieces(doc, indent)) {
    buffered += piece;
    if (buffered.length >= 65_536) {
      stream.write(buffered);
      buffered = '';
    }
  }
  stream.write(`${buffered}\n`);
}
