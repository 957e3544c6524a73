/**
 * Relay addresses as the configuration accepts them (pure).
 *
 * A relay entry is the public address Exchange Online sees when a site's printers and apps relay through the
 * tenant's inbound connector: the site's egress IP, or a small static block of them.
 *
 * Decisions (docs/configuration.md, "Relay addresses"):
 * - IPv4 and IPv6 single addresses; CIDR ranges of at most 256 addresses (IPv4 /24../32, IPv6 /120../128). A
 *   connector may list a small static block; anything larger is almost always a mistake (a whole ISP range).
 * - A range must be written as its network (`203.0.113.0/29`); with host bits set it is an error naming the network.
 *   `/32` and `/128` become plain addresses. IPv4-mapped IPv6 (`::ffff:203.0.113.10`) becomes the IPv4 form.
 * - Private (RFC 1918), loopback, link-local, carrier-grade NAT (100.64.0.0/10), multicast, unique-local,
 *   reserved and other special-purpose addresses are errors: Exchange Online never sees them as a source.
 * - Documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20) are accepted
 *   with a warning, because examples and tests use them and no real customer can.
 * - Strict syntax: IPv4 only as four decimal parts without leading zeros (no `127.1`, `0x7f.0.0.1`, `010.0.0.1`),
 *   IPv6 without a zone (`%eth0`).
 */
import net from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface RelayRange {
  /** Normalised text: `203.0.113.10`, `2001:db8::25` (RFC 5952), `203.0.113.0/29`. */
  readonly text: string;
  readonly family: 4 | 6;
  /** 32 or 128 for a single address. */
  readonly prefix: number;
  /** The address, or the range's network address. */
  readonly network: Address;
  /** Set when the entry lies in a documentation range: which one and its RFC. */
  readonly documentation?: string;
}

export type RelayIpResult =
  | { readonly ok: true; readonly value: RelayRange }
  | { readonly ok: false; readonly reason: string };

/** The largest range a relay entry may be (IPv4 /24, IPv6 /120). */
export const MAX_RANGE_ADDRESSES = 256;

const EGRESS = "Exchange Online sees the site's public egress IP";

function cidr(text: string): [Address, number] {
  return ipaddr.parseCIDR(text);
}

const DOCUMENTATION: ReadonlyArray<{ range: [Address, number]; label: string }> = [
  { range: cidr('192.0.2.0/24'), label: 'TEST-NET-1, RFC 5737' },
  { range: cidr('198.51.100.0/24'), label: 'TEST-NET-2, RFC 5737' },
  { range: cidr('203.0.113.0/24'), label: 'TEST-NET-3, RFC 5737' },
  { range: cidr('2001:db8::/32'), label: '2001:db8::/32, RFC 3849' },
  { range: cidr('3fff::/20'), label: '3fff::/20, RFC 9637' },
];
const GLOBAL_UNICAST_V6 = cidr('2000::/3');

function matches(addr: Address, [net, bits]: [Address, number]): boolean {
  return addr.kind() === net.kind() && addr.match(net, bits);
}

type Classification =
  | { readonly kind: 'public' }
  | { readonly kind: 'documentation'; readonly label: string }
  | { readonly kind: 'rejected'; readonly reason: string };

const V4_REASONS: Record<string, string> = {
  private: `a private address (RFC 1918); ${EGRESS}`,
  loopback: `a loopback address (127.0.0.0/8); ${EGRESS}`,
  linkLocal: `a link-local address (169.254.0.0/16); ${EGRESS}`,
  carrierGradeNat:
    "a carrier-grade NAT address (RFC 6598, 100.64.0.0/10); Exchange Online sees the ISP's public address",
  multicast: 'a multicast address (224.0.0.0/4); a sender always has a unicast address',
  unspecified: `in 0.0.0.0/8 ("this network"); ${EGRESS}`,
  broadcast: `the broadcast address; ${EGRESS}`,
  reserved: `in a reserved range (RFC 6890); ${EGRESS}`,
};
const V6_REASONS: Record<string, string> = {
  uniqueLocal: `a unique local address (fc00::/7, the IPv6 private range); ${EGRESS}`,
  linkLocal: `a link-local address (fe80::/10); ${EGRESS}`,
  loopback: `the loopback address; ${EGRESS}`,
  unspecified: `the unspecified address; ${EGRESS}`,
  multicast: 'a multicast address (ff00::/8); a sender always has a unicast address',
  deprecatedSiteLocal: `a site-local address (fec0::/10, a deprecated private range); ${EGRESS}`,
  rfc6052: "a NAT64 address (64:ff9b::/96); Exchange Online sees the NAT64 gateway's IPv4 address",
  rfc6145: `an IPv4-translated address (::ffff:0:0:0/96); ${EGRESS}`,
  '6to4': `a 6to4 address (2002::/16, deprecated by RFC 7526); ${EGRESS}`,
  teredo: `a Teredo tunnel address (2001::/32) that changes with the client's NAT; ${EGRESS}`,
};

