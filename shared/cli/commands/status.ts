/**
 * `relaywatch status`: the current state of every tenant of the config, read from the store: the last verdict of
 * every (check, subject), the open incidents and what each alert route has been told about them.
 *
 * Also home of the helpers the read commands (`status`, `incidents`, `history`) share: opening the store for reading
 * (a missing SQLite file is an empty store, never created by a read), following page cursors, and printing stored
 * text safely.
 */

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { SELF_TENANT } from '../../monitor/self-health.ts';
import { channelOf, defaultRoutes, tenantAlerting } from '../../notify/routing.ts';
import type { DeliveryState, IncidentRecord, IncidentSeverity, Page, Store, SubjectState } from '../../ports/stores.ts';
import { type CliIo, loadConfigOrExit, selectTenants, write } from '../common.ts';
import type { CliConfig } from '../config-bridge.ts';
import { safeJson } from '../json.ts';
import { clean } from '../render.ts';
import { openCliStore, type StoreCliOptions, storeSpec } from '../state-stage.ts';
import { UsageError } from '../wiring.ts';

// ---------------------------------------------------------------------------------------------------------------
// Shared by the read commands

/** Collects a repeatable option's values. */
export function repeatable(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

export const STORE_OPTION_HELP =
  'the store to read: sqlite:PATH or dynamodb:TABLE (default: state.store, else sqlite:.relaywatch/state.db)';
export const ENDPOINT_OPTION_HELP =
  'DynamoDB endpoint for --store dynamodb:TABLE (DynamoDB Local: http://127.0.0.1:8000)';

export interface ReadStore {
  /** The spec as given (`sqlite:…`, `dynamodb:…`). */
  readonly spec: string;
  /** Null when the store does not exist yet (an SQLite file no run has written): read as empty. */
  readonly store: Store | null;
  close(): Promise<void>;
}

/** Open the store a read command uses (`--store`, else `state.store`, else the default) without creating a file. */
export async function openReadStore(
  opts: StoreCliOptions,
  config: CliConfig,
  env: NodeJS.ProcessEnv,
): Promise<ReadStore> {
  const spec = storeSpec(opts, config);
  const { parseStoreSpec, StoreSpecError } = await import('../../adapters/store/open-store.ts');
  let parsed: ReturnType<typeof parseStoreSpec>;
  try {
    parsed = parseStoreSpec(spec);
  } catch (err) {
    if (err instanceof StoreSpecError) throw new UsageError(err.message);
    throw err;
  }
  if (parsed.kind === 'sqlite' && parsed.path !== ':memory:' && !existsSync(resolve(parsed.path))) {
    return { spec, store: null, close: async () => {} };
  }
  const store = await openCliStore(spec, opts, env);
  return { spec, store, close: () => store.close() };
}

/** Every item of a paged query, following cursors until `max` items (or the end). */
export async function collectPages<T>(
  fetch: (cursor: string | null, limit: number) => Promise<Page<T>>,
  max = Number.POSITIVE_INFINITY,
): Promise<{ items: T[]; more: boolean }> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (;;) {
    const want = Math.min(1000, max - items.length);
    const page: Page<T> = await fetch(cursor, want);
    items.push(...page.items);
    cursor = page.cursor;
    if (cursor === null) return { items: items.slice(0, max), more: items.length > max };
    if (items.length >= max) return { items: items.slice(0, max), more: true };
  }
}

