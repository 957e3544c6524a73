/**
 * The {@link SecretSource} on AWS Systems Manager Parameter Store: `GetParameter` with `WithDecryption`, for the
 * `{ ssm: /path }` references of the config. Only SecureString parameters are accepted: a secret kept as a plain
 * String parameter is stored unencrypted and readable by anyone with `ssm:GetParameter`, so it is refused with a
 * message naming the parameter and the fix (never its value).
 *
 * Cached per container for `ttlMs` (default 5 minutes), like the Secrets Manager source: a parameter overwritten with
 * a new value (`aws ssm put-parameter --overwrite`, a new version) is used at the latest one TTL later, and a burst
 * of invocations costs one call per parameter. A failed fetch is not cached, so a parameter created after a failure
 * is found on the next read. The SDK client is loaded on the first read: a config without `{ ssm }` references never
 * pays for its module initialisation.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { SecretNotFoundError, type SecretSource } from '../../ports/secret-source.ts';

export interface SsmParameterSourceOptions {
  readonly client?: SSMClient;
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly ttlMs?: number;
  readonly now?: () => number;
}

/** A parameter that exists but cannot serve as a secret (not a SecureString, no value). */
export class ParameterNotUsableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParameterNotUsableError';
  }
}

export class SsmParameterSource implements SecretSource {
  readonly #options: SsmParameterSourceOptions;
  #client: Promise<{ client: SSMClient; sdk: typeof import('@aws-sdk/client-ssm') }> | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { value: Promise<string>; until: number }>();
  /** Calls made to Parameter Store (for tests and metrics). */
  calls = 0;

  constructor(options: SsmParameterSourceOptions = {}) {
    this.#options = options;
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  get(name: string): Promise<string> {
    const now = this.#now();
    const hit = this.#cache.get(name);
    if (hit && hit.until > now) return hit.value;
    this.calls++;
    const value = this.#sdk()
      .then(({ client, sdk }) => client.send(new sdk.GetParameterCommand({ Name: name, WithDecryption: true })))
      .then(
        (out) => {
          const p = out.Parameter;
          if (p?.Type !== 'SecureString') {
            throw new ParameterNotUsableError(
              `is a ${p?.Type ?? 'typeless'} parameter, not a SecureString: secrets must be encrypted (aws ssm put-parameter --name ${name} --type SecureString --overwrite)`,
            );
          }
          if (typeof p.Value !== 'string' || p.Value === '') throw new ParameterNotUsableError('has no value');
          return p.Value;
        },
        (err: unknown) => {
          if (err instanceof Error && err.name === 'ParameterNotFound')
            throw new SecretNotFoundError(name, { cause: err }, 'SSM parameter');
          throw err;
        },
      );
    const entry = { value, until: now + this.#ttlMs };
    this.#cache.set(name, entry);
    // Forget a failure, but only our own entry: a newer fetch may have replaced it meanwhile.
    value.catch(() => {
      if (this.#cache.get(name) === entry) this.#cache.delete(name);
    });
    return value;
  }

  #sdk(): Promise<{ client: SSMClient; sdk: typeof import('@aws-sdk/client-ssm') }> {
    this.#client ??= import('@aws-sdk/client-ssm').then((sdk) => {
      const o = this.#options;
      const client =
        o.client ??
        new sdk.SSMClient({
          ...(o.endpoint ? { endpoint: o.endpoint } : {}),
          ...(o.region ? { region: o.region } : {}),
          ...(o.credentials ? { credentials: { ...o.credentials } } : {}),
        });
      return { client, sdk };
    });
    return this.#client;
  }

  destroy(): void {
    void this.#client?.then(({ client }) => client.destroy());
  }
}
