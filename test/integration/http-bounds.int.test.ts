/**
 * Every HTTP client of the project against hostile servers on 127.0.0.1 (issue 15 §2, §3):
 * - a 500 whose body is 64 MiB, streamed: each client reads a few KiB and stops (bounded time, bytes and memory);
 * - the DoH resolver does not follow a 307 to plain http;
 * - the notifiers refuse loopback, private, link-local and numeric-form destinations at connect time (after DNS), and
 *   plain http to Internet hosts, unless a lab allows private destinations.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DohResolver } from '../../shared/adapters/dns/doh-resolver.ts';
import { MsalTokenProvider } from '../../shared/adapters/oauth/msal-token-provider.ts';
import { postSigned } from '../../shared/agent/poster.ts';
import type { RelaywatchConfig } from '../../shared/config/schema.ts';
import type { SecretSources } from '../../shared/config/secrets.ts';
import type { Alert, Notifier, SendResult } from '../../shared/notify/alert.ts';
import { refusalReason } from '../../shared/notify/destination.ts';
import { routeNotifiers } from '../../shared/notify/routing.ts';
import { SlackNotifier } from '../../shared/notify/slack.ts';
import { TeamsNotifier } from '../../shared/notify/teams.ts';
import { WebhookNotifier } from '../../shared/notify/webhook.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';

const HUGE = 64 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x\u0007 <b>');
const WEBHOOK_SECRET = `whsec_${Buffer.from('relaywatch-test-secret-0123456789').toString('base64')}`;

interface HugeServer {
  readonly url: string;
  /** Bytes the server managed to hand to the socket before the client went away. */
  written(): number;
  /** Requests received. */
  readonly requests: string[];
  stop(): Promise<void>;
}

