/** Text from a mailbox service (error answers) on its way into a failure message: one line, capped, secrets scrubbed. */
import { isUnsafeCodePoint } from '../../domain/unsafe-text.ts';

export function failureText(text: string, secrets: readonly (string | null)[] = [], max = 300): string {
  let t = Array.from(text, (ch) => (isUnsafeCodePoint(ch.codePointAt(0) ?? 0) ? ' ' : ch))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
  for (const s of secrets) if (s) t = t.split(s).join('<redacted>');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
