/**
 * The configuration document in S3 (the bucket and key the deployment names in environment variables), cached per
 * container: each `load()` is a conditional `GetObject` (`If-None-Match` with the cached ETag), so an unchanged
 * document costs a 304 and no parsing, and a pushed one is used from the next invocation on.
 *
 * A document that does not validate is refused with the `ConfigError` of the same loader the CLI uses (every
 * problem with its path): the caller fails loudly (the job goes to the DLQ, a metric counts it) and never runs with
 * half a config. The last good document is not used instead: the MSP pushed something else, and it must be told.
 *
 * The document is the compact JSON `relaywatch config push` uploads, read with `JSON.parse` and the same validation
 * as the CLI's YAML (a few times cheaper to parse). Nothing else is read: an object that is not JSON (a YAML file
 * copied by hand with `aws s3 cp`) is refused with a `ConfigError` that names the command to use, as any invalid
 * document is. Reading YAML here would put the `yaml` package (112 KB) into every function's bundle for a path that
 * `config push` never takes; and push validates before it uploads, which a hand copy does not.
 */
import { GetObjectCommand, type GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import {
  decodeConfigBytes,
  JsonSyntaxError,
  looksLikeJson,
  MAX_CONFIG_BYTES,
  parseConfigJson,
} from '../../config/document.ts';
import { ConfigError } from '../../config/problems.ts';
import type { LoadedConfig } from '../../config/validate.ts';
import type { ConfigSnapshot, ConfigSource } from '../../ports/config-source.ts';

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

export interface S3ClientOptions {
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
}

export function s3Client(o: S3ClientOptions = {}): S3Client {
  return new S3Client({
    ...(o.endpoint ? { endpoint: o.endpoint, forcePathStyle: true } : {}),
    ...(o.region ? { region: o.region } : {}),
    ...(o.credentials ? { credentials: { ...o.credentials } } : {}),
  });
}

/** What an S3 error was, for messages: `NoSuchKey`, `AccessDenied`, the HTTP status. */
function describe(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `${err.name}${status ? ` (HTTP ${status})` : ''}: ${err.message}`;
  }
  return String(err);
}

export class S3ReadError extends Error {
  constructor(where: string, err: unknown) {
    super(`cannot read the configuration ${where}: ${describe(err)}`, { cause: err });
    this.name = 'S3ReadError';
  }
}

function notModified(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status === 304 || (err instanceof Error && err.name === 'NotModified');
}

export class S3ConfigSource implements ConfigSource {
  readonly #client: S3Client;
  readonly #where: S3Location;
  #cached: ConfigSnapshot | undefined;
  /** GetObject requests made, and how many were answered 304 (for tests and metrics). */
  readonly stats = { requests: 0, notModified: 0 };

  constructor(client: S3Client, where: S3Location) {
    this.#client = client;
    this.#where = where;
  }

  get url(): string {
    return `s3://${this.#where.bucket}/${this.#where.key}`;
  }

  async load(): Promise<ConfigSnapshot> {
    const cached = this.#cached;
    this.stats.requests++;
    let out: GetObjectCommandOutput;
    try {
      out = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#where.bucket,
          Key: this.#where.key,
          ...(cached ? { IfNoneMatch: cached.etag } : {}),
        }),
      );
    } catch (err) {
      if (cached && notModified(err)) {
        this.stats.notModified++;
        return cached;
      }
      throw new S3ReadError(this.url, err);
    }
    if (typeof out.ContentLength === 'number' && out.ContentLength > MAX_CONFIG_BYTES) {
      throw new S3ReadError(
        this.url,
        new RangeError(`the object is ${out.ContentLength} bytes, over ${MAX_CONFIG_BYTES}`),
      );
    }
    const body = out.Body;
    if (!body) throw new S3ReadError(this.url, new Error('empty response'));
    const bytes = await body.transformToByteArray();
    if (bytes.byteLength > MAX_CONFIG_BYTES) {
      throw new S3ReadError(this.url, new RangeError(`the object is over ${MAX_CONFIG_BYTES} bytes`));
    }
    // Throws ConfigError listing every problem: never half a config.
    const text = decodeConfigBytes(bytes, this.url);
    const snapshot: ConfigSnapshot = { loaded: this.#parse(text), etag: out.ETag ?? `"len-${bytes.byteLength}"` };
    this.#cached = snapshot;
    return snapshot;
  }

  /** The validated JSON document; a text that is not JSON gets the problem that says how to upload one. */
  #parse(text: string): LoadedConfig {
    if (!looksLikeJson(text)) throw notPushed(this.url);
    try {
      return parseConfigJson(text, this.url);
    } catch (err) {
      // A `{` that starts no JSON: a YAML flow mapping, or JSON edited by hand. Say both what and what to do.
      if (err instanceof JsonSyntaxError) throw notPushed(this.url, err);
      throw err;
    }
  }
}

/** How to upload a document the functions read (and what was wrong with the JSON, when it looked like JSON). */
export const PUSH_HINT =
  'the functions read the JSON document `relaywatch config push --config relaywatch.yaml --bucket BUCKET [--key KEY]` uploads (it validates first); upload the configuration with it';

function notPushed(where: string, syntax?: JsonSyntaxError): ConfigError {
  return new ConfigError(
    where,
    [
      ...(syntax?.problems ?? []),
      {
        path: '',
        severity: 'error',
        message: `${syntax ? 'not valid JSON' : 'not JSON (a YAML file copied by hand?)'}: ${PUSH_HINT}`,
      },
    ],
    syntax ? { cause: syntax } : undefined,
  );
}
