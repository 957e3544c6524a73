/**
 * What a weekly digest says, as data (pure): composed from a tenant's stored check results, events and incidents
 * for one week, then rendered as e-mail HTML, plain text and the report page by the other modules here.
 *
 * The numbers and the rules behind them (stated in every digest, {@link AVAILABILITY_RULE}):
 * - Every stored check result of the week counts once: one result per (run, check, subject). Retries inside a run
 *   (the resolver's retries, a probe's reconnects) are not results of their own; only the run's verdict counts.
 * - Availability of a path = up / (up + down) over its results: `pass` and `warn` are up, `fail` is down, `unknown`
 *   (we could not tell: a timeout, a refusing resolver, an unusable blocklist) is neither and is listed with its
 *   reasons. A single failed result counts as down even when the incident policy waited for more before opening.
 * - Probe success rate = accepted probes / all probes run (unknowns included in the denominator), and the median and
 *   95th percentile latency of the probes that recorded one (nearest-rank percentiles).
 * - A day's strip cell is the worst status of the path that day, worst first: fail, unknown, warn, pass; `none` when
 *   nothing ran.
 *
 * All text taken from the store (tenant names, SMTP replies, TXT records) stays raw here; each renderer escapes it
 * for its medium.
 */
import { type CheckStatus, worstStatus } from '../domain/outcome.ts';
import type { CheckRecord, EventRecord, IncidentRecord, IncidentSeverity, JsonValue } from '../ports/stores.ts';
import { dayIndex, type Week } from './week.ts';

export const AVAILABILITY_RULE =
  'Availability = results up ÷ (up + down). A failed check counts as down; pass and warn count as up; an unknown (we could not tell: timeout, refusing resolver, unusable blocklist) counts as neither and is listed separately. Each run’s verdict counts once: retries inside a run are not extra results, and one failed run counts as down even before an incident opens.';
export const PROBE_RULE =
  'Probe success rate = accepted probes ÷ all probes run (unknowns included). Latency: median and 95th percentile (nearest rank) of the probes that recorded one, connect to last reply.';

export type PathId = 'spf' | 'mx' | 'relay' | 'submission' | 'blocklists';
export type DayStatus = CheckStatus | 'none';

/** The paths and the stored check kinds behind each (blocklists: the sending IPs' and the tenant's domains'). */
export const PATHS: readonly {
  readonly id: PathId;
  readonly label: string;
  readonly checks: readonly string[];
}[] = [
  { id: 'spf', label: 'SPF', checks: ['spf'] },
  { id: 'mx', label: 'MX', checks: ['mx'] },
  { id: 'relay', label: 'Relay', checks: ['probe-relay'] },
  { id: 'submission', label: 'Submission', checks: ['probe-submission'] },
  { id: 'blocklists', label: 'Blocklists', checks: ['blocklist', 'domain-blocklist'] },
];

const PATH_OF_CHECK: Readonly<Record<string, PathId>> = Object.fromEntries(
  PATHS.flatMap((p) => p.checks.map((c) => [c, p.id] as const)),
);

export function pathOfCheck(check: string): PathId | null {
  return PATH_OF_CHECK[check] ?? null;
}

export interface ProbeStats {
  readonly runs: number;
  readonly accepted: number;
  /** Percent, one decimal; null without runs. */
  readonly successRate: number | null;
  readonly latencySamples: number;
  readonly medianMs: number | null;
  readonly p95Ms: number | null;
}

export interface PathSummary {
  readonly id: PathId;
  readonly label: string;
  /** Worst status over the subjects' last results of the week; `none` when the path did not run. */
  readonly now: DayStatus;
  readonly days: readonly DayStatus[];
  readonly counts: { readonly pass: number; readonly warn: number; readonly fail: number; readonly unknown: number };
  /** Percent with two decimals (99.85), null when no result decided up or down. */
  readonly availability: number | null;
  /** Why results were unknown: finding code and how often, most frequent first (at most 5). */
  readonly unknownReasons: readonly { readonly code: string; readonly count: number; readonly example: string }[];
  readonly probe: ProbeStats | null;
}

