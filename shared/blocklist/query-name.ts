/**
 * DNSBL query names (RFC 5782 §2.1, §2.4): `d.c.b.a.<zone>` for IPv4, 32 reversed nibbles for IPv6.
 *
 * The name of a key zone contains the key, which is a secret: never log or report a query name.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { ZoneDefinition } from './registry.ts';

export type QueryNameResult =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly reason: string };

/** A DNS label: what a key may be (so it cannot add labels or characters to the name). */
const KEY_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** The RFC 5782 §5 test points: `listed` must be listed, `notListed` must not. IPv6 ones are queried in nibble form. */
export const TEST_POINTS = {
  ipv4: { listed: '127.0.0.2', notListed: '127.0.0.1' },
  ipv6: { listed: '::ffff:7f00:2', notListed: '::ffff:7f00:1' },
} as const;

export type TestPointFamily = keyof typeof TEST_POINTS;

/** RFC 5782 §5 test points of a domain zone: `TEST` must be listed, `INVALID` must not (operators may name their own). */
export const DOMAIN_TEST_POINTS = { listed: 'test', notListed: 'invalid' } as const;

/** The test points of a domain zone: the operator's own when documented, else RFC 5782's. */
export function domainTestPoints(zone: Pick<ZoneDefinition, 'testPoints'>): {
  readonly listed: string;
  readonly notListed: string;
} {
  return zone.testPoints ?? DOMAIN_TEST_POINTS;
}

const DOMAIN_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/**
 * The name to ask for `domain` in a domain zone: `<domain>.<zone>` (RFC 5782 §2.2), with the key label of a key zone.
 * The domain is lower-cased and a trailing dot dropped; anything that is not a plain DNS name (an IP address, empty
 * labels, a label over 63 characters, a name that would exceed 253 characters) is an error value, never a throw.
 */
export function domainQueryName(
  domain: string,
  zone: Pick<ZoneDefinition, 'name' | 'key'>,
  key?: string,
): QueryNameResult {
  const text = domain.trim().toLowerCase().replace(/\.$/, '');
  const shown = JSON.stringify(domain.slice(0, 80));
  if (isIP(text) !== 0) return { ok: false, reason: `${shown} is an IP address, not a domain name` };
  const labels = text.split('.');
  if (text === '' || labels.some((l) => !DOMAIN_LABEL.test(l)))
    return { ok: false, reason: `${shown} is not a domain name` };
  const z = zonePart(zone, key);
  if (!z.ok) return z;
  const name = `${text}.${z.name}`;
  if (name.length > 253) return { ok: false, reason: `${shown} is too long to ask of zone ${zone.name}` };
  return { ok: true, name };
}

function zonePart(zone: Pick<ZoneDefinition, 'name' | 'key'>, key: string | undefined): QueryNameResult {
  if (zone.key === null) return { ok: true, name: zone.name };
  if (key === undefined || key === '') return { ok: false, reason: `zone ${zone.name} needs a key and none is set` };
  if (!KEY_LABEL.test(key)) return { ok: false, reason: `the key for zone ${zone.name} is not a single DNS label` };
  return { ok: true, name: zone.name.replace('{key}', key) };
}

function nibbles(addr: ipaddr.IPv6): string {
  const out: string[] = [];
  for (const byte of addr.toByteArray()) out.push((byte >> 4).toString(16), (byte & 0xf).toString(16));
  return out.reverse().join('.');
}

function build(
  ip: string,
  zone: Pick<ZoneDefinition, 'name' | 'key' | 'ipv6'>,
  key: string | undefined,
  keepMapped: boolean,
): QueryNameResult {
  const text = ip.trim();
  const family = isIP(text);
  if (family === 0) return { ok: false, reason: `${JSON.stringify(text.slice(0, 60))} is not an IP address` };
  if (family === 4) {
    // the common case, without parsing (node:net accepts only plain dotted quads, no leading zeros)
    const z = zonePart(zone, key);
    return z.ok ? { ok: true, name: `${text.split('.').reverse().join('.')}.${z.name}` } : z;
  }
  let addr: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(text);
  if (!keepMapped && addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress())
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  let reversed: string;
  if (addr.kind() === 'ipv4') {
    reversed = (addr as ipaddr.IPv4).octets.slice().reverse().join('.');
  } else {
    if (!zone.ipv6) return { ok: false, reason: `zone ${zone.name} does not support IPv6 lookups` };
    reversed = nibbles(addr as ipaddr.IPv6);
  }
  const z = zonePart(zone, key);
  return z.ok ? { ok: true, name: `${reversed}.${z.name}` } : z;
}

/**
 * The name to ask (type A, then TXT) for `ip` in `zone`. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is asked in the IPv4
 * form. Returns an error value, never throws, for: not an address, IPv6 on a zone without IPv6, a key zone without
 * a (valid) key. A key given for a zone without a key is ignored.
 */
export function queryName(
  ip: string,
  zone: Pick<ZoneDefinition, 'name' | 'key' | 'ipv6'>,
  key?: string,
): QueryNameResult {
  return build(ip, zone, key, false);
}

/**
 * The name of an RFC 5782 test point. IPv6 test points are IPv4-mapped addresses but must be asked in nibble form
 * (that is what the RFC tests), so they are not folded to IPv4 as `queryName` does.
 */
export function testPointName(
  family: TestPointFamily,
  which: 'listed' | 'notListed',
  zone: Pick<ZoneDefinition, 'name' | 'key' | 'ipv6'>,
  key?: string,
): QueryNameResult {
  return build(TEST_POINTS[family][which], zone, key, true);
}
