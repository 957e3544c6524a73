import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ID_ALPHABET, incidentId, isIncidentId } from '../../../shared/incidents/id.ts';

/** An independent reading of the rule: 40 bits from the hex digest, 5 bits per character. */
function reference(parts: readonly string[]): string {
  const hex = createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 10);
  const bits = BigInt(`0x${hex}`).toString(2).padStart(40, '0');
  let out = '';
  for (let i = 0; i < 40; i += 5) out += ID_ALPHABET[Number.parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

describe('incidentId', () => {
  it('is 8 characters of lower-case Crockford base32, and the same for the same key', () => {
    const id = incidentId('contoso', 'blocklist', '203.0.113.10@zen', 'listed:zen.spamhaus.org');
    expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]{8}$/);
    expect(id).toBe(incidentId('contoso', 'blocklist', '203.0.113.10@zen', 'listed:zen.spamhaus.org'));
    expect(id).toBe(reference(['contoso', 'blocklist', '203.0.113.10@zen', 'listed:zen.spamhaus.org']));
    expect(isIncidentId(id)).toBe(true);
  });

  it('does not change between releases', () => {
    expect(incidentId('contoso', 'probe-relay', 'relay', 'A')).toBe('jrznjfs9');
  });

  it('differs for each part of the key, and separators cannot be confused', () => {
    const ids = new Set([
      incidentId('t', 'c', 's', 'p'),
      incidentId('t2', 'c', 's', 'p'),
      incidentId('t', 'c2', 's', 'p'),
      incidentId('t', 'c', 's2', 'p'),
      incidentId('t', 'c', 's', 'p2'),
      incidentId('t', 'cs', '', 'p'),
      incidentId('t', 'c', 's#p', ''),
    ]);
    expect(ids.size).toBe(7);
  });

  it('spreads over the alphabet (no fixed characters)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) for (const ch of incidentId('t', 'blocklist', `198.51.100.${i}`, 'p')) seen.add(ch);
    expect(seen.size).toBe(32);
    expect(['i', 'l', 'o', 'u'].some((c) => seen.has(c))).toBe(false);
  });

  it('recognises ids', () => {
    expect(['k3m9q2p7', 'K3M9Q2P7', 'k3m9q2p', 'k3m9q2pu', 'k3m9q2p77'].map(isIncidentId)).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
  });
});
