/**
 * A store of secrets by name (AWS Secrets Manager or SSM Parameter Store SecureStrings in Lambda). Values are strings: a plain secret, or a JSON object
 * whose keys hold several secrets (grouped secrets: one secret per MSP for every webhook URL, say).
 *
 * Error contract: `get` rejects with {@link SecretNotFoundError} for a name that does not exist and with the
 * backend's error otherwise; messages name the secret, never a value. Adapters cache values for a bounded time so a
 * rotated secret is picked up.
 */
export interface SecretSource {
  get(name: string): Promise<string>;
}

export class SecretNotFoundError extends Error {
  readonly secretName: string;
  /** `what` names the kind of store entry in the message (`secret`, `SSM parameter`). */
  constructor(name: string, options?: ErrorOptions, what = 'secret') {
    super(`${what} ${JSON.stringify(name)} does not exist`, options);
    this.name = 'SecretNotFoundError';
    this.secretName = name;
  }
}
