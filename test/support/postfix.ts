/**
 * A private Postfix (Debian's package: /usr/sbin/postfix, /usr/sbin/postconf) on loopback for integration tests, set
 * up to answer like Exchange Online does: a client access map that rejects the client IP with Microsoft's own text
 * (e.g. 5.7.606 banned sending IP), a recipient access map (e.g. 5.7.64 TenantAttribution), optional STARTTLS, and
 * every accepted message is discarded (`discard:lab`), so nothing is ever delivered anywhere.
 *
 * Each instance has its own temp directory (`dir`): `etc/` (main.cf, master.cf, the maps), `queue/` (queue_directory,
 * root-owned, subdirectories made by Postfix's own `post-install create-missing` during `postfix check`) and `data/`
 * (data_directory, owned by `postfix`). It is run as `postfix -c DIR/etc start-fg` in the background, logs to its
 * stdout (`maillog_file = /dev/stdout`, no syslog needed) which `log()` returns, and listens only on one free port of
 * 127.0.0.1 (its own master.cf service `127.0.0.1:PORT inet … smtpd`). The system's mail service and /etc/postfix are
 * never touched: `postconf -e` is never run on /etc/postfix/main.cf (which, with Debian's "No configuration" preseed,
 * does not even exist).
 *
 * Facts learned on Debian bookworm (Postfix 3.7.11), where LAB-NOTES.md ("Postfix as an Exchange-like MTA") differs:
 * - `alternate_config_directories` in /etc/postfix/main.cf is NOT needed. Postfix only checks it when the config
 *   directory comes from `-c`/MAIL_CONFIG and the process is not root (and for the set-gid postdrop/postqueue, which
 *   these tests never use). As root, `postfix -c DIR/etc start-fg` works with no /etc/postfix/main.cf at all.
 * - `maillog_file = /dev/stdout` works only when stdout is a file or a real pipe. Node's `stdio: 'pipe'` is a UNIX
 *   socketpair, on which opening /dev/stdout fails with ENXIO: `postfix start-fg` then exits 1 and prints nothing
 *   (the postfix command writes its errors only to the log it cannot open, and to stderr only when that is a tty).
 *   This is the "fails silently" of LAB-NOTES, seen here with no syslog at all. So stdout and stderr are a log file
 *   in `dir` (`log()` reads it).
 * - `start-fg` (when not PID 1) runs `master -s` as a child of postfix-script, and master makes itself a session
 *   leader: killing our child does not stop Postfix. So `stop()` runs `postfix -c DIR/etc stop` (also with its output
 *   in the log file: through a Node pipe every `master -t` of its wait loop fails, and the stop takes 15 s instead of
 *   0.1 s), and the child is started through a small `sh` watchdog (as rbldnsd.ts) that stops Postfix and removes the
 *   directory when this process dies without calling `stop()`. The watchdog's pipe is fd 3, not stdin: Node destroys a
 *   child's stdin when the child exits, which here happens as soon as master is killed, so a stdin watchdog removed
 *   the directory under the still-running `postfix stop`.
 * - `smtpd_relay_restrictions = permit` alone is fatal for smtpd ("specify at least one working instance of:
 *   reject_unauth_destination, …"), and it shows only when a client connects: master then throttles smtpd for 60 s and
 *   the client just waits for a banner that never comes. Hence `permit_mynetworks, reject_unauth_destination` with
 *   `mynetworks = 127.0.0.0/8` (every loopback client may relay to any domain), and readiness means "a complete greeting";
 *   any `fatal:` in the log fails the start at once, with the log.
 * - `start`/`start-fg` run `postfix check` first (post-install create-missing, postsuper, permission scans): about
 *   3 s of the start-up time here.
 * - Debian's master.cf runs most services chrooted (column 5 `y`), which needs copies of /etc files inside the queue
 *   directory; this instance writes its own minimal master.cf with no chroot.
 * - The reject reply is prefixed by Postfix: `550 5.7.606 <localhost[127.0.0.1]>: Client host rejected: Access
 *   denied, …` (and `550 5.7.64 <rcpt>: Recipient address rejected: TenantAttribution; …`), as LAB-NOTES says. With
 *   the default `smtpd_delay_reject = yes` a client-map reject is answered at RCPT TO, not at connect or MAIL FROM;
 *   with `extraMainCf: ['smtpd_delay_reject = no']` smtpd sends that reject reply instead of its 220 greeting.
 * - After `stop()`, Postfix's daemons (pickup, qmgr, postlogd, …) are re-parented to PID 1 as they exit; where PID 1
 *   reaps lazily (some container/microVM inits) they can show as `<defunct>` for a while: not running.
 * - A system /etc/postfix/main.cf with `multi_instance_directories` makes `start-fg` refuse to run (postfix-script:
 *   "start-fg does not support multi_instance_directories"); the start error then shows that line.
 *
 * Skip policy (as unbound.ts/rbldnsd.ts): when Postfix is missing, this process is not root, or it fails to start, a
 * suite skips with a visible reason on a developer machine, and fails loudly when `CI` is set:
 *
 * ```ts
 * const postfix = postfixAvailable();
 * describe.skipIf(!postfix.ok)(`… against Postfix${postfix.ok ? '' : ` (SKIPPED: ${postfix.reason})`}`, () => {
 *   const mta = usePostfix({ bannedCidr: [{ cidr: '127.0.0.1', reply: '550 5.7.606 Access denied, banned sending IP [127.0.0.1]. …' }] });
 *   it('rejects', async () => { const { host, port } = mta(); … });
 * });
 * ```
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { freePort } from './ports.ts';
import type { Availability } from './unbound.ts';
import { useServer } from './use-server.ts';

export type { Availability } from './unbound.ts';

export interface PostfixOptions {
  /**
   * `check_client_access cidr:` entries (smtpd_client_restrictions): a client address or CIDR and the full reply,
   * e.g. `{ cidr: '127.0.0.1', reply: '550 5.7.606 Access denied, banned sending IP [127.0.0.1]. …' }`. Postfix puts
   * `<name[ip]>: Client host rejected: ` between the codes and the text, and answers at RCPT TO (smtpd_delay_reject).
   */
  readonly bannedCidr?: ReadonlyArray<{ readonly cidr: string; readonly reply: string }>;
  /**
   * `check_recipient_access` entries (smtpd_recipient_restrictions): an address (or domain, as in any Postfix access
   * map) and the full reply, e.g. `550 5.7.64 TenantAttribution; Relay Access Denied [...]`.
   */
  readonly rcptRejects?: ReadonlyArray<{ readonly address: string; readonly reply: string }>;
  /** Offer STARTTLS (`smtpd_tls_security_level = may`) with this certificate; without it STARTTLS is not offered. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Postfix's `myhostname` (the banner and EHLO name); default `mx.relaywatch.test`. */
  readonly myhostname?: string;
  /** Extra main.cf lines (`name = value`); each replaces the default of the same name, e.g. `smtpd_delay_reject = no`. */
  readonly extraMainCf?: readonly string[];
}

