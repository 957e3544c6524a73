/**
 * The S3 config source, the SQS job queue and the Secrets Manager source through the real AWS SDK v3 against local
 * stand-ins (test/support/aws-standins.ts) that speak the same wire formats.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_HINT, S3ConfigSource, s3Client } from '../../shared/adapters/config/s3-config-source.ts';
import { SqsJobQueue, sqsClient } from '../../shared/adapters/queue/sqs-job-queue.ts';
import { SecretsManagerSource } from '../../shared/adapters/secrets/secrets-manager-source.ts';
import { configJson, MAX_CONFIG_BYTES } from '../../shared/config/document.ts';
import { parseConfig, readConfigDocument } from '../../shared/config/load.ts';
import { loadManagedSecrets } from '../../shared/config/managed-secrets.ts';
import { ConfigError, type ConfigProblem } from '../../shared/config/problems.ts';
import { resolveSecret } from '../../shared/config/secrets.ts';
import { blocklistJob, parseJob, tenantJob } from '../../shared/domain/jobs.ts';
import {
  type S3StandIn,
  type SecretsStandIn,
  type SqsStandIn,
  startS3StandIn,
  startSecretsManagerStandIn,
  startSqsStandIn,
} from '../support/aws-standins.ts';
import { pushedDocument } from '../support/lambda-fakes.ts';
import { withoutLines } from '../unit/config/helpers.ts';

const creds = { accessKeyId: 'local', secretAccessKey: 'local' };
const EXAMPLE = new URL('../../examples/relaywatch.yaml', import.meta.url);

describe('AWS adapters against local stand-ins', () => {
  let s3: S3StandIn;
  let sqs: SqsStandIn;
  let sm: SecretsStandIn;
  beforeAll(async () => {
    [s3, sqs, sm] = await Promise.all([
      startS3StandIn(),
      startSqsStandIn(),
      startSecretsManagerStandIn({
        'relaywatch/alerts': JSON.stringify({
          slack: 'https://hooks.example/slack',
          teams: 'https://hooks.example/teams',
        }),
        'relaywatch/plain': 'p4ss',
      }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([s3?.close(), sqs?.close(), sm?.close()]);
  });

  it('reads the config from S3 once, answers 304s from the cache, and re-reads when the ETag changes', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    s3.put('cfg', 'relaywatch.yaml', pushedDocument(text));
    const source = new S3ConfigSource(s3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: creds }), {
      bucket: 'cfg',
      key: 'relaywatch.yaml',
    });
    const first = await source.load();
    expect(first.loaded.config.tenants.length).toBeGreaterThan(0);
    expect(await source.load()).toBe(first);
    expect(source.stats).toEqual({ requests: 2, notModified: 1 });
    s3.put('cfg', 'relaywatch.yaml', pushedDocument(text.replace(/name: (.*)\n/, 'name: $1 (pushed)\n')));
    const second = await source.load();
    expect(second.etag).not.toBe(first.etag);
    expect(second).not.toBe(first);
  });

  it('refuses an invalid document with every problem and its path, never half a config', async () => {
    s3.put('cfg', 'bad.yaml', JSON.stringify({ version: 1, msp: { name: 'x' }, tenants: [] }));
    const source = new S3ConfigSource(s3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: creds }), {
      bucket: 'cfg',
      key: 'bad.yaml',
    });
    await expect(source.load()).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/tenants/),
    });
    await expect(
      new S3ConfigSource(s3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: creds }), {
        bucket: 'cfg',
        key: 'missing.yaml',
      }).load(),
    ).rejects.toMatchObject({ name: 'S3ReadError', message: expect.stringMatching(/NoSuchKey/) });
  });

  it('reads the JSON document config push uploads, with the 304 cache, to the same config as the YAML', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const { loaded, document } = readConfigDocument(text, 'example.yaml');
    s3.put('cfg', 'relaywatch.json', configJson(document));
    const source = new S3ConfigSource(s3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: creds }), {
      bucket: 'cfg',
      key: 'relaywatch.json',
    });
    const first = await source.load();
    expect(first.loaded.config).toEqual(loaded.config);
    expect(first.loaded.warnings.map(withoutLines)).toEqual(loaded.warnings.map(withoutLines));
    // Read as JSON: no lines (the YAML reader gives every warning its line).
    expect(first.loaded.warnings.every((w) => w.line === undefined)).toBe(true);
    expect(loaded.warnings.every((w) => w.line !== undefined)).toBe(true);
    expect(await source.load()).toBe(first);
    expect(source.stats).toEqual({ requests: 2, notModified: 1 });
  });

  it('refuses an invalid JSON document with the problems of the YAML reader, without lines', async () => {
    const yaml = 'version: 1\nmsp: { name: x }\ntenants: []\n';
    s3.put('cfg', 'bad.json', `  ${JSON.stringify({ version: 1, msp: { name: 'x' }, tenants: [] })}\n`);
    const source = new S3ConfigSource(s3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: creds }), {
      bucket: 'cfg',
      key: 'bad.json',
    });
    const err = await source.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems.length).toBeGreaterThan(1);
    expect(problems.every((p) => p.line === undefined)).toBe(true);
    let fromYaml: readonly ConfigProblem[] = [];
    try {
      parseConfig(yaml, 'bad.yaml');
    } catch (e) {
      fromYaml = (e as ConfigError).problems;
    }
    expect(problems.map(withoutLines).sort()).toEqual(fromYaml.map(withoutLines).sort());
    expect((err as ConfigError).message).toMatch(/^invalid configuration s3:\/\/cfg\/bad\.json: /);
  });

  it('refuses a YAML object (a hand copy), a flow mapping included, with the command that uploads one', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const flow = `{ ${['version: 1', 'msp: { name: M, contact: { name: N, email: n@msp.example } }', 'tenants: [{ id: a, name: A, domains: [a.example] }]'].join(', ')} }\n`;
    s3.put('cfg', 'hand.yaml', text);
    s3.put('cfg', 'flow.yaml', flow);
    const open = (key: string) =>
      new S3ConfigSource(s3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: creds }), {
        bucket: 'cfg',
        key,
      })
        .load()
        .catch((e: unknown) => e);
    const hand = await open('hand.yaml');
    expect(hand).toBeInstanceOf(ConfigError);
    expect((hand as ConfigError).message).toBe(
      `invalid configuration s3://cfg/hand.yaml: 1 error\n  not JSON (a YAML file copied by hand?): ${PUSH_HINT}`,
    );
    const flowErr = await open('flow.yaml');
    expect(flowErr).toBeInstanceOf(ConfigError);
    const problems = (flowErr as ConfigError).problems.map((p) => p.message);
    // What is wrong with it as JSON (our words, never the text), then what to do.
    expect(problems).toEqual([
      expect.stringMatching(/^JSON syntax: a key must be a string in double quotes \(column 3\)$/),
      `not valid JSON: ${PUSH_HINT}`,
    ]);
    expect((flowErr as ConfigError).message).not.toContain('msp: {');
  });

  it('keeps the size limit and says what is wrong with bytes that are not UTF-8', async () => {
    s3.put('cfg', 'big.json', Buffer.alloc(MAX_CONFIG_BYTES + 1, 0x20));
    s3.put('cfg', 'latin1.json', Buffer.from([0x7b, 0xe9, 0x7d]));
    const open = (key: string) =>
      new S3ConfigSource(s3Client({ endpoint: s3.endpoint, region: 'us-east-1', credentials: creds }), {
        bucket: 'cfg',
        key,
      }).load();
    await expect(open('big.json')).rejects.toMatchObject({
      name: 'S3ReadError',
      message: expect.stringMatching(/over 5242880/),
    });
    await expect(open('latin1.json')).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/not valid UTF-8/),
    });
  });

  it('enqueues jobs in batches of 10 and returns the entries SQS failed twice', async () => {
    const queue = new SqsJobQueue(
      sqsClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: creds }),
      `${sqs.endpoint}/000000000000/jobs`,
    );
    const slot = new Date('2026-11-27T18:00:00.000Z');
    const jobs = [...Array.from({ length: 23 }, (_, i) => tenantJob(slot, `t${i}`)), blocklistJob(slot, 0, 1)];
    sqs.failBodiesContaining = '"tenantId":"t7"';
    const failed = await queue.enqueue(jobs);
    sqs.failBodiesContaining = null;
    expect(failed.map((f) => (f.job.kind === 'tenant' ? f.job.tenantId : 'bl'))).toEqual(['t7']);
    expect(sqs.messages).toHaveLength(23);
    expect(sqs.messages.map((m) => parseJob(m.body).runId).sort()).toEqual(
      jobs
        .filter((j) => !(j.kind === 'tenant' && j.tenantId === 't7'))
        .map((j) => j.runId)
        .sort(),
    );
    // 3 batches, plus the failed entry's retry
    expect(sqs.requests).toHaveLength(4);
  });

  it('fetches each Secrets Manager secret once however many keys point into it, and says what is missing', async () => {
    const source = new SecretsManagerSource({ endpoint: sm.endpoint, region: 'us-east-1', credentials: creds });
    const config = {
      a: { secretsManager: 'relaywatch/alerts', key: 'slack' },
      b: [{ secretsManager: 'relaywatch/alerts', key: 'teams' }, { secretsManager: 'relaywatch/plain' }],
      c: { secretsManager: 'relaywatch/alerts', key: 'nope' },
      d: { secretsManager: 'relaywatch/gone' },
    };
    const managed = await loadManagedSecrets(config, source);
    expect(sm.requests).toHaveLength(3);
    const sources = { env: {}, managed };
    expect(resolveSecret({ secretsManager: 'relaywatch/alerts', key: 'teams' }, sources)).toEqual({
      ok: true,
      value: 'https://hooks.example/teams',
    });
    expect(resolveSecret({ secretsManager: 'relaywatch/plain' }, sources)).toEqual({ ok: true, value: 'p4ss' });
    const missingKey = resolveSecret({ secretsManager: 'relaywatch/alerts', key: 'nope' }, sources);
    expect(missingKey).toMatchObject({ ok: false, reason: expect.stringMatching(/has no key "nope"/) });
    const gone = resolveSecret({ secretsManager: 'relaywatch/gone' }, sources);
    expect(gone).toMatchObject({ ok: false, reason: expect.stringMatching(/does not exist/) });
    expect(JSON.stringify(managed)).not.toMatch(/hooks\.example|p4ss/);
    // Cached for the TTL: a second load asks nothing for the names it has.
    await loadManagedSecrets(config, source);
    expect(sm.requests).toHaveLength(4); // only the missing one is asked again (failures are not cached)
  });

  it('parses a config with secretsManager references, and refuses key without secretsManager', () => {
    const base =
      'version: 1\nmsp: { name: M, contact: { name: A, email: a@m.example } }\ntenants: [{ id: t, name: T, domains: [{ name: t.example }], relayIps: [] }]\n';
    const ok = parseConfig(
      `${base}agent: { id: site-1, secret: { secretsManager: relaywatch/agents, key: site-1 } }\n`,
      'x.yaml',
    );
    expect(ok.config.agent?.secret).toEqual({ secretsManager: 'relaywatch/agents', key: 'site-1' });
    expect(() => parseConfig(`${base}agent: { id: site-1, secret: { env: X, key: k } }\n`, 'x.yaml')).toThrow(
      /only used with secretsManager/,
    );
  });
});
