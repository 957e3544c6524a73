/**
 * Escaping untrusted text (tenant names, SMTP replies, TXT records) for each medium a notifier writes to.
 *
 * - Slack mrkdwn: `&`, `<`, `>` become entities (Slack's only control characters: `<!channel>`, `<@U…>`,
 *   `<http://x|label>` all need `<`), and the formatting characters `*`, `_`, `~`, `` ` `` are replaced by look-alikes
 *   (Slack mrkdwn has no backslash escape). `@channel`/`@here`/`@everyone` get a word joiner after the `@`.
 * - Adaptive Card TextBlock markdown: the characters the Teams renderers read as markdown (`*`, `_`, `` ` ``, `~`,
 *   `[`, `]`, `<`, `>`, `#`, `\`, and list markers at a line start) are replaced by look-alikes, because backslash
 *   escapes render differently on Teams desktop, web, iOS and Android (microsoft/AdaptiveCards #4677, #5590, #5758).
 *   Without `[`/`]` no `[label](url)` link can form; a bare URL stays visible text.
 * - HTML: `&`, `<`, `>`, `"`, `'`.
 * - Mail header values: every control character (CR, LF, TAB, NUL, DEL, C1), Unicode line separator and bidi
 *   control removed, white space collapsed, length capped: a value can never start another header.
 * - `cap`: a length limit (UTF-16 code units, the stricter measure) with an ellipsis, never splitting a surrogate pair.
 */
import { isUnsafeCodePoint, trimEndOf } from '../domain/unsafe-text.ts';

/**
 * Untrusted text with its control characters dealt with. `multiline`: CRLF/CR become LF, LF and TAB are kept, other
 * unsafe characters are removed, trailing white space trimmed. Otherwise one line: every unsafe character becomes a
 * space, white space collapses, the result is trimmed.
 */
export function clean(value: string, multiline = false): string {
  const input = multiline ? value.replace(/\r\n?/g, '\n') : value;
  let out = '';
  for (const c of input) {
    const cp = c.codePointAt(0)!;
    if (!isUnsafeCodePoint(cp)) out += c;
    else if (multiline && (cp === 0x0a || cp === 0x09)) out += c;
    else out += multiline ? '' : ' ';
  }
  // per-line trimming by hand: /[ \t]+$/gm and /\s+$/ are quadratic on a long run of spaces not at the end
  if (multiline)
    return out
      .split('\n')
      .map((line) => trimEndOf(line, ' \t'))
      .join('\n')
      .trimEnd();
  return out.replace(/\s+/g, ' ').trim();
}

/**
 * At most `max` UTF-16 code units: cut on a code point boundary and end with `ellipsis` when cut. A cut inside an
 * HTML entity at the end (`&am`) is removed too, so escaped text stays well formed.
 */
export function cap(value: string, max: number, ellipsis = '…'): string {
  if (value.length <= max) return value;
  const room = Math.max(0, max - ellipsis.length);
  let out = '';
  for (const c of value) {
    if (out.length + c.length > room) break;
    out += c;
  }
  out = out.replace(/&[A-Za-z0-9#]*$/, '');
  return `${out}${ellipsis}`.slice(0, Math.max(max, 0));
}

// ---------------------------------------------------------------------------------------------------------------
// Slack

function slackEntities(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const SLACK_LOOKALIKE: Readonly<Record<string, string>> = {
  '*': '\u2217', // ∗ asterisk operator
  _: '\uff3f', // ＿ fullwidth low line
  '~': '\u223c', // ∼ tilde operator
  '`': '\u02cb', // ˋ modifier letter grave accent
};

function breakBroadcasts(value: string): string {
  return value.replace(/@(channel|here|everyone)\b/gi, '@\u2060$1');
}

/** Slack mrkdwn text. One line unless `multiline`; capped at `max` after escaping. */
export function slackMrkdwn(value: string, max = 3000, multiline = false): string {
  const escaped = breakBroadcasts(slackEntities(clean(value, multiline))).replace(
    /[*_~`]/g,
    (c) => SLACK_LOOKALIKE[c] ?? c,
  );
  return cap(escaped, max);
}

/** Slack `plain_text` (headers, buttons): one line, `&<>` as entities, capped. */
export function slackPlain(value: string, max = 150): string {
  return cap(breakBroadcasts(slackEntities(clean(value))), max);
}

/**
 * A Slack code block (```…```) of untrusted multi-line text, at most `max` characters including the fences:
 * `&<>` as entities and backticks replaced, so the block can neither be closed early nor ping or link.
 */
export function slackCodeBlock(value: string, max = 3000): string {
  const fence = '```';
  const body = breakBroadcasts(slackEntities(clean(value, true))).replace(/`/g, SLACK_LOOKALIKE['`']!);
  const room = max - 2 * fence.length - 2;
  return `${fence}\n${cap(body === '' ? ' ' : body, room, '\n…(truncated)')}\n${fence}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Adaptive Cards (Teams)

const CARD_LOOKALIKE: Readonly<Record<string, string>> = {
  '*': '\u2217', // ∗
  _: '\uff3f', // ＿
  '`': '\u02cb', // ˋ
  '~': '\u223c', // ∼
  '[': '\uff3b', // ［
  ']': '\uff3d', // ］
  '<': '\u2039', // ‹
  '>': '\u203a', // ›
  '#': '\uff03', // ＃
  '\\': '\u29f5', // ⧵
};

/**
 * Adaptive Card TextBlock markdown text. One line unless `multiline` (then LF is kept; note that TextBlock markdown
 * needs a blank line for a visible break). List markers at a line start (`- `, `+ `, `1. `) are defused too.
 */
export function cardText(value: string, max = 2000, multiline = false): string {
  const replaced = clean(value, multiline)
    .replace(/[*_`~[\]<>#\\]/g, (c) => CARD_LOOKALIKE[c] ?? c)
    .replace(/^(\s*)[-+](?=\s)/gm, '$1\u2010')
    .replace(/^(\s*\d+)\.(?=\s)/gm, '$1\u2024');
  return cap(replaced, max);
}

// ---------------------------------------------------------------------------------------------------------------
// HTML and mail headers

/** HTML text or attribute value. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A mail header value: no control characters at all (so no CR/LF), white space collapsed, capped at `max`. */
export function headerValue(value: string, max = 200): string {
  return cap(clean(value), max);
}
