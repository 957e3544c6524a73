/**
 * The `blocklists` section beyond one value at a time: rules across values (pure, on the raw document, like
 * `rules.ts`) and the effective zone list of a validated configuration.
 *
 * Errors: a zone id that names no zone (registry or custom) in `zones.enable`, `zones.disable`, `keys`, `dailyBudget`
 * or a tenant's `blocklists.disable`; an id in both `enable` and `disable`; an id twice in one list; a custom zone
 * whose id or name is a registry zone's or another custom zone's. Warnings: a key for a zone that takes none; an
 * enabled key zone without a key; an enabled zone that refuses public resolvers (or needs a registered resolver)
 * while every resolver blocklist queries would use is public. The last two are what the engine reports as "not
 * checked" (`planZone`), said once when the file is read rather than on every run.
 *
 * A key of `blocklists.keys` that names no zone is never quoted, neither in a message nor in a path: it may be the
 * secret itself typed in the wrong place (`keys: { s3cr3t }`). See `hiddenKeyPath()`.
 */
import { isPublicResolver } from '../blocklist/engine.ts';
import { ZONES, type ZoneDefinition, zoneById, zoneDefinitionSchema } from '../blocklist/registry.ts';
import { formatPath, type PathSegment, quote } from './problems.ts';
import type { LineOf, RuleProblem } from './rules.ts';
import { DEFAULT_RESOLVERS, LIMITS, type RelaywatchConfig, ResolverSchema, ZoneIdSchema } from './schema.ts';

/** The ids of the registry's zones, in registry order. */
export const REGISTRY_ZONE_IDS: readonly string[] = ZONES.map((z) => z.id);
const REGISTRY_IDS: ReadonlySet<string> = new Set(REGISTRY_ZONE_IDS);
const REGISTRY_BY_NAME: ReadonlyMap<string, ZoneDefinition> = new Map(ZONES.map((z) => [z.name, z]));

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** The ids of the custom zones written in a raw document (`blocklists.custom[].id`), whatever else is wrong. */
export function customZoneIds(doc: unknown): Set<string> {
  const out = new Set<string>();
  if (!isRecord(doc)) return out;
  const bl = own(doc, 'blocklists');
  const custom = isRecord(bl) ? own(bl, 'custom') : undefined;
  if (!Array.isArray(custom) || custom.length > LIMITS.customZones) return out;
  for (const c of custom) {
    const id = isRecord(c) ? ZoneIdSchema.safeParse(own(c, 'id')) : undefined;
    if (id?.success) out.add(id.data);
  }
  return out;
}

/**
 * Where a path under `blocklists.keys.<id>` may be shown: unchanged when `<id>` is a zone id (registry or one of
 * `customIds`), else `blocklists.keys` (the mapping key is not shown: it may be the secret). Other paths: undefined.
 */
export function hiddenKeyPath(
  path: readonly PathSegment[],
  customIds: ReadonlySet<string>,
): readonly PathSegment[] | undefined {
  const [b, k, id] = path;
  if (b !== 'blocklists' || k !== 'keys' || typeof id !== 'string') return undefined;
  return REGISTRY_IDS.has(id) || customIds.has(id) ? undefined : ['blocklists', 'keys'];
}

interface Item<T> {
  readonly index: number;
  readonly value: T;
}

function validIds(list: unknown): Item<string>[] {
  if (!Array.isArray(list) || list.length > LIMITS.zoneIds) return [];
  const out: Item<string>[] = [];
  list.forEach((raw, index) => {
    const r = ZoneIdSchema.safeParse(raw);
    if (r.success) out.push({ index, value: r.data });
  });
  return out;
}

function where(path: readonly PathSegment[], lineOf: LineOf): string {
  const line = lineOf(path);
  return `${formatPath(path)}${line === undefined ? '' : ` on line ${line}`}`;
}

function knownList(known: readonly string[]): string {
  const max = 30;
  const head = known.slice(0, max).join(', ');
  return known.length > max ? `${head} and ${known.length - max} more` : head;
}

/** How a zone came to be enabled, for the path of a warning about it. */
type Origin = { readonly kind: 'default' } | { readonly kind: 'enable'; readonly index: number };

