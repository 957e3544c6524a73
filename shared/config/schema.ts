/**
 * The relaywatch configuration file (`relaywatch.yaml`, version 1) as zod schemas, and the types they produce.
 *
 * Every object is strict: an unknown key is an error that names it (a typo such as `relayIP` must not silently drop
 * a setting). Values are normalised on the way in: domain names lower-case A-labels without a trailing dot, relay
 * entries canonical (`2001:db8::25`, `203.0.113.0/29`), domain entries always `{ name, expectedMx? }`.
 *
 * These schemas check one value at a time. Rules across values (duplicates, a domain in two tenants, probe
 * recipients outside the tenant's domains…) and warnings live in `rules.ts`; `load.ts` runs both and maps every
 * problem to its line. Reference: docs/configuration.md.
 *
 * Messages never quote a value found where a secret belongs (a secret typed in plain text must not be echoed into a
 * terminal, a CI log or an alert).
 */
import net from 'node:net';
import * as z from 'zod';
import { zoneDefinitionSchema } from '../blocklist/registry.ts';
import { isLoopbackHost } from '../domain/ip.ts';
import { normaliseDomainName, normaliseMailbox } from './domain-name.ts';
import { quote } from './problems.ts';
import { parseRelayIp } from './relay-ip.ts';

export const CONFIG_VERSION = 1;
export const DEFAULT_RESOLVERS: readonly string[] = [
  'doh:https://cloudflare-dns.com/dns-query',
  'doh:https://dns.google/dns-query',
];
export const DEFAULT_DNS_TIMEOUT_MS = 2500;
export const DEFAULT_DNS_CONCURRENCY = 32;
export const DEFAULT_SUBMISSION_HOST = 'smtp.office365.com';
export const DEFAULT_SUBMISSION_PORT = 587;
export const DEFAULT_RELAY_PORT = 25;
/** The environment variable that names the secrets file (it takes precedence over `secrets.file`). */
export const SECRETS_FILE_ENV = 'RELAYWATCH_SECRETS_FILE';

/** List sizes accepted (beyond them a file is more likely generated wrong than real; they also bound the work). */
export const LIMITS = {
  tenants: 10_000,
  domainsPerTenant: 500,
  relayIpsPerTenant: 256,
  probeRecipientsPerTenant: 20,
  tagsPerTenant: 20,
  resolvers: 16,
  customZones: 64,
  zoneIds: 256,
} as const;

export const DEFAULT_BLOCKLIST_CONCURRENCY = 64;
export const DEFAULT_BLOCKLIST_PER_ZONE_CONCURRENCY = 16;

