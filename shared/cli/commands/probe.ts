/** `relaywatch probe relay|submission`: one test send, its transcript and the diagnosis of the reply. */
import { hostname } from 'node:os';
import { Argument, type Command } from 'commander';
import { probeOutcome } from '../../checks/probe-outcome.ts';
import { trimEndOf } from '../../domain/unsafe-text.ts';
import { observe } from '../../monitor/observe.ts';
import { DEFAULT_PROBE_TIMEOUTS } from '../../ports/smtp-prober.ts';
import type { TokenProvider } from '../../ports/token-provider.ts';
import type { TenantReport } from '../../use-cases/run-checks.ts';
import { type ProbeKind, type ProbeReport, ProbeSetupError, runProbe } from '../../use-cases/run-probe.ts';
import { type CliIo, dnsOptions, positiveInt, readCaOption, renderOptions, write } from '../common.ts';
import { safeJson } from '../json.ts';
import { probeDocument, probeExitCode, renderProbeReport } from '../probe-render.ts';
import { clean } from '../render.ts';
import { DEFAULT_STORE, newRunId, openCliStore } from '../state-stage.ts';
import { UsageError, withDns } from '../wiring.ts';

/** The EHLO name: this host's name when it is a fully qualified one, else the sender's domain. */
export function defaultEhloName(sender: string, host = hostname()): string {
  const h = host.trim().toLowerCase();
  if (/^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?:\.(?!-)[a-z0-9-]{1,63})+$/.test(h)) return h;
  return sender.slice(sender.lastIndexOf('@') + 1).toLowerCase();
}

export function registerProbe(program: Command, io: CliIo, setExit: (code: number) => void): void {
  dnsOptions(
    program
      .command('probe')
      .description('send one probe message by relay or authenticated submission and diagnose the reply')
      .addArgument(new Argument('<kind>', 'relay or submission').choices(['relay', 'submission']))
      .requiredOption('-t, --tenant <id>', 'the tenant to probe for')
      .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
      .option('--host <host>', 'connect here instead (relay: default the tenant MX endpoint; submission: the config)')
      .option('--port <port>', 'port (relay default 25, submission default 587)', (v) => positiveInt(v, '--port'))
      .option('--to <address>', "the recipient (default: the tenant's first probe recipient)")
      .option('--ehlo <name>', 'the EHLO name (default: this host’s FQDN, else the sender domain)')
      .option('--timeout <seconds>', 'the whole probe at most (default 120)', (v) => positiveInt(v, '--timeout'))
      .option('--step-timeout <seconds>', 'one step at most (default 30)', (v) => positiveInt(v, '--step-timeout'))
      .option('--ca <file>', 'PEM file of an extra CA to trust for STARTTLS (a lab or a private relay)')
      .option('--insecure', 'record an unverified certificate but go on (lab use; never against Exchange Online)')
      .option(
        '--authority-host <url>',
        'the Entra ID login host for OAuth (default https://login.microsoftonline.com; e.g. https://login.microsoftonline.us for GCC High)',
      )
      .option('--json', 'print the relaywatch.probe/v1 JSON document')
      .option('--no-color', 'no colours even on a terminal')
      .option(
        '--store <spec>',
        'record the result here: sqlite:PATH or dynamodb:TABLE (default: state.store, else sqlite:.relaywatch/state.db)',
      )
      .option(
        '--endpoint <url>',
        'DynamoDB endpoint for --store dynamodb:TABLE (DynamoDB Local: http://127.0.0.1:8000)',
      )
      .option('--no-store', 'do not record the result (relaywatch history will not show it)'),
  )
    .addHelpText(
      'after',
      `
relay       connects to the tenant's Microsoft 365 MX endpoint on port 25 as a device would:
            from relay.sender, STARTTLS when offered (relay.tls: required to insist), no AUTH.
            Exchange Online judges the connection by its public IP, so run it AT THE CUSTOMER
            SITE (or use \`relaywatch agent\` there); from anywhere else it tests nothing real.
submission  connects to smtp.office365.com:587 (submission.host/port), STARTTLS required, then
            XOAUTH2 with an app-only token from Entra ID (auth: oauth) or AUTH LOGIN (auth: basic;
            the report warns: Microsoft disables Basic for SMTP AUTH by default from end of 2026).

The message goes only to one of the tenant's probeRecipients and carries a unique Message-ID
and an X-Relaywatch-Probe header. Secrets are resolved when needed and never printed.
Exit status: 0 delivered (ok), 1 a temporary refusal (throttling, rate limit), 2 any other
failure, 3 a configuration or usage error.

Examples:
  $ relaywatch probe relay -t contoso
  $ relaywatch probe submission -t tailspin --json
  $ relaywatch probe relay -t contoso --host contoso-example.mail.protection.outlook.com --to probe@contoso.example`,
    )
    .action(async (kind: ProbeKind, opts) => {
      const { loadProbeConfig } = await import('../config-bridge.ts');
      const config = await loadProbeConfig(opts.config, io.env);
      const secretsWarnings = await config.secretsWarnings().catch(() => []);
      for (const w of [...config.warnings, ...secretsWarnings]) write(io.stderr, `warning: ${clean(w)}\n`);
      const tenant = config.tenants.find((t) => t.id === opts.tenant);
      if (!tenant) {
        throw new UsageError(
          `unknown tenant ${JSON.stringify(opts.tenant)}; the config has: ${config.tenants.map((t) => t.id).join(', ')}`,
        );
      }
      const ca = await readCaOption(opts.ca, '--ca');
      const sender = kind === 'relay' ? tenant.relay?.sender : tenant.submission?.mailbox;
      const timeouts = {
        stepMs: (opts.stepTimeout ?? DEFAULT_PROBE_TIMEOUTS.stepMs / 1000) * 1000,
        totalMs: (opts.timeout ?? DEFAULT_PROBE_TIMEOUTS.totalMs / 1000) * 1000,
      };
      const { NodemailerProber } = await import('../../adapters/smtp/nodemailer-prober.ts');
      const tokens = tokenProvider(opts.authorityHost, ca);
      const report: ProbeReport = await withDns({ cli: opts, config: config.dns, baseDir: config.baseDir }, (dns) =>
        runProbe(
          kind,
          tenant,
          {
            host: opts.host,
            port: opts.port,
            to: opts.to,
            ehloName: opts.ehlo ?? defaultEhloName(sender ?? 'relaywatch@relaywatch.invalid'),
            timeouts,
            ca,
            rejectUnauthorized: opts.insecure ? false : undefined,
          },
          { prober: new NodemailerProber(), resolver: dns.resolver, tokens, now: io.now },
        ).catch((err: unknown) => {
          if (err instanceof ProbeSetupError) throw new UsageError(err.message);
          if (err instanceof Error && err.name === 'ProbeRequestError') throw new UsageError(err.message);
          throw err;
        }),
      );
      // Recorded like a check result (history shows it, with its transcript); it decides no incident: an ad-hoc
      // probe must not open or resolve what the monitoring cycle watches.
      let recorded: { store: string; runId: string } | null = null;
      let stateError: string | null = null;
      if (opts.store !== false) {
        const spec = typeof opts.store === 'string' ? opts.store : (config.state.store ?? DEFAULT_STORE);
        try {
          recorded = await recordProbe(report, spec, opts, io, config.state.retentionDays);
        } catch (err) {
          stateError = err instanceof Error ? err.message : String(err);
          write(io.stderr, `relaywatch: the probe result was NOT recorded: ${clean(stateError)}\n`);
        }
      }
      if (opts.json) {
        const doc = { ...probeDocument(report), recorded, ...(stateError !== null ? { stateError } : {}) };
        write(io.stdout, `${safeJson(doc)}\n`);
      } else {
        write(io.stdout, renderProbeReport(report, renderOptions(io, opts)));
        if (recorded)
          write(
            io.stdout,
            `\nRecorded in ${clean(recorded.store)} (relaywatch history ${report.tenantId} --check probe-${kind} --detail).\n`,
          );
      }
      // As for check: a store that cannot be written is the monitor's failure, whatever the probe found.
      setExit(stateError !== null ? 3 : probeExitCode(report.result.diagnosis));
    });
}

