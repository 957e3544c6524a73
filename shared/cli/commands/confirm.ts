/** `relaywatch confirm`: look for outstanding probes in the tenants' probe mailboxes and record what arrived. */
import type { Command } from 'commander';
import { mailboxFor } from '../../adapters/mailbox/open-mailbox.ts';
import type { RelaywatchConfig } from '../../config/schema.ts';
import { type CheckStatus, exitCodeFor, worstStatus } from '../../domain/outcome.ts';
import { type ConfirmResult, type ConfirmTenant, DEFAULT_LOOKBACK_MS } from '../../use-cases/confirm-probes.ts';
import { type CliIo, loadConfigOrExit, positiveInt, readCaOption, selectTenants, write } from '../common.ts';
import type { CliConfig } from '../config-bridge.ts';
import { clean } from '../render.ts';
import {
  renderState,
  type StateStageResult,
  type StoreCliOptions,
  stateDocument,
  storeSpec,
  validateStoreSpec,
} from '../state-stage.ts';
import { UsageError } from '../wiring.ts';
import { tokenProvider } from './probe.ts';
import { safeJson } from './status.ts';

function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 90 ? `${s} s` : `${Math.round(s / 60)} min`;
}

export interface ConfirmDocument {
  readonly schema: 'relaywatch.confirm/v1';
  readonly tenants: ReadonlyArray<{
    readonly tenant: string;
    readonly mailboxError: string | null;
    readonly removed: number;
    readonly removeError: string | null;
    readonly pending: ReadonlyArray<{ probeId: string; messageId: string; sentAt: string; path: string }>;
    readonly confirmations: ReadonlyArray<{
      probeId: string;
      status: CheckStatus;
      outcomes: string[];
      details: unknown;
      messages: string[];
    }>;
  }>;
  readonly state: Awaited<ReturnType<typeof stateDocument>> | null;
}

export async function confirmDocument(r: ConfirmResult, stage: StateStageResult | null): Promise<ConfirmDocument> {
  return {
    schema: 'relaywatch.confirm/v1',
    tenants: r.tenants.map((t) => ({
      tenant: t.tenantId,
      mailboxError: t.mailboxError,
      removed: t.removed,
      removeError: t.removeError,
      pending: t.pending.map((p) => ({
        probeId: p.probeId,
        messageId: p.messageId,
        sentAt: p.sentAt,
        path: `${p.kind}:${p.from.toLowerCase()}`,
      })),
      confirmations: t.outcomes.map((o) => ({
        probeId: o.subject,
        status: o.status,
        outcomes: o.findings.map((f) => f.code),
        details: o.details ?? null,
        messages: o.findings.map((f) => f.message),
      })),
    })),
    state: stage ? await stateDocument(stage) : null,
  };
}

const TAG: Record<CheckStatus, string> = { pass: 'OK  ', warn: 'WARN', fail: 'FAIL', unknown: '??? ' };

export function renderConfirm(r: ConfirmResult, now: Date, deadlineOf: (tenantId: string) => number): string {
  const lines: string[] = [];
  for (const t of r.tenants) {
    lines.push(`relaywatch confirm · ${clean(t.tenantId)}`);
    if (t.outcomes.length === 0 && t.pending.length === 0) lines.push('  no outstanding probes');
    for (const o of t.outcomes) {
      const d = o.details ?? {};
      const path = typeof d.path === 'string' ? d.path : '';
      lines.push(
        `  ${TAG[o.status]} probe ${clean(o.subject)} ${clean(path)}: ${o.findings.map((f) => f.code).join(', ')}`,
      );
      for (const f of o.findings) lines.push(`         ${clean(f.message)}`);
    }
    for (const p of t.pending) {
      const waited = now.getTime() - Date.parse(p.sentAt);
      lines.push(
        `  wait probe ${clean(p.probeId)} ${clean(`${p.kind}:${p.from}`)}: not in the mailbox yet (sent ${minutes(waited)} ago; not-delivered after ${minutes(deadlineOf(t.tenantId))})`,
      );
    }
    if (t.mailboxError) lines.push(`  mailbox: ${clean(t.mailboxError)}`);
    if (t.removed > 0) lines.push(`  removed ${t.removed} probe message(s) from the mailbox`);
    if (t.removeError)
      lines.push(`  could not remove the probe messages: ${clean(t.removeError)} (they are not looked for again)`);
  }
  return `${lines.join('\n')}\n`;
}

export interface ConfirmStageResult {
  readonly result: ConfirmResult;
  readonly stage: StateStageResult | null;
  readonly deadlineOf: (tenantId: string) => number;
}

