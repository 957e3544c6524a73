/** Picks the blocklist zones and the resolver they are asked through, for `check` and `blocklist`. */

import type { DnsResolver } from '../ports/dns-resolver.ts';
import { isPublicResolver, planZone, type ZonePlan } from './engine.ts';
import { genericZone, ZONES, type ZoneDefinition, zoneById } from './registry.ts';

/** A requested zone that is neither a known zone nor a DNS zone name (a usage error at the edge). */
export class ZoneSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZoneSelectionError';
  }
}

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
      throw new ZoneSelectionError(
        `--zone ${JSON.stringify(spec)} is neither a known zone id (${ZONES.map((z) => z.id).join(', ')}) nor a DNS zone name`,
      );
    }
    return genericZone(text);
  });
  return { zones: [...new Map(zones.map((z) => [z.id, z])).values()], explicit: true };
}

export interface BlocklistSetup<R extends DnsResolver = DnsResolver> {
  readonly plans: ZonePlan[];
  /** The resolvers the zones are asked through, for reports. */
  readonly description: string;
  readonly resolver: R;
}

/**
 * The plans of the zones, asked through one resolver stack. A resolver list counts as public when any of its
 * resolvers is public, because failover may send a query to it.
 */
export function planBlocklists<R extends DnsResolver>(args: {
  readonly dns: { readonly resolver: R; readonly description: string; readonly specs: readonly string[] };
  readonly zones: readonly ZoneDefinition[];
  readonly explicit: boolean;
  readonly keys?: Readonly<Record<string, string>> | undefined;
}): BlocklistSetup<R> {
  const isPublic = args.dns.specs.some(isPublicResolver);
  return {
    plans: args.zones.map((zone) =>
      planZone({
        zone,
        resolver: args.dns.resolver,
        resolverIsPublic: isPublic,
        key: args.keys?.[zone.id],
        explicit: args.explicit,
      }),
    ),
    description: args.dns.description,
    resolver: args.dns.resolver,
  };
}
