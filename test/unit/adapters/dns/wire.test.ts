import { randomBytes } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import {
  buildQuery,
  EDNS_UDP_PAYLOAD_SIZE,
  parseResponse,
  rcodeName,
  readHeader,
} from '../../../../shared/adapters/dns/wire.ts';
import type { DnsResult, RecordType } from '../../../../shared/ports/dns-resolver.ts';

const SERVER = 'udp://192.0.2.53:53';
const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

interface ResponseSpec {
  readonly rcode?: keyof typeof RCODES;
  readonly answers?: dnsPacket.Answer[];
  readonly authorities?: dnsPacket.Answer[];
  readonly additionals?: dnsPacket.Answer[];
  readonly id?: number;
  readonly extraFlags?: number;
  readonly questions?: dnsPacket.Question[];
}

/** A response to `q` as a recursive server would send it. */
function respond(q: { id: number; name: string; type: RecordType }, spec: ResponseSpec = {}): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: spec.id ?? q.id,
    flags:
      dnsPacket.RECURSION_DESIRED |
      dnsPacket.RECURSION_AVAILABLE |
      RCODES[spec.rcode ?? 'NOERROR'] |
      (spec.extraFlags ?? 0),
    questions: spec.questions ?? [{ name: q.name, type: q.type, class: 'IN' }],
    answers: spec.answers ?? [],
    authorities: spec.authorities ?? [],
    additionals: spec.additionals ?? [],
  });
}