/** Answers every request with `status` and a streamed 64 MiB body, writing only as fast as the client reads. */
async function hugeServer(tls?: SelfSignedCert, status = 500): Promise<HugeServer> {
  let written = 0;
  const requests: string[] = [];
  const handler: http.RequestListener = (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(HUGE) });
    let sent = 0;
    const pump = (): void => {
      while (sent < HUGE && !res.destroyed) {
        sent += CHUNK.length;
        written += CHUNK.length;
        if (!res.write(CHUNK)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    pump();
  };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    written: () => written,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const ALERT: Alert = {
  kind: 'opened',
  incidentId: 'k3m9q2p7',
  tenant: { id: 'contoso', name: 'Contoso' },
  severity: 'critical',
  check: 'blocklist',
  subject: '203.0.113.10 on Spamhaus ZEN',
  title: '203.0.113.10 is listed on Spamhaus ZEN',
  what: 'Mail from the office printer is rejected.',
  why: 'The public IP is on a blocklist.',
  remediation: ['Request delisting'],
  links: [],
  evidence: '550 5.7.1',
  openedAt: '2026-11-27T10:00:00.000Z',
  at: '2026-11-27T10:00:00.000Z',
  packet: null,
};

const LAB = { allowPrivate: true } as const;

type Make = (url: string, destinations?: { allowPrivate: boolean }) => Notifier;
const NOTIFIERS: ReadonlyArray<readonly [string, Make]> = [
  ['slack', (url, destinations) => new SlackNotifier({ webhookUrl: url, ...(destinations ? { destinations } : {}) })],
  ['teams', (url, destinations) => new TeamsNotifier({ webhookUrl: url, ...(destinations ? { destinations } : {}) })],
  [
    'webhook',
    (url, destinations) =>
      new WebhookNotifier({ url, secret: WEBHOOK_SECRET, ...(destinations ? { destinations } : {}) }),
  ],
];

function failed(r: SendResult): { retryable: boolean; error: string } {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

/** Time, server-side bytes and heap growth of one client run against a fresh huge server. */
async function measure<T>(
  run: (url: string) => Promise<T>,
  tls?: SelfSignedCert,
): Promise<{ ms: number; written: number; heapMiB: number; value: T }> {
  const server = await hugeServer(tls);
  try {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const value = await run(server.url);
    const ms = performance.now() - started;
    const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
    // give the server a moment to notice the client is gone
    await new Promise((r) => setTimeout(r, 50));
    expect(server.requests.length).toBeGreaterThan(0);
    return { ms, written: server.written(), heapMiB, value };
  } finally {
    await server.stop();
  }
}

/** What a bounded client leaves: it stops reading after a few KiB (kernel and stream buffers hold a few MiB more). */
function expectBounded(m: { ms: number; written: number; heapMiB: number }, what: string): void {
  console.info(
    `${what}: ${Math.round(m.ms)} ms, server wrote ${(m.written / 2 ** 20).toFixed(1)} MiB, heap +${m.heapMiB.toFixed(1)} MiB`,
  );
  expect(m.ms, what).toBeLessThan(3000);
  expect(m.written, what).toBeLessThan(16 * 2 ** 20);
  expect(m.heapMiB, what).toBeLessThan(48);
}

let dir: string;
let cert: SelfSignedCert;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rw-bounds-'));
  cert = await makeSelfSignedCert(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a 64 MiB HTTP 500 body', () => {
  for (const [name, make] of NOTIFIERS) {
    it(`costs the ${name} notifier a few KiB and a short error`, async () => {
      const m = await measure((url) => make(`${url}/hook/T0SECRET/x`, LAB).send(ALERT));
      expectBounded(m, name);
      const f = failed(m.value);
      expect(f.error).toMatch(new RegExp(`^${name}: HTTP 500 from http://127\\.0\\.0\\.1:\\d+: x`));
      expect(f.error.length).toBeLessThan(260);
      expect(f.retryable).toBe(true);
    });
  }

  it('costs the agent poster a few KiB', async () => {
    const m = await measure((url) =>
      postSigned({
        url: `${url}/ingest`,
        body: '{}',
        agentId: 'site-hq',
        secret: `rwas_${'k'.repeat(43)}`,
        retries: 0,
      }),
    );
    expectBounded(m, 'poster');
    expect(m.value).toMatchObject({ ok: false, status: 500, retryable: true });
  });

  it('costs the DoH resolver nothing beyond the status', async () => {
    const resolvers: DohResolver[] = [];
    const m = await measure(async (url) => {
      const r = new DohResolver({ url: `${url}/dns-query`, ca: cert.cert, timeoutMs: 3000 });
      resolvers.push(r);
      return r.query('example.test', 'TXT');
    }, cert);
    await Promise.all(resolvers.map((r) => r.close()));
    expectBounded(m, 'doh');
    expect(m.value).toMatchObject({ kind: 'network-error', detail: 'HTTP 500' });
  });

  it('costs the token provider (msal over our network client) a bounded read', async () => {
    const providers: MsalTokenProvider[] = [];
    const m = await measure(async (url) => {
      const p = new MsalTokenProvider({ authorityHost: url, ca: cert.cert });
      providers.push(p);
      return p.getToken({
        entraTenantId: '11111111-2222-3333-4444-555555555555',
        clientId: '66666666-7777-8888-9999-000000000000',
        clientSecret: 's3cret-value',
      });
    }, cert);
    await Promise.all(providers.map((p) => p.close()));
    expectBounded(m, 'token');
    expect(m.value).toMatchObject({ ok: false });
  });
});

describe('the DoH resolver and redirects', () => {
  it('does not follow a 307 from https to plain http', async () => {
    // the http server would answer a valid DNS message: following the redirect would "work"
    let plainHits = 0;
    const plain = http.createServer((req, res) => {
      plainHits++;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const q = dnsPacket.decode(Buffer.concat(chunks));
        const answer = dnsPacket.encode({
          type: 'response',
          id: q.id,
          flags: dnsPacket.RECURSION_DESIRED,
          questions: q.questions,
          answers: [{ type: 'TXT', name: 'example.test', ttl: 60, data: 'downgraded' }],
        });
        res.writeHead(200, { 'content-type': 'application/dns-message' });
        res.end(answer);
      });
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', () => resolve()));
    const plainPort = (plain.address() as AddressInfo).port;
    const secure = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
      req.resume();
      res.writeHead(307, { location: `http://127.0.0.1:${plainPort}/dns-query` });
      res.end();
    });
    await new Promise<void>((resolve) => secure.listen(0, '127.0.0.1', () => resolve()));
    const securePort = (secure.address() as AddressInfo).port;
    const resolver = new DohResolver({ url: `https://127.0.0.1:${securePort}/dns-query`, ca: cert.cert });
    try {
      const result = await resolver.query('example.test', 'TXT');
      expect(result.kind).toBe('network-error');
      expect(plainHits).toBe(0);
    } finally {
      await resolver.close();
      secure.closeAllConnections();
      plain.closeAllConnections();
      await new Promise<void>((resolve) => secure.close(() => resolve()));
      await new Promise<void>((resolve) => plain.close(() => resolve()));
    }
  });
});

