import { describe, expect, it } from 'vitest';
import { reportObjectKey, signReportLink, verifyReportLink } from '../../../shared/digest/report-link.ts';

const SECRET = 'k'.repeat(48);
const NOW = new Date('2026-11-30T07:00:00Z');
const EXPIRES = new Date(NOW.getTime() + 7 * 86_400_000);

function parse(link: string) {
  const url = new URL(link, 'https://api.example');
  const week = decodeURIComponent(url.pathname.replace(/^\/v1\/reports\//, ''));
  return { week, exp: url.searchParams.get('exp') ?? undefined, sig: url.searchParams.get('sig') ?? undefined };
}

describe('the report link token', () => {
  const link = signReportLink({ week: '2026-W48', expiresAt: EXPIRES }, SECRET);

  it('signs a path with the week, the expiry in unix seconds and a base64url signature', () => {
    expect(link).toMatch(/^\/v1\/reports\/2026-W48\?exp=\d+&sig=[A-Za-z0-9_-]{43}$/);
    expect(parse(link).exp).toBe(String(EXPIRES.getTime() / 1000));
  });

  it('verifies its own link until it expires, naming the report object', () => {
    expect(verifyReportLink(parse(link), SECRET, NOW)).toEqual({
      ok: true,
      objectKey: 'reports/2026-W48.html',
      week: '2026-W48',
      expiresAt: EXPIRES,
    });
    expect(verifyReportLink(parse(link), SECRET, new Date(EXPIRES.getTime() - 1000)).ok).toBe(true);
  });

  it('refuses an expired link', () => {
    expect(verifyReportLink(parse(link), SECRET, EXPIRES)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses a link whose week or expiry was changed, or that was signed with another key', () => {
    const p = parse(link);
    expect(verifyReportLink({ ...p, week: '2026-W47' }, SECRET, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyReportLink({ ...p, exp: String(Number(p.exp) + 86_400) }, SECRET, NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyReportLink(p, 'x'.repeat(48), NOW)).toEqual({ ok: false, reason: 'bad-signature' });
    const flipped = `${p.sig?.startsWith('A') ? 'B' : 'A'}${p.sig?.slice(1)}`;
    expect(verifyReportLink({ ...p, sig: flipped }, SECRET, NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('refuses malformed input: a week that is not YYYY-Www, a traversal, a missing or malformed exp or sig', () => {
    const p = parse(link);
    for (const week of ['../config', '2026-W48.html', '2026-W00', '2026-W54', 'reports/2026-W48', '', undefined]) {
      expect(verifyReportLink({ ...p, week }, SECRET, NOW), String(week)).toEqual({
        ok: false,
        reason: 'malformed-week',
      });
    }
    for (const exp of [undefined, '', '-1', '1e9', '0', '01', ' 1']) {
      expect(verifyReportLink({ ...p, exp }, SECRET, NOW).ok, String(exp)).toBe(false);
    }
    // The last character's unused low bits: another spelling of the same bytes is refused too.
    const last = p.sig?.at(-1) ?? 'A';
    const respelled = `${p.sig?.slice(0, -1)}${String.fromCharCode(last.charCodeAt(0) ^ 1)}`;
    for (const sig of [undefined, '', 'abc', `${p.sig}=`, `${p.sig}A`, respelled]) {
      expect(verifyReportLink({ ...p, sig }, SECRET, NOW), String(sig)).toEqual({ ok: false, reason: 'bad-signature' });
    }
  });

  it('refuses to sign a malformed week or with a short key', () => {
    expect(() => signReportLink({ week: '../x', expiresAt: EXPIRES }, SECRET)).toThrow(/not an ISO week id/);
    expect(() => signReportLink({ week: '2026-W48', expiresAt: EXPIRES }, 'short')).toThrow(/shorter than 32/);
    expect(reportObjectKey('2026-W01')).toBe('reports/2026-W01.html');
    expect(reportObjectKey('2026-W1')).toBeNull();
  });
});
