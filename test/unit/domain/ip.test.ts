import { describe, expect, it } from 'vitest';
import { canonicalIp, expandEntry, ipInEntries, representativeAddresses } from '../../../shared/domain/ip.ts';

describe('ip helpers', () => {
  it('canonicalises addresses and refuses legacy shorthand', () => {
    expect(canonicalIp('2001:DB8:0:0::25')).toBe('2001:db8::25');
    expect(canonicalIp('::ffff:203.0.113.10')).toBe('203.0.113.10');
    expect(canonicalIp('1.2.3')).toBeNull();
    expect(canonicalIp('0x7f.0.0.1')).toBeNull();
  });

  it('stands a range for its first and last address in SPF evaluations', () => {
    expect(representativeAddresses('203.0.113.8/29')).toEqual(['203.0.113.8', '203.0.113.15']);
    expect(representativeAddresses('203.0.113.10')).toEqual(['203.0.113.10']);
  });

  it('expands a relay range to every address for blocklist checks, up to 256', () => {
    expect(expandEntry('203.0.113.8/30')).toEqual(['203.0.113.8', '203.0.113.9', '203.0.113.10', '203.0.113.11']);
    expect(expandEntry('203.0.113.0/24')).toHaveLength(256);
    expect(expandEntry('203.0.113.0/24').at(-1)).toBe('203.0.113.255');
    expect(expandEntry('2001:db8::/126')).toEqual(['2001:db8::', '2001:db8::1', '2001:db8::2', '2001:db8::3']);
    expect(expandEntry('198.51.100.7')).toEqual(['198.51.100.7']);
    // larger than the cap: only the ends (config refuses such ranges anyway)
    expect(expandEntry('10.0.0.0/8')).toEqual(['10.0.0.0', '10.255.255.255']);
  });

  it('tells whether an address is inside configured entries', () => {
    expect(ipInEntries('203.0.113.9', ['203.0.113.8/29'])).toBe(true);
    expect(ipInEntries('203.0.113.17', ['203.0.113.8/29', '198.51.100.1'])).toBe(false);
    expect(ipInEntries('2001:db8::25', ['2001:db8::/120'])).toBe(true);
  });
});
