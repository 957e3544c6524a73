/** `relaywatch delist`: the ready-to-send delisting request for a Microsoft-listed IP. */
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { zoneById } from '../../blocklist/registry.ts';
import { spfCheck } from '../../checks/spf.ts';
import { parseRelayIp, rangeContains } from '../../config/relay-ip.ts';
import { type DnsblListing, renderDnsblDelist, renderMicrosoftDelist } from '../../delist/packet.ts';
import { canonicalIp } from '../../domain/ip.ts';
import { type CliIo, dnsOptions, loadConfigOrExit, makeCtx, write } from '../common.ts';
import type { CliConfig } from '../config-bridge.ts';
import { safeJson } from '../json.ts';
import { clean } from '../render.ts';
import { selectCliZones, UsageError, withDns } from '../wiring.ts';

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
      .option(
        '--zone <zone>',
        'instead of the Microsoft request: the removal guidance of this DNS blocklist (registry id or zone name; repeatable)',
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      )
      .option('--markdown', 'print the request as Markdown (for a ticket) instead of plain text')
      .option('--json', 'print { to, subject, eml, code } as JSON'),
  )
    .addHelpText(
      'after',
      `
The request carries the IP, the tenant and its domains, the reply with its UTC time, the
evidence (each domain's SPF record and its result for the IP, the relay IPs configured), the
remediation you confirm and the MSP contact, plus the sender.office.com self-service steps.
Nothing is sent: open the .eml, check it, send it.

Refused or questioned: a private or reserved --ip (refused: Microsoft lists public addresses);
an --ip that is none of the tenant's relayIps (a warning, and the request says so instead of
calling the SPF results evidence that the IP is legitimate); a --reply-file that names another
IP than --ip (refused: a request must be about the address Microsoft listed).

With --zone, the removal guidance of a DNS blocklist instead (the same text alerts carry: the
list's removal page, what to prepare), as text, --markdown or --json; no .eml, since the
lists take requests through their own forms.

Exit status: 0 written or shown (warnings on stderr), 3 a usage or configuration error.

Examples:
  $ relaywatch delist --ip 203.0.113.10 --tenant contoso --reply-file ndr.txt \\
      --remediation "Removed the compromised workstation" --out contoso.eml
  $ relaywatch delist --zone spamcop --ip 203.0.113.10 --tenant contoso --markdown`,
    )
    .action(async (opts) => {
      const ip = canonicalIp(String(opts.ip).trim());
      if (!ip) throw new UsageError(`--ip ${JSON.stringify(opts.ip)} is not an IPv4 or IPv6 address`);
      const publicIp = parseRelayIp(ip);
      if (!publicIp.ok) {
        throw new UsageError(
          `--ip ${ip} ${publicIp.reason.replace(/; Exchange Online sees.*$/, '')}: blocklists list public addresses only; use the public IP the NDR names (e.g. "banned sending IP [203.0.113.7]")`,
        );
      }
      const loaded = await loadConfigOrExit(opts.config, io.env);
      const tenant = loaded.tenants.find((t) => t.id === opts.tenant);
      if (!tenant) {
        throw new UsageError(
          `unknown tenant ${JSON.stringify(opts.tenant)}; the config has: ${loaded.tenants.map((t) => t.id).join(', ')}`,
        );
      }
      const ipConfigured = tenant.relayIps.some((entry) => {
        const r = parseRelayIp(entry);
        return r.ok && rangeContains(r.value, publicIp.value);
      });
      const warnings: string[] = [];
      if (!ipConfigured) {
        warnings.push(
          `${ip} is none of the relay IPs configured for ${tenant.id} (${tenant.relayIps.join(', ') || 'none'}): check it is the customer's address${opts.zone ? '' : '; the request says so instead of calling the SPF results evidence that it is a legitimate sender'}`,
        );
      }
      if (opts.zone) {
        if (opts.replyFile || opts.out || opts.remediation) {
          throw new UsageError(
            '--reply-file, --out and --remediation belong to the Microsoft request; with --zone the list’s own form takes the request',
          );
        }
        for (const w of warnings) write(io.stderr, `warning: ${clean(w)}\n`);
        dnsblGuidance(io, loaded, { ip, tenant, zones: opts.zone, warnings, json: opts.json, markdown: opts.markdown });
        setExit(0);
        return;
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
        const named = ipsNamedIn(replyText);
        if (named.length > 0 && !named.includes(ip)) {
          throw new UsageError(
            `--reply-file names ${named.join(', ')}, not --ip ${ip}: a delisting request must be about the address Microsoft listed. Run again with --ip ${named[0]}, or with the reply that names ${ip}; nothing was written`,
          );
        }
      }
      for (const w of warnings) write(io.stderr, `warning: ${clean(w)}\n`);
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
            evidence: { spf, relayIps: tenant.relayIps, ipConfigured },
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
            `${safeJson({ schema: 'relaywatch.delist/v1', to: packet.to, subject: packet.subject, code: packet.code, eml: out, spf, ipConfigured, warnings })}\n`,
          );
        } else {
          write(io.stdout, `${opts.markdown ? packet.markdown : packet.text}\n`);
          write(io.stderr, `wrote ${out} (to ${packet.to})\n`);
        }
        setExit(0);
      });
    });
}

