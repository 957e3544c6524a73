/**
 * What one worker invocation needs for a config (the DNS stack, blocklist plans, notifiers, probes), apart from
 * `lambda.ts` so that only the worker's bundle holds the DNS, SPF and probe code: dispatch and ingest never import it.
 */
import { blocklistZones } from '../config/blocklists.ts';
import type { RelaywatchConfig } from '../config/schema.ts';
import { resolveBlocklistKeys, type SecretSources } from '../config/secrets.ts';
import { probeTenants } from '../config/tenants.ts';
import type { MonitorJobDeps } from '../use-cases/monitor-job.ts';
import { ContainerDnsCache, type ContainerDnsCacheOptions } from './dns/container-cache.ts';
import { createRuntime } from './runtime.ts';

export interface InvocationRuntime extends Omit<MonitorJobDeps, 'config' | 'store' | 'now'> {
  close(): Promise<void>;
}

/** What a worker container keeps between its invocations (built once, in the handler's module scope). */
export interface WorkerContainer {
  /** The domain checks' DNS answers, for their TTLs (bounded; never failures, never blocklist answers). */
  readonly dnsCache: ContainerDnsCache;
}

/** The container-scope parts of the worker: call once per container (module scope), never per invocation. */
export function workerContainer(options: ContainerDnsCacheOptions = {}): WorkerContainer {
  return { dnsCache: new ContainerDnsCache(options) };
}

/**
 * What one worker invocation needs for a config: DNS, blocklist plans, notifiers, probes. `close()` releases it (the
 * sockets; the container's DNS cache stays for the next invocation).
 */
export async function invocationRuntime(
  config: RelaywatchConfig,
  secrets: SecretSources,
  container?: WorkerContainer,
): Promise<InvocationRuntime> {
  const blocklistResolvers = config.blocklists?.resolvers;
  const runtime = createRuntime({
    dns: {
      specs: config.dns.resolvers,
      timeoutMs: config.dns.timeoutMs,
      concurrency: config.dns.concurrency,
      ...(container ? { container: container.dnsCache } : {}),
    },
    ...(blocklistResolvers?.length
      ? {
          blocklistDns: {
            specs: blocklistResolvers,
            timeoutMs: config.dns.timeoutMs,
            concurrency: config.dns.concurrency,
          },
        }
      : {}),
    blocklists: {
      zones: blocklistZones(config),
      explicit: false,
      keys: Object.fromEntries(resolveBlocklistKeys(config, secrets).keys),
    },
    alerts: { config, sources: async () => secrets },
  });
  const notifiers = await runtime.notifiers();
  return {
    checkContext: runtime.checkContext,
    blocklists: () => runtime.blocklists(),
    notifierFor: (id) => notifiers.notifierFor(id),
    probes: {
      prober: runtime.prober(),
      tokens: runtime.tokens(),
      resolver: runtime.dns.resolver,
      now: () => new Date(),
      ehloName: (t) =>
        (t.submission?.mailbox ?? 'relaywatch@relaywatch.invalid').split('@').pop() ?? 'relaywatch.invalid',
    },
    probeTenants: () => probeTenants(config, async () => secrets),
    close: () => runtime.close(),
  };
}
