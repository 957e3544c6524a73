/**
 * `state.retentionDays` of the deployed document reaches the Lambda store: the real worker handler module
 * (functions/worker/handler.ts: zod-parsed environment, middy, Powertools) on DynamoDB Local, with the document in the
 * local S3 stand-in and unbound answering the tenant's SPF and MX. The check results and the tenant's run it writes
 * expire (`expiresAt`, the table's TTL attribute) the document's period after they were taken, and a new document
 * pushed to the same warm container changes the period of the next invocation.
 */

import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  escapeKeyPart,
  openDynamoDbStore,
  tenantPk,
  unescapeKeyPart,
} from '../../shared/adapters/store/dynamodb-store.ts';
import { ENV, TTL_ATTRIBUTE } from '../../shared/deploy/constants.ts';
import { tenantJob } from '../../shared/domain/jobs.ts';
import { type S3StandIn, startS3StandIn } from '../support/aws-standins.ts';
import { useDynamoDbLocal } from '../support/dynamodb-local.ts';
import { pushedDocument, sqsRecord } from '../support/lambda-fakes.ts';
import { unboundAvailable, useUnbound } from '../support/unbound.ts';

const TABLE = `relaywatch-lambda-retention-${process.pid}`;
const DAY_SECONDS = 86_400;
const CONTEXT = {
  functionName: 'retention',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

type Worker = (event: SQSEvent, context: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

const ub = unboundAvailable();

describe.skipIf(!ub.ok && !process.env.CI)(
  `the Lambda store's retention comes from the deployed document${ub.ok ? '' : ` (SKIPPED: ${ub.reason})`}`,
  () => {
    const ddb = useDynamoDbLocal();
    const dns = useUnbound({
      localZones: [['contoso.example.', 'static']],
      localData: [
        'contoso.example. 300 IN TXT "v=spf1 ip4:192.0.2.10 -all"',
        'contoso.example. 300 IN MX 0 contoso-example.mail.protection.outlook.com.',
      ],
      doh: false,
    });
    let s3: S3StandIn;
    let worker: Worker;
    const saved = { ...process.env };

    const document = (retentionDays: number) => `
version: 1
msp: { name: Lab MSP, contact: { name: Lab NOC, email: noc@msp.example } }
dns: { resolvers: ['udp://127.0.0.1:${dns().udpPort}'], timeoutMs: 1000 }
state: { retentionDays: ${retentionDays} }
tenants:
  - { id: contoso, name: Contoso Ltd, domains: [contoso.example], relayIps: [192.0.2.10] }
`;

    const eventOf = (body: string, id: string): SQSEvent => ({ Records: [sqsRecord(body, id)] });

    /** Run one tenant job of `slot` through the worker; the check items and the run item it wrote. */
    async function runJob(slot: Date, id: string) {
      const job = tenantJob(slot, 'contoso');
      const answer = await worker(eventOf(JSON.stringify(job), id), CONTEXT);
      expect(answer.batchItemFailures).toEqual([]);
      const doc = DynamoDBDocumentClient.from(ddb().client);
      const partition =
        (
          await doc.send(
            new QueryCommand({
              TableName: TABLE,
              KeyConditionExpression: 'PK = :pk',
              ExpressionAttributeValues: { ':pk': tenantPk('contoso') },
            }),
          )
        ).Items ?? [];
      // Keys `H#<at>#<run>#<check>#<subject>` and `R#<startedAt>#<run>`: the time and the check come from the key.
      const run = escapeKeyPart(job.runId);
      const checks = partition
        .map((item) => ({ item, parts: String(item.SK).split('#') }))
        .filter(({ parts }) => parts[0] === 'H' && parts[2] === run)
        .map(({ item, parts }) => ({ ...item, at: parts[1], check: unescapeKeyPart(parts[3] ?? '') }));
      const runItem = partition
        .map((item) => ({ item, parts: String(item.SK).split('#') }))
        .find(({ parts }) => parts[0] === 'R' && parts[2] === run);
      const runRecord = runItem ? { ...runItem.item, startedAt: runItem.parts[1] } : undefined;
      return { checks, run: runRecord };
    }

    const ttlOf = (item: Record<string, unknown>, at: unknown) => ({
      expiresAt: item[TTL_ATTRIBUTE],
      expected: (days: number) => Math.floor(Date.parse(String(at)) / 1000) + days * DAY_SECONDS,
    });

    beforeAll(async () => {
      s3 = await startS3StandIn();
      s3.put('relaywatch-config', 'relaywatch.yaml', pushedDocument(document(30)));
      const created = await openDynamoDbStore({ tableName: TABLE, ...ddb().clientOptions, createTable: true });
      await created.close();
      Object.assign(process.env, {
        [ENV.configBucket]: 'relaywatch-config',
        [ENV.configKey]: 'relaywatch.yaml',
        [ENV.table]: TABLE,
        [ENV.dynamodbEndpoint]: ddb().endpoint,
        [ENV.s3Endpoint]: s3.endpoint,
        // DynamoDB Local keeps one database per (access key, region): the function uses the test's.
        AWS_REGION: ddb().clientOptions.region,
        AWS_ACCESS_KEY_ID: ddb().clientOptions.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: ddb().clientOptions.credentials.secretAccessKey,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        POWERTOOLS_METRICS_DISABLED: 'true',
      });
      worker = (await import('../../functions/worker/handler.ts')).handler as unknown as Worker;
    }, 60_000);

    afterAll(async () => {
      process.env = saved;
      await s3?.close();
    });

    it("writes the worker's results and run with the document's TTL, and a new document's on the next invocation", async () => {
      const slot = new Date(Math.floor(Date.now() / 900_000) * 900_000);
      const first = await runJob(slot, 'm1');
      expect(first.checks.map((c) => c.check).sort()).toEqual(['mx', 'spf']);
      for (const c of first.checks) {
        const t = ttlOf(c, c.at);
        expect(t.expiresAt).toBe(t.expected(30));
      }
      expect(first.run).toBeDefined();
      const runTtl = ttlOf(first.run ?? {}, first.run?.startedAt);
      expect(runTtl.expiresAt).toBe(runTtl.expected(30));

      // The same warm container, a new document: the next invocation writes with its period.
      s3.put('relaywatch-config', 'relaywatch.yaml', pushedDocument(document(400)));
      const second = await runJob(new Date(slot.getTime() + 900_000), 'm2');
      expect(second.checks.length).toBe(2);
      for (const c of second.checks) {
        const t = ttlOf(c, c.at);
        expect(t.expiresAt).toBe(t.expected(400));
      }
    }, 60_000);
  },
);
