/**
 * Secrets: references in the configuration (`{ env: NAME }`, `{ secret: name }`) and the secrets file they point into.
 *
 * The configuration never holds a secret. A secrets file is a flat YAML (or JSON) mapping `name: value`, kept apart
 * from the config so that the config can be committed, shared and attached to a support ticket. Its location is the
 * environment variable RELAYWATCH_SECRETS_FILE, else `secrets.file` in the config (relative to the config's
 * directory).
 *
 * Error contract: no message, reason, problem or `toJSON()`/`inspect` output of this module contains a secret value;
 * they name the environment variable or the entry instead. `resolveSecret` returns a result, never throws.
 * Reading the secrets file is secrets-file.ts (YAML: the CLI's; the Lambdas take secrets from AWS, not from a file).
 */
import { resolve } from 'node:path';
import { resolveConfigPath } from './document.ts';
import { type ConfigProblem, formatPath, quote } from './problems.ts';
import { type RelaywatchConfig, SECRETS_FILE_ENV, type SecretRef } from './schema.ts';

export type { SecretRef };

const inspectCustom = Symbol.for('nodejs.util.inspect.custom');

/**
 * The entries of a secrets file. Values are reachable only through `get()`: `JSON.stringify`, `console.log` and
 * string conversion show the path and the names, never the values.
 */
export class SecretsFile {
  readonly path: string;
  readonly #values: ReadonlyMap<string, string>;

