/**
 * The DNSBL engine: for a set of IPs (and domain names) and a set of zones, one health check per (resolver, zone) with the RFC 5782 test
 * points, then one A query per (IP, zone) pair (and a TXT query for listed pairs of zones that publish reasons), with
 * a concurrency limit overall and per zone and a query budget per zone. Verdicts follow `verdict.ts`: a false
 * "listed" and a silent "clean" are both bugs; anything the engine cannot vouch for is `unknown` with the reason.
 *
 * Domain zones (`scope: domain`: Spamhaus DBL, SURBL, URIBL…) are asked for the domain names, every other zone for the
 * addresses, with the same health check (the zone's domain test points, RFC 5782 §5) and the same error semantics.
 *
 * Error contract: `runBlocklists()` never rejects for what DNS or a zone does; every outcome is in the result.
 * Secrets: a key zone's key is only ever put into query names, which never leave this module.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Semaphore } from '../domain/semaphore.ts';
import type { DnsResolver, DnsResult, RecordType } from '../ports/dns-resolver.ts';
import {
  domainQueryName,
  domainTestPoints,
  type QueryNameResult,
  queryName,
  type TestPointFamily,
  testPointName,
} from './query-name.ts';
import type { ListingKind, ZoneDefinition } from './registry.ts';
import { classify, type DecodedCode, healthVerdict, listingKind } from './verdict.ts';

/** How one zone is asked in this run. Build with `planZone()`. */
export interface ZonePlan {
  readonly zone: ZoneDefinition;
  readonly resolver: DnsResolver;
  /** The zone's key (a secret), for key zones. */
  readonly key?: string | undefined;
  /** Set when the zone cannot be asked at all in this setup: it is reported, never queried. */
  readonly notChecked?: string | undefined;
  /** The zone was asked for explicitly (`--zone`): a zone that cannot be asked then yields `unknown` per IP. */
  readonly explicit?: boolean | undefined;
}

/** Queries a zone may still send (e.g. a daily budget). `take()` reserves one; false when none is left. */
export interface QueryBudget {
  take(zoneId: string): boolean;
}

export interface BlocklistRunInput {
  readonly ips: readonly string[];
  /** Domain names to ask the domain zones for (none: domain zones are neither health-checked nor asked). */
  readonly domains?: readonly string[];
  readonly plans: readonly ZonePlan[];
  /** Queries in flight over all zones (default 64). */
  readonly maxConcurrent?: number;
  /** Queries in flight per zone (default 16): operators rate-limit. */
  readonly perZoneConcurrency?: number;
  readonly budget?: QueryBudget;
}

export type PairStatus = 'listed' | 'clean' | 'unknown';

export interface ZoneResult {
  readonly zoneId: string;
  /** The zone as configured; a key zone shows its `{key}` placeholder, never the key. */
  readonly zone: string;
  readonly operator: string;
  readonly status: PairStatus;
  /** Every code returned, decoded (listed only). */
  readonly codes: readonly DecodedCode[];
  /** abuse > policy > neighbourhood for a listing, else null. */
  readonly kind: ListingKind | null;
  /** The zone's TXT reason for a listing: third-party text, escape wherever shown. */
  readonly reason: string | null;
  /** Why the verdict is unknown. */
  readonly why: string | null;
  readonly lookupUrl: string | null;
  readonly removalUrl: string | null;
}

export interface IpResult {
  readonly ip: string;
  readonly zones: readonly ZoneResult[];
  /** Zones that do not apply to this address (IPv6 on an IPv4-only zone), with the reason. */
  readonly skipped: ReadonlyArray<{ readonly zoneId: string; readonly why: string }>;
}

/** A domain name's verdicts in the domain zones. */
export interface DomainResult {
  readonly domain: string;
  readonly zones: readonly ZoneResult[];
  /** Zones that could not be asked for this name (not a domain name, too long), with the reason. */
  readonly skipped: ReadonlyArray<{ readonly zoneId: string; readonly why: string }>;
}

export interface ZoneHealth {
  readonly zoneId: string;
  readonly zone: string;
  readonly resolver: string;
  readonly status: 'usable' | 'unusable' | 'not-checked';
  readonly reason: string | null;
  /** The IPv6 test points, when the zone supports IPv6 and IPv6 addresses were asked. */
  readonly ipv6: { readonly status: 'usable' | 'unusable'; readonly reason: string | null } | null;
}

export interface BlocklistRun {
  readonly ips: readonly IpResult[];
  /** One entry per domain name asked (empty when no domains were given). */
  readonly domains: readonly DomainResult[];
  readonly health: readonly ZoneHealth[];
  /** Questions the engine asked its resolvers (health checks included). */
  readonly questions: number;
}

