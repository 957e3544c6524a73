/**
 * Where a deployment keeps its configuration document (an S3 object in AWS, a file locally). The document is the
 * CLI's YAML (as compact JSON once `config push` uploaded it), validated with the same schema and rules.
 *
 * Error contract: `load()` rejects with `ConfigError` (every problem with its path) for an invalid document, never
 * returning half a config; with the backend's error when it cannot be read. Adapters cache the parsed document and
 * re-read it when it changes (an S3 ETag).
 */
import type { LoadedConfig } from '../config/validate.ts';

export interface ConfigSnapshot {
  readonly loaded: LoadedConfig;
  /** Identifies the document's version (the S3 ETag, a file's mtime and size). */
  readonly etag: string;
}

export interface ConfigSource {
  load(): Promise<ConfigSnapshot>;
}
