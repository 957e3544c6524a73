import { describe, expect, it } from 'vitest';
import { domainQueryName, queryName, testPointName } from '../../../shared/blocklist/query-name.ts';
import {
  genericZone,
  parseZoneRegistry,
  ZONES,
  type ZoneDefinition,
  zoneById,
  zoneDefinitionSchema,
} from '../../../shared/blocklist/registry.ts';
import {
  classify,
  healthVerdict,
  isCustomerListing,
  listingKind,
  sanitiseReason,
} from '../../../shared/blocklist/verdict.ts';
import type { DnsResult } from '../../../shared/ports/dns-resolver.ts';

function zone(id: string): ZoneDefinition {
  const z = zoneById(id);
  if (!z) throw new Error(`no zone ${id}`);
  return z;
}

const base = { name: 'q.example', server: 'udp://127.0.0.1:53' };
function a(...addrs: string[]): DnsResult<'A'> {
  return {
    ...base,
    type: 'A',
    kind: 'answer',
    records: addrs.map((data) => ({ data, ttl: 60 })),
    cnameChain: [],
    ttl: 60,
  };
}
function txt(...texts: string[]): DnsResult<'TXT'> {
  return {
    ...base,
    type: 'TXT',
    kind: 'answer',
    records: texts.map((text) => ({ data: { text, chunks: [text] }, ttl: 60 })),
    cnameChain: [],
    ttl: 60,
  };
}
const nx: DnsResult<'A'> = { ...base, type: 'A', kind: 'nxdomain', cnameChain: [], ttl: 60 };
const nodata: DnsResult<'A'> = { ...base, type: 'A', kind: 'nodata', cnameChain: [], ttl: 60 };
function fail(kind: 'servfail' | 'refused' | 'timeout' | 'network-error' | 'bad-response'): DnsResult<'A'> {
  return { ...base, type: 'A', kind, detail: 'x' };
}

describe('zone registry', () => {
  it('loads and every zone validates with the exported schema', () => {
    expect(ZONES.length).toBeGreaterThanOrEqual(12);
    for (const z of ZONES) expect(zoneDefinitionSchema.safeParse(z).success, z.id).toBe(true);
  });

  it.each([
    ['spamhaus-zen', 'zen.spamhaus.org'],
    ['spamhaus-zen-dqs', '{key}.zen.dq.spamhaus.net'],
    ['spamcop', 'bl.spamcop.net'],
    ['barracuda', 'b.barracudacentral.org'],
    ['psbl', 'psbl.surriel.com'],
    ['mailspike', 'bl.mailspike.net'],
    ['uceprotect-1', 'dnsbl-1.uceprotect.net'],
    ['uceprotect-2', 'dnsbl-2.uceprotect.net'],
    ['uceprotect-3', 'dnsbl-3.uceprotect.net'],
    ['s5h', 'all.s5h.net'],
    ['dronebl', 'dnsbl.dronebl.org'],
    ['spamrats', 'all.spamrats.com'],
    ['abusix', '{key}.combined.mail.abusix.zone'],
  ])('holds %s (%s)', (id, name) => {
    expect(zone(id).name).toBe(name);
  });

  it('does not hold SORBS (closed in 2024)', () => {
    expect(ZONES.some((z) => z.name.includes('sorbs'))).toBe(false);
  });

  it('marks UCEPROTECT 2/3 as neighbourhood, ZEN PBL as policy, key zones as keyed', () => {
    expect(zone('uceprotect-2').kind).toBe('neighbourhood');
    expect(zone('uceprotect-3').scope).toBe('asn');
    expect(zone('spamhaus-zen').codes['127.0.0.10']?.kind).toBe('policy');
    expect(zone('spamhaus-zen').publicResolvers).toBe('refused');
    expect(zone('abusix').key).toEqual({ required: true, placement: 'label-prefix' });
    expect(zone('barracuda').registrationRequired).toBe(true);
  });

  it('rejects a broken registry naming the path', () => {
    const bad = { ...zone('psbl'), codes: { '127.0.0.2': { meaning: 'x', kind: 'nonsense' } } };
    expect(() => parseZoneRegistry({ zones: [bad] }, 'test.yaml')).toThrow(/zones\[0\]\.codes\["127\.0\.0\.2"\]\.kind/);
    expect(() => parseZoneRegistry({ zones: [zone('psbl'), zone('psbl')] }, 'test.yaml')).toThrow(/already used/);
    const keyless = { ...zone('abusix'), key: null };
    expect(() => parseZoneRegistry({ zones: [keyless] }, 'test.yaml')).toThrow(/zones\[0\]\.key/);
  });

  it('gives an unknown zone the generic RFC 5782 semantics', () => {
    const g = genericZone('Custom.Example.');
    expect(g.name).toBe('custom.example');
    expect(g.ipv6).toBe(true);
    expect(g.key).toBeNull();
    expect(g.codes['127.0.0.2']?.meaning).toBe('listed (code 127.0.0.2)');
    expect(g.codes['127.0.0.254']?.kind).toBe('abuse');
    expect(g.codes['127.0.0.1']).toBeUndefined();
    expect(zoneDefinitionSchema.safeParse(g).success).toBe(true);
  });
});

