/**
 * Loading the configuration: file → text → YAML → zod schema + cross-value rules → a validated config and warnings.
 *
 * Error contract: `parseConfig()` and `loadConfig()` throw `ConfigError` for anything wrong with the input (a
 * missing or unreadable file, bad encoding, YAML syntax, duplicate keys, schema violations, rule violations,
 * limits) with *every* problem found, each with its path and, for YAML, its line and column. Warnings come back with
 * the config when there is no error, and inside the `ConfigError` when there is one. Anything else thrown is a bug.
 *
 * Relative paths in the file (`dns.caFile`, `secrets.file`) are kept as written; they are relative to the directory
 * of the config file (`dirname(result.path)`), see `secretsFilePath()` and `resolveConfigPath()`.
 */
import { isAbsolute, resolve } from 'node:path';
import { hiddenKeyPath, REGISTRY_ZONE_IDS } from './blocklists.ts';
import {
  checkConfigSize,
  decodeConfigBytes,
  EXAMPLE_HINT,
  MAX_CONFIG_BYTES,
  mebibytes,
  type ParseConfigOptions,
  readFileBounded,
} from './document.ts';
import { ConfigError, type PathSegment } from './problems.ts';
import {
  describeInput,
  failConfig,
  isRecord,
  type LoadedConfig,
  SECRET_REF_KEYS,
  secretRefRoot,
  validateConfigDocument,
} from './validate.ts';
import { readYaml } from './yaml-source.ts';

// What callers imported from here before the JSON reader split them out (the CLI and the tests still do; a module a
// Lambda loads imports them from document.ts or validate.ts, never from here: this module loads `yaml`).
export {
  decodeConfigBytes,
  EXAMPLE_HINT,
  MAX_CONFIG_BYTES,
  type ParseConfigOptions,
  readFileBounded,
  resolveConfigPath,
} from './document.ts';
export { type LoadedConfig, secretRefRoot } from './validate.ts';

export interface LoadConfigOptions extends ParseConfigOptions {
  /**
   * Reads a file; may stop after `limit` bytes (the result is then too large anyway). Default: a bounded read with
   * `node:fs`. Errors with a Node `code` (`ENOENT`, `EACCES`, `EISDIR`…) become helpful messages.
   */
  readonly readFile?: (path: string, limit: number) => Promise<Uint8Array>;
}

function fail(source: string, message: string, options?: ErrorOptions & { line?: number }): never {
  return failConfig(source, message, options);
}

// ---------------------------------------------------------------------------------------------------------------
// parse

/**
 * Validate configuration text (pure). `sourceName` names it in messages (usually the file path).
 * @throws ConfigError with every problem when there is at least one error.
 */
export function parseConfig(text: string, sourceName: string, options: ParseConfigOptions = {}): LoadedConfig {
  return readConfigDocument(text, sourceName, options).loaded;
}

const REGISTRY_IDS: ReadonlySet<string> = new Set(REGISTRY_ZONE_IDS);

/** For the YAML reader: where a key must not be shown (inside a secret reference, anything but env/secret). */
function sensitiveKey(parent: readonly PathSegment[], key: string): readonly PathSegment[] | undefined {
  // Under blocklists.keys, only registry zone ids are shown before the document is read (custom ids are not known yet).
  const hidden = hiddenKeyPath([...parent, key].slice(0, 3), REGISTRY_IDS);
  if (hidden) return hidden;
  if (parent.length === 2 && parent[0] === 'blocklists' && parent[1] === 'keys') return undefined;
  const root = secretRefRoot([...parent, key]);
  if (!root) return undefined;
  return parent.length === root.length && SECRET_REF_KEYS.has(key) ? undefined : root;
}

/**
 * `parseConfig`, also returning the document as read (plain data, before the schema's transforms): what
 * `config push` serialises with `configJson`.
 * @throws ConfigError with every problem when there is at least one error.
 */
export function readConfigDocument(
  text: string,
  sourceName: string,
  options: ParseConfigOptions = {},
): { readonly loaded: LoadedConfig; readonly document: Record<string, unknown> } {
  checkConfigSize(text, sourceName, options.maxBytes);
  const source = readYaml(text.startsWith('\uFEFF') ? text.slice(1) : text, { sensitive: sensitiveKey });
  if (!source.usable) throw new ConfigError(sourceName, source.problems);
  const doc = source.value;
  if (doc === null || doc === undefined) {
    failConfig(
      sourceName,
      `the file is empty; a configuration needs at least version, msp and tenants (an example: ${EXAMPLE_HINT})`,
    );
  }
  if (!isRecord(doc)) {
    const pos = source.locate([]);
    failConfig(
      sourceName,
      `the file must be a YAML mapping (key: value) with version, msp and tenants, not ${describeInput(doc)}`,
      {
        ...(pos ? { line: pos.line } : {}),
      },
    );
  }
  const loaded = validateConfigDocument(doc, sourceName, { locator: source, readerProblems: source.problems });
  return { loaded, document: doc };
}

// ---------------------------------------------------------------------------------------------------------------
// load

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/**
 * Read and validate a configuration file. `result.path` is the absolute path (relative paths inside the file are
 * relative to its directory).
 * @throws ConfigError for a missing/unreadable/oversized file and for every problem `parseConfig` finds.
 */
export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const maxBytes = options.maxBytes ?? MAX_CONFIG_BYTES;
  const absolute = resolve(path);
  let bytes: Uint8Array;
  try {
    bytes = await (options.readFile ?? readFileBounded)(absolute, maxBytes);
  } catch (cause) {
    const code = errorCode(cause);
    switch (code) {
      case 'ENOENT':
        return fail(
          path,
          `configuration file not found: ${path}${isAbsolute(path) ? '' : ` (looked for ${absolute})`}; to try relaywatch with the example, run: ${EXAMPLE_HINT}`,
          { cause },
        );
      case 'EISDIR':
        return fail(path, `${path} is a directory; --config takes a YAML file (e.g. ${EXAMPLE_HINT})`, { cause });
      case 'EACCES':
      case 'EPERM':
        return fail(path, `cannot read ${path}: permission denied`, { cause });
      default:
        return fail(path, `cannot read ${path}: ${code ?? (cause instanceof Error ? cause.message : String(cause))}`, {
          cause,
        });
    }
  }
  if (bytes.length > maxBytes) {
    fail(path, `the file is larger than the ${mebibytes(maxBytes)} a configuration may be; is it the right file?`);
  }
  const loaded = parseConfig(decodeConfigBytes(bytes, path), path, { maxBytes });
  return { ...loaded, path: absolute };
}