/** Stored text on one line, escaped for the terminal, shortened to `max` characters. */
export function oneLine(text: string, max = 160): string {
  const flat = clean(text.replace(/\s+/g, ' ').trim());
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** `2026-11-27T18:00:00Z` (stored times without the milliseconds); anything unparsable escaped as it is. */
export function shortTime(iso: string | null): string {
  if (iso === null) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? oneLine(iso, 40) : new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------------------------
// status

export type DeliveryWord = 'delivered' | 'pending' | 'failing';

export interface StatusDelivery {
  readonly route: string;
  readonly channel: string | null;
  readonly state: DeliveryWord;
  /** When the route was told the incident opened. */
  readonly deliveredAt: string | null;
  readonly failures: number;
  readonly lastError: string | null;
}

export interface StatusIncident {
  readonly id: string;
  readonly severity: IncidentSeverity;
  readonly check: string;
  readonly subject: string;
  readonly title: string;
  readonly openedAt: string;
  /** Who acknowledged it (`relaywatch incidents ack`): no reminders or escalation until it changes; null if nobody. */
  readonly acknowledged: { readonly by: string; readonly at: string; readonly note: string | null } | null;
  readonly deliveries: readonly StatusDelivery[];
}

export interface StatusSubject {
  readonly check: string;
  readonly subject: string;
  readonly status: SubjectState['lastStatus'];
  readonly lastAt: string;
  readonly lastRunId: string;
  readonly consecutiveFails: number;
  readonly consecutivePasses: number;
}

export interface StatusTenant {
  readonly id: string;
  readonly name: string;
  /** False when the store has no state for the tenant yet. */
  readonly checked: boolean;
  readonly lastAt: string | null;
  readonly subjects: readonly StatusSubject[];
  readonly incidents: readonly StatusIncident[];
}

export interface StatusDocument {
  readonly schema: 'relaywatch.status/v1';
  readonly generatedAt: string;
  readonly config: string;
  readonly store: string;
  /** False when the store does not exist yet (no run has written it). */
  readonly storeExists: boolean;
  readonly lastRun: { readonly runId: string; readonly startedAt: string; readonly source: string } | null;
  /** ok: no open incident; else the worst open incident's severity. */
  readonly status: 'ok' | IncidentSeverity;
  readonly exitCode: number;
  readonly summary: {
    readonly tenants: number;
    readonly checked: number;
    readonly openIncidents: { readonly critical: number; readonly warning: number; readonly info: number };
  };
  readonly tenants: readonly StatusTenant[];
  /** Open MSP-wide incidents of relaywatch itself (the self-health incident, tenant `_relaywatch`). */
  readonly monitor: readonly StatusIncident[];
}

/** What a route has done about an open incident: told (delivered), failing to tell (with the error), or not yet. */
export function deliveryWord(d: DeliveryState | undefined): DeliveryWord {
  if (!d) return 'pending';
  if (d.failures > 0) return 'failing';
  return d.opened !== null ? 'delivered' : 'pending';
}

function deliveriesOf(
  incident: IncidentRecord,
  routes: readonly string[],
  channels: ReadonlyMap<string, string>,
): StatusDelivery[] {
  const ids = [...new Set([...routes, ...Object.keys(incident.deliveries)])];
  return ids.map((route) => {
    const d = incident.deliveries[route];
    return {
      route,
      channel: channels.get(route) ?? null,
      state: deliveryWord(d),
      deliveredAt: d?.opened ?? null,
      failures: d?.failures ?? 0,
      lastError: d?.lastError ?? null,
    };
  });
}

const SEVERITY_RANK: Record<IncidentSeverity, number> = { info: 0, warning: 1, critical: 2 };

export async function statusDocument(args: {
  readonly config: CliConfig;
  readonly tenantIds: readonly string[] | undefined;
  readonly read: ReadStore;
  readonly now: Date;
}): Promise<StatusDocument> {
  const { config, read } = args;
  const selected = selectTenants(config.config.tenants, args.tenantIds);
  const alerting = new Map(tenantAlerting(config.config).map((t) => [t.id, t.routes.map((r) => r.id)]));
  const channels = new Map((config.config.alerts?.routes ?? []).map((r) => [r.id, channelOf(r)]));
  const store = read.store;
  const tenants: StatusTenant[] = [];
  for (const t of selected) {
    const states = store ? await store.states.list(t.id) : [];
    const open = store
      ? (
          await collectPages((cursor, limit) =>
            store.incidents.list(t.id, { status: 'open', limit, ...(cursor ? { cursor } : {}) }),
          )
        ).items
      : [];
    open.sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.openedAt < b.openedAt ? 1 : -1));
    const lastAt = states.reduce<string | null>((m, s) => (m === null || s.lastAt > m ? s.lastAt : m), null);
    tenants.push({
      id: t.id,
      name: t.name,
      checked: states.length > 0,
      lastAt,
      subjects: states.map((s) => ({
        check: s.check,
        subject: s.subject,
        status: s.lastStatus,
        lastAt: s.lastAt,
        lastRunId: s.lastRunId,
        consecutiveFails: s.consecutiveFails,
        consecutivePasses: s.consecutivePasses,
      })),
      incidents: open.map((i) => statusIncident(i, alerting.get(t.id) ?? [], channels)),
    });
  }
  const monitor = store
    ? (
        await collectPages((cursor, limit) =>
          store.incidents.list(SELF_TENANT, { status: 'open', limit, ...(cursor ? { cursor } : {}) }),
        )
      ).items.map((i) =>
        statusIncident(
          i,
          defaultRoutes(config.config).map((r) => r.id),
          channels,
        ),
      )
    : [];
  const counts = { critical: 0, warning: 0, info: 0 };
  for (const t of tenants) for (const i of t.incidents) counts[i.severity]++;
  for (const i of monitor) counts[i.severity]++;
  const status: StatusDocument['status'] =
    counts.critical > 0 ? 'critical' : counts.warning > 0 ? 'warning' : counts.info > 0 ? 'info' : 'ok';
  const run = store ? (await store.results.runs({ limit: 1 })).items[0] : undefined;
  return {
    schema: 'relaywatch.status/v1',
    generatedAt: args.now.toISOString(),
    config: config.path,
    store: read.spec,
    storeExists: store !== null,
    lastRun: run ? { runId: run.runId, startedAt: run.startedAt, source: run.source } : null,
    status,
    exitCode: status === 'ok' ? 0 : status === 'critical' ? 2 : 1,
    summary: { tenants: tenants.length, checked: tenants.filter((t) => t.checked).length, openIncidents: counts },
    tenants,
    monitor,
  };
}

