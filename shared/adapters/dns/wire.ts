/**
 * DNS wire format (RFC 1035) for the DNS adapters: building a query and turning the bytes of a response into a
 * `DnsResult` of the port. Transport-free: UDP, TCP and DoH all end here.
 *
 * Error contract: `parseResponse()` never throws; anything it cannot make sense of (garbage, a foreign id, another
 * question, an unexpected rcode, a CNAME loop) is a `bad-response` value. `buildQuery()` throws only for programming
 * errors: a type outside `RECORD_TYPES` (TypeError) or a name that cannot be put on the wire (RangeError).
 */
import { randomBytes } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import {
  type DnsFailure,
  type DnsFailureKind,
  type DnsRecord,
  type DnsResult,
  normaliseName,
  RECORD_TYPES,
  type RecordDataByType,
  type RecordType,
  type ServerId,
} from '../../ports/dns-resolver.ts';

/** The EDNS0 UDP payload size we advertise (the DNS Flag Day 2020 value; avoids IP fragmentation). */
export const EDNS_UDP_PAYLOAD_SIZE = 1232;

/** CNAME hops followed inside one answer before it counts as broken (unbound's own limit is about 11). */
export const MAX_CNAME_HOPS = 16;

/** A query ready to send: its id and the normalised question, to check the answer against. */
export interface DnsQuery<T extends RecordType> {
  readonly id: number;
  /** Lower case, no trailing dot (`''` is the root). */
  readonly name: string;
  readonly type: T;
  readonly bytes: Buffer;
}

/** The fixed 12-byte header fields a transport needs before parsing (e.g. to see the TC bit). */
export interface WireHeader {
  readonly id: number;
  readonly isResponse: boolean;
  readonly opcode: number;
  readonly truncated: boolean;
  /** The AA bit: the answering server is authoritative for the name. */
  readonly authoritative: boolean;
  /** The 4-bit header rcode (without EDNS extended bits). */
  readonly rcode: number;
  readonly questionCount: number;
}

const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  16: 'BADVERS',
};