function atMost(n: number, what: string): string {
  return `must list at most ${n} ${what}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Scalars

/** A person-readable name: trimmed, 1..200 characters, no control characters. */
function displayName(what: string) {
  return (
    z
      .string()
      .trim()
      .min(1, `${what} must not be empty`)
      .max(200, `${what} must be at most 200 characters`)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
      .refine((s) => !/[\x00-\x1f\x7f-\x9f\u2028\u2029]/.test(s), `${what} must not contain control characters`)
  );
}

/** A domain name, normalised (see domain-name.ts). */
export const DomainNameSchema = z.string().transform((s, ctx) => {
  const r = normaliseDomainName(s);
  if (r.ok) return r.value;
  ctx.addIssue({ code: 'custom', message: `${quote(s)} is not a valid domain name${r.reason ? `: ${r.reason}` : ''}` });
  return z.NEVER;
});

/** A host name (e.g. an MX host or an SMTP server): the same rules as a domain name. */
export const HostNameSchema = z.string().transform((s, ctx) => {
  const r = normaliseDomainName(s);
  if (r.ok) return r.value;
  ctx.addIssue({ code: 'custom', message: `${quote(s)} is not a valid host name${r.reason ? `: ${r.reason}` : ''}` });
  return z.NEVER;
});

/** A host name, or an IP address (a smart host on the LAN, a lab endpoint). */
export const HostOrIpSchema = z.string().transform((input, ctx) => {
  const s = input.trim();
  if (net.isIP(s) !== 0) return s;
  const r = normaliseDomainName(s);
  if (r.ok) return r.value;
  const single = r.reason?.startsWith('it needs at least two labels');
  ctx.addIssue({
    code: 'custom',
    message: single
      ? `${quote(s)} is a single-label name, which is not accepted: use a fully qualified host name (e.g. smtp.office365.com) or an IP address (for this machine, 127.0.0.1 or ::1)`
      : `${quote(s)} is neither an IP address nor a valid host name${r.reason ? ` (${r.reason})` : ''}: use a host name such as smtp.office365.com or an IP address`,
  });
  return z.NEVER;
});

/** A mailbox address `local@domain`, the domain normalised. */
export const MailboxSchema = z.string().transform((s, ctx) => {
  const r = normaliseMailbox(s);
  if (r.ok) return r.value;
  ctx.addIssue({
    code: 'custom',
    message: `${quote(s)} is not a valid e-mail address${r.reason ? `: ${r.reason}` : ''}`,
  });
  return z.NEVER;
});

/** A relay address or small range, canonical (see relay-ip.ts for the decisions). */
export const RelayIpSchema = z.string().transform((s, ctx) => {
  const r = parseRelayIp(s);
  if (r.ok) return r.value.text;
  ctx.addIssue({ code: 'custom', message: `${quote(s)} ${r.reason}` });
  return z.NEVER;
});

const SLUG = /^[a-z0-9][a-z0-9-]*$/;

/** A tenant id: lower-case letters, digits and hyphens, 1..63 characters, starting with a letter or digit. */
export const TenantIdSchema = z.string().refine((s) => s.length <= 63 && SLUG.test(s), {
  error: (iss) =>
    `${quote(String(iss.input))} is not a valid tenant id: use lower-case letters, digits and hyphens (1..63 characters, starting with a letter or digit)`,
});

/** A tag: like a tenant id, at most 32 characters. */
export const TagSchema = z.string().refine((s) => s.length <= 32 && SLUG.test(s), {
  error: (iss) =>
    `${quote(String(iss.input))} is not a valid tag: use lower-case letters, digits and hyphens (1..32 characters, starting with a letter or digit)`,
});

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID such as an Entra application (client) ID, lower-cased. Not quoted in messages. */
export const GuidSchema = z
  .string()
  .trim()
  .refine((s) => GUID.test(s), 'must be a GUID (8-4-4-4-12 hexadecimal digits)')
  .transform((s) => s.toLowerCase());

/** The Entra tenant: its ID (a GUID) or one of its verified domains (e.g. contoso.onmicrosoft.com). */
export const EntraTenantSchema = z
  .string()
  .trim()
  .transform((s, ctx) => {
    if (GUID.test(s)) return s.toLowerCase();
    const d = normaliseDomainName(s);
    if (d.ok) return d.value;
    ctx.addIssue({
      code: 'custom',
      message: 'must be the Entra tenant ID (a GUID) or one of its domains (e.g. contoso.onmicrosoft.com)',
    });
    return z.NEVER;
  });

// ---------------------------------------------------------------------------------------------------------------
// Secret references

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const SECRET_REF_HINT =
  'use { env: NAME } (an environment variable), { secret: name } (an entry of the secrets file), { secretsManager: NAME, key: K } (AWS Secrets Manager) or { ssm: /path } (an SSM Parameter Store SecureString)';
/** AWS Secrets Manager secret names and ARNs: letters, digits and /_+=.@:- (at most 2048). */
const SECRETS_MANAGER_ID = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;

/** SSM Parameter Store names, with their leading slash: letters, digits and _.-/ (at most 1011 with the slash). */
const SSM_PARAMETER_NAME = /^\/[A-Za-z0-9_.\-/]{1,1010}$/;

/** A valid secrets-file entry name. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Where a secret comes from: `{ env: NAME }` or `{ secret: name }` (an entry of the secrets file). The secret itself
 * never appears in the configuration; anything else in its place is an error that does not quote it.
 */
export const SecretRefSchema = z
  .strictObject(
    {
      env: z
        .string({ error: 'must be the name of an environment variable' })
        .refine(
          (s) => ENV_NAME.test(s),
          'must be the name of an environment variable (letters, digits and _, not starting with a digit)',
        )
        .optional(),
      secret: z
        .string({ error: 'must be the name of an entry in the secrets file' })
        .refine(
          (s) => SECRET_NAME.test(s),
          'must be the name of an entry in the secrets file (letters, digits, _, . and -, at most 128)',
        )
        .optional(),
      secretsManager: z
        .string({ error: 'must be the name or ARN of an AWS Secrets Manager secret' })
        .refine((s) => SECRETS_MANAGER_ID.test(s), 'must be the name or ARN of an AWS Secrets Manager secret')
        .optional(),
      ssm: z
        .string({ error: 'must be the name of an SSM parameter, such as /relaywatch/prod/dqs-key' })
        .refine(
          (s) => SSM_PARAMETER_NAME.test(s) && !s.includes('//') && !s.endsWith('/'),
          'must be the name of an SSM parameter with its leading slash (letters, digits and _ . - /), such as /relaywatch/prod/dqs-key',
        )
        .optional(),
      /** With secretsManager: the key inside a JSON secret (one secret holds many values: grouped secrets). */
      key: z.string().min(1).max(256).optional(),
    },
    {
      error: (iss) =>
        iss.code === 'invalid_type'
          ? iss.input === undefined
            ? `is required: ${SECRET_REF_HINT}`
            : `must be a reference to a secret, not the secret itself: ${SECRET_REF_HINT}`
          : undefined,
    },
  )
  .superRefine((ref, ctx) => {
    const given = [ref.env, ref.secret, ref.secretsManager, ref.ssm].filter((v) => v !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `needs exactly one of env, secret, secretsManager or ssm: ${SECRET_REF_HINT}`,
      });
    }
    if (ref.key !== undefined && ref.secretsManager === undefined) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'is only used with secretsManager' });
    }
  })
  .transform(
    (ref): SecretRef =>
      ref.env !== undefined
        ? { env: ref.env }
        : ref.ssm !== undefined
          ? { ssm: ref.ssm }
          : ref.secretsManager !== undefined
            ? { secretsManager: ref.secretsManager, ...(ref.key !== undefined ? { key: ref.key } : {}) }
            : { secret: ref.secret ?? '' },
  );

export type SecretRef =
  | { readonly env: string }
  | { readonly secret: string }
  | { readonly secretsManager: string; readonly key?: string }
  | { readonly ssm: string };

// ---------------------------------------------------------------------------------------------------------------
// Sections

export const ContactSchema = z.strictObject({
  name: displayName('the contact name'),
  email: MailboxSchema,
  phone: z
    .string()
    .trim()
    .refine(
      (s) => /^\+?[0-9][0-9 ().-]{2,30}$/.test(s),
      'must be a phone number (digits, spaces, ( ) . - and an optional leading +)',
    )
    .optional(),
});

export const MspSchema = z.strictObject({
  name: displayName('the MSP name'),
  contact: ContactSchema,
});

const RESOLVER_FORMS = 'use doh:https://host/path, https://host/path, udp://IP[:port] or tcp://IP[:port]';

/**
 * The shape of a resolver spec (the DNS adapters parse it for real): `doh:https://…`, `https://…`,
 * `udp://IPv4[:port]`, `udp://[IPv6][:port]` and the same with `tcp://`. Plain DNS servers must be IP addresses.
 * A DoH URL must not carry a user name or password (they would end up in logs). Not quoted in messages.
 */
export const ResolverSchema = z
  .string()
  .trim()
  .superRefine((s, ctx) => {
    const fail = (why: string) => ctx.addIssue({ code: 'custom', message: `${why}; ${RESOLVER_FORMS}` });
    const lower = s.toLowerCase();
    if (lower.startsWith('doh:') || lower.startsWith('https:') || lower.startsWith('http:')) {
      const urlText = lower.startsWith('doh:') ? s.slice(4) : s;
      if (!URL.canParse(urlText)) return fail('is not a valid DoH URL');
      const url = new URL(urlText);
      if (url.protocol !== 'https:') return fail('DNS over HTTPS needs an https:// URL');
      if (url.hostname === '') return fail('the DoH URL has no host');
      if (url.username !== '' || url.password !== '') {
        return fail('the DoH URL must not contain a user name or password (they would appear in logs)');
      }
      if (url.hash !== '') return fail('the DoH URL must not have a #fragment');
      return;
    }
    const plain = /^(udp|tcp):\/\/(?:\[([^\]]*)\]|([^:/[\]]*))(?::([0-9]{1,5}))?\/?$/i.exec(s);
    if (!plain) return fail('is not a resolver');
    const [, , v6, v4, port] = plain;
    const okHost = v6 !== undefined ? net.isIPv6(v6) : net.isIPv4(v4 ?? '');
    if (!okHost) return fail('a plain DNS server must be an IP address (a DNS server cannot be found by name)');
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return fail('the port must be 1..65535');
  });

