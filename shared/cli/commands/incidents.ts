/** `relaywatch incidents`: incidents from the store, newest first, with what each one is about. */
import type { Command } from 'commander';
import { decodeContent } from '../../monitor/observe.ts';
import type { IncidentRecord, IncidentSeverity, IncidentStatus } from '../../ports/stores.ts';
import { type CliIo, loadConfigOrExit, positiveInt, selectTenants, write } from '../common.ts';
import { clean } from '../render.ts';
import { registerIncidentActions } from './incident-actions.ts';
import {
  collectPages,
  ENDPOINT_OPTION_HELP,
  oneLine,
  openReadStore,
  repeatable,
  STORE_OPTION_HELP,
  safeJson,
  shortTime,
} from './status.ts';

export const DEFAULT_INCIDENT_LIMIT = 50;

export interface IncidentItem {
  readonly id: string;
  readonly tenant: string;
  /** The tenant's name from the config; null for a tenant the config no longer has. */
  readonly tenantName: string | null;
  readonly status: IncidentStatus;
  readonly severity: IncidentSeverity;
  readonly check: string;
  readonly subject: string;
  readonly problem: string;
  readonly title: string;
  readonly openedAt: string;
  readonly resolvedAt: string | null;
  /** What happened, in words (from the incident's last detail). */
  readonly what: string;
  /** How it ended while resolved: passed, retired (no longer monitored) or closed (by whom, why). */
  readonly resolution: { readonly kind: string; readonly by: string | null; readonly note: string | null } | null;
  readonly acknowledged: { readonly by: string; readonly at: string; readonly note: string | null } | null;
}

export interface IncidentsDocument {
  readonly schema: 'relaywatch.incidents/v1';
  readonly generatedAt: string;
  readonly config: string;
  readonly store: string;
  readonly storeExists: boolean;
  readonly filter: { readonly open: boolean; readonly tenants: readonly string[] | null; readonly limit: number };
  /** How many matched before --limit. */
  readonly total: number;
  readonly incidents: readonly IncidentItem[];
}

function item(i: IncidentRecord, names: ReadonlyMap<string, string>): IncidentItem {
  return {
    id: i.id,
    tenant: i.tenantId,
    tenantName: names.get(i.tenantId) ?? null,
    status: i.status,
    severity: i.severity,
    check: i.check,
    subject: i.subject,
    problem: i.problem,
    title: i.title,
    openedAt: i.openedAt,
    resolvedAt: i.resolvedAt,
    what: decodeContent(i.lastDetail).what,
    resolution: i.status === 'resolved' ? (i.resolution ?? { kind: 'passed', by: null, note: null }) : null,
    acknowledged: i.ack ?? null,
  };
}

