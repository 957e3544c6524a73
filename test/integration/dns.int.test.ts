/**
 * The DNS adapters against real servers on 127.0.0.1: unbound over UDP/TCP and DoH (HTTP/2, self-signed cert), plus
 * scripted UDP and HTTPS servers for what unbound cannot be made to do (spoofed datagrams, HTTP errors, huge bodies).
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CachingResolver,
  createResolver,
  DohResolver,
  FailoverResolver,
  UdpResolver,
} from '../../shared/adapters/dns/index.ts';
import type { DnsResolver } from '../../shared/ports/dns-resolver.ts';
import { freePort } from '../support/ports.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';
import { unboundAvailable, useUnbound } from '../support/unbound.ts';

const BIG_CHUNKS = Array.from({ length: 6 }, (_, i) => String.fromCharCode(97 + i).repeat(250));

const unbound = unboundAvailable();

/** A TTL that started at `max` and may have counted down a few seconds in unbound's cache. */
const upTo = (max: number) =>
  expect.toSatisfy((t: number) => t > max - 10 && t <= max, `a TTL counting down from ${max}`);

describe.skipIf(!unbound.ok)(`DNS adapters against unbound${unbound.ok ? '' : ` (SKIPPED: ${unbound.reason})`}`, () => {
  /** Ports with nothing listening, for stubs that never answer. Each stub gets its own: unbound remembers dead hosts. */
  const deadPorts: Record<string, number> = {};
  const lab = useUnbound(async () => {
    for (const name of [
      'servfail-udp',
      'servfail-post',
      'servfail-get',
      'slow-udp',
      'slow-doh',
      'abort-udp',
      'abort-doh',
    ]) {
      deadPorts[name] = await freePort();
    }
    return {
      localZones: [
        ['answers.test.', 'static'],
        ['refused.test.', 'refuse'],
        ['2.0.192.in-addr.arpa.', 'static'],
      ],
      localData: [
        'answers.test. 3600 IN SOA ns.answers.test. hostmaster.answers.test. 1 3600 600 86400 120',
        'answers.test. 300 IN A 192.0.2.10',
        'answers.test. 300 IN AAAA 2001:DB8::10',
        'spf.answers.test. 300 IN TXT "v=spf1 include:_spf.goo" "gle.com -all"',
        'contoso.answers.test. 3600 IN MX 10 Contoso-Test.mail.protection.outlook.com.',
        'nomail.answers.test. 300 IN MX 0 .',
        `big.answers.test. 300 IN TXT ${BIG_CHUNKS.map((c) => `"${c}"`).join(' ')}`,
        '10.2.0.192.in-addr.arpa. 300 IN PTR Host.Answers.test.',
      ],
      authZones: [
        {
          zone: 'chain.test.',
          records: [
            'chain.test. 3600 IN SOA ns.chain.test. hostmaster.chain.test. 1 3600 600 86400 90',
            'chain.test. 3600 IN NS ns.chain.test.',
            'www.chain.test. 600 IN CNAME edge.cdn.test.',
            'gone.chain.test. 600 IN CNAME missing.cdn.test.',
          ],
        },
        {
          zone: 'cdn.test.',
          records: [
            'cdn.test. 3600 IN SOA ns.cdn.test. hostmaster.cdn.test. 1 3600 600 86400 45',
            'cdn.test. 3600 IN NS ns.cdn.test.',
            'edge.cdn.test. 120 IN CNAME host.cdn.test.',
            'host.cdn.test. 300 IN A 192.0.2.20',
          ],
        },
      ],
      stubs: Object.entries(deadPorts).map(([name, port]) => ({ zone: `${name}.test.`, addr: `127.0.0.1@${port}` })),
    };
  });

  const opened: DohResolver[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((r) => r.close()));
  });
  const udp = (timeoutMs = 2500) => new UdpResolver({ host: '127.0.0.1', port: lab().udpPort, timeoutMs });
  const doh = (method: 'POST' | 'GET' = 'POST', timeoutMs = 2500, url = lab().dohUrl) => {
    const r = new DohResolver({ url, method, ca: lab().ca, timeoutMs });
    opened.push(r);
    return r;
  };

  it('starts quickly', () => {
    console.info(`[unbound] answered ${lab().startupMs} ms after spawn`);
    expect(lab().startupMs).toBeLessThan(10_000);
  });

  describe.each([
    ['UDP', 'udp', () => udp()],
    ['DoH POST', 'post', () => doh('POST')],
    ['DoH GET', 'get', () => doh('GET')],
  ] as const)('over %s', (_label, tag, make: () => DnsResolver) => {
    it('answers with the records and their TTL', async () => {
      const r = make();
      expect(await r.query('Answers.TEST.', 'A')).toMatchObject({
        kind: 'answer',
        name: 'answers.test',
        server: r.describe(),
        records: [{ data: '192.0.2.10', ttl: 300 }],
        cnameChain: [],
        ttl: 300,
      });
      expect(await r.query('answers.test', 'AAAA')).toMatchObject({ records: [{ data: '2001:db8::10' }] });
      expect(await r.query('10.2.0.192.in-addr.arpa', 'PTR')).toMatchObject({
        records: [{ data: 'host.answers.test', ttl: 300 }],
      });
    });

    it('tells NXDOMAIN and NODATA apart, with the SOA negative TTL', async () => {
      const r = make();
      expect(await r.query('nope.answers.test', 'A')).toMatchObject({ kind: 'nxdomain', cnameChain: [], ttl: 120 });
      expect(await r.query('answers.test', 'TXT')).toMatchObject({ kind: 'nodata', cnameChain: [], ttl: 120 });
    });

    it('reports REFUSED', async () => {
      expect(await make().query('x.refused.test', 'A')).toMatchObject({ kind: 'refused', detail: 'rcode REFUSED' });
    });

    it('reports SERVFAIL when the zone servers are dead', async () => {
      const started = performance.now();
      const r = await make().query(`x.servfail-${tag}.test`, 'A');
      const ms = Math.round(performance.now() - started);
      console.info(`[unbound] SERVFAIL for a dead stub over ${tag} after ${ms} ms`);
      expect(r).toMatchObject({ kind: 'servfail', detail: 'rcode SERVFAIL' });
    });

    it('joins split TXT strings without spaces', async () => {
      expect(await make().query('spf.answers.test', 'TXT')).toMatchObject({
        kind: 'answer',
        records: [
          {
            data: { text: 'v=spf1 include:_spf.google.com -all', chunks: ['v=spf1 include:_spf.goo', 'gle.com -all'] },
          },
        ],
      });
    });

    it('follows CNAME chains across zones, to an answer and to NXDOMAIN', async () => {
      const r = make();
      // These come through unbound's iterator and cache, so their TTLs count down between the three transports.
      expect(await r.query('www.chain.test', 'A')).toMatchObject({
        kind: 'answer',
        records: [{ data: '192.0.2.20', ttl: upTo(300) }],
        cnameChain: ['edge.cdn.test', 'host.cdn.test'],
        ttl: upTo(120),
      });
      expect(await r.query('gone.chain.test', 'TXT')).toMatchObject({
        kind: 'nxdomain',
        cnameChain: ['missing.cdn.test'],
        ttl: upTo(45),
      });
      expect(await r.query('www.chain.test', 'MX')).toMatchObject({
        kind: 'nodata',
        cnameChain: ['edge.cdn.test', 'host.cdn.test'],
        ttl: upTo(45),
      });
    });

    it('reads MX records, including a null MX', async () => {
      const r = make();
      expect(await r.query('nomail.answers.test', 'MX')).toMatchObject({
        kind: 'answer',
        records: [{ data: { priority: 0, exchange: '' } }],
      });
      expect(await r.query('contoso.answers.test', 'MX')).toMatchObject({
        records: [{ data: { priority: 10, exchange: 'contoso-test.mail.protection.outlook.com' }, ttl: 3600 }],
      });
    });

    it('returns a TXT RRset larger than 1232 bytes whole', async () => {
      const r = make();
      const result = await r.query('big.answers.test', 'TXT');
      expect(result).toMatchObject({ kind: 'answer', records: [{ data: { chunks: BIG_CHUNKS } }] });
      if (result.kind === 'answer') expect(result.records[0]?.data.text).toHaveLength(1500);
    });
  });

  it('retries a truncated UDP answer over TCP and counts both queries', async () => {
    const r = udp();
    expect((await r.query('big.answers.test', 'TXT')).kind).toBe('answer');
    expect(r.sent()).toBe(2);
    expect((await r.query('answers.test', 'A')).kind).toBe('answer');
    expect(r.sent()).toBe(3);
  });

  it('asks over TCP only with transport tcp', async () => {
    const r = new UdpResolver({ host: '127.0.0.1', port: lab().udpPort, transport: 'tcp' });
    expect(r.describe()).toBe(`tcp://127.0.0.1:${lab().udpPort}`);
    expect(await r.query('spf.answers.test', 'TXT')).toMatchObject({ kind: 'answer', server: r.describe() });
    expect(r.sent()).toBe(1);
  });

  it('times out (and retransmits once) when the server is slower than the client timeout', async () => {
    const u = udp(150);
    const started = performance.now();
    expect(await u.query('x.slow-udp.test', 'A')).toMatchObject({ kind: 'timeout', detail: 'no answer within 150 ms' });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(u.sent()).toBe(2);
    expect(await doh('POST', 150).query('x.slow-doh.test', 'A')).toMatchObject({
      kind: 'timeout',
      detail: 'no answer within 150 ms',
    });
  });

  it('rejects with the AbortError when the caller aborts, over UDP and DoH', async () => {
    for (const [r, zone] of [
      [udp(), 'abort-udp'],
      [doh(), 'abort-doh'],
    ] as const) {
      const controller = new AbortController();
      const pending = r.query(`x.${zone}.test`, 'A', { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    }
  });

  it('reports network-error for a closed port over UDP, TCP and DoH', async () => {
    const port = await freePort();
    expect(await new UdpResolver({ host: '127.0.0.1', port }).query('answers.test', 'A')).toMatchObject({
      kind: 'network-error',
      detail: 'ECONNREFUSED',
      server: `udp://127.0.0.1:${port}`,
    });
    expect(
      await new UdpResolver({ host: '127.0.0.1', port, transport: 'tcp' }).query('answers.test', 'A'),
    ).toMatchObject({ kind: 'network-error', detail: 'TCP ECONNREFUSED' });
    expect(await doh('POST', 2500, `https://127.0.0.1:${port}/dns-query`).query('answers.test', 'A')).toMatchObject({
      kind: 'network-error',
      detail: 'ECONNREFUSED',
    });
  });

  it('reports network-error for an untrusted certificate and for a wrong path', async () => {
    const untrusted = new DohResolver({ url: lab().dohUrl });
    try {
      expect(await untrusted.query('answers.test', 'A')).toMatchObject({
        kind: 'network-error',
        detail: expect.stringMatching(/SELF_SIGNED|CERT/),
      });
    } finally {
      await untrusted.close();
    }
    const wrongPath = lab().dohUrl.replace('/dns-query', '/nope');
    expect(await doh('POST', 2500, wrongPath).query('answers.test', 'A')).toMatchObject({
      kind: 'network-error',
      detail: expect.stringMatching(/^HTTP 4\d\d$/),
    });
  });

  it('fails over from a dead DoH endpoint to a live one and then asks the live one first', async () => {
    const dead = doh('POST', 2500, `https://127.0.0.1:${await freePort()}/dns-query`);
    const live = doh();
    const cache = new CachingResolver(new FailoverResolver([dead, live]));
    expect(await cache.query('answers.test', 'A')).toMatchObject({ kind: 'answer', server: live.describe() });
    expect(await cache.query('spf.answers.test', 'TXT')).toMatchObject({ kind: 'answer', server: live.describe() });
    expect(dead.sent()).toBe(1);
    expect(cache.stats()).toMatchObject({ questions: 2, queriesSent: 3, byKind: { answer: 2 } });
  });

  it('builds a working stack from specs with createResolver', async () => {
    const deadPort = await freePort();
    const stack = createResolver({
      specs: [`doh:https://127.0.0.1:${deadPort}/dns-query`, `udp://127.0.0.1:${lab().udpPort}`, lab().dohUrl],
      ca: lab().ca,
      timeoutMs: 1000,
    });
    try {
      expect(stack.resolver.describe()).toBe(
        `doh:https://127.0.0.1:${deadPort}/dns-query, udp://127.0.0.1:${lab().udpPort}, doh:${lab().dohUrl}`,
      );
      const [a, b] = await Promise.all([
        stack.resolver.query('answers.test', 'A'),
        stack.resolver.query('answers.test', 'A'),
      ]);
      expect(a).toBe(b);
      expect(a).toMatchObject({ kind: 'answer', server: `udp://127.0.0.1:${lab().udpPort}` });
      expect(await stack.resolver.query('nope.answers.test', 'A')).toMatchObject({ kind: 'nxdomain' });
      expect(stack.resolver.stats()).toMatchObject({ questions: 3, inflightJoins: 1, queriesSent: 3 });
    } finally {
      await stack.close();
    }
  });

  it('describes each adapter without secrets', () => {
    expect(udp().describe()).toBe(`udp://127.0.0.1:${lab().udpPort}`);
    expect(new UdpResolver({ host: '[::1]', port: 5353 }).describe()).toBe('udp://[::1]:5353');
    const d = doh('GET', 2500, lab().dohUrl.replace('https://', 'https://user:secret@').concat('?key=secret'));
    expect(d.describe()).toBe(`doh:${lab().dohUrl}`);
  });
});

