/** Minimal reproducers of the bugs the fuzz tests found, kept as plain regression tests. */
import { describe, expect, it } from 'vitest';
import { makeSpfEvaluator, withMailauthSafeDelimiters } from '../../../shared/adapters/spf/mailauth-spf.ts';
import { spfCheck } from '../../../shared/checks/spf.ts';
import { buildSpfTree, MAX_NODES } from '../../../shared/checks/spf-tree.ts';
import { parseSpf } from '../../../shared/domain/spf-record.ts';
import { type FakeZone, ZoneFake } from '../../support/zone-fake.ts';
import { codes, ctxFor } from '../checks/helpers.ts';

describe('fuzz regressions', () => {
  it('reads a bounded tree when names include each other (the walk grew factorially: 8 names took 1 s, 12 hung)', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `q${i}.example`);
    const zone: FakeZone = Object.fromEntries(
      names.map((n) => [n, [{ TXT: `v=spf1 ${names.map((x) => `include:${x}`).join(' ')} -all` }]]),
    );
    const fake = new ZoneFake(zone);
    const tree = await buildSpfTree(fake, 'q0.example');
    expect(fake.log.length).toBeLessThanOrEqual(MAX_NODES);
    const out = await spfCheck.run({ domain: 'q0.example', relayIps: [] }, ctxFor(zone));
    expect(codes(out.findings)).toEqual(
      expect.arrayContaining(['spf-include-loop', 'spf-include-too-deep', 'spf-lookup-limit']),
    );
    // only the first record past the budget is shown; the rest of the tree is not read
    expect(out.findings.filter((f) => f.code === 'spf-include-too-deep')).toHaveLength(1);
    expect(tree.totalLookups).toBeGreaterThan(10);
  });

  it('is unknown, not fail, when the include that holds the Microsoft include times out', async () => {
    const ctx = ctxFor({
      'c.example': [{ TXT: 'v=spf1 ip4:203.0.113.10 include:_spf.c.example -all' }],
      '_spf.c.example': [{ fail: 'timeout' }],
    });
    const out = await spfCheck.run({ domain: 'c.example', relayIps: ['203.0.113.10'] }, ctx);
    expect(out.status).toBe('unknown');
    expect(codes(out.findings)).toContain('spf-m365-include-unknown');
    expect(codes(out.findings)).not.toContain('spf-m365-include-missing');
    // with the whole tree readable, a missing include is still a definite error
    const readable = await spfCheck.run(
      { domain: 'c.example', relayIps: ['203.0.113.10'] },
      ctxFor({
        'c.example': [{ TXT: 'v=spf1 ip4:203.0.113.10 include:_spf.c.example -all' }],
        '_spf.c.example': [{ TXT: 'v=spf1 -all' }],
      }),
    );
    expect(codes(readable.findings)).toContain('spf-m365-include-missing');
    expect(readable.status).toBe('fail');
  });

  it.each([
    // a domain-spec may contain "/" (macro-literal): OpenSPF a-colon-domain / mx-colon-domain expect pass
    ['v=spf1 a:foo:bar/baz.example.com', 'foo:bar/baz.example.com', null, null],
    ['v=spf1 mx:foo/bar.example.com/24//64', 'foo/bar.example.com', 24, 64],
    // "/" is also a macro delimiter
    ['v=spf1 a:%{l/}.%{d}/28', '%{l/}.%{d}', 28, null],
  ])('reads "/" inside an a/mx domain-spec as part of the domain: %s', (record, value, cidr4, cidr6) => {
    const p = parseSpf(record);
    expect(p.errors).toEqual([]);
    expect(p.terms[0]).toMatchObject({ value, cidr4, cidr6 });
  });

  it.each([
    ['v=spf1 a:foo.com/33', 'invalid IPv4 prefix length'],
    ['v=spf1 a:foo.com/', 'invalid IPv4 prefix length'],
    ['v=spf1 mx:foo.com//129', 'invalid IPv6 prefix length'],
    ['v=spf1 a:foo.com/abc', 'top-level label'],
    ['v=spf1 a/abc', 'malformed'],
    ['v=spf1 a:/24', 'malformed'],
  ])('still rejects a broken a/mx argument: %s', (record, message) => {
    expect(parseSpf(record).errors[0]?.message).toContain(message);
  });

  it.each([
    // "%%" is an escaped percent: what follows it is a literal, so these do not end in a macro-expand (RFC 7208 §7.1)
    'v=spf1 include:foo.com%%_ -all',
    'v=spf1 include:foo%%{d} -all',
    'v=spf1 -all redirect=x.example%%{d}',
  ])('rejects a domain-spec that only seems to end in a macro (after an escaped percent): %s', (record) => {
    expect(parseSpf(record).errors).toHaveLength(1);
  });

  it.each(['v=spf1 include:%{d}%% -all', 'v=spf1 exists:x.%{ir}.%{d}%_ -all', 'v=spf1 include:a.b%%%{d} -all'])(
    'accepts a domain-spec that does end in a macro-expand: %s',
    (record) => {
      expect(parseSpf(record).errors).toEqual([]);
    },
  );

  it('moves "-" last in macro delimiters for mailauth, and leaves %%-escaped text alone', () => {
    expect(withMailauthSafeDelimiters('v=spf1 exists:%{ir.-+}.x.example -all')).toBe(
      'v=spf1 exists:%{ir.+-}.x.example -all',
    );
    expect(withMailauthSafeDelimiters('v=spf1 a:%{L2R/-_}.x.example')).toBe('v=spf1 a:%{L2R/_-}.x.example');
    expect(withMailauthSafeDelimiters('v=spf1 a:%%{ir.-+}.x.example %{d-} %{d}')).toBe(
      'v=spf1 a:%%{ir.-+}.x.example %{d-} %{d}',
    );
  });

  it.each([
    // mailauth threw "Range out of order in character class" (temperror) for "." "-" "+"
    ['exists:%{ir.-+}._spf.d.example', '10.2.0.192._spf.d.example'],
    // and for "/" "-" "_" it built the range [/-_], splitting the address on every digit (silently wrong)
    ['exists:%{i/-_}._spf.d.example', '192.0.2.10._spf.d.example'],
  ])('evaluates %s with any order of macro delimiters', async (term, name) => {
    const fake = new ZoneFake({ 'd.example': [{ TXT: `v=spf1 ${term} -all` }], [name]: [{ A: '127.0.0.2' }] });
    const e = await makeSpfEvaluator(fake)({ ip: '192.0.2.10', domain: 'd.example' });
    expect(e.result).toBe('pass');
  });
});
