import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert, Notifier, SendResult } from '../../shared/notify/alert.ts';
import { SlackNotifier } from '../../shared/notify/slack.ts';
import { TeamsNotifier } from '../../shared/notify/teams.ts';
import { WebhookNotifier } from '../../shared/notify/webhook.ts';
import { closedPort } from '../support/smtp-lab.ts';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface Receiver {
  readonly base: string;
  readonly received: Received[];
  stop(): Promise<void>;
}

type Reply = { readonly status: number; readonly body?: string } | 'hang';

const running: Receiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

async function receiver(reply: Reply | ((n: number) => Reply)): Promise<Receiver> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const r = typeof reply === 'function' ? reply(received.length) : reply;
      if (r === 'hang') {
        hanging.push(res);
        return;
      }
      res.writeHead(r.status, { 'content-type': 'text/plain' });
      res.end(r.body ?? '');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const r: Receiver = {
    base: `http://127.0.0.1:${address.port}`,
    received,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  running.push(r);
  return r;
}

const ALERT: Alert = {
  kind: 'opened',
  incidentId: 'k3m9q2p7',
  tenant: { id: 'contoso', name: 'Evil <!channel> *bold* \r\nBcc: x@y' },
  severity: 'critical',
  check: 'blocklist',
  subject: '203.0.113.10 on Spamhaus ZEN',
  title: '203.0.113.10 is listed on Spamhaus ZEN',
  what: 'Mail from the office printer is rejected.',
  why: 'The public IP is on a blocklist.',
  remediation: ['Find the infected machine', 'Request delisting'],
  links: [{ label: 'Lookup', url: 'https://check.spamhaus.org/listed/?searchterm=203.0.113.10' }],
  evidence: '550 5.7.1 <script>alert(1)</script> <http://evil|click>',
  openedAt: '2026-11-27T10:00:00.000Z',
  at: '2026-11-27T10:00:00.000Z',
  packet: {
    filename: 'delist-203.0.113.10',
    eml: 'To: delist@messaging.microsoft.com\r\n\r\nhi\r\n',
    text: 't',
    markdown: 'm',
  },
};

/** The receivers listen on 127.0.0.1: a lab destination policy. */
const LAB = { allowPrivate: true } as const;

const SLACK_PATH = '/services/T0SECRET1/B0SECRET2/SlackSecretToken123456';
const LOGIC_PATH =
  '/workflows/0f1e2d3c4b5a69788796a5b4c3d2e1f0/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=LogicAppsSigSecret0123456789abcdef';
const PLATFORM_PATH =
  '/powerautomate/automations/direct/workflows/a1b2c3d4e5f60718293a4b5c6d7e8f90/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=PlatformSigSecret9876543210fedcba';
const WEBHOOK_SECRET = `whsec_${Buffer.from('relaywatch-test-secret-0123456789').toString('base64')}`;
const SECRET_BITS = [
  'T0SECRET1',
  'SlackSecretToken123456',
  'LogicAppsSigSecret0123456789abcdef',
  'PlatformSigSecret9876543210fedcba',
  '/workflows/',
  '/services/',
  WEBHOOK_SECRET,
  '/hook/private',
];

function expectNoSecrets(r: SendResult): void {
  const json = JSON.stringify(r);
  for (const s of SECRET_BITS) expect(json).not.toContain(s);
}

function failed(r: SendResult): { retryable: boolean; error: string } {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
}

type Make = (url: string, timeoutMs?: number) => Notifier;

const CHANNELS: readonly { name: string; path: string; make: Make; okStatus: number }[] = [
  {
    name: 'slack',
    path: SLACK_PATH,
    make: (url, timeoutMs) =>
      new SlackNotifier({ webhookUrl: url, destinations: LAB, ...(timeoutMs ? { timeoutMs } : {}) }),
    okStatus: 200,
  },
  {
    name: 'teams',
    path: LOGIC_PATH,
    make: (url, timeoutMs) =>
      new TeamsNotifier({ webhookUrl: url, destinations: LAB, ...(timeoutMs ? { timeoutMs } : {}) }),
    okStatus: 202,
  },
  {
    name: 'webhook',
    path: '/hook/private?token=abc',
    make: (url, timeoutMs) =>
      new WebhookNotifier({ url, secret: WEBHOOK_SECRET, destinations: LAB, ...(timeoutMs ? { timeoutMs } : {}) }),
    okStatus: 204,
  },
];