/** Operators' public resolvers and DoH services (a zone that refuses them is never asked through them). */
const PUBLIC_RESOLVER_HOSTS = new Set([
  'cloudflare-dns.com',
  'one.one.one.one',
  'security.cloudflare-dns.com',
  '1.1.1.1',
  '1.0.0.1',
  '2606:4700:4700::1111',
  '2606:4700:4700::1001',
  'dns.google',
  'dns.google.com',
  '8.8.8.8',
  '8.8.4.4',
  '2001:4860:4860::8888',
  '2001:4860:4860::8844',
  'dns.quad9.net',
  '9.9.9.9',
  '149.112.112.112',
  '2620:fe::fe',
  'doh.opendns.com',
  '208.67.222.222',
  '208.67.220.220',
  'dns.adguard-dns.com',
  '94.140.14.14',
  // the AWS VPC resolver: Spamhaus blocks it too (DOMAIN.md §5)
  '169.254.169.253',
  'fd00:ec2::253',
]);

/** Is a resolver spec (`doh:https://…`, `udp://…`) a public or shared resolver that DNSBL operators refuse? */
export function isPublicResolver(spec: string): boolean {
  const text = spec.trim().replace(/^doh:/i, '');
  try {
    const url = new URL(text);
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return PUBLIC_RESOLVER_HOSTS.has(host);
  } catch {
    return false;
  }
}

/** Decide how a zone is asked: through `resolver`, or not at all (and why). */
export function planZone(args: {
  zone: ZoneDefinition;
  resolver: DnsResolver;
  resolverIsPublic: boolean;
  key?: string | undefined;
  explicit?: boolean;
}): ZonePlan {
  const { zone, resolver, resolverIsPublic, key } = args;
  let notChecked: string | undefined;
  if (zone.key !== null && !key) {
    notChecked = `not checked: ${zone.operator} needs a key (blocklists.keys.${zone.id}) and none is set`;
  } else if (resolverIsPublic && zone.key === null && zone.publicResolvers === 'refused') {
    notChecked = `not checked: needs a private resolver or key (${zone.operator} refuses queries through public resolvers and DoH)`;
  } else if (resolverIsPublic && zone.registrationRequired) {
    notChecked = `not checked: needs a resolver registered with ${zone.operator}`;
  }
  return { zone, resolver, key, notChecked, explicit: args.explicit ?? false };
}

/** The family an address is asked in: IPv4-mapped IPv6 is asked as IPv4 (see `queryName`). */
function familyOf(ip: string): TestPointFamily {
  if (isIP(ip) !== 6) return 'ipv4';
  try {
    const addr = ipaddr.IPv6.parse(ip);
    return addr.isIPv4MappedAddress() ? 'ipv4' : 'ipv6';
  } catch {
    return 'ipv6';
  }
}

/** `{ip}` (or `{domain}` for a domain zone) in a lookup/removal URL, replaced by the subject. */
function fill(url: string | null, subject: string): string | null {
  return url === null
    ? null
    : url.replaceAll('{ip}', encodeURIComponent(subject)).replaceAll('{domain}', encodeURIComponent(subject));
}

/** The families a zone is marked unusable in: address families, or `domain` for a domain zone. */
type Family = TestPointFamily | 'domain';

interface ZoneState {
  readonly plan: ZonePlan;
  readonly semaphore: Semaphore;
  /** Why the zone is unusable for the rest of the run, per family. */
  unusable: Partial<Record<Family, string>>;
  health: ZoneHealth;
}

