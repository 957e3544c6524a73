import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';
import { DigestConfigError, sendPlan } from '../../../shared/digest/plan.ts';

function config(digest: string) {
  const text = `version: 1
msp: { name: MSP, contact: { name: NOC, email: noc@msp.example } }
alerts:
  routes:
    - id: mail
      email: { from: rw@msp.example, to: [noc@msp.example], smtp: { host: smtp.msp.example } }
    - id: chat
      slack: { webhookUrl: { env: SLACK_URL } }
${digest}tenants:
  - { id: contoso, name: Contoso, domains: [contoso.example] }
  - { id: fabrikam, name: Fabrikam, domains: [fabrikam.example] }
`;
  return parseConfig(text, 'test.yaml').config;
}

describe('sendPlan', () => {
  it('sends the MSP digest to the route’s recipients and each switched-on tenant’s to its contacts', () => {
    const plan = sendPlan(
      config(`digest:
  msp: { route: mail }
  tenants:
    contoso: { to: [it@contoso.example] }
    fabrikam: { to: [it@fabrikam.example], enabled: false }
`),
      null,
    );
    expect(plan.recipients.msp).toEqual({ to: ['noc@msp.example'] });
    expect([...plan.recipients.tenants]).toEqual([['contoso', ['it@contoso.example']]]);
    expect(plan.tenantRoute?.id).toBe('mail');
    expect(plan.skipped).toEqual([{ tenant: 'fabrikam', why: 'switched off (digest.tenants.<id>.enabled: false)' }]);
  });

  it('sends only the asked tenants, and no MSP digest, when tenants are named', () => {
    const plan = sendPlan(
      config(`digest:
  msp: { route: mail, to: [boss@msp.example] }
  tenants: { contoso: { to: [it@contoso.example] }, fabrikam: { to: [it@fabrikam.example] } }
`),
      ['fabrikam'],
    );
    expect(plan.recipients.msp).toBeNull();
    expect([...plan.recipients.tenants.keys()]).toEqual(['fabrikam']);
  });

  it('names the setting that cannot send', () => {
    expect(() => sendPlan(config(''), null)).toThrow('--send needs a digest section');
    expect(() => sendPlan(config('digest:\n  msp: { route: chat }\n'), null)).toThrow(
      'digest.msp.route names route "chat", which is not an e-mail route',
    );
    expect(() => sendPlan(config('digest:\n  msp: { route: nope }\n'), null)).toThrow(DigestConfigError);
    expect(() => sendPlan(config('digest:\n  tenants: { contoso: { to: [it@contoso.example] } }\n'), null)).toThrow(
      'per-tenant digests need digest.tenantRoute',
    );
    expect(() =>
      sendPlan(config('digest:\n  msp: { route: mail }\n  tenants: { contso: { to: [a@b.example] } }\n'), null),
    ).toThrow('digest.tenants names "contso", not a tenant of the config');
    expect(() => sendPlan(config('digest:\n  enabled: false\n  msp: { route: mail }\n'), null)).toThrow('switched off');
  });
});
