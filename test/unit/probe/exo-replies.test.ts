import { describe, expect, it } from 'vitest';
import { classifyRaw } from '../../../shared/probe/diagnosis.ts';
import { CATALOGUE, DIAGNOSIS_IDS } from '../../../shared/probe/diagnosis-table.ts';
import { EXO_REPLIES } from '../../fixtures/exo-replies.ts';

describe('the Exchange Online reply corpus (test/fixtures/exo-replies.ts)', () => {
  it.each(EXO_REPLIES.map((r) => [r.expect.id, r.reply, r] as const))('%s: %s', (_id, _reply, r) => {
    const d = classifyRaw(r.stage, r.reply);
    expect({ id: d.id, severity: d.severity, retryable: d.retryable }).toEqual(r.expect);
    expect(r.source.length).toBeGreaterThan(10);
    if (r.provenance === 'reconstructed') expect(r.note).toMatch(/reconstructed|placeholder|description|no .*found/i);
  });

  it('every entry has a date read and a source, and every id it names is a catalogued id', () => {
    for (const r of EXO_REPLIES) {
      expect(r.read).toBe('2026-12-02');
      expect(DIAGNOSIS_IDS).toContain(r.expect.id);
    }
  });

  it('gives each continuous-error throttle its own cause-specific fix', () => {
    const fixes = ['5.2.251', '5.2.252', '5.2.253', '5.2.254', '5.2.255'].map(
      (code) => classifyRaw('mail', `550 ${code} Sender throttled due to continuous errors.`).remediation[0],
    );
    expect(new Set(fixes).size).toBe(5);
    expect(fixes[0]).toMatch(/Sent Items/);
    expect(fixes[1]).toMatch(/Send As/);
    expect(fixes[2]).toMatch(/licence/);
    expect(CATALOGUE['continuous-error-throttled'].retryable).toBe(false);
  });

  it('names the IP of a Spamhaus refusal in the explanation and points at the DNSBL packet', () => {
    const spamhaus = EXO_REPLIES.find((r) => r.expect.id === 'third-party-blocklist')!;
    const d = classifyRaw('rcpt', spamhaus.reply);
    expect(d.ip).toBe('50.31.49.41');
    expect(d.explanation).toContain('[50.31.49.41]');
    expect(d.remediation.join(' ')).toMatch(/relaywatch check/);
    expect(d.delistable).toBe(false);
  });

  it('no longer sends 5.7.502/503/800 to a delist mailbox, and 5.7.606 only to the portal', () => {
    expect(classifyRaw('rcpt', '550 5.7.503 Access denied, banned sender').delistable).toBe(false);
    const banned = classifyRaw('rcpt', '550 5.7.606 Access denied, banned sending IP [203.0.113.5]');
    expect(banned.remediation.join(' ')).not.toMatch(/delist@/);
    expect(banned.remediation.join(' ')).toMatch(/sender\.office\.com/);
  });
});