describe('queryName', () => {
  const s5h = zone('s5h');
  const spamcop = zone('spamcop');
  const abusix = zone('abusix');

  it.each([
    ['192.0.2.99', 'psbl', '99.2.0.192.psbl.surriel.com'],
    ['::ffff:192.0.2.99', 'psbl', '99.2.0.192.psbl.surriel.com'],
    [' 198.51.100.7 ', 'spamcop', '7.100.51.198.bl.spamcop.net'],
    ['2001:db8::1', 's5h', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.all.s5h.net'],
    ['2001:DB8:0:0:1::ab', 's5h', 'b.a.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.all.s5h.net'],
  ])('%s in %s → %s', (ip, id, name) => {
    expect(queryName(ip, zone(id))).toEqual({ ok: true, name });
  });

  it('substitutes the key', () => {
    expect(queryName('192.0.2.1', abusix, 'abc123')).toEqual({
      ok: true,
      name: '1.2.0.192.abc123.combined.mail.abusix.zone',
    });
  });

  it('returns errors instead of throwing', () => {
    expect(queryName('2001:db8::1', spamcop)).toMatchObject({ ok: false, reason: expect.stringMatching(/IPv6/) });
    expect(queryName('192.0.2.1', abusix)).toMatchObject({ ok: false, reason: expect.stringMatching(/needs a key/) });
    expect(queryName('192.0.2.1', abusix, 'a.b')).toMatchObject({ ok: false });
    expect(queryName('1.2.3', s5h)).toMatchObject({ ok: false });
  });

  it('names the RFC 5782 test points, IPv6 ones in nibble form', () => {
    expect(testPointName('ipv4', 'listed', s5h)).toEqual({ ok: true, name: '2.0.0.127.all.s5h.net' });
    expect(testPointName('ipv4', 'notListed', s5h)).toEqual({ ok: true, name: '1.0.0.127.all.s5h.net' });
    expect(testPointName('ipv6', 'listed', s5h)).toEqual({
      ok: true,
      name: '2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.all.s5h.net',
    });
    expect(testPointName('ipv6', 'listed', spamcop)).toMatchObject({ ok: false });
  });
});

describe('classify', () => {
  const zen = zone('spamhaus-zen');

  it('NXDOMAIN is clean; NODATA is clean with a note', () => {
    expect(classify(zen, nx)).toEqual({ status: 'clean' });
    expect(classify(zen, nodata)).toMatchObject({ status: 'clean', note: expect.stringMatching(/NODATA/) });
  });

  it('decodes every code ZEN returns', () => {
    expect(classify(zen, a('127.0.0.4', '127.0.0.2'))).toEqual({
      status: 'listed',
      codes: [
        { code: '127.0.0.2', meaning: expect.stringMatching(/^SBL/), kind: 'abuse' },
        { code: '127.0.0.4', meaning: expect.stringMatching(/^XBL/), kind: 'abuse' },
      ],
    });
  });

  it('reads PBL as a policy listing', () => {
    const v = classify(zen, a('127.0.0.10'));
    expect(v).toMatchObject({ status: 'listed', codes: [{ code: '127.0.0.10', kind: 'policy' }] });
    expect(listingKind(v)).toBe('policy');
  });

  it('reads UCEPROTECT level 2 as neighbourhood, never a listing of the customer', () => {
    const v = classify(zone('uceprotect-2'), a('127.0.0.2'));
    expect(listingKind(v)).toBe('neighbourhood');
    expect(isCustomerListing(v)).toBe(false);
    expect(isCustomerListing(classify(zen, a('127.0.0.2', '127.0.0.10')))).toBe(true);
    expect(listingKind(classify(zen, a('127.0.0.2', '127.0.0.10')))).toBe('abuse');
  });

  it.each([
    ['127.255.255.254', /zone refused the query: query via a public\/open resolver/],
    ['127.255.255.252', /typing error/],
    ['127.255.255.1', /zone refused the query: error code 127\.255\.255\.1/],
  ])('reports unknown and unusable when ZEN answers %s', (code, why) => {
    expect(classify(zen, a(code))).toEqual({ status: 'unknown', why: expect.stringMatching(why), zoneUnusable: true });
  });

  it('treats an error code as unknown even mixed with a listing code', () => {
    expect(classify(zen, a('127.0.0.2', '127.255.255.255'))).toMatchObject({ status: 'unknown', zoneUnusable: true });
  });

  it('treats 127.255.255.x as an error for zones that do not list it, and the generic zone', () => {
    expect(classify(zone('psbl'), a('127.255.255.254'))).toMatchObject({ status: 'unknown', zoneUnusable: true });
    expect(classify(genericZone('x.example'), a('127.255.255.3'))).toMatchObject({ status: 'unknown' });
  });

  it('reports a rewritten answer', () => {
    expect(classify(zen, a('10.0.0.1'))).toEqual({
      status: 'unknown',
      why: expect.stringMatching(/^resolver rewrote the answer \("10\.0\.0\.1"/),
      zoneUnusable: true,
    });
    expect(classify(zen, a('127.0.0.2', '192.0.2.1'))).toMatchObject({ status: 'unknown', zoneUnusable: true });
  });

  it.each(['servfail', 'refused', 'timeout', 'network-error', 'bad-response'] as const)(
    'reports %s as unknown with the zone still usable',
    (kind) => {
      expect(classify(zen, fail(kind))).toMatchObject({ status: 'unknown', zoneUnusable: false });
    },
  );

  it('decodes an undocumented 127/8 code as a listing', () => {
    expect(classify(zone('psbl'), a('127.0.0.77'))).toEqual({
      status: 'listed',
      codes: [{ code: '127.0.0.77', meaning: 'unlisted code 127.0.0.77 (not in the registry)', kind: 'abuse' }],
    });
  });

  it('does not read 127.0.0.1 as a listing', () => {
    expect(classify(zone('psbl'), a('127.0.0.1'))).toMatchObject({ status: 'unknown', zoneUnusable: true });
  });

  it('uses the generic zone meanings', () => {
    expect(classify(genericZone('bl.example'), a('127.0.0.5'))).toEqual({
      status: 'listed',
      codes: [{ code: '127.0.0.5', meaning: 'listed (code 127.0.0.5)', kind: 'abuse' }],
    });
  });

  it('keeps the TXT reason as sanitised data', () => {
    const v = classify(zone('spamcop'), a('127.0.0.2'), txt('Blocked \u001b[31m see\nhttps://x\u202e'));
    expect(v).toMatchObject({ status: 'listed', reason: 'Blocked [31m see https://x' });
    expect(sanitiseReason('a'.repeat(1000)).length).toBe(300);
  });
});

describe('registry facts checked against the operators (issue 16)', () => {
  it('counts only documented SpamRATS codes as listings; any other 127/8 answer is an error', () => {
    for (const id of ['spamrats', 'spamrats-key']) {
      expect(classify(zone(id), a('127.0.0.38'))).toMatchObject({ status: 'listed' });
      expect(classify(zone(id), a('127.0.0.2'))).toMatchObject({ status: 'unknown', zoneUnusable: true });
      expect(classify(zone(id), a('127.0.0.36', '127.0.0.99'))).toMatchObject({
        status: 'unknown',
        why: expect.stringMatching(/127\.0\.0\.99, which the operator does not document/),
      });
    }
    // other zones keep decoding an undocumented code as a listing
    expect(classify(zone('spamcop'), a('127.0.0.9'))).toMatchObject({ status: 'listed' });
  });

  it('puts the SpamRATS key between the address and the zone (<ip>.<key>.<zone>)', () => {
    expect(queryName('192.168.1.1', zone('spamrats-key'), 'K3y')).toEqual({
      ok: true,
      name: '1.1.168.192.K3y.all.spamrats.com',
    });
  });

  it('decodes DroneBL classes 12, 18, 19 and 255', () => {
    const v = classify(zone('dronebl'), a('127.0.0.12', '127.0.0.18', '127.0.0.19', '127.0.0.255'));
    expect(v.status === 'listed' && v.codes.map((c) => c.meaning)).toEqual([
      'DroneBL class 12: open DNS resolver',
      'DroneBL class 18: possibly compromised DNS/MX-type host name seen on IRC',
      'DroneBL class 19: abused VPN service',
      'DroneBL class 255: uncategorized threat class',
    ]);
  });

  it('has Barracuda publish a TXT reason and take the IP in its removal URL; UCEPROTECT 3 and Mailspike URLs', () => {
    expect(zone('barracuda')).toMatchObject({ txt: true, removalUrl: expect.stringContaining('{ip}') });
    expect(zone('uceprotect-3').lookupUrl).toBe('https://www.uceprotect.net/en/rblcheck.php?ipr={ip}');
    expect(zone('mailspike')).toMatchObject({ lookupUrl: 'https://mailspike.io/ip_verify' });
    expect(zone('uceprotect-2').codes['127.0.0.2']?.meaning).toMatch(/smaller than \/26/);
  });

  it('says in the Spamhaus notes that from AWS a paid DQS key is needed', () => {
    expect(zone('spamhaus-zen').notes).toMatch(/PAID DQS key/);
    expect(zone('spamhaus-zen-dqs').notes).toMatch(/PAID DQS key/);
  });
});

describe('domain zones (scope: domain)', () => {
  it('asks <domain>.<zone>, with the key label of a key zone, and refuses what is not a domain name', () => {
    expect(domainQueryName('Contoso.Example.', zone('nordspam-dbl'))).toEqual({
      ok: true,
      name: 'contoso.example.dbl.nordspam.com',
    });
    expect(domainQueryName('contoso.example', zone('spamhaus-dbl-dqs'), 'K3y')).toEqual({
      ok: true,
      name: 'contoso.example.K3y.dbl.dq.spamhaus.net',
    });
    expect(domainQueryName('contoso.example', zone('spamhaus-dbl-dqs'))).toMatchObject({ ok: false });
    expect(domainQueryName('192.0.2.1', zone('surbl'))).toMatchObject({ ok: false, reason: /IP address/ });
    expect(domainQueryName('a..b', zone('surbl'))).toMatchObject({ ok: false, reason: /not a domain name/ });
    expect(
      domainQueryName(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(50)}`, zone('surbl')),
    ).toMatchObject({ ok: false, reason: /too long/ });
  });

  it("reads DBL's 127.0.1.255 as an error, URIBL's 127.0.0.1 as a refusal, and SURBL/URIBL bitmasks", () => {
    expect(classify(zone('spamhaus-dbl'), a('127.0.1.255'))).toMatchObject({
      status: 'unknown',
      why: expect.stringMatching(/IP queries not allowed/),
      zoneUnusable: true,
    });
    expect(classify(zone('uribl'), a('127.0.0.1'))).toMatchObject({ status: 'unknown', zoneUnusable: true });
    const v = classify(zone('uribl'), a('127.0.0.14'));
    expect(v.status === 'listed' && v.codes.map((c) => c.code)).toEqual(['127.0.0.2', '127.0.0.4', '127.0.0.8']);
    expect(listingKind(v)).toBe('abuse');
    const grey = classify(zone('uribl'), a('127.0.0.4'));
    expect(listingKind(grey)).toBe('policy');
    // a bit nobody documents is not invented: the answer stays one "unlisted code"
    const odd = classify(zone('surbl'), a('127.0.0.3'));
    expect(odd.status === 'listed' && odd.codes.map((c) => c.meaning)).toEqual([
      'unlisted code 127.0.0.3 (not in the registry)',
    ]);
  });

  it('health-checks a domain zone with its own test points (DBL: dbltest.com) or RFC 5782 test / invalid', () => {
    expect(healthVerdict(zone('spamhaus-dbl'), nx, nx, 'domain')).toEqual({
      status: 'unusable',
      reason: 'does not list dbltest.com',
    });
    expect(healthVerdict(zone('nordspam-dbl'), a('127.0.0.2'), a('127.0.0.2'), 'domain')).toEqual({
      status: 'unusable',
      reason: 'lists invalid: the zone lists everything (dead or wildcarded)',
    });
    expect(healthVerdict(zone('nordspam-dbl'), a('127.0.0.2'), nx, 'domain')).toEqual({ status: 'usable' });
  });

  it('rejects testPoints on an address zone and ipv6 on a domain zone', () => {
    const base = zone('nordspam-dbl');
    expect(zoneDefinitionSchema.safeParse({ ...base, ipv6: true }).success).toBe(false);
    expect(
      zoneDefinitionSchema.safeParse({ ...zone('spamcop'), testPoints: { listed: 'test', notListed: 'invalid' } })
        .success,
    ).toBe(false);
  });
});

describe('healthVerdict', () => {
  const z = zone('spamcop');
  it.each<[string, DnsResult<'A'>, DnsResult<'A'>, RegExp | null]>([
    ['healthy', a('127.0.0.2'), nx, null],
    ['wildcarded', a('127.0.0.2'), a('127.0.0.2'), /^lists 127\.0\.0\.1: the zone lists everything/],
    ['answering 127.0.0.1 to 127.0.0.1', a('127.0.0.2'), a('127.0.0.1'), /^lists 127\.0\.0\.1/],
    ['dead', nx, nx, /^does not list 127\.0\.0\.2$/],
    ['refusing', a('127.255.255.254'), a('127.255.255.254'), /^refused: zone refused the query/],
    ['rewritten', a('10.0.0.1'), nx, /^refused: resolver rewrote/],
    ['REFUSED', fail('refused'), fail('refused'), /^refused: the resolver refused/],
    ['timing out', fail('timeout'), nx, /^unknown: no answer in time/],
  ])('%s', (_, tp2, tp1, reason) => {
    const v = healthVerdict(z, tp2, tp1);
    if (reason === null) expect(v).toEqual({ status: 'usable' });
    else expect(v).toEqual({ status: 'unusable', reason: expect.stringMatching(reason) });
  });

  it('marks SpamCop unusable when its lapsed domain answers a parking-page address (2021), as answers outside 127/8 are errors', () => {
    // In January 2021 bl.spamcop.net answered every name with the parking page's address: both test points "listed".
    const parked = a('198.51.100.80');
    const v = healthVerdict(zone('spamcop'), parked, parked);
    expect(v).toEqual({ status: 'unusable', reason: expect.stringMatching(/outside 127\.0\.0\.0\/8/) });
    expect(classify(zone('spamcop'), parked)).toMatchObject({ status: 'unknown', zoneUnusable: true });
  });

  it('does not judge the code a strict-code zone (SpamRATS) gives its listed test point', () => {
    expect(healthVerdict(zone('spamrats'), a('127.0.0.2'), nx)).toEqual({ status: 'usable' });
    expect(healthVerdict(zone('spamrats-key'), a('127.0.0.38'), nx)).toEqual({ status: 'usable' });
  });

  it('names the IPv6 test points', () => {
    expect(healthVerdict(zone('s5h'), nx, nx, 'ipv6')).toEqual({
      status: 'unusable',
      reason: 'does not list ::ffff:7f00:2',
    });
  });
});
