/** `relaywatch blocklist`. */
import type { Command } from 'commander';
import { type BlocklistRun, type IpResult, runBlocklists } from '../../blocklist/engine.ts';
import { ZONES } from '../../blocklist/registry.ts';
import { blocklistOutcome } from '../../checks/blocklist.ts';
import { parseRelayIp } from '../../config/relay-ip.ts';
import { canonicalIp } from '../../domain/ip.ts';
import { type CheckOutcome, exitCodeFor, worstStatus } from '../../domain/outcome.ts';
import { cliBudgetReservation } from '../budget.ts';
import {
  blocklistDnsOption,
  type CliIo,
  dnsOptions,
  loadConfigOrExit,
  renderOptions,
  write,
  zoneOption,
} from '../common.ts';
import { blocklistDocument, safeJson } from '../json.ts';
import { clean, renderCheck, renderDnsLine } from '../render.ts';
import { selectCliZones, UsageError, withBlocklists, withDns } from '../wiring.ts';

export function registerBlocklist(program: Command, io: CliIo, setExit: (code: number) => void): void {
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
or a DQS key (config blocklists.keys). A private or reserved address (10.0.0.0/8,
loopback, link-local, CGNAT…) is not asked, and an address no zone applies to (IPv6
with only IPv4 zones) is not checked either: both are reported as NOT CHECKED with
the reason, never as a pass. Exit: 2 listed (abuse), 1 policy listing only, 3 unknown
or not checked, 0 clean.`,
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
        const { zones, explicit } = selectCliZones(opts.zone, loaded?.blocklists?.zones);
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
            // Public blocklists list public addresses only: a private or reserved one is not asked (the query
            // would tell the list operator about the internal network and could only come back clean).
            const refused = new Map(ips.flatMap((ip) => notPublic(ip)));
            const toAsk = ips.filter((ip) => !refused.has(ip));
            const reserve = cliBudgetReservation(loaded, {}, io.env, io.now, (t) => write(io.stderr, t));
            const budget = reserve
              ? await reserve(
                  toAsk.length,
                  setup.plans.map((p) => p.zone.id),
                )
              : undefined;
            const asked = await runBlocklists({
              ips: toAsk,
              plans: setup.plans,
              ...(budget ? { budget } : {}),
              ...(loaded?.blocklists?.concurrency ? { maxConcurrent: loaded.blocklists.concurrency } : {}),
              ...(loaded?.blocklists?.perZoneConcurrency
                ? { perZoneConcurrency: loaded.blocklists.perZoneConcurrency }
                : {}),
            });
            const byIp = new Map(asked.ips.map((r) => [r.ip, r]));
            const run: BlocklistRun = {
              ...asked,
              ips: ips.map(
                (ip): IpResult =>
                  byIp.get(ip) ?? { ip, zones: [], skipped: [{ zoneId: '*', why: refused.get(ip) ?? 'not asked' }] },
              ),
            };
            const outcomes = run.ips.map((r) => notCheckedIsUnknown(blocklistOutcome(r), r));
            const status = worstStatus(outcomes.map((o) => o.status));
            if (opts.json) {
              const doc = blocklistDocument(run, outcomes, status, {
                resolvers: setup.description,
                stats: setup.resolver.stats(),
              });
              write(io.stdout, `${safeJson(doc)}\n`);
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
}

/** `[ip, reason]` when the address is private or reserved (public lists never list it); nothing otherwise. */
function notPublic(ip: string): Array<[string, string]> {
  const r = parseRelayIp(ip);
  return r.ok
    ? []
    : [
        [
          ip,
          `${ip} ${r.reason.replace(/; Exchange Online sees.*$/, '')}: public blocklists list public addresses only`,
        ],
      ];
}

/**
 * An address that no zone was asked about has no verdict: asked for it by name, that is "could not decide" (exit 3),
 * never a pass. The finding says why (private address, IPv6 against IPv4-only zones).
 */
function notCheckedIsUnknown(o: CheckOutcome, r: IpResult): CheckOutcome {
  if (r.zones.length > 0) return o;
  const why = [...new Set(r.skipped.map((x) => x.why))].join('; ') || 'no zone applies';
  return {
    ...o,
    status: 'unknown',
    findings: [
      {
        code: 'blocklist-none-checked',
        severity: 'unknown',
        message: `${r.ip} was not checked against any blocklist: ${why}.`,
        evidence: { ip: r.ip, skipped: r.skipped.map((x) => ({ zone: x.zoneId, why: x.why })) },
      },
    ],
  };
}
