/**
 * A small authoritative DNS server (RFC 1034/1035) on loopback, over UDP and TCP on the same port: what `relaywatch
 * demo` answers its own monitoring cycles from, so that the demo needs nothing but Node.js (no unbound, no rbldnsd).
 *
 * It is authoritative for the zones it is given and nothing else:
 * - a name outside them is REFUSED (as an authoritative-only server answers a recursive question it does not serve);
 * - a name inside with records of the asked type is an answer (AA set);
 * - a name that exists with other types only, or only as an empty non-terminal, is NODATA with the zone's SOA;
 * - any other name is NXDOMAIN with the zone's SOA (the negative TTL is the SOA minimum, RFC 2308);
 * - a UDP answer larger than the client's EDNS payload size (512 bytes without EDNS) is sent truncated (TC) so that
 *   the client retries over TCP, RFC 1035 §4.2.1 / RFC 7766.
 * The records come from a function asked for every question, so the caller can change the world between cycles.
 * Errors of the transport (a malformed datagram, a client that goes away) are dropped, never thrown.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';

export type DemoRecord =
  | { readonly name: string; readonly type: 'A' | 'AAAA' | 'NS' | 'CNAME' | 'PTR'; readonly data: string }
  | { readonly name: string; readonly type: 'TXT'; readonly data: readonly string[] }
  | {
      readonly name: string;
      readonly type: 'MX';
      readonly data: { readonly preference: number; readonly exchange: string };
    };

export interface ServedZone {
  /** The apex, e.g. `example` or `dnsbl.relaywatch-demo.example`. */
  readonly apex: string;
  /** The negative-caching TTL and the SOA's minimum (seconds). */
  readonly negativeTtl?: number;
}

export interface DnsServerOptions {
  readonly zones: readonly ServedZone[];
  /** The records, asked again for every question. */
  readonly records: () => readonly DemoRecord[];
  readonly host?: string;
  /** 0 (default) = a free port chosen by the system, the same for UDP and TCP. */
  readonly port?: number;
  /** TTL of every answer record (seconds, default 300). */
  readonly ttl?: number;
}

export interface RunningDnsServer {
  readonly host: string;
  readonly port: number;
  /** `udp://127.0.0.1:PORT`, as relaywatch's `dns.resolvers` takes it. */
  readonly spec: string;
  /** Questions answered so far (`name TYPE`), for tests and the demo's summary. */
  readonly questions: number;
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, NXDOMAIN: 3, REFUSED: 5, FORMERR: 1 } as const;
const HEADER_ONLY_BYTES = 12;

