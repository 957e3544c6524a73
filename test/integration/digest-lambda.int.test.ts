/**
 * The digest function as deployed: the real handler module (zod-parsed environment, DynamoDB store, S3 report bucket,
 * the SES e-mail route) against DynamoDB Local holding the fixture week, the S3 stand-in (the config document and the
 * report page), the Secrets Manager stand-in (the report link key) and a local emulation of the SES Query API
 * (`SendRawEmail`). Invoked twice for the same scheduled time (a retry): the e-mails go out once. The MSP digest's
 * link is then followed through the real report-link handler module: a 302 to a pre-signed S3 GET of the page.
 */
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynamoDbStore } from '../../shared/adapters/store/dynamodb-store.ts';
import { ENV } from '../../shared/deploy/constants.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { MSP_CLAIM_TENANT } from '../../shared/use-cases/send-digest-once.ts';
import {
  type S3StandIn,
  type SecretsStandIn,
  startS3StandIn,
  startSecretsManagerStandIn,
} from '../support/aws-standins.ts';
import { fixtureConfig, writeFixture } from '../support/digest-fixture.ts';
import { useDynamoDbLocal } from '../support/dynamodb-local.ts';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { LAMBDA_CONTEXT, pushedDocument } from '../support/lambda-fakes.ts';

const TABLE = `digest-fn-${process.pid}`;
const BUCKET = 'relaywatch-config';
const SCHEDULED = { scheduledTime: '2026-11-23T07:00:00Z' };
const LINK_SECRET = 'relaywatch/test/report-link';
const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com';

