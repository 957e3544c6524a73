/**
 * A private Dovecot (Debian's dovecot-imapd, a real IMAP server) on loopback for the IMAP probe-mailbox tests: its own
 * config directory, one test user from a passwd-file, Maildir mail in a temporary directory, an INBOX and a `Junk`
 * folder with the `\Junk` special-use flag, plain IMAP (or STARTTLS with `tls`) with PLAIN/LOGIN allowed.
 *
 * Started as `dovecot -F -c DIR/dovecot.conf` through the same `sh` watchdog as rbldnsd.ts, so the server can never
 * outlive the test process (the pipe from this process closing sends it SIGTERM and removes the directory).
 * Running as root, Dovecot's own users (`dovecot`, `dovenull`) run its processes and the mail belongs to the
 * `dovecot` user (Dovecot refuses uid 0 for mail); as another user, everything runs as that user.
 *
 * Skip policy (as every real server, see use-server.ts): when Dovecot is missing or fails to start a suite skips with
 * a visible reason on a developer machine, and fails loudly when `CI` is set:
 *
 * ```ts
 * const dovecot = dovecotAvailable();
 * describe.skipIf(!dovecot.ok)(`… against Dovecot${dovecot.ok ? '' : ` (SKIPPED: ${dovecot.reason})`}`, () => {
 *   const imap = useDovecot({ user: 'probe@contoso.example', password: 'pw' });
 *   it('…', async () => { const { port } = imap(); … });
 * });
 * ```
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, retryOnPortClash } from './ports.ts';
import type { Availability } from './unbound.ts';
import { terminate, useServer } from './use-server.ts';

export interface DovecotOptions {
  readonly user: string;
  readonly password: string;
  /** PEM files for STARTTLS on the listener (e.g. from tls-cert.ts); without them the server speaks plain IMAP only. */
  readonly tls?: { readonly certPath: string; readonly keyPath: string };
  /**
   * Also accept XOAUTH2 (only it, as Exchange Online), validating each token at this RFC 7662 introspection URL (POST `token=…`; the
   * answer's `active` must be `true` and its `username` the user). Dovecot's oauth2 passdb does the check.
   */
  readonly oauth2IntrospectionUrl?: string;
}

export interface DovecotServer {
  readonly port: number;
  readonly startupMs: number;
  readonly dir: string;
  /** Dovecot's log so far. */
  readonly log: () => string;
  stop(): Promise<void>;
}

export class DovecotStartError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DovecotStartError';
  }
}

const READY_TIMEOUT_MS = 15_000;
const MAX_LOG_CHARS = 64 * 1024;

const WATCHDOG = [
  'exec 3<&0',
  '( cat <&3 >/dev/null 2>&1; kill -TERM $$ 2>/dev/null',
  '  while kill -0 $$ 2>/dev/null; do sleep 0.1 2>/dev/null || sleep 1; done',
  '  rm -rf "$DOVECOT_DIR" ) </dev/null >/dev/null 2>&1 &',
  'exec "$@" </dev/null 3<&-',
].join('\n');

function findBinary(): string | undefined {
  const fromEnv = process.env.DOVECOT_BIN;
  if (fromEnv) return fromEnv;
  for (const candidate of ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot']) if (existsSync(candidate)) return candidate;
  return undefined;
}

function checkAvailability(): Availability {
  const binary = findBinary();
  if (!binary) return { ok: false, reason: 'dovecot is not installed (apt-get install -y dovecot-imapd)' };
  const version = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0)
    return { ok: false, reason: `${binary} --version failed: ${version.stderr || version.error}` };
  if (!existsSync('/usr/lib/dovecot/imap'))
    return { ok: false, reason: 'dovecot-imapd is not installed (no imap binary)' };
  return { ok: true, binary };
}

/**
 * Whether Dovecot is usable here. Synchronous, for `describe.skipIf`.
 * @throws Error when it is not and `process.env.CI` is set: CI must never skip these tests.
 */
export function dovecotAvailable(): Availability {
  const result = checkAvailability();
  if (!result.ok && process.env.CI) {
    throw new Error(`Dovecot integration tests cannot run in CI: ${result.reason}`);
  }
  if (!result.ok) console.warn(`[dovecot] integration tests SKIPPED: ${result.reason}`);
  return result;
}

function ids(name: string): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return null;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Waits for the IMAP greeting (`* OK … ready.`) on the port. */
async function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done(data.startsWith('* OK'));
    });
    socket.on('error', () => done(false));
  });
}

/**
 * Start a private Dovecot with one user; resolves once it greets. Restarted on another port (up to 3 tries) when the
 * port is taken between the pick and the bind.
 * @throws DovecotStartError with Dovecot's log.
 */
export function startDovecot(options: DovecotOptions): Promise<DovecotServer> {
  return retryOnPortClash(() => startDovecotOnce(options));
}