export type IncidentFate = 'recovered' | 'still-down';

export interface IncidentSummary {
  readonly id: string;
  readonly title: string;
  readonly path: PathId | null;
  readonly subject: string;
  readonly severity: IncidentSeverity;
  readonly openedAt: string;
  readonly resolvedAt: string | null;
  readonly openedThisWeek: boolean;
  readonly fate: IncidentFate;
  /** Down time within or up to the end of the week (ms). */
  readonly durationMs: number;
  /** Opens and resolves recorded this week (a flapping incident has many). */
  readonly flaps: number;
}

export interface Exposure {
  /** A sending IP, or a domain (domain blocklists). */
  readonly ip: string;
  readonly zone: string;
  readonly zoneName: string;
  readonly kind: string;
  readonly daysListed: number;
  readonly listedAtEnd: boolean;
}

export interface Change {
  readonly at: string;
  readonly kind: 'spf' | 'mx';
  readonly subject: string;
  readonly before: string | null;
  readonly after: string | null;
}

export type RiskKind =
  | 'basic-auth'
  | 'spf-lookups'
  | 'relay-ip-not-authorised'
  | 'agent-silent'
  | 'zone-unusable'
  | 'certificate-expiry';

export interface Risk {
  readonly kind: RiskKind;
  readonly severity: 'warning' | 'critical';
  /** One sentence, raw (renderers escape). Never names the tenant: the digest around it does. */
  readonly text: string;
}

export interface Transcript {
  readonly path: PathId;
  readonly subject: string;
  readonly at: string;
  readonly status: CheckStatus;
  readonly summary: string;
  readonly lines: readonly string[];
}

export interface TenantDigest {
  readonly tenant: { readonly id: string; readonly name: string };
  readonly paths: readonly PathSummary[];
  readonly incidents: readonly IncidentSummary[];
  readonly exposure: readonly Exposure[];
  readonly changes: readonly Change[];
  readonly risks: readonly Risk[];
  readonly checksRun: number;
  readonly unknowns: number;
  /** The last probe transcript per probe path (for the report page). */
  readonly transcripts: readonly Transcript[];
  /** Something to read: a path failing or unknown at week end, an incident, a listing, a change or a risk. */
  readonly needsAttention: boolean;
  /** Something to do now: a path failing at week end, an incident still down, a listing still on, a critical risk. */
  readonly needsAction: boolean;
  /** For ordering: higher is worse. */
  readonly attentionScore: number;
}

export interface DigestMeta {
  readonly msp: { readonly name: string; readonly accentColor: string; readonly contactEmail: string | null };
  readonly week: Week;
  readonly generatedAt: string;
  readonly reportUrl: string | null;
}

export interface TenantInput {
  readonly id: string;
  readonly name: string;
  /** The tenant has a relay probe (a site agent) configured: its silence is a risk. */
  readonly expectsRelayProbe: boolean;
  /** From the configuration, when no stored submission result says otherwise. */
  readonly submissionAuth: 'oauth' | 'basic' | null;
}

export interface TenantHistory {
  /** The week's check results (any order). */
  readonly checks: readonly CheckRecord[];
  /** The week's events. */
  readonly events: readonly EventRecord[];
  /** The tenant's incidents (any; those not touching the week are ignored). */
  readonly incidents: readonly IncidentRecord[];
}

export interface ComposeOptions {
  /** Basic auth for SMTP AUTH off by default (end of December 2026). */
  readonly basicAuthOffAt: Date;
  readonly agentSilenceHours: number;
  readonly certificateWarningDays: number;
  /** Now, for a week that has not ended: risks and "still down" are judged at min(now, week end). */
  readonly nowMs: number;
}

