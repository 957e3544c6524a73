/**
 * The confirmation functions end to end, in process, through their real handler modules (functions/confirm and
 * functions/ses-inbound: the zod-parsed environment, middy, Powertools): DynamoDB Local, the S3 and Secrets Manager
 * stand-ins, an Entra ID token endpoint stand-in, a Microsoft Graph stand-in holding the probe mailbox, and a Standard
 * Webhooks receiver for the alerts. The Graph client secret and the webhook's URL and secret come from Secrets Manager.
 *
 * confirm: a probe in the Inbox is recorded delivered and deleted (request shapes asserted); two probes that never
 * arrive open a not-delivered incident, alerted once, and a retried tick adds nothing; Graph throttling is unknown.
 * ses-inbound: the fixture's raw message stored by the receipt rule is confirmed with SES's verdicts; spam to the
 * receiving domain is dropped without a write; an oversized message is read only as far as its header block.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SESEvent } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RAW_HEAD_BYTES } from '../../shared/adapters/mailbox/s3-raw-message.ts';
import { openDynamoDbStore } from '../../shared/adapters/store/dynamodb-store.ts';
import { probeOutcome } from '../../shared/checks/probe-outcome.ts';
import { CONFIRMATION_CHECK } from '../../shared/confirm/outcome.ts';
import { CONFIRM_ENV, ENV } from '../../shared/deploy/constants.ts';
import { observe } from '../../shared/monitor/observe.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { classify, parseReply } from '../../shared/probe/diagnosis.ts';
import type { ProbeReport } from '../../shared/use-cases/run-probe.ts';
import {
  type S3StandIn,
  type SecretsStandIn,
  startS3StandIn,
  startSecretsManagerStandIn,
} from '../support/aws-standins.ts';
import { useDynamoDbLocal } from '../support/dynamodb-local.ts';
import { type GraphStandIn, INBOX_ID, startGraphStandIn } from '../support/graph-standin.ts';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { pushedDocument } from '../support/lambda-fakes.ts';
import { sesEvent } from '../support/ses-event.ts';
import { makeSelfSignedCert, type SelfSignedCert } from '../support/tls-cert.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.ts';
import { AR_ALL_PASS } from '../unit/confirm/exo-headers.ts';

const TABLE = `relaywatch-confirm-e2e-${process.pid}`;
const MAILBOX = 'relaywatch-probe@contoso.example';
const CLIENT_SECRET = 'graph-reader-secret-Qx9';
const TOKEN = 'eyJ0eXAiOiJKV1QifQ.graph-app-token-Vb2.sig';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const RECEIVING = 'probes.msp.example';
const FIXTURE_ID = 'relaywatch.5d0c2a9e-1f4b-4c53-9a77-3b1f0f7e2c11@contoso.example';
const CONTEXT = {
  functionName: 'e2e',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

type Handler<E, R> = (event: E, context: Context) => Promise<R>;
interface ConfirmSummary {
  outcomes: Record<string, number>;
  pending: number;
  alertsSent: number;
}
interface InboundSummary {
  confirmed: { probeId: string; outcomes: string[] }[];
  dropped: { reason: string }[];
}

function probeReport(tenantId: string, probeId: string, messageId: string, to: string, sentAt: Date): ProbeReport {
  return {
    kind: 'submission',
    tenantId,
    tenantName: tenantId,
    probeId,
    startedAt: sentAt.toISOString(),
    target: { host: 'smtp.office365.com', port: 587, tls: 'starttls-required', hostSource: 'config', note: null },
    from: `app@${tenantId}.example`,
    to,
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
}

describe('the confirmation functions end to end', () => {
  const ddb = useDynamoDbLocal();
  let dir: string;
  let cert: SelfSignedCert;
  let entra: TokenEndpoint;
  let graph: GraphStandIn;
  let s3: S3StandIn;
  let sm: SecretsStandIn;
  let hook: Receiver;
  let store: Store;
  let confirm: Handler<{ time?: string }, ConfirmSummary>;
  let inbound: Handler<SESEvent, InboundSummary>;
  let raw: string;
  const alerts: { id: string; body: string }[] = [];
  const saved = { ...process.env };

  async function seedProbe(tenantId: string, probeId: string, messageId: string, to: string, agoMs: number) {
    const sentAt = new Date(Date.now() - agoMs);
    const report = probeReport(tenantId, probeId, messageId, to, sentAt);
    await store.results.putChecks(
      observe([{ id: tenantId, name: tenantId, status: 'pass', domains: [], checks: [probeOutcome(report)] }], {
        runId: `probe-${probeId}`,
        at: report.startedAt,
      }).checks,
    );
    return sentAt;
  }
  const confirmations = async (tenantId: string) =>
    (await store.results.history(tenantId, { check: CONFIRMATION_CHECK, limit: 1000 })).items;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'relaywatch-confirm-e2e-'));
    cert = await makeSelfSignedCert(dir);
    raw = await readFile(new URL('../fixtures/confirm/ses-inbound-probe.eml', import.meta.url), 'utf8');
    entra = await startTokenEndpoint(cert);
    entra.reply({ kind: 'token', accessToken: TOKEN });
    graph = await startGraphStandIn({ cert, mailbox: MAILBOX, token: TOKEN });
    const wh = new Webhook(WEBHOOK_SECRET);
    hook = await startReceiver('/siem', async (body, headers) => {
      wh.verify(body, {
        'webhook-id': String(headers['webhook-id']),
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      });
      alerts.push({ id: String(headers['webhook-id']), body });
      return null;
    });
    [s3, sm] = await Promise.all([
      startS3StandIn(),
      startSecretsManagerStandIn({
        'relaywatch/mailbox': JSON.stringify({ 'graph-reader': CLIENT_SECRET }),
        'relaywatch/routes': JSON.stringify({ 'siem-url': hook.url, 'siem-secret': WEBHOOK_SECRET }),
      }),
    ]);
    s3.put(
      'relaywatch-config',
      'relaywatch.yaml',
      pushedDocument(`version: 1
msp: { name: Lab MSP, contact: { name: Lab NOC, email: noc@msp.example } }
alerts:
  allowPrivateDestinations: true # the lab's receiver is on 127.0.0.1
  routes:
    - id: siem
      webhook:
        url: { secretsManager: relaywatch/routes, key: siem-url }
        secret: { secretsManager: relaywatch/routes, key: siem-secret }
  default: [siem]
tenants:
  - id: contoso
    name: Contoso Ltd
    domains: [contoso.example]
    probeMailbox:
      kind: graph
      mailbox: ${MAILBOX}
      entraTenantId: contoso.onmicrosoft.com
      clientId: 3f0c7a8e-1b2d-4c5e-8f90-123456789abc
      clientSecret: { secretsManager: relaywatch/mailbox, key: graph-reader }
      endpoint: ${graph.origin}
  - { id: fabrikam, name: Fabrikam Inc, domains: [fabrikam.example] }
`),
    );
    store = await openDynamoDbStore({ tableName: TABLE, ...ddb().clientOptions, createTable: true });
    Object.assign(process.env, {
      [ENV.configBucket]: 'relaywatch-config',
      [ENV.configKey]: 'relaywatch.yaml',
      [ENV.table]: TABLE,
      [ENV.dynamodbEndpoint]: ddb().endpoint,
      [ENV.s3Endpoint]: s3.endpoint,
      [ENV.secretsManagerEndpoint]: sm.endpoint,
      [CONFIRM_ENV.sesInboundDomain]: RECEIVING,
      [CONFIRM_ENV.sesInboundBucket]: 'relaywatch-data',
      [CONFIRM_ENV.sesInboundPrefix]: 'inbound/',
      [CONFIRM_ENV.authorityHost]: entra.url,
      [CONFIRM_ENV.caFile]: cert.certPath,
      AWS_REGION: ddb().clientOptions.region,
      AWS_ACCESS_KEY_ID: ddb().clientOptions.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ddb().clientOptions.credentials.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    confirm = (await import('../../functions/confirm/handler.ts')).handler as never;
    inbound = (await import('../../functions/ses-inbound/handler.ts')).handler as never;
  }, 60_000);

  afterAll(async () => {
    process.env = saved;
    await Promise.all([entra?.stop(), graph?.close(), s3?.close(), sm?.close(), hook?.close(), store?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('confirm: gets an app-only token, finds the probe in the Inbox, records it delivered and deletes it', async () => {
    const messageId = 'relaywatch.g1@contoso.example';
    // Sent before the probes of the next test: a path's observations follow the probes' sending order.
    const sentAt = await seedProbe('contoso', 'g1', messageId, MAILBOX, 50 * 60_000);
    graph.messages.push({
      id: 'AAMkAD-g1',
      internetMessageId: `<${messageId}>`,
      receivedDateTime: new Date(sentAt.getTime() + 30_000).toISOString(),
      parentFolderId: INBOX_ID,
      internetMessageHeaders: [
        { name: 'Authentication-Results', value: AR_ALL_PASS },
        { name: 'Message-ID', value: `<${messageId}>` },
      ],
    });
    const summary = await confirm({ time: new Date().toISOString() }, CONTEXT);
    expect(summary.outcomes).toEqual({ delivered: 1 });
    const [c] = await confirmations('contoso');
    expect(c).toMatchObject({ subject: 'g1', status: 'pass', codes: ['delivered'] });
    expect(c?.detail).toMatchObject({ folder: 'inbox', latencyMs: 30_000, auth: { spf: { result: 'pass' } } });

    const token = entra.requests.find((q) => q.path.endsWith('/oauth2/v2.0/token'));
    expect(token?.path).toBe('/contoso.onmicrosoft.com/oauth2/v2.0/token');
    expect(token?.form).toMatchObject({ grant_type: 'client_credentials', scope: `${graph.origin}/.default` });
    expect(token?.body).toContain(CLIENT_SECRET);
    expect(graph.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /v1.0/users/${MAILBOX}/mailFolders/inbox`,
      `GET /v1.0/users/${MAILBOX}/mailFolders/junkemail`,
      `GET /v1.0/users/${MAILBOX}/messages`,
      `DELETE /v1.0/users/${MAILBOX}/messages/AAMkAD-g1`,
    ]);
    expect(graph.requests[2]?.query).toMatchObject({
      $filter: `internetMessageId eq '<${messageId}>'`,
      $select: 'id,internetMessageId,receivedDateTime,parentFolderId,internetMessageHeaders',
    });
    expect(graph.messages).toEqual([]);
  });

  it('confirm: two probes that never arrive open a not-delivered incident, alerted once; a retried tick adds nothing', async () => {
    await seedProbe('contoso', 'g2', 'relaywatch.g2@contoso.example', MAILBOX, 40 * 60_000);
    const first = await confirm({ time: new Date().toISOString() }, CONTEXT);
    expect(first.outcomes).toEqual({ 'not-delivered': 1 });
    await seedProbe('contoso', 'g3', 'relaywatch.g3@contoso.example', MAILBOX, 35 * 60_000);
    const tick = { time: new Date(Date.now() + 1000).toISOString() };
    const second = await confirm(tick, CONTEXT);
    expect(second.outcomes).toEqual({ 'not-delivered': 1 });
    expect(second.alertsSent).toBe(1);
    const open = (await store.incidents.list('contoso', { status: 'open' })).items;
    expect(open.map((i) => [i.check, i.subject, i.problem])).toEqual([
      [CONFIRMATION_CHECK, 'submission:app@contoso.example', 'not-delivered'],
    ]);
    expect(alerts).toHaveLength(1);
    expect(JSON.parse(alerts[0]?.body ?? '{}')).toMatchObject({ data: { check: CONFIRMATION_CHECK } });

    const before = await confirmations('contoso');
    const again = await confirm(tick, CONTEXT);
    expect(again.outcomes).toEqual({});
    expect(await confirmations('contoso')).toEqual(before);
    expect(alerts).toHaveLength(1);
  });

  it('confirm: Graph throttling that outlasts the retries is unknown: the run succeeds and nothing changes', async () => {
    await seedProbe('contoso', 'g4', 'relaywatch.g4@contoso.example', MAILBOX, 45 * 60_000);
    const incidents = (await store.incidents.list('contoso')).items;
    graph.failNext(8, 503, { 'retry-after': '0' });
    const summary = await confirm({ time: new Date(Date.now() + 2000).toISOString() }, CONTEXT);
    expect(summary.outcomes).toEqual({ 'confirmation-unknown': 1 });
    expect((await store.incidents.list('contoso')).items).toEqual(incidents);
    expect(alerts).toHaveLength(1);
    graph.failNext(0, 503);
  });

  it('ses-inbound: confirms the stored raw message with SES’s verdicts and records it', async () => {
    const messageId = 'relaywatch.f1@fabrikam.example';
    await seedProbe('fabrikam', 'f1', messageId, `probe@${RECEIVING}`, 60_000);
    const message = raw.replace(FIXTURE_ID, messageId).replace('tenant=contoso', 'tenant=fabrikam');
    s3.put('relaywatch-data', 'inbound/sesid0001', message);
    const at = new Date(Date.now() - 20_000).toISOString();
    const summary = await inbound(
      sesEvent(message, { messageId: 'sesid0001', timestamp: at, recipient: `probe@${RECEIVING}` }),
      CONTEXT,
    );
    expect(summary.confirmed).toEqual([{ messageId: 'sesid0001', probeId: 'f1', outcomes: ['delivered'] }]);
    const [c] = await confirmations('fabrikam');
    expect(c).toMatchObject({ subject: 'f1', status: 'pass', codes: ['delivered'], runId: 'ses-sesid0001' });
    expect(c?.detail).toMatchObject({
      folder: 'inbox',
      arrivedAt: at,
      auth: {
        source: 'trusted',
        authservId: 'amazonses.com',
        spf: { result: 'pass', ip: '52.101.69.1' },
        dmarc: expect.objectContaining({ result: 'pass' }),
        ignored: 1,
      },
    });
    expect(s3.requests.filter((r) => r.target === 'relaywatch-data/inbound/sesid0001')).toHaveLength(1);
  });

  it('ses-inbound: drops spam to the receiving domain with no write and no S3 read', async () => {
    const before = (await store.results.history('fabrikam', { limit: 1000 })).items.length;
    const reads = s3.requests.length;
    const spam = `Return-Path: <bulk@spam.example>\r\nFrom: <bulk@spam.example>\r\nTo: <probe@${RECEIVING}>\r\nSubject: You won\r\nMessage-ID: <win@spam.example>\r\n\r\nClick.\r\n`;
    s3.put('relaywatch-data', 'inbound/spam0001', spam);
    const summary = await inbound(
      sesEvent(spam, { messageId: 'spam0001', timestamp: new Date().toISOString(), recipient: `probe@${RECEIVING}` }),
      CONTEXT,
    );
    expect(summary).toEqual({
      confirmed: [],
      dropped: [{ messageId: 'spam0001', reason: 'no X-Relaywatch-Probe header: not a probe' }],
    });
    expect(s3.requests.length).toBe(reads);
    expect((await store.results.history('fabrikam', { limit: 1000 })).items.length).toBe(before);
  });

  it('ses-inbound: reads an oversized message only as far as its header block, and still confirms it', async () => {
    const messageId = 'relaywatch.f2@fabrikam.example';
    await seedProbe('fabrikam', 'f2', messageId, `probe@${RECEIVING}`, 60_000);
    const head = raw.replace(FIXTURE_ID, messageId).replace('tenant=contoso', 'tenant=fabrikam');
    const big = head + `${'y'.repeat(998)}\r\n`.repeat(9 * 1024);
    expect(big.length).toBeGreaterThan(8 * 1024 * 1024);
    s3.put('relaywatch-data', 'inbound/big0001', big);
    const served = s3.served.length;
    const summary = await inbound(
      sesEvent(head, {
        messageId: 'big0001',
        timestamp: new Date().toISOString(),
        recipient: `probe@${RECEIVING}`,
        headersTruncated: true,
      }),
      CONTEXT,
    );
    expect(summary.confirmed.map((c) => c.probeId)).toEqual(['f2']);
    expect(s3.served.slice(served)).toEqual([RAW_HEAD_BYTES]);
  });
});
