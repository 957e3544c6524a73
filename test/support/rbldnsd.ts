/**
 * A private rbldnsd (Debian's /usr/sbin/rbldnsd, a real DNSBL server) on loopback for integration tests, serving the
 * zones given as data-file contents. See LAB-NOTES.md, "rbldnsd".
 *
 * rbldnsd speaks **UDP only** (man page, BUGS: "There is no TCP mode"; an answer that does not fit in 512 bytes is
 * silently dropped): query it with `UdpResolver` (UDP transport), never TCP, and keep answers small. The port is picked
 * with `freePort()` from unbound.ts (free for UDP and TCP).
 *
 * Behaviour worth knowing (measured with rbldnsd 1.0pre, snapshot 20210120):
 * - Listed → NOERROR with one A per matching dataset (e.g. 127.0.0.2 and 127.0.0.4), TTL 2100 s (35 min, `-t`);
 *   the TXT query returns one TXT per matching dataset, with `$` replaced by the IP. Not listed, excluded (`!IP`),
 *   and partial names such as `2.0.192.<zone>` → NXDOMAIN. The zone apex, or a listed IP asked for AAAA → NOERROR
 *   with no records (NODATA). A name outside every zone, and the apex SOA when no `$SOA` line is given → REFUSED.
 * - No `$SOA` line → negative answers carry no SOA (not cacheable); add `$SOA 0 ns.x. admin.x. 0 1h 1h 1d 1m` to a
 *   data file when a test needs one.
 * - Several data files in one zone entry (`zone:type:f1,f2`) form one dataset, but a default `:A:TXT` line holds only
 *   to the end of its own file (a file without one answers 127.0.0.2 and no TXT); repeating the zone name (two
 *   entries) makes two datasets. Either way an IP listed in two files gets both A records (and both TXTs).
 * - A bad data line is only a warning in the log (`file z0-f0.txt(1): invalid address`), never a start failure:
 *   `ip4set` rejects `0.0.0.0/0` that way (the zone then lists nothing), so use `ip4trie` for `0.0.0.0/0` (a zone
 *   that answers every query), and `ip6trie` for IPv6 nibble names. Check `log()` when a listing seems missing.
 * - `log()` has one line per query: `<unix time> <client ip> <qname> <qtype> IN: <RCODE>/<answers>/<bytes>`.
 *
 * The child can never outlive the test process: it is started through a tiny `sh` watchdog that holds the read end
 * of a pipe from this process and, when the pipe closes (this process exiting, crashing or being SIGKILLed closes
 * it), sends rbldnsd SIGTERM and removes its directory; the shell `exec`s rbldnsd, so the child's pid is rbldnsd's.
 *
 * Skip policy (as unbound.ts): when rbldnsd is missing or fails to start, a suite skips with a visible reason on a
 * developer machine, and fails loudly when `CI` is set:
 *
 * ```ts
 * const rbldnsd = rbldnsdAvailable();
 * describe.skipIf(!rbldnsd.ok)(`… against rbldnsd${rbldnsd.ok ? '' : ` (SKIPPED: ${rbldnsd.reason})`}`, () => {
 *   const bl = useRbldnsd({ zones: [{ name: 'zen.bl.test', type: 'ip4set', files: [':127.0.0.2:Listed $\n192.0.2.1\n'] }] });
 *   it('lists', async () => { const { port } = bl(); … });
 * });
 * ```
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UdpResolver } from '../../shared/adapters/dns/udp-resolver.ts';
import { freePort, retryOnPortClash } from './ports.ts';
import type { Availability } from './unbound.ts';
import { terminate, useServer } from './use-server.ts';

export type { Availability } from './unbound.ts';

/** rbldnsd's dataset types (`rbldnsd -h`). */
export type RbldnsdDatasetType =
  | 'ip4set'
  | 'ip4tset'
  | 'ip4trie'
  | 'ip6tset'
  | 'ip6trie'
  | 'dnset'
  | 'combined'
  | 'generic'
  | 'acl';

export interface RbldnsdZone {
  /** Zone name without trailing dot, e.g. `zen.bl.test`. The same name may appear in several entries (datasets). */
  readonly name: string;
  readonly type: RbldnsdDatasetType;
  /** Data file contents, one string per file; all become `name:type:file1,file2` (read as one concatenated file). */
  readonly files: readonly string[];
}

export interface RbldnsdOptions {
  readonly zones: readonly RbldnsdZone[];
  /** Default TTL of answers (`-t`, e.g. `60` or `35m`); rbldnsd's default is 35m (2100 s). */
  readonly ttl?: string;
}