export interface PostfixServer {
  readonly host: '127.0.0.1';
  /** The SMTP port on 127.0.0.1. */
  readonly port: number;
  /** The instance's temp directory (etc/, queue/, data/); removed by `stop()`. */
  readonly dir: string;
  /** The master daemon's process id. */
  readonly pid: number;
  /** Milliseconds from spawn to the first greeting (normally the 220 banner). */
  readonly startupMs: number;
  /** Postfix's log so far (maillog_file = /dev/stdout, plus anything on stderr). */
  log(): string;
  /** `postfix stop` (SIGKILL to master's process group if that fails) and remove the directory. Idempotent. */
  stop(): Promise<void>;
}

/** Thrown when Postfix is installed but does not come up. */
export class PostfixStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PostfixStartError';
  }
}

const READY_TIMEOUT_MS = 30_000;
const BANNER_TIMEOUT_MS = 2_000;
const STOP_TIMEOUT_MS = 15_000;
const MAX_LOG_CHARS = 1_000_000;
const PORT_ATTEMPTS = 3;

/**
 * Runs as `sh -c WATCHDOG postfix-watchdog BINARY -c DIR/etc start-fg` with POSTFIX_BIN and POSTFIX_DIR set, and fd 3
 * a pipe from the test process (not fd 0: Node destroys a child's stdin as soon as the child exits, and postfix-script
 * exits as soon as `postfix stop` has killed master, while that stop is still polling the config and pid file). A
 * background subshell waits for EOF on it (stop() closing it last, or this process exiting or being killed) and then,
 * if the directory is still there, stops that Postfix (SIGKILL to master's process group if `postfix stop` fails)
 * and removes the directory.
 */
