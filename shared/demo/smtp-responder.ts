/**
 * A tiny scripted SMTP server (RFC 5321) on loopback for `relaywatch demo`: it plays the Contoso tenant's Exchange
 * Online MX endpoint for the relay probe, so the demo needs no SMTP library at run time (smtp-server is a test
 * dependency only). It speaks enough SMTP for one client at a time: greeting, EHLO/HELO, MAIL, RCPT, DATA (read to
 * the lone dot), RSET, NOOP, QUIT. No STARTTLS is offered (the relay probe's `tls: if-offered` then goes on in the
 * clear, as it may on loopback). The reply to MAIL FROM comes from `mailReply()`, asked for every transaction, so
 * the demo can make Exchange Online refuse the site's IP on one simulated day and accept it on the next.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface SmtpResponderOptions {
  /** The host name in the greeting and EHLO reply, e.g. `contoso-example.mail.protection.outlook.com`. */
  readonly hostname: string;
  /** The reply to MAIL FROM: `null` accepts (`250 2.1.0 Sender OK`), else a full reply line such as `550 5.7.606 …`. */
  readonly mailReply: () => string | null;
  readonly host?: string;
  /** The clock of the greeting's date (the demo's simulated one); default the real clock. */
  readonly now?: () => Date;
}

export interface RunningSmtpResponder {
  readonly host: string;
  readonly port: number;
  /** Messages accepted after DATA. */
  readonly accepted: number;
  close(): Promise<void>;
}

const MAX_LINE = 4096;
const MAX_MESSAGE = 1024 * 1024;

export async function startSmtpResponder(options: SmtpResponderOptions): Promise<RunningSmtpResponder> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(30_000, () => socket.destroy());
    const say = (line: string) => socket.write(`${line}\r\n`);
    let buffer = '';
    let inData = false;
    let dataBytes = 0;
    let sender = false;
    let recipients = 0;
    say(
      `220 ${options.hostname} Microsoft ESMTP MAIL Service ready at ${(options.now ?? (() => new Date()))().toUTCString()}`,
    );
    const command = (line: string) => {
      const verb = line.slice(0, 4).toUpperCase();
      switch (verb) {
        case 'EHLO':
          socket.write(
            `250-${options.hostname} Hello [${socket.remoteAddress ?? '127.0.0.1'}]\r\n250-SIZE 37748736\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n`,
          );
          return;
        case 'HELO':
          say(`250 ${options.hostname} Hello [${socket.remoteAddress ?? '127.0.0.1'}]`);
          return;
        case 'MAIL': {
          const refusal = options.mailReply();
          if (refusal !== null) {
            say(refusal);
            return;
          }
          sender = true;
          recipients = 0;
          say('250 2.1.0 Sender OK');
          return;
        }
        case 'RCPT':
          if (!sender) {
            say('503 5.5.1 Bad sequence of commands');
            return;
          }
          recipients++;
          say('250 2.1.5 Recipient OK');
          return;
        case 'DATA':
          if (!sender || recipients === 0) {
            say('503 5.5.1 Bad sequence of commands');
            return;
          }
          inData = true;
          dataBytes = 0;
          say('354 Start mail input; end with <CRLF>.<CRLF>');
          return;
        case 'RSET':
          sender = false;
          recipients = 0;
          say('250 2.0.0 Resetting');
          return;
        case 'NOOP':
          say('250 2.0.0 OK');
          return;
        case 'QUIT':
          say(`221 2.0.0 Service closing transmission channel`);
          socket.end();
          return;
        default:
          say('500 5.3.3 Unrecognized command');
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const end = buffer.indexOf('\r\n');
        if (end < 0) {
          if (buffer.length > MAX_LINE && !inData) socket.destroy();
          return;
        }
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          dataBytes += line.length + 2;
          if (line === '.') {
            inData = false;
            sender = false;
            if (dataBytes > MAX_MESSAGE) {
              say('552 5.3.4 Message size exceeds fixed maximum message size');
              continue;
            }
            accepted++;
            const queueId = randomBytes(8).toString('hex').toUpperCase();
            say(`250 2.6.0 <${queueId}@${options.hostname}> [InternalId=${queueId}] Queued mail for delivery`);
          }
          continue;
        }
        command(line);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the SMTP responder has no TCP port');
  return {
    host,
    port: address.port,
    get accepted() {
      return accepted;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
