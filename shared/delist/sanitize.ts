/**
 * Making untrusted text (SMTP replies, DNSBL TXT reasons, tenant names from config) safe for each output:
 * a mail header, a plain-text body, Markdown and HTML.
 */
import { isUnsafeCodePoint, trimEndOf } from '../domain/unsafe-text.ts';

/** Replace every unsafe character (keeping LF and TAB when `keepLines`) by what `by` returns. */
function replaceUnsafe(value: string, keepLines: boolean, by: (c: string, cp: number) => string): string {
  let out = '';
  for (const c of value) {
    const cp = c.codePointAt(0)!;
    out += isUnsafeCodePoint(cp) && !(keepLines && (cp === 0x0a || cp === 0x09)) ? by(c, cp) : c;
  }
  return out;
}

/**
 * One line of text for a header or a one-line field: every control character (CR, LF, TAB, NUL, ESC, …),
 * Unicode line separator and bidi control becomes a space, runs of white space collapse, and the result is
 * trimmed and cut to `max` characters (code points).
 */
export function oneLine(value: string, max = 200): string {
  const flat = replaceUnsafe(value, false, () => ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(flat);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : flat;
}

/**
 * Multi-line untrusted text quoted as data: line endings normalised to LF, trailing blank lines dropped, and every
 * other control or bidi character shown visibly as `<U+XXXX>` (nothing is silently removed, nothing can act on a
 * terminal or reorder the text on screen).
 */
export function quotableBlock(value: string, maxChars = 20_000): string {
  const normalised = trimEndOf(
    replaceUnsafe(
      value.replace(/\r\n?/g, '\n'),
      true,
      (_c, cp) => `<U+${cp.toString(16).toUpperCase().padStart(4, '0')}>`,
    ),
    '\n',
  );
  return normalised.length > maxChars ? `${normalised.slice(0, maxChars)}\n<… truncated>` : normalised;
}

/** HTML text/attribute escaping: the one the notifiers use. */
export { escapeHtml } from '../notify/escape.ts';

/**
 * Markdown prose: one line, every ASCII punctuation character CommonMark could read as syntax backslash-escaped,
 * and `<`, `>`, `&` written as entities so no HTML can be formed.
 */
export function mdText(value: string, max = 500): string {
  return oneLine(value, max)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]()#+\-.!|~"'=:$^@%]/g, (c) => `\\${c}`);
}

function longestRun(value: string, char: string): number {
  let best = 0;
  let run = 0;
  for (const c of value) {
    run = c === char ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/** An inline code span that cannot be closed early: the delimiter is longer than any backtick run inside. */
export function mdCode(value: string, max = 500): string {
  const text = oneLine(value, max);
  const fence = '`'.repeat(longestRun(text, '`') + 1);
  const pad = text.startsWith('`') || text.endsWith('`') || text === '' ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A fenced code block that cannot be closed early: the fence is longer than any backtick run inside. */
export function mdFence(block: string, info = 'text'): string {
  const fence = '`'.repeat(Math.max(3, longestRun(block, '`') + 1));
  return `${fence}${info}\n${block}\n${fence}`;
}
