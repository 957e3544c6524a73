/** `relaywatch spf`. */
import type { Command } from 'commander';
import { spfCheck } from '../../checks/spf.ts';
import { canonicalIp } from '../../domain/ip.ts';
import { exitCodeFor } from '../../domain/outcome.ts';
import { type CliIo, dnsOptions, makeCtx, renderOptions, validDomainOrThrow, write } from '../common.ts';
import { safeJson, spfDocument } from '../json.ts';
import { clean, renderCheck, renderDnsLine } from '../render.ts';
import { UsageError, withDns } from '../wiring.ts';

export function registerSpf(program: Command, io: CliIo, setExit: (code: number) => void): void {
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
          write(io.stdout, `${safeJson(doc)}\n`);
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
}