/**
 * The confirmation stage for the CLI (`relaywatch confirm`, and `relaywatch check --confirm`): the tenants with a
 * probeMailbox, their mailboxes, the store, and the state stage as the recorder. Null when no chosen tenant has a
 * probe mailbox.
 */
export async function runConfirmStage(args: {
  readonly loaded: CliConfig;
  readonly io: CliIo;
  readonly opts: StoreCliOptions & {
    readonly dryRun?: boolean;
    readonly ca?: string;
    readonly authorityHost?: string;
  };
  readonly tenantIds?: readonly string[] | undefined;
  readonly probeId?: string | undefined;
  readonly minAgeMs?: number | undefined;
}): Promise<ConfirmStageResult | null> {
  const { loaded, io, opts } = args;
  const spec = storeSpec(opts, loaded);
  await validateStoreSpec(spec);
  const config: RelaywatchConfig = loaded.config;
  const withMailbox = selectTenants(config.tenants, args.tenantIds).filter((t) => t.probeMailbox);
  if (withMailbox.length === 0) return null;
  const ca = await readCaOption(opts.ca, '--ca');
  const tokens = tokenProvider(opts.authorityHost, ca);
  const sources = await loaded.secretSources();
  const tenants: ConfirmTenant[] = [];
  for (const t of withMailbox) {
    const cfg = t.probeMailbox;
    if (!cfg) continue;
    const mailbox = await mailboxFor(cfg, sources, tokens, ca)();
    tenants.push({
      id: t.id,
      name: t.name,
      policy: {
        lateAfterMs: cfg.lateAfterMinutes * 60_000,
        deadlineMs: cfg.deadlineMinutes * 60_000,
        trustedAuthservIds: cfg.trustedAuthservIds,
      },
      afterRead: opts.dryRun ? 'keep' : cfg.afterRead,
      mailbox: () => mailbox,
    });
  }
  const { openCliStore, runStateStage } = await import('../state-stage.ts');
  const { confirmProbes } = await import('../../use-cases/confirm-probes.ts');
  const store = await openCliStore(spec, opts, io.env, config.state.retentionDays);
  let stage: StateStageResult | null = null;
  let result: ConfirmResult;
  try {
    result = await confirmProbes({
      tenants,
      results: store.results,
      now: io.now,
      probeId: args.probeId,
      minAgeMs: args.minAgeMs,
      lookbackMs: DEFAULT_LOOKBACK_MS,
      record: async (reports) => {
        stage = await runStateStage({
          reports,
          config: loaded,
          opts: { store: opts.store, endpoint: opts.endpoint, dryRun: opts.dryRun },
          env: io.env,
          now: io.now,
          startedAt: io.now(),
        });
      },
    });
  } finally {
    await store.close();
  }
  const deadline = new Map(tenants.map((t) => [t.id, t.policy.deadlineMs]));
  return { result, stage, deadlineOf: (id) => deadline.get(id) ?? 0 };
}

