/** Which routes a tenant's incidents go to: own routes, the defaults unless declined, the stricter severity floor. */
import { describe, expect, it } from 'vitest';
import { channelOf, tenantAlerting } from '../../shared/notify/routing.ts';
import { accepted, withTenants } from './config/helpers.ts';

const ROUTES = `alerts:
  routes:
    - id: noc-slack
      slack: { webhookUrl: { env: A } }
    - id: pager
      minSeverity: critical
      webhook: { url: { env: B }, secret: { env: C } }
    - id: psa-contoso
      email: { from: r@msp.example, to: [t@psa.example], ses: { region: eu-west-2 } }
  default: [noc-slack, pager]
`;

describe('tenantAlerting', () => {
  it('gives each tenant its own routes plus the defaults, with the stricter floor', () => {
    const text = `${withTenants(`  - id: contoso
    name: Contoso
    domains: [contoso.example]
    alerts: { routes: [psa-contoso, noc-slack], minSeverity: critical }
    maintenance: [{ days: [sat], start: "22:00", end: "06:00", timeZone: Europe/London }]
  - id: fabrikam
    name: Fabrikam
    domains: [fabrikam.example]
    alerts: { inheritDefault: false }
  - id: tailspin
    name: Tailspin
    domains: [tailspin.example]
`)}${ROUTES}`;
    const { config } = accepted(text);
    const [contoso, fabrikam, tailspin] = tenantAlerting(config);
    expect(contoso?.routes).toEqual([
      { id: 'psa-contoso', minSeverity: 'critical' },
      { id: 'noc-slack', minSeverity: 'critical' },
      { id: 'pager', minSeverity: 'critical' },
    ]);
    expect(contoso?.suppression?.maintenance).toHaveLength(1);
    expect(fabrikam?.routes).toEqual([]);
    expect(tailspin?.routes).toEqual([
      { id: 'noc-slack', minSeverity: 'warning' },
      { id: 'pager', minSeverity: 'critical' },
    ]);
    expect(config.alerts?.routes.map(channelOf)).toEqual(['slack', 'webhook', 'email']);
  });
});
