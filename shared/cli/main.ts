/**
 * The `relaywatch` command line: the composition root of the local product. It picks adapters, runs use cases and
 * prints; everything it calls is tested on its own. Exit status follows the monitoring-plugin convention:
 * 0 all pass, 1 any warn, 2 any fail, 3 unknown or a usage/configuration error.
 */
import { Command, CommanderError, Option } from 'commander';
import { makeSpfEvaluator } from '../adapters/spf/mailauth-spf.ts';
import { runBlocklists } from '../blocklist/engine.ts';
import { ZONES } from '../blocklist/registry.ts';
import { blocklistOutcome } from '../checks/blocklist.ts';
import { mxCheck } from '../checks/mx.ts';
import { ALL_DOMAIN_CHECKS } from '../checks/registry.ts';
import { spfCheck } from '../checks/spf.ts';
import type { CheckContext } from '../checks/types.ts';
import { canonicalIp } from '../domain/ip.ts';
import { type CheckOutcome, type CheckStatus, exitCodeFor, worstStatus } from '../domain/outcome.ts';
import type { DnsResolver, DnsStats } from '../ports/dns-resolver.ts';
import { attachBlocklists } from '../use-cases/run-blocklists.ts';
import { runChecks } from '../use-cases/run-checks.ts';
import { selectZones, withBlocklists } from './blocklist-wiring.ts';
import { blocklistDocument, checkDocument, type JsonBlocklists, outcomeDocument, spfDocument } from './json.ts';
import { Progress } from './progress.ts';
import { clean, type RenderOptions, renderCheck, renderCheckReport, renderDnsLine } from './render.ts';
import { UsageError, withDns } from './wiring.ts';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
}

const EXAMPLES = `
Examples:
  $ relaywatch check --config examples/relaywatch.yaml
  $ relaywatch check --tenant contoso --json > report.json
  $ relaywatch spf contoso.com --ip 203.0.113.10
  $ relaywatch mx contoso.com
  $ relaywatch check --dns udp://127.0.0.1:5353              # your own resolver
  $ relaywatch check --dns doh:https://dns.example/dns-query --dns-ca ca.pem

Exit status: 0 all pass, 1 any warn, 2 any fail, 3 unknown (a check could not decide,
e.g. DNS unreachable) or a usage/configuration error. Documentation: README.md.`;

function dnsOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--dns <spec>',
        'resolver to ask: doh:https://host/dns-query or udp://host[:port]; repeat for failover (default: the config, else Cloudflare and Google DoH)',
      )
        .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])
        .default(undefined),
    )
    .option('--dns-timeout <ms>', 'per-query timeout in milliseconds', (v) => positiveInt(v, '--dns-timeout'))
    .option('--dns-ca <file>', 'PEM file of the CA that signed a private DoH endpoint');
}

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${name} must be a positive whole number, got ${JSON.stringify(v)}`);
  return n;
}

function renderOptions(io: CliIo, opts: { color?: boolean; verbose?: boolean }): RenderOptions {
  // commander sets `color: true` unless --no-color is given, so `false` is the only value that says anything.
  const color = opts.color !== false && Boolean(io.stdout.isTTY) && !io.env.NO_COLOR;
  return { color, verbose: Boolean(opts.verbose) };
}

/** A note for the report when no DNS answer came back at all: the resolvers are unreachable, say so plainly. */
function dnsNotes(stats: DnsStats, resolvers: string): string[] {
  const answered = stats.byKind.answer + stats.byKind.nodata + stats.byKind.nxdomain;
  if (stats.questions > 0 && answered === 0) {
    return [
      `no DNS resolver answered (${resolvers}); every verdict below is unknown. Check outbound access to the resolvers or choose reachable ones with --dns (e.g. --dns udp://<your resolver>).`,
    ];
  }
  return [];
}

