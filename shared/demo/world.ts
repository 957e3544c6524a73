/**
 * The small simulated Internet of `relaywatch demo`: the DNS that `examples/relaywatch.yaml` describes in its comments
 * (Contoso healthy; Fabrikam's SPF still authorising the old address 198.51.100.7 while the office relays from
 * 198.51.100.23; Tailspin on authenticated submission), a demo DNS blocklist, and how Exchange Online answers the
 * Contoso site's relay probe. Everything uses documentation names and addresses (RFC 2606, RFC 5737, RFC 3849).
 *
 * The story, one phase per simulated day:
 * - `healthy`: nothing is listed, Exchange Online accepts the relay probe;
 * - `listed`: a compromised PC behind Contoso's scanner-room NAT sent spam: the site's public IP 203.0.113.10 is on
 *   the demo blocklist (127.0.0.2 with a TXT reason) and Exchange Online refuses its relayed mail with
 *   `550 5.7.606 Access denied, banned sending IP [203.0.113.10]`;
 * - `removed`: the PC is cleaned, the listing is gone, the relay probe is accepted again.
 */
import type { ZoneDefinition } from '../blocklist/registry.ts';
import type { DemoRecord, ServedZone } from './dns-server.ts';

export type DemoPhase = 'healthy' | 'listed' | 'removed';

/** The Contoso site's public egress IP (relayIps of tenant `contoso` in the example). */
export const LISTED_IP = '203.0.113.10';

export const DEMO_DNSBL_ZONE = 'dnsbl.relaywatch-demo.example';
export const DEMO_DNSBL_ID = 'relaywatch-demo';

/** The demo blocklist, described with the same fields as the registry's zones (a `blocklists.custom` entry). */
export const DEMO_DNSBL: ZoneDefinition = {
  id: DEMO_DNSBL_ID,
  name: DEMO_DNSBL_ZONE,
  operator: 'relaywatch demo blocklist (simulated, on 127.0.0.1)',
  scope: 'ip',
  kind: 'abuse',
  codes: {
    '127.0.0.2': { meaning: 'spam-trap hits from this address', kind: 'abuse' },
    '127.0.0.4': { meaning: 'exploited or infected host (botnet traffic seen)', kind: 'abuse' },
  },
  errorCodes: { '127.255.255.254': 'query through a public resolver' },
  undocumentedCodes: 'listed',
  bitmask: false,
  ipv6: false,
  txt: true,
  key: null,
  registrationRequired: false,
  publicResolvers: 'refused',
  terms: 'simulated zone of relaywatch demo; it exists only while the demo runs',
  lookupUrl: `https://${DEMO_DNSBL_ZONE}/lookup?ip={ip}`,
  removalUrl: `https://${DEMO_DNSBL_ZONE}/removal?ip={ip}`,
  defaultEnabled: true,
  sources: [],
};

/** The TXT reason the demo blocklist gives for the listing (what real zones put there: why, when, where to look). */
export const LISTING_REASON = `Listed: ${LISTED_IP} delivered mail to spam traps (first seen 07:12 UTC, 1,840 hits); see https://${DEMO_DNSBL_ZONE}/lookup?ip=${LISTED_IP}`;

/** What Exchange Online answers a relayed message from a banned IP with (DOMAIN.md §2, the 5.7.606-649 range). */
export const BANNED_IP_REPLY = `550 5.7.606 Access denied, banned sending IP [${LISTED_IP}]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to  http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430)`;

export const SERVED_ZONES: readonly ServedZone[] = [
  { apex: 'example' },
  { apex: 'protection.outlook.com' },
  { apex: DEMO_DNSBL_ZONE },
];

const txt = (name: string, value: string): DemoRecord => ({ name, type: 'TXT', data: [value] });
const mx = (name: string, exchange: string): DemoRecord => ({ name, type: 'MX', data: { preference: 0, exchange } });
const a = (name: string, data: string): DemoRecord => ({ name, type: 'A', data });

/** The records `examples/relaywatch.yaml` describes (the same as the CLI tests' unbound zone, test/support/example-zone.ts). */
export const EXAMPLE_RECORDS: readonly DemoRecord[] = [
  txt(
    'spf.protection.outlook.com',
    'v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 ip6:2a01:111:f400::/48 include:spfd.protection.outlook.com -all',
  ),
  txt('spfd.protection.outlook.com', 'v=spf1 ip4:51.4.72.0/24 ip4:51.5.72.0/24 -all'),
  txt('contoso.example', 'v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all'),
  mx('contoso.example', 'contoso-example.mail.protection.outlook.com'),
  a('contoso-example.mail.protection.outlook.com', '52.101.8.34'),
  txt('fabrikam.example', 'v=spf1 ip4:198.51.100.7 include:spf.protection.outlook.com -all'),
  mx('fabrikam.example', 'fabrikam-example.mail.protection.outlook.com'),
  a('fabrikam-example.mail.protection.outlook.com', '52.101.8.35'),
  txt('fabrikam-mail.example', 'v=spf1 ip4:198.51.100.23 ip6:2001:db8:fab::25 include:spf.protection.outlook.com -all'),
  mx('fabrikam-mail.example', 'fabrikam-mail-example.mail.protection.outlook.com'),
  a('fabrikam-mail-example.mail.protection.outlook.com', '52.101.8.36'),
  txt('tailspin.example', 'v=spf1 include:spf.protection.outlook.com -all'),
  mx('tailspin.example', 'tailspin-example.mail.protection.outlook.com'),
  a('tailspin-example.mail.protection.outlook.com', '52.101.8.37'),
];

/** `10.113.0.203.dnsbl…` for 203.0.113.10: the RFC 5782 §2.1 query name. */
export function dnsblName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.${DEMO_DNSBL_ZONE}`;
}

/** The demo blocklist's records in a phase: the RFC 5782 §5 test points always, the listing only when listed. */
export function dnsblRecords(phase: DemoPhase): DemoRecord[] {
  const records: DemoRecord[] = [
    // 127.0.0.2 must be listed and 127.0.0.1 must not (it is simply absent: NXDOMAIN), so the health check passes.
    a(dnsblName('127.0.0.2'), '127.0.0.2'),
    txt(dnsblName('127.0.0.2'), 'RFC 5782 test point: always listed'),
  ];
  if (phase === 'listed') records.push(a(dnsblName(LISTED_IP), '127.0.0.2'), txt(dnsblName(LISTED_IP), LISTING_REASON));
  return records;
}

export function recordsFor(phase: DemoPhase): DemoRecord[] {
  return [...EXAMPLE_RECORDS, ...dnsblRecords(phase)];
}