export interface RbldnsdServer {
  /** UDP port on 127.0.0.1 (rbldnsd has no TCP). */
  readonly port: number;
  /** Milliseconds from spawn to the first answered query. */
  readonly startupMs: number;
  /** The process id of rbldnsd. */
  readonly pid: number;
  /** The directory holding the data files (removed by `stop()`, or by the watchdog if this process dies). */
  readonly dir: string;
  /** rbldnsd's output so far: its load messages and one line per query answered (`-l +-`). */
  log(): string;
  /** Kill rbldnsd (SIGTERM, then SIGKILL after 3 s) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Thrown when rbldnsd is installed but does not come up. */
export class RbldnsdStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RbldnsdStartError';
  }
}

/**
 * `extraServerLines` for `startUnbound`/`useUnbound` when a stub zone points at rbldnsd (later lines override
 * unbound.ts's defaults). Without them unbound answers SERVFAIL:
 * - QNAME minimisation asks rbldnsd for `192.zen.bl.test` first; rbldnsd answers NXDOMAIN for such empty
 *   non-terminals, and unbound 1.17 then answers SERVFAIL for every name below, listed or not.
 * - unbound.ts caps `infra-cache-max-rtt` at 200 ms (so dead stubs fail fast); a stub's RTT estimate after its first
 *   answer is ~280 ms, above the cap, so unbound stops asking it ("No more query targets") and answers SERVFAIL to
 *   everything after the first query.
 */
export const UNBOUND_LINES_FOR_RBLDNSD: readonly string[] = ['qname-minimisation: no', 'infra-cache-max-rtt: 120000'];

const READY_TIMEOUT_MS = 10_000;
const MAX_LOG_CHARS = 200_000;

/**
 * Runs as `sh -c WATCHDOG rbldnsd-watchdog BINARY ARGS…` with `RBLDNSD_DIR` set: fd 0 is a pipe from the test
 * process. A background subshell keeps it (as fd 3) and, at EOF, sends SIGTERM to `$$` (the shell's pid, which
 * `exec` hands to rbldnsd), waits for it to go and removes the directory.
 */
const WATCHDOG = [
  'exec 3<&0',
  '( cat <&3 >/dev/null 2>&1; kill -TERM $$ 2>/dev/null',
  '  while kill -0 $$ 2>/dev/null; do sleep 0.1 2>/dev/null || sleep 1; done',
  '  rm -rf "$RBLDNSD_DIR" ) </dev/null >/dev/null 2>&1 &',
  'exec "$@" </dev/null 3<&-',
].join('\n');

function findBinary(): string | undefined {
  const fromEnv = process.env.RBLDNSD_BIN;
  if (fromEnv) return fromEnv;
  for (const candidate of ['/usr/sbin/rbldnsd', '/usr/local/sbin/rbldnsd', '/opt/homebrew/sbin/rbldnsd']) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v rbldnsd'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

const runningAsRoot = (): boolean => process.getuid?.() === 0;

function checkAvailability(): Availability {
  const binary = findBinary();
  if (binary === undefined) return { ok: false, reason: 'rbldnsd is not installed (apt-get install rbldnsd)' };
  // `-h` prints the usage and exits non-zero; the banner proves the binary runs.
  const help = spawnSync(binary, ['-h'], { encoding: 'utf8' });
  if (help.error || !`${help.stdout}${help.stderr}`.includes('rbl dns daemon')) {
    return { ok: false, reason: `${binary} -h failed: ${help.error?.message ?? `${help.stdout}${help.stderr}`}` };
  }
  if (runningAsRoot() && spawnSync('id', ['nobody']).status !== 0) {
    return { ok: false, reason: 'rbldnsd refuses to run as root and there is no user `nobody` to run it as' };
  }
  return { ok: true, binary };
}

/**
 * Whether rbldnsd is usable here. Synchronous, for `describe.skipIf`.
 * @throws Error when it is not and `process.env.CI` is set: CI must never skip these tests.
 */
export function rbldnsdAvailable(): Availability {
  const result = checkAvailability();
  if (!result.ok && process.env.CI) {
    throw new Error(
      `rbldnsd integration tests cannot run in CI: ${result.reason}. Install it: apt-get install -y rbldnsd`,
    );
  }
  if (!result.ok) console.warn(`[rbldnsd] integration tests SKIPPED: ${result.reason}`);
  return result;
}

function checkZone(zone: RbldnsdZone): void {
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)*$/i.test(zone.name)) {
    throw new TypeError(`rbldnsd zone name must be a plain domain without trailing dot, got ${zone.name}`);
  }
  if (zone.files.length === 0) throw new TypeError(`rbldnsd zone ${zone.name} needs at least one data file`);
}