/** The IPs a Microsoft reply names in brackets after "IP" (`banned sending IP [203.0.113.7]`), canonical. */
export function ipsNamedIn(reply: string): string[] {
  const found: string[] = [];
  for (const m of reply.matchAll(/\bIP\s*\[([0-9A-Fa-f:.]{2,45})\]/g)) {
    const c = m[1] ? canonicalIp(m[1]) : null;
    if (c && !found.includes(c)) found.push(c);
  }
  return found;
}

/** `delist --zone`: the removal guidance alerts carry for a DNSBL listing, on demand (nothing is looked up or sent). */
function dnsblGuidance(
  io: CliIo,
  loaded: CliConfig,
  o: {
    ip: string;
    tenant: { id: string; name: string };
    zones: string[];
    warnings: string[];
    json?: boolean;
    markdown?: boolean;
  },
): void {
  const { zones } = selectCliZones(o.zones, loaded.blocklists?.zones);
  const fill = (url: string | null) => (url === null ? null : url.replaceAll('{ip}', encodeURIComponent(o.ip)));
  const listings: DnsblListing[] = zones.map((z) => ({
    zoneId: z.id,
    zone: z.name,
    operator: zoneById(z.id)?.operator ?? z.operator,
    codes: [],
    reason: null,
    removalUrl: fill(z.removalUrl),
    lookupUrl: fill(z.lookupUrl),
  }));
  const packet = renderDnsblDelist({ ip: o.ip, tenant: o.tenant, msp: loaded.msp, listings });
  if (o.json) {
    const doc = {
      schema: 'relaywatch.delist-dnsbl/v1',
      ip: o.ip,
      tenant: o.tenant,
      zones: listings.map((l) => ({
        zone: l.zoneId,
        name: l.zone,
        operator: l.operator,
        removalUrl: l.removalUrl,
        lookupUrl: l.lookupUrl,
      })),
      warnings: o.warnings,
      text: packet.text,
      markdown: packet.markdown,
    };
    write(io.stdout, `${safeJson(doc)}\n`);
    return;
  }
  const note =
    o.warnings.length > 0
      ? `Note: ${o.ip} is not one of the relay IPs configured for this customer: confirm it is theirs before asking for removal.\n`
      : '';
  const hint = `relaywatch blocklist ${o.ip} ${o.zones.map((z) => `--zone ${z}`).join(' ')}`;
  write(
    io.stdout,
    o.markdown
      ? `${packet.markdown}\n${note ? `> **${note.trim()}**\n\n` : ''}Codes and reason are not looked up here: \`${hint}\` shows the current listing.\n`
      : `${packet.text}\n${note}Codes and reason are not looked up here: ${hint} shows the current listing.\n`,
  );
}
