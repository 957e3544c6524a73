/**
 * Who gets which digest, from the configuration's `digest` section (pure): the e-mail route that sends the MSP-wide
 * digest and its recipients, the route for the per-tenant digests, and each switched-on tenant's recipients. The CLI
 * (`relaywatch digest --send`) and the Lambda digest function both call it.
 */

import type { ConfigProblem } from '../config/problems.ts';
import { type AlertRouteConfig, DigestSchema, type RelaywatchConfig } from '../config/schema.ts';
import type { TenantInput } from './model.ts';

/** The `digest` section cannot send as asked (names the setting). */
export class DigestConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DigestConfigError';
  }
}

export type DigestConfigResolved = ReturnType<typeof DigestSchema.parse>;

/** The `digest` section with its defaults (a config without one gets every default). */
export function digestSettings(config: RelaywatchConfig): DigestConfigResolved {
  return config.digest ?? DigestSchema.parse({});
}

/** Tenant ids under `digest.tenants` that the config does not have: a typo would silently send nothing. */
export function checkDigestTenants(config: RelaywatchConfig, digest: DigestConfigResolved): void {
  const known = new Set(config.tenants.map((t) => t.id));
  const unknown = Object.keys(digest.tenants).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new DigestConfigError(
      `digest.tenants names ${unknown.map((u) => JSON.stringify(u)).join(', ')}, not a tenant of the config (tenants: ${[...known].join(', ')})`,
    );
  }
}

function emailRoute(config: RelaywatchConfig, id: string, where: string): AlertRouteConfig {
  const routes = config.alerts?.routes ?? [];
  const route = routes.find((r) => r.id === id);
  if (!route) {
    throw new DigestConfigError(
      `${where} names route ${JSON.stringify(id)}, which is not under alerts.routes (routes: ${routes.map((r) => r.id).join(', ') || 'none'})`,
    );
  }
  if (!route.email)
    throw new DigestConfigError(`${where} names route ${JSON.stringify(id)}, which is not an e-mail route`);
  return route;
}

export interface DigestRecipients {
  readonly msp: { readonly to: readonly string[] } | null;
  /** Per tenant id; a tenant missing here (or with no addresses) gets no per-tenant e-mail. */
  readonly tenants: ReadonlyMap<string, readonly string[]>;
}

export interface SendPlan {
  readonly recipients: DigestRecipients;
  readonly mspRoute: AlertRouteConfig | null;
  readonly tenantRoute: AlertRouteConfig | null;
  /** Tenants that have recipients but are switched off, and tenants without recipients (for the summary). */
  readonly skipped: readonly { readonly tenant: string; readonly why: string }[];
}

/** Who gets what, from the `digest` section. @throws DigestConfigError naming the missing or wrong setting. */
export function sendPlan(config: RelaywatchConfig, tenantIds: readonly string[] | null): SendPlan {
  const digest = config.digest;
  if (!digest) {
    throw new DigestConfigError(
      '--send needs a digest section in the config (digest.msp.route and/or digest.tenants.<id>.to); see docs/configuration.md "digest"',
    );
  }
  if (!digest.enabled) throw new DigestConfigError('digest.enabled is false: the digest is switched off in the config');
  checkDigestTenants(config, digest);
  const mspRoute = digest.msp?.route ? emailRoute(config, digest.msp.route, 'digest.msp.route') : null;
  const tenantRouteId = digest.tenantRoute ?? digest.msp?.route;
  const tenantRoute = tenantRouteId ? emailRoute(config, tenantRouteId, 'digest.tenantRoute') : null;
  if (digest.msp && !mspRoute) throw new DigestConfigError('digest.msp needs a route (an e-mail route that sends it)');
  const mspTo = digest.msp?.to ?? mspRoute?.email?.to ?? [];
  const tenants = new Map<string, readonly string[]>();
  const skipped: { tenant: string; why: string }[] = [];
  for (const t of config.tenants) {
    if (tenantIds !== null && !tenantIds.includes(t.id)) continue;
    const s = digest.tenants[t.id];
    if (!s?.to) {
      skipped.push({ tenant: t.id, why: 'no recipients (digest.tenants.<id>.to)' });
      continue;
    }
    if (!s.enabled) {
      skipped.push({ tenant: t.id, why: 'switched off (digest.tenants.<id>.enabled: false)' });
      continue;
    }
    tenants.set(t.id, s.to);
  }
  if (tenants.size > 0 && !tenantRoute) {
    throw new DigestConfigError(
      'per-tenant digests need digest.tenantRoute (or digest.msp.route): the e-mail route that sends them',
    );
  }
  return {
    recipients: { msp: tenantIds === null && mspRoute ? { to: mspTo } : null, tenants },
    mspRoute,
    tenantRoute,
    skipped,
  };
}

