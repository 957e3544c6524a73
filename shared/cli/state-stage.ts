/**
 * The CLI's state stage: open the store `--store` (or `state.store`, or `sqlite:.relaywatch/state.db`) names, record
 * the cycle, decide incidents, send alerts (or, with `--dry-run`, show them), and render what happened.
 */
import { randomUUID } from 'node:crypto';
import type { OpenStoreOptions } from '../adapters/store/open-store.ts';
import { zoneById } from '../blocklist/registry.ts';
import { alertFor } from '../monitor/alerts.ts';
import type { Alert } from '../notify/alert.ts';
import { defaultRoutes, routeNotifiers, tenantAlerting } from '../notify/routing.ts';
import type { Store } from '../ports/stores.ts';
import { type CycleResult, recordCycle } from '../use-cases/record-cycle.ts';
import type { TenantReport } from '../use-cases/run-checks.ts';
import type { CliConfig } from './config-bridge.ts';
import { clean } from './render.ts';
import { storeBack, storeDown } from './store-down.ts';
import { UsageError } from './wiring.ts';

export const DEFAULT_STORE = 'sqlite:.relaywatch/state.db';

export interface StoreCliOptions {
  /** `--store SPEC`, or false for `--no-store`. */
  readonly store?: string | boolean;
  readonly endpoint?: string;
}

/** Which store a command uses: `--store`, else `state.store` from the config, else the embedded default. */
export function storeSpec(opts: StoreCliOptions, config: CliConfig | undefined): string {
  if (typeof opts.store === 'string') return opts.store;
  return config?.config.state.store ?? DEFAULT_STORE;
}

