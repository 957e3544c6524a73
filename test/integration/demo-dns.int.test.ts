/**
 * The demo's authoritative DNS server, asked through relaywatch's own plain-DNS adapter over UDP and TCP: the answers
 * the demo's checks depend on (answer, NODATA, NXDOMAIN with the SOA's TTL, REFUSED outside its zones) and the TCP
 * retry after a truncated UDP answer. Plus: the demo serves exactly the records the CLI tests' unbound serves for
 * examples/relaywatch.yaml.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UdpResolver } from '../../shared/adapters/dns/udp-resolver.ts';
import { type DemoRecord, type RunningDnsServer, startDnsServer } from '../../shared/demo/dns-server.ts';
import { dnsblName, EXAMPLE_RECORDS, recordsFor, SERVED_ZONES } from '../../shared/demo/world.ts';
import { EXAMPLE_LOCAL_DATA } from '../support/example-zone.ts';

const LONG = Array.from({ length: 20 }, (_, i) => `chunk-${i}-${'x'.repeat(90)}`);

describe('the demo DNS server through the UDP and TCP resolver adapters', () => {
  let server: RunningDnsServer;
  let extra: DemoRecord[] = [];
  beforeAll(async () => {
    server = await startDnsServer({
      zones: SERVED_ZONES,
      records: () => [...recordsFor('listed'), ...extra],
      ttl: 120,
    });
  });
  afterAll(async () => {
    await server.close();
  });
  const udp = () => new UdpResolver({ host: '127.0.0.1', port: server.port, timeoutMs: 1000, attempts: 1 });
  const tcp = () =>
    new UdpResolver({ host: '127.0.0.1', port: server.port, timeoutMs: 1000, attempts: 1, transport: 'tcp' });

  it.each(['udp', 'tcp'] as const)('answers TXT and MX authoritatively over %s', async (transport) => {
    const r = transport === 'udp' ? udp() : tcp();
    const spf = await r.query('Contoso.Example.', 'TXT');
    expect(spf.kind).toBe('answer');
    if (spf.kind === 'answer') {
      expect(spf.records.map((x) => x.data.text)).toEqual([
        'v=spf1 ip4:203.0.113.10 include:spf.protection.outlook.com -all',
      ]);
      expect(spf.ttl).toBe(120);
    }
    const mx = await r.query('contoso.example', 'MX');
    expect(mx.kind === 'answer' && mx.records.map((x) => x.data)).toEqual([
      { priority: 0, exchange: 'contoso-example.mail.protection.outlook.com' },
    ]);
  });

  it('keeps NODATA, NXDOMAIN and REFUSED apart, with the SOA minimum as the negative TTL', async () => {
    const r = udp();
    const nodata = await r.query('contoso.example', 'AAAA');
    expect(nodata.kind).toBe('nodata');
    const nx = await r.query('nothing-here.contoso.example', 'TXT');
    expect(nx.kind).toBe('nxdomain');
    if (nx.kind === 'nxdomain') expect(nx.ttl).toBe(60);
    const outside = await r.query('example.com', 'A');
    expect(outside.kind).toBe('refused');
  });

  it('answers the RFC 5782 test points and the listing of the demo blocklist', async () => {
    const r = udp();
    const tp2 = await r.query(dnsblName('127.0.0.2'), 'A');
    expect(tp2.kind === 'answer' && tp2.records.map((x) => x.data)).toEqual(['127.0.0.2']);
    expect((await r.query(dnsblName('127.0.0.1'), 'A')).kind).toBe('nxdomain');
    const listed = await r.query(dnsblName('203.0.113.10'), 'A');
    expect(listed.kind === 'answer' && listed.records.map((x) => x.data)).toEqual(['127.0.0.2']);
    const reason = await r.query(dnsblName('203.0.113.10'), 'TXT');
    expect(reason.kind === 'answer' && reason.records[0]?.data.text).toMatch(/^Listed: 203\.0\.113\.10 /);
  });

  it('truncates a UDP answer larger than the EDNS size and the adapter gets it whole over TCP', async () => {
    extra = [{ name: 'big.contoso.example', type: 'TXT', data: LONG }];
    const r = udp();
    const big = await r.query('big.contoso.example', 'TXT');
    expect(big.kind).toBe('answer');
    if (big.kind === 'answer') expect(big.records[0]?.data.chunks).toEqual(LONG);
    // One datagram (truncated) plus one TCP query.
    expect(r.sent()).toBe(2);
    extra = [];
  });
});

describe('the demo world', () => {
  it('serves exactly the records the CLI tests serve for examples/relaywatch.yaml', () => {
    const fromUnbound = EXAMPLE_LOCAL_DATA.filter((l) => !/\sSOA\s/.test(l)).map((line) => {
      const m = /^(\S+)\.\s+\d+\s+IN\s+(\S+)\s+(.*)$/.exec(line);
      if (!m) throw new Error(`unexpected local-data ${line}`);
      const [, name, type, rdata] = m as unknown as [string, string, string, string];
      if (type === 'TXT') return `${name} TXT ${rdata.slice(1, -1)}`;
      if (type === 'MX') {
        const [pref, host] = rdata.split(' ') as [string, string];
        return `${name} MX ${pref} ${host.replace(/\.$/, '')}`;
      }
      return `${name} ${type} ${rdata}`;
    });
    const demo = EXAMPLE_RECORDS.map((r) => {
      if (r.type === 'TXT') return `${r.name} TXT ${r.data.join('')}`;
      if (r.type === 'MX') return `${r.name} MX ${r.data.preference} ${r.data.exchange}`;
      return `${r.name} ${r.type} ${r.data}`;
    });
    expect(demo.sort()).toEqual(fromUnbound.sort());
  });

  it('lists the Contoso IP only on the listed day', () => {
    const listedName = dnsblName('203.0.113.10');
    for (const phase of ['healthy', 'removed'] as const) {
      expect(recordsFor(phase).some((r) => r.name === listedName)).toBe(false);
    }
    expect(
      recordsFor('listed')
        .filter((r) => r.name === listedName)
        .map((r) => r.type),
    ).toEqual(['A', 'TXT']);
  });
});