function classify(addr: Address): Classification {
  for (const d of DOCUMENTATION) if (matches(addr, d.range)) return { kind: 'documentation', label: d.label };
  const range = addr.range();
  if (range === 'unicast') {
    if (addr.kind() === 'ipv6' && !matches(addr, GLOBAL_UNICAST_V6)) {
      return { kind: 'rejected', reason: `outside the global unicast range 2000::/3; ${EGRESS}` };
    }
    return { kind: 'public' };
  }
  const table = addr.kind() === 'ipv4' ? V4_REASONS : V6_REASONS;
  return {
    kind: 'rejected',
    reason: table[range] ?? `in a special-purpose range (IANA registry: ${range}); ${EGRESS}`,
  };
}

/** Parse IPv6 text strictly. ipaddr.js reads `::1.2.3.4` as `::ffff:1.2.3.4`, so an embedded IPv4 tail is rewritten as hex. */
function parseV6(text: string): ipaddr.IPv6 | null {
  if (text.includes('%') || !net.isIPv6(text)) return null;
  const tail = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  let hex = text;
  if (tail) {
    const [, head, a, b, c, d] = tail;
    const hi = (Number(a) << 8) | Number(b);
    const lo = (Number(c) << 8) | Number(d);
    hex = `${head}${hi.toString(16)}:${lo.toString(16)}`;
  }
  try {
    return ipaddr.IPv6.parse(hex);
  } catch {
    return null;
  }
}

function withBits(addr: Address, prefix: number, hostBits: 0 | 1): Address {
  const bytes = addr.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8)); // network bits in this byte
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    const byte = bytes[i] ?? 0;
    bytes[i] = hostBits === 0 ? byte & mask : byte | (~mask & 0xff);
  }
  return ipaddr.fromByteArray(bytes);
}

function show(addr: Address): string {
  return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}

const NOT_AN_IP = 'is not an IP address or CIDR range (e.g. 203.0.113.10, 2001:db8::25, 203.0.113.0/29)';

/**
 * Validate and normalise one relay entry. On failure `reason` completes a sentence that starts with the quoted input
 * (`"10.1.2.3" is a private address …`).
 */
export function parseRelayIp(input: string): RelayIpResult {
  const text = input.trim();
  if (text.length > 64) return { ok: false, reason: NOT_AN_IP };
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  let addr: Address | null = net.isIPv4(addrText) ? ipaddr.IPv4.parse(addrText) : parseV6(addrText);
  if (addr === null) return { ok: false, reason: NOT_AN_IP };
  const bits = addr.kind() === 'ipv4' ? 32 : 128;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) {
      return { ok: false, reason: `has an invalid prefix length (IPv4 /0../32, IPv6 /0../128)` };
    }
    prefix = Number(prefixText);
  }
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
    prefix -= 96;
  }
  const family = addr.kind() === 'ipv4' ? 4 : 6;
  const fullBits = family === 4 ? 32 : 128;
  if (fullBits - prefix > Math.log2(MAX_RANGE_ADDRESSES)) {
    return {
      ok: false,
      reason: `is a range of more than ${MAX_RANGE_ADDRESSES} addresses; relayIps take single addresses and ranges up to /24 (IPv4) or /120 (IPv6)`,
    };
  }
  const network = withBits(addr, prefix, 0);
  if (show(network) !== show(addr)) {
    return { ok: false, reason: `has host bits set; the network is ${show(network)}/${prefix}` };
  }
  const last = withBits(addr, prefix, 1);
  let documentation: string | undefined;
  for (const a of prefix === fullBits ? [network] : [network, last]) {
    const c = classify(a);
    if (c.kind === 'rejected') {
      return { ok: false, reason: `${prefix === fullBits ? 'is' : `contains ${show(a)}, which is`} ${c.reason}` };
    }
    if (c.kind === 'documentation') documentation = c.label;
  }
  const textOut = prefix === fullBits ? show(network) : `${show(network)}/${prefix}`;
  return {
    ok: true,
    value: { text: textOut, family, prefix, network, ...(documentation ? { documentation } : {}) },
  };
}

/** Do two entries share at least one address? (CIDR blocks either nest or are disjoint.) */
export function rangesOverlap(a: RelayRange, b: RelayRange): boolean {
  return rangeContains(a, b) || rangeContains(b, a);
}

/** Is every address of `inner` inside `outer`? */
export function rangeContains(outer: RelayRange, inner: RelayRange): boolean {
  return (
    outer.family === inner.family &&
    outer.prefix <= inner.prefix &&
    matches(inner.network, [outer.network, outer.prefix])
  );
}
