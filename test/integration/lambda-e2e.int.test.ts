/**
 * The Lambda functions end to end, in process, through their real handler modules (functions/*\/handler.ts: the
 * zod-parsed environment, middy, Powertools): DynamoDB Local (behind a counting proxy that can also fail chosen
 * operations), unbound for SPF and MX, rbldnsd as the DNSBL, a Standard Webhooks receiver, and local S3, SQS and
 * Secrets Manager stand-ins that speak the AWS SDK's wire formats. The config is pushed to S3 as an MSP would, and
 * every route secret and agent secret comes from Secrets Manager (nothing from environment values).
 *
 * dispatch → the SQS event built from what dispatch enqueued → worker → alerts (in the worker) → receiver; then the
 * same message twice, two workers at once on tenants sharing an IP, a notifier that fails then recovers, a failing
 * decision write, and the ingest with valid, badly signed, replayed, malformed and oversized requests.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULT_ITEM_BYTES, RUN_ITEM_BYTES, STATE_ITEM_BYTES } from '../../cdk/cost-model.ts';
import {
  CHECK_PREFIX,
  openDynamoDbStore,
  TENANT_RUN_PREFIX,
  tenantPk,
} from '../../shared/adapters/store/dynamodb-store.ts';
import { ZONES } from '../../shared/blocklist/registry.ts';
import { ENV, GROUP_INTERVAL_ENV } from '../../shared/deploy/constants.ts';
import { AGENT_REPORT_MAX_BYTES } from '../../shared/domain/agent-report.ts';
import { generateAgentSecret, signRequest } from '../../shared/ingest/signature.ts';
import type { Store } from '../../shared/ports/stores.ts';
import { agentReportFixture, BANNED_REPLY } from '../support/agent-report-fixture.ts';
import {
  type DynamoProxy,
  type S3StandIn,
  type SecretsStandIn,
  type SqsStandIn,
  startDynamoProxy,
  startS3StandIn,
  startSecretsManagerStandIn,
  startSqsStandIn,
} from '../support/aws-standins.ts';
import { dynamoItemBytes } from '../support/dynamo-size.ts';
import { useDynamoDbLocal } from '../support/dynamodb-local.ts';
import { type Receiver, startReceiver } from '../support/http-receiver.ts';
import { LAB_ZONE_CUSTOM } from '../support/lab-config.ts';
import { pushedDocument, sqsRecord } from '../support/lambda-fakes.ts';
import { type RbldnsdServer, rbldnsdAvailable, startRbldnsd } from '../support/rbldnsd.ts';
import { unboundAvailable, useUnbound } from '../support/unbound.ts';

const SHARED = '192.0.2.10';
const FABRIKAM_ONLY = '192.0.2.20';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const AGENT_SECRET = generateAgentSecret();
const TABLE = `relaywatch-lambda-e2e-${process.pid}`;
const CONTEXT = {
  functionName: 'e2e',
  awsRequestId: 'req',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

const rb = rbldnsdAvailable();
const ub = unboundAvailable();
const ready = rb.ok && ub.ok;

describe.skipIf(!ready && !process.env.CI)(
  `the Lambda functions end to end${ready ? '' : ` (SKIPPED: ${rb.ok ? '' : rb.reason} ${ub.ok ? '' : ub.reason})`}`,
  () => {
    const ddb = useDynamoDbLocal();
    const dns = useUnbound({
      localZones: [
        ['contoso.example.', 'static'],
        ['fabrikam.example.', 'static'],
        ['spf.protection.outlook.com.', 'static'],
      ],
      localData: [
        `contoso.example. 300 IN TXT "v=spf1 ip4:${SHARED} include:spf.protection.outlook.com -all"`,
        'contoso.example. 300 IN MX 0 contoso-example.mail.protection.outlook.com.',
        `fabrikam.example. 300 IN TXT "v=spf1 ip4:${SHARED} ip4:${FABRIKAM_ONLY} include:spf.protection.outlook.com -all"`,
        'spf.protection.outlook.com. 300 IN TXT "v=spf1 ip4:40.92.0.0/15 ip4:52.100.0.0/15 -all"',
        'fabrikam.example. 300 IN MX 0 fabrikam-example.mail.protection.outlook.com.',
      ],
      doh: false,
    });
    let s3: S3StandIn;
    let sqs: SqsStandIn;
    let sm: SecretsStandIn;
    let proxy: DynamoProxy;
    let hook: Receiver;
    let bl: RbldnsdServer | undefined;
    let store: Store;
    /** Every attempt the receiver saw (accepted or not), with its webhook id. */
    const attempts: { id: string; accepted: boolean; body: string }[] = [];
    let failing = false;
    let dispatch: Handler<{ time?: string }, { jobs: unknown[] }>;
    let worker: Handler<SQSEvent, { batchItemFailures: { itemIdentifier: string }[] }>;
    let ingest: Handler<APIGatewayProxyEventV2, { statusCode?: number; body?: string }>;
    const saved = { ...process.env };

    function config(blPort: number): string {
      return `
version: 1
msp: { name: Lab MSP, contact: { name: Lab NOC, email: noc@msp.example } }
dns: { resolvers: ['udp://127.0.0.1:${dns().udpPort}'], timeoutMs: 1000 }
blocklists:
  resolvers: ['udp://127.0.0.1:${blPort}']
${LAB_ZONE_CUSTOM}
  zones: { disable: [${ZONES.filter((z) => z.defaultEnabled)
    .map((z) => z.id)
    .join(', ')}] }
alerts:
  allowPrivateDestinations: true # the lab's receiver is on 127.0.0.1
  routes:
    - id: siem
      webhook:
        url: { secretsManager: relaywatch/routes, key: siem-url }
        secret: { secretsManager: relaywatch/routes, key: siem-secret }
  default: [siem]
ingest:
  agents:
    - { id: contoso-hq, tenant: contoso, secret: { secretsManager: relaywatch/agents, key: contoso-hq } }
tenants:
  - { id: contoso, name: Contoso Ltd, domains: [contoso.example], relayIps: [${SHARED}] }
  - { id: fabrikam, name: Fabrikam Inc, domains: [fabrikam.example], relayIps: [${SHARED}, ${FABRIKAM_ONLY}] }
`;
    }

    /** (Re)start rbldnsd listing `listed`, and push the config naming it (a new ETag: the functions re-read it). */
    async function serve(listed: readonly string[]): Promise<RbldnsdServer> {
      await bl?.stop();
      bl = await startRbldnsd({
        zones: [
          {
            name: 'lab.bl.test',
            type: 'ip4set',
            files: [`:127.0.0.2:Listed by the lab trap\n127.0.0.2\n${listed.join('\n')}\n`],
          },
        ],
      });
      s3.put('relaywatch-config', 'relaywatch.yaml', pushedDocument(config(bl.port)));
      return bl;
    }

    /** Dispatch one tick and return the SQS event of exactly what it enqueued. */
    async function tick(time: string): Promise<SQSEvent> {
      const before = sqs.messages.length;
      await dispatch({ time }, CONTEXT);
      return {
        Records: sqs.messages.slice(before).map((m) => sqsRecord(m.body, m.messageId)),
      };
    }

    /** Blocklist alerts only (the domain checks have their own incidents, not what these tests count). */
    const blocklistAlerts = (list: typeof attempts) =>
      list.filter((a) => (JSON.parse(a.body) as { data: { check: string } }).data.check === 'blocklist');
    const accepted = () => blocklistAlerts(attempts.filter((a) => a.accepted));
    const queriesFor = (ip: string) =>
      (bl?.log() ?? '').split('\n').filter((l) => l.includes(`${ip.split('.').reverse().join('.')}.lab.bl.test A `))
        .length;

    beforeAll(async () => {
      [s3, sqs, sm] = await Promise.all([
        startS3StandIn(),
        startSqsStandIn(),
        startSecretsManagerStandIn({
          'relaywatch/agents': JSON.stringify({ 'contoso-hq': AGENT_SECRET }),
        }),
      ]);
      const wh = new Webhook(WEBHOOK_SECRET);
      hook = await startReceiver('/siem', async (body, headers) => {
        const id = String(headers['webhook-id']);
        wh.verify(body, {
          'webhook-id': id,
          'webhook-timestamp': String(headers['webhook-timestamp']),
          'webhook-signature': String(headers['webhook-signature']),
        });
        attempts.push({ id, accepted: !failing, body });
        return failing ? { status: 503, body: 'down for maintenance' } : null;
      });
      sm.secrets.set('relaywatch/routes', JSON.stringify({ 'siem-url': hook.url, 'siem-secret': WEBHOOK_SECRET }));
      proxy = await startDynamoProxy(ddb().endpoint);
      store = await openDynamoDbStore({ tableName: TABLE, ...ddb().clientOptions, createTable: true });
      await serve([SHARED]);
      Object.assign(process.env, {
        [ENV.configBucket]: 'relaywatch-config',
        [ENV.configKey]: 'relaywatch.yaml',
        [ENV.table]: TABLE,
        [ENV.jobQueueUrl]: `${sqs.endpoint}/000000000000/relaywatch-jobs`,
        [ENV.dynamodbEndpoint]: proxy.endpoint,
        [ENV.s3Endpoint]: s3.endpoint,
        [ENV.sqsEndpoint]: sqs.endpoint,
        [ENV.secretsManagerEndpoint]: sm.endpoint,
        [GROUP_INTERVAL_ENV.checks]: '15',
        [GROUP_INTERVAL_ENV.blocklists]: '15',
        [ENV.blocklistShards]: '1',
        // DynamoDB Local keeps one database per (access key, region): the functions use the test's.
        AWS_REGION: ddb().clientOptions.region,
        AWS_ACCESS_KEY_ID: ddb().clientOptions.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: ddb().clientOptions.credentials.secretAccessKey,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        POWERTOOLS_METRICS_DISABLED: 'true',
      });
      dispatch = (await import('../../functions/dispatch/handler.ts')).handler as never;
      worker = (await import('../../functions/worker/handler.ts')).handler as never;
      ingest = (await import('../../functions/ingest/handler.ts')).handler as never;
    }, 60_000);

    afterAll(async () => {
      process.env = saved;
      await Promise.all([
        bl?.stop(),
        s3?.close(),
        sqs?.close(),
        sm?.close(),
        hook?.close(),
        proxy?.close(),
        store?.close(),
      ]);
    });

    let first: SQSEvent;

    it('dispatch → SQS → worker → alerts → receiver: the listed shared IP opens one incident per tenant, alerted once each', async () => {
      first = await tick('2026-11-27T18:00:10Z');
      expect(first.Records).toHaveLength(3); // two tenant jobs and one blocklist job
      const res = await worker(first, CONTEXT);
      expect(res.batchItemFailures).toEqual([]);
      expect(accepted()).toHaveLength(2);
      const tenants = accepted().map(
        (a) => (JSON.parse(a.body) as { data: { tenant: { id: string } } }).data.tenant.id,
      );
      expect(tenants.sort()).toEqual(['contoso', 'fabrikam']);
      const spf = await store.results.history('contoso', { check: 'spf' });
      expect(
        spf.items.map((c) => c.status),
        JSON.stringify(spf.items.map((c) => c.codes)),
      ).toEqual(['pass']);
      expect((await store.results.history('contoso', { check: 'mx' })).items).toHaveLength(1);
      const runs = await store.results.runs({ tenantId: 'contoso' });
      expect(runs.items.map((r) => r.tenantId)).toEqual(['contoso']);
    });

    it('writes and sends nothing new when the same SQS messages arrive again', async () => {
      const checks = async (t: string) => (await store.results.history(t, { limit: 1000 })).items.length;
      const before = { contoso: await checks('contoso'), fabrikam: await checks('fabrikam') };
      const incidents = (await store.incidents.list('fabrikam')).items;
      const res = await worker(first, CONTEXT);
      expect(res.batchItemFailures).toEqual([]);
      expect({ contoso: await checks('contoso'), fabrikam: await checks('fabrikam') }).toEqual(before);
      expect((await store.incidents.list('fabrikam')).items).toEqual(incidents);
      expect(accepted()).toHaveLength(2);
    });

    it('asks a shared IP once per cycle, with two workers running at once (counted at rbldnsd)', async () => {
      const server = await serve([SHARED]);
      const event = await tick('2026-11-27T18:15:10Z');
      const blocklist = event.Records.filter((r) => r.body.includes('"blocklists"'));
      const tenantJobs = event.Records.filter((r) => !r.body.includes('"blocklists"'));
      const [a, b] = await Promise.all([
        worker({ Records: [tenantJobs[0], blocklist[0]].filter((r) => r !== undefined) }, CONTEXT),
        worker({ Records: tenantJobs.slice(1) }, CONTEXT),
      ]);
      expect([...a.batchItemFailures, ...b.batchItemFailures]).toEqual([]);
      expect(server.log()).toContain('lab.bl.test');
      expect(queriesFor(SHARED)).toBe(1);
      expect(queriesFor(FABRIKAM_ONLY)).toBe(1);
      // Still listed: no new alert.
      expect(accepted()).toHaveLength(2);
    });

    it('delivers an alert whose send failed on a later cycle, once, with the same webhook id', async () => {
      await serve([SHARED, FABRIKAM_ONLY]);
      failing = true;
      const res = await worker(await tick('2026-11-27T18:30:10Z'), CONTEXT);
      failing = false;
      expect(res.batchItemFailures).toEqual([]);
      const refused = blocklistAlerts(attempts.filter((a) => !a.accepted));
      expect(refused).toHaveLength(1);
      expect(accepted()).toHaveLength(2);
      await worker(await tick('2026-11-27T18:45:10Z'), CONTEXT);
      const late = accepted().slice(2);
      expect(late).toHaveLength(1);
      expect(late[0]?.id).toBe(refused[0]?.id);
      await worker(await tick('2026-11-27T19:00:10Z'), CONTEXT);
      expect(accepted()).toHaveLength(3);
    });

    it('writes nothing half when the decision write fails, and the redelivered job decides it whole', async () => {
      // Both of fabrikam's IPs are delisted: each decision resolves an incident (state and incident in one write),
      // and that write fails.
      await serve([]);
      const event = await tick('2026-11-27T19:15:10Z');
      proxy.failing.add('TransactWriteItems');
      const failed = await worker(event, CONTEXT);
      proxy.failing.delete('TransactWriteItems');
      expect(failed.batchItemFailures.length).toBeGreaterThan(0);
      const open = async () =>
        (await store.incidents.list('fabrikam', { status: 'open' })).items.filter((i) => i.check === 'blocklist')
          .length;
      const stillOpen = await open();
      expect(stillOpen).toBe(2); // neither incident resolved, and no state moved on without them
      const states = await store.states.list('fabrikam');
      expect(states.filter((s) => s.check === 'blocklist' && s.consecutivePasses > 0)).toEqual([]);
      // SQS redelivers the failed messages: now the writes go through, whole.
      const retry = {
        Records: event.Records.filter((r) => failed.batchItemFailures.some((f) => f.itemIdentifier === r.messageId)),
      };
      const ok = await worker(retry, CONTEXT);
      expect(ok.batchItemFailures).toEqual([]);
      const after = await store.states.list('fabrikam');
      expect(after.filter((s) => s.check === 'blocklist' && s.consecutivePasses > 0).length).toBeGreaterThan(0);
    });

    /** Run `records` through the worker and return the DynamoDB requests and capacity units it cost. */
    async function measured(records: SQSEvent['Records']) {
      proxy.reset();
      const res = await worker({ Records: records }, CONTEXT);
      expect(res.batchItemFailures).toEqual([]);
      const counts = proxy.counts();
      const capacity = proxy.capacity();
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const units = Object.values(capacity).reduce<number>((a, b) => a + (b ?? 0), 0);
      return { counts, capacity, total, units };
    }
    const forTenant = (event: SQSEvent, id: string) =>
      event.Records.filter((r) => r.body.includes(`"tenantId":"${id}"`));
    const blocklistJobs = (event: SQSEvent) => event.Records.filter((r) => r.body.includes('"kind":"blocklists"'));

    it('counts the DynamoDB requests and capacity units of one tenant job: steady, and the daily heartbeat', async () => {
      await serve([]);
      // Warm up until the counters are past the thresholds (from then on nothing the policy reads moves).
      for (const t of ['19:30', '19:45', '20:00']) {
        await worker({ Records: forTenant(await tick(`2026-11-27T${t}:10Z`), 'contoso') }, CONTEXT);
      }
      // The tenant job's states (SPF, MX); the blocklist job records the IP's.
      const versions = async () =>
        (await store.states.list('contoso'))
          .filter((x) => x.check !== 'blocklist')
          .map((x) => `${x.check}/${x.subject}@${x.version}`)
          .sort();
      const before = await versions();
      const active = await store.incidents.listActive('contoso');
      const steady = await measured(forTenant(await tick('2026-11-27T20:15:10Z'), 'contoso'));
      console.info(
        `[dynamodb] tenant job (1 domain, steady, ${active.length} active incident(s)): ${steady.total} requests ${JSON.stringify(steady.counts)}, capacity units ${JSON.stringify(steady.capacity)}`,
      );
      // docs/state-incidents-alerts.md states these figures: 2 Query (states, active incidents), 1 BatchWriteItem
      // (both check results and the run), no state written (nothing the policy reads changed).
      expect(steady.counts).toEqual({ Query: 2, BatchWriteItem: 1 });
      // 2 results and the run, one write unit each; the states (1) and active incidents (0.5).
      expect(steady.capacity).toEqual({ Query: 1.5, BatchWriteItem: 3 });
      expect(await versions()).toEqual(before);
      // A day later every unchanged state is written once more (the heartbeat).
      const heartbeat = await measured(forTenant(await tick('2026-11-28T20:30:10Z'), 'contoso'));
      console.info(
        `[dynamodb] tenant job (a day later: heartbeat, reminders due): ${heartbeat.total} requests ${JSON.stringify(heartbeat.counts)}, capacity units ${JSON.stringify(heartbeat.capacity)}`,
      );
      const after = await versions();
      expect(after).toHaveLength(before.length);
      expect(after).toEqual(before.map((v) => v.replace(/@(\d+)$/, (_, n: string) => `@${Number(n) + 1}`)));
    });

    it('counts the DynamoDB requests and capacity units of the blocklist job: steady, and a listing that opens incidents', async () => {
      await serve([]);
      for (const t of ['20:45', '21:00', '21:15']) {
        await worker({ Records: blocklistJobs(await tick(`2026-11-28T${t}:10Z`)) }, CONTEXT);
      }
      const steady = await measured(blocklistJobs(await tick('2026-11-28T21:30:10Z')));
      console.info(
        `[dynamodb] blocklist job (2 tenants, 2 IPs, steady): ${steady.total} requests ${JSON.stringify(steady.counts)}, capacity units ${JSON.stringify(steady.capacity)}`,
      );
      // Per tenant 2 Query (states, active incidents); for the job 1 BatchWriteItem (3 results and the run).
      expect(steady.counts).toEqual({ Query: 4, BatchWriteItem: 1 });
      // One write unit per result; the sweep's run covers many tenants, so it is a run without a tenant (GSI2 `RUNS`:
      // 2 units). Reads: per tenant its states (1) and active incidents (0.5).
      expect(steady.capacity).toEqual({ Query: 3, BatchWriteItem: 5 });
      await serve([SHARED]);
      const changed = await measured(blocklistJobs(await tick('2026-11-28T21:45:10Z')));
      console.info(
        `[dynamodb] blocklist job (the shared IP listed: 2 incidents open, 2 alerts): ${changed.total} requests ${JSON.stringify(changed.counts)}, capacity units ${JSON.stringify(changed.capacity)}`,
      );
      // Each opening decision is one TransactWriteItems (state + incident); each alert a claim, its completion and the
      // incident's delivery record.
      expect(changed.counts).toMatchObject({ Query: 4, BatchWriteItem: 1, TransactWriteItems: 2, UpdateItem: 4 });
    });

    it('measures the stored items: every check result, state and run under 1 KB (one write unit each), within the cost model', async () => {
      const doc = DynamoDBDocumentClient.from(ddb().client);
      const items =
        (
          await doc.send(
            new QueryCommand({
              TableName: TABLE,
              KeyConditionExpression: 'PK = :pk',
              ExpressionAttributeValues: { ':pk': tenantPk('contoso') },
            }),
          )
        ).Items ?? [];
      const prefix = (item: Record<string, unknown>) => String(item.SK).slice(0, 2);
      const kinds = new Map<string, number[]>();
      for (const item of items) {
        const kind = prefix(item) === CHECK_PREFIX ? `check ${String(item.check)}` : `${prefix(item)} item`;
        kinds.set(kind, [...(kinds.get(kind) ?? []), dynamoItemBytes(item)]);
      }
      const checks = items.filter((i) => prefix(i) === CHECK_PREFIX);
      const runs = items.filter((i) => prefix(i) === TENANT_RUN_PREFIX);
      const states = items.filter((i) => prefix(i) === 'S#');
      const summary = [...kinds]
        .map(([k, sizes]) => `${k}: ${Math.min(...sizes)}-${Math.max(...sizes)} B (${sizes.length})`)
        .join('; ');
      console.info(`[dynamodb] contoso's items: ${summary}`);
      console.info(
        `[dynamodb] a blocklist result as stored: ${JSON.stringify(checks.find((c) => c.check === 'blocklist'))}`,
      );
      expect(checks.length).toBeGreaterThan(0);
      expect(runs.length).toBeGreaterThan(0);
      // Written once: no check result and no tenant run carries an index key any more.
      for (const i of [...checks, ...runs]) expect(Object.keys(i).filter((k) => k.startsWith('GSI'))).toEqual([]);
      // cdk/cost-model.ts prices these sizes (docs/deploy.md, "Cost"): each is at most the model's figure, and one
      // write unit; the model is not padded either (the largest measured is within 15 % of it).
      const largest = (list: readonly Record<string, unknown>[]) => Math.max(...list.map((i) => dynamoItemBytes(i)));
      for (const [list, modelled] of [
        [checks, RESULT_ITEM_BYTES],
        [runs, RUN_ITEM_BYTES],
        [states, STATE_ITEM_BYTES],
      ] as const) {
        expect(largest(list)).toBeLessThanOrEqual(modelled);
        expect(largest(list)).toBeGreaterThan(modelled * 0.85);
        expect(largest(list)).toBeLessThan(1024);
      }
    });

    describe('ingest', () => {
      const at = new Date();
      const request = (body: string, headers: Record<string, string>): APIGatewayProxyEventV2 => ({
        version: '2.0',
        routeKey: 'POST /reports',
        rawPath: '/reports',
        rawQueryString: '',
        headers: { 'content-type': 'application/json', host: 'ingest.example', ...headers },
        requestContext: {
          http: { method: 'POST', sourceIp: '203.0.113.7' },
        } as APIGatewayProxyEventV2['requestContext'],
        body,
        isBase64Encoded: false,
      });
      const signed = (body: string, secret = AGENT_SECRET) =>
        request(body, signRequest({ agentId: 'contoso-hq', secret, body, url: 'https://ingest.example/reports' }));

      it('answers 202 for a valid report and records it, 401 badly signed, 409 replayed, 400 malformed with the path, 413 oversized', async () => {
        const body = JSON.stringify(await agentReportFixture(BANNED_REPLY, { at }));
        const valid = signed(body);
        expect((await ingest(valid, CONTEXT)).statusCode).toBe(202);
        const h = await store.results.history('contoso', { check: 'probe-relay' });
        expect(h.items.map((c) => c.codes[0])).toEqual(['probe-ms-banned-ip']);
        expect((await ingest(signed(body, generateAgentSecret()), CONTEXT)).statusCode).toBe(401);
        expect((await ingest(valid, CONTEXT)).statusCode).toBe(409);
        const bad = JSON.parse(body) as { egress: { ip: string } };
        bad.egress.ip = 'not-an-ip';
        const malformed = await ingest(signed(JSON.stringify(bad)), CONTEXT);
        expect([malformed.statusCode, JSON.parse(String(malformed.body)).path]).toEqual([400, 'egress.ip']);
        expect((await ingest(request('x'.repeat(AGENT_REPORT_MAX_BYTES + 10), {}), CONTEXT)).statusCode).toBe(413);
      });
    });
  },
);