/** `NOERROR`, `FORMERR`… or `RCODE_<n>` for unassigned values. */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE_${rcode}`;
}

/**
 * Build a recursive query (RD set) with an EDNS0 OPT record advertising `EDNS_UDP_PAYLOAD_SIZE`.
 * `id` defaults to a random 16-bit value; DoH GET passes 0 (RFC 8484 §4.1).
 * @throws TypeError for a type outside `RECORD_TYPES`; RangeError for a name that cannot be encoded.
 */
export function buildQuery<T extends RecordType>(rawName: string, type: T, options: { id?: number } = {}): DnsQuery<T> {
  if (!(RECORD_TYPES as readonly string[]).includes(type)) throw new TypeError(`unsupported record type ${type}`);
  const name = normaliseName(rawName);
  assertEncodableName(name);
  const id = options.id ?? randomId();
  if (!Number.isInteger(id) || id < 0 || id > 0xffff) throw new RangeError(`DNS id out of range: ${id}`);
  const bytes = encodeQuery(id, name, QTYPE[type]);
  return { id, name, type, bytes };
}

const QTYPE: Record<RecordType, number> = { A: 1, AAAA: 28, TXT: 16, MX: 15, PTR: 12, CNAME: 5 };

/**
 * A query message written directly (RFC 1035 §4.1, RFC 6891 §6.1.2): header with RD, one question (class IN), and an
 * OPT record advertising EDNS_UDP_PAYLOAD_SIZE. The same bytes dns-packet writes, at a fraction of its cost per query
 * (a blocklist sweep sends tens of thousands); `wire.test.ts` checks they decode to the same message.
 */
function encodeQuery(id: number, name: string, qtype: number): Buffer {
  const labels = name === '' ? [] : name.split('.').map((l) => Buffer.from(l, 'utf8'));
  const nameLength = labels.reduce((n, l) => n + 1 + l.length, 1);
  const buf = Buffer.alloc(12 + nameLength + 4 + 11);
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(0x0100, 2); // RD
  buf.writeUInt16BE(1, 4); // QDCOUNT
  buf.writeUInt16BE(1, 10); // ARCOUNT (OPT)
  let o = 12;
  for (const l of labels) {
    if (l.length > 63 || l.length === 0) throw new RangeError(`invalid DNS label in ${JSON.stringify(name)}`);
    buf[o++] = l.length;
    l.copy(buf, o);
    o += l.length;
  }
  buf[o++] = 0;
  buf.writeUInt16BE(qtype, o);
  buf.writeUInt16BE(1, o + 2); // IN
  o += 4;
  // OPT: root name, type 41, class = UDP payload size, TTL 0 (extended rcode, version, flags), no options
  buf[o++] = 0;
  buf.writeUInt16BE(41, o);
  buf.writeUInt16BE(EDNS_UDP_PAYLOAD_SIZE, o + 2);
  return buf;
}

let idBytes = Buffer.alloc(0);
let idOffset = 0;
/**
 * A random 16-bit query id, cut from a buffer of cryptographically random bytes refilled as needed (one
 * `crypto.randomInt` call per query cost more CPU than building the query).
 */
export function randomId(): number {
  if (idOffset + 2 > idBytes.length) {
    idBytes = randomBytes(4096);
    idOffset = 0;
  }
  const id = idBytes.readUInt16BE(idOffset);
  idOffset += 2;
  return id;
}

function assertEncodableName(name: string): void {
  if (name === '') return;
  if (name.length > 253) throw new RangeError(`DNS name longer than 253 characters: ${JSON.stringify(name)}`);
  // label sizes are checked while encoding (encodeQuery); here only what the encoder does not see
  if (name.startsWith('.') || name.includes('..')) throw new RangeError(`invalid DNS label in ${JSON.stringify(name)}`);
}

/** The header of a DNS message, or null when there are fewer than 12 bytes. Never throws. */
export function readHeader(bytes: Uint8Array): WireHeader | null {
  if (bytes.length < 12) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = view.getUint16(2);
  return {
    id: view.getUint16(0),
    isResponse: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    truncated: (flags & 0x0200) !== 0,
    authoritative: (flags & 0x0400) !== 0,
    rcode: flags & 0xf,
    questionCount: view.getUint16(4),
  };
}

/** A failure value (helper shared by the adapters). */
export function failure(
  kind: DnsFailureKind,
  name: string,
  type: RecordType,
  server: ServerId,
  detail: string,
): DnsFailure {
  return { kind, name, type, server, detail };
}

type Decoded = ReturnType<typeof dnsPacket.decode>;
type WireRecord = NonNullable<Decoded['answers']>[number];

/**
 * Turn response bytes into a result for `query`. Checks that it is a response to this id and question, maps the
 * rcode (NOERROR, NXDOMAIN, SERVFAIL, REFUSED; anything else is `bad-response` with `rcode <NAME>`), follows the
 * CNAME chain inside the answer section from the asked name, and keeps only the records of the asked type owned by
 * the end of the chain. TTLs: an answer's `ttl` is the minimum over its records and the CNAMEs followed; NODATA and
 * NXDOMAIN take `min(SOA TTL, SOA minimum, CNAME TTLs)` from an SOA in the authority section, else null.
 * A truncated message (TC bit) is `bad-response`: a transport must retry over TCP before calling this.
 * Never throws.
 */
export function parseResponse<T extends RecordType>(
  bytes: Uint8Array,
  query: Pick<DnsQuery<T>, 'id' | 'name' | 'type'>,
  server: ServerId,
): DnsResult<T> {
  const { name, type } = query;
  const bad = (detail: string): DnsFailure => failure('bad-response', name, type, server, detail);

  const header = readHeader(bytes);
  if (header === null) return bad(`response shorter than a DNS header (${bytes.length} bytes)`);
  if (!header.isResponse) return bad('not a response (QR bit clear)');
  if (header.id !== query.id) return bad(`id mismatch (sent ${query.id}, got ${header.id})`);
  if (header.opcode !== 0) return bad(`unexpected opcode ${header.opcode}`);
  if (header.truncated) return bad('truncated answer (TC bit set)');

  let packet: Decoded;
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    packet = dnsPacket.decode(buf);
    const used = dnsPacket.decode.bytes;
    if (!Number.isFinite(used) || used > buf.length) return bad('malformed response (records run past the end)');
  } catch (err) {
    return bad(`malformed response (${err instanceof Error ? err.message : String(err)})`);
  }

  const opt = (packet.additionals ?? []).find((a) => a.type === 'OPT');
  const rcode = ((opt && 'extendedRcode' in opt ? opt.extendedRcode : 0) << 4) | header.rcode;
  const knownRcode = rcode === 0 || rcode === 2 || rcode === 3 || rcode === 5;

  const questions = packet.questions ?? [];
  // Error answers (e.g. FORMERR from a server without EDNS) may come without the question section.
  if (questions.length > 0 || rcode === 0 || rcode === 3) {
    const q = questions[0];
    if (questions.length !== 1 || q === undefined) return bad(`expected 1 question, got ${questions.length}`);
    const qName = normaliseName(q.name === '.' ? '' : q.name);
    if (qName !== name || q.type !== type || (q.class !== undefined && q.class !== 'IN')) {
      return bad(`answer is for another question (${qName || '.'}/${q.type})`);
    }
  }
  if (!knownRcode) return bad(`rcode ${rcodeName(rcode)}`);
  if (rcode === 2) return failure('servfail', name, type, server, 'rcode SERVFAIL');
  if (rcode === 5) return failure('refused', name, type, server, 'rcode REFUSED');

  const answers = (packet.answers ?? []).filter((a) => a.type !== 'OPT' && isClassIn(a));
  const cnameChain: string[] = [];
  const cnameTtls: number[] = [];
  let current = name;
  let hops = 0;
  while (type !== 'CNAME' && !answers.some((a) => a.type === type && ownerOf(a) === current)) {
    const cname = answers.find((a): a is dnsPacket.StringAnswer => a.type === 'CNAME' && ownerOf(a) === current);
    if (cname === undefined || typeof cname.data !== 'string') break;
    const target = normaliseName(cname.data);
    if (target === name || cnameChain.includes(target)) return bad(`CNAME loop at ${target}`);
    if (++hops > MAX_CNAME_HOPS) return bad(`CNAME chain longer than ${MAX_CNAME_HOPS}`);
    cnameChain.push(target);
    cnameTtls.push(ttlOf(cname));
    current = target;
  }

  if (rcode === 3) return { kind: 'nxdomain', name, type, server, cnameChain, ttl: negativeTtl(packet, cnameTtls) };

  const records: DnsRecord<RecordType>[] = [];
  for (const a of answers) {
    if (a.type !== type || ownerOf(a) !== current) continue;
    const data = recordData(a, type);
    if (data === undefined) return bad(`malformed ${type} record for ${current}`);
    records.push({ data, ttl: ttlOf(a) });
  }
  if (records.length === 0) {
    return { kind: 'nodata', name, type, server, cnameChain, ttl: negativeTtl(packet, cnameTtls) };
  }
  const ttl = Math.min(...records.map((r) => r.ttl), ...cnameTtls);
  return {
    kind: 'answer',
    name,
    type,
    server,
    records: records as DnsRecord<T>[],
    cnameChain,
    ttl,
    authoritative: header.authoritative,
  };
}

function isClassIn(a: WireRecord): boolean {
  return !('class' in a) || a.class === undefined || a.class === 'IN';
}

function ownerOf(a: WireRecord): string {
  return normaliseName(a.name === '.' ? '' : a.name);
}

function ttlOf(a: WireRecord): number {
  return 'ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0;
}

/** RFC 2308 §5: the negative TTL is the smaller of the SOA's own TTL and its MINIMUM field. */
function negativeTtl(packet: Decoded, cnameTtls: readonly number[]): number | null {
  const soa = (packet.authorities ?? []).find((a): a is dnsPacket.SoaAnswer => a.type === 'SOA');
  if (soa === undefined) return null;
  return Math.min(ttlOf(soa), soa.data.minimum ?? 0, ...cnameTtls);
}

function recordData(a: WireRecord, type: RecordType): RecordDataByType[RecordType] | undefined {
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return typeof a.data === 'string' && (type === 'A' || type === 'AAAA') ? a.data.toLowerCase() : undefined;
    case 'PTR':
    case 'CNAME':
      return typeof a.data === 'string' ? normaliseName(a.data) : undefined;
    case 'MX': {
      const exchange = a.data.exchange === '.' ? '' : normaliseName(a.data.exchange);
      return { priority: a.data.preference ?? 0, exchange } satisfies RecordDataByType['MX'];
    }
    case 'TXT': {
      const raw = Array.isArray(a.data) ? a.data : [a.data];
      // UTF-8 with U+FFFD for invalid bytes: never throws, and SPF/DNSBL texts are ASCII anyway.
      const chunks = raw.map((c) => (typeof c === 'string' ? c : c.toString('utf8')));
      return { text: chunks.join(''), chunks } satisfies RecordDataByType['TXT'];
    }
    default:
      return undefined;
  }
}