/** Every cross-value problem and warning of the `blocklists` sections of a raw document. */
export function checkBlocklistRules(doc: unknown, lineOf: LineOf): RuleProblem[] {
  const out: RuleProblem[] = [];
  if (!isRecord(doc)) return out;
  const rawBl = own(doc, 'blocklists');
  const bl = isRecord(rawBl) ? rawBl : undefined;
  const B = (...rest: PathSegment[]): PathSegment[] => ['blocklists', ...rest];

  // Custom zones: ids and names must not collide with the registry's or with each other.
  const custom = new Map<string, { index: number; zone: ZoneDefinition | undefined }>();
  const rawCustom = bl ? own(bl, 'custom') : undefined;
  if (Array.isArray(rawCustom) && rawCustom.length <= LIMITS.customZones) {
    const names = new Map<string, number>();
    rawCustom.forEach((c, index) => {
      if (!isRecord(c)) return;
      const id = ZoneIdSchema.safeParse(own(c, 'id'));
      const name = own(c, 'name');
      const parsed = zoneDefinitionSchema.safeParse(c);
      if (id.success) {
        const registry = zoneById(id.data);
        const first = custom.get(id.data);
        if (registry) {
          out.push({
            path: B('custom', index, 'id'),
            message: `${quote(id.data)} is the id of a registry zone (${registry.name}, ${registry.operator}); give the custom zone an id of its own (to change how the registry zone is used, see blocklists.zones)`,
            severity: 'error',
          });
        } else if (first) {
          out.push({
            path: B('custom', index, 'id'),
            message: `${quote(id.data)} is already the id of ${where(B('custom', first.index, 'id'), lineOf)}; zone ids must be unique`,
            severity: 'error',
          });
        } else {
          custom.set(id.data, { index, zone: parsed.success ? parsed.data : undefined });
        }
      }
      if (typeof name === 'string') {
        const registry = REGISTRY_BY_NAME.get(name);
        const firstName = names.get(name);
        if (registry) {
          out.push({
            path: B('custom', index, 'name'),
            message: `${quote(name)} is already in the registry as ${quote(registry.id)}; enable that zone instead (blocklists.zones.enable)`,
            severity: 'error',
          });
        } else if (firstName !== undefined) {
          out.push({
            path: B('custom', index, 'name'),
            message: `${quote(name)} is already the name of ${where(B('custom', firstName, 'name'), lineOf)}; list each zone once`,
            severity: 'error',
          });
        } else {
          names.set(name, index);
        }
      }
    });
  }

  const known = [...REGISTRY_ZONE_IDS, ...custom.keys()];
  const isKnown = (id: string) => REGISTRY_IDS.has(id) || custom.has(id);
  const definition = (id: string): ZoneDefinition | undefined => zoneById(id) ?? custom.get(id)?.zone;
  const unknown = (path: PathSegment[], id: string) =>
    out.push({
      path,
      message: `unknown zone id ${quote(id, 64)}; known zone ids: ${knownList(known)}`,
      severity: 'error',
    });

  /** Check a list of ids: each must name a zone and appear once. */
  const idList = (base: PathSegment[], raw: unknown): Item<string>[] => {
    const items = validIds(raw);
    const first = new Map<string, number>();
    for (const item of items) {
      if (!isKnown(item.value)) unknown([...base, item.index], item.value);
      const at = first.get(item.value);
      if (at === undefined) first.set(item.value, item.index);
      else
        out.push({
          path: [...base, item.index],
          message: `zone ${quote(item.value)} is listed twice (first at ${where([...base, at], lineOf)})`,
          severity: 'error',
        });
    }
    return items;
  };

  // Tenants: zones not to query for one tenant.
  const rawTenants = own(doc, 'tenants');
  if (Array.isArray(rawTenants) && rawTenants.length <= LIMITS.tenants) {
    rawTenants.forEach((t, i) => {
      const tb = isRecord(t) ? own(t, 'blocklists') : undefined;
      if (isRecord(tb)) idList(['tenants', i, 'blocklists', 'disable'], own(tb, 'disable'));
    });
  }

  if (!bl) return out;

  const resolvers = own(bl, 'resolvers');
  if (Array.isArray(resolvers) && resolvers.length <= LIMITS.resolvers) {
    const first = new Map<string, number>();
    resolvers.forEach((r, index) => {
      const p = ResolverSchema.safeParse(r);
      if (!p.success) return;
      const k = p.data.toLowerCase();
      const at = first.get(k);
      if (at === undefined) first.set(k, index);
      else
        out.push({
          path: B('resolvers', index),
          message: `this resolver is listed twice (first at ${where(B('resolvers', at), lineOf)})`,
          severity: 'error',
        });
    });
  }

  const zones = own(bl, 'zones');
  const enable = isRecord(zones) ? idList(B('zones', 'enable'), own(zones, 'enable')) : [];
  const disable = isRecord(zones) ? idList(B('zones', 'disable'), own(zones, 'disable')) : [];
  const enabledAt = new Map<string, number>();
  for (const e of enable) if (!enabledAt.has(e.value)) enabledAt.set(e.value, e.index);
  const disabledAt = new Map<string, number>();
  for (const d of disable) if (!disabledAt.has(d.value)) disabledAt.set(d.value, d.index);
  for (const [id, e] of enabledAt) {
    const d = disabledAt.get(id);
    if (d === undefined) continue;
    const both = `zone ${quote(id)} is both enabled and disabled`;
    out.push({
      path: B('zones', 'enable', e),
      message: `${both} (disabled at ${where(B('zones', 'disable', d), lineOf)}); keep one`,
      severity: 'error',
    });
    out.push({
      path: B('zones', 'disable', d),
      message: `${both} (enabled at ${where(B('zones', 'enable', e), lineOf)}); keep one`,
      severity: 'error',
    });
  }

  // Keys: per zone id; an id that names no zone is not shown (it may be the key itself).
  const rawKeys = own(bl, 'keys');
  const keyed = new Set<string>();
  if (isRecord(rawKeys)) {
    for (const id of Object.keys(rawKeys)) {
      if (!isKnown(id)) {
        out.push({
          path: B('keys', id),
          message: `a key names no zone (not shown: it may be the key itself); keys are given by zone id, e.g. spamhaus-zen-dqs: { env: SPAMHAUS_DQS_KEY }; known zone ids: ${knownList(known)}`,
          severity: 'error',
        });
        continue;
      }
      keyed.add(id);
      const zone = definition(id);
      if (zone && zone.key === null) {
        out.push({
          path: B('keys', id),
          message: `zone ${quote(id)} (${zone.name}) takes no key; this key is not used`,
          severity: 'warning',
        });
      }
    }
  }

  const rawBudget = own(bl, 'dailyBudget');
  if (isRecord(rawBudget)) {
    for (const id of Object.keys(rawBudget)) if (!isKnown(id)) unknown(B('dailyBudget', id), id);
  }

  // What runs: the default-enabled zones (registry and custom), plus enable, minus disable.
  const enabled = new Map<string, { zone: ZoneDefinition; origin: Origin }>();
  for (const zone of ZONES) if (zone.defaultEnabled) enabled.set(zone.id, { zone, origin: { kind: 'default' } });
  for (const [id, c] of custom) {
    if (c.zone?.defaultEnabled) enabled.set(id, { zone: c.zone, origin: { kind: 'default' } });
  }
  for (const [id, index] of enabledAt) {
    const zone = definition(id);
    if (zone) enabled.set(id, { zone, origin: { kind: 'enable', index } });
  }
  for (const id of disabledAt.keys()) enabled.delete(id);

  const allPublic = resolversAllPublic(doc, bl);
  for (const [id, { zone, origin }] of enabled) {
    const c = custom.get(id);
    const path = origin.kind === 'enable' ? B('zones', 'enable', origin.index) : c ? B('custom', c.index) : B();
    const off = `it will be reported as not checked (or disable it: blocklists.zones.disable)`;
    const atKey = origin.kind === 'default' && !c;
    if (zone.key !== null) {
      if (!keyed.has(id)) {
        out.push({
          path,
          message: `zone ${quote(id)} (${zone.operator}) needs a key and blocklists.keys.${id} is not set; ${off}`,
          severity: 'warning',
          atKey,
        });
      }
      continue;
    }
    if (!allPublic) continue;
    if (zone.publicResolvers === 'refused') {
      out.push({
        path,
        message: `zone ${quote(id)} needs a private resolver (${zone.operator} refuses queries through public resolvers and DoH) and every resolver here is public; set blocklists.resolvers, or ${off}`,
        severity: 'warning',
        atKey,
      });
    } else if (zone.registrationRequired) {
      out.push({
        path,
        message: `zone ${quote(id)} needs a resolver registered with ${zone.operator} and every resolver here is public; set blocklists.resolvers, or ${off}`,
        severity: 'warning',
        atKey,
      });
    }
  }
  return out;
}