function zoneOption(): Option {
  return new Option(
    '--zone <zone>',
    'blocklist to ask (repeatable): a registry id (spamcop), a zone name (bl.spamcop.net) or your own zone (RFC 5782 semantics); default: the config, else every zone on by default',
  ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
}

function blocklistDnsOption(): Option {
  return new Option(
    '--blocklist-dns <spec>',
    'resolver for blocklist queries (repeatable), e.g. a private udp://… resolver that the lists accept; default: blocklists.resolvers, else the --dns resolvers',
  ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
}

/** One line per zone that could not be used in this run, so a report never hides why IPs are unknown. */
function healthNotes(b: JsonBlocklists | null): string[] {
  if (!b) return [];
  return b.health
    .filter((h) => h.status !== 'usable')
    .map(
      (h) => `blocklist ${h.zoneId} (${h.zone}): ${h.status === 'not-checked' ? h.reason : `unusable: ${h.reason}`}`,
    );
}

function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text);
}

function makeCtx(resolver: DnsResolver): CheckContext {
  return { resolver, evaluateSpf: makeSpfEvaluator(resolver), now: () => performance.now() };
}

export function buildProgram(io: CliIo, setExit: (code: number) => void): Command {
  const program = new Command('relaywatch')
    .description(
      'Watch how customers’ printers, scanners and apps send mail through Microsoft 365: SPF and MX health for every tenant and domain.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: (s) => write(io.stdout, s), writeErr: (s) => write(io.stderr, s) })
    .addHelpText('after', EXAMPLES)
    .exitOverride();

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
      .option('--no-blocklists', 'skip the blocklist check of the sending IPs'),
  )
    .addOption(zoneOption())
    .addOption(blocklistDnsOption())
    .addHelpText(
      'after',
      `
Checks per domain: ${ALL_DOMAIN_CHECKS.map((c) => `\n  ${c.kind.padEnd(4)} ${c.title}`).join('')}
Checks per sending IP (relay IPs, every address of a relay range, single IPs the tenant's own SPF authorises):
  blocklist  DNS blocklists, health-checked each run (RFC 5782 test points); see \`relaywatch blocklist --help\`

A progress line is drawn on stderr when it is a terminal. Verdicts are unknown (never fail)
when DNS cannot answer.`,
    )
    .action(async (opts) => {
      const started = performance.now();
      const loaded = await loadConfigOrExit(opts.config, io.env);
      const selected = selectTenants(loaded.tenants, opts.tenant);
      const r = renderOptions(io, opts);
      if (!opts.json) for (const w of loaded.warnings) write(io.stderr, `warning: ${clean(w)}\n`);
      await withDns({ cli: opts, config: loaded.dns, baseDir: loaded.baseDir }, async (dns) => {
        const progress = new Progress(io.stderr, Boolean(io.stderr.isTTY) && !opts.json);
        const domainCount = selected.reduce((n, t) => n + t.domains.length, 0);
        progress.update(`checking ${domainCount} domain(s) of ${selected.length} tenant(s) via ${dns.description}…`);
        let tenants = await runChecks({
          tenants: selected,
          checks: ALL_DOMAIN_CHECKS,
          ctx: makeCtx(dns.resolver),
          onProgress: (p) => progress.update(`[${p.done}/${p.total}] ${p.tenantId} ${p.domain}`),
        });
        let blocklists: JsonBlocklists | null = null;
        if (opts.blocklists !== false) {
          const { zones, explicit } = selectZones(opts.zone, loaded.blocklists?.zones);
          progress.update(`checking sending IPs against ${zones.length} blocklist(s)…`);
          await withBlocklists(
            {
              main: dns,
              zones,
              explicit,
              blocklistDns: opts.blocklistDns ?? loaded.blocklists?.resolvers,
              dnsConfig: loaded.dns,
              baseDir: loaded.baseDir,
              keys: loaded.blocklists?.keys ?? {},
            },
            async (setup) => {
              const attached = await attachBlocklists(selected, tenants, {
                plans: setup.plans,
                ...(loaded.blocklists?.budget ? { budget: loaded.blocklists.budget } : {}),
                ...(loaded.blocklists?.concurrency ? { maxConcurrent: loaded.blocklists.concurrency } : {}),
                ...(loaded.blocklists?.perZoneConcurrency
                  ? { perZoneConcurrency: loaded.blocklists.perZoneConcurrency }
                  : {}),
                ...(loaded.blocklists?.zonesFor && !explicit ? { zonesFor: loaded.blocklists.zonesFor } : {}),
              });
              tenants = attached.reports;
              blocklists = {
                resolvers: setup.description,
                questions: attached.run.questions,
                health: attached.run.health,
              };
            },
          );
          await loaded.blocklists?.flush?.();
        }
        progress.done();
        const status = worstStatus(tenants.map((t) => t.status));
        const exitCode = exitCodeFor(status);
        const stats = dns.resolver.stats();
        const notes = dnsNotes(stats, dns.description);
        const generatedAt = io.now().toISOString();
        if (opts.json) {
          const doc = checkDocument({
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
          });
          write(io.stdout, `${JSON.stringify(doc, null, 2)}\n`);
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
        }
        setExit(exitCode);
      });
    });

  dnsOptions(
    program
      .command('spf <domain>')
      .description('analyse the SPF of one domain; with --ip, the RFC 7208 result for each address')
      .option('--ip <address>', 'client address to evaluate (repeatable)', (v: string, prev: string[] | undefined) => [
        ...(prev ?? []),
        v,
      ])
      .option('--sender <address>', 'MAIL FROM to evaluate with (default postmaster@<domain>)')
      .option('--helo <name>', 'HELO/EHLO name to evaluate with')
      .option('--json', 'print JSON (schema: README)')
      .option('-v, --verbose', 'also show informational findings')
      .option('--no-color', 'no colours even on a terminal'),
  )
    .addHelpText(
      'after',
      `
Results per --ip: pass | fail | softfail | neutral | none | permerror | temperror (RFC 7208 §2.6).
Each --ip is treated as a relay address: anything but pass makes the command fail (exit 2).`,
    )
    .action(async (domainArg: string, opts) => {
      const domain = validDomainOrThrow(domainArg);
      const ips: string[] = (opts.ip ?? []).map((ip: string) => {
        const c = canonicalIp(ip);
        if (!c) throw new UsageError(`--ip ${JSON.stringify(ip)} is not an IPv4 or IPv6 address`);
        return c;
      });
      await withDns({ cli: opts, baseDir: process.cwd() }, async (dns) => {
        const ctx = makeCtx(dns.resolver);
        const outcome = await spfCheck.run({ domain, relayIps: ips }, ctx);
        const results =
          opts.sender || opts.helo
            ? await Promise.all(
                ips.map((ip) =>
                  ctx.evaluateSpf({
                    ip,
                    domain,
                    ...(opts.sender ? { sender: opts.sender } : {}),
                    ...(opts.helo ? { helo: opts.helo } : {}),
                  }),
                ),
              )
            : await Promise.all(ips.map((ip) => ctx.evaluateSpf({ ip, domain })));
        const status = outcome.status;
        if (opts.json) {
          const doc = spfDocument(outcome, results, dns.description, dns.resolver.stats());
          write(io.stdout, `${JSON.stringify(doc, null, 2)}\n`);
        } else {
          const r = renderOptions(io, opts);
          const lines = [`SPF of ${clean(domain)}`];
          if (typeof outcome.details?.record === 'string') lines.push(`  record: ${clean(outcome.details.record)}`);
          lines.push(...renderCheck(outcome, r, '  '));
          for (const e of results) lines.push(`  ${e.ip.padEnd(39)} ${e.result.padEnd(9)} ${clean(e.comment)}`);
          lines.push(renderDnsLine(dns.description, dns.resolver.stats()));
          write(io.stdout, `${lines.join('\n')}\n`);
        }
        setExit(exitCodeFor(status));
      });
    });

  dnsOptions(
    program
      .command('blocklist <ip...>')
      .description('check IP addresses against DNS blocklists, health-checking every zone first')
      .option('-c, --config <file>', "use this config's blocklist settings (zones, keys, private resolver, budget)")
      .option('--json', 'print JSON (schema: README)')
      .option('-v, --verbose', 'also list the zones where the IP is clean')
      .option('--no-color', 'no colours even on a terminal'),
  )
    .addOption(zoneOption())
    .addOption(blocklistDnsOption())
    .addHelpText(
      'after',
      `
Zones in the registry (* = asked by default):
${ZONES.map((z) => `  ${z.defaultEnabled ? '*' : ' '} ${z.id.padEnd(17)} ${z.name.padEnd(36)} ${z.kind}${z.key ? ', needs a key' : ''}${z.publicResolvers === 'refused' ? ', refuses public resolvers' : ''}`).join('\n')}

How answers are read: NXDOMAIN = clean; 127.0.0.x = listed (every code decoded);
127.255.255.x and a zone's own error codes = unknown, zone unusable for the run;
an answer outside 127/8 = unknown (the resolver rewrote it); SERVFAIL, REFUSED,
timeout = unknown. Each zone is first asked for 127.0.0.2 (must be listed) and
127.0.0.1 (must not be): a zone that fails is unusable for the run.
Spamhaus refuses public resolvers and DoH: use --blocklist-dns udp://<your resolver>
or a DQS key (config blocklists.keys). Exit: 2 listed (abuse), 1 policy listing
only, 3 unknown, 0 clean.`,
    )
    .action(async (ipArgs: string[], opts) => {
      const ips = ipArgs.map((ip) => {
        const c = canonicalIp(ip.trim());
        if (!c) throw new UsageError(`${JSON.stringify(ip)} is not an IPv4 or IPv6 address`);
        return c;
      });
      const loaded = opts.config ? await loadConfigOrExit(opts.config, io.env) : undefined;
      const baseDir = loaded?.baseDir ?? process.cwd();
      await withDns({ cli: opts, config: loaded?.dns, baseDir }, async (dns) => {
        const { zones, explicit } = selectZones(opts.zone, loaded?.blocklists?.zones);
        await withBlocklists(
          {
            main: dns,
            zones,
            explicit,
            blocklistDns: opts.blocklistDns ?? loaded?.blocklists?.resolvers,
            dnsConfig: loaded?.dns,
            baseDir,
            keys: loaded?.blocklists?.keys ?? {},
          },
          async (setup) => {
            const run = await runBlocklists({
              ips,
              plans: setup.plans,
              ...(loaded?.blocklists?.budget ? { budget: loaded.blocklists.budget } : {}),
              ...(loaded?.blocklists?.concurrency ? { maxConcurrent: loaded.blocklists.concurrency } : {}),
              ...(loaded?.blocklists?.perZoneConcurrency
                ? { perZoneConcurrency: loaded.blocklists.perZoneConcurrency }
                : {}),
            });
            await loaded?.blocklists?.flush?.();
            const outcomes = run.ips.map((r) => blocklistOutcome(r));
            const status = worstStatus(outcomes.map((o) => o.status));
            if (opts.json) {
              const doc = blocklistDocument(run, outcomes, status, {
                resolvers: setup.description,
                stats: setup.resolver.stats(),
              });
              write(io.stdout, `${JSON.stringify(doc, null, 2)}\n`);
            } else {
              const r = renderOptions(io, opts);
              const lines: string[] = [];
              for (const o of outcomes) lines.push(...renderCheck(o, r, ''));
              lines.push('', `Zones (via ${clean(setup.description)}):`);
              for (const h of run.health) {
                const v6 = h.ipv6 ? `; IPv6 ${h.ipv6.status}${h.ipv6.reason ? `: ${h.ipv6.reason}` : ''}` : '';
                lines.push(`  ${h.zoneId.padEnd(17)} ${h.status}${h.reason ? `: ${clean(h.reason)}` : ''}${v6}`);
              }
              lines.push(renderDnsLine(setup.description, setup.resolver.stats()));
              write(io.stdout, `${lines.join('\n')}\n`);
            }
            setExit(exitCodeFor(status));
          },
        );
      });
    });

  dnsOptions(
    program
      .command('mx <domain>')
      .description('check that the MX records of one domain point at its Exchange Online endpoint')
      .option('--expected-mx <host>', 'the MX host the Microsoft 365 admin centre shows, when not the default pattern')
      .option('--json', 'print JSON (schema: README)')
      .option('-v, --verbose', 'also show informational findings')
      .option('--no-color', 'no colours even on a terminal'),
  ).action(async (domainArg: string, opts) => {
    const domain = validDomainOrThrow(domainArg);
    await withDns({ cli: opts, baseDir: process.cwd() }, async (dns) => {
      const outcome: CheckOutcome = await mxCheck.run(
        { domain, relayIps: [], ...(opts.expectedMx ? { expectedMx: validDomainOrThrow(opts.expectedMx) } : {}) },
        makeCtx(dns.resolver),
      );
      if (opts.json) {
        write(
          io.stdout,
          `${JSON.stringify(outcomeDocument(outcome, dns.description, dns.resolver.stats()), null, 2)}\n`,
        );
      } else {
        const lines = [`MX of ${clean(domain)}`, ...renderCheck(outcome, renderOptions(io, opts), '  ')];
        const records = Array.isArray(outcome.details?.records) ? outcome.details.records : [];
        for (const rec of records) {
          if (rec && typeof rec === 'object' && 'exchange' in rec) {
            lines.push(`  MX ${String(rec.priority).padStart(5)} ${clean(String(rec.exchange) || '.')}`);
          }
        }
        lines.push(renderDnsLine(dns.description, dns.resolver.stats()));
        write(io.stdout, `${lines.join('\n')}\n`);
      }
      setExit(exitCodeFor(outcome.status as CheckStatus));
    });
  });

  return program;
}

