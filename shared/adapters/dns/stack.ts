/**
 * The DNS stack of one run (or one Lambda invocation): resolver specs → the caching, failing-over resolver, with a
 * description for reports and the specs in use. Settings come from the composition root (command line over config
 * over defaults); the CA is PEM text (the caller reads files).
 *
 * @throws DnsSpecError (from `createResolver`) for a spec that is none of the accepted forms.
 */
import type { CachingResolver } from './caching-resolver.ts';
import type { ContainerDnsCache } from './container-cache.ts';
import { createResolver, DEFAULT_DNS } from './index.ts';

export interface DnsSettings {
  /** Resolver specs in failover order; empty or absent: {@link DEFAULT_DNS}. */
  readonly specs?: readonly string[] | undefined;
  /** Per-query timeout in ms (default 2500). */
  readonly timeoutMs?: number | undefined;
  /** Queries in flight (default 32). */
  readonly concurrency?: number | undefined;
  /** PEM text of an extra CA for DoH. */
  readonly ca?: string | undefined;
  /** A cache that outlives the run (a Lambda container's: `ContainerDnsCache`), behind the run's own. */
  readonly container?: ContainerDnsCache | undefined;
}

export interface DnsHandle {
  readonly resolver: CachingResolver;
  readonly description: string;
  /** The resolver specs in use, in failover order. */
  readonly specs: readonly string[];
}

export interface DnsStack extends DnsHandle {
  /** Release sockets and HTTP/2 sessions. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_DNS_TIMEOUT_MS = 2500;
export const DEFAULT_DNS_CONCURRENCY = 32;

export function buildDnsStack(settings: DnsSettings): DnsStack {
  const specs = settings.specs?.length ? [...settings.specs] : [...DEFAULT_DNS];
  const built = createResolver({
    specs,
    timeoutMs: settings.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS,
    maxConcurrent: settings.concurrency ?? DEFAULT_DNS_CONCURRENCY,
    ...(settings.ca ? { ca: settings.ca } : {}),
    ...(settings.container ? { container: settings.container } : {}),
  });
  return { resolver: built.resolver, description: built.resolver.describe(), specs, close: () => built.close() };
}
