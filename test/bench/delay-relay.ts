/**
 * A UDP relay that adds latency, so a local unbound behaves like a resolver across a WAN: each query waits half the
 * delay before it is forwarded, and its answer is returned when the whole delay since the query's arrival is over. Queries go upstream over one socket with ids
 * the relay assigns (so concurrent queries with equal ids stay apart) and come back with their own. It counts the
 * queries it forwarded and the distinct questions (name, type) among them, so the benchmark can see on the wire
 * whether any name was asked twice, and how long it held each query. Loopback only.
 *
 * `startDelayRelay()` runs the relay in this process. `startDelayRelayProcess()` runs it in a child Node process
 * (this file is its entry point), so that its CPU time, timers and memory do not mix with the process being measured;
 * the child exits when the parent closes it or goes away (IPC disconnect).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';

type Timer = ReturnType<typeof setTimeout>;

export interface RelayCounts {
  /** Queries forwarded since the last reset. */
  readonly forwarded: number;
  /** Distinct `name/TYPE` questions among them (lower case, no trailing dot). */
  readonly distinct: number;
  /** Questions forwarded more than once, with how often (at most 20, most repeated first). */
  readonly repeated: readonly (readonly [question: string, count: number])[];
  /** Datagrams that could not be decoded as a DNS query. */
  readonly undecodable: number;
  /** Time from a query's arrival to its answer leaving the relay (the added latency plus unbound), ms. */
  readonly holdMs: { readonly mean: number; readonly max: number; readonly answered: number };
}

export interface DelayRelay {
  readonly port: number;
  counts(): RelayCounts;
  /** Forget the counts (between benchmark runs). */
  reset(): void;
  close(): Promise<void>;
}

function questionKey(msg: Buffer): string | undefined {
  try {
    const q = dnsPacket.decode(msg).questions?.[0];
    if (q === undefined) return undefined;
    const name = q.name.toLowerCase().replace(/\.$/, '');
    return `${name}/${q.type}`;
  } catch {
    return undefined;
  }
}

export async function startDelayRelay(upstreamPort: number, delayMs: number): Promise<DelayRelay> {
  const server = createSocket('udp4');
  const upstream = createSocket('udp4');
  /** Queries waiting for unbound, by the id the relay gave them upstream. */
  const pending = new Map<number, { id: number; port: number; address: string; arrived: number; expiry: Timer }>();
  const timers = new Set<Timer>();
  let closed = false;
  let nextId = 0;
  let forwarded = 0;
  let undecodable = 0;
  let seen = new Map<string, number>();
  let held = { sum: 0, max: 0, answered: 0 };
  const half = delayMs / 2;
  const later = (fn: () => void, ms: number): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) fn();
    }, ms);
    timers.add(timer);
  };
  const freeId = (): number | undefined => {
    for (let i = 0; i < 65536; i++) {
      nextId = (nextId + 1) & 0xffff;
      if (!pending.has(nextId)) return nextId;
    }
    return undefined;
  };

  server.on('message', (msg, client) => {
    const arrived = performance.now();
    forwarded++;
    const key = msg.length >= 12 ? questionKey(msg) : undefined;
    if (key === undefined) {
      undecodable++;
      return;
    }
    seen.set(key, (seen.get(key) ?? 0) + 1);
    later(() => {
      // One upstream socket for every query: each gets an id of its own upstream and its own back on the way out.
      const upId = freeId();
      if (upId === undefined) return;
      const expiry = setTimeout(() => pending.delete(upId), 10_000);
      pending.set(upId, { id: msg.readUInt16BE(0), port: client.port, address: client.address, arrived, expiry });
      const copy = Buffer.from(msg);
      copy.writeUInt16BE(upId, 0);
      upstream.send(copy, upstreamPort, '127.0.0.1');
    }, half);
  });
  upstream.on('message', (answer, from) => {
    if (from.port !== upstreamPort || answer.length < 12) return;
    const upId = answer.readUInt16BE(0);
    const query = pending.get(upId);
    if (query === undefined) return;
    pending.delete(upId);
    clearTimeout(query.expiry);
    answer.writeUInt16BE(query.id, 0);
    // The rest of the delay, counted from the query's arrival, so that timer lateness on the way in is not added twice.
    later(
      () => {
        server.send(answer, query.port, query.address);
        const hold = performance.now() - query.arrived;
        held.sum += hold;
        held.max = Math.max(held.max, hold);
        held.answered++;
      },
      Math.max(0, query.arrived + delayMs - performance.now()),
    );
  });
  // A send to a client that went away, an ICMP error from upstream: nothing to do (the client times out).
  server.on('error', () => {});
  upstream.on('error', () => {});
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: address.port,
    counts: () => {
      const repeated = [...seen]
        .filter(([, c]) => c > 1)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 20);
      const holdMs = { mean: held.answered ? held.sum / held.answered : 0, max: held.max, answered: held.answered };
      return { forwarded, distinct: seen.size, repeated, undecodable, holdMs };
    },
    reset: () => {
      forwarded = 0;
      undecodable = 0;
      seen = new Map();
      held = { sum: 0, max: 0, answered: 0 };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const q of pending.values()) clearTimeout(q.expiry);
      pending.clear();
      await Promise.all([
        new Promise<void>((resolve) => server.close(() => resolve())),
        new Promise<void>((resolve) => upstream.close(() => resolve())),
      ]);
    },
  };
}

