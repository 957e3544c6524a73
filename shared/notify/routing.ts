/**
 * Alert routes from the configuration: which routes each tenant's incidents go to (with the severity floors), and
 * the notifier behind each route, built on first use with its secrets resolved then. A route whose secret does not
 * resolve is not an error of the run: its sends fail with the reason (naming the variable, never a value) and stay
 * pending, so they go out once the secret is set.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AlertRouteConfig, RelaywatchConfig } from '../config/schema.ts';
import { resolveSecret, type SecretSources } from '../config/secrets.ts';
import type { IncidentSeverity } from '../ports/stores.ts';
import type { TenantAlerting } from '../use-cases/record-cycle.ts';
import type { Notifier } from './alert.ts';
import type { EmailNotifier } from './email.ts';

const RANK: Record<IncidentSeverity, number> = { info: 0, warning: 1, critical: 2 };

export function channelOf(route: AlertRouteConfig): 'slack' | 'teams' | 'email' | 'webhook' | 'file' {
  if (route.slack) return 'slack';
  if (route.file) return 'file';
  if (route.teams) return 'teams';
  if (route.email) return 'email';
  return 'webhook';
}

/** Each tenant's routes: its own plus the defaults (unless `inheritDefault: false`), with the stricter floor. */
export function tenantAlerting(config: RelaywatchConfig): TenantAlerting[] {
  const routes = new Map((config.alerts?.routes ?? []).map((r) => [r.id, r]));
  return config.tenants.map((t) => {
    const ids = [
      ...(t.alerts?.routes ?? []),
      ...(t.alerts?.inheritDefault === false ? [] : (config.alerts?.default ?? [])),
    ];
    const floor = t.alerts?.minSeverity;
    return {
      id: t.id,
      name: t.name,
      routes: [...new Set(ids)].flatMap((id) => {
        const r = routes.get(id);
        if (!r) return [];
        const min = floor && RANK[floor] > RANK[r.minSeverity] ? floor : r.minSeverity;
        return [{ id, minSeverity: min }];
      }),
      suppression: { maintenance: t.maintenance ?? [], mutes: t.mutes ?? [] },
      relayIps: t.relayIps ?? [],
      monitored: {
        domains: t.domains.map((d) => d.name),
        mailboxes: t.submission?.mailbox ? [t.submission.mailbox] : [],
      },
    };
  });
}

/** The default routes (`alerts.default`) with their floors: where MSP-wide incidents (self-health) go. */
export function defaultRoutes(config: RelaywatchConfig): { id: string; minSeverity: IncidentSeverity }[] {
  const routes = new Map((config.alerts?.routes ?? []).map((r) => [r.id, r]));
  return [...new Set(config.alerts?.default ?? [])].flatMap((id) => {
    const r = routes.get(id);
    return r ? [{ id, minSeverity: r.minSeverity }] : [];
  });
}

function secretOf(
  route: string,
  what: string,
  ref: Parameters<typeof resolveSecret>[0],
  sources: SecretSources,
): string {
  const r = resolveSecret(ref, sources);
  if (!r.ok) throw new Error(`route ${route}: ${what}: ${r.reason}`);
  return r.value;
}

/**
 * The e-mail notifier of an e-mail route (its secret resolved now). The digest sends through it too (`deliver`).
 * @throws Error naming the route when it is not an e-mail route or its secret does not resolve.
 */
export async function buildEmailNotifier(
  route: AlertRouteConfig,
  sources: SecretSources,
  options: { readonly smtpCa?: string | undefined; readonly baseDir?: string | undefined } = {},
): Promise<EmailNotifier> {
  const email = route.email;
  if (!email) throw new Error(`route ${route.id} is not an e-mail route`);
  const { EmailNotifier: Email } = await import('./email.ts');
  const addressing = { from: email.from, to: email.to, ...(email.replyTo ? { replyTo: email.replyTo } : {}) };
  if (email.ses) {
    return new Email({
      ...addressing,
      transport: {
        kind: 'ses',
        region: email.ses.region,
        ...(email.ses.endpoint ? { endpoint: email.ses.endpoint } : {}),
      },
    });
  }
  const smtp = email.smtp;
  if (!smtp) throw new Error(`route ${route.id}: email needs smtp or ses`);
  const pass = smtp.password ? secretOf(route.id, 'email.smtp.password', smtp.password, sources) : undefined;
  // The route's own CA (a private mail host) wins over a command's --ca; read when the route is first used.
  const ca = smtp.ca ? await routeCa(route.id, resolve(options.baseDir ?? process.cwd(), smtp.ca)) : options.smtpCa;
  return new Email({
    ...addressing,
    transport: {
      kind: 'smtp',
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: smtp.requireTLS,
      ...(smtp.user && pass ? { auth: { user: smtp.user, pass } } : {}),
      ...(ca ? { ca } : {}),
    },
  });
}

