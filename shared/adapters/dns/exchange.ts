/**
 * One DNS message exchange over TCP (node:net, RFC 1035 §4.2.2 two-byte length framing), and the types UDP shares
 * (UDP exchanges go through the socket pool in `udp-pool.ts`). Only bytes move here; `wire.ts` gives them meaning.
 *
 * Error contract: the returned promise resolves with the answer bytes or with a `timeout`/`network-error` outcome;
 * it rejects only with `signal.reason` when the caller's signal aborts. Every socket and timer is released before
 * the promise settles.
 */
import net from 'node:net';

export type ExchangeOutcome =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly kind: 'timeout' | 'network-error'; readonly detail: string };

export interface ExchangeTarget {
  /** An IP literal without brackets. */
  readonly host: string;
  readonly port: number;
}

export interface ExchangeOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Called for every datagram or TCP query actually sent (for the `queriesSent` statistic). */
  readonly onSend?: () => void;
}

/** A stable, secret-free description of a socket error: its code when it has one. */
export function errorDetail(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return typeof code === 'string' ? code : err.message;
  }
  return String(err);
}

/** Send `query` over a new TCP connection with two-byte length framing and read one framed answer. */
export function tcpExchange(target: ExchangeTarget, query: Buffer, options: ExchangeOptions): Promise<ExchangeOutcome> {
  const { signal, timeoutMs, onSend } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const socket = net.connect({ host: target.host, port: target.port });
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;

    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      finish();
    };
    const onAbort = (): void => settle(() => reject(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () => settle(() => resolve({ ok: false, kind: 'timeout', detail: `no TCP answer within ${timeoutMs} ms` })),
      timeoutMs,
    );

    socket.on('connect', () => {
      const frame = Buffer.alloc(query.length + 2);
      frame.writeUInt16BE(query.length, 0);
      query.copy(frame, 2);
      onSend?.();
      socket.write(frame);
    });
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      received += data.length;
      if (received < 2) return;
      const all = Buffer.concat(chunks);
      const length = all.readUInt16BE(0);
      if (all.length >= length + 2) settle(() => resolve({ ok: true, bytes: all.subarray(2, length + 2) }));
    });
    socket.on('error', (err) =>
      settle(() => resolve({ ok: false, kind: 'network-error', detail: `TCP ${errorDetail(err)}` })),
    );
    socket.on('close', () =>
      settle(() =>
        resolve({ ok: false, kind: 'network-error', detail: 'TCP connection closed before a complete answer' }),
      ),
    );
  });
}
