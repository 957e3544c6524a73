import { describe, expect, it } from 'vitest';
import type { IpResult, ZoneResult } from '../../../shared/blocklist/engine.ts';
import { blocklistOutcome } from '../../../shared/checks/blocklist.ts';
import { codes } from './helpers.ts';

function zone(over: Partial<ZoneResult>): ZoneResult {
  return {
    zoneId: 'z',
    zone: 'bl.test',
    operator: 'Lab',
    status: 'clean',
    codes: [],
    kind: null,
    reason: null,
    why: null,
    lookupUrl: null,
    removalUrl: null,
    ...over,
  };
}

const ip = (zones: ZoneResult[]): IpResult => ({ ip: '203.0.113.10', zones, skipped: [] });

describe('blocklist check', () => {
  it('fails on an abuse listing and says what the codes mean, the reason and where to go', () => {
    const out = blocklistOutcome(
      ip([
        zone({
          zoneId: 'spamcop',
          zone: 'bl.spamcop.net',
          operator: 'SpamCop',
          status: 'listed',
          kind: 'abuse',
          codes: [{ code: '127.0.0.2', meaning: 'reported spam source', kind: 'abuse' }],
          reason: 'Blocked - see https://www.spamcop.net/bl.shtml?203.0.113.10',
          removalUrl: 'https://www.spamcop.net/bl.shtml?203.0.113.10',
        }),
        zone({ zoneId: 'psbl' }),
      ]),
    );
    expect(out.status).toBe('fail');
    expect(codes(out.findings)).toEqual(['blocklist-listed', 'blocklist-clean']);
    const msg = out.findings[0]?.message ?? '';
    expect(msg).toContain('203.0.113.10 is listed by SpamCop (bl.spamcop.net): 127.0.0.2 reported spam source.');
    expect(msg).toContain('Removal: https://www.spamcop.net/bl.shtml?203.0.113.10');
    expect(out.details).toMatchObject({
      ip: '203.0.113.10',
      zones: [{ zone: 'spamcop', status: 'listed' }, { zone: 'psbl' }],
    });
  });

  it('warns on a policy listing and only informs on a neighbourhood listing', () => {
    const policy = blocklistOutcome(
      ip([zone({ status: 'listed', kind: 'policy', codes: [{ code: '127.0.0.10', meaning: 'PBL', kind: 'policy' }] })]),
    );
    expect(policy.status).toBe('warn');
    expect(codes(policy.findings)).toEqual(['blocklist-policy-listed']);
    const hood = blocklistOutcome(
      ip([
        zone({
          status: 'listed',
          kind: 'neighbourhood',
          codes: [{ code: '127.0.0.2', meaning: 'L2', kind: 'neighbourhood' }],
        }),
      ]),
    );
    expect(hood.status).toBe('pass');
    expect(codes(hood.findings)).toEqual(['blocklist-neighbourhood']);
  });

  it('is unknown, never fail, when zones cannot answer; unusable zones are one finding', () => {
    const out = blocklistOutcome(
      ip([
        zone({ zoneId: 'a', status: 'unknown', why: 'zone unusable for this run: does not list 127.0.0.2' }),
        zone({
          zoneId: 'b',
          status: 'unknown',
          why: 'zone unusable for this run: refused: error code 127.255.255.254',
        }),
        zone({ zoneId: 'c', status: 'unknown', why: 'no answer in time' }),
      ]),
    );
    expect(out.status).toBe('unknown');
    expect(out.findings.map((f) => f.message)).toEqual([
      '203.0.113.10 could not be checked against Lab (bl.test): no answer in time.',
      '203.0.113.10 could not be checked against 2 blocklist(s) unusable in this run (a, b); the zone health says why.',
    ]);
  });

  it('says so when no zone applied', () => {
    const out = blocklistOutcome({ ip: '2001:db8::25', zones: [], skipped: [{ zoneId: 'v4', why: 'no IPv6' }] });
    expect(out.status).toBe('pass');
    expect(codes(out.findings)).toEqual(['blocklist-none-checked']);
  });
});
