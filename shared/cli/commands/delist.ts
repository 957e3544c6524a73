/** `relaywatch delist`: the ready-to-send delisting request for a Microsoft-listed IP. */
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { spfCheck } from '../../checks/spf.ts';
import { renderMicrosoftDelist } from '../../delist/packet.ts';
import { canonicalIp } from '../../domain/ip.ts';
import { type CliIo, dnsOptions, loadConfigOrExit, makeCtx, write } from '../common.ts';
import { UsageError, withDns } from '../wiring.ts';

/** An NDR or SMTP reply pasted into a file: a few KB; anything larger is not one. */
const MAX_REPLY_BYTES = 64 * 1024;

export function registerDelist(program: Command, io: CliIo, setExit: (code: number) => void): void {
  dnsOptions(
    program
      .command('delist')
      .description("prepare the delisting request for an IP on Microsoft's blocklist (5.7.606-649 / 5.7.511)")
      .requiredOption('--ip <address>', 'the listed public IP (the one the NDR names)')
      .requiredOption('--tenant <id>', 'the tenant whose devices send from it')
      .option('-c, --config <file>', 'configuration file', 'relaywatch.yaml')
      .option('--reply-file <file>', 'the NDR or SMTP reply, as received (its recipient rules pick the address)')
      .option(
        '--remediation <text>',
        'what was done about the cause (repeatable); goes into the request',
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      )
      .option('--out <file.eml>', 'where to write the .eml (default: delist-<ip>-<tenant>.eml)')
      .option('--markdown', 'print the request as Markdown (for a ticket) instead of plain text')
      .option('--json', 'print { to, subject, eml, code } as JSON'),
  )
    .addHelpText(
      'after',
      `
The request carries the IP, the tenant and its domains, the reply with its UTC time, the
evidence that the IP is legitimate (each domain's SPF record and its result for the IP, the
relay IPs configured), the remediation you confirm and the MSP contact, plus the
sender.office.com self-service steps. Nothing is sent: open the .eml, check it, send it.

Example:
  $ relaywatch delist --ip 203.0.113.10 --tenant contoso --reply-file ndr.txt \\
      --remediation "Removed the compromised workstation" --out contoso.eml`,
    )
    .action(async (opts) => {
      const ip = canonicalIp(String(opts.ip).trim());
      if (!ip) throw new UsageError(`--ip ${JSON.stringify(opts.ip)} is not an IPv4 or IPv6 address`);
      const loaded = await loadConfigOrExit(opts.config, io.env);
      const tenant = loaded.tenants.find((t) => t.id === opts.tenant);
      if (!tenant) {
        throw new UsageError(
          `unknown tenant ${JSON.stringify(opts.tenant)}; the config has: ${loaded.tenants.map((t) => t.id).join(', ')}`,
        );
      }
      let replyText = '(no reply was supplied: paste the full NDR text here before sending)';
      let replyAt = io.now();
      if (opts.replyFile) {
        let bytes: Buffer;
        try {
          bytes = await readFile(opts.replyFile);
        } catch (err) {
          throw new UsageError(`cannot read --reply-file ${JSON.stringify(opts.replyFile)}: ${(err as Error).message}`);
        }
        if (bytes.length > MAX_REPLY_BYTES) {
          throw new UsageError(`--reply-file is larger than ${MAX_REPLY_BYTES / 1024} KiB: is it the NDR?`);
        }
        replyText = bytes.toString('utf8');
        replyAt = io.now();
      }
      await withDns({ cli: opts, config: loaded.dns, baseDir: loaded.baseDir }, async (dns) => {
        const ctx = makeCtx(dns.resolver);
        const spf = await Promise.all(
          tenant.domains.map(async (d) => {
            const outcome = await spfCheck.run({ domain: d.name, relayIps: [ip] }, ctx);
            const record = typeof outcome.details?.record === 'string' ? outcome.details.record : null;
            const evaluations = Array.isArray(outcome.details?.evaluations) ? outcome.details.evaluations : [];
            const first = evaluations[0];
            const result =
              first && typeof first === 'object' && !Array.isArray(first) && typeof first.result === 'string'
                ? first.result
                : outcome.status === 'unknown'
                  ? 'unknown (DNS did not answer)'
                  : 'none (no SPF record)';
            return { domain: d.name, record, resultForIp: result };
          }),
        );
        const packet = await renderMicrosoftDelist(
          {
            ip,
            tenant: { id: tenant.id, name: tenant.name },
            domains: tenant.domains.map((d) => d.name),
            reply: { text: replyText, at: replyAt },
            evidence: { spf, relayIps: tenant.relayIps },
            remediation: opts.remediation ?? ['(to be confirmed by the MSP before sending)'],
            msp: loaded.msp,
          },
          { now: io.now() },
        );
        const out = opts.out ?? `delist-${ip.replaceAll(':', '_')}-${tenant.id}.eml`;
        try {
          await writeFile(out, packet.eml);
        } catch (err) {
          throw new UsageError(`cannot write ${JSON.stringify(out)}: ${(err as Error).message}`, { cause: err });
        }
        if (opts.json) {
          write(
            io.stdout,
            `${JSON.stringify({ schema: 'relaywatch.delist/v1', to: packet.to, subject: packet.subject, code: packet.code, eml: out, spf }, null, 2)}\n`,
          );
        } else {
          write(io.stdout, `${opts.markdown ? packet.markdown : packet.text}\n`);
          write(io.stderr, `wrote ${out} (to ${packet.to})\n`);
        }
        setExit(0);
      });
    });
}