export const DnsSchema = z.strictObject({
  resolvers: z
    .array(ResolverSchema)
    .min(1, 'must list at least one resolver (or leave resolvers out for the defaults)')
    .max(LIMITS.resolvers, atMost(LIMITS.resolvers, 'resolvers'))
    .default(() => [...DEFAULT_RESOLVERS]),
  timeoutMs: z.number().int().min(100).max(30_000).default(DEFAULT_DNS_TIMEOUT_MS),
  concurrency: z.number().int().min(1).max(256).default(DEFAULT_DNS_CONCURRENCY),
  caFile: z.string().trim().min(1).max(4096).optional(),
});

// ---------------------------------------------------------------------------------------------------------------
// DNS blocklists

const ZONE_ID = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * A blocklist zone id as written in the configuration (kebab-case, like the registry's). Whether it names a zone
 * (registry or custom) is a rule across values (`blocklists.ts`).
 */
export const ZoneIdSchema = z.string().refine((s) => s.length <= 63 && ZONE_ID.test(s), {
  error: (iss) =>
    typeof iss.input === 'string'
      ? `${quote(iss.input, 64)} is not a zone id: zone ids are kebab-case (a-z, 0-9, -), as in the blocklist registry`
      : undefined,
});

const zoneIdList = z
  .array(ZoneIdSchema)
  .max(LIMITS.zoneIds, atMost(LIMITS.zoneIds, 'zone ids'))
  .default(() => []);

export const BlocklistZonesSchema = z.strictObject({
  enable: zoneIdList,
  disable: zoneIdList,
});

/**
 * Per zone id, a secret reference to the zone's key (`{ env }` / `{ secret }`). A mapping key that names no zone is
 * never quoted (it may be the key itself, typed in the wrong place).
 */
export const BlocklistKeysSchema = z.record(z.string(), SecretRefSchema);

export const BlocklistsSchema = z.strictObject({
  resolvers: z
    .array(ResolverSchema)
    .min(1, 'must list at least one resolver (or leave resolvers out to use dns.resolvers)')
    .max(LIMITS.resolvers, atMost(LIMITS.resolvers, 'resolvers'))
    .optional(),
  zones: BlocklistZonesSchema.prefault({}),
  custom: z
    .array(zoneDefinitionSchema)
    .max(LIMITS.customZones, atMost(LIMITS.customZones, 'custom zones'))
    .default(() => []),
  keys: BlocklistKeysSchema.default(() => ({})),
  dailyBudget: z
    .record(z.string(), z.number().int().min(1, 'must be at least 1 (to stop querying a zone, disable it)').max(1e9))
    .default(() => ({})),
  concurrency: z.number().int().min(1).max(256).default(DEFAULT_BLOCKLIST_CONCURRENCY),
  perZoneConcurrency: z.number().int().min(1).max(64).default(DEFAULT_BLOCKLIST_PER_ZONE_CONCURRENCY),
});

/** Per tenant: zones not to query for this tenant's addresses. */
export const TenantBlocklistsSchema = z.strictObject({
  disable: zoneIdList,
});

export const SecretsSchema = z.strictObject({
  file: z.string().trim().min(1).max(4096),
});

/** A domain entry: a name, or `{ name, expectedMx }`. Always produced as an object. */
export const DomainEntrySchema = z.union([
  DomainNameSchema.transform((name) => ({ name })),
  z.strictObject({
    name: DomainNameSchema,
    expectedMx: HostNameSchema.optional(),
  }),
]);

const submissionCommon = {
  mailbox: MailboxSchema,
  host: HostOrIpSchema.default(DEFAULT_SUBMISSION_HOST),
  port: z.number().int().min(1).max(65_535).default(DEFAULT_SUBMISSION_PORT),
};

function requiredFor(auth: string, what: string) {
  return (iss: { input?: unknown }) =>
    iss.input === undefined ? `is required for auth: ${auth} (${what})` : undefined;
}

export const OAuthSubmissionSchema = z.strictObject({
  auth: z.literal('oauth'),
  ...submissionCommon,
  entraTenantId: z
    .string({ error: requiredFor('oauth', 'the Entra tenant ID or one of its domains') })
    .pipe(EntraTenantSchema),
  clientId: z.string({ error: requiredFor('oauth', "the Entra application's client ID, a GUID") }).pipe(GuidSchema),
  clientSecret: SecretRefSchema,
});

export const BasicSubmissionSchema = z.strictObject({
  auth: z.literal('basic'),
  ...submissionCommon,
  password: SecretRefSchema,
});

/** How the site's devices relay: the relay probe (`relaywatch probe relay`, the site agent) sends the same way. */
export const RelayProbeSchema = z.strictObject({
  /** The device's sender address (its From and envelope sender); its domain must be an accepted domain of the tenant. */
  sender: MailboxSchema,
  /** The relay endpoint. Default: the tenant's Microsoft 365 MX host (the sender domain's expectedMx, else its MX). */
  host: HostOrIpSchema.optional(),
  port: z.number().int().min(1).max(65_535).default(DEFAULT_RELAY_PORT),
  /** `if-offered` (the default, what devices do) or `required` (the probe fails when STARTTLS is not offered). */
  tls: z.enum(['if-offered', 'required']).default('if-offered'),
});

/** Authenticated submission (SMTP AUTH) for the tenant; `auth` selects the variant. */
export const SubmissionSchema = z.discriminatedUnion('auth', [OAuthSubmissionSchema, BasicSubmissionSchema], {
  error: (iss) => {
    if (iss.code !== 'invalid_union') return undefined;
    const input: unknown = iss.input;
    const missing = typeof input === 'object' && input !== null && !Object.hasOwn(input, 'auth');
    return missing ? 'is required: oauth or basic' : 'must be oauth or basic';
  },
});

// ---------------------------------------------------------------------------------------------------------------
// State, incidents and alerts

/** Where results, state and incidents are kept (the CLI's `--store` wins). */
export const StateSchema = z.strictObject({
  store: z
    .string()
    .trim()
    .regex(/^(?:sqlite(?::.*)?|dynamodb:[A-Za-z0-9_.-]{3,255})$/, 'must be sqlite:PATH or dynamodb:TABLE')
    .optional(),
  /** Raw results (checks, events) are kept this long; incidents and state are kept. */
  retentionDays: z.number().int().min(1).max(3650).default(90),
});

const SeverityNameSchema = z.enum(['info', 'warning', 'critical']);
const RouteIdSchema = TenantIdSchema;

const EmailRouteSchema = z.strictObject({
  from: MailboxSchema,
  to: z.array(MailboxSchema).min(1).max(20),
  replyTo: MailboxSchema.optional(),
  smtp: z
    .strictObject({
      host: HostOrIpSchema,
      port: z.number().int().min(1).max(65_535).default(587),
      secure: z.boolean().default(false),
      requireTLS: z.boolean().default(true),
      user: z.string().min(1).max(256).optional(),
      password: SecretRefSchema.optional(),
      /** A PEM file (relative to the config file) of the CA that signed a private SMTP host's certificate. */
      ca: z.string().trim().min(1).max(4096).optional(),
    })
    .optional(),
  ses: z
    .strictObject({
      region: z.string().regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, 'must be an AWS region, e.g. eu-west-2'),
      /** An SES endpoint of your own (a VPC interface endpoint); default the region's public one. */
      endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    })
    .optional(),
});

