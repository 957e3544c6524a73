/** `relaywatch notify test`: send a sample alert through one route, to prove the route works end to end. */
import type { Command } from 'commander';
import type { AlertRouteConfig } from '../../config/schema.ts';
import type { Alert, SendResult } from '../../notify/alert.ts';
import { channelOf, routeNotifiers } from '../../notify/routing.ts';
import { type CliIo, loadConfigOrExit, write } from '../common.ts';
import { clean } from '../render.ts';
import { UsageError } from '../wiring.ts';
import { oneLine, safeJson } from './status.ts';

/** The fake incident id every test alert carries (an incident id's shape, never a real one: real ids are random). */
export const TEST_INCIDENT_ID = 'test0000';

export function testAlert(route: AlertRouteConfig, tenant: { id: string; name: string }, now: Date): Alert {
  const at = now.toISOString();
  const desc = `${route.id} (${channelOf(route)})`;
  return {
    kind: 'test',
    incidentId: TEST_INCIDENT_ID,
    tenant: { id: tenant.id, name: tenant.name },
    severity: 'info',
    check: 'test',
    subject: `route ${route.id}`,
    title: `relaywatch test alert: if you can read this, route ${route.id} works`,
    what: `This is a test alert, sent with "relaywatch notify test --route ${route.id}", to check that alert route ${desc} delivers. There is no incident: nothing is broken.`,
    why: 'Someone ran relaywatch notify test, after setting up or changing this route, to see an alert arrive where real incidents will arrive.',
    remediation: [
      'No action needed: this is only a test.',
      `If this arrived in the wrong place, or looks wrong, change route ${route.id} under alerts.routes in the relaywatch configuration.`,
    ],
    links: [],
    evidence: null,
    openedAt: at,
    at,
    packet: null,
  };
}

/** What a dry run shows: the e-mail subject, or the JSON the channel would post. */
async function preview(
  channel: ReturnType<typeof channelOf>,
  alert: Alert,
): Promise<{ subject?: string; payload?: unknown }> {
  switch (channel) {
    case 'email':
    case 'file': {
      // The file channel writes the same message as an .eml (and the webhook JSON beside it).
      const { alertSubject } = await import('../../notify/email.ts');
      return { subject: alertSubject(alert) };
    }
    case 'slack': {
      const { buildSlackMessage } = await import('../../notify/slack.ts');
      return { payload: buildSlackMessage(alert) };
    }
    case 'teams': {
      const { buildTeamsMessage } = await import('../../notify/teams.ts');
      return { payload: buildTeamsMessage(alert) };
    }
    case 'webhook': {
      const { buildWebhookPayload } = await import('../../notify/webhook.ts');
      return { payload: buildWebhookPayload(alert) };
    }
  }
}

export interface NotifyTestDocument {
  readonly schema: 'relaywatch.notify-test/v1';
  readonly generatedAt: string;
  readonly config: string;
  /** Never the URL or any secret of the route. */
  readonly route: { readonly id: string; readonly channel: string };
  readonly tenant: { readonly id: string; readonly name: string };
  readonly incidentId: string;
  readonly dryRun: boolean;
  /** null on a dry run. */
  readonly sent: boolean | null;
  readonly error: string | null;
  readonly retryable: boolean | null;
  /** Dry run only: the e-mail subject, or the channel's JSON payload. */
  readonly message: { readonly subject?: string; readonly payload?: unknown } | null;
}

function routeList(routes: readonly AlertRouteConfig[]): string {
  return routes.length === 0
    ? 'the config has no alert routes (alerts.routes)'
    : `the config has: ${routes.map((r) => `${r.id} (${channelOf(r)})`).join(', ')}`;
}

