/**
 * A private unbound (Debian's /usr/sbin/unbound) on loopback for integration tests: UDP/TCP on one free port and
 * RFC 8484 DoH (HTTP/2 only, self-signed cert) on another, serving `local-data`, optional auth zones (for real CNAME
 * chains) and stub zones, and nothing else (`local-zone: "." static`, so nothing ever leaves the machine).
 * See LAB-NOTES.md, "unbound". Traps handled here: the built-in `test.` zone (`nodefault`), local zones hiding stubs
 * (`transparent`), and `discard-timeout` (unbound 1.17+ drops any reply that took over 1.9 s, so a dead stub's
 * SERVFAIL never arrives unless it is disabled).
 *
 * Skip policy: when unbound (or openssl, or DoH support) is missing, or it fails to start, a suite skips with a visible
 * reason on a developer machine, and fails loudly when `CI` is set (CI must never skip). Use `unboundAvailable()` for
 * the static check and `useUnbound()` for the hooks:
 *
 * ```ts
 * const unbound = unboundAvailable();
 * describe.skipIf(!unbound.ok)(`… against unbound${unbound.ok ? '' : ` (SKIPPED: ${unbound.reason})`}`, () => {
 *   const lab = useUnbound({ localData: ['a.test. 300 IN A 192.0.2.1'], localZones: [['a.test.', 'static']] });
 *   it('answers', async () => { const { udpPort } = lab(); … });
 * });
 * ```
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DohResolver } from '../../shared/adapters/dns/doh-resolver.ts';
import { UdpResolver } from '../../shared/adapters/dns/udp-resolver.ts';
import { isFailure } from '../../shared/ports/dns-resolver.ts';
import { freePort, retryOnPortClash } from './ports.ts';
import { makeSelfSignedCert } from './tls-cert.ts';
import { terminate, useServer } from './use-server.ts';

export interface UnboundOptions {
  /** Raw `local-data` RRs, e.g. `example.test. 300 IN TXT "part one" "part two"` (no single quotes inside). */
  readonly localData: readonly string[];
  /** `local-zone` lines as [zone, type], e.g. `['example.test.', 'static']`, `['refused.test.', 'refuse']`. */
  readonly localZones?: ReadonlyArray<readonly [zone: string, type: string]>;
  /** Stub zones; each also gets a `transparent` local zone so `local-zone: "." static` does not hide it. */
  readonly stubs?: ReadonlyArray<{ readonly zone: string; readonly addr: string }>;
  /**
   * Zones served from zone files through unbound's iterator (`auth-zone` with `for-upstream: yes`), as from a real
   * authoritative server: unlike `local-data`, CNAME chains across them are followed (local-data CNAMEs never are).
   * `records` are RR lines with absolute names; include an SOA.
   */
  readonly authZones?: ReadonlyArray<{ readonly zone: string; readonly records: readonly string[] }>;
  /** Serve DoH on a second port (default true). */
  readonly doh?: boolean;
  /** Extra raw `server:` lines. */
  readonly extraServerLines?: readonly string[];
}

export interface UnboundServer {
  /** UDP and TCP port on 127.0.0.1. */
  readonly udpPort: number;
  /** `https://127.0.0.1:<port>/dns-query`, or '' when `doh: false`. */
  readonly dohUrl: string;
  /** The self-signed certificate (PEM) to trust for `dohUrl`, or '' when `doh: false`. */
  readonly ca: string;
  /** Milliseconds from spawn to the first answered query. */
  readonly startupMs: number;
  /** unbound's log so far (for failure messages). */
  log(): Promise<string>;
  /** Kill unbound (SIGTERM, then SIGKILL after 3 s) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

export type Availability =
  | { readonly ok: true; readonly binary: string }
  | { readonly ok: false; readonly reason: string };

/** Thrown when unbound is installed but does not come up. */
export class UnboundStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnboundStartError';
  }
}

const READY_TIMEOUT_MS = 10_000;

