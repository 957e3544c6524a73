/**
 * The one factory of runtime dependencies, used by the CLI and by the Lambda handlers alike: the DNS stack (and a
 * separate one for blocklists when configured), the blocklist plans, the SPF evaluator (in the check context), the
 * SMTP prober, the OAuth token provider, the store and the alert routes' notifiers.
 *
 * Everything but the main DNS stack is built on first use (a `--no-store` run never opens a store; a run without
 * blocklist resolvers builds no second stack), once. `close()` releases what was built (sockets, HTTP/2 sessions,
 * the store connection); it is idempotent, and the runtime is unusable afterwards.
 *
 * Error contract: `createRuntime` throws `DnsSpecError` for an invalid resolver spec; `store()` rejects with
 * `StoreSpecError` for an invalid spec and with the backend's error when it cannot be opened (the caller decides what
 * that costs: the CLI still prints its report).
 */

import type { ZoneDefinition } from '../blocklist/registry.ts';
import type { BlocklistSetup } from '../blocklist/zone-selection.ts';
import { planBlocklists } from '../blocklist/zone-selection.ts';
import type { CheckContext } from '../checks/types.ts';
import type { RelaywatchConfig } from '../config/schema.ts';
import type { SecretSources } from '../config/secrets.ts';
import { type RouteNotifiers, routeNotifiers } from '../notify/routing.ts';
import type { SmtpProber } from '../ports/smtp-prober.ts';
import type { Store } from '../ports/stores.ts';
import type { TokenProvider } from '../ports/token-provider.ts';
import { buildDnsStack, type DnsSettings, type DnsStack } from './dns/stack.ts';
import { lazyTokenProvider } from './oauth/lazy-token-provider.ts';
import { makeSpfEvaluator } from './spf/mailauth-spf.ts';
import type { OpenStoreOptions } from './store/open-store.ts';

export interface RuntimeSettings {
  /** The main stack; `dns.container` (a Lambda container's DNS cache) serves the domain checks only, never blocklists. */
  readonly dns: DnsSettings;
  /** Resolvers for the blocklist zones (a private resolver the lists accept); absent or empty: the main stack. */
  readonly blocklistDns?: DnsSettings | undefined;
  readonly blocklists?:
    | {
        readonly zones: readonly ZoneDefinition[];
        /** Zones named on the command line (asked even when off by default). */
        readonly explicit: boolean;
        /** Resolved keys by zone id (secrets). */
        readonly keys?: Readonly<Record<string, string>> | undefined;
      }
    | undefined;
  readonly store?: (OpenStoreOptions & { readonly spec: string }) | undefined;
  readonly probes?: { readonly ca?: string | undefined; readonly authorityHost?: string | undefined } | undefined;
  readonly alerts?:
    | {
        readonly config: RelaywatchConfig;
        readonly sources: () => Promise<SecretSources>;
        readonly smtpCa?: string | undefined;
      }
    | undefined;
}

export interface Runtime {
  readonly dns: DnsStack;
  /** DNS, the SPF evaluator and a monotonic clock for the checks. */
  readonly checkContext: CheckContext;
  /** The blocklist plans, through the blocklist resolvers when configured. */
  blocklists(): BlocklistSetup;
  prober(): SmtpProber;
  tokens(): TokenProvider;
  store(): Promise<Store>;
  notifiers(): Promise<RouteNotifiers>;
  close(): Promise<void>;
}

/** A prober built on first use (nodemailer is only loaded by runs that probe). */
function lazyProber(): SmtpProber {
  let prober: Promise<SmtpProber> | undefined;
  return {
    probe: async (request) => {
      prober ??= import('./smtp/nodemailer-prober.ts').then(({ NodemailerProber }) => new NodemailerProber());
      return (await prober).probe(request);
    },
  };
}

export function createRuntime(settings: RuntimeSettings): Runtime {
  const dns = buildDnsStack(settings.dns);
  const checkContext: CheckContext = {
    resolver: dns.resolver,
    evaluateSpf: makeSpfEvaluator(dns.resolver),
    now: () => performance.now(),
  };
  let blocklistStack: DnsStack | undefined;
  let blocklistSetup: BlocklistSetup | undefined;
  let prober: SmtpProber | undefined;
  let tokens: TokenProvider | undefined;
  let store: Promise<Store> | undefined;
  let notifiers: Promise<RouteNotifiers> | undefined;
  let closed: Promise<void> | undefined;
  const assertOpen = () => {
    if (closed) throw new Error('the runtime is closed');
  };
  return {
    dns,
    checkContext,
    blocklists: () => {
      assertOpen();
      if (blocklistSetup) return blocklistSetup;
      const b = settings.blocklists;
      if (!b) throw new TypeError('createRuntime: no blocklist settings given');
      let via: DnsStack = dns;
      if (settings.blocklistDns?.specs?.length) {
        blocklistStack ??= buildDnsStack({ ...settings.blocklistDns, container: undefined });
        via = blocklistStack;
      } else if (settings.dns.container) {
        // The lists' answers (zone health included) are asked afresh every cycle: never from a container cache.
        blocklistStack ??= buildDnsStack({ ...settings.dns, container: undefined });
        via = blocklistStack;
      }
      blocklistSetup = planBlocklists({ dns: via, zones: b.zones, explicit: b.explicit, keys: b.keys });
      return blocklistSetup;
    },
    prober: () => {
      assertOpen();
      prober ??= lazyProber();
      return prober;
    },
    tokens: () => {
      assertOpen();
      tokens ??= lazyTokenProvider({ authorityHost: settings.probes?.authorityHost, ca: settings.probes?.ca });
      return tokens;
    },
    store: () => {
      assertOpen();
      const s = settings.store;
      if (!s) return Promise.reject(new TypeError('createRuntime: no store settings given'));
      store ??= import('./store/open-store.ts').then(({ openStore }) => {
        const { spec, ...options } = s;
        return openStore(spec, options);
      });
      // A store that failed to open is not cached: the next call tries again.
      store.catch(() => {
        store = undefined;
      });
      return store;
    },
    notifiers: () => {
      assertOpen();
      const a = settings.alerts;
      if (!a) return Promise.reject(new TypeError('createRuntime: no alert settings given'));
      notifiers ??= a
        .sources()
        .then((sources) => routeNotifiers(a.config, sources, a.smtpCa ? { smtpCa: a.smtpCa } : {}));
      return notifiers;
    },
    close: () => {
      closed ??= (async () => {
        const opened = store;
        await Promise.allSettled([
          dns.close(),
          blocklistStack?.close(),
          opened?.then(
            (s) => s.close(),
            () => undefined,
          ),
        ]);
      })();
      return closed;
    },
  };
}
