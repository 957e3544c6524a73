/**
 * The Graph probe mailbox against a local HTTPS stand-in serving Graph-shaped answers (the shapes of Microsoft's
 * documented responses: `@odata.context`, `value`, `@odata.nextLink`, `{ error: { code, message } }`, 429 with
 * Retry-After). The request shapes are asserted: the filter, `$select`, the bearer token.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphMailbox, MAX_JSON_BYTES } from '../../shared/adapters/mailbox/graph-mailbox.ts';
import type { TokenResult } from '../../shared/ports/token-provider.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';
import { AR_ALL_PASS } from '../unit/confirm/exo-headers.ts';

interface Seen {
  method: string;
  path: string;
  query: Record<string, string>;
  auth: string | undefined;
}
type Reply = { status: number; body?: unknown; raw?: string; headers?: Record<string, string> };

const MAILBOX = 'probe@contoso.example';
const TOKEN = 'eyJ0eXAiOiJKV1QifQ.graph-token-secret';
const INBOX_ID = 'AAMkADInbox000=';
const JUNK_ID = 'AAMkADJunk000=';
const CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#users('probe%40contoso.example')/messages";

let cert: SelfSignedCert;
let dir: string;
let server: Server;
let base: string;
let seen: Seen[] = [];
let route: (s: Seen) => Reply | undefined = () => undefined;

function folderReply(s: Seen): Reply | undefined {
  if (s.path.endsWith('/mailFolders/inbox')) return { status: 200, body: { id: INBOX_ID } };
  if (s.path.endsWith('/mailFolders/junkemail')) return { status: 200, body: { id: JUNK_ID } };
  return undefined;
}

function message(id: string, internetMessageId: string, parentFolderId: string) {
  return {
    '@odata.etag': 'W/"CQAAABYAAAA"',
    id,
    receivedDateTime: '2026-11-27T18:00:41Z',
    parentFolderId,
    internetMessageId: `<${internetMessageId}>`,
    internetMessageHeaders: [
      {
        name: 'Received',
        value:
          'from AM0PR01MB1234.eurprd01.prod.exchangelabs.com by AM0PR01MB5678 with HTTPS; Fri, 27 Nov 2026 18:00:40 +0000',
      },
      { name: 'Authentication-Results', value: AR_ALL_PASS },
      { name: 'X-MS-Exchange-Organization-SCL', value: '1' },
      { name: 'Message-ID', value: `<${internetMessageId}>` },
    ],
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relaywatch-graph-'));
  cert = await makeSelfSignedCert(dir);
  server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const s: Seen = {
      method: req.method ?? '',
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      auth: req.headers.authorization,
    };
    seen.push(s);
    req.resume();
    const reply = route(s) ??
      folderReply(s) ?? { status: 404, body: { error: { code: 'ResourceNotFound', message: 'not scripted' } } };
    res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
    res.end(reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  base = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen = [];
  route = () => undefined;
});

const sleeps: number[] = [];
function mailbox(
  token: () => Promise<TokenResult> = async () => ({
    ok: true,
    token: TOKEN,
    expiresAt: new Date(Date.now() + 3600_000),
    fromCache: false,
  }),
) {
  return new GraphMailbox({
    mailbox: MAILBOX,
    token,
    endpoint: base,
    ca: cert.cert,
    timeoutMs: 5000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

describe('GraphMailbox against a Graph stand-in', () => {
  it('asks the user-level messages collection by internetMessageId with the headers $select-ed, and tells Junk from Inbox', async () => {
    route = (s) =>
      s.path === `/v1.0/users/${MAILBOX}/messages`
        ? {
            status: 200,
            body: {
              '@odata.context': CONTEXT,
              value: [message('AAMkAD-1', 'relaywatch.p1@contoso.example', JUNK_ID)],
            },
          }
        : undefined;
    const r = await mailbox().find(['relaywatch.p1@contoso.example']);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.found.get('relaywatch.p1@contoso.example')).toEqual([
      expect.objectContaining({
        ref: 'graph:AAMkAD-1',
        folder: 'junk',
        folderName: 'Junk Email',
        receivedAt: '2026-11-27T18:00:41.000Z',
      }),
    ]);
    expect(r.found.get('relaywatch.p1@contoso.example')?.[0]?.headers).toContain(
      `Authentication-Results: ${AR_ALL_PASS}\r\n`,
    );
    const list = seen.find((s) => s.path.endsWith('/messages'));
    expect(list?.query.$filter).toBe("internetMessageId eq '<relaywatch.p1@contoso.example>'");
    expect(list?.query.$select?.split(',')).toEqual(
      expect.arrayContaining([
        'id',
        'internetMessageId',
        'receivedDateTime',
        'parentFolderId',
        'internetMessageHeaders',
      ]),
    );
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `GET /v1.0/users/${MAILBOX}/mailFolders/inbox`,
      `GET /v1.0/users/${MAILBOX}/mailFolders/junkemail`,
      `GET /v1.0/users/${MAILBOX}/messages`,
    ]);
    expect(seen.every((s) => s.auth === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('follows @odata.nextLink to the next page', async () => {
    route = (s) => {
      if (!s.path.endsWith('/messages')) return undefined;
      if (s.query.$skiptoken === undefined) {
        return {
          status: 200,
          body: {
            '@odata.context': CONTEXT,
            value: [message('AAMkAD-other', 'relaywatch.p2@contoso.example.org', INBOX_ID)],
            '@odata.nextLink': `${base}/v1.0/users/${MAILBOX}/messages?$skiptoken=page2`,
          },
        };
      }
      return { status: 200, body: { value: [message('AAMkAD-2', 'relaywatch.p2@contoso.example', INBOX_ID)] } };
    };
    const r = await mailbox().find(['<relaywatch.p2@contoso.example>']);
    expect(r.ok && r.found.get('<relaywatch.p2@contoso.example>')?.map((m) => [m.ref, m.folder])).toEqual([
      ['graph:AAMkAD-2', 'inbox'],
    ]);
    expect(seen.filter((s) => s.path.endsWith('/messages')).map((s) => s.query.$skiptoken ?? null)).toEqual([
      null,
      'page2',
    ]);
  });

  it('refuses a nextLink that leaves the Graph endpoint (the token would follow it)', async () => {
    route = (s) =>
      s.path.endsWith('/messages')
        ? { status: 200, body: { value: [], '@odata.nextLink': 'https://evil.example/v1.0/next' } }
        : undefined;
    expect(await mailbox().find(['a@b'])).toMatchObject({ ok: false, reason: 'protocol' });
  });

  it('waits Retry-After on 429 and then succeeds', async () => {
    let throttled = 0;
    sleeps.length = 0;
    route = (s) => {
      if (!s.path.endsWith('/messages')) return undefined;
      if (throttled++ < 2) {
        return {
          status: 429,
          headers: { 'retry-after': '7' },
          body: {
            error: { code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' },
          },
        };
      }
      return { status: 200, body: { value: [] } };
    };
    const r = await mailbox().find(['a@b']);
    expect(r.ok && r.found.get('a@b')).toEqual([]);
    expect(sleeps).toEqual([7000, 7000]);
  });

  it('gives up as throttled when 429 does not stop', async () => {
    route = (s) =>
      s.path.endsWith('/messages') ? { status: 429, headers: { 'retry-after': '1' }, body: {} } : undefined;
    const r = await mailbox().find(['a@b']);
    expect(r).toMatchObject({ ok: false, reason: 'throttled' });
    expect(seen.filter((s) => s.path.endsWith('/messages'))).toHaveLength(4);
  });

  it('reports 403 ErrorAccessDenied (no RBAC assignment) as auth, with Graph’s code and without the token', async () => {
    route = () => ({
      status: 403,
      body: {
        error: { code: 'ErrorAccessDenied', message: `Access is denied. Check credentials and try again. ${TOKEN}` },
      },
    });
    const r = await mailbox().find(['a@b']);
    expect(r).toMatchObject({ ok: false, reason: 'auth' });
    expect(!r.ok && r.message).toContain('ErrorAccessDenied');
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });

  it('reports a mailbox Graph does not know as not-found', async () => {
    route = () => ({
      status: 404,
      body: { error: { code: 'ErrorInvalidUser', message: "The requested user 'probe@contoso.example' is invalid." } },
    });
    expect(await mailbox().find(['a@b'])).toMatchObject({ ok: false, reason: 'not-found' });
  });

  it('bounds the JSON it reads', async () => {
    route = (s) =>
      s.path.endsWith('/messages') ? { status: 200, raw: `{"value":["${'x'.repeat(MAX_JSON_BYTES)}"]}` } : undefined;
    expect(await mailbox().find(['a@b'])).toMatchObject({ ok: false, reason: 'protocol' });
  });

  it('does not follow a redirect (the bearer token would go along), counting it as a protocol failure', async () => {
    route = (s) =>
      s.path.endsWith('/messages') ? { status: 302, headers: { location: `${base}/elsewhere` }, body: {} } : undefined;
    const r = await mailbox().find(['a@b']);
    expect(r).toMatchObject({ ok: false, reason: 'protocol' });
    expect(!r.ok && r.message).toContain('302');
    expect(seen.filter((x) => x.path === '/elsewhere')).toEqual([]);
  });

  it('reports a 5xx as a protocol failure and a token failure as token, without asking Graph', async () => {
    route = () => ({ status: 500, body: { error: { code: 'InternalServerError', message: 'boom' } } });
    expect(await mailbox().find(['a@b'])).toMatchObject({ ok: false, reason: 'protocol' });
    seen = [];
    const r = await mailbox(async () => ({
      ok: false,
      reason: 'invalid-client-secret',
      aadsts: 'AADSTS7000215',
      message: 'Invalid client secret provided.',
      retryable: false,
    })).find(['a@b']);
    expect(r).toMatchObject({ ok: false, reason: 'token' });
    expect(seen).toEqual([]);
  });

  it('removes what it found with DELETE, counting a 404 as already gone', async () => {
    route = (s) =>
      s.method === 'DELETE' ? (s.path.endsWith('/gone') ? { status: 404, body: {} } : { status: 204 }) : undefined;
    const r = await mailbox().remove(['graph:AAMkAD-1', 'graph:gone']);
    expect(r).toEqual({ ok: true, removed: 1 });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `DELETE /v1.0/users/${MAILBOX}/messages/AAMkAD-1`,
      `DELETE /v1.0/users/${MAILBOX}/messages/gone`,
    ]);
  });

  it('reports a refused connection as network', async () => {
    const m = new GraphMailbox({
      mailbox: MAILBOX,
      token: async () => ({ ok: true, token: TOKEN, expiresAt: new Date(), fromCache: true }),
      endpoint: 'https://127.0.0.1:1',
      timeoutMs: 3000,
    });
    expect(await m.find(['a@b'])).toMatchObject({ ok: false, reason: 'network' });
  });
});
