/**
 * The Graph probe mailbox's `moveTo`: read probes are moved into a folder (created when missing) instead of deleted,
 * against the Graph stand-in (test/support/graph-standin.ts) over HTTPS; the request shapes are asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GraphMailbox } from '../../shared/adapters/mailbox/graph-mailbox.ts';
import { type GraphStandIn, INBOX_ID, JUNK_ID, startGraphStandIn } from '../support/graph-standin.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';

const MAILBOX = 'probe@contoso.example';
const TOKEN = 'eyJ0eXAiOiJKV1QifQ.move-token.sig';

let dir: string;
let cert: SelfSignedCert;
let graph: GraphStandIn;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relaywatch-graph-move-'));
  cert = await makeSelfSignedCert(dir);
  graph = await startGraphStandIn({ cert, mailbox: MAILBOX, token: TOKEN });
});

afterAll(async () => {
  await graph?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  graph.requests.length = 0;
  graph.messages.length = 0;
  for (const name of [...graph.folders.keys()])
    if (name !== 'Inbox' && name !== 'Junk Email') graph.folders.delete(name);
});

function mailbox(moveTo?: string) {
  return new GraphMailbox({
    mailbox: MAILBOX,
    endpoint: graph.origin,
    ca: cert.cert,
    moveTo,
    token: async () => ({ ok: true, token: TOKEN, expiresAt: new Date(Date.now() + 3600_000), fromCache: false }),
  });
}

function put(id: string, folder = INBOX_ID) {
  graph.messages.push({
    id,
    internetMessageId: `<relaywatch.${id}@contoso.example>`,
    receivedDateTime: '2026-11-27T18:00:41Z',
    parentFolderId: folder,
    internetMessageHeaders: [{ name: 'Message-ID', value: `<relaywatch.${id}@contoso.example>` }],
  });
}

const shapes = () => graph.requests.map((r) => `${r.method} ${r.path.replace(`/v1.0/users/${MAILBOX}`, '')}`);

describe('GraphMailbox moveTo', () => {
  it('creates the folder when missing and moves each read probe into it, looking the folder up once', async () => {
    put('m1');
    put('m2', JUNK_ID);
    const box = mailbox('relaywatch-probes');
    expect(await box.remove(['graph:m1'])).toEqual({ ok: true, removed: 1 });
    expect(await box.remove(['graph:m2'])).toEqual({ ok: true, removed: 1 });
    const folderId = graph.folders.get('relaywatch-probes');
    expect(folderId).toBeDefined();
    expect(shapes()).toEqual([
      'GET /mailFolders',
      'POST /mailFolders',
      'POST /messages/m1/move',
      'POST /messages/m2/move',
    ]);
    expect(graph.requests[0]?.query).toEqual({
      $filter: "displayName eq 'relaywatch-probes'",
      $select: 'id,displayName',
    });
    expect(graph.requests[1]?.body).toEqual({ displayName: 'relaywatch-probes' });
    expect(graph.requests[2]?.body).toEqual({ destinationId: folderId });
    expect(graph.requests.every((r) => r.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(graph.messages.map((m) => m.parentFolderId)).toEqual([folderId, folderId]);
  });

  it('uses an existing folder without creating one, and a probe gone meanwhile is not counted', async () => {
    graph.folders.set("Probe's archive", 'AAMkAD-archive');
    put('m3');
    const r = await mailbox("Probe's archive").remove(['graph:m3', 'graph:gone']);
    expect(r).toEqual({ ok: true, removed: 1 });
    expect(shapes()).toEqual(['GET /mailFolders', 'POST /messages/m3/move', 'POST /messages/gone/move']);
    expect(graph.requests[0]?.query.$filter).toBe("displayName eq 'Probe''s archive'");
    expect(graph.messages[0]?.parentFolderId).toBe('AAMkAD-archive');
  });

  it('asks again when the folder was created by another run between its lookup and its creation (409)', async () => {
    graph.folders.set('relaywatch-probes', 'AAMkAD-made-elsewhere');
    graph.hiddenOnce.add('relaywatch-probes');
    put('m6');
    expect(await mailbox('relaywatch-probes').remove(['graph:m6'])).toEqual({ ok: true, removed: 1 });
    expect(shapes()).toEqual(['GET /mailFolders', 'POST /mailFolders', 'GET /mailFolders', 'POST /messages/m6/move']);
    expect(graph.messages[0]?.parentFolderId).toBe('AAMkAD-made-elsewhere');
  });

  it('deletes when no folder is configured', async () => {
    put('m4');
    expect(await mailbox().remove(['graph:m4'])).toEqual({ ok: true, removed: 1 });
    expect(shapes()).toEqual(['DELETE /messages/m4']);
    expect(graph.messages).toEqual([]);
  });

  it('reports a throttled folder lookup as a failure value, moving nothing', async () => {
    put('m5');
    graph.failNext(4, 429, { 'retry-after': '0' });
    const r = await mailbox('relaywatch-probes').remove(['graph:m5']);
    expect(r).toMatchObject({ ok: false, reason: 'throttled' });
    expect(graph.messages[0]?.parentFolderId).toBe(INBOX_ID);
  });
});
