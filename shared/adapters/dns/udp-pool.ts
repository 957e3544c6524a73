/**
 * A small pool of connected UDP sockets to one DNS server, shared by concurrent queries. Creating, connecting and
 * closing a socket per query cost about a quarter of a monitoring cycle's CPU (BENCHMARKS.md); a pool of a few
 * sockets, each on its own kernel-chosen ephemeral port, keeps most of the spoofing resistance of per-query ports:
 * an answer is accepted only from the server's address and port (the socket is connected, so the kernel drops
 * anything else), with the 16-bit id of a query in flight on that socket (ids are random and never reused while in
 * flight), and `wire.ts` then checks the question too.
 *
 * Error contract: `exchange()` resolves with the answer bytes or a `timeout`/`network-error` outcome and rejects only
 * with the caller's `signal.reason`. A socket error (an ICMP port-unreachable surfaces as ECONNREFUSED on a connected
 * socket, and cannot be told apart per query) ends every query waiting on that socket with `network-error`, and the
 * socket is replaced. Idle sockets are closed after `idleMs`; sockets never keep the process alive.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { type ExchangeOptions, type ExchangeOutcome, type ExchangeTarget, errorDetail } from './exchange.ts';
import { randomId } from './wire.ts';

interface Pending {
  readonly resolve: (outcome: ExchangeOutcome) => void;
}

interface PooledSocket {
  readonly socket: dgram.Socket;
  readonly ready: Promise<void>;
  /** Set once `ready` resolved: queries then send at once instead of waiting a microtask for the promise. */
  connected: boolean;
  readonly pending: Map<number, Pending>;
  failed: boolean;
}

export interface UdpPoolOptions {
  /** Sockets in the pool (default 4). */
  readonly size?: number;
  /** Close the sockets after this long without a query in flight (default 2000 ms). */
  readonly idleMs?: number;
}

export class UdpPool {
  private readonly target: ExchangeTarget;
  private readonly size: number;
  private readonly idleMs: number;
  private readonly sockets: PooledSocket[] = [];
  private next = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(target: ExchangeTarget, options: UdpPoolOptions = {}) {
    this.target = target;
    this.size = options.size ?? 4;
    this.idleMs = options.idleMs ?? 2000;
  }

  /** Queries waiting for an answer, over all sockets. */
  inFlight(): number {
    return this.sockets.reduce((n, s) => n + s.pending.size, 0);
  }

  /** Close every socket now; queries still waiting end as `network-error`. Idempotent. */
  close(): void {
    clearTimeout(this.idleTimer);
    for (const s of this.sockets.splice(0)) this.retire(s, 'the resolver was closed');
  }

  /**
   * Send `query` (its id bytes are rewritten to a fresh id) and wait for the answer. With `attempts` > 1 the query is
   * re-sent every `timeoutMs / attempts`; the whole exchange gives up after `timeoutMs`.
   * @returns the outcome and the id the query went out with (the caller parses the answer against it).
   */
  async exchange(
    query: Buffer,
    options: ExchangeOptions & { readonly attempts: number },
  ): Promise<{ outcome: ExchangeOutcome; id: number }> {
    const { signal, timeoutMs, attempts, onSend } = options;
    signal?.throwIfAborted();
    clearTimeout(this.idleTimer);
    const pooled = this.pick();
    let id = randomId();
    while (pooled.pending.has(id)) id = randomId();
    const message = Buffer.from(query);
    message.writeUInt16BE(id, 0);

    const outcome = await new Promise<ExchangeOutcome>((resolve, reject) => {
      // One timer at a time: each attempt schedules the next (re-send) and the last one the timeout.
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (pooled.pending.get(id) === entry) pooled.pending.delete(id);
        finish();
      };
      const onAbort = (): void => settle(() => reject(signal?.reason));
      const entry: Pending = { resolve: (o) => settle(() => resolve(o)) };
      pooled.pending.set(id, entry);
      signal?.addEventListener('abort', onAbort, { once: true });

      const send = (): void => {
        if (settled) return;
        onSend?.();
        // No callback: Node then sends synchronously without a completion request per datagram (a measurable share
        // of a blocklist sweep); a send error arrives as the socket's 'error' event, which retires the socket and
        // ends its queries as network-error.
        pooled.socket.send(message);
      };
      let sentCount = 0;
      const tick = (): void => {
        if (settled) return;
        if (sentCount < attempts) {
          sentCount++;
          send();
          timer = setTimeout(tick, timeoutMs / attempts);
        } else {
          entry.resolve({ ok: false, kind: 'timeout', detail: `no answer within ${timeoutMs} ms` });
        }
      };
      if (pooled.connected) {
        tick();
        return;
      }
      const started = performance.now();
      pooled.ready.then(
        () => {
          // the socket connects once; a query that waited for it keeps its overall budget
          if (performance.now() - started >= timeoutMs) {
            entry.resolve({ ok: false, kind: 'timeout', detail: `no answer within ${timeoutMs} ms` });
          } else tick();
        },
        (err: unknown) => entry.resolve({ ok: false, kind: 'network-error', detail: errorDetail(err) }),
      );
    });
    this.scheduleIdleClose();
    return { outcome, id };
  }

  private pick(): PooledSocket {
    for (let i = this.sockets.length - 1; i >= 0; i--) {
      if (this.sockets[i]!.failed) this.sockets.splice(i, 1);
    }
    if (this.sockets.length < this.size) {
      const s = this.open();
      this.sockets.push(s);
      return s;
    }
    this.next = (this.next + 1) % this.sockets.length;
    return this.sockets[this.next]!;
  }

  private open(): PooledSocket {
    const socket = dgram.createSocket(net.isIPv6(this.target.host) ? 'udp6' : 'udp4');
    socket.unref();
    const pending = new Map<number, Pending>();
    const pooled: PooledSocket = {
      socket,
      pending,
      failed: false,
      connected: false,
      ready: new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(this.target.port, this.target.host, () => {
          socket.off('error', reject);
          pooled.connected = true;
          resolve();
        });
      }),
    };
    pooled.ready.catch(() => {
      pooled.failed = true;
    });
    socket.on('message', (msg) => {
      // connected: the kernel delivers only datagrams from the server's address and port
      if (msg.length < 2) return;
      pending.get(msg.readUInt16BE(0))?.resolve({ ok: true, bytes: msg });
    });
    socket.on('error', (err) => this.retire(pooled, errorDetail(err)));
    return pooled;
  }

  /** Take a socket out of use: end its queries with `network-error` and close it. */
  private retire(pooled: PooledSocket, detail: string): void {
    pooled.failed = true;
    for (const p of [...pooled.pending.values()]) p.resolve({ ok: false, kind: 'network-error', detail });
    pooled.pending.clear();
    try {
      pooled.socket.close();
    } catch {
      // already closed
    }
  }

  private scheduleIdleClose(): void {
    if (this.inFlight() > 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.inFlight() === 0) this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }
}