function statusIncident(
  i: IncidentRecord,
  routes: readonly string[],
  channels: ReadonlyMap<string, string>,
): StatusIncident {
  return {
    id: i.id,
    severity: i.severity,
    check: i.check,
    subject: i.subject,
    title: i.title,
    openedAt: i.openedAt,
    acknowledged: i.ack ?? null,
    deliveries: deliveriesOf(i, routes, channels),
  };
}

const STATUS_WORD: Record<SubjectState['lastStatus'], string> = {
  pass: 'PASS',
  warn: 'WARN',
  fail: 'FAIL',
  unknown: 'UNKNOWN',
};

function streak(s: StatusSubject): string {
  if (s.consecutiveFails > 0) return `${s.consecutiveFails} fail${s.consecutiveFails === 1 ? '' : 's'} in a row`;
  if (s.consecutivePasses > 0) return `${s.consecutivePasses} pass${s.consecutivePasses === 1 ? '' : 'es'} in a row`;
  return '';
}

export function renderStatus(d: StatusDocument): string {
  const lines: string[] = [
    `relaywatch status · store ${clean(d.store)}${d.storeExists ? '' : ' (does not exist yet)'} · last run ${
      d.lastRun ? `${shortTime(d.lastRun.startedAt)} (${oneLine(d.lastRun.source, 20)})` : 'never'
    }`,
  ];
  for (const t of d.tenants) {
    lines.push('', `${oneLine(t.name, 200)} (${clean(t.id)})`);
    if (!t.checked) {
      lines.push('  never checked (run relaywatch check)');
    } else {
      const checkWidth = Math.max(...t.subjects.map((s) => oneLine(s.check, 20).length));
      const subjectWidth = Math.max(...t.subjects.map((s) => oneLine(s.subject, 60).length));
      for (const s of t.subjects) {
        lines.push(
          `  ${STATUS_WORD[s.status].padEnd(7)}  ${oneLine(s.check, 20).padEnd(checkWidth)}  ${oneLine(s.subject, 60).padEnd(subjectWidth)}  at ${shortTime(s.lastAt)}  ${streak(s)}`.trimEnd(),
        );
      }
    }
    if (t.incidents.length === 0) {
      if (t.checked) lines.push('  no open incident');
      continue;
    }
    lines.push(`  open incidents (${t.incidents.length}):`);
    for (const i of t.incidents) {
      lines.push(
        `    #${clean(i.id)} ${i.severity.toUpperCase()}: ${oneLine(i.title)} (opened ${shortTime(i.openedAt)})`,
      );
      if (i.acknowledged) {
        lines.push(
          `      acknowledged by ${oneLine(i.acknowledged.by, 100)} ${shortTime(i.acknowledged.at)}${
            i.acknowledged.note ? `: ${oneLine(i.acknowledged.note, 300)}` : ''
          } (no reminders or escalation until it changes)`,
        );
      }
      if (i.deliveries.length === 0) lines.push('      no alert route for this tenant');
      for (const r of i.deliveries) {
        const route = `${clean(r.route)}${r.channel ? ` (${r.channel})` : ' (no longer configured)'}`;
        const state =
          r.state === 'delivered'
            ? `delivered ${shortTime(r.deliveredAt)}`
            : r.state === 'failing'
              ? `FAILING (${r.failures} attempt${r.failures === 1 ? '' : 's'}): ${oneLine(r.lastError ?? 'unknown error', 300)}`
              : 'pending (sent on the next run)';
        lines.push(`      ${route}: ${state}`);
      }
    }
  }
  if (d.monitor.length > 0) {
    lines.push('', 'relaywatch itself (the monitor):');
    for (const i of d.monitor) {
      lines.push(
        `  #${clean(i.id)} ${i.severity.toUpperCase()}: ${oneLine(i.title)} (opened ${shortTime(i.openedAt)})`,
      );
    }
  }
  const c = d.summary.openIncidents;
  const total = c.critical + c.warning + c.info;
  lines.push(
    '',
    total === 0
      ? `Status: OK, no open incident (${d.summary.checked} of ${d.summary.tenants} tenant(s) checked)`
      : `Status: ${d.status.toUpperCase()}, ${total} open incident(s): ${c.critical} critical, ${c.warning} warning, ${c.info} info`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerStatus(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('status')
    .description('the current state of every tenant: last verdicts, open incidents and their alert deliveries')
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .option('-t, --tenant <id>', 'only this tenant (repeatable)', repeatable)
    .option('--store <spec>', STORE_OPTION_HELP)
    .option('--endpoint <url>', ENDPOINT_OPTION_HELP)
    .option('--json', 'print the relaywatch.status/v1 JSON document')
    .option('-v, --verbose', 'also print the configuration warnings (check and config validate always do)')
    .addHelpText(
      'after',
      `
Reads the store that \`relaywatch check\` writes (nothing is checked or sent): for each tenant of
the config, every check and subject with its last status, when it was last checked and how many
fails or passes in a row; then the tenant's open incidents with, per alert route, whether the
alert was delivered, is still pending, or is failing (with the last error). A tenant without
state says "never checked (run relaywatch check)".

Exit status: 0 no open incident, 1 only warning/info incidents open, 2 a critical incident open,
3 a usage or configuration error.

Examples:
  $ relaywatch status
  $ relaywatch status --tenant contoso --json
  $ relaywatch status --store dynamodb:relaywatch --endpoint http://127.0.0.1:8000`,
    )
    .action(async (opts) => {
      const config = await loadConfigOrExit(opts.config, io.env);
      // Read-only commands run often (dashboards, scripts): the warnings are check's and config validate's to show.
      if (!opts.json && opts.verbose) for (const w of config.warnings) write(io.stderr, `warning: ${clean(w)}\n`);
      // Validate --tenant before touching the store.
      selectTenants(config.config.tenants, opts.tenant);
      const read = await openReadStore(opts, config, io.env);
      try {
        const doc = await statusDocument({ config, tenantIds: opts.tenant, read, now: io.now() });
        write(io.stdout, opts.json ? `${safeJson(doc)}\n` : renderStatus(doc));
        setExit(doc.exitCode);
      } finally {
        await read.close();
      }
    });
}

export { safeJson };
