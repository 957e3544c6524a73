/**
 * `relaywatch incidents ack <id>` and `relaywatch incidents close <id>`: what an operator does to an incident by hand.
 *
 * - ack: the open incident stays open, but sends no reminders and does not escalate until it changes (its severity
 *   rises, it becomes flapping, or it resolves and re-opens). The acknowledgement is shown by `status` and in the
 *   incident's next alert.
 * - close: the open incident is resolved now as `closed` (for what the MSP resolved by other means); the routes that
 *   were told it opened get a RESOLVED on the next `check` run (through the same claim-before-send delivery), and it
 *   re-opens as a new episode when its problem fails again.
 *
 * Both are conditional writes (optimistic concurrency on the incident's version: a `check` run writing the same
 * incident at the same moment makes one of them re-read) and both are recorded as events with who and when, which
 * `history` shows.
 */
import { createHash } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { isIncidentId } from '../../incidents/id.ts';
import { acknowledge, close } from '../../incidents/policy.ts';
import { ConflictError, type IncidentRecord, type Store } from '../../ports/stores.ts';
import { type CliIo, loadConfigOrExit, write } from '../common.ts';
import type { CliConfig } from '../config-bridge.ts';
import { clean } from '../render.ts';
import { UsageError } from '../wiring.ts';
import { ENDPOINT_OPTION_HELP, oneLine, openReadStore, repeatable, STORE_OPTION_HELP, safeJson } from './status.ts';

/** Who acts: `--by`, else the OS user, else `$USER`. */
export function actor(by: string | undefined, env: NodeJS.ProcessEnv): string {
  if (by !== undefined) {
    if (by.trim() === '') throw new UsageError('--by must not be empty');
    return by.trim();
  }
  try {
    const name = userInfo().username;
    if (name) return name;
  } catch {
    // no passwd entry (a container): fall back to the environment
  }
  return env.USER ?? env.USERNAME ?? 'unknown';
}