describe('UdpResolver against scripted UDP servers', () => {
  const sockets: dgram.Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  async function server(
    type: 'udp4' | 'udp6',
    onQuery: (query: Buffer, from: dgram.RemoteInfo, socket: dgram.Socket, n: number) => void,
  ): Promise<number> {
    const socket = dgram.createSocket(type);
    sockets.push(socket);
    let n = 0;
    socket.on('message', (msg, rinfo) => onQuery(msg, rinfo, socket, ++n));
    await new Promise<void>((resolve) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => resolve()));
    return socket.address().port;
  }

  function answerTo(query: Buffer, id = dnsPacket.decode(query).id ?? 0, address = '192.0.2.1'): Buffer {
    const q = dnsPacket.decode(query);
    return dnsPacket.encode({
      type: 'response',
      id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: [{ name: q.questions?.[0]?.name ?? '', type: 'A', ttl: 60, data: address }],
    });
  }

  it('ignores datagrams with another id or from another socket, and keeps waiting for the real answer', async () => {
    const spoofer = dgram.createSocket('udp4');
    sockets.push(spoofer);
    const port = await server('udp4', (query, from, socket) => {
      const id = dnsPacket.decode(query).id ?? 0;
      socket.send(answerTo(query, (id + 1) % 0x10000, '198.51.100.66'), from.port, from.address);
      spoofer.send(answerTo(query, id, '198.51.100.77'), from.port, from.address);
      setTimeout(() => socket.send(answerTo(query), from.port, from.address), 30);
    });
    const r = new UdpResolver({ host: '127.0.0.1', port });
    expect(await r.query('a.test', 'A')).toMatchObject({ kind: 'answer', records: [{ data: '192.0.2.1' }] });
  });

  it('retransmits at half the timeout when the first datagram is lost', async () => {
    const port = await server('udp4', (query, from, socket, n) => {
      if (n === 2) socket.send(answerTo(query), from.port, from.address);
    });
    const r = new UdpResolver({ host: '127.0.0.1', port, timeoutMs: 400 });
    const started = performance.now();
    expect((await r.query('a.test', 'A')).kind).toBe('answer');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(r.sent()).toBe(2);
  });

  it('turns garbage with the right id into bad-response', async () => {
    const port = await server('udp4', (query, from, socket) => {
      socket.send(
        Buffer.concat([query.subarray(0, 2), Buffer.from([0x81, 0x80, 0, 1, 0, 9])]),
        from.port,
        from.address,
      );
    });
    expect(await new UdpResolver({ host: '127.0.0.1', port }).query('a.test', 'A')).toMatchObject({
      kind: 'bad-response',
    });
  });

  it('speaks IPv6 to [::1]', async (ctx) => {
    let port: number;
    try {
      port = await server('udp6', (query, from, socket) => socket.send(answerTo(query), from.port, from.address));
    } catch {
      ctx.skip('IPv6 loopback is not available here');
      return;
    }
    const r = new UdpResolver({ host: '[::1]', port });
    expect(r.describe()).toBe(`udp://[::1]:${port}`);
    expect(await r.query('a.test', 'A')).toMatchObject({ kind: 'answer', server: `udp://[::1]:${port}` });
  });
});