/** What the digest needs of each configured tenant (all of them, in config order). */
export function digestTenantInputs(config: RelaywatchConfig): TenantInput[] {
  return config.tenants.map((t) => ({
    id: t.id,
    name: t.name,
    expectsRelayProbe: t.relay !== undefined,
    submissionAuth: t.submission?.auth ?? null,
  }));
}

function channelName(route: AlertRouteConfig): string {
  if (route.slack) return 'a Slack';
  if (route.teams) return 'a Teams';
  if (route.file) return 'a file';
  if (route.webhook) return 'a webhook';
  return 'an e-mail';
}

function listed(ids: readonly string[], max = 10): string {
  if (ids.length === 0) return 'none';
  return ids.length <= max ? ids.join(', ') : `${ids.slice(0, max).join(', ')} and ${ids.length - max} more`;
}

/**
 * What `relaywatch config validate` reports about the `digest` section (pure): routes it names that do not exist or
 * do not send e-mail, `digest.tenants` entries that are not tenants of the config, recipients with no route to send
 * through, and a digest that would send nothing. The same mistakes `digest --send` and the Lambda digest function
 * refuse at run time, found before the Monday morning they would fail on. (An invalid time zone is refused by the
 * schema itself: `digest.timeZone`.)
 */
export function digestProblems(config: RelaywatchConfig): ConfigProblem[] {
  const digest = config.digest;
  if (!digest) return [];
  const out: ConfigProblem[] = [];
  const error = (path: string, message: string) => out.push({ path, message, severity: 'error' });
  const routes = config.alerts?.routes ?? [];
  const routeIds = routes.map((r) => r.id);
  const checkRoute = (path: string, id: string | undefined): boolean => {
    if (id === undefined) return false;
    const route = routes.find((r) => r.id === id);
    if (!route) {
      error(path, `names route ${JSON.stringify(id)}, which is not under alerts.routes (routes: ${listed(routeIds)})`);
      return false;
    }
    if (!route.email) {
      error(path, `names route ${JSON.stringify(id)}, ${channelName(route)} route: digests are sent by e-mail only`);
      return false;
    }
    return true;
  };
  checkRoute('digest.msp.route', digest.msp?.route);
  if (digest.msp && digest.msp.route === undefined) {
    error('digest.msp', 'needs a route: the e-mail route (alerts.routes[].id) that sends the MSP-wide digest');
  }
  checkRoute('digest.tenantRoute', digest.tenantRoute);
  const tenantIds = config.tenants.map((t) => t.id);
  const known = new Set(tenantIds);
  const withRecipients: string[] = [];
  for (const [id, t] of Object.entries(digest.tenants)) {
    if (!known.has(id)) {
      error(`digest.tenants.${id}`, `is not a tenant of the config (tenants: ${listed(tenantIds)})`);
      continue;
    }
    if (t.to && t.enabled) withRecipients.push(id);
  }
  if (withRecipients.length > 0 && digest.tenantRoute === undefined && digest.msp?.route === undefined) {
    error(
      'digest.tenantRoute',
      `is needed: per-tenant digests go to ${listed(withRecipients)} but no route sends them (set digest.tenantRoute or digest.msp.route)`,
    );
  }
  if (digest.enabled && !digest.msp && withRecipients.length === 0) {
    out.push({
      path: 'digest',
      message: 'sends nothing: no digest.msp.route and no switched-on digest.tenants.<id>.to',
      severity: 'warning',
    });
  }
  return out;
}
