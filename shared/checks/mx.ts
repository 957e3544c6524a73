/**
 * The MX check: does the domain's mail go to its Exchange Online endpoint, which is also the relay endpoint devices use
 * (`<domain-key>.mail.protection.outlook.com:25`, or `<domain-key>.<zone>.mx.microsoft` for domains provisioned for DNSSEC)?
 * Findings codes are stable (README: "MX findings").
 */
import { type CheckOutcome, type Evidence, type Finding, finding, statusOf } from '../domain/outcome.ts';
import { type DnsResolver, describeResult, isFailure, type MxData, normaliseName } from '../ports/dns-resolver.ts';
import type { CheckContext, DomainCheck, DomainTarget } from './types.ts';

export const M365_MX_SUFFIX = '.mail.protection.outlook.com';
export const M365_DNSSEC_MX_SUFFIX = '.mx.microsoft';

/** Recognisable mail providers by MX host suffix, for the "mixed providers" finding. */
const PROVIDERS: ReadonlyArray<readonly [suffix: string, name: string]> = [
  [M365_MX_SUFFIX, 'Microsoft 365'],
  [M365_DNSSEC_MX_SUFFIX, 'Microsoft 365'],
  ['.google.com', 'Google Workspace'],
  ['.googlemail.com', 'Google Workspace'],
  ['.mimecast.com', 'Mimecast'],
  ['.mimecast.co.za', 'Mimecast'],
  ['.pphosted.com', 'Proofpoint'],
  ['.ppe-hosted.com', 'Proofpoint Essentials'],
  ['.barracudanetworks.com', 'Barracuda'],
  ['.sophos.com', 'Sophos'],
  ['.messagelabs.com', 'Broadcom Email Security.cloud'],
  ['.mailcontrol.com', 'Forcepoint'],
  ['.iphmx.com', 'Cisco Secure Email'],
  ['.trendmicro.com', 'Trend Micro'],
  ['.trendmicro.eu', 'Trend Micro'],
  ['.hornetsecurity.com', 'Hornetsecurity'],
  ['.antispamcloud.com', 'SpamExperts'],
  ['.zoho.com', 'Zoho'],
];

export function providerOf(host: string): string {
  const h = `.${host}`;
  for (const [suffix, name] of PROVIDERS) if (h.endsWith(suffix)) return name;
  const labels = host.split('.');
  return labels.slice(-2).join('.') || host;
}

export function isM365Host(host: string): boolean {
  return host.endsWith(M365_MX_SUFFIX) || host.endsWith(M365_DNSSEC_MX_SUFFIX);
}

/**
 * The keys Microsoft derives from a domain for its MX host: the domain with dots as dashes (`contoso.co.uk` →
 * `contoso-co-uk`). For domains that already contain hyphens both the kept and the removed form are seen in the wild,
 * so both are accepted.
 */
export function m365DomainKeys(domain: string): string[] {
  const keep = domain.replaceAll('.', '-');
  const removed = domain.replaceAll('-', '').replaceAll('.', '-');
  return keep === removed ? [keep] : [keep, removed];
}

/** Does an M365 MX host belong to this domain by Microsoft's naming pattern? */
export function matchesDefaultPattern(domain: string, host: string): boolean {
  const first = host.split('.')[0] ?? '';
  return m365DomainKeys(domain).includes(first) && isM365Host(host);
}

type AddressState = 'resolves' | 'unresolvable' | 'unknown';

/**
 * Does an MX host have an address? A first; AAAA only when A has none (an IPv6-only host costs one more round trip,
 * every other host one query less: a quarter of a monitoring cycle's queries).
 */
async function addressState(resolver: DnsResolver, host: string): Promise<{ state: AddressState; detail?: string }> {
  const a = await resolver.query(host, 'A');
  if (a.kind === 'answer') return { state: 'resolves' };
  const aaaa = await resolver.query(host, 'AAAA');
  if (aaaa.kind === 'answer') return { state: 'resolves' };
  if (isFailure(a)) return { state: 'unknown', detail: describeResult(a) };
  if (isFailure(aaaa)) return { state: 'unknown', detail: describeResult(aaaa) };
  return { state: 'unresolvable', detail: a.kind === 'nxdomain' ? 'NXDOMAIN' : 'no A/AAAA records' };
}

export function expectedHostText(domain: string): string {
  return `${m365DomainKeys(domain)[0]}${M365_MX_SUFFIX}`;
}

