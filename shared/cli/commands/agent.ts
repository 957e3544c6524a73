/**
 * `relaywatch agent`: the site agent. Runs at the customer site (Windows Server, a Linux box, a NAS), because the relay
 * connector trusts the site's public IP and AWS blocks port 25: find the public egress IP, run the relay probe for the
 * site's tenant, post the signed report to the ingest endpoint (or print it), and repeat with jitter.
 */
import type { Command } from 'commander';
// The egress discovery and the poster (HTTP clients) are imported by the agent's action only: every other command,
// `check` first, does without them (a smaller process floor).
import type { EgressMethod } from '../../agent/egress-ip.ts';
import { ReportGate, reportKey } from '../../agent/report-gate.ts';
import { runSchedule } from '../../agent/schedule.ts';
import {
  AGENT_SECRET_BYTES,
  AGENT_SECRET_PREFIX,
  agentSecretProblem,
  generateAgentSecret,
} from '../../ingest/signature.ts';
import { DEFAULT_PROBE_TIMEOUTS } from '../../ports/smtp-prober.ts';
import { type AgentReport, agentCycle } from '../../use-cases/agent-cycle.ts';
import { ProbeSetupError, type ProbeTenant, runProbe } from '../../use-cases/run-probe.ts';
import { type CliIo, dnsOptions, positiveInt, readCaOption, write } from '../common.ts';
import type { ProbeConfig } from '../config-bridge.ts';
import { safeJson } from '../json.ts';
import { type ProbeDocument, probeDocument, probeExitCode } from '../probe-render.ts';
import { clean } from '../render.ts';
import { UsageError, withDns } from '../wiring.ts';
import { defaultEhloName } from './probe.ts';

type AgentDocument = AgentReport<ProbeDocument>;

function nonNegativeNumber(v: string, name: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1440)
    throw new UsageError(`${name} must be a number of minutes from 0 to 1440, got ${JSON.stringify(v)}`);
  return n;
}

function positiveNumber(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}

/** The site's tenant: `agent.tenant`, `--tenant`, or the only tenant of the file. */
function siteTenant(config: ProbeConfig, wanted: string | undefined): ProbeTenant {
  const id = wanted ?? config.agent?.tenant;
  if (id === undefined) {
    if (config.tenants.length === 1) return config.tenants[0]!;
    throw new UsageError(
      `the config has ${config.tenants.length} tenants: say which one this site belongs to with agent.tenant or --tenant (${config.tenants.map((t) => t.id).join(', ')})`,
    );
  }
  const t = config.tenants.find((x) => x.id === id);
  if (!t)
    throw new UsageError(
      `unknown tenant ${JSON.stringify(id)}; the config has: ${config.tenants.map((x) => x.id).join(', ')}`,
    );
  return t;
}

function egressMethods(config: ProbeConfig, defaults: readonly EgressMethod[]): readonly EgressMethod[] {
  const configured = config.agent?.egress;
  if (!configured) return defaults;
  return configured.map((m) =>
    'dns' in m ? { kind: 'dns', name: m.dns, type: m.type, server: m.server } : { kind: 'https', url: m.https },
  );
}

function summaryLine(doc: AgentDocument, posted: string): string {
  const d = doc.probe.diagnosis;
  const egress = doc.egress.ok ? `${doc.egress.ip} (${doc.egress.method})` : 'unknown';
  const warn = doc.findings.filter((f) => f.severity === 'warning').map((f) => `\n  ! ${f.code}: ${clean(f.message)}`);
  return `${doc.at} ${clean(doc.tenant.id)} egress ${egress} · relay probe to ${clean(doc.probe.target.host)}:${doc.probe.target.port}: ${d.id}${d.id === 'ok' ? '' : ` (${clean(d.title)})`} · ${posted}${warn.join('')}\n`;
}

