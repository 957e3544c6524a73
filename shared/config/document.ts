/**
 * The configuration document as bytes and as JSON, without a YAML parser.
 *
 * `relaywatch config push` validates the MSP's YAML and uploads the document as compact JSON (`configJson`); the
 * Lambdas read it with `parseConfigJson`: `JSON.parse` plus the same validation as the YAML loader
 * (`validate.ts`), so the same document gives the same problems (paths, severities, messages), minus the line numbers
 * JSON has no use for. A 500-tenant document costs a few times less CPU this way than through YAML, and `yaml` stays
 * out of every Lambda bundle's cold-start code (test/infra/bundle-contents.test.ts).
 *
 * The reader's limits are the YAML reader's (`DOCUMENT_LIMITS`: nesting depth and number of values), with the same
 * messages. JSON has no duplicate-key check: `JSON.parse` keeps the last of two equal keys, as every JSON reader does;
 * the documents `config push` writes have none (they are serialised from one object).
 *
 * Error contract: `parseConfigJson` throws `ConfigError` (every problem with its path) for anything wrong with the
 * text; no message quotes the text where it is not valid JSON (it could be a secret typed in the wrong place).
 */
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DOCUMENT_LIMITS } from './limits.ts';
import { ConfigError, type ConfigProblem, formatPath, type PathSegment, positionOf } from './problems.ts';
import { describeInput, failConfig, isRecord, type LoadedConfig, validateConfigDocument } from './validate.ts';

/** Larger than this is not a configuration someone wrote (or it is the wrong file). */
export const MAX_CONFIG_BYTES = 5 * 1024 * 1024;

export const EXAMPLE_HINT = 'relaywatch check --config examples/relaywatch.yaml';

export { DOCUMENT_LIMITS } from './limits.ts';

export interface ParseConfigOptions {
  /** Size limit in bytes of UTF-8 (default `MAX_CONFIG_BYTES`). */
  readonly maxBytes?: number;
}

export function mebibytes(n: number): string {
  return `${Math.round((n / (1024 * 1024)) * 10) / 10} MiB`;
}

/** Refuse text over the size limit (the message the YAML and JSON readers share). */
export function checkConfigSize(text: string, sourceName: string, maxBytes = MAX_CONFIG_BYTES): void {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    failConfig(
      sourceName,
      `the file is ${mebibytes(bytes)}, more than the ${mebibytes(maxBytes)} a configuration may be; is it the right file?`,
    );
  }
}

/** Turn file bytes into text: UTF-8 only (a BOM is fine), with a clear message otherwise. */
export function decodeConfigBytes(bytes: Uint8Array, sourceName: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    failConfig(sourceName, 'the file is UTF-16 text; save it as UTF-8');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    return failConfig(sourceName, 'the file is not valid UTF-8 text; save it as UTF-8', { cause });
  }
}

/** Read at most about `limit + 64 KiB` bytes, so a huge file (or /dev/zero) costs no more than the limit. */
export async function readFileBounded(path: string, limit: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.alloc(64 * 1024);
    while (total <= limit) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
      total += bytesRead;
    }
    return Buffer.concat(chunks);
  } finally {
    await handle.close();
  }
}

/** A path from the config (`dns.caFile`, `secrets.file`) resolved against the config file's directory. */
export function resolveConfigPath(configPath: string, relative: string): string {
  return resolve(dirname(configPath), relative);
}

/** True when the text is a JSON document (`config push` writes those): its first character but spaces is `{`. */
export function looksLikeJson(text: string): boolean {
  const m = /^[\uFEFF\s]*(\S)/.exec(text);
  return m?.[1] === '{';
}

class LimitReached extends Error {
  readonly path: readonly PathSegment[];
  constructor(message: string, path: readonly PathSegment[]) {
    super(message);
    this.path = path;
  }
}

/**
 * The YAML reader's limits on JSON data, in the same order (depth first, in document order) and with the same
 * messages and paths. Recursion is bounded by `maxDepth`.
 */
