import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CheckOutcome, Finding } from '../../../shared/domain/outcome.ts';
import { observe } from '../../../shared/monitor/observe.ts';
import { FINDING_TITLES, findingTitle, probeTitle } from '../../../shared/monitor/titles.ts';
import type { TenantReport } from '../../../shared/use-cases/run-checks.ts';

/** Every code named in the first column of a table in docs/findings.md (patterns such as probe-<id> excepted). */
function documentedCodes(): string[] {
  // Probe diagnoses (the second part) are titled by the diagnosis catalogue, see probeTitle.
  const md =
    readFileSync(new URL('../../../docs/findings.md', import.meta.url), 'utf8').split('# Probe diagnoses')[0] ?? '';
  const codes = new Set<string>();
  for (const line of md.split('\n')) {
    const first = /^\|\s*([^|]+)\|/.exec(line)?.[1] ?? '';
    for (const m of first.matchAll(/`([a-z0-9-]+)`/g)) {
      const code = m[1];
      if (code?.includes('-')) codes.add(code);
    }
  }
  return [...codes];
}

function spf(findings: Finding[]): CheckOutcome {
  return { kind: 'spf', subject: 'fabrikam.example', status: 'fail', findings, durationMs: 1 };
}

function observedTitle(c: CheckOutcome): { title: string; why: string } {
  const report: TenantReport = {
    id: 'fabrikam',
    name: 'Fabrikam',
    status: c.status,
    domains: [{ domain: c.subject, status: c.status, checks: [c] }],
    checks: [],
  };
  const [o] = observe([report], { runId: 'r1', at: '2026-12-01T00:00:00Z' }).observations;
  if (!o) throw new Error('no observation');
  return { title: o.title, why: (JSON.parse(o.detail) as { why: string }).why };
}

describe('incident titles', () => {
  it('has a title in words for every documented finding code', () => {
    const codes = documentedCodes();
    expect(codes.length).toBeGreaterThan(50);
    const missing = codes.filter((c) => !(c in FINDING_TITLES));
    expect(missing).toEqual([]);
    for (const c of codes) {
      const t = findingTitle(c, { subject: 'contoso.example', ips: ['203.0.113.7'], hosts: [] }, 'FALLBACK');
      expect(t, c).not.toContain(c);
      expect(t, c).not.toBe('FALLBACK');
    }
  });

  it('names the domain and the relay IP instead of the code', () => {
    const o = observedTitle(
      spf([
        {
          code: 'spf-relay-ip-not-authorised',
          severity: 'error',
          message: 'Relay IP 203.0.113.7 does not pass SPF for fabrikam.example: fail.',
          evidence: { ip: '203.0.113.7', result: 'fail' },
        },
      ]),
    );
    expect(o.title).toBe('SPF of fabrikam.example does not authorise relay IP 203.0.113.7');
    expect(o.why).toMatch(/relay IP the record does not authorise/);
    const two = observedTitle(
      spf(
        ['203.0.113.7', '2001:db8::25'].map((ip) => ({
          code: 'spf-relay-ip-not-authorised',
          severity: 'error' as const,
          message: `Relay IP ${ip} does not pass`,
          evidence: { ip, result: 'fail' },
        })),
      ),
    );
    expect(two.title).toBe('SPF of fabrikam.example does not authorise relay IPs 203.0.113.7, 2001:db8::25');
  });

  it('explains a missing Microsoft 365 include without talking about relay IPs', () => {
    const o = observedTitle(
      spf([{ code: 'spf-m365-include-missing', severity: 'error', message: 'No include:spf.protection.outlook.com.' }]),
    );
    expect(o.title).toBe('SPF of fabrikam.example does not include Microsoft 365 (spf.protection.outlook.com)');
    expect(o.why).toContain('spf.protection.outlook.com');
    expect(o.why).not.toMatch(/relay IP/i);
  });

  it('uses the diagnosis title for a probe, not its id', () => {
    expect(probeTitle('probe-relay', 'scanner@contoso.example', 'ms-banned-ip')).toBe(
      'Relay probe from scanner@contoso.example: Sending IP is on Microsoft’s blocklist',
    );
    expect(probeTitle('probe-submission', 'app@x.example', 'no-such-id')).toBe(
      'Submission probe from app@x.example: the reply was not recognised',
    );
  });
});
