/**
 * The DNS blocklist registry: `zones.yaml` next to this module (the source of truth, with its comments), or the
 * `zones.json` written from it beside a Lambda bundle; validated at import time.
 *
 * The same zod schema (`zoneDefinitionSchema`) validates zones added by tenants or the MSP in config. A broken
 * registry is a bug in this repository: importing throws a `ZoneRegistryError` naming the path of each problem.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as z from 'zod';

export const LISTING_KINDS = ['abuse', 'policy', 'neighbourhood'] as const;
/** abuse: the address did harm; policy: a statement about the address space; neighbourhood: the range/ASN, not the address. */
export type ListingKind = (typeof LISTING_KINDS)[number];

const LOOPBACK_CODE =
  /^127\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const ZONE_NAME = /^(\{key\}\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** A domain name as a domain zone's test point: lower case, at least one label, no trailing dot. */
const TEST_DOMAIN = /^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$/;

const codeSchema = z.string().regex(LOOPBACK_CODE, 'must be an address in 127.0.0.0/8 written as a.b.c.d');
const urlSchema = z
  .string()
  .regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL')
  .nullable();

export const zoneDefinitionSchema = z
  .object({
    id: z.string().regex(ID, 'must be kebab-case (a-z, 0-9, -)'),
    name: z.string().regex(ZONE_NAME, 'must be a lower-case DNS zone name, optionally starting with "{key}."'),
    operator: z.string().min(1),
    /** ip / range / asn: zones asked for addresses; domain: zones asked for domain names (DBL, SURBL, URIBL…). */
    scope: z.enum(['ip', 'range', 'asn', 'domain']),
    kind: z.enum([...LISTING_KINDS, 'mixed']),
    codes: z.record(codeSchema, z.object({ meaning: z.string().min(1), kind: z.enum(LISTING_KINDS) }).strict()),
    errorCodes: z.record(codeSchema, z.string().min(1)),
    /**
     * What an answer in 127/8 that `codes` does not document means: `listed` (the default; decoded as "unlisted
     * code") or `error` (the operator says only its documented codes are listings, e.g. SpamRATS: anything else is a
     * refusal, so the zone is unusable for the run).
     */
    undocumentedCodes: z.enum(['listed', 'error']).default('listed'),
    /**
     * The codes are bits of the last octet (SURBL, URIBL): an answer that is no documented code is decoded into the
     * documented codes whose bits it carries (127.0.0.80 = 127.0.0.16 + 127.0.0.64).
     */
    bitmask: z.boolean().default(false),
    /**
     * A domain zone's RFC 5782 §5 test points when the operator documents its own (Spamhaus DBL: dbltest.com);
     * default `test` (must be listed) and `invalid` (must not be).
     */
    testPoints: z
      .object({
        listed: z.string().regex(TEST_DOMAIN, 'must be a lower-case domain name'),
        notListed: z.string().regex(TEST_DOMAIN, 'must be a lower-case domain name'),
      })
      .strict()
      .optional(),
    ipv6: z.boolean(),
    txt: z.boolean().default(false),
    key: z
      .object({ required: z.literal(true), placement: z.literal('label-prefix') })
      .strict()
      .nullable(),
    registrationRequired: z.boolean().default(false),
    publicResolvers: z.enum(['works', 'refused', 'unreliable']),
    terms: z
      .string()
      .min(1)
      .refine((s) => !s.includes('\n'), 'must be one line'),
    lookupUrl: urlSchema,
    removalUrl: urlSchema,
    defaultEnabled: z.boolean(),
    sources: z.array(z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')).default([]),
    notes: z.string().optional(),
  })
  .strict()
  .superRefine((zone, ctx) => {
    const hasPlaceholder = zone.name.includes('{key}');
    if (hasPlaceholder && zone.key === null)
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'the name has a {key} placeholder, so key must be set' });
    if (!hasPlaceholder && zone.key !== null)
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'key is set, so the name must start with "{key}."' });
    if (zone.testPoints !== undefined && zone.scope !== 'domain')
      ctx.addIssue({
        code: 'custom',
        path: ['testPoints'],
        message: 'only a domain zone (scope: domain) has testPoints',
      });
    if (zone.scope === 'domain' && zone.ipv6)
      ctx.addIssue({
        code: 'custom',
        path: ['ipv6'],
        message: 'a domain zone is asked for names, not addresses: ipv6 must be false',
      });
    for (const [code, def] of Object.entries(zone.codes)) {
      if (code.startsWith('127.255.255.'))
        ctx.addIssue({
          code: 'custom',
          path: ['codes', code],
          message: '127.255.255.0/24 is reserved for error answers',
        });
      if (code === '127.0.0.1')
        ctx.addIssue({
          code: 'custom',
          path: ['codes', code],
          message: '127.0.0.1 must never be listed (RFC 5782 §5)',
        });
      if (code in zone.errorCodes)
        ctx.addIssue({ code: 'custom', path: ['codes', code], message: 'is also an error code' });
      if (zone.kind !== 'mixed' && def.kind !== zone.kind)
        ctx.addIssue({
          code: 'custom',
          path: ['codes', code, 'kind'],
          message: `is ${def.kind} but the zone kind is ${zone.kind} (use kind: mixed)`,
        });
    }
  });