/** The relay in a child process; `counts()` and `reset()` ask it over IPC. */
export interface DelayRelayProcess {
  readonly port: number;
  readonly pid: number;
  counts(): Promise<RelayCounts>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

type ToChild = { readonly op: 'counts' | 'reset' | 'close'; readonly seq: number };
type FromChild =
  | { readonly op: 'ready'; readonly port: number }
  | { readonly op: 'reply'; readonly seq: number; readonly counts?: RelayCounts };

/**
 * Fork this file as a relay process in front of `127.0.0.1:<upstreamPort>` and wait until it listens (10 s at most).
 * @throws Error when the child exits or does not report ready in time.
 */
export async function startDelayRelayProcess(upstreamPort: number, delayMs: number): Promise<DelayRelayProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [String(upstreamPort), String(delayMs)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (m: FromChild & { op: 'reply' }) => void>();
  let seq = 0;
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('delay relay did not start within 10 s'));
    }, 10_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`delay relay exited before it was ready (${code ?? signal})`));
    });
    child.on('message', (raw) => {
      const m = raw as FromChild;
      if (m.op === 'ready') {
        clearTimeout(timer);
        resolve(m.port);
      } else {
        pending.get(m.seq)?.(m);
        pending.delete(m.seq);
      }
    });
  });
  const ask = (op: ToChild['op']): Promise<FromChild & { op: 'reply' }> =>
    new Promise((resolve, reject) => {
      if (exited || !child.connected) {
        reject(new Error('delay relay is not running'));
        return;
      }
      const message: ToChild = { op, seq: ++seq };
      pending.set(message.seq, resolve);
      child.send(message);
    });
  let closing: Promise<void> | undefined;
  return {
    port,
    pid: child.pid ?? -1,
    counts: async () => {
      const reply = await ask('counts');
      if (reply.counts === undefined) throw new Error('delay relay sent no counts');
      return reply.counts;
    },
    reset: async () => {
      await ask('reset');
    },
    close: () => {
      closing ??= (async () => {
        if (exited) return;
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        if (child.connected) child.send({ op: 'close', seq: ++seq } satisfies ToChild);
        else child.kill('SIGTERM');
        await gone;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}

async function childMain(): Promise<void> {
  const [upstream, delay] = process.argv.slice(2).map(Number);
  if (!upstream || delay === undefined || Number.isNaN(delay) || !process.send) {
    console.error('usage: forked by startDelayRelayProcess(upstreamPort, delayMs)');
    process.exit(2);
  }
  const relay = await startDelayRelay(upstream, delay);
  const send = (m: FromChild): void => {
    process.send?.(m);
  };
  const shutdown = async (): Promise<void> => {
    await relay.close();
    process.disconnect?.();
  };
  process.on('disconnect', () => {
    void relay.close();
  });
  process.on('message', (raw) => {
    const m = raw as ToChild;
    if (m.op === 'counts') send({ op: 'reply', seq: m.seq, counts: relay.counts() });
    else if (m.op === 'reset') {
      relay.reset();
      send({ op: 'reply', seq: m.seq });
    } else void shutdown();
  });
  send({ op: 'ready', port: relay.port });
}

if (import.meta.main) await childMain();