export function registerNotify(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const notify = program
    .command('notify')
    .description('alert routes: send a test alert through a route')
    .addHelpText(
      'after',
      `
Examples:
  $ relaywatch notify test --route noc-slack
  $ relaywatch notify test --route psa --dry-run`,
    );

  notify
    .command('test')
    .description('send a sample alert through one route of the config, to check that it arrives')
    .requiredOption('-r, --route <id>', 'the route (an id under alerts.routes)')
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .option('-t, --tenant <id>', "the tenant the test alert names (default: the config's first tenant)")
    .option('--dry-run', 'print the message that would be sent (e-mail subject, or the JSON payload) and send nothing')
    .option('--json', 'print the relaywatch.notify-test/v1 JSON document')
    .option('-v, --verbose', "also print the configuration's warnings (check and config validate always do)")
    .addHelpText(
      'after',
      `
The test alert is clearly marked: kind "test", severity info, incident id #${TEST_INCIDENT_ID}, and
the title "relaywatch test alert: if you can read this, route <id> works". It goes through the same
notifier as real alerts (Slack, Teams, e-mail, signed webhook, file), with the route's secrets resolved
from the environment or the secrets file; a secret that does not resolve is named (never shown).
Nothing is written to the store.

Exit status: 0 sent (or shown with --dry-run), 2 the send failed (the reason is printed),
3 an unknown route or tenant, or another usage or configuration error.

Examples:
  $ relaywatch notify test --route noc-slack
  $ relaywatch notify test --route siem --tenant contoso --json
  $ relaywatch notify test --route psa --dry-run`,
    )
    .action(async (opts) => {
      const config = await loadConfigOrExit(opts.config, io.env);
      if (!opts.json) {
        const secretsWarnings = await config.secretsWarnings().catch(() => []);
        // The secrets file's warnings (readable by others) always; the config's own warnings only with --verbose, as
        // for the other commands that check nothing (a route tested before it is routed to is the usual case).
        for (const w of [...(opts.verbose ? config.warnings : []), ...secretsWarnings])
          write(io.stderr, `warning: ${clean(w)}\n`);
      }
      const routes = config.config.alerts?.routes ?? [];
      const routeId = String(opts.route);
      const route = routes.find((r) => r.id === routeId);
      if (!route) throw new UsageError(`unknown route ${JSON.stringify(routeId)}; ${routeList(routes)}`);
      const tenants = config.config.tenants;
      const tenant = opts.tenant === undefined ? tenants[0] : tenants.find((t) => t.id === opts.tenant);
      if (!tenant) {
        throw new UsageError(
          `unknown tenant ${JSON.stringify(opts.tenant)}; the config has: ${tenants.map((t) => t.id).join(', ')}`,
        );
      }
      const channel = channelOf(route);
      const desc = `${clean(route.id)} (${channel})`;
      const now = io.now();
      const alert = testAlert(route, tenant, now);
      const base = {
        schema: 'relaywatch.notify-test/v1' as const,
        generatedAt: now.toISOString(),
        config: config.path,
        route: { id: route.id, channel },
        tenant: { id: tenant.id, name: tenant.name },
        incidentId: TEST_INCIDENT_ID,
      };

      if (opts.dryRun) {
        const message = await preview(channel, alert);
        const doc: NotifyTestDocument = {
          ...base,
          dryRun: true,
          sent: null,
          error: null,
          retryable: null,
          message,
        };
        if (opts.json) {
          write(io.stdout, `${safeJson(doc)}\n`);
        } else {
          const body =
            message.subject !== undefined
              ? `Subject: ${oneLine(message.subject, 400)}`
              : safeJson(message.payload)
                  .split('\n')
                  .map((l) => clean(l))
                  .join('\n');
          write(io.stdout, `Dry run: would send to ${desc} (nothing sent):\n${body}\n`);
        }
        setExit(0);
        return;
      }

      const notifiers = routeNotifiers(config.config, await config.secretSources(), { baseDir: config.baseDir });
      const notifier = notifiers.notifierFor(route.id);
      let result: SendResult;
      if ('error' in notifier) result = { ok: false, retryable: false, error: notifier.error };
      else result = await notifier.send(alert);
      const doc: NotifyTestDocument = {
        ...base,
        dryRun: false,
        sent: result.ok,
        error: result.ok ? null : result.error,
        retryable: result.ok ? null : result.retryable,
        message: null,
      };
      if (opts.json) write(io.stdout, `${safeJson(doc)}\n`);
      else if (result.ok) write(io.stdout, `sent to ${desc}\n`);
      else write(io.stderr, `relaywatch: NOT sent to ${desc}: ${oneLine(result.error, 600)}\n`);
      setExit(result.ok ? 0 : 2);
    });
}
