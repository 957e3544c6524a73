/**
 * Characters untrusted text (SMTP replies, TXT records, tenant names) must not carry into a header, a message or a
 * screen as they are: C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, bidi marks,
 * overrides and isolates ("trojan source"), and the BOM. Each output decides what to do with them.
 */
export function isUnsafeCodePoint(cp: number): boolean {
  return (
    cp <= 0x1f ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0xfeff
  );
}

/**
 * `text` without the trailing characters that are in `chars`. Linear, unlike `text.replace(/[…]+$/, '')`, which
 * V8 retries from every position of a long run that is not at the end (quadratic: 100 KB of spaces took seconds).
 */
export function trimEndOf(text: string, chars: string): string {
  let end = text.length;
  while (end > 0 && chars.includes(text[end - 1] as string)) end--;
  return end === text.length ? text : text.slice(0, end);
}
