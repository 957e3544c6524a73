import { describe, expect, it } from 'vitest';
import { m365DomainKeys, matchesDefaultPattern, mxCheck, providerOf } from '../../../shared/checks/mx.ts';
import { codes, ctxFor, findingOf } from './helpers.ts';

const EOP = 'contoso-example.mail.protection.outlook.com';
const eopAddr = { [EOP]: [{ A: '52.101.0.1' }] };

describe('mx check', () => {
  it('passes when the only MX is the tenant endpoint, and names the relay endpoint', async () => {
    const ctx = ctxFor({ 'contoso.example': [{ MX: [0, EOP] }], ...eopAddr });
    const out = await mxCheck.run({ domain: 'contoso.example', relayIps: [] }, ctx);
    expect(out.status).toBe('pass');
    expect(codes(out.findings)).toEqual(['mx-m365-ok']);
    expect(out.details).toMatchObject({ relayEndpoint: EOP });
  });

  it('accepts the DNSSEC mx.microsoft endpoint', async () => {
    const host = 'contoso-example.r-v1.mx.microsoft';
    const ctx = ctxFor({ 'contoso.example': [{ MX: [0, host] }], [host]: [{ AAAA: '2a01:111:f403::1' }] });
    const out = await mxCheck.run({ domain: 'contoso.example', relayIps: [] }, ctx);
    expect(out.status).toBe('pass');
  });

  it('fails when there is no MX, a null MX, or a domain that does not exist', async () => {
    const ctx = ctxFor({ 'nomx.example': [{ A: '192.0.2.1' }], 'null.example': [{ MX: [0, '.'] }] });
    const nomx = await mxCheck.run({ domain: 'nomx.example', relayIps: [] }, ctx);
    expect(codes(nomx.findings)).toEqual(['mx-missing']);
    expect(nomx.findings[0]?.message).toContain('nomx-example.mail.protection.outlook.com');
    const nullMx = await mxCheck.run({ domain: 'null.example', relayIps: [] }, ctx);
    expect(codes(nullMx.findings)).toEqual(['mx-null']);
    expect(nullMx.status).toBe('fail');
    const gone = await mxCheck.run({ domain: 'gone.example', relayIps: [] }, ctx);
    expect(codes(gone.findings)).toEqual(['mx-domain-nxdomain']);
  });

  it('fails when MX points elsewhere, and flags mixed providers', async () => {
    const ctx = ctxFor({
      'g.example': [{ MX: [1, 'aspmx.l.google.com'] }, { MX: [10, 'mx1.mailhost.example'] }],
      'aspmx.l.google.com': [{ A: '142.250.0.26' }],
      'mx1.mailhost.example': [{ A: '192.0.2.25' }],
    });
    const out = await mxCheck.run({ domain: 'g.example', relayIps: [] }, ctx);
    expect(codes(out.findings)).toEqual(['mx-m365-missing', 'mx-mixed-providers']);
    expect(findingOf(out.findings, 'mx-mixed-providers').evidence).toEqual({
      providers: ['Google Workspace', 'mailhost.example'],
    });
  });

  it('warns when a filtering service receives mail before Exchange Online', async () => {
    const ctx = ctxFor({
      'contoso.example': [{ MX: [10, 'eu-smtp-inbound-1.mimecast.com'] }, { MX: [20, EOP] }],
      'eu-smtp-inbound-1.mimecast.com': [{ A: '195.130.217.1' }],
      ...eopAddr,
    });
    const out = await mxCheck.run({ domain: 'contoso.example', relayIps: [] }, ctx);
    expect(out.status).toBe('warn');
    expect(codes(out.findings)).toEqual(['mx-m365-not-preferred', 'mx-m365-ok', 'mx-mixed-providers']);
  });

  it('honours the expected host from config and flags a foreign endpoint without one', async () => {
    const other = 'fabrikam-example.mail.protection.outlook.com';
    const ctx = ctxFor({ 'contoso.example': [{ MX: [0, other] }], [other]: [{ A: '52.101.0.2' }] });
    const unexpected = await mxCheck.run({ domain: 'contoso.example', relayIps: [] }, ctx);
    expect(codes(unexpected.findings)).toEqual(['mx-m365-host-unexpected', 'mx-m365-ok']);
    const configured = await mxCheck.run({ domain: 'contoso.example', relayIps: [], expectedMx: other }, ctx);
    expect(configured.status).toBe('pass');
    const mismatch = await mxCheck.run({ domain: 'contoso.example', relayIps: [], expectedMx: EOP }, ctx);
    expect(codes(mismatch.findings)).toContain('mx-expected-missing');
    expect(mismatch.status).toBe('fail');
  });

  it('fails when the Exchange Online host does not resolve, unknown when its lookup fails', async () => {
    const dead = await mxCheck.run(
      { domain: 'contoso.example', relayIps: [] },
      ctxFor({ 'contoso.example': [{ MX: [0, EOP] }] }),
    );
    expect(codes(dead.findings)).toContain('mx-host-unresolvable');
    expect(dead.status).toBe('fail');
    const flaky = await mxCheck.run(
      { domain: 'contoso.example', relayIps: [] },
      ctxFor({ 'contoso.example': [{ MX: [0, EOP] }], [EOP]: [{ fail: 'timeout' }] }),
    );
    expect(flaky.status).toBe('unknown');
  });

  it('follows a CNAME to the MX owner', async () => {
    const ctx = ctxFor({
      'alias.example': [{ CNAME: 'contoso.example' }],
      'contoso.example': [{ MX: [0, 'alias-example.mail.protection.outlook.com'] }],
      'alias-example.mail.protection.outlook.com': [{ A: '52.101.0.3' }],
    });
    const out = await mxCheck.run({ domain: 'alias.example', relayIps: [] }, ctx);
    expect(out.status).toBe('pass');
  });

  it('is unknown, never fail, on a DNS outage', async () => {
    for (const fail of ['servfail', 'timeout', 'refused', 'network-error'] as const) {
      const out = await mxCheck.run({ domain: 'x.example', relayIps: [] }, ctxFor({ 'x.example': [{ fail }] }));
      expect(out.status).toBe('unknown');
      expect(codes(out.findings)).toEqual(['mx-dns-unknown']);
    }
  });
});

describe('Microsoft MX naming', () => {
  it('derives the domain key with dots as dashes, accepting both hyphen forms', () => {
    expect(m365DomainKeys('contoso.co.uk')).toEqual(['contoso-co-uk']);
    expect(m365DomainKeys('my-company.com')).toEqual(['my-company-com', 'mycompany-com']);
    expect(matchesDefaultPattern('contoso.com', 'contoso-com.mail.protection.outlook.com')).toBe(true);
    expect(matchesDefaultPattern('contoso.com', 'contoso-com.o-v1.mx.microsoft')).toBe(true);
    expect(matchesDefaultPattern('contoso.com', 'fabrikam-com.mail.protection.outlook.com')).toBe(false);
    expect(providerOf('mx.b.example.net')).toBe('example.net');
  });
});
