/**
 * YAML text → plain data plus a map from paths to source positions (pure).
 *
 * We parse with eemeli/yaml's `parseDocument` (YAML 1.2 core schema, so `no` stays a string and `0755` is a
 * number) and convert the syntax tree ourselves instead of calling `toJS()`, because a configuration is untrusted
 * input and we want, in one pass:
 * - duplicate keys reported with both lines (yaml's own check is quadratic in the number of keys);
 * - only scalar keys (a collection key would be stringified with a process warning);
 * - bounded work: nesting depth, alias expansion ("billion laughs") and the number of values are capped;
 * - every value's position, so a problem found later (by zod or a cross-field rule) can name its line;
 * - messages that never quote the source: yaml's own messages sometimes include the offending text, which could be a
 *   secret typed in the wrong place, so syntax errors are described from their error code only.
 */
import {
  type Document,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  visit,
} from 'yaml';
import { DOCUMENT_LIMITS } from './limits.ts';
import { type ConfigProblem, formatPath, type PathSegment, positionOf, quote } from './problems.ts';
import type { SourcePosition } from './validate.ts';

export type { SourcePosition };

export interface YamlSource {
  /** The data, or `undefined` when the text could not be read as YAML (see `problems`). `null` for an empty file. */
  readonly value: unknown;
  /** Syntax errors, duplicate keys, limits. Empty when the text is clean YAML. */
  readonly problems: readonly ConfigProblem[];
  /** False when `value` is unusable (a syntax error or a limit); duplicate keys leave it usable. */
  readonly usable: boolean;
  /**
   * Where a path is: the key's position for a mapping entry (`atKey`) or the value's; for a path that does not exist
   * (a missing key), the key of the closest existing ancestor (its value when it has no key, e.g. a list item).
   */
  locate(path: readonly PathSegment[], atKey?: boolean): SourcePosition | undefined;
}

export interface YamlOptions {
  /**
   * Keys that must not be shown: for a key under `parent`, the path to report instead (e.g. the secret reference it
   * is in), or `undefined` when the key may be shown.
   */
  readonly sensitive?: (parent: readonly PathSegment[], key: string) => readonly PathSegment[] | undefined;
}

export interface YamlLimits {
  /** Deepest nesting accepted (default 32; a relaywatch config needs 6). */
  readonly maxDepth?: number;
  /** Aliases (`*name`) expanded at most (default 100). */
  readonly maxAliases?: number;
  /** Values (scalars and collections) produced at most, after alias expansion (default 250 000). */
  readonly maxValues?: number;
  /**
   * Lines plus structural tokens (`- `, `: `, `[`, `{`, `,`) accepted before parsing (default 400 000; a
   * 10 000-tenant configuration has about 250 000). Bounds the parser's memory and time.
   */
  readonly maxTokens?: number;
}

/** Depth and values as for JSON (`DOCUMENT_LIMITS`); aliases and tokens are YAML's own. */
const DEFAULT_LIMITS = { ...DOCUMENT_LIMITS, maxAliases: 100, maxTokens: 400_000 } as const;

