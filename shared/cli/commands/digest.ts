/**
 * `relaywatch digest` and `relaywatch report`: the weekly health digest (MSP-wide or per tenant, written to a file or
 * sent through the configured e-mail routes) and the static MSP dashboard page, read from the store.
 */
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { RelaywatchConfig } from '../../config/schema.ts';
import { digestEmail } from '../../digest/message.ts';
import type { TenantInput } from '../../digest/model.ts';
import {
  checkDigestTenants,
  DigestConfigError,
  digestSettings,
  digestTenantInputs,
  sendPlan as planOf,
} from '../../digest/plan.ts';
import { parseWeek, previousWeek, type Week, WeekFormatError } from '../../digest/week.ts';
import { buildEmailNotifier } from '../../notify/routing.ts';
import {
  type BuiltDigest,
  buildDigest,
  renderMspDigest,
  renderReport,
  renderTenantDigest,
  type SendDigest,
  sendDigests,
} from '../../use-cases/build-digest.ts';
import { type CliIo, loadConfigOrExit, readCaOption, selectTenants, write } from '../common.ts';
import type { CliConfig } from '../config-bridge.ts';
import { clean } from '../render.ts';
import { UsageError } from '../wiring.ts';
import { ENDPOINT_OPTION_HELP, oneLine, openReadStore, repeatable, STORE_OPTION_HELP } from './status.ts';

function weekOf(value: string | undefined, timeZone: string, now: Date): Week {
  if (value === undefined) return previousWeek(now.getTime(), timeZone);
  try {
    return parseWeek(value, timeZone);
  } catch (err) {
    if (err instanceof WeekFormatError) throw new UsageError(err.message);
    throw err;
  }
}

function tenantInputs(config: RelaywatchConfig, ids: readonly string[] | undefined): TenantInput[] {
  const chosen = new Set(selectTenants(config.tenants, ids).map((t) => t.id));
  return digestTenantInputs(config).filter((t) => chosen.has(t.id));
}

async function build(
  io: CliIo,
  config: CliConfig,
  opts: { store?: string; endpoint?: string; week?: string; tenant?: string[] },
  tenantIds: readonly string[] | undefined,
): Promise<BuiltDigest> {
  const c = config.config;
  const digest = digestSettings(c);
  try {
    checkDigestTenants(c, digest);
  } catch (err) {
    if (err instanceof DigestConfigError) throw new UsageError(err.message);
    throw err;
  }
  const now = io.now();
  const week = weekOf(opts.week, digest.timeZone, now);
  const tenants = tenantInputs(c, tenantIds);
  const read = await openReadStore(opts, config, io.env);
  try {
    const empty = {
      results: {
        history: async () => ({ items: [], cursor: null }),
        events: async () => ({ items: [], cursor: null }),
      },
      incidents: { list: async () => ({ items: [], cursor: null }) },
    };
    return await buildDigest({
      store: read.store ?? empty,
      tenants,
      week,
      msp: { name: c.msp.name, accentColor: digest.accentColor, contactEmail: c.msp.contact.email },
      reportUrl: digest.reportUrl ?? null,
      settings: { agentSilenceHours: digest.agentSilenceHours, certificateWarningDays: digest.certificateWarningDays },
      now: io.now,
    });
  } finally {
    await read.close();
  }
}

/** The send plan, with the config's mistakes as usage errors (exit 3). */
function sendPlan(config: RelaywatchConfig, tenantIds: readonly string[] | null) {
  try {
    return planOf(config, tenantIds);
  } catch (err) {
    if (err instanceof DigestConfigError) throw new UsageError(err.message);
    throw err;
  }
}

function outputPaths(out: string): { html: string; text: string } {
  const base = out.replace(/\.html?$/i, '');
  return { html: out, text: `${base}.txt` };
}