export function registerConfirm(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('confirm')
    .description('look for outstanding probes in the probe mailbox: delivered, junked, late, not delivered, SPF/DMARC')
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .option('-t, --tenant <id>', 'only this tenant (repeatable)', (v: string, prev: string[] | undefined) => [
      ...(prev ?? []),
      v,
    ])
    .option('--probe <id>', 'only this probe (its probe id, e.g. 20261127T201500Z-3f9a1c2b)')
    .option('--min-age <minutes>', 'only probes sent at least this long ago (default 0)', (v) =>
      positiveInt(v, '--min-age'),
    )
    .option(
      '--store <spec>',
      'where results, state and incidents are kept: sqlite:PATH or dynamodb:TABLE (default: state.store, else sqlite:.relaywatch/state.db)',
    )
    .option('--endpoint <url>', 'DynamoDB endpoint for --store dynamodb:TABLE (DynamoDB Local: http://127.0.0.1:8000)')
    .option('--dry-run', 'record the confirmations, but print the alerts instead of sending them and keep the messages')
    .option('--ca <file>', 'PEM file of an extra CA to trust (IMAP server, Graph endpoint or login host in a lab)')
    .option(
      '--authority-host <url>',
      'the Entra ID login host for the app-only token (default https://login.microsoftonline.com)',
    )
    .option('--json', 'print the relaywatch.confirm/v1 JSON document')
    .addHelpText(
      'after',
      `
A probe is outstanding from the moment Exchange Online accepted it (a recorded probe result
with diagnosis ok, from \`relaywatch check\`, the agent or \`relaywatch probe\`) until a
confirmation says what became of it. Each outstanding probe is looked for by its Message-ID in
the tenant's probeMailbox (Microsoft Graph or IMAP), headers only:

  delivered       in the Inbox within lateAfterMinutes (default 10)
  delivered-late  found, but later than lateAfterMinutes (the hops say where the time went)
  delivered-junk  in the Junk Email folder (SCL shown)
  auth-failing    Exchange Online's Authentication-Results says SPF or DMARC did not pass
  not-delivered   not found deadlineMinutes (default 30) after sending
  unknown         the mailbox could not be read: nothing is concluded, it is tried again

not-delivered and auth-failing open incidents (two probes in a row, like other probes) and go to
the tenant's alert routes. Messages that were read are deleted afterwards (afterRead: keep to
leave them). Exit status: 0 all delivered (or nothing to do), 1 late or junk, 2 a failure,
3 the mailbox could not be read or a configuration/usage error.

Examples:
  $ relaywatch confirm
  $ relaywatch confirm -t contoso --probe 20261127T201500Z-3f9a1c2b
  $ relaywatch confirm --min-age 5 --json
  $ relaywatch confirm --dry-run --store sqlite:/var/lib/relaywatch/state.db`,
    )
    .action(async (opts) => {
      const loaded = await loadConfigOrExit(opts.config, io.env);
      for (const w of loaded.warnings) write(io.stderr, `warning: ${clean(w)}\n`);
      const run = await runConfirmStage({
        loaded,
        io,
        opts,
        tenantIds: opts.tenant,
        probeId: opts.probe,
        minAgeMs: opts.minAge !== undefined ? opts.minAge * 60_000 : undefined,
      });
      if (!run) {
        throw new UsageError(
          `${opts.tenant ? 'the chosen tenants have' : 'no tenant has'} a probeMailbox: add one (kind: graph or imap, see docs/configuration.md) to confirm probes`,
        );
      }
      const { result, stage: finalStage, deadlineOf } = run;
      if (opts.probe && result.tenants.every((t) => t.outcomes.length === 0 && t.pending.length === 0)) {
        throw new UsageError(
          `probe ${JSON.stringify(opts.probe)} is not outstanding: no accepted probe with that id in the last ${DEFAULT_LOOKBACK_MS / 3_600_000} h without a confirmation`,
        );
      }
      if (opts.json) {
        // safeJson: the document carries mailbox headers (Received hosts), untrusted text for the terminal.
        write(io.stdout, `${safeJson(await confirmDocument(result, finalStage))}\n`);
      } else {
        write(io.stdout, renderConfirm(result, io.now(), deadlineOf));
        if (finalStage) write(io.stdout, await renderState(finalStage));
      }
      const statuses = result.tenants.flatMap((t) => t.outcomes.map((o) => o.status));
      setExit(exitCodeFor(worstStatus(statuses)));
    });
}

/**
 * `relaywatch check --confirm MIN`: confirm the probes of earlier runs (sent at least MIN minutes ago) after the
 * check's own state stage. Its outcomes join the exit status; a tenant without probeMailbox is skipped silently.
 */
export async function confirmForCheck(args: Parameters<typeof runConfirmStage>[0]): Promise<{
  readonly status: CheckStatus | null;
  readonly document: () => Promise<ConfirmDocument & { readonly error?: string }>;
  readonly text: () => Promise<string>;
}> {
  let run: ConfirmStageResult | null;
  try {
    run = await runConfirmStage(args);
  } catch (err) {
    // The check's own results are recorded already; a confirmation that cannot run is unknown, never lost silently.
    const message = err instanceof Error ? err.message : String(err);
    return {
      status: 'unknown',
      document: async () => ({ ...(await confirmDocument({ tenants: [], reports: [] }, null)), error: message }),
      text: async () => `\nConfirmation did not run: ${clean(message)}\n`,
    };
  }
  if (!run) {
    return { status: null, document: () => confirmDocument({ tenants: [], reports: [] }, null), text: async () => '' };
  }
  const done = run;
  const statuses = done.result.tenants.flatMap((t) => t.outcomes.map((o) => o.status));
  return {
    status: statuses.length > 0 ? worstStatus(statuses) : null,
    document: () => confirmDocument(done.result, done.stage),
    text: async () =>
      `\n${renderConfirm(done.result, args.io.now(), done.deadlineOf)}${done.stage ? await renderState(done.stage) : ''}`,
  };
}
