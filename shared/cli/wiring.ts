/** Picks and builds the adapters the CLI uses (the composition root's helpers). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DnsSpecError } from '../adapters/dns/index.ts';
import { buildDnsStack, type DnsHandle, type DnsStack } from '../adapters/dns/stack.ts';
import { createRuntime, type Runtime, type RuntimeSettings } from '../adapters/runtime.ts';
import type { ZoneDefinition } from '../blocklist/registry.ts';
import { type BlocklistSetup, planBlocklists, selectZones, ZoneSelectionError } from '../blocklist/zone-selection.ts';

export type { DnsHandle } from '../adapters/dns/stack.ts';

/** A mistake on the command line: printed without a stack, exit status 3. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

export interface DnsCliOptions {
  readonly dns?: readonly string[];
  readonly dnsTimeout?: number;
  readonly dnsCa?: string;
}

export interface DnsConfig {
  readonly resolvers?: readonly string[] | undefined;
  readonly timeoutMs?: number | undefined;
  readonly concurrency?: number | undefined;
  readonly caFile?: string | undefined;
}

/** The DNS settings of a command: command line over config over defaults; the CA file read here. */
export async function dnsSettings(args: { cli: DnsCliOptions; config?: DnsConfig | undefined; baseDir: string }) {
  const specs = args.cli.dns?.length
    ? args.cli.dns
    : args.config?.resolvers?.length
      ? args.config.resolvers
      : undefined;
  const caPath = args.cli.dnsCa ?? (args.config?.caFile ? resolve(args.baseDir, args.config.caFile) : undefined);
  let ca: string | undefined;
  if (caPath) {
    try {
      ca = await readFile(caPath, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read the DoH CA file ${JSON.stringify(caPath)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return {
    specs,
    timeoutMs: args.cli.dnsTimeout ?? args.config?.timeoutMs,
    concurrency: args.config?.concurrency,
    ...(ca ? { ca } : {}),
  };
}

/** A DNS stack, with an invalid resolver spec as a usage error. */
export function buildCliDns(settings: Parameters<typeof buildDnsStack>[0]): DnsStack {
  try {
    return buildDnsStack(settings);
  } catch (err) {
    if (err instanceof DnsSpecError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

/** Build the DNS stack (command line over config over defaults), run `fn`, and always release sockets and agents. */
export async function withDns<T>(
  args: { cli: DnsCliOptions; config?: DnsConfig | undefined; baseDir: string },
  fn: (dns: DnsHandle) => Promise<T>,
): Promise<T> {
  const stack = buildCliDns(await dnsSettings(args));
  try {
    return await fn(stack);
  } finally {
    await stack.close();
  }
}

/** `--zone` values as zones; a bad one is a usage error. */
export function selectCliZones(
  requested: readonly string[] | undefined,
  configured: readonly ZoneDefinition[] | undefined,
) {
  try {
    return selectZones(requested, configured);
  } catch (err) {
    if (err instanceof ZoneSelectionError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

/**
 * Build the blocklist plans: zones asked through `blocklistDns` specs when given (a separate per-run resolver stack,
 * e.g. a private resolver that DNSBL operators accept), else through the main DNS handle.
 */
export async function withBlocklists<T>(
  args: {
    readonly main: DnsHandle;
    readonly zones: readonly ZoneDefinition[];
    readonly explicit: boolean;
    readonly blocklistDns?: readonly string[] | undefined;
    readonly dnsConfig?: DnsConfig | undefined;
    readonly baseDir: string;
    readonly keys?: Readonly<Record<string, string>>;
  },
  fn: (setup: BlocklistSetup<DnsHandle['resolver']>) => Promise<T>,
): Promise<T> {
  const plan = (dns: DnsHandle) => planBlocklists({ dns, zones: args.zones, explicit: args.explicit, keys: args.keys });
  if (!args.blocklistDns || args.blocklistDns.length === 0) return fn(plan(args.main));
  return withDns({ cli: { dns: args.blocklistDns }, config: args.dnsConfig, baseDir: args.baseDir }, (dns) =>
    fn(plan(dns)),
  );
}

/** The runtime dependencies of a command; an invalid resolver spec is a usage error. */
export function createCliRuntime(settings: RuntimeSettings): Runtime {
  const usage = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof DnsSpecError) throw new UsageError(err.message, { cause: err });
      throw err;
    }
  };
  const runtime = usage(() => createRuntime(settings));
  return { ...runtime, blocklists: () => usage(() => runtime.blocklists()) };
}
