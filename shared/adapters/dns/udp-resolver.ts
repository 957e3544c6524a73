/**
 * Plain DNS to one named server: UDP with a TCP retry when the answer is truncated (TC bit), or TCP only.
 *
 * Error contract (the port's): `query()` never rejects for what the server or the network does. No answer in time
 * is `timeout`; a socket error (ECONNREFUSED from an ICMP port-unreachable, EHOSTUNREACH…) is `network-error`;
 * anything unparseable or foreign is `bad-response` (from `wire.ts`). It rejects only with the caller's
 * `signal.reason` on abort, and with TypeError/RangeError for an unsupported type or an unencodable name.
 */
import net from 'node:net';
import type { DnsResolver, DnsResult, QueryOptions, RecordType } from '../../ports/dns-resolver.ts';
import { tcpExchange } from './exchange.ts';
import type { SentCounter } from './sent-counter.ts';
import { UdpPool } from './udp-pool.ts';
import { buildQuery, failure, parseResponse, readHeader } from './wire.ts';

export interface UdpResolverOptions {
  /** The server's IP address (`127.0.0.1`, `::1` or `[::1]`). Names are not accepted: a DNS server needs an address. */
  readonly host: string;
  /** Default 53. */
  readonly port?: number;
  /** Budget for one exchange in ms (default 2500). A TCP retry after a truncated answer gets its own budget. */
  readonly timeoutMs?: number;
  /** UDP sends per query, spread evenly over `timeoutMs` (default 2: one retransmit at half the timeout). */
  readonly attempts?: number;
  /** `tcp` sends every query over TCP (for `tcp://` servers). Default `udp`. */
  readonly transport?: 'udp' | 'tcp';
}

/** A `DnsResolver` that asks one server over UDP (TCP fallback on TC) or TCP. `describe()` is `udp://host:port`. */
export class UdpResolver implements DnsResolver, SentCounter {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  readonly attempts: number;
  readonly transport: 'udp' | 'tcp';
  private readonly id: string;
  private readonly pool: UdpPool;
  private sentCount = 0;

  /** @throws TypeError when `host` is not an IP address or a number option is out of range. */
  constructor(options: UdpResolverOptions) {
    const host = options.host.startsWith('[') && options.host.endsWith(']') ? options.host.slice(1, -1) : options.host;
    if (net.isIP(host) === 0) throw new TypeError(`DNS server host must be an IP address, got ${options.host}`);
    this.host = host;
    this.port = options.port ?? 53;
    this.timeoutMs = options.timeoutMs ?? 2500;
    this.attempts = options.attempts ?? 2;
    this.transport = options.transport ?? 'udp';
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new TypeError(`DNS server port out of range: ${this.port}`);
    }
    if (!(this.timeoutMs > 0)) throw new TypeError(`timeoutMs must be positive, got ${this.timeoutMs}`);
    if (!Number.isInteger(this.attempts) || this.attempts < 1) {
      throw new TypeError(`attempts must be a positive integer, got ${this.attempts}`);
    }
    const hostPart = net.isIPv6(host) ? `[${host}]` : host;
    this.id = `${this.transport}://${hostPart}:${this.port}`;
    this.pool = new UdpPool({ host, port: this.port });
  }

  /** Close the pooled UDP sockets now (they also close after a short idle time and never hold the process open). */
  close(): void {
    this.pool.close();
  }

  describe(): string {
    return this.id;
  }

  /** Queries sent so far: UDP datagrams (retransmits included) and TCP queries. */
  sent(): number {
    return this.sentCount;
  }

  async query<T extends RecordType>(name: string, type: T, options: QueryOptions = {}): Promise<DnsResult<T>> {
    options.signal?.throwIfAborted();
    const q = buildQuery(name, type);
    const target = { host: this.host, port: this.port };
    const exchangeOptions = {
      timeoutMs: this.timeoutMs,
      signal: options.signal,
      onSend: () => {
        this.sentCount++;
      },
    };

    if (this.transport === 'udp') {
      const { outcome: udp, id } = await this.pool.exchange(q.bytes, { ...exchangeOptions, attempts: this.attempts });
      if (!udp.ok) return failure(udp.kind, q.name, type, this.id, udp.detail);
      if (!readHeader(udp.bytes)?.truncated) return parseResponse(udp.bytes, { ...q, id }, this.id);
    }

    const tcp = await tcpExchange(target, q.bytes, exchangeOptions);
    if (!tcp.ok) {
      const detail = this.transport === 'udp' ? `truncated UDP answer, then ${tcp.detail}` : tcp.detail;
      return failure(tcp.kind, q.name, type, this.id, detail);
    }
    return parseResponse(tcp.bytes, q, this.id);
  }
}