/** One alert route: exactly one channel, plus the lowest severity it takes. */
export const AlertRouteSchema = z
  .strictObject({
    id: RouteIdSchema,
    minSeverity: SeverityNameSchema.default('warning'),
    slack: z.strictObject({ webhookUrl: SecretRefSchema }).optional(),
    teams: z.strictObject({ webhookUrl: SecretRefSchema }).optional(),
    email: EmailRouteSchema.optional(),
    webhook: z.strictObject({ url: SecretRefSchema, secret: SecretRefSchema }).optional(),
    /** A folder: each alert as `.eml` (packet attached) and as the webhook JSON (docs/state-incidents-alerts.md). */
    file: z
      .strictObject({
        dir: z.string().trim().min(1, 'must name a folder').max(1024),
        from: MailboxSchema.optional(),
        to: z.array(MailboxSchema).min(1).max(20).optional(),
      })
      .optional(),
  })
  .superRefine((r, ctx) => {
    const channels = (['slack', 'teams', 'email', 'webhook', 'file'] as const).filter((c) => r[c] !== undefined);
    if (channels.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          channels.length === 0
            ? 'needs one channel: slack, teams, email, webhook or file'
            : `has ${channels.join(' and ')}: one channel per route (make one route per channel)`,
      });
    }
    if (r.email && (r.email.smtp === undefined) === (r.email.ses === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['email'], message: 'needs exactly one of smtp or ses' });
    }
  });

