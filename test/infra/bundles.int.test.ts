/**
 * The function bundles exactly as `cdk synth` builds them (the MonitorFunction construct's esbuild settings), each
 * imported in a fresh Node.js 24 process with nothing but the bundle folder and invoked once with a sample event
 * against DynamoDB Local and local S3/SQS stand-ins: the bundles run, not only build.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { openStore } from '../../shared/adapters/store/open-store.ts';
import { configJson } from '../../shared/config/document.ts';
import { readConfigDocument } from '../../shared/config/load.ts';
import { CONFIRM_ENV, ENV, GROUP_INTERVAL_ENV } from '../../shared/deploy/constants.ts';
import { signReportLink } from '../../shared/digest/report-link.ts';
import {
  type S3StandIn,
  type SecretsStandIn,
  type SqsStandIn,
  startS3StandIn,
  startSecretsManagerStandIn,
  startSqsStandIn,
} from '../support/aws-standins.ts';
import { type BundleName, synthBundles } from '../support/cdk-bundles.ts';
import { useDynamoDbLocal } from '../support/dynamodb-local.ts';

const run = promisify(execFile);
const TABLE = 'bundle-smoke';

/** Import the bundle in a fresh process and call its handler once; the result (or the error) comes back as JSON. */
async function invoke(bundle: string, event: unknown, env: Record<string, string>) {
  const driver = `
    const started = performance.now();
    const m = await import(${JSON.stringify(join(bundle, 'index.mjs'))});
    const initMs = performance.now() - started;
    const context = { functionName: 'smoke', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60000 };
    try {
      const result = await m.handler(JSON.parse(process.env.SMOKE_EVENT), context);
      console.log(JSON.stringify({ ok: true, initMs, arity: m.handler.length, result }));
    } catch (err) {
      console.log(JSON.stringify({ ok: false, initMs, error: String(err && err.stack || err) }));
    }`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', driver], {
    cwd: bundle,
    env: { PATH: process.env.PATH ?? '', ...env, SMOKE_EVENT: JSON.stringify(event) },
    timeout: 60_000,
    maxBuffer: 8 * 1024 * 1024,
  });
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as { ok: boolean; initMs: number; arity: number; result?: unknown; error?: string };
}