/** Run the health checks, then every (IP, zone) pair. */
export async function runBlocklists(input: BlocklistRunInput): Promise<BlocklistRun> {
  const overallLimit = input.maxConcurrent ?? 64;
  const perZone = input.perZoneConcurrency ?? 16;
  const ips = [...new Set(input.ips.map((ip) => ip.trim()))];
  const domains = [...new Set((input.domains ?? []).map((d) => d.trim().toLowerCase().replace(/\.$/, '')))].filter(
    (d) => d !== '',
  );
  const anyIpv6 = ips.some((ip) => familyOf(ip) === 'ipv6');
  let questions = 0;

  /**
   * One question to a zone, within the concurrency limits and the budget. With `family`, a pair query: it is not sent
   * when the zone became unusable for that family while it waited for a slot.
   */
  const ask = async <T extends RecordType>(
    state: ZoneState,
    name: string,
    type: T,
    family?: Family,
  ): Promise<DnsResult<T> | 'budget' | 'blocked'> => {
    const releaseZone = state.semaphore.tryAcquire() ?? (await state.semaphore.acquire());
    try {
      if (family !== undefined && state.unusable[family] !== undefined) return 'blocked';
      if (input.budget && !input.budget.take(state.plan.zone.id)) return 'budget';
      questions++;
      // pair names are unique in a run (each address once per zone): no need to cache them
      const result = await state.plan.resolver.query(name, type, family !== undefined ? { once: true } : {});
      if (family !== undefined && result.kind === 'answer' && type === 'A') {
        // Mark the zone before the slot is released, so pairs waiting for it are not sent to a refusing zone.
        const v = classify(state.plan.zone, result as DnsResult<'A'>);
        if (v.status === 'unknown' && v.zoneUnusable) state.unusable[family] ??= `zone unusable for this run: ${v.why}`;
      }
      return result;
    } finally {
      releaseZone();
    }
  };

  const budgetWhy = (zone: ZoneDefinition) => `the query budget for ${zone.id} is exhausted for today`;

  // A domain zone is only health-checked and asked when there are domain names to ask.
  const plans = input.plans.filter((p) => p.zone.scope !== 'domain' || domains.length > 0);
  const states = plans.map((plan): ZoneState => {
    const base = { zoneId: plan.zone.id, zone: plan.zone.name, resolver: plan.resolver.describe() };
    return {
      plan,
      semaphore: new Semaphore(perZone),
      unusable: {},
      health: plan.notChecked
        ? { ...base, status: 'not-checked', reason: plan.notChecked, ipv6: null }
        : { ...base, status: 'usable', reason: null, ipv6: null },
    };
  });

  // 1. Health checks, all zones at once.
  await Promise.all(
    states
      .filter((s) => !s.plan.notChecked)
      .map(async (s) => {
        if (s.plan.zone.scope === 'domain') {
          const points = domainTestPoints(s.plan.zone);
          const listedName = domainQueryName(points.listed, s.plan.zone, s.plan.key);
          const notListedName = domainQueryName(points.notListed, s.plan.zone, s.plan.key);
          let verdict: { status: 'usable' } | { status: 'unusable'; reason: string };
          if (!listedName.ok || !notListedName.ok) {
            verdict = { status: 'unusable', reason: testPointWhy(listedName, notListedName) };
          } else {
            const [tp2, tp1] = await Promise.all([ask(s, listedName.name, 'A'), ask(s, notListedName.name, 'A')]);
            verdict =
              typeof tp2 === 'string' || typeof tp1 === 'string'
                ? { status: 'unusable', reason: budgetWhy(s.plan.zone) }
                : healthVerdict(s.plan.zone, tp2, tp1, 'domain');
          }
          const reason = verdict.status === 'unusable' ? verdict.reason : null;
          if (reason !== null) s.unusable.domain = `zone unusable for this run: ${reason}`;
          s.health = { ...s.health, status: verdict.status, reason };
          return;
        }
        const families: TestPointFamily[] = s.plan.zone.ipv6 && anyIpv6 ? ['ipv4', 'ipv6'] : ['ipv4'];
        await Promise.all(
          families.map(async (family) => {
            const listedName = testPointName(family, 'listed', s.plan.zone, s.plan.key);
            const notListedName = testPointName(family, 'notListed', s.plan.zone, s.plan.key);
            let verdict: { status: 'usable' } | { status: 'unusable'; reason: string };
            if (!listedName.ok || !notListedName.ok) {
              verdict = { status: 'unusable', reason: testPointWhy(listedName, notListedName) };
            } else {
              const [tp2, tp1] = await Promise.all([ask(s, listedName.name, 'A'), ask(s, notListedName.name, 'A')]);
              verdict =
                typeof tp2 === 'string' || typeof tp1 === 'string'
                  ? { status: 'unusable', reason: budgetWhy(s.plan.zone) }
                  : healthVerdict(s.plan.zone, tp2, tp1, family);
            }
            const reason = verdict.status === 'unusable' ? verdict.reason : null;
            if (reason !== null) s.unusable[family] = `zone unusable for this run: ${reason}`;
            if (family === 'ipv4') s.health = { ...s.health, status: verdict.status, reason };
            else s.health = { ...s.health, ipv6: { status: verdict.status, reason } };
          }),
        );
      }),
  );

  // 2. Every (IP, zone) pair, pulled from one list by a fixed number of workers (the overall concurrency): starting
  // every pair at once would queue thousands of promises on the semaphores for nothing (BENCHMARKS.md).
  const pairResult = async (
    ip: string,
    s: ZoneState,
    skipped: { zoneId: string; why: string }[],
  ): Promise<ZoneResult | null> => {
    const zone = s.plan.zone;
    const base = {
      zoneId: zone.id,
      zone: zone.name,
      operator: zone.operator,
      lookupUrl: fill(zone.lookupUrl, ip),
      removalUrl: fill(zone.removalUrl, ip),
    };
    const unknown = (why: string): ZoneResult => ({
      ...base,
      status: 'unknown',
      codes: [],
      kind: null,
      reason: null,
      why,
    });
    if (s.plan.notChecked) {
      if (s.plan.explicit) return unknown(s.plan.notChecked);
      skipped.push({ zoneId: zone.id, why: s.plan.notChecked });
      return null;
    }
    const isDomain = zone.scope === 'domain';
    const name = isDomain ? domainQueryName(ip, zone, s.plan.key) : queryName(ip, zone, s.plan.key);
    if (!name.ok) {
      skipped.push({ zoneId: zone.id, why: name.reason });
      return null;
    }
    const family: Family = isDomain ? 'domain' : familyOf(ip);
    const a = await ask(s, name.name, 'A', family);
    if (a === 'blocked') return unknown(s.unusable[family] ?? 'zone unusable for this run');
    if (a === 'budget') return unknown(budgetWhy(zone));
    let verdict = classify(zone, a);
    if (verdict.status === 'listed' && zone.txt) {
      const txt = await ask(s, name.name, 'TXT');
      if (typeof txt !== 'string') verdict = classify(zone, a, txt);
    }
    if (verdict.status === 'unknown') {
      if (verdict.zoneUnusable) s.unusable[family] ??= `zone unusable for this run: ${verdict.why}`;
      return unknown(verdict.why);
    }
    if (verdict.status === 'clean') {
      return { ...base, status: 'clean' as const, codes: [], kind: null, reason: null, why: null };
    }
    return {
      ...base,
      status: 'listed' as const,
      codes: verdict.codes,
      kind: listingKind(verdict),
      reason: verdict.reason ?? null,
      why: null,
    };
  };

  // Addresses are asked of the address zones, domain names of the domain zones: one list of subjects, one pool.
  const ipStates = states.filter((s) => s.plan.zone.scope !== 'domain');
  const domainStates = states.filter((s) => s.plan.zone.scope === 'domain');
  const subjects = [
    ...ips.map((subject) => ({ subject, zones: ipStates })),
    ...domains.map((subject) => ({ subject, zones: domainStates })),
  ];
  const slots: Array<Array<ZoneResult | null>> = subjects.map((x) => x.zones.map(() => null));
  const skippedBy: Array<{ zoneId: string; why: string }[]> = subjects.map(() => []);
  const pairs: Array<readonly [number, number]> = subjects.flatMap((x, i) => x.zones.map((_, z) => [i, z] as const));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pairs.length) {
      const [i, z] = pairs[next++]!;
      const x = subjects[i]!;
      slots[i]![z] = await pairResult(x.subject, x.zones[z]!, skippedBy[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(overallLimit, Math.max(pairs.length, 1)) }, worker));
  const resultOf = (i: number) => {
    const zones = subjects[i]!.zones;
    return {
      zones: slots[i]!.filter((z): z is ZoneResult => z !== null),
      // in zone order, whatever order the workers finished in
      skipped: [...skippedBy[i]!].sort(
        (a, b) =>
          zones.findIndex((s) => s.plan.zone.id === a.zoneId) - zones.findIndex((s) => s.plan.zone.id === b.zoneId),
      ),
    };
  };
  const results: IpResult[] = ips.map((ip, i) => ({ ip, ...resultOf(i) }));
  const domainResults: DomainResult[] = domains.map((domain, j) => ({ domain, ...resultOf(ips.length + j) }));

  return { ips: results, domains: domainResults, health: states.map((s) => s.health), questions };
}

/** An in-memory budget: at most `limits[zoneId]` queries per zone (zones without a limit are unlimited). */
export function memoryBudget(limits: Readonly<Record<string, number>>): QueryBudget {
  const used = new Map<string, number>();
  return {
    take(zoneId) {
      const limit = limits[zoneId];
      if (limit === undefined) return true;
      const n = used.get(zoneId) ?? 0;
      if (n >= limit) return false;
      used.set(zoneId, n + 1);
      return true;
    },
  };
}

/** Why a zone's test point names could not be built: the listed one's reason (a missing key fails both), else the not-listed one's. */
function testPointWhy(listed: QueryNameResult, notListed: QueryNameResult): string {
  if (!listed.ok) return listed.reason;
  if (!notListed.ok) return `not-listed test point: ${notListed.reason}`;
  return 'test points could not be built';
}