/** What each yaml error code means, in our words (yaml's messages may quote the source). */
const SYNTAX: Record<string, string> = {
  ALIAS_PROPS: 'an alias (*name) cannot have an anchor or a tag',
  BAD_ALIAS: 'an anchor or alias name is not valid',
  BAD_DIRECTIVE: 'a % directive is not valid',
  BAD_DQ_ESCAPE:
    'a double-quoted string has an invalid escape sequence (write \\\\ for a backslash, or use single quotes)',
  BAD_INDENT: 'the indentation is wrong (or a bracket or brace is not closed)',
  BAD_PROP_ORDER: 'anchors and tags must come before the value',
  BAD_SCALAR_START:
    'a plain value cannot start with this character (quote values starting with @, `, %, |, >, *, &, ! or #)',
  BLOCK_AS_IMPLICIT_KEY: 'a nested mapping or list is not allowed here (check the indentation, or quote the value)',
  BLOCK_IN_FLOW: 'a block value is not allowed inside [ ] or { }',
  DUPLICATE_KEY: 'a key appears twice in the same mapping',
  IMPOSSIBLE: 'the YAML is not valid',
  KEY_OVER_1024_CHARS: 'a key is longer than 1024 characters',
  MISSING_CHAR: 'a character is missing (a closing quote, bracket or brace, or a space after ":")',
  MULTILINE_IMPLICIT_KEY: 'a key must be on a single line (is a ":" missing, or a value not quoted?)',
  MULTIPLE_ANCHORS: 'a value can have only one anchor',
  MULTIPLE_DOCS: 'the file holds more than one YAML document (---); a config is one document',
  MULTIPLE_TAGS: 'a value can have only one tag',
  NON_STRING_KEY: 'keys must be plain strings',
  RESOURCE_EXHAUSTION: 'the YAML is nested too deeply or too large to read',
  TAB_AS_INDENT: 'tabs are not allowed as indentation; use spaces',
  TAG_RESOLVE_FAILED:
    'YAML tags (!name) are not supported; for a secret use { env: NAME } or { secret: name } from the secrets file',
  UNEXPECTED_TOKEN: 'unexpected content (check quotes, indentation and the ":" after each key)',
  BAD_COLLECTION_TYPE: 'a tag does not fit its value',
};

class LimitReached extends Error {
  readonly path: readonly PathSegment[];
  constructor(message: string, path: readonly PathSegment[]) {
    super(message);
    this.name = 'LimitReached';
    this.path = path;
  }
}

interface Positions {
  key?: number;
  value?: number;
}

function pathKey(path: readonly PathSegment[]): string {
  return JSON.stringify(path);
}

function tooMany(maxTokens: number): string {
  return `the file has more than ${maxTokens} lines and values; that is not a configuration (is it the right file?)`;
}

interface PrescanFinding {
  readonly offset: number;
  readonly message: string;
}

/**
 * A linear pass over the text before the YAML parser sees it. eemeli/yaml needs memory in proportion to the tokens
 * it reads and to nesting (a few MB of `[[[[…`, `- - - …` or `[][][]…` exhaust the heap), so text that no real
 * configuration looks like is refused here: flow nesting (`[`, `{`) deeper than `maxDepth`, more than `maxDepth`
 * block indicators (`- `, `? `) opening one line, or more than `maxTokens` lines and structural tokens. Conservative:
 * brackets inside quoted strings count too; `#` comments are skipped.
 */
function prescan(text: string, maxDepth: number, maxTokens: number): PrescanFinding | undefined {
  let depth = 0;
  let tokens = 0;
  let atLineStart = true; // only indentation and block indicators so far on this line
  let indicators = 0;
  let afterSpace = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A line break: \n, or a \r not followed by \n (old Mac line ends; YAML reads them as breaks too).
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      if (++tokens > maxTokens) return { offset: i, message: tooMany(maxTokens) };
      atLineStart = true;
      indicators = 0;
      afterSpace = true;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0d /* before \n */) {
      afterSpace = true;
      continue;
    }
    if (c === 0x23 /* # */ && afterSpace) {
      while (i + 1 < text.length && text.charCodeAt(i + 1) !== 0x0a) i++;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    const spaceNext = Number.isNaN(next) || next === 0x20 || next === 0x0a || next === 0x09 || next === 0x0d;
    if ((c === 0x2d /* - */ || c === 0x3f /* ? */ || c === 0x3a) /* : */ && spaceNext) {
      tokens++;
      if (atLineStart && c !== 0x3a && ++indicators > maxDepth) {
        return { offset: i, message: `nested more than ${maxDepth} levels deep` };
      }
    } else {
      atLineStart = false;
      if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
        tokens++;
        if (++depth > maxDepth) return { offset: i, message: `nested more than ${maxDepth} levels deep` };
      } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
        if (depth > 0) depth--;
      } else if (c === 0x2c /* , */) {
        tokens++;
      }
    }
    afterSpace = false;
    if (tokens > maxTokens) return { offset: i, message: tooMany(maxTokens) };
  }
  return undefined;
}

