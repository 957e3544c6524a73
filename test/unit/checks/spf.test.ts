import { describe, expect, it } from 'vitest';
import { spfCheck } from '../../../shared/checks/spf.ts';
import { codes, ctxFor, findingOf } from './helpers.ts';

const HEALTHY = 'v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all';

describe('spf check', () => {
  it('passes a healthy Exchange Online record whose relay IP evaluates to pass', async () => {
    const ctx = ctxFor({ 'contoso.example': [{ TXT: HEALTHY }] });
    const out = await spfCheck.run({ domain: 'contoso.example', relayIps: ['203.0.113.10'] }, ctx);
    expect(out.status).toBe('pass');
    expect(codes(out.findings)).toEqual(
      expect.arrayContaining(['spf-lookups', 'spf-all-fail', 'spf-m365-include', 'spf-relay-ip-pass']),
    );
    expect(out.details).toMatchObject({ lookups: 1, evaluations: [{ ip: '203.0.113.10', result: 'pass' }] });
  });

  it('joins split TXT strings without separators before reading the record', async () => {
    const ctx = ctxFor({
      'contoso.example': [{ TXT: ['v=spf1 ip4:203.0.113.10 include:spf.protection.out', 'look.com -all'] }],
    });
    const out = await spfCheck.run({ domain: 'contoso.example', relayIps: ['203.0.113.10'] }, ctx);
    expect(out.status).toBe('pass');
  });

  it('fails when the relay IP is not authorised (the IP changed) and says what to add', async () => {
    const ctx = ctxFor({ 'contoso.example': [{ TXT: HEALTHY }] });
    const out = await spfCheck.run({ domain: 'contoso.example', relayIps: ['198.51.100.7'] }, ctx);
    expect(out.status).toBe('fail');
    const f = findingOf(out.findings, 'spf-relay-ip-not-authorised');
    expect(f.message).toContain('ip4:198.51.100.7');
    expect(f.evidence).toMatchObject({ ip: '198.51.100.7', result: 'fail' });
    // the SPF-authorised address that is not a relay IP is reported as info
    expect(findingOf(out.findings, 'spf-ip-not-relay').evidence).toMatchObject({ ip: '203.0.113.10' });
  });

  it('evaluates both ends of a relay range', async () => {
    const ctx = ctxFor({
      'contoso.example': [{ TXT: 'v=spf1 ip4:203.0.113.8/30 include:spf.protection.outlook.com -all' }],
    });
    const ok = await spfCheck.run({ domain: 'contoso.example', relayIps: ['203.0.113.8/30'] }, ctx);
    expect(ok.details).toMatchObject({ evaluations: [{ ip: '203.0.113.8' }, { ip: '203.0.113.11' }] });
    expect(ok.status).toBe('pass');
    const half = await spfCheck.run({ domain: 'contoso.example', relayIps: ['203.0.113.8/29'] }, ctx);
    expect(half.status).toBe('fail');
  });

  it('reports a missing record, several records and a missing Microsoft include', async () => {
    const missing = await spfCheck.run(
      { domain: 'a.example', relayIps: [] },
      ctxFor({ 'a.example': [{ TXT: 'x=1' }] }),
    );
    expect(codes(missing.findings)).toEqual(['spf-missing']);
    expect(missing.status).toBe('fail');
    const several = await spfCheck.run(
      { domain: 'a.example', relayIps: ['203.0.113.10'] },
      ctxFor({ 'a.example': [{ TXT: 'v=spf1 -all' }, { TXT: 'v=spf1 ~all' }] }),
    );
    expect(codes(several.findings)).toEqual(['spf-multiple-records']);
    const noM365 = await spfCheck.run(
      { domain: 'a.example', relayIps: ['203.0.113.10'] },
      ctxFor({ 'a.example': [{ TXT: 'v=spf1 ip4:203.0.113.10 -all' }] }),
    );
    expect(codes(noM365.findings)).toContain('spf-m365-include-missing');
    expect(noM365.status).toBe('fail');
  });

  it('finds the Microsoft include through a nested include and names the path', async () => {
    const ctx = ctxFor({
      'a.example': [{ TXT: 'v=spf1 include:_spf.a.example -all' }],
      '_spf.a.example': [{ TXT: 'v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all' }],
    });
    const out = await spfCheck.run({ domain: 'a.example', relayIps: ['203.0.113.10'] }, ctx);
    expect(out.status).toBe('pass');
    expect(findingOf(out.findings, 'spf-m365-include').evidence).toEqual({
      path: ['a.example', '_spf.a.example', 'spf.protection.outlook.com'],
    });
    // the tenant's own nested record counts as its own for the "authorised but not a relay IP" comparison
    expect(codes(out.findings)).not.toContain('spf-ip-not-relay');
  });

  it('counts lookups across the whole tree and fails above 10', async () => {
    const zone: Record<string, { TXT: string }[]> = {};
    const includes = Array.from({ length: 6 }, (_, i) => `include:v${i}.vendor.example`);
    zone['big.example'] = [{ TXT: `v=spf1 ${includes.join(' ')} include:spf.protection.outlook.com -all` }];
    for (let i = 0; i < 6; i++) zone[`v${i}.vendor.example`] = [{ TXT: `v=spf1 include:n${i}.vendor.example -all` }];
    for (let i = 0; i < 6; i++) zone[`n${i}.vendor.example`] = [{ TXT: 'v=spf1 ip4:192.0.2.1 -all' }];
    const out = await spfCheck.run({ domain: 'big.example', relayIps: [] }, ctxFor(zone));
    expect(out.details).toMatchObject({ lookups: 13 });
    expect(findingOf(out.findings, 'spf-lookup-limit').evidence).toEqual({ lookups: 13, limit: 10 });
    expect(out.status).toBe('fail');
  });

  it('warns near the lookup limit', async () => {
    const zone: Record<string, { TXT: string }[]> = {
      'near.example': [
        {
          TXT: `v=spf1 ${Array.from({ length: 8 }, (_, i) => `include:v${i}.example`).join(' ')} include:spf.protection.outlook.com -all`,
        },
      ],
    };
    for (let i = 0; i < 8; i++) zone[`v${i}.example`] = [{ TXT: 'v=spf1 -all' }];
    const out = await spfCheck.run({ domain: 'near.example', relayIps: [] }, ctxFor(zone));
    expect(codes(out.findings)).toContain('spf-lookup-near-limit');
    expect(out.status).toBe('warn');
  });

  it('counts void lookups and fails above 2', async () => {
    const ctx = ctxFor({
      'v.example': [
        {
          TXT: 'v=spf1 a:gone1.v.example a:gone2.v.example mx:gone3.v.example include:spf.protection.outlook.com -all',
        },
      ],
      'gone3.v.example': [{ A: '192.0.2.1' }],
    });
    const out = await spfCheck.run({ domain: 'v.example', relayIps: [] }, ctx);
    expect(out.details).toMatchObject({ voidLookups: 3 });
    expect(codes(out.findings)).toEqual(expect.arrayContaining(['spf-void-lookup', 'spf-void-limit']));
    expect(out.status).toBe('fail');
  });

  it('reads the all posture', async () => {
    const run = async (record: string) =>
      (await spfCheck.run({ domain: 'p.example', relayIps: [] }, ctxFor({ 'p.example': [{ TXT: record }] }))).findings;
    const inc = 'include:spf.protection.outlook.com';
    expect(codes(await run(`v=spf1 ${inc} +all`))).toContain('spf-all-pass');
    expect(codes(await run(`v=spf1 ${inc} ?all`))).toContain('spf-all-neutral');
    expect(codes(await run(`v=spf1 ${inc} ~all`))).toContain('spf-all-softfail');
    expect(codes(await run(`v=spf1 ${inc}`))).toContain('spf-all-missing');
    expect(codes(await run(`v=spf1 ${inc} -all`))).toContain('spf-all-fail');
  });

  it('warns on ptr and on long records, notes an ignored redirect', async () => {
    const long = `v=spf1 ${Array.from({ length: 30 }, (_, i) => `ip4:198.51.100.${i}`).join(' ')} include:spf.protection.outlook.com -all`;
    const ctx = ctxFor({
      'p.example': [{ TXT: 'v=spf1 ptr include:spf.protection.outlook.com -all redirect=other.example' }],
      'l.example': [{ TXT: long }],
    });
    const p = await spfCheck.run({ domain: 'p.example', relayIps: [] }, ctx);
    expect(codes(p.findings)).toEqual(expect.arrayContaining(['spf-ptr', 'spf-redirect-ignored']));
    const l = await spfCheck.run({ domain: 'l.example', relayIps: [] }, ctx);
    expect(findingOf(l.findings, 'spf-record-too-long').evidence).toMatchObject({ bytes: long.length });
  });

  it('reports a syntax error with its column, and the relay IP then fails as permerror', async () => {
    const ctx = ctxFor({
      's.example': [{ TXT: 'v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com ip4:1.2.3 -all' }],
    });
    const out = await spfCheck.run({ domain: 's.example', relayIps: ['203.0.113.10'] }, ctx);
    expect(findingOf(out.findings, 'spf-syntax-error').evidence).toMatchObject({ position: 60, term: 'ip4:1.2.3' });
    expect(findingOf(out.findings, 'spf-relay-ip-not-authorised').evidence).toMatchObject({ result: 'permerror' });
  });

  it('tells a permanently broken include from a temporarily failing one', async () => {
    const ctx = ctxFor({
      'i.example': [
        {
          TXT: 'v=spf1 include:gone.vendor.example include:slow.vendor.example include:spf.protection.outlook.com -all',
        },
      ],
      'slow.vendor.example': [{ fail: 'timeout' }],
    });
    const out = await spfCheck.run({ domain: 'i.example', relayIps: [] }, ctx);
    expect(findingOf(out.findings, 'spf-include-permerror').evidence).toMatchObject({ domain: 'gone.vendor.example' });
    expect(findingOf(out.findings, 'spf-include-temperror').severity).toBe('unknown');
    expect(out.status).toBe('fail');
  });

  it('is unknown, never fail, when DNS cannot be reached', async () => {
    const ctx = ctxFor({ 'down.example': [{ fail: 'servfail' }] });
    const out = await spfCheck.run({ domain: 'down.example', relayIps: ['203.0.113.10'] }, ctx);
    expect(out.status).toBe('unknown');
    expect(codes(out.findings)).toEqual(['spf-dns-unknown']);
  });

  it('is unknown when only the Microsoft include times out and the relay IP is listed directly', async () => {
    const ctx = ctxFor({
      'c.example': [{ TXT: HEALTHY }],
      'spf.protection.outlook.com': [{ fail: 'timeout' }],
    });
    const out = await spfCheck.run({ domain: 'c.example', relayIps: ['198.51.100.99'] }, ctx);
    expect(out.status).toBe('unknown');
    expect(codes(out.findings)).toEqual(expect.arrayContaining(['spf-include-temperror', 'spf-relay-ip-unknown']));
  });

  it('detects include loops', async () => {
    const ctx = ctxFor({
      'l.example': [{ TXT: 'v=spf1 include:m.example include:spf.protection.outlook.com -all' }],
      'm.example': [{ TXT: 'v=spf1 include:l.example -all' }],
    });
    const out = await spfCheck.run({ domain: 'l.example', relayIps: [] }, ctx);
    expect(codes(out.findings)).toContain('spf-include-loop');
  });

  it('asks each name once per check even when relay IPs are evaluated', async () => {
    const ctx = ctxFor({ 'contoso.example': [{ TXT: HEALTHY }] });
    await spfCheck.run({ domain: 'contoso.example', relayIps: ['203.0.113.10', '198.51.100.1'] }, ctx);
    // the fake has no cache: this documents how many questions the check asks; the caching resolver collapses them
    expect(ctx.fake.log.filter((l) => l.name === 'contoso.example').length).toBeGreaterThanOrEqual(1);
  });
});