export const AlertsSchema = z.strictObject({
  routes: z
    .array(AlertRouteSchema)
    .max(50)
    .default(() => []),
  /** Routes every tenant gets unless it says `alerts.inheritDefault: false`. */
  default: z
    .array(RouteIdSchema)
    .max(50)
    .default(() => []),
  /**
   * Let Slack, Teams and webhook routes reach loopback, private, link-local and other non-public addresses, and
   * plain http to them (a lab or a test receiver on 127.0.0.1). Default false: such destinations are refused at
   * connect time, after DNS resolution, and Internet hosts need https.
   */
  allowPrivateDestinations: z.boolean().optional(),
});

const HoursSchema = z
  .number()
  .min(0)
  .max(24 * 365);
const IncidentPolicySettingsSchema = z.strictObject({
  openAfter: z.number().int().min(1).max(100).optional(),
  resolveAfter: z.number().int().min(1).max(100).optional(),
  remindEveryHours: HoursSchema.optional(),
  escalateAfterHours: HoursSchema.nullable().optional(),
  flapping: z
    .strictObject({ transitions: z.number().int().min(2).max(10).optional(), withinHours: HoursSchema.optional() })
    .nullable()
    .optional(),
});
export const IncidentsSchema = IncidentPolicySettingsSchema.extend({
  checks: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, 'must be a check kind such as blocklist or spf'),
      IncidentPolicySettingsSchema,
    )
    .optional(),
});

const CLOCK = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const isoInstant = z
  .string()
  .refine(
    (v) =>
      /^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)$/.test(v) && Number.isFinite(Date.parse(v)),
    {
      message: 'must be an ISO 8601 time with Z or an offset, e.g. 2026-11-28T08:00:00+00:00',
    },
  );
const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as Europe/London' },
);
export const MaintenanceWindowSchema = z.union([
  z.strictObject({
    days: z
      .array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']))
      .min(1)
      .max(7),
    start: z.string().regex(CLOCK, 'must be HH:MM (24-hour)'),
    end: z.string().regex(CLOCK, 'must be HH:MM (24-hour)'),
    timeZone,
    checks: z.array(z.string().max(40)).max(20).optional(),
    note: z.string().max(200).optional(),
  }),
  z.strictObject({
    from: isoInstant,
    until: isoInstant,
    checks: z.array(z.string().max(40)).max(20).optional(),
    note: z.string().max(200).optional(),
  }),
]);
export const MuteSchema = z.strictObject({
  until: isoInstant,
  check: z.string().max(40).optional(),
  subject: z.string().max(300).optional(),
  reason: z.string().max(200).optional(),
});
export const TenantAlertsSchema = z.strictObject({
  routes: z
    .array(RouteIdSchema)
    .max(20)
    .default(() => []),
  /** Also send to `alerts.default` (default true). */
  inheritDefault: z.boolean().default(true),
  /** Only incidents at or above this severity, for this tenant. */
  minSeverity: SeverityNameSchema.optional(),
});

// ---------------------------------------------------------------------------------------------------------------
// Probe mailbox: round-trip confirmation of probes (`relaywatch confirm`, docs/configuration.md "probeMailbox")

const AUTHSERV_ID = /^[a-z0-9][a-z0-9._-]{0,252}$/;
const probeMailboxCommon = {
  /** A probe found later than this after sending is `delivered-late`. */
  lateAfterMinutes: z.number().min(1).max(1440).default(10),
  /** A probe not found this long after sending is `not-delivered`. */
  deadlineMinutes: z.number().min(1).max(2880).default(30),
  /** `delete` (default) removes a probe once read; `keep` leaves it (it is never looked for again). */
  afterRead: z.enum(['delete', 'keep']).default('delete'),
  /** Authserv-ids (a filter or MTA in front of Exchange Online) whose Authentication-Results count too. */
  trustedAuthservIds: z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .refine((v) => AUTHSERV_ID.test(v), 'must be an authserv-id such as mx.contoso.example'),
    )
    .max(10)
    .default(() => []),
};
const appCredentials = {
  entraTenantId: EntraTenantSchema,
  clientId: GuidSchema,
  clientSecret: SecretRefSchema,
};