function findBinary(): string | undefined {
  const fromEnv = process.env.UNBOUND_BIN;
  if (fromEnv) return fromEnv;
  for (const candidate of ['/usr/sbin/unbound', '/usr/local/sbin/unbound', '/opt/homebrew/sbin/unbound']) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v unbound'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

/**
 * Whether unbound (with DoH support) and openssl are usable here. Synchronous, for `describe.skipIf`.
 * @throws Error when they are not and `process.env.CI` is set: CI must never skip these tests.
 */
export function unboundAvailable(): Availability {
  const result = checkAvailability();
  if (!result.ok && process.env.CI) {
    throw new Error(
      `unbound integration tests cannot run in CI: ${result.reason}. Install it: apt-get install -y unbound`,
    );
  }
  if (!result.ok) console.warn(`[unbound] integration tests SKIPPED: ${result.reason}`);
  return result;
}

function checkAvailability(): Availability {
  const binary = findBinary();
  if (binary === undefined) return { ok: false, reason: 'unbound is not installed (apt-get install unbound)' };
  const version = spawnSync(binary, ['-V'], { encoding: 'utf8' });
  if (version.status !== 0) return { ok: false, reason: `${binary} -V failed: ${version.stderr || version.error}` };
  if (!version.stdout.includes('nghttp2')) return { ok: false, reason: `${binary} was built without DoH (libnghttp2)` };
  const openssl = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (openssl.status !== 0) return { ok: false, reason: 'openssl is not installed (needed for the DoH certificate)' };
  return { ok: true, binary };
}

function quoteData(rr: string): string {
  if (rr.includes("'")) throw new TypeError(`local-data may not contain a single quote: ${rr}`);
  return `'${rr}'`;
}

function configText(dir: string, udpPort: number, dohPort: number | undefined, options: UnboundOptions): string {
  const lines = [
    'server:',
    '  verbosity: 1',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${join(dir, 'unbound.pid')}"`,
    `  logfile: "${join(dir, 'unbound.log')}"`,
    '  use-syslog: no',
    '  num-threads: 1',
    '  do-not-query-localhost: no',
    '  access-control: 127.0.0.0/8 allow',
    '  module-config: "iterator"',
    `  interface: 127.0.0.1@${udpPort}`,
    // Test data changes between runs: never serve from cache.
    '  cache-max-ttl: 0',
    '  cache-max-negative-ttl: 0',
    // unbound 1.17+ silently drops replies to queries older than 1.9 s (discard-timeout): a slow SERVFAIL would never
    // arrive. 0 disables that; the two below make a dead stub fail in ~0.4 s instead of ~17 s.
    '  discard-timeout: 0',
    '  outbound-msg-retry: 1',
    '  infra-cache-max-rtt: 200',
    '  infra-host-ttl: 1',
  ];
  if (dohPort !== undefined) {
    lines.push(
      `  interface: 127.0.0.1@${dohPort}`,
      `  https-port: ${dohPort}`,
      `  tls-service-key: "${join(dir, 'key.pem')}"`,
      `  tls-service-pem: "${join(dir, 'cert.pem')}"`,
    );
  }
  // unbound's built-in `test.` zone would answer NXDOMAIN for everything below it; "." static keeps us offline.
  lines.push('  local-zone: "test." nodefault', '  local-zone: "." static');
  for (const [zone, type] of options.localZones ?? []) lines.push(`  local-zone: "${zone}" ${type}`);
  for (const stub of options.stubs ?? []) lines.push(`  local-zone: "${stub.zone}" transparent`);
  for (const auth of options.authZones ?? []) lines.push(`  local-zone: "${auth.zone}" transparent`);
  for (const rr of options.localData) lines.push(`  local-data: ${quoteData(rr)}`);
  lines.push(...(options.extraServerLines ?? []).map((l) => `  ${l}`));
  for (const stub of options.stubs ?? [])
    lines.push('stub-zone:', `  name: "${stub.zone}"`, `  stub-addr: ${stub.addr}`);
  for (const auth of options.authZones ?? []) {
    lines.push(
      'auth-zone:',
      `  name: "${auth.zone}"`,
      `  zonefile: "${zoneFilePath(dir, auth.zone)}"`,
      '  for-downstream: no',
      '  for-upstream: yes',
      '  fallback-enabled: no',
    );
  }
  return `${lines.join('\n')}\n`;
}

function zoneFilePath(dir: string, zone: string): string {
  return join(dir, `${zone.replace(/[^a-z0-9.-]/gi, '_')}zone`);
}

/**
 * Start unbound with the given data and wait until it answers over UDP (and DoH when enabled), up to 10 s.
 * @throws UnboundStartError (with unbound's output and log) when it exits or does not answer in time.
 * Restarted on another port (up to 3 tries) when the port is taken between the pick and the bind.
 */
export function startUnbound(options: UnboundOptions): Promise<UnboundServer> {
  return retryOnPortClash(() => startUnboundOnce(options));
}

async function startUnboundOnce(options: UnboundOptions): Promise<UnboundServer> {
  const availability = checkAvailability();
  if (!availability.ok) throw new UnboundStartError(availability.reason);
  const withDoh = options.doh ?? true;
  const dir = await mkdtemp(join(tmpdir(), 'relaywatch-unbound-'));
  const logPath = join(dir, 'unbound.log');
  const readLog = () => readFile(logPath, 'utf8').catch(() => '');
  let child: ChildProcess | undefined;
  let output = '';
  let exited: { code: number | null; signal: string | null } | undefined;

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    await terminate(proc);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const ca = withDoh ? (await makeSelfSignedCert(dir)).cert : '';
    const udpPort = await freePort();
    const dohPort = withDoh ? await freePort() : undefined;
    const confPath = join(dir, 'unbound.conf');
    for (const auth of options.authZones ?? []) {
      await writeFile(zoneFilePath(dir, auth.zone), `${auth.records.join('\n')}\n`);
    }
    await writeFile(confPath, configText(dir, udpPort, dohPort, options));

    const started = performance.now();
    const proc = spawn(availability.binary, ['-d', '-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const collect = (chunk: Buffer) => {
      if (output.length < 20_000) output += chunk.toString('utf8');
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
    });
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });

    const dohUrl = dohPort === undefined ? '' : `https://127.0.0.1:${dohPort}/dns-query`;
    const udp = new UdpResolver({ host: '127.0.0.1', port: udpPort, timeoutMs: 250, attempts: 1 });
    const doh = dohPort === undefined ? undefined : new DohResolver({ url: dohUrl, ca, timeoutMs: 1000 });
    try {
      const deadline = started + READY_TIMEOUT_MS;
      let lastProblem = 'no answer yet';
      for (;;) {
        if (spawnError) throw new UnboundStartError(`cannot run ${availability.binary}: ${spawnError.message}`);
        if (exited) {
          throw new UnboundStartError(
            `unbound exited (${exited.code ?? exited.signal}) before answering:\n${output}\n${await readLog()}`,
          );
        }
        // Any DNS answer (even NXDOMAIN) proves the listener works; `localhost.` is one of unbound's built-in zones.
        const viaUdp = await udp.query('localhost', 'A');
        const viaDoh =
          doh && viaUdp.kind !== 'timeout' && viaUdp.kind !== 'network-error'
            ? await doh.query('localhost', 'A')
            : undefined;
        const ready = !isFailure(viaUdp) && (doh === undefined || (viaDoh !== undefined && !isFailure(viaDoh)));
        if (ready) break;
        lastProblem = `udp: ${viaUdp.kind}${viaDoh ? `, doh: ${viaDoh.kind}` : ''}`;
        if (performance.now() > deadline) {
          throw new UnboundStartError(
            `unbound did not answer within ${READY_TIMEOUT_MS} ms (${lastProblem}):\n${output}\n${await readLog()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const startupMs = Math.round(performance.now() - started);
      return { udpPort, dohUrl, ca, startupMs, log: readLog, stop };
    } finally {
      await doh?.close();
    }
  } catch (err) {
    await stop();
    throw err instanceof UnboundStartError
      ? err
      : new UnboundStartError(`cannot start unbound: ${String(err)}`, { cause: err });
  }
}

/**
 * Registers beforeAll/afterAll hooks that start and stop unbound for the current `describe`, and returns a getter.
 * `options` may be a function, called in `beforeAll` (e.g. to pick free ports for dead stubs).
 * If unbound fails to start: with `CI` set the hook fails (loud); otherwise every test of the suite is skipped with the
 * reason (and a console warning).
 */
export function useUnbound(
  options: UnboundOptions | (() => UnboundOptions | Promise<UnboundOptions>),
): () => UnboundServer {
  return useServer('unbound', startUnbound, options);
}