const SPF_LOOKUP_RISK = 8;
const SPF_LOOKUP_LIMIT = 10;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function isObject(v: JsonValue | null | undefined): v is { readonly [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Nearest-rank percentile of sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] ?? null;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.floor(n * f + 1e-9) / f;
}

function unknownCode(r: CheckRecord): string {
  return r.codes.find((c) => c.includes('unknown')) ?? r.codes.find((c) => c !== 'probe-ok') ?? '(no finding)';
}

function pathSummary(
  path: (typeof PATHS)[number],
  records: readonly CheckRecord[],
  week: Week,
): { summary: PathSummary; last: Map<string, CheckRecord> } {
  const days: CheckStatus[][] = [[], [], [], [], [], [], []];
  const counts = { pass: 0, warn: 0, fail: 0, unknown: 0 };
  const last = new Map<string, CheckRecord>();
  const unknown = new Map<string, { count: number; example: string }>();
  const latencies: number[] = [];
  let heldBack = 0;
  for (const r of records) {
    counts[r.status]++;
    // A site agent's result may stand for ok probes it held back (unchanged since its last accepted report): up.
    const held = isObject(r.detail) ? r.detail.unpostedOk : undefined;
    if (typeof held === 'number' && Number.isInteger(held) && held > 0) {
      counts.pass += held;
      heldBack += held;
    }
    const i = dayIndex(week, Date.parse(r.at));
    if (i >= 0) days[i]!.push(r.status);
    const prev = last.get(r.subject);
    if (!prev || prev.at < r.at) last.set(r.subject, r);
    if (r.status === 'unknown') {
      const code = unknownCode(r);
      const u = unknown.get(code);
      if (u) u.count++;
      else unknown.set(code, { count: 1, example: r.summary });
    }
    if (isObject(r.detail) && typeof r.detail.latencyMs === 'number' && r.detail.latencyMs > 0) {
      latencies.push(r.detail.latencyMs);
    }
  }
  const decided = counts.pass + counts.warn + counts.fail;
  const isProbe = path.id === 'relay' || path.id === 'submission';
  latencies.sort((a, b) => a - b);
  const runs = records.length + heldBack;
  return {
    last,
    summary: {
      id: path.id,
      label: path.label,
      now: last.size === 0 ? 'none' : worstStatus([...last.values()].map((r) => r.status)),
      days: days.map((d) => (d.length === 0 ? 'none' : worstStatus(d))),
      counts,
      availability: decided === 0 ? null : round(((counts.pass + counts.warn) / decided) * 100, 2),
      unknownReasons: [...unknown.entries()]
        .map(([code, u]) => ({ code, count: u.count, example: u.example }))
        .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code))
        .slice(0, 5),
      probe: isProbe
        ? {
            runs,
            accepted: counts.pass,
            successRate: runs === 0 ? null : round((counts.pass / runs) * 100, 1),
            latencySamples: latencies.length,
            medianMs: percentile(latencies, 50),
            p95Ms: percentile(latencies, 95),
          }
        : null,
    },
  };
}

function incidentSummaries(incidents: readonly IncidentRecord[], week: Week, refMs: number): IncidentSummary[] {
  const out: IncidentSummary[] = [];
  for (const i of incidents) {
    const opened = Date.parse(i.openedAt);
    const resolved = i.resolvedAt === null ? null : Date.parse(i.resolvedAt);
    if (opened >= week.endMs) continue;
    if (resolved !== null && resolved < week.startMs) continue;
    // Resolved by the reference time (now, or the week's end if it is over): a resolution at exactly "now" has
    // happened; one at exactly the week's end belongs to the next week.
    const recovered = resolved !== null && resolved <= refMs && resolved < week.endMs;
    const end = recovered ? resolved : refMs;
    out.push({
      id: i.id,
      title: i.title,
      path: pathOfCheck(i.check),
      subject: i.subject,
      severity: i.severity,
      openedAt: i.openedAt,
      resolvedAt: recovered ? i.resolvedAt : null,
      openedThisWeek: opened >= week.startMs,
      fate: recovered ? 'recovered' : 'still-down',
      durationMs: Math.max(0, end - Math.max(opened, week.startMs)),
      flaps: i.flaps.filter((f) => {
        const t = Date.parse(f);
        return t >= week.startMs && t < week.endMs;
      }).length,
    });
  }
  const rank = { 'still-down': 0, recovered: 1 } as const;
  return out.sort((a, b) => rank[a.fate] - rank[b.fate] || a.openedAt.localeCompare(b.openedAt));
}