describe('SlackNotifier', () => {
  it('posts the Block Kit payload as JSON', async () => {
    const r = await receiver({ status: 200, body: 'ok' });
    const result = await new SlackNotifier({ webhookUrl: r.base + SLACK_PATH, destinations: LAB }).send(ALERT);
    expect(result).toEqual({ ok: true, detail: 'slack: accepted (ok)' });
    expect(r.received).toHaveLength(1);
    const req = r.received[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe(SLACK_PATH);
    expect(req.headers['content-type']).toMatch(/application\/json/);
    const body = JSON.parse(req.body) as { text: string; blocks: { type: string }[] };
    expect(body.blocks[0]?.type).toBe('header');
    expect(body.text).toContain('#k3m9q2p7');
    expect(req.body).not.toContain('<!channel>');
    expect(req.body).not.toContain('<script>');
  });
});

describe('TeamsNotifier', () => {
  it.each([
    ['logic.azure.com form', LOGIC_PATH],
    ['environment.api.powerplatform.com form', PLATFORM_PATH],
  ])('posts the Adaptive Card to the %s and accepts 202', async (_name, path) => {
    const r = await receiver({ status: 202 });
    const result = await new TeamsNotifier({ webhookUrl: r.base + path, destinations: LAB }).send(ALERT);
    expect(result.ok).toBe(true);
    const req = r.received[0]!;
    expect(req.url).toBe(path);
    const body = JSON.parse(req.body) as {
      type: string;
      attachments: { contentType: string; contentUrl: null; content: { type: string; version: string } }[];
    };
    expect(body.type).toBe('message');
    expect(body.attachments[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(body.attachments[0]?.contentUrl).toBeNull();
    expect(body.attachments[0]?.content.type).toBe('AdaptiveCard');
  });

  it('accepts 200 too', async () => {
    const r = await receiver({ status: 200 });
    expect((await new TeamsNotifier({ webhookUrl: r.base + PLATFORM_PATH, destinations: LAB }).send(ALERT)).ok).toBe(
      true,
    );
  });
});

describe('WebhookNotifier', () => {
  it('signs per Standard Webhooks and keeps the delivery id on a retry', async () => {
    const r = await receiver((n) => (n === 1 ? { status: 503 } : { status: 200 }));
    const notifier = new WebhookNotifier({
      url: `${r.base}/hook/private?token=abc`,
      secret: WEBHOOK_SECRET,
      destinations: LAB,
    });
    const first = await notifier.send(ALERT);
    expect(failed(first).retryable).toBe(true);
    const second = await notifier.send(ALERT);
    expect(second.ok).toBe(true);
    expect(r.received).toHaveLength(2);
    const [a, b] = r.received as [Received, Received];
    expect(a.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(b.headers['webhook-id']).toBe(a.headers['webhook-id']);
    for (const req of r.received) {
      const headers = {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      };
      expect(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
      const payload = new Webhook(WEBHOOK_SECRET).verify(req.body, headers) as {
        type: string;
        data: { incidentId: string; tenant: { name: string }; packet?: { filename: string; eml: string } };
      };
      expect(payload.type).toBe('relaywatch.incident.opened');
      expect(payload.data.incidentId).toBe('k3m9q2p7');
      expect(payload.data.tenant.name).toBe(ALERT.tenant.name);
      expect(payload.data.packet?.eml).toContain('delist@messaging.microsoft.com');
    }
    // a tampered body does not verify
    expect(() =>
      new Webhook(WEBHOOK_SECRET).verify(a.body.replace('k3m9q2p7', 'k3m9q2p8'), {
        'webhook-id': String(a.headers['webhook-id']),
        'webhook-timestamp': String(a.headers['webhook-timestamp']),
        'webhook-signature': String(a.headers['webhook-signature']),
      }),
    ).toThrow();
  });

  it('reports a malformed secret without sending or showing it', async () => {
    const r = await receiver({ status: 200 });
    const result = await new WebhookNotifier({
      url: `${r.base}/hook/private`,
      secret: 'not-a-secret',
      destinations: LAB,
    }).send(ALERT);
    expect(failed(result).retryable).toBe(false);
    expect(failed(result).error).not.toContain('not-a-secret');
    expect(r.received).toHaveLength(0);
  });

  it.each([
    [408, true],
    [429, true],
    [404, false],
  ])('HTTP %i is retryable: %s', async (status, retryable) => {
    const r = await receiver({ status });
    const result = await new WebhookNotifier({
      url: `${r.base}/hook/private`,
      secret: WEBHOOK_SECRET,
      destinations: LAB,
    }).send(ALERT);
    expect(failed(result).retryable).toBe(retryable);
  });
});

describe.each(CHANNELS)('$name failures', ({ name, path, make, okStatus }) => {
  it(`is delivered with ${okStatus}`, async () => {
    const r = await receiver({ status: okStatus });
    expect((await make(r.base + path).send(ALERT)).ok).toBe(true);
  });

  it('500 is retryable, and the error shows only scheme and host', async () => {
    const r = await receiver({ status: 500, body: `boom at ${path}` });
    const result = await make(r.base + path).send(ALERT);
    const f = failed(result);
    expect(f.retryable).toBe(true);
    expect(f.error).toContain(`${name}: HTTP 500 from ${r.base}`);
    expectNoSecrets(result);
  });

  it('400 is not retryable', async () => {
    const r = await receiver({ status: 400, body: 'invalid_payload' });
    const result = await make(r.base + path).send(ALERT);
    const f = failed(result);
    expect(f.retryable).toBe(false);
    expect(f.error).toContain('HTTP 400');
    expect(f.error).toContain('invalid_payload');
    expectNoSecrets(result);
  });

  it('a server that never answers times out, retryable', async () => {
    const r = await receiver('hang');
    const started = Date.now();
    const result = await make(r.base + path, 300).send(ALERT);
    expect(Date.now() - started).toBeLessThan(5000);
    const f = failed(result);
    expect(f.retryable).toBe(true);
    expect(f.error).toBe(`${name}: no answer from ${r.base} within 300 ms`);
    expectNoSecrets(result);
  });

  it('connection refused is retryable', async () => {
    const port = await closedPort();
    const result = await make(`http://127.0.0.1:${port}${path}`).send(ALERT);
    const f = failed(result);
    expect(f.retryable).toBe(true);
    expect(f.error).toBe(`${name}: connection refused by http://127.0.0.1:${port}`);
    expectNoSecrets(result);
  });

  it('a non-http URL is refused without sending, and without echoing it', async () => {
    const result = await make(`ftp://127.0.0.1${path}`).send(ALERT);
    expect(failed(result).retryable).toBe(false);
    expectNoSecrets(result);
  });
});