function validDomainOrThrow(input: string): string {
  const d = input.trim().toLowerCase().replace(/\.$/, '');
  const ok = d.length <= 253 && d.includes('.') && d.split('.').every((l) => /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/.test(l));
  if (!ok) throw new UsageError(`${JSON.stringify(input)} is not a valid domain name`);
  return d;
}

// Config loading is imported lazily so `spf`/`mx` work without touching the config module.
async function loadConfigOrExit(path: string, env: NodeJS.ProcessEnv) {
  const { loadForCli } = await import('./config-bridge.ts');
  return loadForCli(path, env);
}

function selectTenants<T extends { id: string }>(all: readonly T[], wanted: readonly string[] | undefined): T[] {
  if (!wanted || wanted.length === 0) return [...all];
  const unknown = wanted.filter((id) => !all.some((t) => t.id === id));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown tenant ${unknown.map((u) => JSON.stringify(u)).join(', ')}; the config has: ${all.map((t) => t.id).join(', ')}`,
    );
  }
  return all.filter((t) => wanted.includes(t.id));
}

/** Run the CLI; resolves to the exit status. Never calls process.exit itself (tests call it in-process). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exit = 0;
  const program = buildProgram(io, (c) => {
    exit = c;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') {
        return 0;
      }
      return 3;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`relaywatch: ${err.message}\n`);
      return 3;
    }
    if (err instanceof Error && err.name === 'ConfigError') {
      io.stderr.write(`${err.message}\n`);
      return 3;
    }
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr.write(`relaywatch: unexpected error (please report it): ${message}\n`);
    return 3;
  }
}

/** Entry point for bin/relaywatch.js. */
export async function main(): Promise<void> {
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    now: () => new Date(),
  });
  process.exitCode = code;
}