function incidentArg(value: string): string {
  const id = value.replace(/^#/, '').toLowerCase();
  if (!isIncidentId(id)) {
    throw new UsageError(
      `${JSON.stringify(value)} is not an incident id: ids are 8 characters such as k3m9q2p7 (as in the alerts' "#id"; see relaywatch incidents)`,
    );
  }
  return id;
}

/** The incident with this id: in the named tenants, else any configured tenant, else any tenant with it open. */
async function findIncident(
  store: Store,
  config: CliConfig,
  id: string,
  tenants: readonly string[] | undefined,
): Promise<IncidentRecord> {
  const ids = tenants && tenants.length > 0 ? tenants : config.config.tenants.map((t) => t.id);
  const found: IncidentRecord[] = [];
  for (const t of ids) {
    const i = await store.incidents.get(t, id);
    if (i) found.push(i);
  }
  if (found.length === 0 && !(tenants && tenants.length > 0)) {
    // A tenant removed from the config may still have it open.
    let cursor: string | null = null;
    do {
      const page = await store.incidents.listOpen({ limit: 500, ...(cursor ? { cursor } : {}) });
      found.push(...page.items.filter((i) => i.id === id));
      cursor = page.cursor;
    } while (cursor !== null);
  }
  if (found.length === 0) {
    throw new UsageError(
      `no incident #${id} in the store${tenants?.length ? ` for tenant ${tenants.join(', ')}` : ''}; relaywatch incidents lists them`,
    );
  }
  if (found.length > 1) {
    throw new UsageError(
      `incident #${id} exists for several tenants (${found.map((i) => i.tenantId).join(', ')}): name one with --tenant`,
    );
  }
  return found[0]!;
}

type Action = 'ack' | 'close';

async function act(
  store: Store,
  incident0: IncidentRecord,
  action: Action,
  by: string,
  note: string | null,
  now: Date,
): Promise<IncidentRecord> {
  let incident = incident0;
  for (let attempt = 0; ; attempt++) {
    if (incident.status !== 'open') {
      throw new UsageError(
        `incident #${incident.id} is not open (resolved ${incident.resolvedAt ?? ''}); only an open incident can be ${
          action === 'ack' ? 'acknowledged' : 'closed'
        }`,
      );
    }
    const next = action === 'ack' ? acknowledge(incident, by, note, now) : close(incident, by, note ?? '', now);
    try {
      return await store.incidents.put(next, incident.version);
    } catch (err) {
      // A check run wrote the incident meanwhile: decide again on what it wrote.
      if (!(err instanceof ConflictError) || attempt >= 2) throw err;
      const fresh = await store.incidents.get(incident.tenantId, incident.id);
      if (!fresh) throw err;
      incident = fresh;
    }
  }
}

export interface IncidentActionDocument {
  readonly schema: 'relaywatch.incident-action/v1';
  readonly action: 'acknowledged' | 'closed';
  readonly incident: { readonly id: string; readonly tenant: string; readonly title: string; readonly status: string };
  readonly by: string;
  readonly at: string;
  readonly note: string | null;
}

function register(parent: Command, action: Action, io: CliIo, setExit: (code: number) => void): void {
  const cmd = parent
    .command(`${action} <id>`)
    .description(
      action === 'ack'
        ? 'acknowledge an open incident: no reminders or escalation until it changes (shown in status and the next alert)'
        : 'close an open incident resolved by other means: RESOLVED goes out on the next check run; it re-opens if it fails again',
    )
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml');
  if (action === 'ack') cmd.option('--note <text>', 'why, or what is being done (shown in status and the next alert)');
  else cmd.requiredOption('--note <text>', 'what was done (required; shown in history and in the RESOLVED alert)');
  cmd
    .option('--by <name>', 'who acts (default: the OS user)')
    .option('-t, --tenant <id>', "the incident's tenant, when the id exists for several", repeatable)
    .option('--store <spec>', STORE_OPTION_HELP.replace('the store to read', 'the store to update'))
    .option('--endpoint <url>', ENDPOINT_OPTION_HELP)
    .option('--json', 'print the relaywatch.incident-action/v1 JSON document')
    .addHelpText(
      'after',
      action === 'ack'
        ? `
The incident stays open and is still resolved by the checks, but sends no reminders and does not
escalate until it changes: its severity rises, it starts flapping, or it resolves and re-opens.
Recorded as an event (who, when, note) that relaywatch history shows.

Exit status: 0 acknowledged, 3 no such open incident or a usage/configuration error.

Examples:
  $ relaywatch incidents ack k3m9q2p7 --note "ISP ticket 4711, delisting requested"
  $ relaywatch incidents ack '#k3m9q2p7' --by "Jane (NOC)" --tenant contoso`
        : `
The incident is resolved now as "closed" (with who and the note); every route that was told it
opened gets a RESOLVED on the next relaywatch check run. If the check still fails (or fails
again later) the incident re-opens as a new episode and alerts again.
Recorded as an event (who, when, note) that relaywatch history shows.

Exit status: 0 closed, 3 no such open incident or a usage/configuration error.

Examples:
  $ relaywatch incidents close k3m9q2p7 --note "printer replaced, relay now via the new connector"
  $ relaywatch incidents close k3m9q2p7 --note "fixed by the customer's IT" --by jane --json`,
    )
    .action(async (idArg: string, opts) => {
      const id = incidentArg(idArg);
      const by = actor(opts.by, io.env);
      const note: string | null = typeof opts.note === 'string' && opts.note.trim() !== '' ? opts.note : null;
      if (action === 'close' && note === null) throw new UsageError('--note must say what was done');
      const config = await loadConfigOrExit(opts.config, io.env);
      const read = await openReadStore(opts, config, io.env);
      try {
        if (!read.store) throw new UsageError(`the store ${read.spec} does not exist yet: no incident to ${action}`);
        const store = read.store;
        const found = await findIncident(store, config, id, opts.tenant);
        const now = io.now();
        const stored = await act(store, found, action, by, note, now);
        const kind = action === 'ack' ? 'incident-acknowledged' : 'incident-closed';
        const at = now.toISOString();
        const saidNote = action === 'ack' ? (stored.ack?.note ?? null) : (stored.resolution?.note ?? null);
        await store.results.putEvents([
          {
            tenantId: stored.tenantId,
            eventId: createHash('sha256').update([stored.id, kind, at, by].join('\0')).digest('hex').slice(0, 24),
            at,
            kind,
            subject: stored.subject,
            before: null,
            after: `${stored.id} by ${by}${saidNote ? `: ${saidNote}` : ''}`,
            runId: `cli-${action}`,
          },
        ]);
        const doc: IncidentActionDocument = {
          schema: 'relaywatch.incident-action/v1',
          action: action === 'ack' ? 'acknowledged' : 'closed',
          incident: { id: stored.id, tenant: stored.tenantId, title: stored.title, status: stored.status },
          by,
          at,
          note: saidNote,
        };
        write(
          io.stdout,
          opts.json
            ? `${safeJson(doc)}\n`
            : action === 'ack'
              ? `Acknowledged #${stored.id} [${clean(stored.tenantId)}] ${oneLine(stored.title)} by ${oneLine(by, 100)}${
                  saidNote ? `: ${oneLine(saidNote, 300)}` : ''
                }\nNo reminders or escalation until it changes; it still resolves when the check passes.\n`
              : `Closed #${stored.id} [${clean(stored.tenantId)}] ${oneLine(stored.title)} by ${oneLine(by, 100)}: ${oneLine(
                  saidNote ?? '',
                  300,
                )}\nThe routes that were told it opened get a RESOLVED on the next check run; it re-opens if it fails again.\n`,
        );
        setExit(0);
      } finally {
        await read.close();
      }
    });
}

/** Adds `ack` and `close` under `relaywatch incidents`. */
export function registerIncidentActions(incidents: Command, io: CliIo, setExit: (code: number) => void): void {
  // `incidents` has options of its own (--config, --store…): after `ack`/`close` they are the subcommand's (the
  // program enables positional options too, which commander needs for this).
  incidents.enablePositionalOptions();
  register(incidents, 'ack', io, setExit);
  register(incidents, 'close', io, setExit);
}