describe('spf check for IPv6 relays', () => {
  it('counts void AAAA lookups of a terms, which is why an IPv6 relay gets permerror', async () => {
    const ctx = ctxFor({
      'six.example': [
        {
          TXT: 'v=spf1 a:h1.six.example a:h2.six.example a:h3.six.example ip6:2001:db8::25 include:spf.protection.outlook.com -all',
        },
      ],
      'h1.six.example': [{ A: '192.0.2.1' }],
      'h2.six.example': [{ A: '192.0.2.2' }],
      'h3.six.example': [{ A: '192.0.2.3' }],
    });
    const v4 = await spfCheck.run({ domain: 'six.example', relayIps: ['192.0.2.1'] }, ctx);
    expect(v4.details).toMatchObject({ voidLookups: 0 });
    expect(v4.status).toBe('pass');
    const v6 = await spfCheck.run({ domain: 'six.example', relayIps: ['2001:db8::25'] }, ctx);
    expect(v6.details).toMatchObject({ voidLookups: 3, evaluations: [{ ip: '2001:db8::25', result: 'permerror' }] });
    expect(codes(v6.findings)).toEqual(expect.arrayContaining(['spf-void-limit', 'spf-relay-ip-not-authorised']));
    expect(findingOf(v6.findings, 'spf-void-lookup').message).toContain('for IPv6 senders (no AAAA records)');
  });
});
