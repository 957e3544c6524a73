/**
 * The agent's signed POST against a local node:http receiver that verifies every request with `verifyRequest` and its
 * own copy of the secret, and answers from a script (statuses, Retry-After).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type PostResult, postSigned, retryAfter } from '../../shared/agent/poster.ts';
import { MemoryReplayGuard, type VerifyResult, verifyRequest } from '../../shared/ingest/signature.ts';
import { freePort } from '../support/ports.ts';

const CANARY = 'rwas_canary-SECRET-7f3a9c1e5b-0123456789abcdefghij';
const BODY = JSON.stringify({
  schema: 'relaywatch.agent/v1',
  agentId: 'site-hq',
  tenant: { id: 'hq-tenant' },
  egress: { ok: true, ip: '198.51.100.77' },
});

interface Step {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

interface Receiver {
  readonly url: string;
  readonly verdicts: VerifyResult[];
  readonly bodies: string[];
  readonly timestamps: string[];
  readonly paths: string[];
  stop(): Promise<void>;
}

/** Answers the n-th request with `script[n]` (the last step repeats) after verifying its signature. */
async function receiver(script: readonly Step[], secret = CANARY): Promise<Receiver> {
  const verdicts: VerifyResult[] = [];
  const bodies: string[] = [];
  const timestamps: string[] = [];
  const paths: string[] = [];
  const replay = new MemoryReplayGuard();
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      bodies.push(raw.toString('utf8'));
      paths.push(req.url ?? '');
      timestamps.push(String(req.headers['x-relaywatch-timestamp']));
      const verdict = await verifyRequest({
        headers: req.headers,
        body: raw,
        request: { method: req.method ?? '', host: req.headers.host ?? '', path: req.url ?? '' },
        sourceIp: req.socket.remoteAddress ?? null,
        agentFor: async (id) => (id === 'site-hq' ? { tenantId: 'hq-tenant', secrets: [secret] } : null),
        replay,
      });
      verdicts.push(verdict);
      const step = script[Math.min(n++, script.length - 1)] as Step;
      if (!verdict.ok) {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end(`${verdict.reason}: ${verdict.message}`);
        return;
      }
      res.writeHead(step.status, { 'content-type': 'text/plain', ...step.headers });
      res.end(step.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    verdicts,
    bodies,
    timestamps,
    paths,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function expectNoCanary(result: PostResult, extra: readonly string[] = []): void {
  const text = JSON.stringify(result) + extra.join('\n');
  expect(text).not.toContain(CANARY);
}

describe('postSigned', () => {
  const cleanup: Array<() => unknown> = [];
  const sleeps: number[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
    sleeps.length = 0;
  });
  const start = async (script: readonly Step[], secret?: string) => {
    const r = await receiver(script, secret);
    cleanup.push(() => r.stop());
    return r;
  };
  const base = {
    body: BODY,
    agentId: 'site-hq',
    secret: CANARY,
    timeoutMs: 2000,
    retries: 3,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random: () => 0.5,
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
  };

  it('posts the JSON body once, signed so that the receiver verifies it with its copy of the secret', async () => {
    const r = await start([{ status: 202 }]);
    const result = await postSigned({ ...base, url: r.url });
    expect(result).toEqual({ ok: true, status: 202, attempts: 1 });
    expect(r.verdicts).toMatchObject([
      { ok: true, agentId: 'site-hq', tenantId: 'hq-tenant', sourceIp: '127.0.0.1', egressMatchesSource: false },
    ]);
    expect(r.bodies).toEqual([BODY]);
    expect(sleeps).toEqual([]);
  });

  it('retries 503 twice then succeeds on the third attempt, re-signing each time with a later timestamp', async () => {
    const r = await start([{ status: 503 }, { status: 503 }, { status: 200 }]);
    const retries: number[] = [];
    const result = await postSigned({ ...base, url: r.url, onRetry: (info) => retries.push(info.attempt) });
    expect(result).toEqual({ ok: true, status: 200, attempts: 3 });
    // the three attempts follow each other within milliseconds, yet none is taken for a replay of the previous one
    expect(r.verdicts).toMatchObject(Array(3).fill({ ok: true, agentId: 'site-hq', tenantId: 'hq-tenant' }));
    const ts = r.timestamps.map(Number);
    expect(ts[1]).toBeGreaterThan(ts[0] as number);
    expect(ts[2]).toBeGreaterThan(ts[1] as number);
    expect(r.bodies).toEqual([BODY, BODY, BODY]);
    expect(retries).toEqual([1, 2]);
    // full jitter with random 0.5: 0.5 × 100, 0.5 × 200
    expect(sleeps).toEqual([50, 100]);
  });

  it('signs with the clock of each attempt', async () => {
    const r = await start([{ status: 503 }, { status: 200 }]);
    let clock = Date.now();
    const result = await postSigned({
      ...base,
      url: r.url,
      now: () => clock,
      sleep: async (ms) => {
        clock += 5000 + ms;
      },
    });
    expect(result).toMatchObject({ ok: true, attempts: 2 });
    expect(Number(r.timestamps[1]) - Number(r.timestamps[0])).toBeGreaterThanOrEqual(5);
  });

  it('honours Retry-After seconds on 429, capped by maxDelayMs', async () => {
    const r = await start([
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 429, headers: { 'retry-after': '120' } },
      { status: 201 },
    ]);
    const result = await postSigned({ ...base, url: r.url });
    expect(result).toEqual({ ok: true, status: 201, attempts: 3 });
    expect(sleeps).toEqual([0, 1000]);
  });

  it('retries 408 and gives up after the retries, retryable, with the last status', async () => {
    const r = await start([{ status: 408 }, { status: 500, body: 'database down' }]);
    const result = await postSigned({ ...base, url: r.url, retries: 2 });
    expect(result).toMatchObject({ ok: false, status: 500, attempts: 3, retryable: true });
    if (result.ok) return;
    expect(result.message).toMatch(/failed after 3 attempt\(s\): HTTP 500: database down/);
  });

  it('does not retry a 401 from a wrong secret and says to check the secret', async () => {
    const r = await start([{ status: 200 }], `rwas_${'a'.repeat(43)}`);
    const result = await postSigned({ ...base, url: `${r.url}?code=url-key-1234` });
    expect(result).toMatchObject({ ok: false, status: 401, attempts: 1, retryable: false });
    expect(r.verdicts).toMatchObject([{ ok: false, reason: 'unauthorized' }]);
    expect(r.paths).toEqual(['/ingest?code=url-key-1234']);
    if (result.ok) return;
    expect(result.message).toMatch(/check the agent id and secret/);
    expect(result.message).toContain(r.url);
    expect(result.message).not.toContain('url-key-1234');
    expect(result.message).not.toContain('code=');
    expectNoCanary(result);
  });

  it('does not retry other 4xx', async () => {
    const r = await start([{ status: 422, body: `invalid report ${CANARY}` }]);
    const result = await postSigned({ ...base, url: r.url });
    expect(result).toMatchObject({ ok: false, status: 422, attempts: 1, retryable: false });
    if (result.ok) return;
    expect(result.message).toMatch(/HTTP 422: invalid report \[redacted\]/);
    expectNoCanary(result);
  });

  it('does not follow a redirect', async () => {
    const r = await start([{ status: 307, headers: { location: 'http://127.0.0.1:1/elsewhere' } }]);
    const result = await postSigned({ ...base, url: r.url });
    expect(result).toMatchObject({ ok: false, status: 307, attempts: 1, retryable: false });
  });

  it('retries a refused connection, then fails with no status', async () => {
    const port = await freePort();
    const reasons: string[] = [];
    const result = await postSigned({
      ...base,
      url: `http://127.0.0.1:${port}/ingest?token=${CANARY}`,
      onRetry: (info) => reasons.push(info.reason),
    });
    expect(result).toMatchObject({ ok: false, status: null, attempts: 4, retryable: true });
    if (result.ok) return;
    expect(result.message).toMatch(/ECONNREFUSED/);
    expect(reasons).toHaveLength(3);
    expect(sleeps).toEqual([50, 100, 200]);
    expectNoCanary(result, reasons);
  });

  it('times out a receiver that never answers and retries', async () => {
    const hung = http.createServer(() => {});
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          hung.closeAllConnections();
          hung.close(() => r());
        }),
    );
    const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/`;
    const result = await postSigned({ ...base, url, timeoutMs: 150, retries: 1 });
    expect(result).toMatchObject({ ok: false, status: null, attempts: 2, retryable: true });
    if (result.ok) return;
    expect(result.message).toMatch(/no response within 150 ms/);
  });

  it('stops when aborted and never throws on bad input', async () => {
    const port = await freePort();
    const controller = new AbortController();
    const result = await postSigned({
      ...base,
      url: `http://127.0.0.1:${port}/`,
      retries: 10,
      signal: controller.signal,
      sleep: async () => {
        controller.abort();
      },
    });
    expect(result).toMatchObject({ ok: false, attempts: 1, retryable: true });
    if (!result.ok) expect(result.message).toMatch(/aborted/);
    expect(await postSigned({ ...base, url: 'not a url' })).toMatchObject({ ok: false, retryable: false });
    expect(await postSigned({ ...base, url: 'ftp://127.0.0.1/' })).toMatchObject({ ok: false, retryable: false });
    const badId = await postSigned({ ...base, url: 'http://127.0.0.1:1/', agentId: 'bad id' });
    expect(badId).toMatchObject({ ok: false, attempts: 1, retryable: false });
    expectNoCanary(badId);
  });

  it('posts over plain http only to a loopback address, and refuses a weak secret before sending', async () => {
    for (const url of ['http://ingest.example/ingest', 'http://10.0.0.5/ingest', 'http://8.8.8.8/']) {
      const r = await postSigned({ ...base, url });
      expect(r, url).toMatchObject({ ok: false, attempts: 0, retryable: false });
      if (!r.ok) expect(r.message).toMatch(/must be https \(http only to a loopback address/);
    }
    const weak = await postSigned({ ...base, url: 'http://127.0.0.1:1/', secret: 'short-secret' });
    expect(weak).toMatchObject({ ok: false, attempts: 1, retryable: false });
    if (!weak.ok) expect(weak.message).toMatch(/could not be signed: an agent secret starts with rwas_/);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfter('7')).toBe(7000);
    expect(retryAfter(null)).toBeNull();
    expect(retryAfter('soon')).toBeNull();
    expect(retryAfter('-1')).toBeNull();
    expect(retryAfter('Thu, 01 Jan 2026 00:00:30 GMT', Date.parse('2026-01-01T00:00:00Z'))).toBe(30_000);
  });
});