/** Are all resolvers blocklist queries would use public (`blocklists.resolvers`, else `dns.resolvers`)? */
function resolversAllPublic(doc: Record<string, unknown>, bl: Record<string, unknown>): boolean {
  const dns = own(doc, 'dns');
  const raw = Object.hasOwn(bl, 'resolvers')
    ? own(bl, 'resolvers')
    : isRecord(dns) && Object.hasOwn(dns, 'resolvers')
      ? own(dns, 'resolvers')
      : [...DEFAULT_RESOLVERS];
  if (!Array.isArray(raw) || raw.length > LIMITS.resolvers) return false;
  const valid: string[] = [];
  for (const r of raw) {
    const p = ResolverSchema.safeParse(r);
    if (p.success) valid.push(p.data);
  }
  // Nothing valid to judge by: the schema reports the resolvers; say nothing more.
  return valid.length > 0 && valid.every(isPublicResolver);
}

// ---------------------------------------------------------------------------------------------------------------
// A validated configuration

/**
 * The zones blocklist checks query, in order (registry zones in registry order, then custom zones): each zone with
 * `defaultEnabled: true` plus `blocklists.zones.enable`, minus `blocklists.zones.disable`, minus the tenant's
 * `blocklists.disable` when `tenantId` is given. Key zones are included whether or not a key is set (the engine
 * reports them as not checked without one).
 */
export function blocklistZones(config: RelaywatchConfig, tenantId?: string): ZoneDefinition[] {
  const bl = config.blocklists;
  const enable = new Set(bl?.zones.enable ?? []);
  const disable = new Set(bl?.zones.disable ?? []);
  if (tenantId !== undefined) {
    const t = config.tenants.find((x) => x.id === tenantId);
    for (const id of t?.blocklists?.disable ?? []) disable.add(id);
  }
  return [...ZONES, ...(bl?.custom ?? [])].filter((z) => (z.defaultEnabled || enable.has(z.id)) && !disable.has(z.id));
}

/** The resolvers blocklist queries use: `blocklists.resolvers`, else `dns.resolvers`. */
export function blocklistResolvers(config: RelaywatchConfig): readonly string[] {
  return config.blocklists?.resolvers ?? config.dns.resolvers;
}
