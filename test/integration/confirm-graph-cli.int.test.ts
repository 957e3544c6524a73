/**
 * `relaywatch confirm` with a Graph probe mailbox, end to end through the composition root: the app-only token from
 * a local Entra ID stand-in (MsalTokenProvider, client credentials, the Graph endpoint's `/.default` scope), the
 * Graph stand-in answering with the probe in the Inbox, the confirmation recorded and the message deleted. No secret
 * or token reaches the output.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../shared/adapters/store/sqlite-store.ts';
import { probeOutcome } from '../../shared/checks/probe-outcome.ts';
import { observe } from '../../shared/monitor/observe.ts';
import { classify, parseReply } from '../../shared/probe/diagnosis.ts';
import type { ProbeReport } from '../../shared/use-cases/run-probe.ts';
import { runCliCaptured } from '../support/run-cli.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.ts';
import { AR_ALL_PASS } from '../unit/confirm/exo-headers.ts';

const SECRET = 'graph-reader-client-secret-Zq7';
const TOKEN = 'eyJ0eXAiOiJKV1QifQ.graph-app-token-Lm3.sig';
const MAILBOX = 'relaywatch-probe@contoso.example';

describe('relaywatch confirm with a Graph probe mailbox', () => {
  let dir: string;
  let cert: SelfSignedCert;
  let entra: TokenEndpoint;
  let graph: Server;
  let graphOrigin: string;
  const seen: { method: string; path: string; auth: string | undefined; filter: string | null }[] = [];
  const sentAt = new Date(Date.now() - 120_000);
  const messageId = 'relaywatch.g1@contoso.example';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relaywatch-confirm-graph-'));
    cert = await makeSelfSignedCert(dir);
    await writeFile(join(dir, 'ca.pem'), cert.cert);
    entra = await startTokenEndpoint(cert);
    entra.reply({ kind: 'token', accessToken: TOKEN });
    graph = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const path = decodeURIComponent(url.pathname);
      seen.push({
        method: req.method ?? '',
        path,
        auth: req.headers.authorization,
        filter: url.searchParams.get('$filter'),
      });
      req.resume();
      const json = (status: number, body?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(body === undefined ? '' : JSON.stringify(body));
      };
      if (req.method === 'DELETE') return json(204);
      if (path.endsWith('/mailFolders/inbox')) return json(200, { id: 'INBOX-ID' });
      if (path.endsWith('/mailFolders/junkemail')) return json(200, { id: 'JUNK-ID' });
      if (path.endsWith('/messages')) {
        return json(200, {
          value: [
            {
              id: 'AAMkAD-g1',
              internetMessageId: `<${messageId}>`,
              receivedDateTime: new Date(sentAt.getTime() + 25_000).toISOString(),
              parentFolderId: 'INBOX-ID',
              internetMessageHeaders: [
                { name: 'Authentication-Results', value: AR_ALL_PASS },
                { name: 'X-MS-Exchange-Organization-SCL', value: '1' },
                { name: 'Message-ID', value: `<${messageId}>` },
              ],
            },
          ],
        });
      }
      return json(404, { error: { code: 'ResourceNotFound', message: 'not scripted' } });
    });
    await new Promise<void>((r) => graph.listen(0, '127.0.0.1', () => r()));
    const a = graph.address();
    graphOrigin = `https://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    await writeFile(
      join(dir, 'relaywatch.yaml'),
      `version: 1
msp:
  name: Lab MSP
  contact: { name: Lab NOC, email: noc@msp.example }
tenants:
  - id: contoso
    name: Contoso
    domains: [contoso.example]
    probeRecipients: [${MAILBOX}]
    probeMailbox:
      kind: graph
      mailbox: ${MAILBOX}
      entraTenantId: contoso.onmicrosoft.com
      clientId: 3f0c7a8e-1b2d-4c5e-8f90-123456789abc
      clientSecret: { env: RW_GRAPH_READER_SECRET }
      endpoint: ${graphOrigin}
`,
    );
    const report: ProbeReport = {
      kind: 'submission',
      tenantId: 'contoso',
      tenantName: 'Contoso',
      probeId: 'g1',
      startedAt: sentAt.toISOString(),
      target: { host: 'smtp.office365.com', port: 587, tls: 'starttls-required', hostSource: 'config', note: null },
      from: 'app@contoso.example',
      to: MAILBOX,
      auth: null,
      result: {
        transcript: [],
        tls: null,
        diagnosis: classify({ stage: 'data-end', reply: parseReply('250 2.6.0 Queued mail for delivery') }),
        timings: {},
        messageId,
        queueId: null,
      },
      findings: [],
    };
    const store = openSqliteStore({ path: join(dir, 'state.db') });
    await store.results.putChecks(
      observe([{ id: 'contoso', name: 'Contoso', status: 'pass', domains: [], checks: [probeOutcome(report)] }], {
        runId: 'run-g1',
        at: sentAt.toISOString(),
      }).checks,
    );
    await store.close();
  });

  afterAll(async () => {
    await entra?.stop();
    await new Promise<void>((r) => (graph ? graph.close(() => r()) : r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('gets an app-only token for the Graph endpoint, finds the probe, records it delivered and deletes it', async () => {
    const r = await runCliCaptured(
      [
        'confirm',
        '-c',
        join(dir, 'relaywatch.yaml'),
        '--store',
        `sqlite:${join(dir, 'state.db')}`,
        '--ca',
        join(dir, 'ca.pem'),
        '--authority-host',
        entra.url,
        '--json',
      ],
      { RW_GRAPH_READER_SECRET: SECRET },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.tenants[0].confirmations.map((c: { outcomes: string[] }) => c.outcomes)).toEqual([['delivered']]);
    expect(doc.tenants[0].confirmations[0].details).toMatchObject({ folder: 'inbox', latencyMs: 25_000 });
    expect(doc.tenants[0].removed).toBe(1);

    const tokenRequest = entra.requests.find((q) => q.path.endsWith('/oauth2/v2.0/token'));
    expect(tokenRequest?.path).toBe('/contoso.onmicrosoft.com/oauth2/v2.0/token');
    expect(tokenRequest?.form).toMatchObject({
      grant_type: 'client_credentials',
      client_id: '3f0c7a8e-1b2d-4c5e-8f90-123456789abc',
      scope: `${graphOrigin}/.default`,
    });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `GET /v1.0/users/${MAILBOX}/mailFolders/inbox`,
      `GET /v1.0/users/${MAILBOX}/mailFolders/junkemail`,
      `GET /v1.0/users/${MAILBOX}/messages`,
      `DELETE /v1.0/users/${MAILBOX}/messages/AAMkAD-g1`,
    ]);
    expect(seen[2]?.filter).toBe(`internetMessageId eq '<${messageId}>'`);
    expect(seen.every((s) => s.auth === `Bearer ${TOKEN}`)).toBe(true);
    for (const secret of [SECRET, TOKEN]) expect(r.stdout + r.stderr).not.toContain(secret);
  });
});
