/**
 * The hand-written check-record parser of the read path agrees with `checkSchema` (zod): the same record for every
 * valid input (unknown keys dropped), and the same refusal, naming the path, for every malformed one.
 */
import { describe, expect, it } from 'vitest';
import { checkSchema, parseStored, parseStoredCheck } from '../../../../shared/adapters/store/records.ts';

const VALID = {
  tenantId: 'contoso',
  runId: 'r1',
  at: '2026-11-16T00:01:00.000Z',
  check: 'probe-relay',
  subject: 'scan@contoso.example',
  status: 'fail',
  codes: ['probe-refused'],
  summary: '550 5.7.64 TenantAttribution',
  fingerprint: null,
  detail: { latencyMs: 120, transcript: [{ stage: 'rcpt', reply: ['550 5.7.64'] }] },
};

describe('parseStoredCheck', () => {
  it('returns what checkSchema returns for valid records, other keys dropped', () => {
    for (const v of [
      VALID,
      { ...VALID, fingerprint: 'abc', detail: null },
      { ...VALID, detail: [1, 'x', true, null] },
      { ...VALID, detail: 'text', codes: [] },
      { ...VALID, PK: 'T#contoso', expiresAt: 123 },
    ]) {
      expect(parseStoredCheck(v)).toEqual(parseStored(checkSchema, v, 'check'));
      expect(Object.keys(parseStoredCheck(v)).sort()).toEqual(Object.keys(VALID).sort());
    }
  });

  it('refuses what checkSchema refuses, with the same message', () => {
    const bad: unknown[] = [
      null,
      [],
      'record',
      { ...VALID, status: 'down' },
      { ...VALID, codes: ['ok', 7] },
      { ...VALID, codes: 'probe-ok' },
      { ...VALID, fingerprint: undefined },
      { ...VALID, detail: undefined },
      { ...VALID, tenantId: 42 },
      { ...VALID, summary: null },
      Object.fromEntries(Object.entries(VALID).filter(([k]) => k !== 'subject')),
    ];
    for (const v of bad) {
      let zodMessage = '';
      try {
        parseStored(checkSchema, v, 'check');
      } catch (err) {
        zodMessage = (err as Error).message;
      }
      expect(zodMessage, JSON.stringify(v)).toMatch(/^stored check is malformed: /);
      expect(() => parseStoredCheck(v), JSON.stringify(v)).toThrow(zodMessage);
    }
  });
});