describe('the function bundles', () => {
  const ddb = useDynamoDbLocal();
  const outdir = mkdtempSync(join(tmpdir(), 'relaywatch-bundles-'));
  let bundles: Record<BundleName, string>;
  let s3: S3StandIn;
  let sqs: SqsStandIn;
  let sm: SecretsStandIn;
  let env: Record<string, string>;

  beforeAll(async () => {
    bundles = synthBundles(outdir);
    [s3, sqs, sm] = await Promise.all([
      startS3StandIn(),
      startSqsStandIn(),
      startSecretsManagerStandIn({ 'relaywatch/smoke/report-link-key': 'L'.repeat(64) }),
    ]);
    const store = await openStore(`dynamodb:${TABLE}`, { ...ddb().clientOptions, createTable: true });
    await store.close();
    // YAML copied by hand: dispatch refuses it (the functions read the JSON form `config push` uploads); the test
    // then puts the JSON form, which every function reads.
    s3.put(
      'relaywatch-config',
      'relaywatch.yaml',
      `version: 1
msp: { name: Lab MSP, contact: { name: Lab NOC, email: noc@msp.example } }
# No resolver answers here (a closed port): every verdict is unknown, which is still a recorded, completed job.
dns: { resolvers: ['udp://127.0.0.1:9'], timeoutMs: 300 }
blocklists: { resolvers: ['udp://127.0.0.1:9'], zones: { disable: [spamhaus-zen-dqs, abusix] } }
tenants:
  - { id: contoso, name: Contoso Ltd, domains: [contoso.example] }
`,
    );
    env = {
      [ENV.configBucket]: 'relaywatch-config',
      [ENV.configKey]: 'relaywatch.yaml',
      [ENV.table]: TABLE,
      [ENV.jobQueueUrl]: `${sqs.endpoint}/000000000000/relaywatch-jobs`,
      [ENV.dynamodbEndpoint]: ddb().endpoint,
      [ENV.s3Endpoint]: s3.endpoint,
      [ENV.sqsEndpoint]: sqs.endpoint,
      [GROUP_INTERVAL_ENV.checks]: '60',
      [GROUP_INTERVAL_ENV.blocklists]: '60',
      [ENV.blocklistShards]: '1',
      [CONFIRM_ENV.sesInboundBucket]: 'relaywatch-data',
      [ENV.secretsManagerEndpoint]: sm.endpoint,
      [ENV.reportLinkSecret]: 'relaywatch/smoke/report-link-key',
      AWS_REGION: ddb().clientOptions.region,
      AWS_ACCESS_KEY_ID: ddb().clientOptions.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: ddb().clientOptions.credentials.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
  }, 180_000);

  afterAll(async () => {
    await Promise.all([s3?.close(), sqs?.close(), sm?.close()]);
    rmSync(outdir, { recursive: true, force: true });
  });

  it('carries the blocklist registry beside each bundle', () => {
    for (const [name, dir] of Object.entries(bundles)) {
      expect(existsSync(join(dir, 'index.mjs')), name).toBe(true);
      expect(readFileSync(join(dir, 'zones.yaml'), 'utf8'), name).toContain('zen.spamhaus.org');
      // and as JSON, which the bundle reads instead of parsing the YAML at cold start
      expect(JSON.parse(readFileSync(join(dir, 'zones.json'), 'utf8')), name).toEqual(
        parse(readFileSync(join(dir, 'zones.yaml'), 'utf8')),
      );
    }
  });

  it('loads every chunk of each bundle (the lazy paths too) in a fresh process from the bundle folder alone', async () => {
    for (const [name, dir] of Object.entries(bundles)) {
      const chunks = readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== 'index.mjs');
      // code splitting: the optional paths (mail, SSM, OAuth…) are chunks of their own
      expect(chunks.length, name).toBeGreaterThan(0);
      const driver = `
        const failed = [];
        for (const f of ${JSON.stringify(chunks)}) {
          try { await import(new URL(f, 'file://' + process.cwd() + '/').href); } catch (err) { failed.push(f + ': ' + String(err)); }
        }
        console.log(JSON.stringify(failed));`;
      // a copy of the folder elsewhere: nothing outside the bundle may be reached
      const copy = mkdtempSync(join(tmpdir(), `relaywatch-chunks-${name}-`));
      cpSync(dir, copy, { recursive: true });
      try {
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', driver], {
          cwd: copy,
          env: { PATH: process.env.PATH ?? '' },
          timeout: 60_000,
        });
        expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null'), name).toEqual([]);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    }
  });

  it('dispatch enqueues the slot, the worker runs and records the job, ingest refuses an unsigned report', async () => {
    const refused = await invoke(bundles.dispatch, { group: 'checks', scheduledTime: '2026-12-02T10:00:00Z' }, env);
    expect(refused.error).toMatch(/not JSON \(a YAML file copied by hand\?\): .*relaywatch config push/);
    expect(sqs.messages).toEqual([]);
    const yaml = s3.objects.get('relaywatch-config/relaywatch.yaml')?.body.toString('utf8') ?? '';
    expect(yaml).toMatch(/^version: 1\n/);
    s3.put('relaywatch-config', 'relaywatch.yaml', configJson(readConfigDocument(yaml, 'smoke.yaml').document));
    const d = await invoke(bundles.dispatch, { group: 'checks', scheduledTime: '2026-12-02T10:00:00Z' }, env);
    expect(d.error).toBeUndefined();
    expect(d.ok).toBe(true);
    expect(d.arity).toBeLessThanOrEqual(2);
    expect(sqs.messages.length).toBeGreaterThanOrEqual(1);
    const tenantJob = sqs.messages.find((m) => m.body.includes('"contoso"'));
    expect(tenantJob).toBeDefined();

    const w = await invoke(
      bundles.worker,
      {
        Records: [
          {
            messageId: tenantJob!.messageId,
            receiptHandle: 'rh-1',
            body: tenantJob!.body,
            attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()) },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:relaywatch-jobs',
            awsRegion: 'eu-west-1',
          },
        ],
      },
      env,
    );
    expect(w.error).toBeUndefined();
    expect(w.result).toEqual({ batchItemFailures: [] });
    const store = await openStore(`dynamodb:${TABLE}`, ddb().clientOptions);
    try {
      const page = await store.results.history('contoso');
      expect(page.items.length).toBeGreaterThan(0);
      expect(page.items.every((c: { status: string }) => c.status === 'unknown')).toBe(true);
    } finally {
      await store.close();
    }

    const i = await invoke(
      bundles.ingest,
      {
        version: '2.0',
        routeKey: 'POST /v1/agent-reports',
        rawPath: '/v1/agent-reports',
        rawQueryString: '',
        headers: { 'content-type': 'application/json', host: 'ingest.example' },
        requestContext: {
          http: { method: 'POST', path: '/v1/agent-reports', sourceIp: '203.0.113.10', protocol: 'HTTP/1.1' },
          domainName: 'ingest.example',
          requestId: 'r1',
          timeEpoch: Date.now(),
        },
        body: '{}',
        isBase64Encoded: false,
      },
      env,
    );
    expect(i.error).toBeUndefined();
    expect((i.result as { statusCode: number }).statusCode).toBeGreaterThanOrEqual(400);
    expect((i.result as { statusCode: number }).statusCode).toBeLessThan(500);
  }, 180_000);

  it('confirm runs a scheduled tick with nothing outstanding; ses-inbound drops a message that is no probe', async () => {
    const c = await invoke(bundles.confirm, { scheduledTime: '2026-12-02T10:05:00Z' }, env);
    expect(c.error).toBeUndefined();
    expect(c.arity).toBeLessThanOrEqual(2);
    expect(c.result).toMatchObject({ runId: 'confirm-2026-12-02T10:05:00.000Z', outcomes: {}, pending: 0 });
    const headers = [{ name: 'Message-ID', value: '<spam@spam.example>' }];
    const mail = { timestamp: '2026-12-02T10:06:00.000Z', messageId: 'smoke1', headersTruncated: false, headers };
    const si = await invoke(bundles['ses-inbound'], { Records: [{ eventSource: 'aws:ses', ses: { mail } }] }, env);
    expect(si.error).toBeUndefined();
    expect(si.result).toEqual({
      confirmed: [],
      dropped: [{ messageId: 'smoke1', reason: 'no X-Relaywatch-Probe header: not a probe' }],
    });
  }, 180_000);

  it('report-link redirects a signed link to a pre-signed GET that returns the page, and refuses a tampered one', async () => {
    s3.put('relaywatch-config', 'reports/2026-W48.html', '<h1>week 48</h1>');
    const link = new URL(
      signReportLink({ week: '2026-W48', expiresAt: new Date(Date.now() + 86_400_000) }, 'L'.repeat(64)),
      'https://api.example',
    );
    const event = (week: string) => ({
      version: '2.0',
      routeKey: 'GET /v1/reports/{week}',
      rawPath: `/v1/reports/${week}`,
      rawQueryString: link.search.slice(1),
      pathParameters: { week },
      queryStringParameters: Object.fromEntries(link.searchParams),
      headers: { host: 'api.example' },
      requestContext: { http: { method: 'GET', path: `/v1/reports/${week}` }, requestId: 'r2', timeEpoch: Date.now() },
      isBase64Encoded: false,
    });
    const r = await invoke(bundles['report-link'], event('2026-W48'), env);
    expect(r.error).toBeUndefined();
    expect(r.arity).toBeLessThanOrEqual(2);
    const result = r.result as { statusCode: number; headers: Record<string, string> };
    expect(result.statusCode).toBe(302);
    const page = await fetch(result.headers.Location!);
    expect(await page.text()).toBe('<h1>week 48</h1>');
    const bad = await invoke(bundles['report-link'], event('2026-W47'), env);
    expect((bad.result as { statusCode: number }).statusCode).toBe(403);
  }, 180_000);
});