function norm(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function inZone(name: string, apex: string): boolean {
  return name === apex || name.endsWith(`.${apex}`);
}

/** The answer to one query message, or null when the message is not a query we can answer at all. */
export function answerQuery(
  query: Buffer,
  zones: readonly ServedZone[],
  records: readonly DemoRecord[],
  ttl = 300,
): { response: Buffer; udpLimit: number } | null {
  let q: dnsPacket.Packet;
  try {
    q = dnsPacket.decode(query);
  } catch {
    return null;
  }
  if (q.type !== 'query' || typeof q.id !== 'number') return null;
  const opt = (q.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
  const udpLimit = Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, 4096));
  const rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const question = q.questions?.[0];
  const reply = (
    rcode: number,
    answers: dnsPacket.Answer[],
    authorities: dnsPacket.Answer[],
    aa: boolean,
  ): { response: Buffer; udpLimit: number } => ({
    response: dnsPacket.encode({
      id: q.id ?? 0,
      type: 'response',
      flags: (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rd | rcode,
      questions: question ? [question] : [],
      answers,
      authorities,
    }),
    udpLimit,
  });
  if (!question || (q.questions?.length ?? 0) !== 1) return reply(RCODE.FORMERR, [], [], false);
  const name = norm(question.name);
  const zone = [...zones].filter((z) => inZone(name, norm(z.apex))).sort((a, b) => b.apex.length - a.apex.length)[0];
  if (!zone) return reply(RCODE.REFUSED, [], [], false);
  const apex = norm(zone.apex);
  const negativeTtl = zone.negativeTtl ?? 60;
  const soa: dnsPacket.Answer = {
    name: apex,
    type: 'SOA',
    ttl: negativeTtl,
    data: {
      mname: `ns.${apex}`,
      rname: `hostmaster.${apex}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86_400,
      minimum: negativeTtl,
    },
  };
  if (question.type === 'SOA' && name === apex) return reply(RCODE.NOERROR, [soa], [], true);
  const here = records.filter((r) => norm(r.name) === name);
  const cname = here.find((r) => r.type === 'CNAME');
  const matching = cname && question.type !== 'CNAME' ? [cname] : here.filter((r) => r.type === question.type);
  if (matching.length > 0)
    return reply(
      RCODE.NOERROR,
      matching.map((r) => toAnswer(r, ttl)),
      [],
      true,
    );
  const exists = here.length > 0 || name === apex || records.some((r) => norm(r.name).endsWith(`.${name}`));
  return reply(exists ? RCODE.NOERROR : RCODE.NXDOMAIN, [], [soa], true);
}

function toAnswer(r: DemoRecord, ttl: number): dnsPacket.Answer {
  const name = norm(r.name);
  switch (r.type) {
    case 'TXT':
      return { name, type: 'TXT', ttl, data: r.data.map((s) => Buffer.from(s, 'utf8')) };
    case 'MX':
      return { name, type: 'MX', ttl, data: { preference: r.data.preference, exchange: norm(r.data.exchange) } };
    case 'A':
    case 'AAAA':
      return { name, type: r.type, ttl, data: r.data };
    default:
      return { name, type: r.type, ttl, data: norm(r.data) };
  }
}

/** The same response cut to its header with TC set, for an answer that does not fit the client's UDP size. */
function truncated(response: Buffer): Buffer {
  const head = Buffer.from(response.subarray(0, HEADER_ONLY_BYTES));
  head.writeUInt16BE(head.readUInt16BE(2) | 0x0200, 2); // TC
  head.writeUInt32BE(0, 4); // QDCOUNT, ANCOUNT
  head.writeUInt32BE(0, 8); // NSCOUNT, ARCOUNT
  return head;
}

async function listenUdp(socket: dgram.Socket, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket.address().port;
}

async function listenTcp(server: net.Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Start the server; with port 0, UDP picks the port and TCP takes the same one (retried if it is taken). */
export async function startDnsServer(options: DnsServerOptions): Promise<RunningDnsServer> {
  const host = options.host ?? '127.0.0.1';
  const ttl = options.ttl ?? 300;
  let questions = 0;
  const answer = (msg: Buffer) => {
    const a = answerQuery(msg, options.zones, options.records(), ttl);
    if (a) questions++;
    return a;
  };
  const connections = new Set<net.Socket>();
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    udp.on('message', (msg, rinfo) => {
      const a = answer(msg);
      if (!a) return;
      const bytes = a.response.length > a.udpLimit ? truncated(a.response) : a.response;
      udp.send(bytes, rinfo.port, rinfo.address);
    });
    udp.on('error', () => {});
    const port = await listenUdp(udp, host, options.port ?? 0);
    const tcp = net.createServer((socket) => {
      connections.add(socket);
      socket.on('close', () => connections.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.setTimeout(10_000, () => socket.destroy());
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const length = buffered.readUInt16BE(0);
          if (buffered.length < 2 + length) break;
          const msg = buffered.subarray(2, 2 + length);
          buffered = buffered.subarray(2 + length);
          const a = answer(Buffer.from(msg));
          if (!a) {
            socket.destroy();
            return;
          }
          const frame = Buffer.alloc(2 + a.response.length);
          frame.writeUInt16BE(a.response.length, 0);
          a.response.copy(frame, 2);
          socket.write(frame);
        }
      });
    });
    try {
      await listenTcp(tcp, host, port);
    } catch (err) {
      await new Promise<void>((r) => udp.close(() => r()));
      // The UDP port was free but its TCP twin is taken: try another pair (only when the port was ours to choose).
      if ((options.port ?? 0) === 0 && attempt < 10 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw err;
    }
    const url = host.includes(':') ? `[${host}]` : host;
    return {
      host,
      port,
      spec: `udp://${url}:${port}`,
      get questions() {
        return questions;
      },
      close: async () => {
        for (const c of connections) c.destroy();
        await Promise.all([
          new Promise<void>((r) => udp.close(() => r())),
          new Promise<void>((r) => tcp.close(() => r())),
        ]);
      },
    };
  }
}
