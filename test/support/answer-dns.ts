/**
 * A scripted authoritative-style UDP DNS server on 127.0.0.1 that answers every question with the given records
 * (those of the question's type) under the question's name: the "what is my IP" services (myip.opendns.com,
 * o-o.myaddr.l.google.com) as the agent's egress discovery sees them.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as dnsPacket from 'dns-packet';

export type Answer =
  | { type: 'A'; data: string }
  | { type: 'AAAA'; data: string }
  | { type: 'TXT'; data: Array<string | Buffer> };

export interface DnsServer {
  readonly port: number;
  readonly spec: string;
  readonly questions: string[];
  close(): Promise<void>;
}

/**
 * Answers every question with `answers` (each record typed as given) under the question's name, with the AA bit set
 * unless `authoritative: false` (a DNS-intercepting firewall answering in the service's place).
 */
export async function dnsServer(
  answers: readonly Answer[],
  options: { readonly authoritative?: boolean } = {},
): Promise<DnsServer> {
  const socket = dgram.createSocket('udp4');
  const questions: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions?.[0];
    if (!question) return;
    questions.push(`${question.name} ${question.type}`);
    const response = dnsPacket.encode({
      id: q.id,
      type: 'response',
      flags: options.authoritative === false ? 0 : dnsPacket.AUTHORITATIVE_ANSWER,
      questions: q.questions,
      answers: answers
        .filter((a) => a.type === question.type)
        .map((a) => ({ ...a, name: question.name, ttl: 0 }) as dnsPacket.Answer),
    });
    socket.send(response, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const port = socket.address().port;
  return {
    port,
    spec: `udp://127.0.0.1:${port}`,
    questions,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

export interface IpEchoServer {
  /** `http://127.0.0.1:<port>/`: an egress `https` method (plain http is allowed to loopback). */
  readonly url: string;
  close(): Promise<void>;
}

/** An HTTP "what is my IP" service on 127.0.0.1 whose whole answer is `ip`: the HTTPS half of egress discovery. */
export async function ipEchoServer(ip: string): Promise<IpEchoServer> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`${ip}\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