/** Microsoft Graph, app-only (Mail.Read scoped to the mailbox by RBAC for Applications). */
export const GraphProbeMailboxSchema = z.strictObject({
  kind: z.literal('graph'),
  ...probeMailboxCommon,
  mailbox: MailboxSchema,
  ...appCredentials,
  /** Move read probes to this top-level folder (created when missing) instead of deleting them; needs Mail.ReadWrite. */
  moveTo: z.string().trim().min(1).max(255).optional(),
  /** The Graph endpoint; GCC High: https://graph.microsoft.us. */
  endpoint: z
    .string()
    .trim()
    .refine((v) => URL.canParse(v) && new URL(v).protocol === 'https:' && new URL(v).pathname === '/', {
      message: 'must be an https:// origin such as https://graph.microsoft.com',
    })
    .default('https://graph.microsoft.com'),
});

/** IMAP (any mailbox; Exchange Online with auth: oauth, which needs IMAP.AccessAsApp). */
export const ImapProbeMailboxSchema = z
  .strictObject({
    kind: z.literal('imap'),
    ...probeMailboxCommon,
    host: HostOrIpSchema,
    port: z.number().int().min(1).max(65_535).default(993),
    /** Implicit TLS (993); false means STARTTLS (required). */
    secure: z.boolean().default(true),
    user: z.string().trim().min(1).max(320),
    auth: z.enum(['password', 'oauth']).default('password'),
    password: SecretRefSchema.optional(),
    entraTenantId: EntraTenantSchema.optional(),
    clientId: GuidSchema.optional(),
    clientSecret: SecretRefSchema.optional(),
    /** The Junk folder's name when the server marks none with the `Junk` special-use flag. */
    junkFolder: z.string().trim().min(1).max(200).optional(),
  })
  .superRefine((v, ctx) => {
    const need =
      v.auth === 'password' ? (['password'] as const) : (['entraTenantId', 'clientId', 'clientSecret'] as const);
    for (const key of need) {
      if (v[key] === undefined)
        ctx.addIssue({ code: 'custom', path: [key], message: `is required for auth: ${v.auth}` });
    }
  });

export const ProbeMailboxSchema = z
  .discriminatedUnion('kind', [GraphProbeMailboxSchema, ImapProbeMailboxSchema], {
    error: (iss) => (iss.code === 'invalid_union' ? 'kind must be graph or imap' : undefined),
  })
  .refine((v) => v.deadlineMinutes > v.lateAfterMinutes, {
    message: 'deadlineMinutes must be greater than lateAfterMinutes',
    path: ['deadlineMinutes'],
  });

export const TenantSchema = z.strictObject({
  id: TenantIdSchema,
  name: displayName('the tenant name'),
  domains: z
    .array(DomainEntrySchema)
    .min(1, 'must list at least one domain')
    .max(LIMITS.domainsPerTenant, atMost(LIMITS.domainsPerTenant, 'domains')),
  relayIps: z
    .array(RelayIpSchema)
    .max(LIMITS.relayIpsPerTenant, atMost(LIMITS.relayIpsPerTenant, 'relay entries'))
    .default(() => []),
  relay: RelayProbeSchema.optional(),
  submission: SubmissionSchema.optional(),
  probeMailbox: ProbeMailboxSchema.optional(),
  probeRecipients: z
    .array(MailboxSchema)
    .max(LIMITS.probeRecipientsPerTenant, atMost(LIMITS.probeRecipientsPerTenant, 'probe recipients'))
    .optional(),
  tags: z.array(TagSchema).max(LIMITS.tagsPerTenant, atMost(LIMITS.tagsPerTenant, 'tags')).optional(),
  blocklists: TenantBlocklistsSchema.optional(),
  alerts: TenantAlertsSchema.optional(),
  maintenance: z.array(MaintenanceWindowSchema).max(20).optional(),
  mutes: z.array(MuteSchema).max(50).optional(),
});

/** Agent ids: what the ingest knows the agent by (letters, digits, `.`, `_`, `:`, `-`). */
const AgentIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1..128 letters, digits and . _ : - (e.g. contoso-hq)');

const HttpUrlSchema = (what: string) =>
  z
    .string()
    .trim()
    .refine((s) => {
      if (!URL.canParse(s)) return false;
      const u = new URL(s);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '';
    }, `must be an http(s) URL, https on the Internet (${what})`);