/** The Entra ID token provider, loaded only when a probe needs a token (msal is not loaded for relay probes). */
export function tokenProvider(authorityHost: string | undefined, ca: string | undefined): TokenProvider {
  if (authorityHost !== undefined) {
    let url: URL;
    try {
      url = new URL(authorityHost);
    } catch {
      throw new UsageError(`--authority-host ${JSON.stringify(authorityHost)} is not a URL`);
    }
    if (url.protocol !== 'https:') throw new UsageError('--authority-host must be an https:// URL');
  }
  let provider: Promise<TokenProvider> | undefined;
  return {
    getToken: async (request) => {
      provider ??= import('../../adapters/oauth/msal-token-provider.ts').then(
        ({ MsalTokenProvider }) =>
          new MsalTokenProvider({
            ...(authorityHost ? { authorityHost: trimEndOf(authorityHost, '/') } : {}),
            ...(ca ? { ca } : {}),
          }),
      );
      return (await provider).getToken(request);
    },
  };
}

/** Store one probe result (and its run) as `probe-relay` / `probe-submission`, so `history` shows it. */
async function recordProbe(
  report: ProbeReport,
  spec: string,
  opts: { endpoint?: string },
  io: CliIo,
  retentionDays: number,
): Promise<{ store: string; runId: string }> {
  const outcome = probeOutcome(report);
  const startedAt = io.now();
  const runId = newRunId(startedAt);
  const tenant: TenantReport = {
    id: report.tenantId,
    name: report.tenantName,
    status: outcome.status,
    domains: [],
    checks: [outcome],
  };
  const { checks } = observe([tenant], { runId, at: startedAt.toISOString() });
  const store = await openCliStore(
    spec,
    opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {},
    io.env,
    retentionDays,
  );
  try {
    const counts = { pass: 0, warn: 0, fail: 0, unknown: 0 };
    counts[outcome.status]++;
    await store.results.putRun({
      runId,
      startedAt: startedAt.toISOString(),
      finishedAt: io.now().toISOString(),
      source: 'cli',
      counts,
    });
    await store.results.putChecks(checks);
  } finally {
    await store.close();
  }
  return { store: spec, runId };
}