describe('the digest function on DynamoDB Local with S3 and SES stand-ins', () => {
  const ddb = useDynamoDbLocal();
  const saved = { ...process.env };
  let s3: S3StandIn;
  let ses: Receiver;
  let sm: SecretsStandIn;
  let follow: (event: unknown, context: unknown) => Promise<{ statusCode: number; headers: Record<string, string> }>;
  let store: Store;
  const raw: string[] = [];
  let handler: (event: unknown, context: unknown) => Promise<{ recipientsSent: number; recipientsAlreadySent: number }>;

  beforeAll(async () => {
    s3 = await startS3StandIn();
    sm = await startSecretsManagerStandIn({ [LINK_SECRET]: 'Zq8'.repeat(16) });
    ses = await startReceiver('/', async (body) => {
      const params = new URLSearchParams(body);
      if (params.get('Action') !== 'SendRawEmail') return { status: 400, body: 'unexpected action' };
      raw.push(Buffer.from(params.get('RawMessage.Data') ?? '', 'base64').toString('utf8'));
      return {
        status: 200,
        body: `<SendRawEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendRawEmailResult><MessageId>0100-${raw.length}</MessageId></SendRawEmailResult><ResponseMetadata><RequestId>r${raw.length}</RequestId></ResponseMetadata></SendRawEmailResponse>`,
      };
    });
    store = await openDynamoDbStore({ tableName: TABLE, ...ddb().clientOptions, createTable: true });
    await writeFixture(store);
    const config = fixtureConfig('/unused.db').replace(
      /smtp: \{ host: 127\.0\.0\.1, port: \d+, requireTLS: true \}/,
      `ses: { region: eu-west-1, endpoint: "${ses.url}" }`,
    );
    expect(config).toContain('ses: { region: eu-west-1');
    s3.put(BUCKET, 'relaywatch.yaml', pushedDocument(config));
    Object.assign(process.env, {
      [ENV.configBucket]: BUCKET,
      [ENV.table]: TABLE,
      [ENV.dynamodbEndpoint]: ddb().endpoint,
      [ENV.s3Endpoint]: s3.endpoint,
      [ENV.secretsManagerEndpoint]: sm.endpoint,
      [ENV.reportLinkSecret]: LINK_SECRET,
      [ENV.reportLinkBaseUrl]: `${API}/`,
      AWS_REGION: ddb().clientOptions.region,
      AWS_ACCESS_KEY_ID: ddb().clientOptions.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ddb().clientOptions.credentials.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    handler = (await import('../../functions/digest/handler.ts')).handler as never;
    follow = (await import('../../functions/report-link/handler.ts')).handler as never;
  }, 60_000);

  afterAll(async () => {
    process.env = saved;
    await Promise.all([s3?.close(), ses?.close(), sm?.close(), store?.close()]);
  });

  it('sends the MSP-wide digest with a 7-day report link to the private report page and each tenant its own, once under a retry', async () => {
    const first = await handler(SCHEDULED, LAMBDA_CONTEXT);
    expect(first.recipientsSent).toBe(3);
    const mails = await Promise.all(raw.map((m) => simpleParser(m)));
    const to = mails.map((m) => (Array.isArray(m.to) ? m.to[0] : m.to)?.text);
    expect(to).toEqual(['noc@acme-msp.example', 'it@contoso.example', 'it@fabrikam.example']);
    expect(mails.map((m) => m.subject)).toEqual([
      expect.stringMatching(/weekly mail health, \d+ of 3 tenants need attention \(2026-W47\)$/),
      expect.stringMatching(/weekly mail health for Contoso .*\(2026-W47\)$/),
      'Acme <MSP> & Co: weekly mail health for Fabrikam Ltd (2026-W47)',
    ]);
    expect(mails.every((m) => m.from?.text === 'relaywatch@acme-msp.example')).toBe(true);

    // The report page: written under the report prefix, encrypted, private (no ACL), HTML.
    const key = `${BUCKET}/reports/2026-W47.html`;
    const page = s3.objects.get(key);
    expect(page?.body.toString('utf8')).toContain('Northwind Traders');
    const headers = s3.putHeaders.get(key)!;
    expect(headers['x-amz-server-side-encryption']).toBe('AES256');
    expect(headers['x-amz-acl']).toBeUndefined();
    expect(headers['content-type']).toBe('text/html; charset=utf-8');

    // The link in the MSP-wide digest: the HTTP API's report route, valid seven days from the run (not a pre-signed
    // S3 URL, which would die with the digest role's temporary credentials).
    const link = String(mails[0]!.text).match(/Full dashboard: (\S+)/)?.[1];
    expect(link).toBeDefined();
    const url = new URL(link!);
    expect(`${url.origin}${url.pathname}`).toBe(`${API}/v1/reports/2026-W47`);
    expect(url.searchParams.get('X-Amz-Signature')).toBeNull();
    expect(url.searchParams.get('sig')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const exp = Number(url.searchParams.get('exp'));
    const sentAt = Date.now() / 1000;
    expect(exp).toBeGreaterThan(sentAt + 604_800 - 120);
    expect(exp).toBeLessThanOrEqual(sentAt + 604_800);
    expect(mails[0]!.html).toContain(link!.replaceAll('&', '&amp;'));

    // Following it (the report-link function, as API Gateway invokes it): a 302 to a fresh pre-signed GET of the page.
    const event = {
      routeKey: 'GET /v1/reports/{week}',
      rawPath: url.pathname,
      pathParameters: { week: url.pathname.split('/').at(-1) },
      queryStringParameters: Object.fromEntries(url.searchParams),
    };
    const redirect = await follow(event, LAMBDA_CONTEXT);
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers['Cache-Control']).toBe('no-store');
    expect(redirect.headers['Referrer-Policy']).toBe('no-referrer');
    const signed = new URL(redirect.headers.Location!);
    expect(`${signed.origin}${signed.pathname}`).toBe(`${s3.endpoint}/${key}`);
    expect(signed.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(signed.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(signed.searchParams.get('X-Amz-Expires')).toBe('300');
    const fetched = await fetch(signed);
    expect(fetched.status).toBe(200);
    expect(await fetched.text()).toBe(page!.body.toString('utf8'));
    // A tampered link (another week) is refused without a redirect.
    const tampered = await follow(
      { ...event, pathParameters: { week: '2026-W46' }, rawPath: '/v1/reports/2026-W46' },
      LAMBDA_CONTEXT,
    );
    expect(tampered.statusCode).toBe(403);
    expect(tampered.headers.Location).toBeUndefined();
    // No per-tenant digest carries the link to the every-tenant page.
    for (const m of mails.slice(1)) expect(`${m.html}${m.text}`).not.toContain('/v1/reports/');

    // A retry of the same scheduled run: the same object again, no e-mail twice.
    const retry = await handler(SCHEDULED, { ...LAMBDA_CONTEXT, awsRequestId: 'req-2' });
    expect(retry).toMatchObject({ recipientsSent: 0, recipientsAlreadySent: 3 });
    expect(raw).toHaveLength(3);
    const claim = await store.deliveries.get(MSP_CLAIM_TENANT, 'digest/2026-W47/msp/noc@acme-msp.example');
    expect(claim?.deliveredAt).not.toBeNull();
    expect(claim?.owner).toBe('digest/2026-W47/req-1');
  }, 60_000);
});