export function registerAgent(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const agentCommand = dnsOptions(
    program
      .command('agent')
      .description("the site agent: discover the site's public IP, run the relay probe, report it signed to the ingest")
      .option(
        '-c, --config <file>',
        'configuration file (a site file with the agent section and the site’s tenant)',
        'relaywatch.yaml',
      )
      .option('-t, --tenant <id>', 'the tenant of this site (default: agent.tenant, else the only tenant in the file)')
      .option('--once', 'one cycle, then exit with its status (for cron or Task Scheduler)')
      .option('--json', 'print the relaywatch.agent-report/v1 document (one line per cycle in loop mode)')
      .option('--no-post', 'do not post to agent.ingestUrl even when it is set')
      .option('--interval <minutes>', 'minutes between cycles (default agent.intervalMinutes, 15)', (v) =>
        positiveNumber(v, '--interval'),
      )
      .option(
        '--heartbeat-minutes <minutes>',
        'post an ok report that repeats the last accepted one only this often; failures and changes at once (default agent.heartbeatMinutes, 60; 0: every cycle)',
        (v) => nonNegativeNumber(v, '--heartbeat-minutes'),
      )
      .option('--host <host>', 'probe this relay host instead of the tenant MX endpoint (a lab, a local smart host)')
      .option('--port <port>', 'the relay port (default relay.port, 25)', (v) => positiveInt(v, '--port'))
      .option('--ehlo <name>', 'the EHLO name (default: this host’s FQDN, else the sender domain)')
      .option('--timeout <seconds>', 'the whole probe at most (default 120)', (v) => positiveInt(v, '--timeout'))
      .option('--ca <file>', 'PEM file of an extra CA to trust (STARTTLS of a lab relay, a private ingest endpoint)'),
  )
    .addHelpText(
      'after',
      `
Each cycle: find the site's public IP (agent.egress, default OpenDNS's myip.opendns.com,
then Google's o-o.myaddr.l.google.com), run the relay probe of the site's tenant, and POST
the report to agent.ingestUrl (https; http only to a loopback address), signed with
HMAC-SHA256 over the agent id, timestamp, method, host, path and the body's SHA-256
(headers x-relaywatch-agent, x-relaywatch-timestamp, x-relaywatch-signature: v2=<hex>) with
the agent's secret (agent.secret, an env variable or a secrets-file entry; make one with
"relaywatch agent secret"). Failed posts are retried with backoff. Without ingestUrl (or
with --no-post) the report is printed.
In loop mode the agent probes every interval but posts only news: every report that is not
ok (each failure counts toward the incident thresholds), every change from the last report
the ingest accepted (diagnosis, status, egress IP, findings: the recovery too), and an
unchanged ok report once per heartbeat (agent.heartbeatMinutes / --heartbeat-minutes,
default 60; 0 posts every cycle). A post that failed is not accepted: the next cycle posts.
--once always posts.
A public IP that is not among the tenant's relayIps is reported (agent-egress-ip-changed):
that is how an ISP's address change shows before the connector starts refusing mail.

Exit status with --once: 0 delivered, 1 a temporary refusal or a warning (e.g. the IP
changed), 2 the probe failed, 3 the report could not be posted or a configuration error.
In loop mode the agent runs until SIGINT/SIGTERM (Ctrl+C, service stop).

Examples:
  $ relaywatch agent --config site.yaml --once --json      # try it
  $ relaywatch agent --config site.yaml                    # run as a service
  $ relaywatch agent --config site.yaml --heartbeat-minutes 0   # post every cycle
  $ relaywatch agent secret                                # a new secret for a new site`,
    )
    .action(async (opts) => {
      const { loadProbeConfig } = await import('../config-bridge.ts');
      const config = await loadProbeConfig(opts.config, io.env);
      for (const w of config.warnings) write(io.stderr, `warning: ${clean(w)}\n`);
      if (!config.agent) {
        throw new UsageError(
          `${opts.config} has no agent section: add agent: { id: <site name>, ingestUrl: <your ingest URL>, secret: { env: RELAYWATCH_AGENT_SECRET } } (see the README, "Site agent")`,
        );
      }
      const agent = config.agent;
      const tenant = siteTenant(config, opts.tenant);
      if (!tenant.relay) {
        throw new UsageError(
          `tenant ${tenant.id} has no relay section: add relay: { sender: <the device's sender address> }`,
        );
      }
      const post = opts.post !== false && agent.ingestUrl !== undefined;
      let secret: string | undefined;
      if (post) {
        if (!agent.secret)
          throw new UsageError(
            'agent.ingestUrl is set but agent.secret is not: the ingest accepts only signed reports',
          );
        const s = agent.secret();
        if (!s.ok) throw new UsageError(`agent.secret: ${s.reason}`);
        const weak = agentSecretProblem(s.value);
        if (weak !== null) throw new UsageError(`agent.secret: ${weak}`);
        secret = s.value;
      }
      const ca = await readCaOption(opts.ca, '--ca');
      const { DEFAULT_EGRESS_METHODS, defaultResolverFor, discoverEgressIp } = await import('../../agent/egress-ip.ts');
      const { postSigned } = await import('../../agent/poster.ts');
      const methods = egressMethods(config, DEFAULT_EGRESS_METHODS);
      const { NodemailerProber } = await import('../../adapters/smtp/nodemailer-prober.ts');
      const prober = new NodemailerProber();
      const tokens = {
        getToken: async () =>
          ({
            ok: false,
            reason: 'other',
            aadsts: null,
            message: 'the agent does not authenticate',
            retryable: false,
          }) as const,
      };
      const timeouts = {
        stepMs: DEFAULT_PROBE_TIMEOUTS.stepMs,
        totalMs: (opts.timeout ?? DEFAULT_PROBE_TIMEOUTS.totalMs / 1000) * 1000,
      };
      const ehloName = opts.ehlo ?? defaultEhloName(tenant.relay.sender);

      const abort = new AbortController();
      const stop = () => abort.abort();
      let worst = 0;
      const intervalMs = (opts.interval ?? agent.intervalMinutes) * 60_000;
      const heartbeatMinutes: number = opts.heartbeatMinutes ?? agent.heartbeatMinutes;
      // --once has no memory: it always posts (cron or Task Scheduler decide how often).
      const gate = new ReportGate({ heartbeatMs: opts.once ? 0 : heartbeatMinutes * 60_000, intervalMs });
      const cycle = async (): Promise<void> => {
        const report = await withDns({ cli: opts, config: config.dns, baseDir: config.baseDir }, (dns) =>
          agentCycle(
            agent,
            { id: tenant.id, name: tenant.name, relayIps: tenant.relayIps ?? [] },
            {
              now: io.now,
              discoverEgress: () => discoverEgressIp(methods, { resolverFor: (spec) => defaultResolverFor(spec) }),
              probe: () =>
                runProbe(
                  'relay',
                  tenant,
                  { ehloName, timeouts, ca, host: opts.host, port: opts.port },
                  { prober, resolver: dns.resolver, tokens, now: io.now },
                ).catch((err: unknown) => {
                  if (err instanceof ProbeSetupError) throw new UsageError(err.message);
                  throw err;
                }),
            },
          ),
        );
        const held = gate.unpostedOk();
        const doc: AgentDocument = {
          ...report,
          probe: probeDocument(report.probe),
          ...(held > 0 ? { unpostedOk: held } : {}),
        };
        const body = JSON.stringify(doc);
        let posted = 'not posted (no ingestUrl)';
        let code: number = probeExitCode(report.probe.result.diagnosis);
        if (code === 0 && doc.findings.some((f) => f.severity === 'warning')) code = 1;
        const key = reportKey({
          egress: doc.egress,
          findings: doc.findings,
          diagnosis: doc.probe.diagnosis.id,
          status: probeExitCode(report.probe.result.diagnosis),
        });
        const atMs = Date.parse(doc.at);
        const decision = gate.decide(key, atMs);
        if (post && agent.ingestUrl && secret && !decision.post) {
          gate.skipped();
          posted = `not posted (unchanged since the last accepted report; heartbeat due ${new Date(decision.nextHeartbeatAtMs).toISOString().slice(0, 16).replace('T', ' ')} UTC)`;
        } else if (post && agent.ingestUrl && secret) {
          const r = await postSigned({
            url: agent.ingestUrl,
            body,
            agentId: agent.id,
            secret,
            signal: abort.signal,
            ...(ca ? { ca } : {}),
          });
          if (r.ok) {
            gate.accepted(key, atMs);
            posted = `posted (HTTP ${r.status}, ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}${decision.post && decision.reason !== 'every-run' ? `, ${decision.reason}` : ''})`;
          } else {
            posted = `NOT posted: ${r.message}`;
            write(
              io.stderr,
              `relaywatch agent: the report was not posted after ${r.attempts} attempt(s): ${r.message}\n`,
            );
            code = 3;
          }
        } else if (opts.post === false) posted = 'not posted (--no-post)';
        worst = Math.max(worst, code);
        if (opts.json) write(io.stdout, opts.once ? `${safeJson(doc)}\n` : `${safeJson(doc, 0)}\n`);
        else write(io.stdout, summaryLine(doc, posted));
      };

      if (opts.once) {
        await cycle();
        setExit(worst);
        return;
      }
      let fatal: UsageError | undefined;
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await runSchedule({
          intervalMs,
          jitterMs: Math.min(agent.jitterSeconds * 1000, intervalMs / 2),
          once: false,
          task: cycle,
          signal: abort.signal,
          onError: (err) => {
            // A configuration problem will not go away by itself: stop and exit 3 instead of failing every cycle.
            if (err instanceof UsageError) {
              fatal = err;
              abort.abort();
              return;
            }
            write(io.stderr, `relaywatch agent: cycle failed: ${err instanceof Error ? err.message : String(err)}\n`);
          },
        });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      if (fatal) throw fatal;
      setExit(0);
    });

  agentCommand
    .command('secret')
    .description(`print a new agent secret (${AGENT_SECRET_PREFIX} + ${AGENT_SECRET_BYTES} random bytes, base64url)`)
    .option('--json', 'print { "secret": … } instead of the bare secret')
    .addHelpText(
      'after',
      `
Each site agent has its own secret, known to the site's agent and to the ingest's agent
registry (which also maps the agent to its one tenant). The secret goes to standard output
only; store it where only the agent's service account can read it (see docs/agent.md:
systemd LoadCredential=, an EnvironmentFile of mode 0600, or an ACL'd file on Windows).
Secrets that do not start with ${AGENT_SECRET_PREFIX} or hold fewer than ${AGENT_SECRET_BYTES} random bytes are refused
by the agent and ignored by the ingest.

Examples:
  $ relaywatch agent secret                                   # print one
  $ relaywatch agent secret > /etc/relaywatch/agent-secret && chmod 600 /etc/relaywatch/agent-secret
  $ relaywatch agent secret --json                            # {"secret":"rwas_…"}
  PS> relaywatch agent secret | Out-File -Encoding ascii C:ProgramData\relaywatchagent-secret`,
    )
    .action((_opts: unknown, command: Command) => {
      // --json is also an option of "agent": commander hands it to whichever level it was parsed at
      const json = (command.optsWithGlobals() as { json?: boolean }).json === true;
      const secret = generateAgentSecret();
      write(io.stdout, json ? `${safeJson({ secret }, 0)}\n` : `${secret}\n`);
    });
}
