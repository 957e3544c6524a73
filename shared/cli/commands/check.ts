/** `relaywatch check`. */
import type { Command } from 'commander';
import { ALL_DOMAIN_CHECKS } from '../../checks/registry.ts';
import { exitCodeFor, worstStatus } from '../../domain/outcome.ts';
import { checkTenants } from '../../use-cases/check-tenants.ts';
import { cliBudgetReservation } from '../budget.ts';
import {
  blocklistDnsOption,
  type CliIo,
  dnsNotes,
  dnsOptions,
  healthNotes,
  loadConfigOrExit,
  positiveInt,
  readCaOption,
  renderOptions,
  selectTenants,
  write,
  zoneOption,
} from '../common.ts';
import { checkDocument, type JsonBlocklists, writeSafeJson } from '../json.ts';
import { Progress } from '../progress.ts';
import { clean, renderCheckReport, renderDnsLine } from '../render.ts';
import {
  cliStoreSettings,
  renderState,
  runStateStage,
  type StateStageResult,
  stateDocument,
  storeSpec,
  validateStoreSpec,
} from '../state-stage.ts';
import { createCliRuntime, dnsSettings, selectCliZones } from '../wiring.ts';
import { defaultEhloName } from './probe.ts';

export function registerCheck(program: Command, io: CliIo, setExit: (code: number) => void): void {
  dnsOptions(
    program
      .command('check')
      .description('run every check for every tenant and domain in the config (one monitoring cycle)')
      .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
      .option('-t, --tenant <id>', 'only this tenant (repeatable)', (v: string, prev: string[] | undefined) => [
        ...(prev ?? []),
        v,
      ])
      .option('--json', 'print the JSON report (schema: README, "JSON output")')
      .option('-v, --verbose', 'also show informational findings')
      .option('--no-color', 'no colours even on a terminal')
      .option('--no-blocklists', 'skip the blocklist check of the sending IPs')
      .option(
        '--store <spec>',
        'where results, state and incidents are kept: sqlite:PATH or dynamodb:TABLE (default: state.store, else sqlite:.relaywatch/state.db)',
      )
      .option(
        '--endpoint <url>',
        'DynamoDB endpoint for --store dynamodb:TABLE (DynamoDB Local: http://127.0.0.1:8000)',
      )
      .option('--no-store', 'do not record results, decide incidents or send alerts (a stateless check)')
      .option('--dry-run', 'record results and decide incidents, but print the alerts instead of sending them')
      .option(
        '--probes',
        'also send the authenticated-submission probe of every tenant with submission settings and a probe recipient',
      )
      .option('--probe-ca <file>', 'PEM file of an extra CA to trust for the probes (a lab or a private endpoint)')
      .option('--confirm <minutes>', 'then confirm probes sent at least this long ago (relaywatch confirm)', (v) =>
        positiveInt(v, '--confirm'),
      ),
  )
    .addOption(zoneOption())
    .addOption(blocklistDnsOption())
    .addHelpText(
      'after',
      `
Checks per domain: ${ALL_DOMAIN_CHECKS.map((c) => `\n  ${c.kind.padEnd(4)} ${c.title}`).join('')}
Checks per sending IP (relay IPs, every address of a relay range, single IPs the tenant's own SPF authorises):
  blocklist  DNS blocklists, health-checked each run (RFC 5782 test points); see \`relaywatch blocklist --help\`

With --probes, each tenant with submission settings and a probe recipient also gets the
authenticated-submission probe (smtp.office365.com:587, OAuth or Basic: see relaywatch probe),
reported as a probe-submission check; a network failure on the way is unknown, an answer
(authentication refused, SMTP AUTH disabled…) fails. Relay probes run at the site (relaywatch agent).

Every run is recorded in the store (see --store): results, SPF/MX changes (drift) and
incidents. An incident opens after the configured number of consecutive failures (2 for SPF
and MX, 1 for a blocklist listing), alerts go to the routes of alerts: in the config, and a
RESOLVED follows when it recovers. Unknown verdicts never open or resolve anything.
--dry-run prints the alerts instead of sending them (they stay due for the next real run).

A progress line is drawn on stderr when it is a terminal. Verdicts are unknown (never fail)
when DNS cannot answer.

Exit status: 0 all pass, 1 a warning, 2 a check failed, 3 a verdict unknown, a usage or
configuration error, or the store could not be written (3 even when checks fail: the monitor
is broken and no alert went out; the report still shows every verdict).`,
    )
    .action(async (opts) => {
      const started = performance.now();
      const startedAt = io.now();
      const loaded = await loadConfigOrExit(opts.config, io.env);
      const selected = selectTenants(loaded.tenants, opts.tenant);
      if (opts.store !== false) await validateStoreSpec(storeSpec(opts, loaded));
      const r = renderOptions(io, opts);
      if (!opts.json) {
        // A secrets file that cannot be read is reported where a secret is needed; here only its warnings.
        const secretsWarnings = await loaded.secretsWarnings().catch(() => []);
        for (const w of [...loaded.warnings, ...secretsWarnings]) write(io.stderr, `warning: ${clean(w)}\n`);
      }
      const zones = opts.blocklists !== false ? selectCliZones(opts.zone, loaded.blocklists?.zones) : null;
      const blocklistDns: readonly string[] | undefined = opts.blocklistDns ?? loaded.blocklists?.resolvers;
      const probeCa = opts.probes ? await readCaOption(opts.probeCa, '--probe-ca') : undefined;
      const runtime = createCliRuntime({
        dns: await dnsSettings({ cli: opts, config: loaded.dns, baseDir: loaded.baseDir }),
        ...(zones && blocklistDns?.length
          ? {
              blocklistDns: await dnsSettings({
                cli: { dns: blocklistDns },
                config: loaded.dns,
                baseDir: loaded.baseDir,
              }),
            }
          : {}),
        ...(zones ? { blocklists: { ...zones, keys: loaded.blocklists?.keys ?? {} } } : {}),
        probes: { ca: probeCa },
        ...(opts.store !== false
          ? { store: cliStoreSettings(storeSpec(opts, loaded), opts, io.env, loaded.config.state.retentionDays) }
          : {}),
      });
      try {
        const dns = runtime.dns;
        const progress = new Progress(io.stderr, Boolean(io.stderr.isTTY) && !opts.json);
        const bl = loaded.blocklists;
        const reserve = cliBudgetReservation(loaded, opts, io.env, io.now, (t) => write(io.stderr, t));
        const checked = await checkTenants({
          tenants: selected,
          ctx: runtime.checkContext,
          today: io.now(),
          onProgress: (p) => progress.update(`[${p.done}/${p.total}] ${p.tenantId} ${p.domain}`),
          onStage: (s) => {
            if (s.stage === 'domains') {
              progress.update(`checking ${s.domains} domain(s) of ${s.tenants} tenant(s) via ${dns.description}…`);
            } else if (s.stage === 'blocklists') {
              progress.update(`checking sending IPs against ${s.zones} blocklist(s)…`);
            } else progress.update('probing authenticated submission…');
          },
          blocklists: zones
            ? {
                setup: () => runtime.blocklists(),
                ...(reserve ? { reserve } : {}),
                ...(bl?.concurrency ? { maxConcurrent: bl.concurrency } : {}),
                ...(bl?.perZoneConcurrency ? { perZoneConcurrency: bl.perZoneConcurrency } : {}),
                ...(bl?.zonesFor && !zones.explicit ? { zonesFor: bl.zonesFor } : {}),
              }
            : null,
          probes: opts.probes
            ? {
                tenants: async () =>
                  (await import('../config-bridge.ts')).probeTenants(loaded.config, loaded.secretSources),
                prober: runtime.prober(),
                tokens: runtime.tokens(),
                resolver: dns.resolver,
                now: io.now,
                ehloName: (t) => defaultEhloName(t.submission?.mailbox ?? 'relaywatch@relaywatch.invalid'),
                ca: probeCa,
              }
            : null,
        });
        const tenants = checked.reports;
        const blocklists: JsonBlocklists | null = checked.blocklists
          ? {
              resolvers: checked.blocklists.resolvers,
              questions: checked.blocklists.questions,
              health: checked.blocklists.health,
            }
          : null;
        progress.done();
        let state: StateStageResult | null = null;
        let stateError: string | null = null;
        if (opts.store !== false) {
          progress.update('recording results and deciding incidents…');
          try {
            state = await runStateStage({
              reports: tenants,
              config: loaded,
              opts: { store: opts.store, endpoint: opts.endpoint, dryRun: opts.dryRun },
              env: io.env,
              now: io.now,
              startedAt,
              store: () => runtime.store(),
            });
          } catch (err) {
            // The checks ran: their report must not be lost because the store is unreachable or a usage is wrong.
            stateError = err instanceof Error ? err.message : String(err);
            write(
              io.stderr,
              `relaywatch: results NOT recorded, incidents not evaluated, no alerts sent: ${clean(stateError)}\n`,
            );
          }
          progress.done();
        }
        const confirmed =
          opts.confirm !== undefined && opts.store !== false && stateError === null
            ? await (await import('./confirm.ts')).confirmForCheck({
                loaded,
                io,
                opts: { ...opts, ca: opts.probeCa },
                tenantIds: opts.tenant,
                minAgeMs: opts.confirm * 60_000,
              })
            : null;
        const status = worstStatus([...tenants.map((t) => t.status), ...(confirmed?.status ? [confirmed.status] : [])]);
        // A store that cannot be written breaks the monitor itself (nothing recorded, no incident, no alert): the
        // scheduler must see that whatever the checks found, so it is 3 even when a check fails (the report keeps the
        // verdicts). docs/cli.md, "Exit status".
        const exitCode = stateError !== null ? 3 : exitCodeFor(status);
        const stats = dns.resolver.stats();
        const notes = dnsNotes(stats, dns.description);
        const generatedAt = io.now().toISOString();
        if (opts.json) {
          const doc = {
            ...checkDocument({
              generatedAt,
              msp: loaded.mspName,
              configPath: loaded.path,
              status,
              exitCode,
              tenants,
              dns: { resolvers: dns.description, stats },
              notes,
              durationMs: Math.round(performance.now() - started),
              blocklists,
            }),
            state: state ? await stateDocument(state) : null,
            ...(stateError !== null ? { stateError } : {}),
            ...(confirmed ? { confirm: await confirmed.document() } : {}),
          };
          writeSafeJson(io.stdout, doc);
        } else {
          write(
            io.stdout,
            renderCheckReport({
              msp: loaded.mspName,
              generatedAt,
              tenants,
              status,
              exitCode,
              dnsLine: renderDnsLine(dns.description, stats),
              notes: [...notes, ...healthNotes(blocklists)],
              o: r,
            }),
          );
          if (state) write(io.stdout, await renderState(state));
          if (confirmed) write(io.stdout, await confirmed.text());
          if (stateError !== null) write(io.stdout, `\nState: NOT recorded: ${clean(stateError)}\n`);
        }
        setExit(exitCode);
      } finally {
        await runtime.close();
      }
    });
}