export interface RouteNotifiers {
  notifierFor(routeId: string): Notifier | { readonly error: string };
  describe(routeId: string): string;
}

/** Notifiers per route, built when first asked for (secrets resolved then), cached for the run. */
export function routeNotifiers(
  config: RelaywatchConfig,
  sources: SecretSources,
  options: {
    readonly smtpCa?: string | undefined;
    /** The config file's directory: a route's `email.smtp.ca` and `file.dir` are relative to it (default: the working directory). */
    readonly baseDir?: string | undefined;
  } = {},
): RouteNotifiers {
  const routes = new Map((config.alerts?.routes ?? []).map((r) => [r.id, r]));
  const built = new Map<string, Notifier | { readonly error: string }>();
  const secret = (route: string, what: string, ref: Parameters<typeof resolveSecret>[0]) => {
    const r = resolveSecret(ref, sources);
    if (!r.ok) throw new Error(`route ${route}: ${what}: ${r.reason}`);
    return r.value;
  };
  const destinations = { allowPrivate: config.alerts?.allowPrivateDestinations === true };
  const build = async (route: AlertRouteConfig): Promise<Notifier> => {
    if (route.slack) {
      const { SlackNotifier } = await import('./slack.ts');
      const webhookUrl = secret(route.id, 'slack.webhookUrl', route.slack.webhookUrl);
      return new SlackNotifier({ webhookUrl, destinations });
    }
    if (route.teams) {
      const { TeamsNotifier } = await import('./teams.ts');
      const webhookUrl = secret(route.id, 'teams.webhookUrl', route.teams.webhookUrl);
      return new TeamsNotifier({ webhookUrl, destinations });
    }
    if (route.file) {
      const { FileNotifier } = await import('./file.ts');
      // Like every path in the config, a relative folder is relative to the config file.
      const mailbox = config.msp.contact.email;
      return new FileNotifier({
        dir: resolve(options.baseDir ?? '.', route.file.dir),
        from: route.file.from ?? mailbox,
        to: route.file.to ?? [mailbox],
      });
    }
    if (route.webhook) {
      const { WebhookNotifier } = await import('./webhook.ts');
      return new WebhookNotifier({
        url: secret(route.id, 'webhook.url', route.webhook.url),
        secret: secret(route.id, 'webhook.secret', route.webhook.secret),
        destinations,
      });
    }
    return buildEmailNotifier(route, sources, options);
  };
  return {
    describe: (id) => {
      const r = routes.get(id);
      return r ? `${id} (${channelOf(r)})` : id;
    },
    notifierFor: (id) => {
      const cached = built.get(id);
      if (cached) return cached;
      const route = routes.get(id);
      if (!route) return { error: `route ${id} is not configured` };
      // Building is async (channels load lazily); wrap it so the caller gets a Notifier at once.
      let pending: Promise<Notifier> | undefined;
      const notifier: Notifier = {
        channel: channelOf(route),
        send: async (alert) => {
          pending ??= build(route);
          let n: Notifier;
          try {
            n = await pending;
          } catch (err) {
            pending = undefined;
            return { ok: false, retryable: true, error: err instanceof Error ? err.message : String(err) };
          }
          return n.send(alert);
        },
      };
      built.set(id, notifier);
      return notifier;
    },
  };
}

/** A route's `email.smtp.ca` file: PEM text, or an error naming the route and the file (the send fails, stays due). */
async function routeCa(routeId: string, path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(
      `route ${routeId}: email.smtp.ca: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`route ${routeId}: email.smtp.ca: ${path} holds no PEM certificate`);
  }
  return text;
}
