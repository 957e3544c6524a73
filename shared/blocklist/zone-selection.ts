/** Picks the blocklist zones and the resolver they are asked through, for `check` and `blocklist`. */

import { type DnsConfig, type DnsHandle, UsageError, withDns } from '../cli/wiring.ts';
import { isPublicResolver, planZone, type ZonePlan } from './engine.ts';
import { genericZone, ZONES, type ZoneDefinition, zoneById } from './registry.ts';

/**
 * The zones to ask: `--zone` values (a registry id such as `spamcop`, a registry zone name such as
 * `bl.spamcop.net`, or any other zone name, which gets the generic RFC 5782 semantics), else the configured set,
 * else every registry zone that is on by default.
 */
export function selectZones(
  requested: readonly string[] | undefined,
  configured: readonly ZoneDefinition[] | undefined,
): { zones: ZoneDefinition[]; explicit: boolean } {
  if (!requested || requested.length === 0) {
    return { zones: [...(configured ?? ZONES.filter((z) => z.defaultEnabled))], explicit: false };
  }
  const zones = requested.map((spec) => {
    const text = spec.trim().toLowerCase().replace(/\.$/, '');
    const known = zoneById(text) ?? [...(configured ?? []), ...ZONES].find((z) => z.name === text || z.id === text);
    if (known) return known;
    const labels = text.split('.');
    if (labels.length < 2 || labels.some((l) => !/^(?!-)[a-z0-9_-]{1,63}(?<!-)$/.test(l))) {
      throw new UsageError(
        `--zone ${JSON.stringify(spec)} is neither a known zone id (${ZONES.map((z) => z.id).join(', ')}) nor a DNS zone name`,
      );
    }
    return genericZone(text);
  });
  return { zones: [...new Map(zones.map((z) => [z.id, z])).values()], explicit: true };
}

export interface BlocklistSetup {
  readonly plans: ZonePlan[];
  /** The resolvers the zones are asked through, for reports. */
  readonly description: string;
  readonly resolver: DnsHandle['resolver'];
}

/**
 * Build the plans: zones asked through `blocklistDns` specs when given (a separate per-run resolver stack, e.g. a
 * private resolver that DNSBL operators accept), else through the main DNS handle. A resolver list counts as public
 * when any of its resolvers is public, because failover may send a query to it.
 */
export async function withBlocklists<T>(
  args: {
    readonly main: DnsHandle;
    readonly zones: readonly ZoneDefinition[];
    readonly explicit: boolean;
    readonly blocklistDns?: readonly string[] | undefined;
    readonly dnsConfig?: DnsConfig | undefined;
    readonly baseDir: string;
    readonly keys?: Readonly<Record<string, string>>;
  },
  fn: (setup: BlocklistSetup) => Promise<T>,
): Promise<T> {
  const build = (dns: DnsHandle): BlocklistSetup => {
    const isPublic = dns.specs.some(isPublicResolver);
    return {
      plans: args.zones.map((zone) =>
        planZone({
          zone,
          resolver: dns.resolver,
          resolverIsPublic: isPublic,
          key: args.keys?.[zone.id],
          explicit: args.explicit,
        }),
      ),
      description: dns.description,
      resolver: dns.resolver,
    };
  };
  if (!args.blocklistDns || args.blocklistDns.length === 0) return fn(build(args.main));
  return withDns({ cli: { dns: args.blocklistDns }, config: args.dnsConfig, baseDir: args.baseDir }, (dns) =>
    fn(build(dns)),
  );
}