export const mxCheck: DomainCheck = {
  kind: 'mx',
  title: 'MX records point at the Exchange Online endpoint (the relay endpoint), resolve, and are preferred',
  async run(target: DomainTarget, ctx: CheckContext): Promise<CheckOutcome> {
    const started = ctx.now();
    const domain = normaliseName(target.domain);
    const expected = target.expectedMx ? normaliseName(target.expectedMx) : undefined;
    const findings: Finding[] = [];
    const done = (details: { [key: string]: Evidence[] | string }): CheckOutcome => ({
      kind: 'mx',
      subject: domain,
      status: statusOf(findings),
      findings,
      details,
      durationMs: ctx.now() - started,
    });

    const r = await ctx.resolver.query(domain, 'MX');
    if (isFailure(r)) {
      findings.push(
        finding('mx-dns-unknown', 'unknown', `Could not read the MX records of ${domain}: ${describeResult(r)}.`, {
          domain,
        }),
      );
      return done({ records: [] });
    }
    if (r.kind === 'nxdomain') {
      findings.push(finding('mx-domain-nxdomain', 'error', `${domain} does not exist in DNS (NXDOMAIN).`, { domain }));
      return done({ records: [] });
    }
    if (r.kind === 'nodata') {
      findings.push(
        finding(
          'mx-missing',
          'error',
          `${domain} has no MX records; add "MX 0 ${expected ?? expectedHostText(domain)}" (the host the Microsoft 365 admin centre shows for the domain).`,
          { domain },
        ),
      );
      return done({ records: [] });
    }

    const records: MxData[] = [...r.records.map((x) => x.data)].sort((a, b) => a.priority - b.priority);
    const details: { records: Evidence[]; relayEndpoint?: string } = {
      records: records.map((m) => ({ priority: m.priority, exchange: m.exchange })),
    };
    const nulls = records.filter((m) => m.exchange === '');
    if (nulls.length > 0) {
      findings.push(
        nulls.length === records.length
          ? finding(
              'mx-null',
              'error',
              `${domain} publishes a null MX (RFC 7505): it declares that it receives no mail. A Microsoft 365 domain needs "MX 0 ${expected ?? expectedHostText(domain)}".`,
              { domain },
            )
          : finding(
              'mx-null-mixed',
              'error',
              `${domain} mixes a null MX with other MX records; RFC 7505 says a null MX must be the only one.`,
              { domain },
            ),
      );
      if (nulls.length === records.length) return done(details);
    }
    const hosts = records.filter((m) => m.exchange !== '');

    const states = await Promise.all(hosts.map((m) => addressState(ctx.resolver, m.exchange)));
    hosts.forEach((m, i) => {
      const s = states[i]!;
      if (s.state === 'unresolvable') {
        findings.push(
          finding(
            'mx-host-unresolvable',
            isM365Host(m.exchange) || hosts.length === 1 ? 'error' : 'warning',
            `MX host ${m.exchange} (priority ${m.priority}) has no address (${s.detail}); senders cannot deliver to it.`,
            { host: m.exchange, priority: m.priority },
          ),
        );
      } else if (s.state === 'unknown') {
        findings.push(
          finding('mx-host-unknown', 'unknown', `Could not resolve MX host ${m.exchange}: ${s.detail}.`, {
            host: m.exchange,
          }),
        );
      }
    });

    const m365 = hosts.filter((m) => isM365Host(m.exchange));
    const minPriority = Math.min(...hosts.map((m) => m.priority));
    if (expected) {
      if (!hosts.some((m) => m.exchange === expected)) {
        findings.push(
          finding(
            'mx-expected-missing',
            'error',
            `The configured Exchange Online host ${expected} is not among the MX records of ${domain} (${hosts.map((m) => m.exchange).join(', ')}).`,
            { expected, found: hosts.map((m) => m.exchange) },
          ),
        );
      }
    }
    if (m365.length === 0) {
      findings.push(
        finding(
          'mx-m365-missing',
          'error',
          `No MX record of ${domain} points at Exchange Online; expected ${expected ?? expectedHostText(domain)} (or the *.mx.microsoft host the admin centre shows).`,
          { domain, expected: expected ?? expectedHostText(domain) },
        ),
      );
    } else {
      const best = m365[0]!;
      details.relayEndpoint = best.exchange;
      if (!expected && !m365.some((m) => matchesDefaultPattern(domain, m.exchange))) {
        findings.push(
          finding(
            'mx-m365-host-unexpected',
            'warning',
            `The Exchange Online MX host ${best.exchange} does not follow Microsoft's pattern for ${domain} (${expectedHostText(domain)}); it may belong to another domain or tenant. If the admin centre shows this host, set expectedMx for the domain.`,
            { host: best.exchange, pattern: expectedHostText(domain) },
          ),
        );
      }
      if (best.priority > minPriority) {
        const first = hosts.filter((m) => m.priority === minPriority).map((m) => m.exchange);
        findings.push(
          finding(
            'mx-m365-not-preferred',
            'warning',
            `Exchange Online (${best.exchange}, priority ${best.priority}) is not the preferred MX; ${first.join(', ')} receive mail first. If that is a filtering service in front of Microsoft 365, turn on Enhanced Filtering for Connectors; devices still relay to ${best.exchange} directly.`,
            { m365: best.exchange, preferred: first },
          ),
        );
      }
      findings.push(
        finding(
          'mx-m365-ok',
          'info',
          `MX points at Exchange Online: ${best.exchange} (priority ${best.priority}); devices relay to ${best.exchange}:25.`,
          { host: best.exchange, priority: best.priority },
        ),
      );
    }
    const providers = [...new Set(hosts.map((m) => providerOf(m.exchange)))];
    if (providers.length > 1) {
      findings.push(
        finding(
          'mx-mixed-providers',
          'warning',
          `The MX records of ${domain} point at several providers (${providers.join(', ')}): mail may bypass Microsoft 365 filtering or be split between systems.`,
          { providers },
        ),
      );
    }
    return done(details);
  },
};
