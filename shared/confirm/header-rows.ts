/**
 * The rows of a message's header block: mailauth's `parseHeaders` (mailauth 7.1.0, lib/tools.js, with the
 * `lowerCaseASCII` and `startsField` helpers it calls), copied so that the confirmation functions do not load the rest
 * of that module: lib/tools.js requires libmime (and through it iconv-lite and encoding-japanese), tldts and joi at
 * load time, about 1 MB of bundle that the header split never calls (docs/dependencies.md, "The Lambda bundles").
 * Only the types were added; test/unit/confirm/header-rows.test.ts runs this copy and mailauth's own on a corpus of
 * messages and requires the same rows, byte for byte.
 *
 * mailauth's licence (node_modules/mailauth/LICENSE.txt), as it is shipped:
 *
 * Copyright (c) 2020-2026 Postal Systems OÜ
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to deal
 * in the Software without restriction, including without limitation the rights
 * to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 * copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions:
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 * AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 * LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 * OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
 * SOFTWARE.
 */
import { Buffer } from 'node:buffer';

export interface HeaderRow {
  /** Lower-case field name (ASCII letters only); null for a row with no name before a colon. */
  readonly key: string | null;
  /** The field name as written, folds and surrounding blanks removed; undefined when `key` is null. */
  readonly casedKey: string | undefined;
  /** The whole field, folds included (CRLF between its lines). */
  readonly line: Buffer;
}

// mailauth: a non-ASCII character can change its length when lower-cased by toLowerCase, so a name that has such a
// byte needs the slower per character mapping
// biome-ignore lint/suspicious/noControlCharactersInRegex: mailauth's own test, kept as written
const NON_ASCII = /[^\x00-\x7f]/;
const lowerCaseASCII = (str: string): string =>
  NON_ASCII.test(str) ? str.replace(/[A-Z]/g, (c) => c.toLowerCase()) : str.toLowerCase();

// mailauth: RFC 5322 section 3.6.8: field-name = 1*ftext, and ftext is printable US-ASCII except the colon. A fold,
// and the obsolete syntax of section 4.5.8, may put whitespace between the name and the colon
const FIELD_START = /^[\x21-\x39\x3b-\x7e]+[ \t\r\n]*:/;

// mailauth: whether a row opens a header of its own. Anything else is appended to the row above (wider than the
// CRLF-then-WSP fold of RFC 5322 section 2.2.3, deliberately: see lib/tools.js). Only the start of the row decides
// this, and a fold can push the colon no further than onto the line after the name
const startsField = (row: readonly string[]): boolean =>
  FIELD_START.test(row.length > 1 ? `${row[0]}\r\n${row[1]}` : (row[0] ?? ''));

/** mailauth's `parseHeaders`: the header block's rows, top first (the bytes are read as latin1, so 8-bit bytes pass). */
export function parseHeaderRows(buf: Buffer): { parsed: HeaderRow[]; original: Buffer } {
  // mailauth trims the trailing line ends with `.replace(/[\r\n]+$/, '')`, which is quadratic on a long run of CR or
  // LF that does not reach the end (each start position rescans the run; test/unit/security/redos.test.ts): the same
  // trim, linear.
  const text = buf.toString('binary');
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 0x0a || text.charCodeAt(end - 1) === 0x0d)) end--;
  const lines: string[][] = text
    .slice(0, end)
    .split(/\r?\n/)
    .map((row) => [row]);

  if (lines.length === 1 && !lines[0]?.[0]) {
    // nothing to parse, rather than one row that is not a header
    return { parsed: [], original: buf };
  }

  for (let i = lines.length - 1; i > 0; i--) {
    if (!startsField(lines[i]!)) {
      lines[i - 1] = lines[i - 1]!.concat(lines[i]!);
      lines.splice(i, 1);
    }
  }

  const parsed = lines.map((parts): HeaderRow => {
    const row = parts.join('\r\n');
    const match = row.match(/^[^:]+/);
    let key: string | null = null;
    let casedKey: string | undefined;
    if (match) {
      // a fold may sit between the field name and the colon, and the CRLF it leaves behind is not part of the name
      casedKey = match[0];
      if (casedKey.indexOf('\n') >= 0) {
        casedKey = casedKey.replace(/\r?\n/g, '');
      }
      casedKey = casedKey.replace(/^[ \t]+|[ \t]+$/g, '');
      key = lowerCaseASCII(casedKey);
    }
    return { key, casedKey, line: Buffer.from(row, 'binary') };
  });

  return { parsed, original: buf };
}