/** A `--store` (or `state.store`) that names no backend is a usage error before any check runs. */
export async function validateStoreSpec(spec: string): Promise<void> {
  const { parseStoreSpec, StoreSpecError } = await import('../adapters/store/open-store.ts');
  try {
    parseStoreSpec(spec);
  } catch (err) {
    if (err instanceof StoreSpecError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The store settings of a CLI command (the runtime factory's `store`): DynamoDB Local (`--endpoint`) gets its table
 * created and dummy credentials when none are set.
 */
export function cliStoreSettings(
  spec: string,
  opts: StoreCliOptions,
  env: NodeJS.ProcessEnv,
  retentionDays?: number,
): OpenStoreOptions & { readonly spec: string } {
  const local = opts.endpoint !== undefined;
  return {
    spec,
    ...(retentionDays !== undefined ? { retentionDays } : {}),
    ...(local
      ? {
          endpoint: opts.endpoint,
          region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
          createTable: true,
          ...(env.AWS_ACCESS_KEY_ID ? {} : { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
        }
      : {}),
  };
}

/** A store spec that names no backend, or a file of a newer schema, is the user's to fix: a usage error. */
function asUsageError(err: unknown): unknown {
  if (err instanceof Error && (err.name === 'StoreSpecError' || err.name === 'StoreSchemaError')) {
    return new UsageError(err.message);
  }
  return err;
}

/** Open a store for the CLI (commands that build no runtime); see {@link cliStoreSettings}. */
export async function openCliStore(
  spec: string,
  opts: StoreCliOptions,
  env: NodeJS.ProcessEnv,
  retentionDays?: number,
): Promise<Store> {
  const { openStore } = await import('../adapters/store/open-store.ts');
  const { spec: s, ...options } = cliStoreSettings(spec, opts, env, retentionDays);
  try {
    return await openStore(s, options);
  } catch (err) {
    throw asUsageError(err);
  }
}

export function newRunId(now: Date): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomUUID().slice(0, 8)}`;
}

export interface StateStageResult {
  readonly store: string;
  readonly dryRun: boolean;
  readonly cycle: CycleResult;
}

export async function runStateStage(args: {
  readonly reports: readonly TenantReport[];
  readonly config: CliConfig;
  readonly opts: StoreCliOptions & { readonly dryRun?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  readonly startedAt: Date;
  /**
   * The store from the runtime factory (`Runtime.store`, built from {@link cliStoreSettings}), which also closes it;
   * absent, the stage opens the store itself and closes it when done.
   */
  readonly store?: () => Promise<Store>;
}): Promise<StateStageResult> {
  const spec = storeSpec(args.opts, args.config);
  const sources = await args.config.secretSources();
  const notifiers = routeNotifiers(args.config.config, sources, { baseDir: args.config.baseDir });
  const send = async (route: string, alert: Alert) => {
    const n = notifiers.notifierFor(route);
    if (!('send' in n)) return { ok: false, error: n.error };
    const r = await n.send(alert);
    return r.ok ? { ok: true } : { ok: false, error: r.error };
  };
  let store: Store;
  const owned = args.store === undefined;
  try {
    store = args.store
      ? await args.store().catch((err: unknown) => Promise.reject(asUsageError(err)))
      : await openCliStore(spec, args.opts, args.env, args.config.config.state.retentionDays);
  } catch (err) {
    throw await noticeStoreDown(err, spec, args, send);
  }
  let cycle: CycleResult;
  try {
    const reported = new Set(args.reports.map((r) => r.id));
    cycle = await recordCycle({
      reports: args.reports,
      // Only the tenants of this run: `--tenant contoso` must not send another tenant's reminders.
      tenants: tenantAlerting(args.config.config).filter((t) => reported.has(t.id)),
      incidents: args.config.config.incidents,
      store,
      runId: newRunId(args.startedAt),
      source: 'cli',
      startedAt: args.startedAt,
      now: args.now,
      notifierFor: (id) => notifiers.notifierFor(id),
      alertFor: (incident, kind, tenantName, at) =>
        alertFor(incident, kind, tenantName, at, {
          msp: args.config.msp,
          operatorOf: (zoneId) => zoneById(zoneId)?.operator,
        }),
      dryRun: args.opts.dryRun === true,
      selfHealth: { routes: defaultRoutes(args.config.config) },
      configured: {
        tenantIds: args.config.config.tenants.map((t) => t.id),
        routeIds: (args.config.config.alerts?.routes ?? []).map((r) => r.id),
      },
    });
    await store.prune(args.now());
  } catch (err) {
    if (owned) await store.close().catch(() => {});
    throw await noticeStoreDown(err, spec, args, send);
  }
  if (owned) await store.close();
  if (args.opts.dryRun !== true) await storeBack({ spec, env: args.env, now: args.now(), send });
  return { store: spec, dryRun: args.opts.dryRun === true, cycle };
}

/**
 * The store could not be opened or written: count it locally and, when due, tell the default routes without the
 * store's claim (`store-down.ts`). Returns the error to throw, with what was sent appended. Usage errors are not
 * store failures and pass through unchanged.
 */
async function noticeStoreDown(
  err: unknown,
  spec: string,
  args: Parameters<typeof runStateStage>[0],
  send: (route: string, alert: Alert) => Promise<{ ok: boolean; error?: string }>,
): Promise<unknown> {
  if (err instanceof UsageError || args.opts.dryRun === true) return err;
  const message = err instanceof Error ? err.message : String(err);
  const line = await storeDown({
    spec,
    error: message,
    config: args.config,
    env: args.env,
    now: args.now(),
    routes: defaultRoutes(args.config.config).map((r) => r.id),
    send,
  });
  return line === null ? err : new Error(`${message} (${line})`, { cause: err });
}

/** The e-mail subject a PSA parses (the same as the e-mail notifier's). */
async function subjectOf(alert: Alert): Promise<string> {
  const { alertSubject } = await import('../notify/email.ts');
  return alertSubject(alert);
}

export interface StateDocument {
  readonly store: string;
  readonly runId: string;
  readonly dryRun: boolean;
  readonly stored: number;
  readonly events: ReadonlyArray<{
    kind: string;
    tenant: string;
    subject: string;
    before: string | null;
    after: string | null;
  }>;
  readonly opened: ReadonlyArray<{
    id: string;
    tenant: string;
    check: string;
    subject: string;
    title: string;
    severity: string;
  }>;
  readonly resolved: ReadonlyArray<{ id: string; tenant: string; title: string }>;
  readonly open: number;
  readonly notifications: ReadonlyArray<{
    route: string;
    kind: string;
    incident: string;
    tenant: string;
    subject: string;
    sent: boolean | null;
    error: string | null;
  }>;
  readonly held: ReadonlyArray<{ incident: string; reason: string }>;
}

export async function stateDocument(r: StateStageResult): Promise<StateDocument> {
  const c = r.cycle;
  return {
    store: r.store,
    runId: c.runId,
    dryRun: r.dryRun,
    stored: c.stored,
    events: c.events
      .filter((e) => !e.kind.startsWith('incident-'))
      .map((e) => ({ kind: e.kind, tenant: e.tenantId, subject: e.subject, before: e.before, after: e.after })),
    opened: c.opened.map((i) => ({
      id: i.id,
      tenant: i.tenantId,
      check: i.check,
      subject: i.subject,
      title: i.title,
      severity: i.severity,
    })),
    resolved: c.resolved.map((i) => ({ id: i.id, tenant: i.tenantId, title: i.title })),
    open: c.open.length,
    notifications: await Promise.all(
      c.dispatches.map(async (d) => ({
        route: d.route,
        kind: d.kind,
        incident: d.incidentId,
        tenant: d.tenantId,
        subject: await subjectOf(d.alert),
        sent: d.ok,
        error: d.error,
      })),
    ),
    held: c.held.map((h) => ({ incident: h.incidentId, reason: h.reason })),
  };
}

function oneLine(text: string, max = 160): string {
  const flat = clean(text.replace(/\s+/g, ' '));
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export async function renderState(r: StateStageResult): Promise<string> {
  const d = await stateDocument(r);
  const lines: string[] = ['', `State: ${d.stored} result(s) stored in ${clean(d.store)} (run ${d.runId})`];
  for (const e of d.events) {
    lines.push(
      `  changed: ${e.kind.replace(/-changed$/, '').toUpperCase()} of ${clean(e.subject)} (${clean(e.tenant)}): ${oneLine(e.before ?? '(none)', 100)} → ${oneLine(e.after ?? '(none)', 100)}`,
    );
  }
  for (const i of d.opened)
    lines.push(`  incident opened   #${i.id} [${clean(i.tenant)}] ${i.severity.toUpperCase()}: ${oneLine(i.title)}`);
  for (const i of d.resolved) lines.push(`  incident resolved #${i.id} [${clean(i.tenant)}] ${oneLine(i.title)}`);
  lines.push(`  open incidents: ${d.open}`);
  for (const n of d.notifications) {
    const verb = n.sent === null ? 'would send' : n.sent ? 'sent' : 'NOT sent';
    lines.push(
      `  ${verb} ${n.kind} #${n.incident} to ${clean(n.route)}: ${oneLine(n.subject, 120)}${n.error ? ` (${oneLine(n.error, 200)}; retried next run)` : ''}`,
    );
  }
  for (const h of d.held) lines.push(`  held back #${h.incident}: ${oneLine(h.reason)}`);
  if (d.dryRun && d.notifications.length > 0) {
    lines.push('', 'Dry run: the messages above were not sent and nothing was marked delivered. Messages:');
    for (const disp of r.cycle.dispatches) {
      const a = disp.alert;
      lines.push(
        '',
        `--- ${clean(disp.route)} · ${disp.kind} · #${a.incidentId}`,
        `Subject: ${oneLine(await subjectOf(a), 300)}`,
        `What: ${oneLine(a.what, 600)}`,
        ...(a.why ? [`Why: ${oneLine(a.why, 600)}`] : []),
        ...a.remediation.map((s, i) => `  ${i + 1}. ${oneLine(s, 300)}`),
        ...a.links.map((l) => `Link: ${oneLine(l.label, 80)} <${oneLine(l.url, 300)}>`),
        ...(a.packet ? [`Attachment: ${oneLine(a.packet.filename, 120)} (delisting request)`] : []),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