  constructor(path: string, values: ReadonlyMap<string, string>) {
    this.path = path;
    this.#values = new Map(values);
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  get(name: string): string | undefined {
    return this.#values.get(name);
  }

  names(): string[] {
    return [...this.#values.keys()];
  }

  toJSON(): { path: string; names: string[] } {
    return { path: this.path, names: this.names() };
  }

  toString(): string {
    return `SecretsFile(${this.path}: ${this.names().join(', ')})`;
  }

  [inspectCustom](): string {
    return this.toString();
  }
}

export type SecretResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason: string };

export interface SecretSources {
  /** The environment to read `{ env }` references from (pass `process.env` at the edge). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The loaded secrets file, when there is one. */
  readonly secretsFile?: SecretsFile | undefined;
  /** `{ secretsManager }` references resolved ahead (shared/config/managed-secrets.ts), when the caller loads them. */
  readonly managed?: ManagedSecrets | undefined;
  /** `{ ssm }` references (SecureString parameters) resolved ahead, by parameter name, when the caller loads them. */
  readonly parameters?: ManagedSecrets | undefined;
}

/** `NAME` or `NAME#key`: how a Secrets Manager reference is looked up among the preloaded values. */
export function managedKey(ref: { readonly secretsManager: string; readonly key?: string }): string {
  return ref.key === undefined ? ref.secretsManager : `${ref.secretsManager}#${ref.key}`;
}

/**
 * Secrets Manager values loaded ahead, by {@link managedKey}, plus why a reference could not be loaded. Values are
 * reachable only through `get()`, as in {@link SecretsFile}.
 */
export class ManagedSecrets {
  readonly #values: ReadonlyMap<string, string>;
  readonly #problems: ReadonlyMap<string, string>;
  constructor(values: ReadonlyMap<string, string>, problems: ReadonlyMap<string, string> = new Map()) {
    this.#values = new Map(values);
    this.#problems = new Map(problems);
  }
  get(key: string): string | undefined {
    return this.#values.get(key);
  }
  problem(key: string): string | undefined {
    return this.#problems.get(key);
  }
  get size(): number {
    return this.#values.size;
  }
  toJSON(): { loaded: string[] } {
    return { loaded: [...this.#values.keys()] };
  }
  toString(): string {
    return `ManagedSecrets(${[...this.#values.keys()].join(', ')})`;
  }
  [inspectCustom](): string {
    return this.toString();
  }
}

/** `env RELAYWATCH_TAILSPIN_SECRET` or `secret "tailspin-oauth"`: what a reference points at, for messages. */
export function describeSecretRef(ref: SecretRef): string {
  if ('secretsManager' in ref) return `Secrets Manager secret ${quote(managedKey(ref))}`;
  if ('ssm' in ref) return `SSM parameter ${quote(ref.ssm)}`;
  return 'env' in ref ? `environment variable ${ref.env}` : `secret ${quote(ref.secret)}`;
}

/** Look a reference up. The reason on failure names the variable or the entry and the file, never a value. */
export function resolveSecret(ref: SecretRef, sources: SecretSources): SecretResult {
  if ('env' in ref) {
    const value = Object.hasOwn(sources.env, ref.env) ? sources.env[ref.env] : undefined;
    if (value === undefined) return { ok: false, reason: `environment variable ${ref.env} is not set` };
    if (value === '') return { ok: false, reason: `environment variable ${ref.env} is empty` };
    return { ok: true, value };
  }
  if ('secretsManager' in ref) {
    const key = managedKey(ref);
    const value = sources.managed?.get(key);
    if (value !== undefined && value !== '') return { ok: true, value };
    const why = sources.managed?.problem(key);
    return {
      ok: false,
      reason: why
        ? `Secrets Manager secret ${quote(key)}: ${why}`
        : sources.managed
          ? `Secrets Manager secret ${quote(key)} is empty or was not loaded`
          : `Secrets Manager secret ${quote(key)} is referenced but Secrets Manager is not used here (the Lambda functions resolve it; locally use { env } or { secret })`,
    };
  }
  if ('ssm' in ref) {
    const value = sources.parameters?.get(ref.ssm);
    if (value !== undefined && value !== '') return { ok: true, value };
    const why = sources.parameters?.problem(ref.ssm);
    return {
      ok: false,
      reason: why
        ? `SSM parameter ${quote(ref.ssm)}: ${why}`
        : sources.parameters
          ? `SSM parameter ${quote(ref.ssm)} is empty or was not loaded`
          : `SSM parameter ${quote(ref.ssm)} is referenced but SSM Parameter Store is not used here (the Lambda functions resolve it; locally use { env } or { secret })`,
    };
  }
  const file = sources.secretsFile;
  if (!file) {
    return {
      ok: false,
      reason: `secret ${quote(ref.secret)} is referenced but there is no secrets file (set secrets.file in the config or ${SECRETS_FILE_ENV})`,
    };
  }
  const value = file.get(ref.secret);
  if (value === undefined)
    return { ok: false, reason: `secret ${quote(ref.secret)} is not in the secrets file ${file.path}` };
  return { ok: true, value };
}

/**
 * Every submission secret reference in a configuration, with its path (`tenants[2].submission.clientSecret`).
 * Blocklist zone keys are not among them: see `resolveBlocklistKeys` (an unresolved key is a warning, not an error).
 */
export function secretRefs(config: RelaywatchConfig): Array<{ readonly path: string; readonly ref: SecretRef }> {
  const out: Array<{ path: string; ref: SecretRef }> = [];
  config.tenants.forEach((t, i) => {
    const s = t.submission;
    if (!s) return;
    const key = s.auth === 'oauth' ? 'clientSecret' : 'password';
    const ref = s.auth === 'oauth' ? s.clientSecret : s.password;
    out.push({ path: formatPath(['tenants', i, 'submission', key]), ref });
  });
  return out;
}

/**
 * The keys of the blocklist zones that have one (`blocklists.keys`), resolved. A reference that does not resolve is a
 * warning, not an error: the zone is reported as not checked (the engine's `planZone`) and the other checks run.
 * Reasons name the variable or the entry, never a value.
 */
export function resolveBlocklistKeys(
  config: RelaywatchConfig,
  sources: SecretSources,
): { readonly keys: ReadonlyMap<string, string>; readonly warnings: readonly ConfigProblem[] } {
  const keys = new Map<string, string>();
  const warnings: ConfigProblem[] = [];
  for (const [id, ref] of Object.entries(config.blocklists?.keys ?? {})) {
    const r = resolveSecret(ref, sources);
    if (r.ok) keys.set(id, r.value);
    else
      warnings.push({
        path: formatPath(['blocklists', 'keys', id]),
        message: `${r.reason}; zone ${quote(id)} will be reported as not checked`,
        severity: 'warning',
      });
  }
  return { keys, warnings };
}

/** A problem (error) for every reference that does not resolve; empty when all do. Values are not kept. */
export function checkSecretRefs(config: RelaywatchConfig, sources: SecretSources): ConfigProblem[] {
  return secretRefs(config).flatMap(({ path, ref }) => {
    const r = resolveSecret(ref, sources);
    return r.ok ? [] : [{ path, message: r.reason, severity: 'error' as const }];
  });
}

/**
 * Where the secrets file is: RELAYWATCH_SECRETS_FILE (relative to the working directory) if set, else `secrets.file`
 * relative to the config file's directory, else none.
 */
export function secretsFilePath(
  config: RelaywatchConfig,
  where: { readonly env: Readonly<Record<string, string | undefined>>; readonly configPath: string },
): string | undefined {
  const fromEnv = where.env[SECRETS_FILE_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return resolve(fromEnv.trim());
  if (config.secrets) return resolveConfigPath(where.configPath, config.secrets.file);
  return undefined;
}
