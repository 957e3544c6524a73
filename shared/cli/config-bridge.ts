/** Loads the configuration for the CLI and maps it to what the use cases take. */
import { dirname } from 'node:path';
import type { ZoneDefinition } from '../blocklist/registry.ts';
import { blocklistZones } from '../config/blocklists.ts';
import { loadConfig } from '../config/load.ts';
import { formatProblem } from '../config/problems.ts';
import type { AgentConfig, RelaywatchConfig } from '../config/schema.ts';
import {
  resolveBlocklistKeys,
  resolveSecret,
  type SecretResult,
  type SecretSources,
  secretsFilePath,
} from '../config/secrets.ts';
import { loadSecretsFile } from '../config/secrets-file.ts';
import { probeTenants, tenantsToCheck } from '../config/tenants.ts';
import type { TenantToCheck } from '../use-cases/run-checks.ts';
import type { ProbeTenant } from '../use-cases/run-probe.ts';
import type { DnsConfig } from './wiring.ts';

export interface CliConfig {
  readonly path: string;
  readonly baseDir: string;
  readonly mspName: string;
  readonly msp: {
    readonly name: string;
    readonly contact: { readonly name: string; readonly email: string; readonly phone?: string };
  };
  readonly tenants: readonly TenantToCheck[];
  readonly dns: DnsConfig;
  /** Formatted warnings (`warning: tenants[0].relayIps[0]: … (line 12)`). */
  readonly warnings: readonly string[];
  /** The blocklist settings, when the config has any. */
  readonly blocklists?: CliBlocklists | undefined;
  /** The whole validated configuration (state, incidents, alerts). */
  readonly config: RelaywatchConfig;
  /** The environment and the secrets file (loaded when first asked for), for the alert routes' secrets. */
  readonly secretSources: () => Promise<SecretSources>;
  /**
   * The secrets file's warnings (readable or writable by every user), formatted like `warnings`; loads the file when
   * it was not loaded yet. Empty without a secrets file. @throws ConfigError when the file cannot be read or parsed.
   */
  readonly secretsWarnings: () => Promise<readonly string[]>;
}

type LoadedSecrets = Awaited<ReturnType<typeof loadSecretsFile>>;

/** The secrets file, read once per command (whoever asks first: blocklist keys, alert routes, probes, warnings). */
function secretsLoader(path: string | undefined): () => Promise<LoadedSecrets | undefined> {
  let loading: Promise<LoadedSecrets | undefined> | undefined;
  return () => {
    loading ??= path ? loadSecretsFile(path) : Promise.resolve(undefined);
    return loading;
  };
}

function warningText(p: Parameters<typeof formatProblem>[0]): string {
  return formatProblem(p).replace(/^warning:\s*/, '');
}

export interface CliBlocklists {
  readonly zones?: readonly ZoneDefinition[];
  readonly resolvers?: readonly string[];
  /** Resolved keys by zone id (secrets: never print them). */
  readonly keys?: Readonly<Record<string, string>>;
  /** Queries per zone per UTC day (`blocklists.dailyBudget`), reserved in the store before a sweep. */
  readonly dailyBudget?: Readonly<Record<string, number>>;
  readonly concurrency?: number;
  readonly perZoneConcurrency?: number;
  /** The zone ids a tenant's IPs are judged on (its own `blocklists.disable` applied). */
  readonly zonesFor?: (tenantId: string) => ReadonlySet<string> | undefined;
}

/** The blocklist settings: zones (per tenant too), keys from their secret references, the daily budget. */
async function blocklistSettings(
  c: RelaywatchConfig,
  secrets: () => Promise<LoadedSecrets | undefined>,
  env: Readonly<Record<string, string | undefined>>,
  warnings: string[],
): Promise<CliBlocklists | undefined> {
  const bl = c.blocklists;
  if (!bl) return undefined;
  const secretsFile = (await secrets())?.secrets;
  const resolved = resolveBlocklistKeys(c, { env, ...(secretsFile ? { secretsFile } : {}) });
  for (const w of resolved.warnings) warnings.push(formatProblem(w).replace(/^warning:\s*/, ''));
  const limits = bl.dailyBudget ?? {};
  const perTenant = new Map(c.tenants.map((t) => [t.id, new Set(blocklistZones(c, t.id).map((z) => z.id))]));
  return {
    zones: blocklistZones(c),
    zonesFor: (tenantId) => perTenant.get(tenantId),
    ...(bl.resolvers ? { resolvers: bl.resolvers } : {}),
    keys: Object.fromEntries(resolved.keys),
    ...(Object.keys(limits).length > 0 ? { dailyBudget: limits } : {}),
    concurrency: bl.concurrency,
    perZoneConcurrency: bl.perZoneConcurrency,
  };
}

