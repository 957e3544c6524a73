/** `relaywatch mx`. */
import type { Command } from 'commander';
import { mxCheck } from '../../checks/mx.ts';
import { type CheckOutcome, type CheckStatus, exitCodeFor } from '../../domain/outcome.ts';
import { type CliIo, dnsOptions, makeCtx, renderOptions, validDomainOrThrow, write } from '../common.ts';
import { outcomeDocument } from '../json.ts';
import { clean, renderCheck, renderDnsLine } from '../render.ts';
import { withDns } from '../wiring.ts';

export function registerMx(program: Command, io: CliIo, setExit: (code: number) => void): void {
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
}
