import { describe, expect, it } from 'vitest';
import { parseRelayIp, rangeContains, rangesOverlap } from '../../../shared/config/relay-ip.ts';

function ok(input: string) {
  const r = parseRelayIp(input);
  if (!r.ok) throw new Error(`${input} rejected: ${r.reason}`);
  return r.value;
}

function reason(input: string): string {
  const r = parseRelayIp(input);
  if (r.ok) throw new Error(`${input} accepted as ${r.value.text}`);
  return r.reason;
}

describe('parseRelayIp', () => {
  it.each([
    ['8.8.8.8', '8.8.8.8', 4, 32],
    [' 8.8.4.4 ', '8.8.4.4', 4, 32],
    ['8.8.8.8/32', '8.8.8.8', 4, 32],
    ['8.8.8.0/24', '8.8.8.0/24', 4, 24],
    ['8.8.8.248/29', '8.8.8.248/29', 4, 29],
    ['2a01:111:f400::25', '2a01:111:f400::25', 6, 128],
    ['2A01:0111:F400:0000:0000:0000:0000:0025', '2a01:111:f400::25', 6, 128],
    ['2a01:111:f400::/120', '2a01:111:f400::/120', 6, 120],
    ['2a01:111:f400::1/128', '2a01:111:f400::1', 6, 128],
    ['::ffff:8.8.8.8', '8.8.8.8', 4, 32],
    ['::ffff:8.8.8.0/120', '8.8.8.0/24', 4, 24],
  ])('accepts %j as %j', (input, text, family, prefix) => {
    const v = ok(input);
    expect(v).toMatchObject({ text, family, prefix });
    expect(v.documentation).toBeUndefined();
  });

  it.each([
    ['192.0.2.1', 'TEST-NET-1, RFC 5737'],
    ['198.51.100.23', 'TEST-NET-2, RFC 5737'],
    ['203.0.113.0/29', 'TEST-NET-3, RFC 5737'],
    ['2001:db8::25', '2001:db8::/32, RFC 3849'],
    ['3fff:1::25', '3fff::/20, RFC 9637'],
    ['::ffff:203.0.113.10', 'TEST-NET-3, RFC 5737'],
  ])('accepts documentation address %j and says which range it is in', (input, documentation) => {
    expect(ok(input).documentation).toBe(documentation);
  });

  it.each([
    ['10.1.2.3', "is a private address (RFC 1918); Exchange Online sees the site's public egress IP"],
    ['172.16.0.1', "is a private address (RFC 1918); Exchange Online sees the site's public egress IP"],
    ['192.168.1.20', "is a private address (RFC 1918); Exchange Online sees the site's public egress IP"],
    ['127.0.0.1', "is a loopback address (127.0.0.0/8); Exchange Online sees the site's public egress IP"],
    ['169.254.10.1', "is a link-local address (169.254.0.0/16); Exchange Online sees the site's public egress IP"],
    [
      '100.64.0.1',
      "is a carrier-grade NAT address (RFC 6598, 100.64.0.0/10); Exchange Online sees the ISP's public address",
    ],
    ['224.0.0.1', 'is a multicast address (224.0.0.0/4); a sender always has a unicast address'],
    ['0.0.0.0', 'is in 0.0.0.0/8 ("this network"); Exchange Online sees the site\'s public egress IP'],
    ['255.255.255.255', "is the broadcast address; Exchange Online sees the site's public egress IP"],
    ['240.0.0.1', "is in a reserved range (RFC 6890); Exchange Online sees the site's public egress IP"],
    ['198.18.0.1', "is in a reserved range (RFC 6890); Exchange Online sees the site's public egress IP"],
    [
      'fd00::1',
      "is a unique local address (fc00::/7, the IPv6 private range); Exchange Online sees the site's public egress IP",
    ],
    ['fe80::1', "is a link-local address (fe80::/10); Exchange Online sees the site's public egress IP"],
    ['::1', "is the loopback address; Exchange Online sees the site's public egress IP"],
    ['::', "is the unspecified address; Exchange Online sees the site's public egress IP"],
    ['ff02::1', 'is a multicast address (ff00::/8); a sender always has a unicast address'],
    ['64:ff9b::808:808', "is a NAT64 address (64:ff9b::/96); Exchange Online sees the NAT64 gateway's IPv4 address"],
    [
      '2002:808:808::1',
      "is a 6to4 address (2002::/16, deprecated by RFC 7526); Exchange Online sees the site's public egress IP",
    ],
    ['4000::1', "is outside the global unicast range 2000::/3; Exchange Online sees the site's public egress IP"],
    ['::8.8.8.8', "is outside the global unicast range 2000::/3; Exchange Online sees the site's public egress IP"],
    ['::ffff:10.0.0.1', "is a private address (RFC 1918); Exchange Online sees the site's public egress IP"],
    [
      '10.0.0.0/24',
      "contains 10.0.0.0, which is a private address (RFC 1918); Exchange Online sees the site's public egress IP",
    ],
  ])('rejects %j: %s', (input, why) => {
    expect(reason(input)).toBe(why);
  });

  it('says which network a range with host bits set means', () => {
    expect(reason('203.0.113.5/29')).toBe('has host bits set; the network is 203.0.113.0/29');
    expect(reason('2001:db8::25/120')).toBe('has host bits set; the network is 2001:db8::/120');
  });

  it('accepts ranges of at most 256 addresses', () => {
    expect(ok('8.8.8.0/24').prefix).toBe(24);
    const big =
      'is a range of more than 256 addresses; relayIps take single addresses and ranges up to /24 (IPv4) or /120 (IPv6)';
    expect(reason('8.8.8.0/23')).toBe(big);
    expect(reason('8.0.0.0/8')).toBe(big);
    expect(reason('0.0.0.0/0')).toBe(big);
    expect(reason('2a01:111:f400::/119')).toBe(big);
    expect(reason('2a01:111::/64')).toBe(big);
    expect(reason('::ffff:8.8.0.0/112')).toBe(big);
    expect(reason('::ffff:0:0/90')).toBe(big);
  });

  it.each([
    '8.8.8',
    '127.1',
    '0x7f.0.0.1',
    '010.0.0.1',
    '8.8.8.256',
    '8.8.8.8/33',
    '8.8.8.8/024',
    '8.8.8.8/',
    '8.8.8.8/24/24',
    'fe80::1%eth0',
    '2001:db8:::1',
    'gggg::1',
    '[2001:db8::1]',
    'contoso.com',
    '',
    '1'.repeat(100),
  ])('rejects the malformed %j', (input) => {
    expect(reason(input)).toMatch(/^(is not an IP address or CIDR range|has an invalid prefix length)/);
  });
});

describe('rangesOverlap / rangeContains', () => {
  it('knows when two entries share addresses', () => {
    expect(rangesOverlap(ok('8.8.8.0/29'), ok('8.8.8.5'))).toBe(true);
    expect(rangesOverlap(ok('8.8.8.5'), ok('8.8.8.0/29'))).toBe(true);
    expect(rangesOverlap(ok('8.8.8.8/29'), ok('8.8.8.0/29'))).toBe(false);
    expect(rangesOverlap(ok('8.8.8.8'), ok('2a01:111::8'))).toBe(false);
    expect(rangeContains(ok('8.8.8.0/24'), ok('8.8.8.128/25'))).toBe(true);
    expect(rangeContains(ok('8.8.8.128/25'), ok('8.8.8.0/24'))).toBe(false);
  });
});