function limitProblem(value: unknown, limits = DOCUMENT_LIMITS): ConfigProblem | undefined {
  let values = 0;
  const walk = (v: unknown, path: PathSegment[], depth: number): void => {
    if (++values > limits.maxValues)
      throw new LimitReached(`the document has more than ${limits.maxValues} values`, path);
    if (depth > limits.maxDepth) throw new LimitReached(`nested more than ${limits.maxDepth} levels deep`, path);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(v[i], [...path, i], depth + 1);
    } else if (isRecord(v)) {
      for (const key of Object.keys(v)) walk(v[key], [...path, key], depth + 1);
    }
  };
  try {
    walk(value, [], 0);
    return undefined;
  } catch (err) {
    if (!(err instanceof LimitReached)) throw err;
    return { path: formatPath(err.path), message: err.message, severity: 'error' };
  }
}

/**
 * What a `JSON.parse` error means, in our words: V8's messages quote the text around the error (`Unexpected token
 * 'h', "{"a": hunter2}" is not valid JSON`), which could be a secret typed in the wrong place, so only their kind is
 * used.
 */
const JSON_SYNTAX: readonly (readonly [RegExp, string])[] = [
  [/^Expected (double-quoted property name|property name or '\}')/, 'a key must be a string in double quotes'],
  [/^Expected ':' after property name/, 'a ":" is missing after a key'],
  [/^Expected ',' or '\}' after property value/, 'a "," or "}" is missing after a value'],
  [/^Expected ',' or '\]' after array element/, 'a "," or "]" is missing after a list item'],
  [/^Bad control character in string literal/, 'a string holds a control character (write \\n, \\t…)'],
  [/^Bad (escaped character|Unicode escape)/, 'a string has an invalid escape sequence'],
  [/^Unterminated string/, 'a string is never closed (the closing " is missing)'],
  [/^Unexpected non-whitespace character after JSON/, 'there is more text after the document'],
  [/^Unexpected end of JSON input/, 'the text ends too early'],
];

/** The problem of a `JSON.parse` error: its kind and, when V8 says it (`at position 12`), its line and column. */
function syntaxProblem(text: string, err: SyntaxError): ConfigProblem {
  const what = JSON_SYNTAX.find(([re]) => re.test(err.message))?.[1] ?? 'unexpected content';
  const at = /in JSON at position (\d+)/.exec(err.message);
  const offset = at ? Number(at[1]) : /^Unexpected end of JSON input/.test(err.message) ? text.length : undefined;
  if (offset === undefined) return { path: '', message: `JSON syntax: ${what}`, severity: 'error' };
  const { line, column } = positionOf(text, offset);
  return { path: '', message: `JSON syntax: ${what} (column ${column})`, severity: 'error', line, column };
}

/** The text is not JSON (a `ConfigError`: a reader that takes YAML too may try that instead). */
export class JsonSyntaxError extends ConfigError {}

/**
 * Validate configuration text that is JSON (pure): what `config push` uploads and the Lambdas read.
 * @throws ConfigError with every problem when there is at least one error.
 */
export function parseConfigJson(text: string, sourceName: string, options: ParseConfigOptions = {}): LoadedConfig {
  checkConfigSize(text, sourceName, options.maxBytes);
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trim() === '') {
    failConfig(
      sourceName,
      `the file is empty; a configuration needs at least version, msp and tenants (an example: ${EXAMPLE_HINT})`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new JsonSyntaxError(sourceName, [syntaxProblem(body, err)]);
  }
  if (!isRecord(doc)) {
    failConfig(
      sourceName,
      `the document must be a JSON object with version, msp and tenants, not ${describeInput(doc)}`,
    );
  }
  const limit = limitProblem(doc);
  if (limit) throw new ConfigError(sourceName, [limit]);
  return validateConfigDocument(doc, sourceName);
}

/**
 * The validated document as compact JSON, for `config push` to upload: the plain data the YAML gave (not the
 * schema's output, whose values are parsed forms), in the order written. `parseConfigJson` of the result gives the
 * same config (push checks that before uploading).
 */
export function configJson(doc: Record<string, unknown>): string {
  return JSON.stringify(doc);
}