const opensslOk = spawnSync('openssl', ['version']).status === 0;
if (!opensslOk && process.env.CI) throw new Error('openssl is needed for the DoH tests in CI');

describe.skipIf(!opensslOk)('DohResolver against a scripted HTTPS server', () => {
  let cert: SelfSignedCert;
  let certDir: string;
  let server: http2.Http2SecureServer;
  let base: string;
  let handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void = () => {};
  const opened: DohResolver[] = [];

  beforeAll(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'relaywatch-doh-'));
    cert = await makeSelfSignedCert(certDir);
    server = http2.createSecureServer({ cert: cert.cert, key: cert.key, allowHTTP1: true }, (req, res) =>
      handler(req, res),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    base = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(certDir, { recursive: true, force: true });
  });

  const resolver = (
    options: { method?: 'GET' | 'POST'; timeoutMs?: number; path?: string; maxResponseBytes?: number } = {},
  ) => {
    const r = new DohResolver({
      url: `${base}${options.path ?? '/dns-query'}`,
      ca: cert.cert,
      method: options.method,
      timeoutMs: options.timeoutMs,
      maxResponseBytes: options.maxResponseBytes,
    });
    opened.push(r);
    return r;
  };

  async function body(req: http2.Http2ServerRequest): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  function reply(query: Buffer): Buffer {
    const q = dnsPacket.decode(query);
    return dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: [{ name: q.questions?.[0]?.name ?? '', type: 'A', ttl: 60, data: '192.0.2.1' }],
    });
  }

  it('POSTs application/dns-message and GETs ?dns=<base64url> with id 0; userinfo becomes Basic auth', async () => {
    const seen: Array<{ method: string; url: string; auth: string | undefined; type: string | undefined; id: number }> =
      [];
    handler = async (req, res) => {
      const query =
        req.method === 'GET'
          ? Buffer.from(new URL(req.url, base).searchParams.get('dns') ?? '', 'base64url')
          : await body(req);
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        type: req.headers['content-type'],
        id: dnsPacket.decode(query).id ?? -1,
      });
      res.writeHead(200, { 'content-type': 'application/dns-message' });
      res.end(reply(query));
    };
    expect((await resolver({ method: 'POST' }).query('a.test', 'A')).kind).toBe('answer');
    const get = new DohResolver({
      url: `${base.replace('https://', 'https://me:pw@')}/q?tenant=7`,
      ca: cert.cert,
      method: 'GET',
    });
    opened.push(get);
    expect(get.describe()).toBe(`doh:${base}/q`);
    expect((await get.query('a.test', 'A')).kind).toBe('answer');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/dns-query', type: 'application/dns-message' });
    expect(seen[1]).toMatchObject({ method: 'GET', id: 0, auth: `Basic ${Buffer.from('me:pw').toString('base64')}` });
    expect(seen[1]?.url).toMatch(/^\/q\?tenant=7&dns=[A-Za-z0-9_-]+$/);
  });

  it('reports an HTTP status other than 200 as network-error naming the status', async () => {
    handler = (_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('overloaded');
    };
    expect(await resolver().query('a.test', 'A')).toMatchObject({ kind: 'network-error', detail: 'HTTP 503' });
  });

  it('reports a 200 with another content type as bad-response', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<html>captive portal</html>');
    };
    expect(await resolver().query('a.test', 'A')).toMatchObject({
      kind: 'bad-response',
      detail: 'HTTP 200 with content-type text/html',
    });
  });

  it('caps the response body size', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/dns-message' });
      res.write(Buffer.alloc(40_000));
      res.end(Buffer.alloc(40_000));
    };
    expect(await resolver().query('a.test', 'A')).toMatchObject({
      kind: 'bad-response',
      detail: 'response body exceeds 65535 bytes',
    });
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/dns-message', 'content-length': '100000' });
      res.end(Buffer.alloc(100_000));
    };
    expect(await resolver().query('a.test', 'A')).toMatchObject({
      kind: 'bad-response',
      detail: expect.stringContaining('100000 bytes'),
    });
  });

  it('reports garbage as bad-response and a slow server as timeout', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/dns-message' });
      res.end(Buffer.from('not dns'));
    };
    expect(await resolver().query('a.test', 'A')).toMatchObject({ kind: 'bad-response' });
    handler = (_req, res) => {
      setTimeout(() => res.end(), 1000);
    };
    expect(await resolver({ timeoutMs: 100 }).query('a.test', 'A')).toMatchObject({
      kind: 'timeout',
      detail: 'no answer within 100 ms',
    });
  });

  it('rejects with the caller AbortError, and only then', async () => {
    handler = (_req, res) => {
      setTimeout(() => res.end(), 1000);
    };
    const controller = new AbortController();
    const pending = resolver().query('a.test', 'A', { signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
