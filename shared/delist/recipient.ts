/**
 * Who a Microsoft delisting request goes to, and which removal page it names.
 *
 * The reply text is untrusted (anything between the device and Exchange Online could have written it), so an
 * address or URL taken from it is accepted only when it is strictly well-formed and on a Microsoft domain.
 */

export const DEFAULT_DELIST_ADDRESS = 'delist@messaging.microsoft.com';
export const BANNED_SENDER_DELIST_ADDRESS = 'delist@microsoft.com';
export const SENDER_PORTAL_URL = 'https://sender.office.com/';

/** Domains a reply may redirect the request to (exact match, no subdomains). */
export const ALLOWED_RECIPIENT_DOMAINS: readonly string[] = ['microsoft.com', 'messaging.microsoft.com', 'office.com'];

export type RecipientSource = 'reply' | 'banned-sender' | 'default';

export interface RecipientChoice {
  readonly to: string;
  readonly source: RecipientSource;
  /** The enhanced status code found in the reply (e.g. `5.7.606`), or null. */
  readonly code: string | null;
}

const LOCAL_PART = /^[a-z0-9](?:[a-z0-9+_-]|\.(?!\.)){0,62}[a-z0-9]$|^[a-z0-9]$/;
const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * Strict syntax for an address we write into a header ourselves: dot-atom ASCII local part (letters, digits,
 * `. + _ -`, no leading/trailing/double dot) and a DNS host name. Returns the lower-cased address or null.
 */
export function strictAddress(value: string): string | null {
  if (value.length > 254) return null;
  const lower = value.toLowerCase();
  const at = lower.indexOf('@');
  if (at < 1 || at !== lower.lastIndexOf('@')) return null;
  const local = lower.slice(0, at);
  const domain = lower.slice(at + 1);
  if (!LOCAL_PART.test(local) || !DOMAIN.test(domain) || domain.length > 253) return null;
  return lower;
}

/** A Microsoft delisting address: strict syntax and an allowed domain. */
export function acceptableMicrosoftAddress(value: string): string | null {
  const address = strictAddress(value);
  if (address === null) return null;
  const domain = address.slice(address.indexOf('@') + 1);
  return ALLOWED_RECIPIENT_DOMAINS.includes(domain) ? address : null;
}

/**
 * Tokens: runs of characters other than white space and the punctuation that surrounds addresses in prose. A token
 * that holds an `@` is a candidate address. Splitting first and looking for `@` with `includes` is linear; the former
 * single pattern `[^…]+@[^…]+` backtracked quadratically over a long run without `@` (65 KB took 2 s).
 */
const TOKEN_SEPARATORS = /[\s<>()[\]{},;:"'`]+/;
/** Longer than any address we accept (254), so such a token is skipped without further work. */
const MAX_TOKEN = 320;

/** Every acceptable Microsoft address the reply names, in order, without duplicates. */
export function microsoftAddressesIn(reply: string): string[] {
  const found: string[] = [];
  for (const raw of reply.split(TOKEN_SEPARATORS)) {
    if (raw.length > MAX_TOKEN || !raw.includes('@')) continue;
    const token = trimTrailingDots(raw);
    const address = acceptableMicrosoftAddress(token);
    if (address !== null && !found.includes(address)) found.push(address);
  }
  return found;
}

function trimTrailingDots(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === '.') end--;
  return text.slice(0, end);
}

/** The first enhanced status code (class 4 or 5) in the reply. */
export function enhancedCode(reply: string): string | null {
  const m = /(?<![\d.])([45]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/.exec(reply);
  return m?.[1] ?? null;
}

/**
 * The recipient: an acceptable Microsoft address the reply names (a `delist…@` one first), else
 * delist@microsoft.com for a 5.7.511 banned-sender reply, else delist@messaging.microsoft.com.
 */
export function chooseRecipient(reply: string): RecipientChoice {
  const code = enhancedCode(reply);
  const named = microsoftAddressesIn(reply);
  const preferred = named.find((a) => a.startsWith('delist')) ?? named[0];
  if (preferred !== undefined) return { to: preferred, source: 'reply', code };
  if (code === '5.7.511') return { to: BANNED_SENDER_DELIST_ADDRESS, source: 'banned-sender', code };
  return { to: DEFAULT_DELIST_ADDRESS, source: 'default', code };
}

/**
 * The self-service portal to name: the sender.office.com URL the reply prints when it prints a well-formed one
 * (https, that exact host, a plain path), else https://sender.office.com/.
 */
export function portalUrl(reply: string): string {
  for (const m of reply.matchAll(/https:\/\/sender\.office\.com(\/[A-Za-z0-9/_\-.~%?=&]*)?/gi)) {
    const path = trimTrailingDots(m[1] ?? '/');
    if (path.length <= 200) return `https://sender.office.com${path === '' ? '/' : path}`;
  }
  return SENDER_PORTAL_URL;
}
