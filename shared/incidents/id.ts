/**
 * Stable, short incident ids: the first 40 bits of SHA-256 over `tenant\0check\0subject\0problem`, written in
 * lower-case Crockford base32 (digits and letters without i, l, o, u), so always 8 characters such as `k3m9q2p7`.
 *
 * The id depends on the key only: a re-opened incident keeps its id (and its record). 40 bits make a collision
 * within one tenant unlikely (about 5 in 100 000 at 10 000 distinct problems); a collision surfaces as a
 * `ConflictError` when the second incident is created, never as a silently merged incident.
 */
import { createHash } from 'node:crypto';

/** Crockford's base32 alphabet, lower-case: no i, l, o or u, so an id read out or typed from a phone is unambiguous. */
export const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const INCIDENT_ID_LENGTH = 8;
const ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{8}$/;

export function incidentId(tenantId: string, check: string, subject: string, problem: string): string {
  const digest = createHash('sha256').update(`${tenantId}\0${check}\0${subject}\0${problem}`, 'utf8').digest();
  // 40 bits = 5 bytes = exactly 8 base32 digits (no padding).
  let bits = 0n;
  for (let i = 0; i < 5; i++) bits = (bits << 8n) | BigInt(digest[i]!);
  let out = '';
  for (let i = INCIDENT_ID_LENGTH - 1; i >= 0; i--) out += ID_ALPHABET[Number((bits >> BigInt(i * 5)) & 31n)]!;
  return out;
}

/** True for a string shaped like an incident id (for CLI arguments and URLs). */
export function isIncidentId(value: string): boolean {
  return ID_PATTERN.test(value);
}