function soa(zone: string, ttl: number, minimum: number): dnsPacket.Answer {
  return {
    name: zone,
    type: 'SOA',
    ttl,
    data: {
      mname: `ns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum,
    },
  };
}

function parse<T extends RecordType>(name: string, type: T, spec: ResponseSpec = {}): DnsResult<T> {
  const q = buildQuery(name, type);
  return parseResponse(respond(q, spec), q, SERVER);
}

describe('buildQuery', () => {
  it('asks one recursive question with EDNS0 and a 1232-byte payload size', () => {
    const q = buildQuery('Example.TEST.', 'TXT');
    expect(q.name).toBe('example.test');
    const packet = dnsPacket.decode(q.bytes);
    expect(packet.id).toBe(q.id);
    expect(packet.flag_rd).toBe(true);
    expect(packet.flag_qr).toBe(false);
    expect(packet.questions).toEqual([{ name: 'example.test', type: 'TXT', class: 'IN' }]);
    const opt = packet.additionals?.[0];
    expect(opt?.type).toBe('OPT');
    expect(opt && 'udpPayloadSize' in opt ? opt.udpPayloadSize : 0).toBe(EDNS_UDP_PAYLOAD_SIZE);
  });

  it('uses random ids unless one is given (DoH GET uses 0)', () => {
    const ids = new Set(Array.from({ length: 20 }, () => buildQuery('a.test', 'A').id));
    expect(ids.size).toBeGreaterThan(1);
    expect(buildQuery('a.test', 'A', { id: 0 }).id).toBe(0);
    expect(readHeader(buildQuery('a.test', 'A', { id: 0 }).bytes)?.id).toBe(0);
  });

  it('throws for programming errors: unsupported types and names that do not fit on the wire', () => {
    expect(() => buildQuery('a.test', 'SRV' as RecordType)).toThrow(TypeError);
    expect(() => buildQuery(`${'a'.repeat(64)}.test`, 'A')).toThrow(RangeError);
    expect(() => buildQuery('a..test', 'A')).toThrow(RangeError);
    expect(() => buildQuery(`${'abcdefghi.'.repeat(26)}test`, 'A')).toThrow(RangeError);
  });
});

describe('parseResponse', () => {
  it('joins split TXT strings without a separator and keeps the chunks', () => {
    const r = parse('example.test', 'TXT', {
      answers: [{ name: 'example.test', type: 'TXT', ttl: 300, data: ['v=spf1 include:_spf.goo', 'gle.com -all'] }],
    });
    expect(r).toEqual({
      kind: 'answer',
      name: 'example.test',
      type: 'TXT',
      server: SERVER,
      records: [
        {
          data: { text: 'v=spf1 include:_spf.google.com -all', chunks: ['v=spf1 include:_spf.goo', 'gle.com -all'] },
          ttl: 300,
        },
      ],
      cnameChain: [],
      ttl: 300,
      // The AA bit (false here: the test response sets no flags), which egress-IP discovery relies on.
      authoritative: false,
    });
  });

  it('does not crash on TXT bytes that are not UTF-8', () => {
    const r = parse('bin.test', 'TXT', {
      answers: [{ name: 'bin.test', type: 'TXT', ttl: 60, data: [Buffer.from([0x76, 0xff, 0xfe, 0x31])] }],
    });
    expect(r.kind).toBe('answer');
    if (r.kind === 'answer') expect(r.records[0]?.data.text).toBe('v\ufffd\ufffd1');
  });

  it('follows a CNAME chain from the asked name and keeps only the records at its end', () => {
    const r = parse('www.example.test', 'A', {
      answers: [
        { name: 'www.example.test', type: 'CNAME', ttl: 600, data: 'A.CDN.test.' },
        { name: 'a.cdn.test', type: 'CNAME', ttl: 120, data: 'b.cdn.test' },
        { name: 'B.cdn.test', type: 'A', ttl: 300, data: '192.0.2.1' },
        { name: 'unrelated.test', type: 'A', ttl: 5, data: '192.0.2.99' },
        { name: 'b.cdn.test', type: 'AAAA', ttl: 5, data: '2001:db8::1' },
      ],
    });
    expect(r).toMatchObject({
      kind: 'answer',
      cnameChain: ['a.cdn.test', 'b.cdn.test'],
      records: [{ data: '192.0.2.1', ttl: 300 }],
      ttl: 120,
    });
  });

  it('reports NXDOMAIN at the end of a CNAME chain with the chain and the SOA TTL', () => {
    const r = parse('alias.example.test', 'TXT', {
      rcode: 'NXDOMAIN',
      answers: [{ name: 'alias.example.test', type: 'CNAME', ttl: 900, data: 'gone.other.test' }],
      authorities: [soa('other.test', 3600, 300)],
    });
    expect(r).toEqual({
      kind: 'nxdomain',
      name: 'alias.example.test',
      type: 'TXT',
      server: SERVER,
      cnameChain: ['gone.other.test'],
      ttl: 300,
    });
  });

  it('reports NODATA when a chain ends without records of the type', () => {
    const r = parse('alias.example.test', 'MX', {
      answers: [{ name: 'alias.example.test', type: 'CNAME', ttl: 30, data: 'target.example.test' }],
      authorities: [soa('example.test', 3600, 300)],
    });
    expect(r).toMatchObject({ kind: 'nodata', cnameChain: ['target.example.test'], ttl: 30 });
  });

  it('asking for the CNAME itself returns it instead of following it', () => {
    const r = parse('alias.example.test', 'CNAME', {
      answers: [{ name: 'alias.example.test', type: 'CNAME', ttl: 30, data: 'Target.Example.test.' }],
    });
    expect(r).toMatchObject({ kind: 'answer', cnameChain: [], records: [{ data: 'target.example.test' }] });
  });

  it('maps a null MX to an empty exchange and lower-cases other exchanges', () => {
    const nullMx = parse('nomail.test', 'MX', {
      answers: [{ name: 'nomail.test', type: 'MX', ttl: 3600, data: { preference: 0, exchange: '.' } }],
    });
    expect(nullMx).toMatchObject({ kind: 'answer', records: [{ data: { priority: 0, exchange: '' }, ttl: 3600 }] });
    const mx = parse('contoso.test', 'MX', {
      answers: [
        {
          name: 'contoso.test',
          type: 'MX',
          ttl: 300,
          data: { preference: 10, exchange: 'Contoso-Test.mail.protection.outlook.com.' },
        },
        { name: 'contoso.test', type: 'MX', ttl: 200, data: { preference: 20, exchange: 'backup.contoso.test' } },
      ],
    });
    expect(mx).toMatchObject({
      kind: 'answer',
      ttl: 200,
      records: [
        { data: { priority: 10, exchange: 'contoso-test.mail.protection.outlook.com' } },
        { data: { priority: 20, exchange: 'backup.contoso.test' } },
      ],
    });
  });

  it('takes the negative TTL from the SOA (smaller of its TTL and MINIMUM), else null', () => {
    expect(parse('a.example.test', 'TXT', { authorities: [soa('example.test', 3600, 300)] })).toMatchObject({
      kind: 'nodata',
      ttl: 300,
    });
    expect(parse('a.example.test', 'TXT', { authorities: [soa('example.test', 60, 300)] })).toMatchObject({
      kind: 'nodata',
      ttl: 60,
    });
    expect(
      parse('a.example.test', 'TXT', { rcode: 'NXDOMAIN', authorities: [soa('example.test', 900, 120)] }),
    ).toMatchObject({ kind: 'nxdomain', ttl: 120, cnameChain: [] });
    expect(parse('a.example.test', 'TXT', { rcode: 'NXDOMAIN' })).toMatchObject({ kind: 'nxdomain', ttl: null });
    expect(parse('a.example.test', 'TXT')).toMatchObject({ kind: 'nodata', ttl: null });
  });

  it('maps SERVFAIL and REFUSED to their kinds', () => {
    expect(parse('a.test', 'A', { rcode: 'SERVFAIL' })).toEqual({
      kind: 'servfail',
      name: 'a.test',
      type: 'A',
      server: SERVER,
      detail: 'rcode SERVFAIL',
    });
    expect(parse('a.test', 'A', { rcode: 'REFUSED' })).toMatchObject({ kind: 'refused', detail: 'rcode REFUSED' });
  });

  it('treats FORMERR, NOTIMP and extended rcodes as bad responses, with or without a question section', () => {
    expect(parse('a.test', 'A', { rcode: 'FORMERR' })).toMatchObject({ kind: 'bad-response', detail: 'rcode FORMERR' });
    expect(parse('a.test', 'A', { rcode: 'FORMERR', questions: [] })).toMatchObject({
      kind: 'bad-response',
      detail: 'rcode FORMERR',
    });
    expect(parse('a.test', 'A', { rcode: 'NOTIMP' })).toMatchObject({ kind: 'bad-response', detail: 'rcode NOTIMP' });
    const badvers = parse('a.test', 'A', {
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          extendedRcode: 1,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ],
    });
    expect(badvers).toMatchObject({ kind: 'bad-response', detail: 'rcode BADVERS' });
    expect(rcodeName(11)).toBe('RCODE_11');
  });

  it('rejects an answer with another id, another question or no question', () => {
    const q = buildQuery('a.test', 'A');
    expect(parseResponse(respond(q, { id: (q.id + 1) % 0x10000 }), q, SERVER)).toMatchObject({
      kind: 'bad-response',
      detail: expect.stringContaining('id mismatch'),
    });
    expect(parse('a.test', 'A', { questions: [{ name: 'b.test', type: 'A' }] })).toMatchObject({
      kind: 'bad-response',
      detail: expect.stringContaining('another question'),
    });
    expect(parse('a.test', 'A', { questions: [{ name: 'a.test', type: 'AAAA' }] })).toMatchObject({
      kind: 'bad-response',
    });
    expect(parse('a.test', 'A', { questions: [] })).toMatchObject({ kind: 'bad-response' });
    // The question is compared case-insensitively (a server may echo 0x20-randomised case).
    expect(parse('a.test', 'A', { questions: [{ name: 'A.Test', type: 'A' }] })).toMatchObject({ kind: 'nodata' });
  });

  it('rejects a query echoed back, a truncated message and a CNAME loop', () => {
    const q = buildQuery('a.test', 'A');
    expect(parseResponse(q.bytes, q, SERVER)).toMatchObject({
      kind: 'bad-response',
      detail: expect.stringContaining('QR'),
    });
    expect(parse('a.test', 'A', { extraFlags: dnsPacket.TRUNCATED_RESPONSE })).toMatchObject({
      kind: 'bad-response',
      detail: expect.stringContaining('TC'),
    });
    expect(
      parse('a.test', 'A', {
        answers: [
          { name: 'a.test', type: 'CNAME', ttl: 1, data: 'b.test' },
          { name: 'b.test', type: 'CNAME', ttl: 1, data: 'a.test' },
        ],
      }),
    ).toMatchObject({ kind: 'bad-response', detail: 'CNAME loop at a.test' });
  });

  it('turns truncated and garbage bytes into bad-response, never a throw', () => {
    const q = buildQuery('example.test', 'TXT');
    const full = respond(q, {
      answers: [{ name: 'example.test', type: 'TXT', ttl: 300, data: ['part one', 'part two'] }],
      authorities: [soa('example.test', 300, 60)],
    });
    expect(parseResponse(Buffer.alloc(0), q, SERVER)).toMatchObject({ kind: 'bad-response' });
    expect(parseResponse(full.subarray(0, 7), q, SERVER)).toMatchObject({
      kind: 'bad-response',
      detail: expect.stringContaining('shorter than a DNS header'),
    });
    for (let cut = 12; cut < full.length; cut++) {
      const r = parseResponse(full.subarray(0, cut), q, SERVER);
      expect(r.kind, `cut at ${cut}`).toBe('bad-response');
    }
    for (let i = 0; i < 200; i++) {
      const garbage = Buffer.concat([full.subarray(0, 4), randomBytes(8 + (i % 200))]);
      const r = parseResponse(garbage, q, SERVER);
      expect(['bad-response', 'servfail', 'refused', 'nodata', 'nxdomain', 'answer']).toContain(r.kind);
    }
    expect(parseResponse(full, q, SERVER).kind).toBe('answer');
  });
});

describe('buildQuery (hand-written encoder)', () => {
  it.each([
    ['contoso.com', 'A'],
    ['_spf.contoso.com', 'TXT'],
    ['contoso.com', 'MX'],
    ['10.113.0.203.zen.spamhaus.org', 'A'],
    ['2.0.0.127.bl.test', 'TXT'],
    ['mail.contoso.com', 'AAAA'],
    ['1.0.0.127.in-addr.arpa', 'PTR'],
    ['www.contoso.com', 'CNAME'],
    ['', 'A'],
  ] as const)('writes the bytes dns-packet writes for %s %s', (name, type) => {
    const q = buildQuery(name, type, { id: 0x1234 });
    const reference = dnsPacket.encode({
      type: 'query',
      id: 0x1234,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ name: name === '' ? '.' : name, type, class: 'IN' }],
      additionals: [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: 1232,
          extendedRcode: 0,
          ednsVersion: 0,
          flags: 0,
          flag_do: false,
          options: [],
        },
      ],
    });
    expect(q.bytes.equals(reference)).toBe(true);
  });

  it('gives each query a random id', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => buildQuery('contoso.com', 'A').id));
    expect(ids.size).toBeGreaterThan(1900);
  });
});