interface Opener {
  readonly start: number;
  readonly end: number;
  readonly message: string;
}

/**
 * Quoted values and flow collections (`[`, `{`) whose closing character is missing: yaml reports those where the text
 * ends (a quote swallows the rest of the file), so the line would be the last one. The node still starts at the opener.
 */
function unclosedOpeners(doc: Document.Parsed, text: string): Opener[] {
  const out: Opener[] = [];
  if (doc.contents === null) return out;
  visit(doc, (_key, node) => {
    if (node === null || typeof node !== 'object' || !('range' in node)) return;
    const range = (node as Node).range;
    if (!range) return;
    const [start, end] = range;
    const raw = text.slice(start, end).trimEnd();
    if (isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')) {
      const q = node.type === 'QUOTE_DOUBLE' ? '"' : "'";
      const closed = raw.length >= 2 && raw.endsWith(q) && !(q === '"' && /(?<!\\)(?:\\\\)*\\"$/.test(raw));
      if (!closed) {
        out.push({
          start,
          end,
          message: `a value opened with ${q} here is never closed (the closing ${q} is missing)`,
        });
      }
    } else if (isCollection(node) && node.flow) {
      const [open, close] = isMap(node) ? ['{', '}'] : ['[', ']'];
      if (!raw.endsWith(close)) {
        out.push({ start, end, message: `a ${open} opened here is never closed (add the ${close})` });
      }
    }
  });
  return out;
}

/** Read YAML text. Never throws for anything in the text. */
export function readYaml(text: string, options: YamlLimits & YamlOptions = {}): YamlSource {
  const { maxDepth, maxAliases, maxValues, maxTokens } = { ...DEFAULT_LIMITS, ...options };
  const sensitive = options.sensitive ?? (() => undefined);
  const lineCounter = new LineCounter();
  const positions = new Map<string, Positions>();
  const problems: ConfigProblem[] = [];
  const at = (offset: number | undefined): SourcePosition | undefined => {
    if (offset === undefined) return undefined;
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problem = (path: readonly PathSegment[], message: string, offset?: number): ConfigProblem => {
    const pos = at(offset);
    return {
      path: formatPath(path),
      message,
      severity: 'error',
      ...(pos ? { line: pos.line, column: pos.column } : {}),
    };
  };
  const locate = (path: readonly PathSegment[], atKey = false): SourcePosition | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const p = positions.get(pathKey(path.slice(0, n)));
      if (!p) continue;
      // The path itself: its key or its value as asked. A missing path: the key that introduces the closest ancestor
      // (`contact:` for a missing `contact.email`), which is where the missing entry belongs.
      const preferKey = n < path.length || atKey;
      const offset = preferKey ? (p.key ?? p.value) : (p.value ?? p.key);
      return at(offset);
    }
    return undefined;
  };

  const refused = prescan(text, maxDepth, maxTokens);
  if (refused) {
    const { line, column } = positionOf(text, refused.offset);
    return {
      value: undefined,
      usable: false,
      problems: [{ path: '', message: refused.message, severity: 'error', line, column }],
      locate,
    };
  }

  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, version: '1.2' });
  } catch (err) {
    // yaml reports problems as values; a throw here would be a bug or exhaustion (e.g. stack). Still a ConfigProblem.
    const kind = err instanceof RangeError ? 'nested too deeply' : 'not readable';
    return { value: undefined, usable: false, problems: [problem([], `the YAML is ${kind}`)], locate };
  }
  const unclosed = doc.errors.length + doc.warnings.length > 0 ? unclosedOpeners(doc, text) : [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    // An unclosed quote or bracket is noticed where the text ends (or where the next key starts): point at the opener.
    const opener = unclosed.find((o) => e.pos[0] >= o.end && e.pos[0] <= o.end + 1);
    if (opener && (e.code === 'MISSING_CHAR' || e.code === 'BAD_INDENT' || e.code === 'UNEXPECTED_TOKEN')) {
      problems.push(problem([], `YAML syntax: ${opener.message}`, opener.start));
      continue;
    }
    problems.push(problem([], `YAML syntax: ${SYNTAX[e.code] ?? 'the YAML is not valid'}`, e.pos[0]));
  }
  if (problems.length > 0) return { value: undefined, usable: false, problems, locate };

  let aliases = 0;
  let values = 0;
  const expanding = new Set<Node>();

  const convert = (node: unknown, path: PathSegment[], depth: number): unknown => {
    if (++values > maxValues) throw new LimitReached(`the document has more than ${maxValues} values`, path);
    if (depth > maxDepth) throw new LimitReached(`nested more than ${maxDepth} levels deep`, path);
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      if (++aliases > maxAliases) throw new LimitReached(`more than ${maxAliases} aliases (*name) are used`, path);
      const target = node.resolve(doc);
      if (!target) throw new LimitReached('an alias (*name) refers to an anchor that is not defined before it', path);
      if (expanding.has(target)) throw new LimitReached('an alias (*name) refers to a value that contains it', path);
      expanding.add(target);
      try {
        return convert(target, path, depth);
      } finally {
        expanding.delete(target);
      }
    }
    if (isScalar(node)) return node.value;
    if (isMap(node)) {
      // Own, writable, enumerable properties on a plain object: `__proto__` is just a key (an unknown one).
      const out: Record<string, unknown> = {};
      const firstLine = new Map<string, number | undefined>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key;
        const keyOffset = (keyNode as Node | null)?.range?.[0];
        if (keyNode !== null && !isScalar(keyNode)) {
          problems.push(problem(path, 'keys must be plain strings, not lists or mappings', keyOffset));
          continue;
        }
        const raw: unknown = keyNode === null ? null : keyNode.value;
        const key = raw === null ? '' : String(raw);
        const childPath = [...path, key];
        if (firstLine.has(key)) {
          const first = at(firstLine.get(key));
          const hidden = sensitive(path, key);
          problems.push(
            problem(
              hidden ?? childPath,
              `duplicate key${hidden ? ' (not shown: it may be a secret)' : ` ${quote(key)}`}${first ? ` (first at line ${first.line})` : ''}; each key may appear once`,
              keyOffset,
            ),
          );
          continue;
        }
        firstLine.set(key, keyOffset);
        const valueNode = pair.value as Node | null;
        positions.set(pathKey(childPath), { key: keyOffset, value: valueNode?.range?.[0] ?? keyOffset });
        Object.defineProperty(out, key, {
          value: convert(valueNode, childPath, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
    if (isSeq(node)) {
      return node.items.map((item, i) => {
        const childPath = [...path, i];
        positions.set(pathKey(childPath), { value: (item as Node | null)?.range?.[0] });
        return convert(item, childPath, depth + 1);
      });
    }
    return null;
  };

  const root = doc.contents;
  positions.set(pathKey([]), { value: root?.range?.[0] });
  try {
    const value = convert(root, [], 0);
    return { value, usable: true, problems, locate };
  } catch (err) {
    if (err instanceof LimitReached) {
      const pos = locate(err.path);
      problems.push({
        path: formatPath(err.path),
        message: err.message,
        severity: 'error',
        ...(pos ? { line: pos.line, column: pos.column } : {}),
      });
      return { value: undefined, usable: false, problems, locate };
    }
    if (err instanceof RangeError) {
      problems.push(problem([], 'the YAML is nested too deeply to read'));
      return { value: undefined, usable: false, problems, locate };
    }
    throw err;
  }
}
