/**
 * Loopback SMTP servers for the prober's integration tests.
 *
 * `startSmtpLab(script)`: a real `smtp-server` on 127.0.0.1 (free port), scripted per test: banner, whether STARTTLS
 * is offered (with a self-signed certificate), which AUTH mechanisms are offered and what credentials pass (or which
 * Exchange reply AUTH gets), and the replies to MAIL FROM, RCPT TO and the final dot. It records what it received.
 *
 * `startHostileServer(kind)`: a raw `net` server that misbehaves: accepts and never greets (`stall`), greets one byte
 * every 200 ms (`trickle`), greets with a 1 MB line (`oversized`), closes at once (`close`), or greets and then never answers (`mute`).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { SelfSignedCert } from './tls-cert.ts';

/** A reply the lab sends instead of accepting: `code` and the rest of the line (enhanced code and text). */
export interface LabReply {
  readonly code: number;
  readonly message: string;
}

export type LabAuthMethod = 'PLAIN' | 'LOGIN' | 'XOAUTH2';

export interface LabAuth {
  readonly methods: readonly LabAuthMethod[];
  readonly user: string;
  /** The password (PLAIN/LOGIN) or bearer token (XOAUTH2) that is accepted. */
  readonly secret: string;
  /** When set, every AUTH attempt gets this reply. */
  readonly reject?: LabReply;
}

export interface SmtpLabScript {
  /** Text after `220 <host> ESMTP`. */
  readonly banner?: string;
  /** Offer STARTTLS (default true). */
  readonly starttls?: boolean;
  /** Offer AUTH (and require it) when set; otherwise AUTH is disabled. */
  readonly auth?: LabAuth;
  readonly onMailFrom?: LabReply;
  readonly onRcptTo?: LabReply;
  /** Reply after the final dot instead of the default Exchange-style `250 2.6.0 … Queued mail for delivery`. */
  readonly onData?: LabReply;
  /** The text after `250 ` that accepts the message (default: an Exchange-style `2.6.0 <id> [InternalId=…] Queued …`). */
  readonly acceptData?: string;
}

export interface LabAuthAttempt {
  readonly method: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly accessToken: string | undefined;
  readonly accepted: boolean;
}

export interface LabMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: string;
  readonly secure: boolean;
}

export interface SmtpLab {
  readonly host: string;
  readonly port: number;
  readonly authAttempts: LabAuthAttempt[];
  readonly received: LabMessage[];
  stop(): Promise<void>;
}

export const LAB_QUEUE_ID = '123456789';

function replyError(r: LabReply): Error & { responseCode: number } {
  return Object.assign(new Error(r.message), { responseCode: r.code });
}

export async function startSmtpLab(script: SmtpLabScript, cert: SelfSignedCert): Promise<SmtpLab> {
  const authAttempts: LabAuthAttempt[] = [];
  const received: LabMessage[] = [];
  const disabled: string[] = [];
  if (script.starttls === false) disabled.push('STARTTLS');
  if (script.auth === undefined) disabled.push('AUTH');
  const auth = script.auth;
  const server = new SMTPServer({
    name: 'lab.example.test',
    banner: script.banner ?? 'Microsoft ESMTP MAIL Service ready',
    key: cert.key,
    cert: cert.cert,
    logger: false,
    hideENHANCEDSTATUSCODES: true,
    disabledCommands: disabled,
    allowInsecureAuth: true,
    authOptional: auth === undefined,
    authMethods: auth ? [...auth.methods] : [],
    size: 10 * 1024 * 1024,
    onAuth(a, _session, callback) {
      if (auth === undefined) return callback(new Error('AUTH not enabled'));
      const secret = a.method === 'XOAUTH2' ? a.accessToken : a.password;
      const accepted = auth.reject === undefined && a.username === auth.user && secret === auth.secret;
      authAttempts.push({
        method: a.method,
        username: a.username,
        password: a.password ?? undefined,
        accessToken: a.accessToken,
        accepted,
      });
      if (auth.reject !== undefined) return callback(replyError(auth.reject));
      if (!accepted) return callback(replyError({ code: 535, message: '5.7.3 Authentication unsuccessful' }));
      callback(null, { user: a.username });
    },
    onMailFrom(_address, _session, callback) {
      if (script.onMailFrom) return callback(replyError(script.onMailFrom));
      callback();
    },
    onRcptTo(_address, _session, callback) {
      if (script.onRcptTo) return callback(replyError(script.onRcptTo));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const env = session.envelope;
        received.push({
          from: env.mailFrom === false ? '' : env.mailFrom.address,
          to: env.rcptTo.map((r) => r.address),
          raw,
          secure: session.secure,
        });
        if (script.onData) return callback(replyError(script.onData));
        if (script.acceptData !== undefined) return callback(null, script.acceptData);
        const mid = /^Message-ID:\s*(<[^>\r\n]*>)/im.exec(raw)?.[1] ?? '<unknown@lab>';
        callback(
          null,
          `2.6.0 ${mid} [InternalId=${LAB_QUEUE_ID}, Hostname=LAB01.prod.outlook.test] Queued mail for delivery`,
        );
      });
    },
  });
  server.on('error', () => {
    // client misbehaviour is the test's business, not the lab's
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('smtp lab did not bind a TCP port');
  return {
    host: '127.0.0.1',
    port: address.port,
    authAttempts,
    received,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type HostileKind = 'stall' | 'trickle' | 'oversized' | 'close' | 'mute';

export interface HostileServer {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

export async function startHostileServer(kind: HostileKind): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    switch (kind) {
      case 'stall':
        return;
      case 'mute':
        socket.write('220 mute.example.test ESMTP\r\n');
        return;
      case 'close':
        socket.destroy();
        return;
      case 'oversized':
        socket.write(`220 ${'x'.repeat(1024 * 1024)}\r\n`);
        return;
      case 'trickle': {
        const banner = Buffer.from('220 slow.example.test ESMTP a very slow greeting indeed\r\n');
        let i = 0;
        const t = setInterval(() => {
          if (socket.destroyed || i >= banner.length) {
            clearInterval(t);
            timers.delete(t);
            return;
          }
          socket.write(banner.subarray(i, i + 1));
          i++;
        }, 200);
        timers.add(t);
        return;
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('hostile server did not bind a TCP port');
  return {
    host: '127.0.0.1',
    port: address.port,
    connections: () => accepted,
    stop: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
