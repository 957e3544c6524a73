/**
 * Scrubbing of secrets from anything a probe records: the secret itself and its base64 forms at every byte alignment
 * (a secret inside a SASL PLAIN or XOAUTH2 string is base64-encoded at an offset that depends on what precedes it).
 */
import { trimEndOf } from '../../domain/unsafe-text.ts';

const MIN_VARIANT_CHARS = 6;

/** The strings to remove for one secret: itself and the base64 characters determined by its bytes alone. */
export function secretVariants(secret: string): string[] {
  if (secret === '') return [];
  const variants = new Set<string>([secret]);
  const bytes = Buffer.from(secret, 'utf8');
  for (const pad of [0, 1, 2]) {
    const encoded = trimEndOf(Buffer.concat([Buffer.alloc(pad), bytes]).toString('base64'), '=');
    // Characters that mix pad bytes or following bytes with the secret's bits are dropped from both ends.
    const start = pad === 0 ? 0 : pad === 1 ? 2 : 3;
    const core = encoded.slice(start, encoded.length - 2);
    if (core.length >= MIN_VARIANT_CHARS) variants.add(core);
  }
  // Longest first, so a longer variant is never left half-replaced by a shorter one.
  return [...variants].sort((a, b) => b.length - a.length);
}

export class Redactor {
  readonly #variants: string[];

  constructor(secrets: readonly string[]) {
    this.#variants = [...new Set(secrets.flatMap(secretVariants))].sort((a, b) => b.length - a.length);
  }

  scrub(text: string): string {
    let out = text;
    for (const v of this.#variants) {
      if (out.includes(v)) out = out.split(v).join('<redacted>');
    }
    return out;
  }
}
