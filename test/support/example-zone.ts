/**
 * The DNS that examples/relaywatch.yaml describes in its comments, as unbound local-data: Contoso healthy, Fabrikam
 * with the known mistake (SPF still authorises the old address 198.51.100.7; the office now relays from
 * 198.51.100.23), Tailspin submission-only. Used by the CLI end-to-end tests to show the example means something.
 */
export const EXAMPLE_ZONES: ReadonlyArray<readonly [string, string]> = [
  ['example.', 'static'],
  ['protection.outlook.com.', 'static'],
];

export const EXAMPLE_LOCAL_DATA: readonly string[] = [
  'example. 300 IN SOA ns.example. hostmaster.example. 1 3600 600 86400 60',
  'spf.protection.outlook.com. 300 IN TXT "v=spf1 ip4:40.92.0.0/15 ip4:40.107.0.0/16 ip4:52.100.0.0/15 ip6:2a01:111:f400::/48 include:spfd.protection.outlook.com -all"',
  'spfd.protection.outlook.com. 300 IN TXT "v=spf1 ip4:51.4.72.0/24 ip4:51.5.72.0/24 -all"',
  'contoso.example. 300 IN TXT "v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all"',
  'contoso.example. 300 IN MX 0 contoso-example.mail.protection.outlook.com.',
  'contoso-example.mail.protection.outlook.com. 300 IN A 52.101.8.34',
  'fabrikam.example. 300 IN TXT "v=spf1 ip4:198.51.100.7 include:spf.protection.outlook.com -all"',
  'fabrikam.example. 300 IN MX 0 fabrikam-example.mail.protection.outlook.com.',
  'fabrikam-example.mail.protection.outlook.com. 300 IN A 52.101.8.35',
  'fabrikam-mail.example. 300 IN TXT "v=spf1 ip4:198.51.100.23 ip6:2001:db8:fab::25 include:spf.protection.outlook.com -all"',
  'fabrikam-mail.example. 300 IN MX 0 fabrikam-mail-example.mail.protection.outlook.com.',
  'fabrikam-mail-example.mail.protection.outlook.com. 300 IN A 52.101.8.36',
  'tailspin.example. 300 IN TXT "v=spf1 include:spf.protection.outlook.com -all"',
  'tailspin.example. 300 IN MX 0 tailspin-example.mail.protection.outlook.com.',
  'tailspin-example.mail.protection.outlook.com. 300 IN A 52.101.8.37',
];
