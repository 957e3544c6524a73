/**
 * What one worker invocation needs for a config (the DNS stack, blocklist plans, notifiers, probes), apart from
 * `lambda.ts` so that only the worker's bundle holds the DNS, SPF and probe code: dispatch and ingest never import it.
 */
import { blocklistZones } from '../config/blocklists.ts';
import type { RelaywatchConfig } from '../config/schema.ts';
import { resolveBlocklistKeys, type SecretSources } from '../config/secrets.ts';
import { probeTenants } from '../config/tenants.ts';
import type { MonitorJobDeps } from '../use-cases/monitor-job.ts';
import { createRuntime } from './runtime.ts';

export interface InvocationRuntime extends Omit<MonitorJobDeps, 'config' | 'store' | 'now'> {
  close(): Promise<void>;
}

/** What one worker invocation needs for a config: DNS, blocklist plans, notifiers, probes. `close()` releases it. */
export async function invocationRuntime(config: RelaywatchConfig, secrets: SecretSources): Promise<InvocationRuntime> {
  const blocklistResolvers = config.blocklists?.resolvers;
  const runtime = createRuntime({
    dns: { specs: config.dns.resolvers, timeoutMs: config.dns.timeoutMs, concurrency: config.dns.concurrency },
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
