/**
 * The UDP socket pool against scripted DNS servers on 127.0.0.1: concurrent queries share a few sockets and each gets
 * its own answer even when answers come back out of order, ids in flight never repeat, a dead server ends every
 * waiting query as network-error, and idle sockets are closed.
 */
import dgram from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpPool } from '../../shared/adapters/dns/udp-pool.ts';
import { UdpResolver } from '../../shared/adapters/dns/udp-resolver.ts';
import { freePort } from '../support/ports.ts';

interface Server {
  readonly port: number;
  readonly sources: Set<number>;
  readonly ids: number[];
  close(): Promise<void>;
}

/** Answers every A question with 192.0.2.<first label's number>, after `delay(i)` ms (i = arrival order). */
async function scriptedServer(delay: (i: number) => number): Promise<Server> {
  const socket = dgram.createSocket('udp4');
  const sources = new Set<number>();
  const ids: number[] = [];
  let n = 0;
  socket.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    sources.add(rinfo.port);
    ids.push(q.id ?? -1);
    const question = q.questions?.[0];
    if (!question) return;
    const label = Number(question.name.split('.')[0]?.slice(1));
    const answer = dnsPacket.encode({
      id: q.id,
      type: 'response',
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: [{ type: 'A', name: question.name, ttl: 60, data: `192.0.2.${label}` }],
    });
    setTimeout(() => socket.send(answer, rinfo.port, rinfo.address), delay(n++));
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return {
    port: socket.address().port,
    sources,
    ids,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}

describe('UDP socket pool', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });

  it('gives each of many concurrent queries its own answer over at most four sockets, answers out of order', async () => {
    const server = await scriptedServer((i) => (i % 7) * 3);
    cleanup.push(() => server.close());
    const resolver = new UdpResolver({ host: '127.0.0.1', port: server.port, timeoutMs: 2000 });
    cleanup.push(() => resolver.close());
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => resolver.query(`h${i}.pool.test`, 'A')));
    results.forEach((r, i) => {
      expect(r.kind).toBe('answer');
      if (r.kind === 'answer') expect(r.records[0]?.data).toBe(`192.0.2.${i}`);
    });
    expect(server.sources.size).toBeLessThanOrEqual(4);
    expect(resolver.sent()).toBe(100);
  });

  it('never has the same id in flight twice on one socket', async () => {
    const server = await scriptedServer(() => 50);
    cleanup.push(() => server.close());
    const pool = new UdpPool({ host: '127.0.0.1', port: server.port }, { size: 1 });
    cleanup.push(() => pool.close());
    const query = dnsPacket.encode({ id: 7, type: 'query', questions: [{ type: 'A', name: 'h1.pool.test' }] });
    const outs = await Promise.all(
      Array.from({ length: 100 }, () => pool.exchange(query, { timeoutMs: 2000, attempts: 2 })),
    );
    expect(new Set(outs.map((o) => o.id)).size).toBe(100);
    expect(outs.every((o) => o.outcome.ok)).toBe(true);
  });

  it('ends every waiting query as network-error when the server port is closed, then recovers', async () => {
    const port = await freePort();
    const resolver = new UdpResolver({ host: '127.0.0.1', port, timeoutMs: 1500, attempts: 1 });
    cleanup.push(() => resolver.close());
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => resolver.query(`h${i}.pool.test`, 'A')));
    expect(results.every((r) => r.kind === 'network-error')).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
    // a server appears on that port: the pool replaced its failed sockets
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(port, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => socket.close(() => r())));
    socket.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      socket.send(
        dnsPacket.encode({ id: q.id, type: 'response', flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions }),
        rinfo.port,
        rinfo.address,
      );
    });
    expect((await resolver.query('back.pool.test', 'A')).kind).toBe('nodata');
  });

  it('times out a query the server never answers and keeps the others', async () => {
    const server = await scriptedServer((i) => (i === 0 ? 10_000 : 0));
    cleanup.push(() => server.close());
    const resolver = new UdpResolver({ host: '127.0.0.1', port: server.port, timeoutMs: 300, attempts: 1 });
    cleanup.push(() => resolver.close());
    const slow = resolver.query('h1.pool.test', 'A');
    await new Promise((r) => setTimeout(r, 20));
    const fast = await resolver.query('h2.pool.test', 'A');
    expect(fast.kind).toBe('answer');
    expect((await slow).kind).toBe('timeout');
  });

  it('closes idle sockets', async () => {
    const server = await scriptedServer(() => 0);
    cleanup.push(() => server.close());
    const pool = new UdpPool({ host: '127.0.0.1', port: server.port }, { idleMs: 50 });
    const query = dnsPacket.encode({ id: 1, type: 'query', questions: [{ type: 'A', name: 'h3.pool.test' }] });
    await pool.exchange(query, { timeoutMs: 1000, attempts: 1 });
    await new Promise((r) => setTimeout(r, 120));
    await pool.exchange(query, { timeoutMs: 1000, attempts: 1 });
    // a new socket after the idle close: a second source port
    expect(server.sources.size).toBe(2);
    pool.close();
  });
});
