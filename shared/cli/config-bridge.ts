/** Loads the configuration for the CLI and maps it to what the use cases take. */
import { dirname } from 'node:path';
import type { QueryBudget } from '../blocklist/engine.ts';
import type { ZoneDefinition } from '../blocklist/registry.ts';
import { loadConfig } from '../config/load.ts';
import { formatProblem } from '../config/problems.ts';
import type { TenantToCheck } from '../use-cases/run-checks.ts';
import type { DnsConfig } from './wiring.ts';

export interface CliConfig {
  readonly path: string;
  readonly baseDir: string;
  readonly mspName: string;
  readonly tenants: readonly TenantToCheck[];
  readonly dns: DnsConfig;
  /** Formatted warnings (`warning: tenants[0].relayIps[0]: … (line 12)`). */
  readonly warnings: readonly string[];
  /** The blocklist settings, when the config has any. */
  readonly blocklists?: CliBlocklists | undefined;
}

export interface CliBlocklists {
  readonly zones?: readonly ZoneDefinition[];
  readonly resolvers?: readonly string[];
  /** Resolved keys by zone id (secrets: never print them). */
  readonly keys?: Readonly<Record<string, string>>;
  readonly budget?: QueryBudget;
  readonly concurrency?: number;
  readonly perZoneConcurrency?: number;
  /** Persist budget counters. */
  readonly flush?: () => Promise<void>;
}

/** @throws ConfigError (exit status 3 in the CLI) listing every problem with its path and line. */
export async function loadForCli(path: string): Promise<CliConfig> {
  const loaded = await loadConfig(path);
  const c = loaded.config;
  return {
    path: loaded.path,
    baseDir: dirname(loaded.path),
    mspName: c.msp.name,
    tenants: c.tenants.map((t) => ({
      id: t.id,
      name: t.name,
      domains: t.domains.map((d) => ({ name: d.name, expectedMx: 'expectedMx' in d ? d.expectedMx : undefined })),
      relayIps: t.relayIps,
    })),
    dns: c.dns,
    warnings: loaded.warnings.map((w) => formatProblem(w).replace(/^warning:\s*/, '')),
  };
}