export function renderIncidents(d: IncidentsDocument): string {
  const scope = d.filter.open ? 'open incidents' : 'incidents';
  const lines: string[] = [
    `relaywatch ${scope} · store ${clean(d.store)}${d.storeExists ? '' : ' (does not exist yet)'}${
      d.filter.tenants ? ` · tenant ${d.filter.tenants.map(clean).join(', ')}` : ''
    }`,
  ];
  if (d.incidents.length === 0) {
    lines.push('', d.filter.open ? 'No open incident.' : 'No incident recorded.');
    return `${lines.join('\n')}\n`;
  }
  for (const i of d.incidents) {
    const tenant = i.tenantName ? `${oneLine(i.tenantName, 80)} (${clean(i.tenant)})` : clean(i.tenant);
    lines.push(
      '',
      `#${clean(i.id)}  ${i.status.toUpperCase().padEnd(8)}  ${i.severity.toUpperCase().padEnd(8)}  ${tenant}`,
      `  ${oneLine(i.title, 200)}`,
      `  ${oneLine(i.check, 30)} ${oneLine(i.subject, 100)} · opened ${shortTime(i.openedAt)}${
        i.resolvedAt ? ` · resolved ${shortTime(i.resolvedAt)}` : ''
      }${
        i.resolution?.kind === 'retired'
          ? ' (no longer monitored)'
          : i.resolution?.kind === 'closed'
            ? ` (closed by ${oneLine(i.resolution.by ?? '?', 80)}: ${oneLine(i.resolution.note ?? '', 200)})`
            : ''
      }`,
    );
    if (i.acknowledged)
      lines.push(
        `  acknowledged by ${oneLine(i.acknowledged.by, 80)} ${shortTime(i.acknowledged.at)}${i.acknowledged.note ? `: ${oneLine(i.acknowledged.note, 200)}` : ''}`,
      );
    if (i.what.trim() !== '') lines.push(`  what: ${oneLine(i.what, 400)}`);
  }
  lines.push(
    '',
    d.total > d.incidents.length
      ? `${d.incidents.length} of ${d.total} ${scope} shown (newest first; --limit shows more)`
      : `${d.total} ${d.total === 1 ? scope.replace(/s$/, '') : scope} (newest first)`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerIncidents(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const incidents = program
    .command('incidents')
    .description('list incidents from the store, newest first (open and resolved, or only open ones)')
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .option('--open', 'only open incidents, of every tenant in the store')
    .option('-t, --tenant <id>', 'only this tenant (repeatable)', repeatable)
    .option('-n, --limit <n>', 'at most this many incidents', (v) => positiveInt(v, '--limit'), DEFAULT_INCIDENT_LIMIT)
    .option('--store <spec>', STORE_OPTION_HELP)
    .option('--endpoint <url>', ENDPOINT_OPTION_HELP)
    .option('--json', 'print the relaywatch.incidents/v1 JSON document')
    .option('-v, --verbose', 'also print the configuration warnings (check and config validate always do)')
    .addHelpText(
      'after',
      `
Reads the store that \`relaywatch check\` writes. Each incident shows its id (as in the alerts'
"#id"), tenant, status, severity, the check and subject, its title, when it opened and resolved,
and what happened. --open lists the open incidents of every tenant in the store; otherwise the
incidents of the config's tenants (or those named with --tenant) are listed.

Subcommands: \`incidents ack <id>\` (no reminders or escalation until it changes) and
\`incidents close <id> --note TEXT\` (resolved by other means); see their --help.

Exit status: 0 listed (even when empty), 3 a usage or configuration error.

Examples:
  $ relaywatch incidents --open
  $ relaywatch incidents ack k3m9q2p7 --note "delisting requested, ticket 4711"
  $ relaywatch incidents --tenant contoso --limit 10
  $ relaywatch incidents --json > incidents.json`,
    )
    .action(async (opts) => {
      const config = await loadConfigOrExit(opts.config, io.env);
      // Read-only commands run often (dashboards, scripts): the warnings are check's and config validate's to show.
      if (!opts.json && opts.verbose) for (const w of config.warnings) write(io.stderr, `warning: ${clean(w)}\n`);
      const wanted: string[] | undefined = opts.tenant;
      const tenants = selectTenants(config.config.tenants, wanted);
      const names = new Map(config.config.tenants.map((t) => [t.id, t.name]));
      const limit: number = opts.limit;
      const read = await openReadStore(opts, config, io.env);
      try {
        const store = read.store;
        let all: IncidentRecord[] = [];
        if (store && opts.open) {
          all = (
            await collectPages((cursor, n) => store.incidents.listOpen({ limit: n, ...(cursor ? { cursor } : {}) }))
          ).items.filter((i) => !wanted || wanted.includes(i.tenantId));
        } else if (store) {
          for (const t of tenants) {
            const { items } = await collectPages((cursor, n) =>
              store.incidents.list(t.id, { limit: n, ...(cursor ? { cursor } : {}) }),
            );
            all.push(...items);
          }
        }
        all.sort((a, b) => (a.openedAt === b.openedAt ? a.id.localeCompare(b.id) : a.openedAt < b.openedAt ? 1 : -1));
        const doc: IncidentsDocument = {
          schema: 'relaywatch.incidents/v1',
          generatedAt: io.now().toISOString(),
          config: config.path,
          store: read.spec,
          storeExists: store !== null,
          filter: { open: Boolean(opts.open), tenants: wanted ?? null, limit },
          total: all.length,
          incidents: all.slice(0, limit).map((i) => item(i, names)),
        };
        write(io.stdout, opts.json ? `${safeJson(doc)}\n` : renderIncidents(doc));
        setExit(0);
      } finally {
        await read.close();
      }
    });
  registerIncidentActions(incidents, io, setExit);
}