function zonesOf(r: CheckRecord): { readonly [key: string]: JsonValue }[] {
  if (!isObject(r.detail) || !Array.isArray(r.detail.zones)) return [];
  return r.detail.zones.filter(isObject);
}

const LISTING_KINDS = new Set(['abuse', 'policy', 'mixed']);
const UNUSABLE = 'zone unusable';

function exposureOf(blocklist: readonly CheckRecord[], lastByIp: Map<string, CheckRecord>, week: Week): Exposure[] {
  const map = new Map<string, { e: Omit<Exposure, 'daysListed' | 'listedAtEnd'>; days: Set<number> }>();
  for (const r of blocklist) {
    const day = dayIndex(week, Date.parse(r.at));
    for (const z of zonesOf(r)) {
      if (z.status !== 'listed' || typeof z.kind !== 'string' || !LISTING_KINDS.has(z.kind)) continue;
      const zone = String(z.zone);
      const key = `${r.subject}\0${zone}`;
      let m = map.get(key);
      if (!m) {
        m = {
          e: { ip: r.subject, zone, zoneName: typeof z.name === 'string' ? z.name : zone, kind: z.kind },
          days: new Set(),
        };
        map.set(key, m);
      }
      if (day >= 0) m.days.add(day);
    }
  }
  return [...map.values()]
    .map(({ e, days }) => {
      const last = lastByIp.get(e.ip);
      const listedAtEnd = last ? zonesOf(last).some((z) => z.zone === e.zone && z.status === 'listed') : false;
      return { ...e, daysListed: days.size, listedAtEnd };
    })
    .sort((a, b) => Number(b.listedAtEnd) - Number(a.listedAtEnd) || b.daysListed - a.daysListed);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function risksOf(
  input: TenantInput,
  last: ReadonlyMap<string, ReadonlyMap<string, CheckRecord>>,
  blocklist: readonly CheckRecord[],
  opts: ComposeOptions,
  refMs: number,
): Risk[] {
  const risks: Risk[] = [];
  // Basic auth for SMTP AUTH: the stored submission settings result, else the configuration.
  const submission = [...(last.get('submission')?.values() ?? [])];
  const basicMailboxes = submission.filter((r) => r.codes.includes('submission-basic-auth')).map((r) => r.subject);
  const onBasic = submission.length > 0 ? basicMailboxes.length > 0 : input.submissionAuth === 'basic';
  if (onBasic) {
    const who = basicMailboxes.length > 0 ? ` (${basicMailboxes.join(', ')})` : '';
    const days = Math.ceil((opts.basicAuthOffAt.getTime() - refMs) / DAY_MS);
    risks.push({
      kind: 'basic-auth',
      severity: days > 30 ? 'warning' : 'critical',
      text:
        days > 0
          ? `Applications submit with Basic authentication${who}. Microsoft turns Basic authentication for SMTP AUTH off by default at the end of December 2026, in ${plural(days, 'day')}: move them to OAuth 2.0.`
          : `Applications still submit with Basic authentication${who}, which Microsoft has turned off by default since the end of December 2026 (an admin can re-enable it until the final removal): move them to OAuth 2.0 now.`,
    });
  }
  for (const r of last.get('spf')?.values() ?? []) {
    if (!isObject(r.detail)) continue;
    const lookups = r.detail.lookups;
    if (typeof lookups === 'number' && lookups >= SPF_LOOKUP_RISK) {
      risks.push({
        kind: 'spf-lookups',
        severity: lookups > SPF_LOOKUP_LIMIT ? 'critical' : 'warning',
        text: `The SPF record of ${r.subject} needs ${lookups} of ${SPF_LOOKUP_LIMIT} DNS lookups${lookups > SPF_LOOKUP_LIMIT ? ': receivers return permerror' : '; one or two more includes will break it'}.`,
      });
    }
    const evaluations = Array.isArray(r.detail.evaluations) ? r.detail.evaluations.filter(isObject) : [];
    const bad = evaluations
      .filter((e) => typeof e.result === 'string' && e.result !== 'pass' && e.result !== 'temperror')
      .map((e) => `${String(e.ip)} (${String(e.result)})`);
    if (bad.length > 0) {
      risks.push({
        kind: 'relay-ip-not-authorised',
        severity: 'critical',
        text: `Relay IP${bad.length === 1 ? '' : 's'} ${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} not authorised by the SPF record of ${r.subject}: mail relayed from ${bad.length === 1 ? 'it' : 'them'} fails SPF.`,
      });
    }
  }
  const relay = [...(last.get('probe-relay')?.values() ?? [])];
  if (input.expectsRelayProbe || relay.length > 0) {
    const lastAt = relay.reduce((m, r) => Math.max(m, Date.parse(r.at)), Number.NEGATIVE_INFINITY);
    const silentMs = refMs - lastAt;
    if (!Number.isFinite(lastAt)) {
      risks.push({
        kind: 'agent-silent',
        severity: 'warning',
        text: 'The site agent sent no relay probe result this week: the relay path was not watched.',
      });
    } else if (silentMs > opts.agentSilenceHours * HOUR_MS) {
      risks.push({
        kind: 'agent-silent',
        severity: 'warning',
        text: `The site agent stopped reporting: its last relay probe result is from ${new Date(lastAt).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${Math.floor(silentMs / HOUR_MS)} hours before the end of the period.`,
      });
    }
  }
  const unusable = new Map<string, { name: string; why: string; count: number }>();
  for (const r of blocklist) {
    for (const z of zonesOf(r)) {
      if (z.status !== 'unknown' || typeof z.why !== 'string' || !z.why.startsWith(UNUSABLE)) continue;
      const zone = String(z.zone);
      const u = unusable.get(zone);
      if (u) u.count++;
      else unusable.set(zone, { name: typeof z.name === 'string' ? z.name : zone, why: z.why, count: 1 });
    }
  }
  for (const [zone, u] of unusable) {
    risks.push({
      kind: 'zone-unusable',
      severity: 'warning',
      text: `The blocklist ${u.name} (${zone}) was unusable for ${plural(u.count, 'lookup')} this week (${u.why}): listings there would not have been seen.`,
    });
  }
  for (const check of ['probe-relay', 'probe-submission']) {
    for (const r of last.get(check)?.values() ?? []) {
      if (!isObject(r.detail) || !isObject(r.detail.tls)) continue;
      const validTo = r.detail.tls.validTo;
      if (typeof validTo !== 'string') continue;
      const t = Date.parse(validTo);
      if (Number.isNaN(t)) continue;
      const days = Math.floor((t - refMs) / DAY_MS);
      if (days > opts.certificateWarningDays) continue;
      const host = isObject(r.detail.target) ? String(r.detail.target.host) : r.subject;
      risks.push({
        kind: 'certificate-expiry',
        severity: days < 7 ? 'critical' : 'warning',
        text:
          t <= refMs
            ? `The certificate ${host} presents on STARTTLS expired on ${validTo.slice(0, 10)}.`
            : `The certificate ${host} presents on STARTTLS expires on ${validTo.slice(0, 10)}, in ${plural(days, 'day')}.`,
      });
    }
  }
  return risks;
}

function transcriptOf(path: PathId, r: CheckRecord): Transcript | null {
  if (!isObject(r.detail) || !Array.isArray(r.detail.transcript)) return null;
  const lines: string[] = [];
  for (const e of r.detail.transcript.filter(isObject)) {
    const at = typeof e.at === 'number' ? `${String(Math.round(e.at)).padStart(5)} ms ` : '';
    if (typeof e.sent === 'string') lines.push(`${at}C: ${e.sent}`);
    if (Array.isArray(e.reply)) for (const l of e.reply) lines.push(`${at}S: ${String(l)}`);
    if (typeof e.note === 'string') lines.push(`${at}   ${e.note}`);
  }
  return { path, subject: r.subject, at: r.at, status: r.status, summary: r.summary, lines };
}

/** One tenant's week. `history` holds the week's records; anything outside the week is ignored. */
export function composeTenant(
  input: TenantInput,
  history: TenantHistory,
  week: Week,
  opts: ComposeOptions,
): TenantDigest {
  const refMs = Math.min(opts.nowMs, week.endMs);
  const inWeek = history.checks.filter((r) => {
    const t = Date.parse(r.at);
    return t >= week.startMs && t < week.endMs;
  });
  const byCheck = new Map<string, CheckRecord[]>();
  for (const r of inWeek) {
    const list = byCheck.get(r.check);
    if (list) list.push(r);
    else byCheck.set(r.check, [r]);
  }
  const lastByCheck = new Map<string, Map<string, CheckRecord>>();
  const paths: PathSummary[] = [];
  for (const p of PATHS) {
    const { summary, last } = pathSummary(
      p,
      p.checks.flatMap((c) => byCheck.get(c) ?? []),
      week,
    );
    paths.push(summary);
    // keyed by subject: an IP and a domain never collide, so the blocklist kinds share one map
    for (const c of p.checks) lastByCheck.set(c, last);
  }
  const submissionLast = new Map<string, CheckRecord>();
  for (const r of byCheck.get('submission') ?? []) {
    const prev = submissionLast.get(r.subject);
    if (!prev || prev.at < r.at) submissionLast.set(r.subject, r);
  }
  lastByCheck.set('submission', submissionLast);
  const blocklist = [...(byCheck.get('blocklist') ?? []), ...(byCheck.get('domain-blocklist') ?? [])];
  const incidents = incidentSummaries(history.incidents, week, refMs);
  const exposure = exposureOf(blocklist, lastByCheck.get('blocklist') ?? new Map(), week);
  const changes: Change[] = history.events
    .filter((e) => {
      const t = Date.parse(e.at);
      return (e.kind === 'spf-changed' || e.kind === 'mx-changed') && t >= week.startMs && t < week.endMs;
    })
    .map((e) => ({
      at: e.at,
      kind: e.kind === 'spf-changed' ? ('spf' as const) : ('mx' as const),
      subject: e.subject,
      before: e.before,
      after: e.after,
    }))
    .sort((a, b) => a.at.localeCompare(b.at));
  const risks = risksOf(input, lastByCheck, blocklist, opts, refMs);
  const transcripts: Transcript[] = [];
  for (const p of PATHS) {
    if (p.id !== 'relay' && p.id !== 'submission') continue;
    for (const r of lastByCheck.get(p.checks[0]!)?.values() ?? []) {
      const t = transcriptOf(p.id, r);
      if (t) transcripts.push(t);
    }
  }
  const failingNow = paths.filter((p) => p.now === 'fail').length;
  const unknownNow = paths.filter((p) => p.now === 'unknown').length;
  const stillDown = incidents.filter((i) => i.fate === 'still-down').length;
  const critical = risks.filter((r) => r.severity === 'critical').length;
  const attentionScore =
    failingNow * 100 +
    stillDown * 50 +
    critical * 20 +
    exposure.filter((e) => e.listedAtEnd).length * 20 +
    incidents.length * 5 +
    unknownNow * 3 +
    risks.length * 2 +
    changes.length;
  return {
    tenant: { id: input.id, name: input.name },
    paths,
    incidents,
    exposure,
    changes,
    risks,
    checksRun: inWeek.length,
    unknowns: inWeek.filter((r) => r.status === 'unknown').length,
    transcripts,
    needsAttention: attentionScore > 0,
    needsAction: failingNow > 0 || stillDown > 0 || critical > 0 || exposure.some((e) => e.listedAtEnd),
    attentionScore,
  };
}

export interface MspTotals {
  readonly tenants: number;
  readonly needingAttention: number;
  readonly needingAction: number;
  readonly checksRun: number;
  readonly unknowns: number;
  readonly incidentsOpened: number;
  readonly incidentsRecovered: number;
  readonly stillDown: number;
  readonly listings: number;
  readonly changes: number;
  readonly risks: number;
  /** Per path over every tenant: availability by the same rule. */
  readonly paths: readonly { readonly id: PathId; readonly label: string; readonly availability: number | null }[];
}

export function mspTotals(tenants: readonly TenantDigest[]): MspTotals {
  const paths = PATHS.map((p) => {
    let up = 0;
    let down = 0;
    for (const t of tenants) {
      const s = t.paths.find((x) => x.id === p.id);
      if (!s) continue;
      up += s.counts.pass + s.counts.warn;
      down += s.counts.fail;
    }
    return { id: p.id, label: p.label, availability: up + down === 0 ? null : round((up / (up + down)) * 100, 2) };
  });
  let incidentsOpened = 0;
  let incidentsRecovered = 0;
  let stillDown = 0;
  for (const t of tenants) {
    for (const i of t.incidents) {
      if (i.openedThisWeek) incidentsOpened++;
      if (i.fate === 'recovered') incidentsRecovered++;
      else stillDown++;
    }
  }
  return {
    tenants: tenants.length,
    needingAttention: tenants.filter((t) => t.needsAttention).length,
    needingAction: tenants.filter((t) => t.needsAction).length,
    checksRun: tenants.reduce((n, t) => n + t.checksRun, 0),
    unknowns: tenants.reduce((n, t) => n + t.unknowns, 0),
    incidentsOpened,
    incidentsRecovered,
    stillDown,
    listings: tenants.reduce((n, t) => n + t.exposure.length, 0),
    changes: tenants.reduce((n, t) => n + t.changes.length, 0),
    risks: tenants.reduce((n, t) => n + t.risks.length, 0),
    paths,
  };
}

/** `3 h 05 min`, `2 d 4 h`, `45 min`, `under a minute`: the same words as the alerts. */
export { formatDuration } from '../domain/duration.ts';

/**
 * "Stayed up all week": no result down and every day decided (pass or warn). A path that was up whenever it could be
 * told, but had days without results or only unknowns, is listed apart with those days: it was not watched all week.
 */
export function uptimeSummary(
  d: TenantDigest,
  dayLabels: readonly string[],
): { stayedUp: string[]; partly: { label: string; gaps: string }[] } {
  const downPaths = new Set(d.incidents.map((i) => i.path));
  const stayedUp: string[] = [];
  const partly: { label: string; gaps: string }[] = [];
  for (const p of d.paths) {
    if (p.now === 'none' || p.counts.fail > 0 || downPaths.has(p.id)) continue;
    const none = p.days.flatMap((s, i) => (s === 'none' ? [dayLabels[i]?.slice(0, 3) ?? ''] : []));
    const unknown = p.days.flatMap((s, i) => (s === 'unknown' ? [dayLabels[i]?.slice(0, 3) ?? ''] : []));
    if (none.length === 0 && unknown.length === 0) stayedUp.push(p.label);
    else {
      const gaps = [
        ...(unknown.length > 0 ? [`unknown ${unknown.join(', ')}`] : []),
        ...(none.length > 0 ? [`no results ${none.join(', ')}`] : []),
      ].join('; ');
      partly.push({ label: p.label, gaps });
    }
  }
  return { stayedUp, partly };
}
