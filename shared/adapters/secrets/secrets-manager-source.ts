/**
 * The {@link SecretSource} on AWS Secrets Manager (`GetSecretValue`, the current version), cached per container for
 * `ttlMs` (default 5 minutes): a rotated secret is used at the latest one TTL after rotation, and a burst of
 * invocations costs one call per secret name. A failed fetch is not cached.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretNotFoundError, type SecretSource } from '../../ports/secret-source.ts';

export interface SecretsManagerSourceOptions {
  readonly client?: SecretsManagerClient;
  readonly endpoint?: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly ttlMs?: number;
  readonly now?: () => number;
}

export class SecretsManagerSource implements SecretSource {
  readonly #client: SecretsManagerClient;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { value: Promise<string>; until: number }>();
  /** Calls made to Secrets Manager (for tests and metrics). */
  calls = 0;

  constructor(options: SecretsManagerSourceOptions = {}) {
    this.#client =
      options.client ??
      new SecretsManagerClient({
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
      });
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  get(name: string): Promise<string> {
    const now = this.#now();
    const hit = this.#cache.get(name);
    if (hit && hit.until > now) return hit.value;
    this.calls++;
    const value = this.#client.send(new GetSecretValueCommand({ SecretId: name })).then(
      (out) => {
        if (typeof out.SecretString === 'string') return out.SecretString;
        if (out.SecretBinary) return Buffer.from(out.SecretBinary).toString('utf8');
        throw new Error(`secret ${JSON.stringify(name)} has no value`);
      },
      (err: unknown) => {
        if (err instanceof Error && err.name === 'ResourceNotFoundException')
          throw new SecretNotFoundError(name, { cause: err });
        throw err;
      },
    );
    this.#cache.set(name, { value, until: now + this.#ttlMs });
    value.catch(() => this.#cache.delete(name));
    return value;
  }

  destroy(): void {
    this.#client.destroy();
  }
}