describe('notifier destinations', () => {
  let receiver: http.Server;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  const refusedHosts = () => [
    `127.0.0.1:${port}`,
    `0x7f000001:${port}`,
    `2130706433:${port}`,
    `127.1:${port}`,
    `[::ffff:127.0.0.1]:${port}`,
    // a name: refused on the address DNS gives (/etc/hosts), inside the socket's lookup
    `localhost:${port}`,
  ];

  for (const [name, make] of NOTIFIERS) {
    it(`${name} refuses loopback in every written form without the lab opt-in, and does not retry`, async () => {
      const before = hits;
      for (const host of refusedHosts()) {
        const f = failed(await make(`http://${host}/hook`).send(ALERT));
        expect(f.error, host).toMatch(/refused to connect to .*loopback address, not a public Internet host/);
        expect(f.error, host).toContain('alerts.allowPrivateDestinations');
        expect(f.retryable, host).toBe(false);
      }
      expect(hits).toBe(before);
    });

    it(`${name} refuses the metadata service and other private ranges without connecting`, async () => {
      for (const [url, range] of [
        ['https://169.254.169.254/latest/meta-data', 'linkLocal'],
        ['https://[fd00:ec2::254]/latest', 'uniqueLocal'],
        ['https://10.1.2.3/hook', 'private'],
        ['https://100.64.0.1/hook', 'carrierGradeNat'],
        ['https://0.0.0.0/hook', 'unspecified'],
      ] as const) {
        const f = failed(await make(url).send(ALERT));
        expect(f.error, url).toContain(`is a ${range} address`);
        expect(f.retryable).toBe(false);
      }
    });

    it(`${name} refuses plain http to an Internet host (without sending anything)`, async () => {
      const f = failed(await make('http://8.8.8.8/hook', LAB).send(ALERT));
      expect(f.error).toContain('plain http to the Internet host 8.8.8.8: use https');
    });

    it(`${name} delivers to loopback by name and by number with the lab opt-in`, async () => {
      const before = hits;
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `127.1:${port}`]) {
        const r = await make(`http://${host}/hook`, LAB).send(ALERT);
        expect(r.ok, `${host}: ${JSON.stringify(r)}`).toBe(true);
      }
      expect(hits).toBe(before + 3);
    });
  }

  it('takes the opt-in from alerts.allowPrivateDestinations in the config', async () => {
    const config = (allow: boolean | undefined) =>
      ({
        alerts: {
          routes: [{ id: 'hook', slack: { webhookUrl: { env: 'RW_TEST_SLACK' } } }],
          default: [],
          ...(allow === undefined ? {} : { allowPrivateDestinations: allow }),
        },
      }) as unknown as RelaywatchConfig;
    const sources: SecretSources = { env: { RW_TEST_SLACK: `http://127.0.0.1:${port}/hook` } };
    const send = async (allow: boolean | undefined) => {
      const notifier = routeNotifiers(config(allow), sources).notifierFor('hook');
      if ('error' in notifier) throw new Error(notifier.error);
      return notifier.send(ALERT);
    };
    expect(failed(await send(undefined)).error).toContain('loopback address');
    expect(failed(await send(false)).error).toContain('loopback address');
    expect((await send(true)).ok).toBe(true);
  });
});

describe('refusalReason', () => {
  it('judges addresses by range, IPv4-mapped forms as their IPv4 address', () => {
    expect(refusalReason('8.8.8.8', 'https:')).toBeNull();
    expect(refusalReason('2606:4700::1111', 'https:')).toBeNull();
    expect(refusalReason('::ffff:169.254.169.254', 'https:')).toContain('linkLocal');
    expect(refusalReason('64:ff9b::7f00:1', 'https:')).toContain('rfc6052');
    expect(refusalReason('192.168.1.10', 'https:')).toContain('private');
    expect(refusalReason('192.168.1.10', 'http:', { allowPrivate: true })).toBeNull();
    expect(refusalReason('8.8.8.8', 'http:', { allowPrivate: true })).toContain('use https');
  });
});
