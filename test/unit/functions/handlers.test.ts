/**
 * Every exported Lambda handler takes at most two arguments: the Node.js 24 runtime refuses callback-style handlers
 * (`handler.length >= 3`) at init. The real handler modules are imported with a valid environment (nothing is
 * contacted at import); a missing variable fails the import with every problem named.
 */
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DigestEnvSchema,
  DispatchEnvSchema,
  dispatchSettings,
  parseEnv,
  ReportLinkEnvSchema,
} from '../../../shared/adapters/lambda.ts';
import { CONFIRM_ENV, ENV, GROUP_INTERVAL_ENV } from '../../../shared/deploy/constants.ts';

const FUNCTIONS_DIR = resolve(import.meta.dirname, '../../../functions');
const ENVIRONMENT = {
  [ENV.configBucket]: 'cfg',
  [ENV.table]: 'relaywatch',
  [ENV.jobQueueUrl]: 'http://127.0.0.1:9/000000000000/jobs',
  [CONFIRM_ENV.sesInboundBucket]: 'relaywatch-data',
  [ENV.reportLinkSecret]: 'relaywatch/test/report-link',
  [ENV.reportLinkBaseUrl]: 'https://abc123.execute-api.eu-west-1.amazonaws.com/',
  AWS_REGION: 'eu-west-1',
};

describe('the Lambda handlers', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('export a handler of at most two parameters, in every function folder', async () => {
    Object.assign(process.env, ENVIRONMENT);
    const folders = (await readdir(FUNCTIONS_DIR, { withFileTypes: true })).filter((d) => d.isDirectory());
    expect(folders.map((f) => f.name).sort()).toEqual([
      'confirm',
      'digest',
      'dispatch',
      'ingest',
      'report-link',
      'ses-inbound',
      'worker',
    ]);
    for (const f of folders) {
      const mod = (await import(resolve(FUNCTIONS_DIR, f.name, 'handler.ts'))) as Record<string, unknown>;
      const exported = Object.entries(mod).filter(([, v]) => typeof v === 'function');
      expect(
        exported.map(([k]) => k),
        f.name,
      ).toEqual(['handler']);
      for (const [name, fn] of exported)
        expect((fn as (...a: unknown[]) => unknown).length, `${f.name}.${name}`).toBeLessThanOrEqual(2);
    }
  });

  it('refuses an environment with every missing or malformed variable named', () => {
    expect(() =>
      parseEnv(DispatchEnvSchema, { [ENV.jobQueueUrl]: 'not a url', [GROUP_INTERVAL_ENV.probes]: '0' }),
    ).toThrow(new RegExp(`${ENV.configBucket}.*${ENV.table}.*${ENV.jobQueueUrl}.*${GROUP_INTERVAL_ENV.probes}`));
    const env = parseEnv(DispatchEnvSchema, ENVIRONMENT);
    expect(env[ENV.configKey]).toBe('relaywatch.yaml');
    expect(dispatchSettings(env)).toEqual({
      intervals: { checks: 60, blocklists: 60, probes: 240 },
      blocklistShards: 1,
    });
    expect(
      dispatchSettings(parseEnv(DispatchEnvSchema, { ...ENVIRONMENT, [GROUP_INTERVAL_ENV.checks]: '15' })).intervals,
    ).toEqual({ checks: 15, blocklists: 60, probes: 240 });
  });

  it("refuses the former single schedule's variables, naming what replaced each", () => {
    expect(() => parseEnv(DispatchEnvSchema, { ...ENVIRONMENT, RELAYWATCH_SCHEDULE_MINUTES: '15' })).toThrow(
      /RELAYWATCH_SCHEDULE_MINUTES: is no longer read .*set RELAYWATCH_CHECKS_MINUTES and RELAYWATCH_PROBE_MINUTES instead/,
    );
    expect(() => parseEnv(DispatchEnvSchema, { ...ENVIRONMENT, RELAYWATCH_BLOCKLIST_EVERY_SLOTS: '4' })).toThrow(
      /RELAYWATCH_BLOCKLIST_EVERY_SLOTS: .*set RELAYWATCH_BLOCKLIST_MINUTES instead/,
    );
  });

  it('refuses a digest or report-link environment without the link key, or a digest without the API base URL', () => {
    const bare = { [ENV.configBucket]: 'cfg', [ENV.table]: 'relaywatch' };
    expect(() => parseEnv(DigestEnvSchema, bare)).toThrow(
      new RegExp(`${ENV.reportLinkSecret}.*${ENV.reportLinkBaseUrl}`),
    );
    expect(() => parseEnv(ReportLinkEnvSchema, bare)).toThrow(new RegExp(ENV.reportLinkSecret));
    expect(() => parseEnv(DigestEnvSchema, { ...ENVIRONMENT, [ENV.reportLinkBaseUrl]: 'ftp://api.example/' })).toThrow(
      new RegExp(ENV.reportLinkBaseUrl),
    );
    // The link serves reports/<week>.html only: another prefix would write pages no link reaches.
    expect(() => parseEnv(DigestEnvSchema, { ...ENVIRONMENT, [ENV.reportPrefix]: 'pages/' })).toThrow(
      /RELAYWATCH_REPORT_PREFIX: the report link serves reports\/ only/,
    );
    expect(parseEnv(DigestEnvSchema, ENVIRONMENT)[ENV.reportPrefix]).toBe('reports/');
  });
});
