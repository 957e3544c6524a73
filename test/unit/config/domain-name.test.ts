import { describe, expect, it } from 'vitest';
import { mailboxDomain, normaliseDomainName, normaliseMailbox } from '../../../shared/config/domain-name.ts';

describe('normaliseDomainName', () => {
  it.each([
    ['contoso.com', 'contoso.com'],
    ['Contoso.COM', 'contoso.com'],
    ['  contoso.com  ', 'contoso.com'],
    ['contoso.com.', 'contoso.com'],
    ['mail.contoso.co.uk', 'mail.contoso.co.uk'],
    ['a-b.example', 'a-b.example'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['BÜCHER.example', 'xn--bcher-kva.example'],
    ['☃.example', 'xn--n3h.example'],
    ['ａｂｃ．example', 'abc.example'],
    ['1password.example', '1password.example'],
    [`${'a'.repeat(63)}.example`, `${'a'.repeat(63)}.example`],
  ])('accepts %j as %j', (input, expected) => {
    expect(normaliseDomainName(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['contoso..com', undefined],
    ['.contoso.com', undefined],
    ['contoso.com..', undefined],
    ['', 'it is empty'],
    ['contoso', 'it needs at least two labels (e.g. contoso.com)'],
    ['-contoso.com', 'a label cannot start or end with a hyphen'],
    ['contoso-.com', 'a label cannot start or end with a hyphen'],
    ['con_toso.com', 'underscores are not allowed in a host name'],
    ['con toso.com', 'only letters, digits, hyphens and dots are allowed'],
    ['contoso.com/x', 'only letters, digits, hyphens and dots are allowed'],
    ['*.contoso.com', 'only letters, digits, hyphens and dots are allowed'],
    ['203.0.113.10', 'the last label is all digits (an IP address is not a domain name)'],
    ['０x7f.1', 'the last label is all digits (an IP address is not a domain name)'],
    [`${'a'.repeat(64)}.example`, 'a label is longer than 63 characters'],
    [`${'abcdefghi.'.repeat(25)}example`, 'longer than 253 characters'],
    ['x'.repeat(5000), 'longer than 253 characters'],
    ['contoso\n.com', 'it contains control characters'],
    ['xn--a.example\u0000', 'it contains control characters'],
  ])('rejects %j', (input, reason) => {
    const r = normaliseDomainName(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toBe(reason);
  });
});

describe('normaliseMailbox', () => {
  it('lower-cases the domain and keeps the local part', () => {
    expect(normaliseMailbox('Scanner.Room@Contoso.Example')).toEqual({
      ok: true,
      value: 'Scanner.Room@contoso.example',
    });
    expect(normaliseMailbox('scan+tag@bücher.example')).toEqual({ ok: true, value: 'scan+tag@xn--bcher-kva.example' });
  });

  it.each([
    ['scanner', 'it needs the form name@domain'],
    ['@contoso.com', 'it needs the form name@domain'],
    ['scanner@', 'it needs the form name@domain'],
    ['a..b@contoso.com', 'the part before @ has characters a mailbox name cannot have'],
    ['"quoted"@contoso.com', 'the part before @ has characters a mailbox name cannot have'],
    [`${'a'.repeat(65)}@contoso.com`, 'the part before @ is longer than 64 characters'],
    ['scanner@contoso..com', 'the domain is not valid'],
    ['scanner@contoso', 'the domain is not valid: it needs at least two labels (e.g. contoso.com)'],
  ])('rejects %j', (input, reason) => {
    expect(normaliseMailbox(input)).toEqual({ ok: false, reason });
  });

  it('finds the domain of an address', () => {
    expect(mailboxDomain('a@b@c.example')).toBe('c.example');
  });
});
