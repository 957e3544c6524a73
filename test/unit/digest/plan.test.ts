import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';
import { DigestConfigError, digestProblems, sendPlan } from '../../../shared/digest/plan.ts';

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

describe('digestProblems (config validate)', () => {
  const problems = (digest: string) =>
    digestProblems(config(digest)).map((p) => `${p.severity} ${p.path}: ${p.message}`);

  it('finds nothing in a digest whose routes and tenants exist', () => {
    expect(
      problems(`digest:
  msp: { route: mail }
  tenants:
    contoso: { to: [it@contoso.example] }
`),
    ).toEqual([]);
    expect(problems('')).toEqual([]);
  });

  it('names a route that does not exist and one that is not an e-mail route', () => {
    expect(
      problems(`digest:
  msp: { route: mial }
  tenantRoute: chat
  tenants:
    contoso: { to: [it@contoso.example] }
`),
    ).toEqual([
      'error digest.msp.route: names route "mial", which is not under alerts.routes (routes: mail, chat)',
      'error digest.tenantRoute: names route "chat", a Slack route: digests are sent by e-mail only',
    ]);
  });

  it('names a per-tenant entry that is not a tenant, and recipients with no route to send them', () => {
    expect(
      problems(`digest:
  tenants:
    contsoo: { to: [it@contoso.example] }
    fabrikam: { to: [it@fabrikam.example] }
`),
    ).toEqual([
      'error digest.tenants.contsoo: is not a tenant of the config (tenants: contoso, fabrikam)',
      'error digest.tenantRoute: is needed: per-tenant digests go to fabrikam but no route sends them (set digest.tenantRoute or digest.msp.route)',
    ]);
  });

  it('names an MSP digest without a route, and warns about a digest that sends nothing', () => {
    expect(problems('digest:\n  msp: { to: [boss@msp.example] }\n')).toEqual([
      'error digest.msp: needs a route: the e-mail route (alerts.routes[].id) that sends the MSP-wide digest',
    ]);
    expect(problems('digest:\n  tenants:\n    contoso: { enabled: false, to: [it@contoso.example] }\n')).toEqual([
      'warning digest: sends nothing: no digest.msp.route and no switched-on digest.tenants.<id>.to',
    ]);
    expect(problems('digest:\n  enabled: false\n')).toEqual([]);
  });
});
