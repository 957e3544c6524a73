/**
 * Ports for the external lab servers (unbound, rbldnsd, Postfix, Dovecot, DynamoDB Local).
 *
 * Those servers cannot be told "bind port 0 and tell me": we find a free port, then hand it to a process that binds
 * it a moment later. If the port comes from the kernel's ephemeral range (`listen(0)`), any outgoing socket of any
 * test in the meantime (a DNS query's UDP socket, an HTTP client) can be given that very port, and the server then
 * dies with "Address already in use" (seen in CI: rbldnsd on 33823). So `freePort()` picks at random from the
 * ports *below* the ephemeral range, which the kernel never hands out on its own; and `retryOnPortClash()` restarts
 * a server on a new port in the rare case two test files picked the same one at the same moment.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Lowest port we pick: above the registered well-known services most machines run. */
const LOWEST = 20_000;

/** The first port of the kernel's ephemeral range (Linux default 32768), read once. */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const value = Number(low);
    if (Number.isInteger(value) && value > LOWEST + 1000) return value;
  } catch {
    // Not Linux, or no /proc: fall through to the IANA dynamic range's start.
  }
  return 32_768;
}

const HIGHEST = ephemeralStart() - 1;

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/**
 * A port on 127.0.0.1 that is free for both TCP and UDP right now (unbound and rbldnsd bind both), chosen at random
 * below the kernel's ephemeral range so no client socket can take it before the server binds it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST + 1));
    if ((await tcpFree(port)) && (await udpFree(port))) return port;
  }
  throw new Error(`no port between ${LOWEST} and ${HIGHEST} free for both TCP and UDP on 127.0.0.1 after 50 tries`);
}

/** Whether a start error says the port was taken (rbldnsd, unbound, Postfix, Dovecot, Java's BindException). */
export function isPortClash(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message}\n${String(err.cause ?? '')}` : String(err);
  return /address already in use|EADDRINUSE|BindException|could not bind|unable to bind/i.test(text);
}

/**
 * Runs `start` (which picks its own port with `freePort()`) and, when it fails because the port was taken between
 * the pick and the bind, runs it again, up to `attempts` times in all. Any other failure is thrown at once.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !isPortClash(err)) throw err;
    }
  }
}
