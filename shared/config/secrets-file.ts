/**
 * Reading a secrets file (YAML or JSON: a flat mapping `name: value`, see secrets.ts). Apart from secrets.ts because
 * it parses YAML: the Lambdas resolve references with secrets.ts and never read a secrets file, so `yaml` stays out of
 * their bundles.
 *
 * Error contract: no message or problem contains a secret value. `parseSecretsFile`/`loadSecretsFile` throw
 * `ConfigError` for a bad file.
 */
import { stat as fsStat } from 'node:fs/promises';
import { decodeConfigBytes, readFileBounded } from './document.ts';
import { ConfigError, type ConfigProblem, formatPath, quote } from './problems.ts';
import { isSecretName, SECRETS_FILE_ENV } from './schema.ts';
import { SecretsFile } from './secrets.ts';
import { readYaml } from './yaml-source.ts';

/** A secrets file is small; anything larger is the wrong file. */
export const MAX_SECRETS_BYTES = 1024 * 1024;

/**
 * Parse secrets-file text (pure): a mapping of names (letters, digits, `_`, `.`, `-`) to non-empty strings.
 * Numbers and booleans are refused rather than converted (YAML reads `0123` as 123 and `yes` stays a string only in
 * YAML 1.2; a password must be quoted to survive).
 * @throws ConfigError naming each bad entry and its line, never its value.
 */
export function parseSecretsFile(text: string, sourceName: string): SecretsFile {
  const heading = (n: number) => `invalid secrets file ${sourceName}: ${n} error${n === 1 ? '' : 's'}`;
  const source = readYaml(text.startsWith('\uFEFF') ? text.slice(1) : text, { maxDepth: 4, maxAliases: 10 });
  if (!source.usable) throw new ConfigError(sourceName, source.problems, { heading: heading(source.problems.length) });
  const problems: ConfigProblem[] = [...source.problems];
  const at = (path: (string | number)[], atKey = false) => {
    const pos = source.locate(path, atKey);
    return pos ? { line: pos.line, column: pos.column } : {};
  };
  const doc = source.value;
  const values = new Map<string, string>();
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    problems.push({
      path: '',
      message:
        doc === null
          ? 'the secrets file is empty; it holds name: value pairs'
          : 'the secrets file must be a mapping of name: value',
      severity: 'error',
      ...at([]),
    });
  } else {
    for (const [name, value] of Object.entries(doc)) {
      const path = formatPath([name]);
      if (!isSecretName(name)) {
        problems.push({
          path,
          message: `${quote(name, 40)} is not a valid secret name (letters, digits, _, . and -, at most 128)`,
          severity: 'error',
          ...at([name], true),
        });
      } else if (typeof value !== 'string') {
        problems.push({
          path,
          message: 'must be a string; quote the value (a number or true/false loses its exact spelling)',
          severity: 'error',
          ...at([name]),
        });
      } else if (value === '') {
        problems.push({ path, message: 'is empty', severity: 'error', ...at([name]) });
      } else {
        values.set(name, value);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(sourceName, problems, { heading: heading(problems.length) });
  return new SecretsFile(sourceName, values);
}

export interface LoadSecretsOptions {
  /** Reads a file, may stop after `limit` bytes (default: bounded `node:fs` read). */
  readonly readFile?: (path: string, limit: number) => Promise<Uint8Array>;
  /** File mode bits (default `fs.stat`); `undefined` skips the permission check. */
  readonly mode?: (path: string) => Promise<number | undefined>;
  /** Default `process.platform`; on win32 the ACLs are not read (a warning says so). */
  readonly platform?: string;
}

/**
 * Read a secrets file. A file its group or other users can read or write comes back with a warning (the secrets are
 * only as safe as the file); on Windows, a warning that its ACLs were not checked.
 * @throws ConfigError for a missing, unreadable, oversized or invalid file.
 */
export async function loadSecretsFile(
  path: string,
  options: LoadSecretsOptions = {},
): Promise<{ readonly secrets: SecretsFile; readonly warnings: readonly ConfigProblem[] }> {
  const failWith = (message: string, cause?: unknown): never => {
    throw new ConfigError(path, [{ path: '', message, severity: 'error' }], {
      heading: `invalid secrets file ${path}: 1 error`,
      ...(cause === undefined ? {} : { cause }),
    });
  };
  let bytes: Uint8Array;
  try {
    bytes = await (options.readFile ?? readFileBounded)(path, MAX_SECRETS_BYTES);
  } catch (cause) {
    const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
    return failWith(
      code === 'ENOENT'
        ? `secrets file not found: ${path} (from ${SECRETS_FILE_ENV} or secrets.file in the config)`
        : `cannot read the secrets file ${path}: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (code ?? 'read error')}`,
      cause,
    );
  }
  if (bytes.length > MAX_SECRETS_BYTES) failWith(`the secrets file is larger than ${MAX_SECRETS_BYTES} bytes`);
  let text: string;
  try {
    text = decodeConfigBytes(bytes, path);
  } catch (err) {
    return failWith(err instanceof ConfigError ? (err.problems[0]?.message ?? 'unreadable') : 'unreadable', err);
  }
  const secrets = parseSecretsFile(text, path);
  const warnings: ConfigProblem[] = [];
  if ((options.platform ?? process.platform) === 'win32') {
    // Windows keeps access in ACLs, which mode bits do not show and which this check does not read
    warnings.push({
      path: '',
      message: `the permissions of the secrets file ${path} are not checked on Windows: make sure only the service account and Administrators can read it (icacls "${path}" /inheritance:r /grant:r "<service account>:R" "BUILTIN\\Administrators:F")`,
      severity: 'warning',
    });
  } else {
    const mode = await (options.mode ?? (async (p: string) => (await fsStat(p)).mode))(path);
    if (mode !== undefined && (mode & 0o077) !== 0) {
      const who = (mode & 0o007) !== 0 ? 'every user on this machine' : 'the members of its group';
      const what = mode & 0o022 ? 'writable' : 'readable';
      warnings.push({
        path: '',
        message: `the secrets file ${path} is ${what} by ${who} (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); restrict it to its owner: chmod 600 ${path}`,
        severity: 'warning',
      });
    }
  }
  return { secrets, warnings };
}
