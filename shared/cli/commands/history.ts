/** `relaywatch history <tenant>`: a tenant's recorded check results and events (drift, incidents), newest first. */
import type { Command } from 'commander';
import type { JsonValue } from '../../domain/outcome.ts';
import type { CheckRecord, CheckStatus, EventRecord, Store } from '../../ports/stores.ts';
import { type CliIo, loadConfigOrExit, positiveInt, selectTenants, write } from '../common.ts';
import { clean } from '../render.ts';
import { UsageError } from '../wiring.ts';
import {
  collectPages,
  ENDPOINT_OPTION_HELP,
  oneLine,
  openReadStore,
  STORE_OPTION_HELP,
  safeJson,
  shortTime,
} from './status.ts';

export const DEFAULT_HISTORY_LIMIT = 50;

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * `--since`: an ISO 8601 time (`2026-11-27T18:00:00Z`, `2026-11-27`; a time without a zone is UTC) or a duration back
 * from `now` (`90m`, `24h`, `7d`, `2w`, `30s`). Returns the ISO time.
 * @throws UsageError for anything else.
 */
export function parseSince(value: string, now: Date): string {
  const v = value.trim();
  const rel = /^(\d{1,6})\s*([smhdw])$/i.exec(v);
  if (rel) {
    const ms = Number(rel[1]) * (UNIT_MS[rel[2]!.toLowerCase()] ?? 0);
    return new Date(now.getTime() - ms).toISOString();
  }
  const iso = ISO.exec(v);
  if (iso) {
    const withZone = v.length > 10 && iso[1] === undefined ? `${v.replace(' ', 'T')}Z` : v.replace(' ', 'T');
    const t = Date.parse(withZone);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  throw new UsageError(
    `--since ${JSON.stringify(value)} is neither an ISO 8601 time (e.g. 2026-11-27T18:00:00Z or 2026-11-27) nor a duration back from now (e.g. 90m, 24h, 7d, 2w)`,
  );
}

export interface HistoryResult {
  readonly at: string;
  readonly runId: string;
  readonly check: string;
  readonly subject: string;
  readonly status: CheckStatus;
  readonly codes: readonly string[];
  readonly summary: string;
  /** With `--detail`: the check's stored detail (the SPF tree, the MX list, the zones, a probe's transcript). */
  readonly detail?: JsonValue | null;
}

export interface HistoryEvent {
  readonly at: string;
  /** spf-changed | mx-changed | incident-opened | incident-resolved | … */
  readonly kind: string;
  readonly subject: string;
  readonly before: string | null;
  readonly after: string | null;
  /** For incident events: the incident's id. */
  readonly incident: string | null;
  readonly runId: string;
}

export interface HistoryDocument {
  readonly schema: 'relaywatch.history/v1';
  readonly generatedAt: string;
  readonly config: string;
  readonly store: string;
  readonly storeExists: boolean;
  readonly tenant: { readonly id: string; readonly name: string };
  readonly filter: {
    readonly since: string | null;
    readonly check: string | null;
    readonly limit: number;
    readonly detail?: boolean;
  };
  readonly results: readonly HistoryResult[];
  /** True when more results match than --limit allowed. */
  readonly moreResults: boolean;
  readonly events: readonly HistoryEvent[];
  readonly moreEvents: boolean;
}

function incidentIdOf(e: EventRecord): string | null {
  if (!e.kind.startsWith('incident-') || e.after === null) return null;
  const id = e.after.split(' ')[0];
  return id && /^[0-9A-Za-z_-]{1,64}$/.test(id) ? id : null;
}

/** The events of one check: its drift (`<check>-changed`) and the events of its incidents. */
async function eventsOfCheck(store: Store, tenantId: string, events: EventRecord[], check: string) {
  const checkOf = new Map<string, string | null>();
  const out: EventRecord[] = [];
  for (const e of events) {
    if (e.kind === `${check}-changed`) {
      out.push(e);
      continue;
    }
    const id = incidentIdOf(e);
    if (id === null) continue;
    if (!checkOf.has(id)) checkOf.set(id, (await store.incidents.get(tenantId, id))?.check ?? null);
    if (checkOf.get(id) === check) out.push(e);
  }
  return out;
}

function result(r: CheckRecord, detail: boolean): HistoryResult {
  return {
    at: r.at,
    runId: r.runId,
    check: r.check,
    subject: r.subject,
    status: r.status,
    codes: r.codes,
    summary: r.summary,
    ...(detail ? { detail: r.detail } : {}),
  };
}

function isRecord(v: JsonValue | null | undefined): v is { readonly [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A probe's stored transcript, as `relaywatch probe` prints it (C: client, S: server; credentials were redacted). */
function transcriptLines(detail: { readonly [k: string]: JsonValue }): string[] {
  const steps = Array.isArray(detail.transcript) ? detail.transcript.filter(isRecord) : [];
  const out: string[] = [];
  const target = isRecord(detail.target) ? detail.target : null;
  if (target) out.push(`to ${clean(String(target.host))}:${String(target.port)}, TLS: ${clean(String(target.tls))}`);
  out.push(
    `diagnosis: ${clean(String(detail.diagnosis ?? 'unknown'))}${typeof detail.title === 'string' ? ` (${clean(detail.title)})` : ''}`,
  );
  if (steps.length > 0) out.push('transcript:');
  for (const e of steps) {
    const at = `+${String(e.at)}ms`.padEnd(9);
    const stage = clean(String(e.stage ?? '')).padEnd(9);
    let first = true;
    const lead = () => {
      const l = first ? at : ' '.repeat(9);
      first = false;
      return l;
    };
    if (typeof e.sent === 'string') out.push(`  ${lead()}${stage}C: ${clean(e.sent)}`);
    for (const line of Array.isArray(e.reply) ? e.reply : []) out.push(`  ${lead()}${stage}S: ${clean(String(line))}`);
    if (typeof e.note === 'string') out.push(`  ${lead()}${stage}${clean(e.note)}`);
  }
  if (isRecord(detail.tls)) {
    const t = detail.tls;
    out.push(
      `TLS: ${clean(String(t.version ?? '?'))} ${clean(String(t.cipher ?? '?'))}, certificate ${clean(String(t.subject ?? '?'))} issued by ${clean(String(t.issuer ?? '?'))}, ${t.authorized === true ? 'verified' : 'NOT verified'}`,
    );
  }
  const remediation = Array.isArray(detail.remediation) ? detail.remediation : [];
  if (remediation.length > 0) {
    out.push('what to do:');
    remediation.forEach((r, i) => {
      out.push(`  ${i + 1}. ${clean(String(r))}`);
    });
  }
  return out;
}

/** The stored detail under a result line: a probe's transcript, anything else as indented JSON (escaped). */
export function renderDetail(r: HistoryResult): string[] {
  if (r.detail === undefined) return [];
  if (r.detail === null) return ['      (no detail stored)'];
  const body =
    (r.check === 'probe-relay' || r.check === 'probe-submission') && isRecord(r.detail) && 'diagnosis' in r.detail
      ? transcriptLines(r.detail)
      : JSON.stringify(r.detail, null, 2)
          .split('\n')
          .map((l) => clean(l));
  return [...body.map((l) => `      ${l}`), ''];
}

const STATUS_WORD: Record<CheckStatus, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', unknown: 'UNKNOWN' };

export function renderHistory(d: HistoryDocument): string {
  const filters = [
    d.filter.since ? `since ${shortTime(d.filter.since)}` : null,
    d.filter.check ? `check ${clean(d.filter.check)}` : null,
  ].filter((x) => x !== null);
  const lines: string[] = [
    `History of ${oneLine(d.tenant.name, 200)} (${clean(d.tenant.id)})${filters.length ? ` · ${filters.join(' · ')}` : ''} · store ${clean(d.store)}${d.storeExists ? '' : ' (does not exist yet)'}`,
    '',
    `Results (${d.results.length}${d.moreResults ? `, more: raise --limit ${d.filter.limit}` : ''}), newest first:`,
  ];
  if (d.results.length === 0) lines.push('  none recorded');
  const checkWidth = Math.max(0, ...d.results.map((r) => oneLine(r.check, 20).length));
  const subjectWidth = Math.max(0, ...d.results.map((r) => oneLine(r.subject, 50).length));
  for (const r of d.results) {
    lines.push(
      `  ${shortTime(r.at)}  ${STATUS_WORD[r.status].padEnd(7)}  ${oneLine(r.check, 20).padEnd(checkWidth)}  ${oneLine(r.subject, 50).padEnd(subjectWidth)}  ${oneLine(r.summary, 160)}`.trimEnd(),
    );
    lines.push(...renderDetail(r));
  }
  lines.push('', `Events (${d.events.length}${d.moreEvents ? `, more: raise --limit ${d.filter.limit}` : ''}):`);
  if (d.events.length === 0) lines.push('  none recorded');
  for (const e of d.events) {
    const drift = /^(.+)-changed$/.exec(e.kind);
    if (drift) {
      lines.push(
        `  ${shortTime(e.at)}  ${oneLine(drift[1]!.toUpperCase(), 20)} changed on ${oneLine(e.subject, 80)}: ${oneLine(e.before ?? '(none)', 120)} → ${oneLine(e.after ?? '(none)', 120)}`,
      );
    } else {
      const what = e.kind.replace(/^incident-/, 'incident ');
      const problem = e.incident && e.after ? e.after.slice(e.incident.length).trim() : (e.after ?? '');
      lines.push(
        `  ${shortTime(e.at)}  ${oneLine(what, 40)}${e.incident ? ` #${clean(e.incident)}` : ''} on ${oneLine(e.subject, 80)}${problem ? ` (${oneLine(problem, 120)})` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export function registerHistory(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('history')
    .description("a tenant's recorded check results and events (SPF/MX changes, incidents), newest first")
    .argument('<tenant>', 'the tenant id (as in the config)')
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .option(
      '--since <when>',
      'only from this time: ISO 8601 (2026-11-27T18:00:00Z, 2026-11-27) or back from now (90m, 24h, 7d)',
    )
    .option('--check <kind>', 'only this check: spf, mx, blocklist, submission, …')
    .option(
      '-n, --limit <n>',
      'at most this many results, and this many events',
      (v) => positiveInt(v, '--limit'),
      DEFAULT_HISTORY_LIMIT,
    )
    .option('--store <spec>', STORE_OPTION_HELP)
    .option('--endpoint <url>', ENDPOINT_OPTION_HELP)
    .option('--json', 'print the relaywatch.history/v1 JSON document')
    .option('--detail', "print each result's full stored detail under it (a probe's transcript, the SPF tree…)")
    .option('-v, --verbose', 'also print the configuration warnings (check and config validate always do)')
    .addHelpText(
      'after',
      `
Reads the store that \`relaywatch check\` writes: the tenant's check results (one per check and
subject per run: time, status, summary) and its events: drift (the published SPF record or MX
set changed, shown before → after) and incidents opened and resolved. Raw results are kept for
state.retentionDays (default 90). --detail prints what each result stored: a probe's whole
SMTP conversation (credentials redacted), the SPF tree, the MX records, the blocklist zones.
Probe results come from check --probes and from relaywatch probe (unless --no-store).

Exit status: 0 shown (even when empty), 3 a usage or configuration error (an unknown tenant,
a --since that is neither a time nor a duration).

Examples:
  $ relaywatch history contoso
  $ relaywatch history contoso --since 7d --check blocklist
  $ relaywatch history contoso --since 2026-11-01 --limit 500 --json
  $ relaywatch history tailspin --check probe-submission --limit 1 --detail   # the last probe's transcript`,
    )
    .action(async (tenantId: string, opts) => {
      const now = io.now();
      const since = opts.since === undefined ? null : parseSince(String(opts.since), now);
      const check: string | null = opts.check === undefined ? null : String(opts.check).trim().toLowerCase();
      if (check === '') throw new UsageError('--check needs a check kind, e.g. spf, mx or blocklist');
      const config = await loadConfigOrExit(opts.config, io.env);
      // Read-only commands run often (dashboards, scripts): the warnings are check's and config validate's to show.
      if (!opts.json && opts.verbose) for (const w of config.warnings) write(io.stderr, `warning: ${clean(w)}\n`);
      const [tenant] = selectTenants(config.config.tenants, [tenantId]);
      if (!tenant) throw new UsageError(`unknown tenant ${JSON.stringify(tenantId)}`);
      const limit: number = opts.limit;
      const read = await openReadStore(opts, config, io.env);
      try {
        const store = read.store;
        let results: { items: CheckRecord[]; more: boolean } = { items: [], more: false };
        let events: { items: EventRecord[]; more: boolean } = { items: [], more: false };
        if (store) {
          results = await collectPages(
            (cursor, n) =>
              store.results.history(tenant.id, {
                limit: n,
                ...(cursor ? { cursor } : {}),
                ...(since ? { since } : {}),
                ...(check ? { check } : {}),
              }),
            limit,
          );
          if (check) {
            // Events carry no check: read them all (from --since) and keep those of the check, up to --limit.
            const all = await collectPages((cursor, n) =>
              store.results.events(tenant.id, { limit: n, ...(cursor ? { cursor } : {}), ...(since ? { since } : {}) }),
            );
            const mine = await eventsOfCheck(store, tenant.id, all.items, check);
            events = { items: mine.slice(0, limit), more: mine.length > limit };
          } else {
            events = await collectPages(
              (cursor, n) =>
                store.results.events(tenant.id, {
                  limit: n,
                  ...(cursor ? { cursor } : {}),
                  ...(since ? { since } : {}),
                }),
              limit,
            );
          }
        }
        const doc: HistoryDocument = {
          schema: 'relaywatch.history/v1',
          generatedAt: now.toISOString(),
          config: config.path,
          store: read.spec,
          storeExists: store !== null,
          tenant: { id: tenant.id, name: tenant.name },
          filter: { since, check, limit, detail: opts.detail === true },
          results: results.items.map((r) => result(r, opts.detail === true)),
          moreResults: results.more,
          events: events.items.map((e) => ({
            at: e.at,
            kind: e.kind,
            subject: e.subject,
            before: e.before,
            after: e.after,
            incident: incidentIdOf(e),
            runId: e.runId,
          })),
          moreEvents: events.more,
        };
        write(io.stdout, opts.json ? `${safeJson(doc)}\n` : renderHistory(doc));
        setExit(0);
      } finally {
        await read.close();
      }
    });
}