/** @throws ConfigError (exit status 3 in the CLI) listing every problem with its path and line. */
export async function loadForCli(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<CliConfig> {
  const loaded = await loadConfig(path);
  const c = loaded.config;
  const warnings = loaded.warnings.map(warningText);
  const secrets = secretsLoader(secretsFilePath(c, { env, configPath: loaded.path }));
  const blocklists = await blocklistSettings(c, secrets, env, warnings);
  const secretSources = async (): Promise<SecretSources> => {
    const file = (await secrets())?.secrets;
    return { env, ...(file ? { secretsFile: file } : {}) };
  };
  return {
    config: c,
    secretSources,
    secretsWarnings: async () => ((await secrets())?.warnings ?? []).map(warningText),
    blocklists,
    path: loaded.path,
    baseDir: dirname(loaded.path),
    mspName: c.msp.name,
    msp: {
      name: c.msp.name,
      contact: {
        name: c.msp.contact.name,
        email: c.msp.contact.email,
        ...(c.msp.contact.phone ? { phone: c.msp.contact.phone } : {}),
      },
    },
    tenants: tenantsToCheck(c),
    dns: c.dns,
    warnings,
  };
}

/** The configuration as the probes need it: every tenant with its relay and submission settings. */
export interface ProbeConfig {
  readonly path: string;
  readonly baseDir: string;
  readonly tenants: readonly ProbeTenant[];
  readonly dns: DnsConfig;
  readonly warnings: readonly string[];
  /** The secrets file's warnings (see `CliConfig.secretsWarnings`). */
  readonly secretsWarnings: () => Promise<readonly string[]>;
  /** `state.store` and `state.retentionDays`, where probe results are recorded. */
  readonly state: { readonly store?: string | undefined; readonly retentionDays: number };
  /** The site agent's section, when the file has one; `secret()` resolves its HMAC secret when called. */
  readonly agent?: (Omit<AgentConfig, 'secret'> & { readonly secret: (() => SecretResult) | null }) | undefined;
}

/**
 * Loads the configuration for `relaywatch probe` and the agent. Secret references are resolved only when a probe needs
 * them (a tenant without submission never touches the secrets file); a reference that does not resolve is a
 * `ProbeSetupError` naming the variable or the entry, never a value.
 * @throws ConfigError (exit status 3) listing every problem with its path and line.
 */
export async function loadProbeConfig(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<ProbeConfig> {
  const loaded = await loadConfig(path);
  const c = loaded.config;
  const warnings = loaded.warnings.map(warningText);
  const secrets = secretsLoader(secretsFilePath(c, { env, configPath: loaded.path }));
  const sources = async (): Promise<SecretSources> => {
    const file = (await secrets())?.secrets;
    return { env, ...(file ? { secretsFile: file } : {}) };
  };
  const secretsWarnings = async () => ((await secrets())?.warnings ?? []).map(warningText);
  const tenants = await probeTenants(c, sources);
  let agent: ProbeConfig['agent'];
  if (c.agent) {
    const ref = c.agent.secret;
    const src = ref ? await sources() : undefined;
    agent = { ...c.agent, secret: ref && src ? () => resolveSecret(ref, src) : null };
  }
  return {
    path: loaded.path,
    baseDir: dirname(loaded.path),
    tenants,
    dns: c.dns,
    warnings,
    secretsWarnings,
    state: { store: c.state.store, retentionDays: c.state.retentionDays },
    agent,
  };
}

export { probeTenants } from '../config/tenants.ts';