export function registerDigest(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('digest')
    .description(
      'the weekly health digest: MSP-wide, or per tenant for the customer, as an HTML file or sent by e-mail',
    )
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .option(
      '-t, --tenant <id>',
      'the per-tenant digest of this tenant (repeatable); default: the MSP-wide digest',
      repeatable,
    )
    .option('-w, --week <YYYY-Www>', 'the ISO week to report, in digest.timeZone (default: the last complete week)')
    .option('-o, --out <file>', 'write the HTML to this file (and the plain-text part beside it, .txt)')
    .option('--send', 'send through the e-mail routes of the digest section, instead of writing a file')
    .option('--smtp-ca <file>', "extra CA certificate (PEM) to trust for the e-mail route's SMTP server")
    .option('--store <spec>', STORE_OPTION_HELP)
    .option('--endpoint <url>', ENDPOINT_OPTION_HELP)
    .option('-v, --verbose', 'also print the configuration warnings (check and config validate always do)')
    .addHelpText(
      'after',
      `
The digest covers one ISO week (Monday to Sunday in digest.timeZone) and is read from the store
(what "relaywatch check" and the agents recorded): each path's state at the end of the week and a
7-day strip (worst status per day), availability with the rule that made it, probe success rate
and latency, incidents that stayed down or recovered (with durations), blocklist listings, SPF/MX
changes, risks ahead (Basic auth, SPF lookups, relay IPs outside SPF, silent agents, unusable
blocklists, certificates near expiry), and the unknowns with their reasons. The MSP name comes
from msp.name, the colour from digest.accentColor. A per-tenant digest holds that tenant only.

With --out, the MSP-wide digest (or, with --tenant, that tenant's) is written as HTML, and the
plain-text part next to it (digest.html -> digest.txt). With several --tenant values and --out,
each goes to <out>-<tenant id>.html. With --send, the MSP-wide digest goes to digest.msp and every
switched-on tenant with digest.tenants.<id>.to gets its own; --tenant limits the send to those
tenants (and skips the MSP-wide one).

Exit status: 0 written or every e-mail sent, 2 an e-mail failed (the others are still sent),
3 a usage or configuration error (an unknown tenant, a bad --week, no route to send through).

Examples:
  $ relaywatch digest --out digest.html
  $ relaywatch digest --tenant contoso --week 2026-W48 --out contoso.html
  $ relaywatch digest --send
  $ relaywatch digest --send --tenant contoso --week 2026-W48`,
    )
    .action(async (opts) => {
      const out: string | undefined = opts.out;
      const send = opts.send === true;
      if ((out === undefined) === !send) throw new UsageError('give exactly one of --out <file> or --send');
      const config = await loadConfigOrExit(opts.config, io.env);
      if (opts.verbose) for (const w of config.warnings) write(io.stderr, `warning: ${clean(w)}\n`);
      const tenantIds: string[] | undefined = opts.tenant;
      const c = config.config;
      if (send) {
        const plan = sendPlan(c, tenantIds ?? null);
        const smtpCa = await readCaOption(opts.smtpCa, '--smtp-ca');
        const built = await build(io, config, opts, tenantIds);
        const sources = await config.secretSources();
        const notifiers = new Map<string, Awaited<ReturnType<typeof buildEmailNotifier>>>();
        const sender: SendDigest = async (audience, message) => {
          const route = audience === 'msp' ? plan.mspRoute : plan.tenantRoute;
          if (!route?.email) return { ok: false, detail: 'no e-mail route' };
          let notifier = notifiers.get(route.id);
          if (!notifier) {
            try {
              notifier = await buildEmailNotifier(route, sources, { smtpCa });
            } catch (err) {
              return { ok: false, detail: err instanceof Error ? err.message : String(err) };
            }
            notifiers.set(route.id, notifier);
          }
          const r = await notifier.deliver(
            digestEmail(route, built.meta, audience, message, built.meta.generatedAt.replace(/[^0-9]/g, '')),
          );
          return r.ok ? { ok: true, detail: r.detail ?? 'accepted' } : { ok: false, detail: r.error };
        };
        const deliveries = await sendDigests(built, plan.recipients, sender, {
          msp: tenantIds === undefined,
          tenantIds: tenantIds ? new Set(tenantIds) : null,
        });
        for (const d of deliveries) {
          const who = d.audience === 'msp' ? 'MSP-wide digest' : `digest of ${clean(d.audience)}`;
          if (d.ok) write(io.stdout, `sent ${who} to ${d.to.map((x) => clean(x)).join(', ')}\n`);
          else write(io.stderr, `relaywatch: NOT sent ${who}: ${oneLine(d.detail, 600)}\n`);
        }
        for (const s of plan.skipped) write(io.stdout, `skipped digest of ${clean(s.tenant)}: ${s.why}\n`);
        if (deliveries.length === 0) write(io.stdout, 'nothing to send: no digest recipients apply\n');
        setExit(deliveries.every((d) => d.ok) ? 0 : 2);
        return;
      }
      const target = String(out);
      const built = await build(io, config, opts, tenantIds);
      const files: { html: string; text: string; content: { html: string; text: string } }[] = [];
      if (tenantIds === undefined) {
        files.push({ ...outputPaths(target), content: renderMspDigest(built) });
      } else {
        for (const d of built.tenants) {
          const path = built.tenants.length === 1 ? target : target.replace(/(\.html?)?$/i, `-${d.tenant.id}$1`);
          files.push({ ...outputPaths(path), content: renderTenantDigest(d, built.meta) });
        }
      }
      for (const f of files) {
        await writeFile(f.html, f.content.html, 'utf8');
        await writeFile(f.text, f.content.text, 'utf8');
        write(io.stdout, `wrote ${clean(f.html)} and ${clean(f.text)} (${built.meta.week.id})\n`);
      }
      setExit(0);
    });

  program
    .command('report')
    .description('a static, self-contained MSP dashboard page: every tenant, filter, sort, drill-down')
    .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
    .requiredOption('-o, --out <file>', 'the HTML file to write')
    .option('-w, --week <YYYY-Www>', 'the ISO week to show, in digest.timeZone (default: the last complete week)')
    .option('--store <spec>', STORE_OPTION_HELP)
    .option('--endpoint <url>', ENDPOINT_OPTION_HELP)
    .option('-v, --verbose', 'also print the configuration warnings (check and config validate always do)')
    .addHelpText(
      'after',
      `
One HTML file with everything inside (no external script, style, font or image; a Content-
Security-Policy allows only its own small script): totals, availability per path, every tenant
with its 7-day strip, a filter by name or id, sorting (needs attention, name, lowest availability)
and per tenant a drill-down into its incidents, risks, unknowns and last probe transcripts.
It holds every tenant's data: share it with the MSP's staff, not with customers.

Exit status: 0 written, 3 a usage or configuration error.

Examples:
  $ relaywatch report --out report.html
  $ relaywatch report --week 2026-W48 --out report-2026-W48.html`,
    )
    .action(async (opts) => {
      const config = await loadConfigOrExit(opts.config, io.env);
      if (opts.verbose) for (const w of config.warnings) write(io.stderr, `warning: ${clean(w)}\n`);
      const built = await build(io, config, opts, undefined);
      await writeFile(String(opts.out), renderReport(built), 'utf8');
      write(io.stdout, `wrote ${clean(String(opts.out))} (${built.meta.week.id}, ${built.tenants.length} tenants)\n`);
      setExit(0);
    });
}