/** A zone as validated (defaults applied). */
export type ZoneDefinition = z.output<typeof zoneDefinitionSchema>;

const registrySchema = z.object({ zones: z.array(zoneDefinitionSchema).min(1) }).strict();

export class ZoneRegistryError extends Error {
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(`${source}: invalid blocklist registry:\n  ${problems.join('\n  ')}`, options);
    this.name = 'ZoneRegistryError';
    this.problems = problems;
  }
}

function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out === '' ? '(root)' : out;
}

/** Validate registry data (the parsed YAML). Throws `ZoneRegistryError` naming each problem's path. */
export function parseZoneRegistry(data: unknown, source: string): readonly ZoneDefinition[] {
  const result = registrySchema.safeParse(data);
  if (!result.success) {
    throw new ZoneRegistryError(
      source,
      result.error.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message}`),
    );
  }
  const problems: string[] = [];
  const ids = new Map<string, number>();
  const names = new Map<string, number>();
  result.data.zones.forEach((zone, i) => {
    const dupId = ids.get(zone.id);
    if (dupId !== undefined) problems.push(`zones[${i}].id: "${zone.id}" is already used by zones[${dupId}]`);
    else ids.set(zone.id, i);
    const dupName = names.get(zone.name);
    if (dupName !== undefined) problems.push(`zones[${i}].name: "${zone.name}" is already used by zones[${dupName}]`);
    else names.set(zone.name, i);
  });
  if (problems.length > 0) throw new ZoneRegistryError(source, problems);
  return result.data.zones;
}

/**
 * The YAML parser, for zones.yaml only. Loaded with `require` when a YAML registry is read, not imported: a static
 * import would put `yaml` (112 KB) in every Lambda bundle's cold-start code, although a bundle always reads the
 * zones.json beside it; and a dynamic `import()` cannot serve the synchronous module-level `ZONES`. esbuild leaves a
 * `require` made by `createRequire` alone (it is not the free `require`), so the bundles do not carry `yaml` at all
 * (test/infra/bundle-contents.test.ts), and a bundle without its zones.json would fail at import with the error below.
 */
function parseYaml(text: string): unknown {
  const load = createRequire(import.meta.url);
  let yaml: typeof import('yaml');
  try {
    yaml = load('yaml') as typeof import('yaml');
  } catch (cause) {
    throw new Error('the yaml package is not available here (a bundle reads zones.json, written beside it)', {
      cause,
    });
  }
  return yaml.parse(text);
}

/** Read and validate a registry file: YAML, or JSON for a `.json` file (the same data, as the bundles carry it). */
export function loadZoneRegistry(url: URL): readonly ZoneDefinition[] {
  const json = url.pathname.endsWith('.json');
  let data: unknown;
  try {
    const text = readFileSync(url, 'utf8');
    data = json ? JSON.parse(text) : parseYaml(text);
  } catch (cause) {
    throw new ZoneRegistryError(url.pathname, [`the file could not be read as ${json ? 'JSON' : 'YAML'}`], { cause });
  }
  return parseZoneRegistry(data, url.pathname);
}

export const ZONES_FILE = new URL('./zones.yaml', import.meta.url);

/**
 * The registry as JSON beside a Lambda bundle (written at bundling time from zones.yaml, see
 * cdk/constructs/monitor-function.ts): parsing 36 KB of YAML at every cold start costs tens of milliseconds, JSON
 * about one. Absent next to the sources, where zones.yaml is read.
 */
export const ZONES_JSON_FILE = new URL('./zones.json', import.meta.url);

/** Every zone of the registry, in file order. */
export const ZONES: readonly ZoneDefinition[] = Object.freeze(
  loadZoneRegistry(existsSync(ZONES_JSON_FILE) ? ZONES_JSON_FILE : ZONES_FILE),
);

const BY_ID: ReadonlyMap<string, ZoneDefinition> = new Map(ZONES.map((z) => [z.id, z]));

export function zoneById(id: string): ZoneDefinition | undefined {
  return BY_ID.get(id);
}

/**
 * The generic RFC 5782 reading of a zone nobody described: 127.0.0.2–127.0.0.254 listed ("listed (code 127.0.0.N)"),
 * 127.255.255.0/24 error answers (applied to every zone by the verdict), IPv4 and IPv6, abuse, no key.
 */
export function genericZone(name: string): ZoneDefinition {
  const codes: Record<string, { meaning: string; kind: ListingKind }> = {};
  for (let n = 2; n <= 254; n++) codes[`127.0.0.${n}`] = { meaning: `listed (code 127.0.0.${n})`, kind: 'abuse' };
  const zoneName = name.trim().toLowerCase().replace(/\.$/, '');
  return {
    id: `custom-${zoneName.replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')}`,
    name: zoneName,
    operator: 'unknown (custom zone)',
    scope: 'ip',
    kind: 'abuse',
    codes,
    errorCodes: {},
    undocumentedCodes: 'listed',
    bitmask: false,
    ipv6: true,
    txt: true,
    key: null,
    registrationRequired: false,
    publicResolvers: 'unreliable',
    terms: 'unknown: custom zone added in config',
    lookupUrl: null,
    removalUrl: null,
    defaultEnabled: true,
    sources: [],
    notes: 'Generic RFC 5782 semantics: not in the registry.',
  };
}