/** One way to discover the site's public IP: a DNS name asked at the service's own server, or an HTTPS URL. */
export const EgressMethodSchema = z.union([
  z.strictObject({
    dns: HostNameSchema,
    type: z.enum(['A', 'AAAA', 'TXT']).default('A'),
    server: z
      .string()
      .trim()
      .regex(
        /^(?:udp|tcp):\/\/(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/,
        "must be udp://IP[:port] or tcp://IP[:port]: the service's own server (a recursive resolver would answer with its own address)",
      ),
  }),
  z.strictObject({ https: HttpUrlSchema('one whose whole answer is the caller’s IP, e.g. https://api.ipify.org') }),
]);

/** The ingest endpoint: https, or http to a loopback address only (a local test ingest). */
const IngestUrlSchema = HttpUrlSchema('the ingest endpoint of your relaywatch deployment').refine((s) => {
  if (!URL.canParse(s)) return true; // HttpUrlSchema said so already
  const u = new URL(s);
  return u.protocol !== 'http:' || isLoopbackHost(u.hostname);
}, 'must be an https URL (http is accepted only for a loopback address such as http://127.0.0.1:8080/ingest): the report and its signature must not cross a network in clear');

/** The site agent (`relaywatch agent`): who it is, where it reports, how it finds the site's public IP. */
export const AgentSchema = z.strictObject({
  id: AgentIdSchema,
  /** The tenant this site belongs to; may be left out when the file has one tenant. */
  tenant: TenantIdSchema.optional(),
  /** Where results are posted (the ingest endpoint). Without it the agent prints its results. */
  ingestUrl: IngestUrlSchema.optional(),
  /** The per-agent HMAC secret shared with the ingest; required with ingestUrl. */
  secret: SecretRefSchema.optional(),
  /** Public-IP discovery, tried in order. Default: OpenDNS (myip.opendns.com), then Google (o-o.myaddr.l.google.com). */
  egress: z.array(EgressMethodSchema).min(1).max(8).optional(),
  intervalMinutes: z.number().min(1).max(1440).default(15),
  jitterSeconds: z.number().int().min(0).max(3600).default(60),
  /** An ok report that says nothing new is posted at most this often (0: every cycle). See docs/agent.md. */
  heartbeatMinutes: z.number().min(0).max(1440).default(60),
});

/**
 * The ingest function (server side): every site agent allowed to post, the tenant it belongs to, and its own HMAC
 * secret (one per site: a compromised site's secret cannot post for another tenant). `previousSecret` keeps a
 * rotation working while agents move to the new secret.
 */
export const IngestAgentSchema = z.strictObject({
  id: AgentIdSchema,
  tenant: TenantIdSchema,
  secret: SecretRefSchema,
  previousSecret: SecretRefSchema.optional(),
});
export const IngestSchema = z.strictObject({
  agents: z.array(IngestAgentSchema).max(5000, atMost(5000, 'agents')),
});

// ---------------------------------------------------------------------------------------------------------------
// Weekly digest (docs/configuration.md "digest"): one contiguous block.

/** An IANA time zone name the runtime knows (`Europe/London`, `America/New_York`, `UTC`). */
export const TimeZoneSchema = z
  .string()
  .trim()
  .refine((s) => {
    try {
      new Intl.DateTimeFormat('en-GB', { timeZone: s });
      return s.length > 0;
    } catch {
      return false;
    }
  }, 'must be an IANA time zone name, e.g. Europe/London, America/New_York or UTC');

export const DIGEST_DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;

/** Who gets a digest: mailboxes (sent through `route`'s transport) or, without `to`, the route's own recipients. */
const DigestRecipientsSchema = z.strictObject({
  /** An e-mail alert route id: its transport and From are used. */
  route: TenantIdSchema.optional(),
  to: z.array(MailboxSchema).min(1).max(20).optional(),
});

export const DigestTenantSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** The customer's IT contact(s) for the per-tenant digest. */
  to: z.array(MailboxSchema).min(1).max(20).optional(),
});

export const DigestSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** When the scheduled digest goes out (the Lambda digest function; the CLI sends when asked). */
  day: z.enum(DIGEST_DAYS).default('monday'),
  time: z
    .string()
    .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$/, 'must be a 24-hour time HH:MM, e.g. 08:00')
    .default('08:00'),
  /** Days, weeks and the 7-day strips are cut in this zone. */
  timeZone: TimeZoneSchema.default('UTC'),
  /** White label: the accent colour of every digest and the report (the MSP name comes from `msp.name`). */
  accentColor: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'must be a #RRGGBB colour, e.g. #0a5fb4')
    .default('#0a5fb4'),
  /** Where the MSP-wide digest goes. */
  msp: DigestRecipientsSchema.optional(),
  /** The e-mail alert route whose transport sends the per-tenant digests (default: `msp.route`). */
  tenantRoute: TenantIdSchema.optional(),
  /** Per tenant id: on/off and the customer's recipients. A tenant without recipients gets no per-tenant e-mail. */
  tenants: z.record(TenantIdSchema, DigestTenantSchema).default(() => ({})),
  /** A site whose relay probe has not reported for this long is listed under "agents that stopped reporting". */
  agentSilenceHours: z
    .number()
    .min(1)
    .max(24 * 14)
    .default(24),
  /** Certificates seen on STARTTLS that expire within this many days are a risk ahead. */
  certificateWarningDays: z.number().int().min(1).max(365).default(21),
  /** A link to the MSP dashboard (report page) shown in the MSP-wide digest. */
  reportUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
});

