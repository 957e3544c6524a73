/** Mutes, maintenance windows and routes that match nothing are configuration warnings (check, config validate). */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';

function load(extra: string, alerts = ''): string[] {
  const text = `
version: 1
msp: { name: Lab MSP, contact: { name: NOC, email: noc@msp.example } }
${alerts}
tenants:
  - id: contoso
    name: Contoso
    domains: [contoso.example]
    relayIps: [192.0.2.10]
${extra}
`;
  return parseConfig(text, 'test.yaml')
    .warnings.filter((w) => /matches nothing/.test(w.message))
    .map((w) => `${w.path}: ${w.message}`);
}

describe('match rules', () => {
  it('warn about a mute whose zone, IP, domain or check kind matches nothing', () => {
    const w = load(`    mutes:
      - { until: 2030-01-01T00:00:00Z, check: blocklist, subject: 192.0.2.10@bl2.nowhere.test }
      - { until: 2030-01-01T00:00:00Z, check: blocklist, subject: 198.51.100.1@zen.spamhaus.org }
      - { until: 2030-01-01T00:00:00Z, check: spf, subject: fabrikam.example }
      - { until: 2030-01-01T00:00:00Z, check: blocklists }`);
    expect(w).toHaveLength(4);
    expect(w[0]).toMatch(/mutes\[0\]\.subject.*"bl2\.nowhere\.test" is none of the tenant's blocklist zones/);
    expect(w[1]).toMatch(/mutes\[1\]\.subject.*"198\.51\.100\.1" is none of the tenant's relay IPs/);
    expect(w[2]).toMatch(/mutes\[2\]\.subject.*"fabrikam\.example" is none of the tenant's domains/);
    expect(w[3]).toMatch(/mutes\[3\]\.check.*"blocklists" is not a check kind/);
  });

  it('accept a listing subject by zone name or zone id, and a domain', () => {
    expect(
      load(`    mutes:
      - { until: 2030-01-01T00:00:00Z, check: blocklist, subject: 192.0.2.10@zen.spamhaus.org }
      - { until: 2030-01-01T00:00:00Z, check: blocklist, subject: 192.0.2.10@spamhaus-zen }
      - { until: 2030-01-01T00:00:00Z, subject: contoso.example }
      - { until: 2030-01-01T00:00:00Z }`),
    ).toEqual([]);
  });

  it('warn about a maintenance window for an unknown check and a route no tenant uses', () => {
    const w = load(
      `    maintenance:
      - { from: 2030-01-01T00:00:00Z, until: 2030-01-02T00:00:00Z, checks: [probe-relays] }`,
      `alerts:
  routes:
    - { id: used, webhook: { url: { env: A }, secret: { env: B } } }
    - { id: unused, webhook: { url: { env: A }, secret: { env: B } } }
  default: [used]`,
    );
    expect(w).toHaveLength(2);
    expect(w.join('\n')).toMatch(
      /maintenance\[0\]\.checks.*"probe-relays" is not a check kind.*this window matches nothing/,
    );
    expect(w.join('\n')).toMatch(/alerts\.routes\[1\]\.id.*route "unused" matches nothing/);
  });
});
