/**
 * `{ ssm: /path }` secret references: the SSM Parameter Store source through the real AWS SDK v3 (`@aws-sdk/client-ssm`)
 * against a local stand-in of GetParameter (test/support/aws-standins.ts), the config schema and the loader that
 * resolves every reference of a config once, and the Lambda wiring that reads both Secrets Manager and SSM.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaSecrets } from '../../shared/adapters/lambda.ts';
import { SecretsManagerSource } from '../../shared/adapters/secrets/secrets-manager-source.ts';
import { SsmParameterSource } from '../../shared/adapters/secrets/ssm-parameter-source.ts';
import { parseConfig } from '../../shared/config/load.ts';
import { loadParameterSecrets, parameterRefs } from '../../shared/config/managed-secrets.ts';
import { resolveSecret } from '../../shared/config/secrets.ts';
import {
  type SecretsStandIn,
  type SsmStandIn,
  startSecretsManagerStandIn,
  startSsmStandIn,
} from '../support/aws-standins.ts';

const creds = { accessKeyId: 'local', secretAccessKey: 'local' };
const DQS = 'dqs-key-0123456789abcdef';
const BASE =
  'version: 1\nmsp: { name: M, contact: { name: A, email: a@m.example } }\ntenants: [{ id: t, name: T, domains: [{ name: t.example }], relayIps: [] }]\n';

describe('SSM Parameter Store secret references against a local stand-in', () => {
  let ssm: SsmStandIn;
  let sm: SecretsStandIn;
  beforeAll(async () => {
    [ssm, sm] = await Promise.all([
      startSsmStandIn({
        '/relaywatch/test/dqs-key': DQS,
        '/relaywatch/test/agent': 'agent-s3cret',
        '/relaywatch/test/plain': { type: 'String', value: 'not-encrypted-value' },
      }),
      startSecretsManagerStandIn({ 'relaywatch/alerts': JSON.stringify({ slack: 'https://hooks.example/slack' }) }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([ssm?.close(), sm?.close()]);
  });

  const source = (options: { ttlMs?: number; now?: () => number } = {}) =>
    new SsmParameterSource({ endpoint: ssm.endpoint, region: 'us-east-1', credentials: creds, ...options });

  it('reads a SecureString with decryption, and caches it for the TTL', async () => {
    const before = ssm.requests.length;
    const s = source();
    expect(await s.get('/relaywatch/test/dqs-key')).toBe(DQS);
    expect(await s.get('/relaywatch/test/dqs-key')).toBe(DQS);
    expect(ssm.requests.length - before).toBe(1);
    expect(ssm.decryption.at(-1)).toBe(true);
    s.destroy();
  });

  it('picks up an overwritten value one TTL later (rotation), not before', async () => {
    let clock = 1_000_000;
    const s = source({ ttlMs: 60_000, now: () => clock });
    ssm.put('/relaywatch/test/rotated', 'old-value');
    expect(await s.get('/relaywatch/test/rotated')).toBe('old-value');
    ssm.put('/relaywatch/test/rotated', 'new-value');
    clock += 59_000;
    expect(await s.get('/relaywatch/test/rotated')).toBe('old-value');
    clock += 2_000;
    expect(await s.get('/relaywatch/test/rotated')).toBe('new-value');
    expect(s.calls).toBe(2);
    s.destroy();
  });

  it('says a missing parameter does not exist, naming it, and does not cache the failure', async () => {
    const s = source();
    await expect(s.get('/relaywatch/test/later')).rejects.toMatchObject({
      name: 'SecretNotFoundError',
      message: 'SSM parameter "/relaywatch/test/later" does not exist',
    });
    ssm.put('/relaywatch/test/later', 'created-after');
    expect(await s.get('/relaywatch/test/later')).toBe('created-after');
    s.destroy();
  });

  it('refuses a plain String parameter as a secret, naming it and the fix but never its value', async () => {
    const s = source();
    const err = (await s.get('/relaywatch/test/plain').catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('ParameterNotUsableError');
    expect(err.message).toMatch(/is a String parameter, not a SecureString/);
    expect(err.message).toContain('--type SecureString');
    expect(err.message).not.toContain('not-encrypted-value');
    s.destroy();
  });

  it('resolves every { ssm } reference of a config once, with reasons that name the parameter and hide values', async () => {
    const config = parseConfig(
      `${BASE}alerts:\n  routes:\n    - { id: s, slack: { webhookUrl: { ssm: /relaywatch/test/dqs-key } } }\n    - { id: w, webhook: { url: { ssm: /relaywatch/test/gone }, secret: { ssm: /relaywatch/test/plain } } }\nagent: { id: site-1, secret: { ssm: /relaywatch/test/dqs-key } }\n`,
      'x.yaml',
    ).config;
    expect(parameterRefs(config).sort()).toEqual([
      '/relaywatch/test/dqs-key',
      '/relaywatch/test/gone',
      '/relaywatch/test/plain',
    ]);
    const before = ssm.requests.length;
    const parameters = await loadParameterSecrets(config, source());
    // One request per distinct parameter, however many references point at it.
    expect(ssm.requests.length - before).toBe(3);
    const sources = { env: {}, parameters };
    expect(resolveSecret({ ssm: '/relaywatch/test/dqs-key' }, sources)).toEqual({ ok: true, value: DQS });
    expect(resolveSecret({ ssm: '/relaywatch/test/gone' }, sources)).toEqual({
      ok: false,
      reason: 'SSM parameter "/relaywatch/test/gone": does not exist',
    });
    const plain = resolveSecret({ ssm: '/relaywatch/test/plain' }, sources);
    expect(plain).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^SSM parameter "\/relaywatch\/test\/plain": is a String parameter/),
    });
    expect(JSON.stringify(plain)).not.toContain('not-encrypted-value');
    expect(JSON.stringify(parameters)).not.toContain(DQS);
    expect(String(parameters)).not.toContain(DQS);
    // Without Parameter Store (the CLI), the reference says where it is resolved.
    expect(resolveSecret({ ssm: '/relaywatch/test/dqs-key' }, { env: {} })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/SSM Parameter Store is not used here/),
    });
  });

  it('gives the Lambda functions both backends: Secrets Manager and SSM references of one config, in one load', async () => {
    const config = parseConfig(
      `${BASE}alerts:\n  routes:\n    - { id: s, slack: { webhookUrl: { secretsManager: relaywatch/alerts, key: slack } } }\nagent: { id: site-1, secret: { ssm: /relaywatch/test/agent } }\n`,
      'x.yaml',
    ).config;
    const sources = await lambdaSecrets(config, {
      secretsManager: new SecretsManagerSource({ endpoint: sm.endpoint, region: 'us-east-1', credentials: creds }),
      ssm: source(),
    });
    expect(resolveSecret({ ssm: '/relaywatch/test/agent' }, sources)).toEqual({ ok: true, value: 'agent-s3cret' });
    expect(resolveSecret({ secretsManager: 'relaywatch/alerts', key: 'slack' }, sources)).toEqual({
      ok: true,
      value: 'https://hooks.example/slack',
    });
  });

  it('parses { ssm: /path } references and refuses malformed ones with a message that does not quote them', () => {
    const ok = parseConfig(`${BASE}agent: { id: site-1, secret: { ssm: /relaywatch/prod/agent-1 } }\n`, 'x.yaml');
    expect(ok.config.agent?.secret).toEqual({ ssm: '/relaywatch/prod/agent-1' });
    const bad = (ref: string) => () => parseConfig(`${BASE}agent: { id: site-1, secret: ${ref} }\n`, 'x.yaml');
    expect(bad('{ ssm: relaywatch/no-slash }')).toThrow(
      /agent\.secret\.ssm: must be the name of an SSM parameter with its leading slash/,
    );
    expect(bad('{ ssm: /a//b }')).toThrow(/must be the name of an SSM parameter/);
    expect(bad('{ ssm: /a, key: k }')).toThrow(/only used with secretsManager/);
    expect(bad('{ ssm: /a, env: X }')).toThrow(/needs exactly one of env, secret, secretsManager or ssm/);
    // A value pasted where the name goes is refused without being echoed.
    try {
      bad('{ ssm: "hunter2 hunter2" }')();
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});