/**
 * Start rbldnsd serving `options.zones` on a free UDP port and wait (up to 10 s) until it answers a query for
 * `2.0.0.127.<first zone>` (any real answer: listed, NXDOMAIN or NODATA; REFUSED would mean the zone is missing).
 * Runs rbldnsd as `nobody` when this process is root (it refuses root): its directory is mode 755, files 644.
 * @throws RbldnsdStartError (with rbldnsd's output) when it exits or does not answer in time.
 * Restarted on another port (up to 3 tries) when the port is taken between the pick and the bind.
 */
export function startRbldnsd(options: RbldnsdOptions): Promise<RbldnsdServer> {
  return retryOnPortClash(() => startRbldnsdOnce(options));
}

async function startRbldnsdOnce(options: RbldnsdOptions): Promise<RbldnsdServer> {
  const first = options.zones[0];
  if (first === undefined) throw new TypeError('rbldnsd needs at least one zone');
  for (const zone of options.zones) checkZone(zone);
  const availability = checkAvailability();
  if (!availability.ok) throw new RbldnsdStartError(availability.reason);

  const dir = await mkdtemp(join(tmpdir(), 'relaywatch-rbldnsd-'));
  let child: ChildProcess | undefined;
  let output = '';
  let exited: { code: number | null; signal: string | null } | undefined;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      const proc = child;
      await terminate(proc);
      // Closing the pipe ends the watchdog subshell (its `kill` then finds nothing: rbldnsd is gone).
      proc?.stdin?.destroy();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await chmod(dir, 0o755);
    const zoneArgs: string[] = [];
    for (const [z, zone] of options.zones.entries()) {
      const names: string[] = [];
      for (const [f, content] of zone.files.entries()) {
        const name = `z${z}-f${f}.txt`;
        const path = join(dir, name);
        await writeFile(path, content.endsWith('\n') ? content : `${content}\n`);
        await chmod(path, 0o644);
        names.push(name);
      }
      zoneArgs.push(`${zone.name}:${zone.type}:${names.join(',')}`);
    }
    const port = await freePort();
    const args = [
      '-n',
      ...(runningAsRoot() ? ['-u', 'nobody'] : []),
      '-w',
      dir,
      '-b',
      `127.0.0.1/${port}`,
      '-p',
      join(dir, 'rbldnsd.pid'),
      // Log every query and answer to stdout, line-buffered.
      '-l',
      '+-',
      // Never reload data files behind a test's back.
      '-c',
      '0',
      ...(options.ttl === undefined ? [] : ['-t', options.ttl]),
      ...zoneArgs,
    ];

    const started = performance.now();
    const proc = spawn('sh', ['-c', WATCHDOG, 'rbldnsd-watchdog', availability.binary, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, RBLDNSD_DIR: dir },
    });
    child = proc;
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_LOG_CHARS) output += chunk.toString('utf8');
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    // An EPIPE on our end of the watchdog pipe must not crash the test process.
    proc.stdin?.on('error', () => {});
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
    });
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });

    const udp = new UdpResolver({ host: '127.0.0.1', port, timeoutMs: 250, attempts: 1 });
    try {
      const deadline = started + READY_TIMEOUT_MS;
      let lastProblem = 'no answer yet';
      for (;;) {
        if (spawnError) throw new RbldnsdStartError(`cannot run ${availability.binary}: ${spawnError.message}`);
        if (exited) {
          throw new RbldnsdStartError(
            `rbldnsd exited (${exited.code ?? exited.signal}) before answering: ${availability.binary} ${args.join(' ')}\n${output}`,
          );
        }
        const probe = await udp.query(`2.0.0.127.${first.name}`, 'A');
        if (probe.kind === 'answer' || probe.kind === 'nxdomain' || probe.kind === 'nodata') break;
        lastProblem = `${probe.kind}: ${probe.detail}`;
        if (performance.now() > deadline) {
          throw new RbldnsdStartError(
            `rbldnsd did not answer within ${READY_TIMEOUT_MS} ms (${lastProblem}):\n${output}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const startupMs = Math.round(performance.now() - started);
      return { port, startupMs, pid: proc.pid ?? 0, dir, log: () => output, stop };
    } finally {
      udp.close();
    }
  } catch (err) {
    await stop();
    throw err instanceof RbldnsdStartError
      ? err
      : new RbldnsdStartError(`cannot start rbldnsd: ${String(err)}`, { cause: err });
  }
}

/**
 * Registers beforeAll/afterAll hooks that start and stop rbldnsd for the current `describe`, and returns a getter.
 * `options` may be a function, called in `beforeAll`.
 * If rbldnsd fails to start: with `CI` set the hook fails (loud); otherwise every test of the suite is skipped with
 * the reason (and a console warning).
 */
export function useRbldnsd(
  options: RbldnsdOptions | (() => RbldnsdOptions | Promise<RbldnsdOptions>),
): () => RbldnsdServer {
  return useServer('rbldnsd', startRbldnsd, options);
}
