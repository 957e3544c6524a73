/** Small, pure helpers over IP addresses and ranges written as text (validated config values). */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Canonical text of an address: IPv4 dotted, IPv6 RFC 5952 compressed, IPv4-mapped IPv6 as IPv4. */
export function canonicalIp(text: string): string | null {
  // node:net accepts only the standard text forms; ipaddr.js alone would read "1.2.3" as 1.2.0.3 (inet_aton).
  if (isIP(text) === 0) return null;
  const addr = ipaddr.process(text);
  return addr.toString();
}

function parseEntry(entry: string): [ipaddr.IPv4 | ipaddr.IPv6, number] | null {
  try {
    if (entry.includes('/')) return ipaddr.parseCIDR(entry);
    const addr = ipaddr.process(entry);
    return [addr, addr.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return null;
  }
}

/**
 * The addresses that stand for a relay entry in an SPF evaluation: the address itself, or for a range its first and
 * last address (an SPF record that authorises both ends of a block almost always authorises the block; checking every
 * address of a /24 would cost 256 evaluations for no extra insight).
 */
export function representativeAddresses(entry: string): string[] {
  if (!entry.includes('/')) {
    const c = canonicalIp(entry);
    return c ? [c] : [];
  }
  const parsed = parseEntry(entry);
  if (!parsed) return [];
  const [addr] = parsed;
  const first =
    addr.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(entry) : ipaddr.IPv6.networkAddressFromCIDR(entry);
  const last =
    addr.kind() === 'ipv4' ? ipaddr.IPv4.broadcastAddressFromCIDR(entry) : ipaddr.IPv6.broadcastAddressFromCIDR(entry);
  const a = first.toString();
  const b = last.toString();
  return a === b ? [a] : [a, b];
}

/** Is `ip` (a single address) inside any of the entries (single addresses or CIDR ranges)? */
export function ipInEntries(ip: string, entries: readonly string[]): boolean {
  const target = parseEntry(ip);
  if (!target) return false;
  const [addr] = target;
  for (const entry of entries) {
    const e = parseEntry(entry);
    if (!e || e[0].kind() !== addr.kind()) continue;
    if (addr.kind() === 'ipv4') {
      if ((addr as ipaddr.IPv4).match(e[0] as ipaddr.IPv4, e[1])) return true;
    } else if ((addr as ipaddr.IPv6).match(e[0] as ipaddr.IPv6, e[1])) return true;
  }
  return false;
}

/** Every address of a relay entry: the address itself, or each address of a range (config caps ranges at 256). */
export function expandEntry(entry: string, max = 256): string[] {
  if (!entry.includes('/')) {
    const c = canonicalIp(entry);
    return c ? [c] : [];
  }
  const parsed = parseEntry(entry);
  if (!parsed) return [];
  const [addr, prefix] = parsed;
  const bits = addr.kind() === 'ipv4' ? 32 : 128;
  if (bits - prefix > Math.log2(max)) return representativeAddresses(entry);
  const first = representativeAddresses(entry)[0];
  if (!first) return [];
  const bytes = ipaddr.parse(first).toByteArray();
  const count = 2 ** (bits - prefix);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const b = [...bytes];
    let carry = i;
    for (let k = b.length - 1; k >= 0 && carry > 0; k--) {
      const sum = (b[k] ?? 0) + (carry & 0xff);
      b[k] = sum & 0xff;
      carry = (carry >>> 8) + (sum >> 8);
    }
    out.push(ipaddr.fromByteArray(b).toString());
  }
  return out;
}

/** `localhost`, 127.0.0.0/8 or ::1 (as a URL's hostname gives them): the only hosts plain http may go to. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return h === '::1' || h === '::ffff:127.0.0.1' || /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(h);
}
