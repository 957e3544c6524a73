import { describe, expect, it } from 'vitest';
import { checkDomainSpec, parseSpf, selectSpfRecord } from '../../../shared/domain/spf-record.ts';

describe('selectSpfRecord', () => {
  it('finds none, one or several v=spf1 records (RFC 7208 §4.5)', () => {
    expect(selectSpfRecord(['google-site-verification=x', 'v=spf10 -all'])).toEqual({ kind: 'none' });
    expect(selectSpfRecord(['v=spf1 -all', 'other'])).toEqual({ kind: 'one', record: 'v=spf1 -all' });
    expect(selectSpfRecord(['v=spf1 -all', 'V=SPF1 ~all'])).toMatchObject({ kind: 'several' });
    expect(selectSpfRecord(['v=spf1'])).toEqual({ kind: 'one', record: 'v=spf1' });
  });
});

describe('parseSpf', () => {
  it('parses mechanisms, qualifiers, prefixes and modifiers with positions', () => {
    const p = parseSpf(
      'v=spf1 ip4:192.0.2.0/24 -a:mail.example.com/28//64 ~mx include:spf.protection.outlook.com redirect=_spf.example.com',
    );
    expect(p.errors).toEqual([]);
    expect(p.terms.map((t) => t.raw)).toEqual([
      'ip4:192.0.2.0/24',
      '-a:mail.example.com/28//64',
      '~mx',
      'include:spf.protection.outlook.com',
      'redirect=_spf.example.com',
    ]);
    const [ip4, a, mx] = p.terms;
    expect(ip4).toMatchObject({ name: 'ip4', value: '192.0.2.0', cidr4: 24, position: 8, qualifier: '+' });
    expect(a).toMatchObject({ name: 'a', value: 'mail.example.com', cidr4: 28, cidr6: 64, qualifier: '-' });
    expect(mx).toMatchObject({ name: 'mx', value: null, qualifier: '~' });
  });

  it.each([
    ['v=spf1 ip4:192.0.2.300 -all', 8, 'not an IPv4 address'],
    ['v=spf1 ip4:192.0.2.1/33 -all', 8, 'invalid prefix length'],
    ['v=spf1 ip6:2001:db8::zz -all', 8, 'not an IPv6 address'],
    ['v=spf1 include -all', 8, 'needs a domain'],
    ['v=spf1 include:example -all', 8, 'not a fully qualified'],
    ['v=spf1 foo:bar -all', 8, 'unknown mechanism'],
    ['v=spf1 -all redirect=a.example redirect=b.example', 32, 'more than once'],
    ['v=spf1 exists:%{z}.example.com -all', 8, 'invalid macro'],
    ['v=spf1 include:%{c}.example.com -all', 8, 'only allowed in an explanation'],
    ['v=spf1 a:foo..example.com', 8, 'empty label'],
    ['v=spf1 all:x', 8, 'takes no argument'],
    ['v=spf1 ip4:192.0.2.1\t-all', 8, 'not an IPv4 address'],
  ])('reports the syntax error in %j at column %i', (record, position, message) => {
    const p = parseSpf(record);
    expect(p.errors.length).toBeGreaterThan(0);
    expect(p.errors[0]).toMatchObject({ position });
    expect(p.errors[0]?.message).toContain(message);
  });

  it('accepts macros and explanation-only letters in exp=', () => {
    const p = parseSpf('v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} exp=explain.%{d} -all');
    expect(p.errors).toEqual([]);
    expect(checkDomainSpec('%{d}')).toBeNull();
  });

  it('never throws on hostile input', () => {
    for (const s of [
      `v=spf1 ${'a'.repeat(10000)}`,
      'v=spf1 %',
      'v=spf1 %{',
      'v=spf1 ===',
      'v=spf1 :::',
      'v=spf1 \u0000',
    ]) {
      expect(() => parseSpf(s)).not.toThrow();
    }
  });
});