export const RelaywatchConfigSchema = z.strictObject({
  version: z.literal(CONFIG_VERSION, {
    error: (iss) =>
      iss.input === undefined
        ? `is required: this relaywatch reads version ${CONFIG_VERSION}`
        : `must be ${CONFIG_VERSION}: this relaywatch reads configuration version ${CONFIG_VERSION}`,
  }),
  msp: MspSchema,
  dns: DnsSchema.prefault({}),
  secrets: SecretsSchema.optional(),
  blocklists: BlocklistsSchema.optional(),
  agent: AgentSchema.optional(),
  ingest: IngestSchema.optional(),
  state: StateSchema.prefault({}),
  incidents: IncidentsSchema.optional(),
  alerts: AlertsSchema.optional(),
  digest: DigestSchema.optional(),
  tenants: z
    .array(TenantSchema)
    .min(1, 'must list at least one tenant')
    .max(LIMITS.tenants, atMost(LIMITS.tenants, 'tenants')),
});

/** A validated, normalised configuration. */
export type RelaywatchConfig = z.output<typeof RelaywatchConfigSchema>;
/** What a configuration file may contain (before defaults and normalisation). */
export type RelaywatchConfigInput = z.input<typeof RelaywatchConfigSchema>;
export type MspConfig = RelaywatchConfig['msp'];
export type DnsConfig = RelaywatchConfig['dns'];
export type TenantConfig = RelaywatchConfig['tenants'][number];
export type DomainConfig = TenantConfig['domains'][number];
export type SubmissionConfig = NonNullable<TenantConfig['submission']>;
export type RelayProbeConfig = NonNullable<TenantConfig['relay']>;
export type OAuthSubmissionConfig = Extract<SubmissionConfig, { auth: 'oauth' }>;
export type BasicSubmissionConfig = Extract<SubmissionConfig, { auth: 'basic' }>;
export type BlocklistsConfig = NonNullable<RelaywatchConfig['blocklists']>;
export type AgentConfig = NonNullable<RelaywatchConfig['agent']>;
export type AlertsConfig = NonNullable<RelaywatchConfig['alerts']>;
export type AlertRouteConfig = AlertsConfig['routes'][number];
export type IncidentsConfig = NonNullable<RelaywatchConfig['incidents']>;
export type ProbeMailboxConfig = NonNullable<TenantConfig['probeMailbox']>;
export type DigestConfig = z.output<typeof DigestSchema>;

/** The keys each object schema allows, by path pattern (`tenants[].submission`), for "did you mean" hints. */
export const KNOWN_KEYS: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(RelaywatchConfigSchema.shape),
  msp: Object.keys(MspSchema.shape),
  'msp.contact': Object.keys(ContactSchema.shape),
  dns: Object.keys(DnsSchema.shape),
  secrets: Object.keys(SecretsSchema.shape),
  'tenants[]': Object.keys(TenantSchema.shape),
  'tenants[].domains[]': ['name', 'expectedMx'],
  'tenants[].submission': [
    ...new Set([...Object.keys(OAuthSubmissionSchema.shape), ...Object.keys(BasicSubmissionSchema.shape)]),
  ],
  'tenants[].relay': Object.keys(RelayProbeSchema.shape),
  'tenants[].submission.clientSecret': ['env', 'secret', 'secretsManager', 'ssm', 'key'],
  'tenants[].submission.password': ['env', 'secret', 'secretsManager', 'ssm', 'key'],
  'tenants[].blocklists': Object.keys(TenantBlocklistsSchema.shape),
  'tenants[].probeMailbox': [
    ...new Set([...Object.keys(GraphProbeMailboxSchema.shape), ...Object.keys(ImapProbeMailboxSchema.shape)]),
  ],
  'tenants[].probeMailbox.clientSecret': ['env', 'secret'],
  'tenants[].probeMailbox.password': ['env', 'secret'],
  agent: Object.keys(AgentSchema.shape),
  state: Object.keys(StateSchema.shape),
  alerts: Object.keys(AlertsSchema.shape),
  incidents: Object.keys(IncidentsSchema.shape),
  'tenants[].alerts': Object.keys(TenantAlertsSchema.shape),
  'tenants[].mutes[]': Object.keys(MuteSchema.shape),
  'agent.secret': ['env', 'secret', 'secretsManager', 'ssm', 'key'],
  ingest: Object.keys(IngestSchema.shape),
  'ingest.agents[]': Object.keys(IngestAgentSchema.shape),
  blocklists: Object.keys(BlocklistsSchema.shape),
  'blocklists.zones': Object.keys(BlocklistZonesSchema.shape),
  'blocklists.custom[]': Object.keys(zoneDefinitionSchema.shape),
  'blocklists.custom[].codes.*': ['meaning', 'kind'],
  'blocklists.custom[].key': ['required', 'placement'],
  digest: Object.keys(DigestSchema.shape),
  'digest.msp': Object.keys(DigestRecipientsSchema.shape),
};

/** Keys that belong to one `auth` variant only, for "password is only used with auth: basic" hints. */
export const AUTH_ONLY_KEYS: Readonly<Record<string, 'oauth' | 'basic'>> = {
  entraTenantId: 'oauth',
  clientId: 'oauth',
  clientSecret: 'oauth',
  password: 'basic',
};