const WATCHDOG = [
  '( cat <&3 >/dev/null 2>&1',
  '  if test -d "$POSTFIX_DIR/etc"; then',
  '    "$POSTFIX_BIN" -c "$POSTFIX_DIR/etc" stop || {',
  '      pid=$(sed 1q "$POSTFIX_DIR/queue/pid/master.pid" | tr -d " ")',
  '      test -n "$pid" && kill -9 -"$pid"',
  '    }',
  '    rm -rf "$POSTFIX_DIR"',
  '  fi ) </dev/null >/dev/null 2>&1 &',
  'exec "$@" </dev/null 3<&-',
].join('\n');

function findBinary(name: 'postfix' | 'postconf'): string | undefined {
  const fromEnv = process.env[name === 'postfix' ? 'POSTFIX_BIN' : 'POSTCONF_BIN'];
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  for (const candidate of [`/usr/sbin/${name}`, `/usr/local/sbin/${name}`, `/opt/homebrew/sbin/${name}`]) {
    if (existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : undefined;
}

function checkAvailability(): Availability {
  const binary = findBinary('postfix');
  const postconf = findBinary('postconf');
  if (binary === undefined || postconf === undefined) {
    return {
      ok: false,
      reason:
        'Postfix is not installed (echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; apt-get install -y postfix)',
    };
  }
  // `-d` prints compiled-in defaults and needs no main.cf (there is none after the "No configuration" preseed).
  const version = spawnSync(postconf, ['-dh', 'mail_version'], { encoding: 'utf8' });
  if (version.status !== 0 || !/^\d+\.\d+/.test(version.stdout)) {
    return { ok: false, reason: `${postconf} -dh mail_version failed: ${version.stderr || String(version.error)}` };
  }
  if (process.getuid?.() !== 0) {
    return {
      ok: false,
      reason: 'a private Postfix instance must be started as root (the postfix command is root-only)',
    };
  }
  if (spawnSync('id', ['-u', 'postfix']).status !== 0 || spawnSync('getent', ['group', 'postdrop']).status !== 0) {
    return { ok: false, reason: "Postfix's user postfix or group postdrop does not exist (a broken package install?)" };
  }
  return { ok: true, binary };
}

/**
 * Whether a private Postfix can be started here. Synchronous, for `describe.skipIf`.
 * @throws Error when it cannot and `process.env.CI` is set: CI must never skip these tests.
 */
export function postfixAvailable(): Availability {
  const result = checkAvailability();
  if (!result.ok && process.env.CI) {
    throw new Error(`Postfix integration tests cannot run in CI: ${result.reason}`);
  }
  if (!result.ok) console.warn(`[postfix] integration tests SKIPPED: ${result.reason}`);
  return result;
}

/** Values that go into main.cf/master.cf/map files unquoted: no whitespace surprises, no line breaks. */
function checkOptions(options: PostfixOptions): void {
  const reply = /^[45]\d\d [^\r\n]+$/;
  for (const b of options.bannedCidr ?? []) {
    if (!/^[0-9a-f:.]+(?:\/\d{1,3})?$/i.test(b.cidr)) throw new TypeError(`bad bannedCidr cidr: ${b.cidr}`);
    if (!reply.test(b.reply)) throw new TypeError(`bannedCidr reply must be "4xx/5xx text" on one line: ${b.reply}`);
  }
  for (const r of options.rcptRejects ?? []) {
    if (!/^[^\s#]+$/.test(r.address)) throw new TypeError(`bad rcptRejects address: ${r.address}`);
    if (!reply.test(r.reply)) throw new TypeError(`rcptRejects reply must be "4xx/5xx text" on one line: ${r.reply}`);
  }
  if (options.myhostname !== undefined && !/^[a-z0-9-]+(?:\.[a-z0-9-]+)+$/i.test(options.myhostname)) {
    throw new TypeError(`myhostname must be a fully qualified host name: ${options.myhostname}`);
  }
  for (const line of options.extraMainCf ?? []) {
    if (/[\r\n]/.test(line) || !/^[a-z0-9_]+\s*=/.test(line)) throw new TypeError(`bad main.cf line: ${line}`);
  }
  for (const path of [options.tls?.certFile, options.tls?.keyFile]) {
    if (path !== undefined && !/^\/[^\s,]+$/.test(path))
      throw new TypeError(`TLS file must be an absolute path without spaces or commas: ${path}`);
  }
}

function parameterName(line: string): string {
  return line.split('=', 1)[0]?.trim() ?? '';
}

function mainCf(dir: string, port: number, options: PostfixOptions): string {
  const etc = join(dir, 'etc');
  const lines = [
    '# relaywatch test instance: written by test/support/postfix.ts, removed after the test',
    'compatibility_level = 3.6',
    `queue_directory = ${join(dir, 'queue')}`,
    `data_directory = ${join(dir, 'data')}`,
    'maillog_file = /dev/stdout',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    `myhostname = ${options.myhostname ?? 'mx.relaywatch.test'}`,
    'mydomain = relaywatch.test',
    'myorigin = $myhostname',
    'smtpd_banner = $myhostname ESMTP Postfix (relaywatch lab)',
    'biff = no',
    'append_dot_mydomain = no',
    'readme_directory = no',
    // Nothing is local, nothing is ever delivered: every transport discards (logs `status=sent (lab)`).
    'mydestination =',
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    'default_transport = discard:lab',
    'relay_transport = discard:lab',
    'local_transport = discard:lab',
    'virtual_transport = discard:lab',
    // No DNS for anything the discard transport would never use anyway.
    'smtp_dns_support_level = disabled',
    // Any recipient from loopback is accepted unless a rule rejects it (`permit` alone is fatal for smtpd).
    'mynetworks = 127.0.0.0/8',
    'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
    // Explicitly the default: client restrictions are applied at RCPT TO (`no`: at connect, instead of the greeting).
    'smtpd_delay_reject = yes',
    `smtpd_recipient_restrictions = check_recipient_access texthash:${join(etc, 'rcpt.access')}`,
    'smtpd_tls_loglevel = 1',
    'message_size_limit = 10240000',
  ];
  if (options.tls) {
    lines.push(
      'smtpd_tls_security_level = may',
      `smtpd_tls_cert_file = ${options.tls.certFile}`,
      `smtpd_tls_key_file = ${options.tls.keyFile}`,
    );
  } else {
    lines.push('smtpd_tls_security_level = none');
  }
  // An extra line replaces the default of the same name (Postfix warns about every duplicate, in every process).
  const extra = options.extraMainCf ?? [];
  const overridden = new Set(extra.map(parameterName));
  const kept = lines.filter((l) => l.startsWith('#') || !overridden.has(parameterName(l)));
  kept.push(`# listener: 127.0.0.1:${port} (master.cf)`, ...extra);
  return `${kept.join('\n')}\n`;
}

function masterCf(dir: string, port: number): string {
  const cidr = join(dir, 'etc', 'banned.cidr');
  // Debian's defaults minus chroot (column 5) and minus the delivery agents that could deliver anything.
  return `${[
    `127.0.0.1:${port} inet n - n - - smtpd`,
    `  -o smtpd_client_restrictions=check_client_access,cidr:${cidr}`,
    'pickup    unix  n       -       n       60      1       pickup',
    'cleanup   unix  n       -       n       -       0       cleanup',
    'qmgr      unix  n       -       n       300     1       qmgr',
    'tlsmgr    unix  -       -       n       1000?   1       tlsmgr',
    'rewrite   unix  -       -       n       -       -       trivial-rewrite',
    'bounce    unix  -       -       n       -       0       bounce',
    'defer     unix  -       -       n       -       0       bounce',
    'trace     unix  -       -       n       -       0       bounce',
    'verify    unix  -       -       n       -       1       verify',
    'flush     unix  n       -       n       1000?   0       flush',
    'proxymap  unix  -       -       n       -       -       proxymap',
    'proxywrite unix -       -       n       -       1       proxymap',
    'error     unix  -       -       n       -       -       error',
    'retry     unix  -       -       n       -       -       error',
    'discard   unix  -       -       n       -       -       discard',
    'anvil     unix  -       -       n       -       1       anvil',
    'scache    unix  -       -       n       -       1       scache',
    // Needed for maillog_file (postfix check fails without it).
    'postlog   unix-dgram n  -       n       -       1       postlogd',
  ].join('\n')}\n`;
}

/**
 * Runs `postfix -c ETC <command>` with stdout and stderr appended to the instance's log. Not through a Node pipe:
 * every Postfix program opens `maillog_file = /dev/stdout`, which fails (ENXIO) on Node's socketpair, and for
 * `postfix stop` that makes each `master -t` in postfix-script's wait loop fail as if master still ran: the stop
 * then takes 15 s instead of 0.2 s. Resolves with the exit code (null after a timeout kill); never rejects.
 */
function postfixCommand(binary: string, etc: string, command: string, logPath: string): Promise<number | null> {
  return new Promise((resolve) => {
    let fd: number | undefined;
    try {
      fd = openSync(logPath, 'a', 0o644);
      const proc = spawn(binary, ['-c', etc, command], { stdio: ['ignore', fd, fd], timeout: STOP_TIMEOUT_MS });
      proc.once('error', () => resolve(null));
      proc.once('exit', (code) => resolve(code));
    } catch {
      resolve(null);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  });
}

function watchdogPipe(proc: ChildProcess): Writable | undefined {
  const s = proc.stdio[3];
  return s instanceof Writable ? s : undefined;
}

/** Connect once and read the greeting. Resolves with its final line, or null (refused, closed, no greeting in time). */
function readBanner(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let buffer = '';
    const done = (line: string | null) => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (line !== null && socket.writable) socket.end('QUIT\r\n');
      else socket.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => done(null), BANNER_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      // Any final greeting line: 220, or the reject reply smtpd sends instead when a client restriction already
      // rejects at connect (`smtpd_delay_reject = no` with a banned 127.0.0.1).
      const m = /^([2-5]\d\d [^\r\n]*)\r?\n/m.exec(buffer);
      if (m) done(m[1] ?? null);
      else if (buffer.length > 4096) done(null);
    });
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function masterPid(dir: string): Promise<number> {
  const text = await readFile(join(dir, 'queue', 'pid', 'master.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 1 ? pid : 0;
}

function alive(pid: number): boolean {
  if (pid <= 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start a private Postfix on a free port of 127.0.0.1 and wait (up to 30 s) for its greeting (220, or a reject reply
 * when a client restriction rejects 127.0.0.1 at connect, with `smtpd_delay_reject = no`). A bind race on the
 * port is retried with another port.
 * @throws PostfixStartError (with Postfix's log) when it exits, logs a fatal error or does not greet in time.
 */
export async function startPostfix(options: PostfixOptions = {}): Promise<PostfixServer> {
  checkOptions(options);
  const availability = checkAvailability();
  if (!availability.ok) throw new PostfixStartError(availability.reason);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(availability.binary, options);
    } catch (err) {
      if (attempt < PORT_ATTEMPTS && err instanceof PostfixStartError && /address already in use/i.test(err.message)) {
        continue;
      }
      throw err;
    }
  }
}

async function startOnce(binary: string, options: PostfixOptions): Promise<PostfixServer> {
  const dir = await mkdtemp(join(tmpdir(), 'relaywatch-postfix-'));
  const etc = join(dir, 'etc');
  const logPath = join(dir, 'postfix.log');
  let child: ChildProcess | undefined;
  let lastLog = '';
  /** The log file is the instance's stdout and stderr; the last text read survives `stop()` removing it. */
  const readLog = (): string => {
    try {
      const text = readFileSync(logPath, 'utf8');
      lastLog = text.length > MAX_LOG_CHARS ? `${text.slice(0, MAX_LOG_CHARS)}\n[log truncated]` : text;
    } catch {
      // not there yet, or already removed
    }
    return lastLog;
  };
  let exited: { code: number | null; signal: string | null } | undefined;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      const proc = child;
      if (proc !== undefined && proc.exitCode === null && proc.signalCode === null) {
        const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
        // postfix-script's own stop: SIGTERM to master, up to 5 s, then SIGKILL to master's process group.
        await postfixCommand(binary, etc, 'stop', logPath);
        const forceKill = async () => {
          const pid = await masterPid(dir);
          try {
            if (pid > 1) process.kill(-pid, 'SIGKILL');
          } catch {
            // already gone
          }
          proc.kill('SIGKILL');
        };
        const timer = setTimeout(() => void forceKill(), 3000);
        await gone;
        clearTimeout(timer);
      }
      readLog();
      await rm(dir, { recursive: true, force: true });
      // Closing the pipe last ends the watchdog subshell, which finds no directory and does nothing.
      if (proc !== undefined) watchdogPipe(proc)?.destroy();
    })();
    return stopped;
  };

  try {
    // Postfix's daemons run as `postfix` and must reach the queue and data directories below this one.
    await chmod(dir, 0o755);
    await mkdir(etc, { mode: 0o755 });
    await mkdir(join(dir, 'queue'), { mode: 0o755 });
    const data = join(dir, 'data');
    await mkdir(data, { mode: 0o700 });
    const postfixUser = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
    const postfixGroup = spawnSync('id', ['-g', 'postfix'], { encoding: 'utf8' });
    await chown(data, Number(postfixUser.stdout.trim()), Number(postfixGroup.stdout.trim()));

    const port = await freePort();
    await writeFile(join(etc, 'main.cf'), mainCf(dir, port, options), { mode: 0o644 });
    await writeFile(join(etc, 'master.cf'), masterCf(dir, port), { mode: 0o644 });
    await writeFile(
      join(etc, 'banned.cidr'),
      (options.bannedCidr ?? []).map((b) => `${b.cidr} ${b.reply}\n`).join(''),
      { mode: 0o644 },
    );
    await writeFile(
      join(etc, 'rcpt.access'),
      (options.rcptRejects ?? []).map((r) => `${r.address.toLowerCase()} ${r.reply}\n`).join(''),
      { mode: 0o644 },
    );

    // stdout and stderr go to a regular file, not to a pipe: Node's 'pipe' stdio is a socketpair, and opening
    // `/dev/stdout` on a socket fails with ENXIO, so postlog/postlogd cannot open `maillog_file = /dev/stdout` and
    // `postfix start-fg` exits 1 without a word (its own messages go only to the log it cannot open, or to stderr
    // when that is a terminal).
    const logFd = openSync(logPath, 'a', 0o644);
    const started = performance.now();
    let proc: ChildProcess;
    try {
      proc = spawn('sh', ['-c', WATCHDOG, 'postfix-watchdog', binary, '-c', etc, 'start-fg'], {
        stdio: ['ignore', logFd, logFd, 'pipe'],
        env: { ...process.env, POSTFIX_BIN: binary, POSTFIX_DIR: dir },
      });
    } finally {
      closeSync(logFd);
    }
    child = proc;
    // An EPIPE on our end of the watchdog pipe must not crash the test process.
    watchdogPipe(proc)?.on('error', () => {});
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
    });
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });

    const deadline = started + READY_TIMEOUT_MS;
    for (;;) {
      if (spawnError) throw new PostfixStartError(`cannot run ${binary}: ${spawnError.message}`);
      if (exited) {
        throw new PostfixStartError(
          `postfix exited (${exited.code ?? exited.signal}) before greeting: ${binary} -c ${etc} start-fg\n${readLog() || '(nothing logged: Postfix writes start-up errors only to maillog_file, or to stderr on a terminal)'}`,
        );
      }
      if (/\b(?:fatal|panic):/.test(readLog())) {
        throw new PostfixStartError(`postfix logged a fatal error before greeting on port ${port}:\n${readLog()}`);
      }
      const banner = await readBanner(port);
      if (banner !== null) break;
      if (performance.now() > deadline) {
        throw new PostfixStartError(
          `postfix did not greet on 127.0.0.1:${port} within ${READY_TIMEOUT_MS} ms:\n${readLog()}`,
        );
      }
      await delay(100);
    }
    const startupMs = Math.round(performance.now() - started);
    const pid = await masterPid(dir);
    return { host: '127.0.0.1', port, dir, pid, startupMs, log: readLog, stop };
  } catch (err) {
    await stop();
    throw err instanceof PostfixStartError
      ? err
      : new PostfixStartError(`cannot start postfix: ${String(err)}\n${lastLog}`, { cause: err });
  }
}

/** Whether the master daemon of a stopped server is really gone (for tests of this harness). */
export function postfixMasterAlive(server: Pick<PostfixServer, 'pid'>): boolean {
  return alive(server.pid);
}

/**
 * Registers beforeAll/afterAll hooks that start and stop Postfix for the current `describe`, and returns a getter.
 * `options` may be a function, called in `beforeAll` (e.g. after making a certificate).
 * If Postfix fails to start: with `CI` set the hook fails (loud); otherwise every test of the suite is skipped with
 * the reason (and a console warning).
 */
export function usePostfix(
  options: PostfixOptions | (() => PostfixOptions | Promise<PostfixOptions>),
): () => PostfixServer {
  return useServer('postfix', startPostfix, options);
}