async function startDovecotOnce(options: DovecotOptions): Promise<DovecotServer> {
  if (/[:\s]/.test(options.user) || /[:\n]/.test(options.password))
    throw new TypeError('user/password for passwd-file');
  const availability = checkAvailability();
  if (!availability.ok) throw new DovecotStartError(availability.reason);
  const root = userInfo().uid === 0;
  const mailOwner = root ? ids('dovecot') : { uid: userInfo().uid, gid: userInfo().gid };
  if (!mailOwner) throw new DovecotStartError('running as root but there is no `dovecot` user to own the mail');
  const me = userInfo().username;

  const dir = await mkdtemp(join(tmpdir(), 'relaywatch-dovecot-'));
  let child: ChildProcess | undefined;
  let output = '';
  let exited: { code: number | null; signal: string | null } | undefined;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      const proc = child;
      await terminate(proc);
      proc?.stdin?.destroy();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await chmod(dir, 0o755);
    const mail = join(dir, 'mail');
    await mkdir(mail, { mode: 0o700 });
    await chown(mail, mailOwner.uid, mailOwner.gid).catch(() => {});
    await mkdir(join(dir, 'run'), { mode: 0o755 });
    await mkdir(join(dir, 'state'), { mode: 0o750 });
    const passwd = join(dir, 'passwd');
    await writeFile(passwd, `${options.user}:{PLAIN}${options.password}::::::\n`, { mode: 0o644 });
    if (options.oauth2IntrospectionUrl) {
      await writeFile(
        join(dir, 'oauth2.conf.ext'),
        [
          'introspection_mode = post',
          `introspection_url = ${options.oauth2IntrospectionUrl}`,
          'username_attribute = username',
          'active_attribute = active',
          'active_value = true',
          '',
        ].join('\n'),
        { mode: 0o644 },
      );
    }
    const port = await freePort();
    const conf = join(dir, 'dovecot.conf');
    await writeFile(
      conf,
      [
        `instance_name = relaywatch-${port}`,
        `base_dir = ${join(dir, 'run')}`,
        `state_dir = ${join(dir, 'state')}`,
        'log_path = /dev/stderr',
        'protocols = imap',
        'listen = 127.0.0.1',
        ...(options.tls
          ? ['ssl = yes', `ssl_cert = <${options.tls.certPath}`, `ssl_key = <${options.tls.keyPath}`]
          : ['ssl = no']),
        'disable_plaintext_auth = no',
        // A refused login answers at once (the default waits 2 s against guessing; a test has nothing to guard).
        'auth_failure_delay = 0',
        `auth_mechanisms = plain login${options.oauth2IntrospectionUrl ? ' xoauth2' : ''}`,
        `default_internal_user = ${root ? 'dovecot' : me}`,
        `default_login_user = ${root ? 'dovenull' : me}`,
        ...(root ? [] : [`default_internal_group = ${spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim()}`]),
        `first_valid_uid = ${Math.min(mailOwner.uid, 500)}`,
        'passdb {',
        '  driver = passwd-file',
        `  args = scheme=PLAIN username_format=%u ${passwd}`,
        '}',
        ...(options.oauth2IntrospectionUrl
          ? ['passdb {', '  driver = oauth2', '  mechanisms = xoauth2', `  args = ${join(dir, 'oauth2.conf.ext')}`, '}']
          : []),
        'userdb {',
        '  driver = static',
        `  args = uid=${mailOwner.uid} gid=${mailOwner.gid} home=${mail}/%u`,
        '}',
        `mail_location = maildir:${mail}/%u/Maildir`,
        'namespace inbox {',
        '  inbox = yes',
        '  separator = /',
        '  mailbox Junk {',
        '    special_use = \\Junk',
        '    auto = create',
        '  }',
        '}',
        'service imap-login {',
        '  inet_listener imap {',
        '    address = 127.0.0.1',
        `    port = ${port}`,
        '  }',
        '  inet_listener imaps {',
        '    port = 0',
        '  }',
        '}',
        'service stats {',
        '  unix_listener stats-reader {',
        '    mode = 0666',
        '  }',
        '  unix_listener stats-writer {',
        '    mode = 0666',
        '  }',
        '}',
        '',
      ].join('\n'),
      { mode: 0o644 },
    );

    const started = performance.now();
    const proc = spawn('sh', ['-c', WATCHDOG, 'dovecot-watchdog', availability.binary, '-F', '-c', conf], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, DOVECOT_DIR: dir },
    });
    child = proc;
    const collect = (chunk: Buffer) => {
      if (output.length < MAX_LOG_CHARS) output += chunk.toString('utf8');
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    proc.stdin?.on('error', () => {});
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
    });
    let spawnError: Error | undefined;
    proc.once('error', (err) => {
      spawnError = err;
    });
    for (;;) {
      if (spawnError) throw new DovecotStartError(`cannot run ${availability.binary}: ${spawnError.message}`);
      if (exited)
        throw new DovecotStartError(`dovecot exited (${exited.code ?? exited.signal}) before greeting:\n${output}`);
      if (await greets(port)) break;
      if (performance.now() - started > READY_TIMEOUT_MS) {
        throw new DovecotStartError(`dovecot did not greet within ${READY_TIMEOUT_MS} ms:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { port, startupMs: Math.round(performance.now() - started), dir, log: () => output, stop };
  } catch (err) {
    await stop();
    throw err instanceof DovecotStartError
      ? err
      : new DovecotStartError(`cannot start dovecot: ${String(err)}`, { cause: err });
  }
}

/** beforeAll/afterAll hooks for the current `describe` (skip locally, fail in CI when it does not start). */
export function useDovecot(
  options: DovecotOptions | (() => DovecotOptions | Promise<DovecotOptions>),
): () => DovecotServer {
  return useServer('dovecot', startDovecot, options);
}

/**
 * Work on the test Dovecot as its user with a plain imapflow client (to prepare folders and messages, or look at
 * them afterwards), logged out whatever `fn` does.
 */
export async function asImapUser<T>(
  port: number,
  user: string,
  password: string,
  fn: (client: import('imapflow').ImapFlow) => Promise<T>,
): Promise<T> {
  const { ImapFlow } = await import('imapflow');
  const c = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass: password },
    logger: false,
  });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}
