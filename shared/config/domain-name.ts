/**
 * Domain names and mailbox addresses as the configuration accepts them (pure; no DNS).
 *
 * A domain is a host name (RFC 1123 LDH labels): at most 253 characters, labels of 1..63 letters, digits and hyphens
 * that neither start nor end with a hyphen, at least two labels, and a last label that is not all digits (RFC 3696
 * §2: that would read as an IP address). One trailing dot (the root) is accepted and removed; names are lower-cased.
 * Internationalised names (U-labels such as `bücher.example`) are converted to their A-labels
 * (`xn--bcher-kva.example`) with WHATWG/UTS #46 processing (`node:url` `domainToASCII`); the A-label is what DNS and
 * Microsoft 365 use, so it is what the configuration keeps.
 */
import { domainToASCII } from 'node:url';

export type NameResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly reason?: string };

const MAX_NAME = 253;
const MAX_LABEL = 63;
const LDH = /^[a-z0-9-]+$/;
const NON_ASCII = /[\u0080-\u{10ffff}]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/**
 * Validate and normalise a domain name. On failure `reason` says what is wrong, except for an empty label
 * (`contoso..com`), which the name itself shows.
 */
export function normaliseDomainName(input: string): NameResult {
  let name = input.trim();
  if (name === '') return { ok: false, reason: 'it is empty' };
  if (name.length > 4 * MAX_NAME) return { ok: false, reason: `longer than ${MAX_NAME} characters` };
  if (CONTROL.test(name)) return { ok: false, reason: 'it contains control characters' };
  if (NON_ASCII.test(name)) {
    // U-labels: UTS #46 mapping (case folding, full-width dots) and Punycode. '' means the name is not valid IDNA.
    const ascii = domainToASCII(name);
    if (ascii === '') return { ok: false, reason: 'it is not a valid internationalised domain name' };
    name = ascii;
  }
  name = name.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name.length > MAX_NAME) return { ok: false, reason: `longer than ${MAX_NAME} characters` };
  const labels = name.split('.');
  for (const label of labels) {
    if (label === '') return { ok: false };
    if (label.length > MAX_LABEL) return { ok: false, reason: `a label is longer than ${MAX_LABEL} characters` };
    if (!LDH.test(label)) {
      return {
        ok: false,
        reason: label.includes('_')
          ? 'underscores are not allowed in a host name'
          : 'only letters, digits, hyphens and dots are allowed',
      };
    }
    if (label.startsWith('-') || label.endsWith('-')) {
      return { ok: false, reason: 'a label cannot start or end with a hyphen' };
    }
  }
  if (labels.length < 2) return { ok: false, reason: 'it needs at least two labels (e.g. contoso.com)' };
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) {
    return { ok: false, reason: 'the last label is all digits (an IP address is not a domain name)' };
  }
  return { ok: true, value: name };
}

/** The domain part of a normalised mailbox address. */
export function mailboxDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** RFC 5322 dot-atom text for the local part (quoted local parts are not accepted: no real mailbox needs one here). */
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/**
 * Validate and normalise a mailbox address `local@domain`: a dot-atom local part of at most 64 characters, kept as
 * written (Exchange Online ignores its case, other systems may not), and a domain as `normaliseDomainName` accepts it
 * (lower-cased, A-labels).
 */
export function normaliseMailbox(input: string): NameResult {
  const text = input.trim();
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return { ok: false, reason: 'it needs the form name@domain' };
  const local = text.slice(0, at);
  if (local.length > 64) return { ok: false, reason: 'the part before @ is longer than 64 characters' };
  if (!DOT_ATOM.test(local))
    return { ok: false, reason: 'the part before @ has characters a mailbox name cannot have' };
  const domain = normaliseDomainName(text.slice(at + 1));
  if (!domain.ok) return { ok: false, reason: `the domain is not valid${domain.reason ? `: ${domain.reason}` : ''}` };
  const value = `${local}@${domain.value}`;
  if (value.length > 254) return { ok: false, reason: 'longer than 254 characters' };
  return { ok: true, value };
}
