/** Picks and builds the adapters the CLI uses (the composition root's helpers). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CachingResolver } from '../adapters/dns/caching-resolver.ts';
import { createResolver, DEFAULT_DNS, DnsSpecError } from '../adapters/dns/index.ts';

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

export interface DnsHandle {
  readonly resolver: CachingResolver;
  readonly description: string;
  /** The resolver specs in use, in failover order. */
  readonly specs: readonly string[];
}

/** Build the DNS stack (command line over config over defaults), run `fn`, and always release sockets and agents. */
export async function withDns<T>(
  args: { cli: DnsCliOptions; config?: DnsConfig | undefined; baseDir: string },
  fn: (dns: DnsHandle) => Promise<T>,
): Promise<T> {
  const specs = args.cli.dns?.length
    ? args.cli.dns
    : args.config?.resolvers?.length
      ? args.config.resolvers
      : DEFAULT_DNS;
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
  let built: ReturnType<typeof createResolver>;
  try {
    built = createResolver({
      specs: [...specs],
      timeoutMs: args.cli.dnsTimeout ?? args.config?.timeoutMs ?? 2500,
      maxConcurrent: args.config?.concurrency ?? 32,
      ...(ca ? { ca } : {}),
    });
  } catch (err) {
    if (err instanceof DnsSpecError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
  try {
    return await fn({ resolver: built.resolver, description: built.resolver.describe(), specs: [...specs] });
  } finally {
    await built.close();
  }
}
