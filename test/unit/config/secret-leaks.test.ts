/**
 * A secret typed where a reference belongs must not be echoed anywhere: not in the ConfigError message, not in its
 * problems, not in warnings, not in the parsed config.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.ts';
import { ConfigError } from '../../../shared/config/problems.ts';
import { withTenants } from './helpers.ts';

const SECRET = 'Pa55-w0rd-9c1e4b7a';
const NUMERIC = '86420975318642';

function submission(lines: string): string {
  return withTenants(`  - id: t
    name: T
    domains: [t.example]
    submission:
      mailbox: scanner@t.example
${lines}`);
}

const OAUTH = `      auth: oauth
      entraTenantId: t.onmicrosoft.com
      clientId: 00000000-0000-4000-8000-000000000002
`;

const CASES: Record<string, string> = {
  'plain string as clientSecret': submission(`${OAUTH}      clientSecret: ${SECRET}\n`),
  'quoted string as clientSecret': submission(`${OAUTH}      clientSecret: "${SECRET}"\n`),
  'block scalar as clientSecret': submission(`${OAUTH}      clientSecret: |\n        ${SECRET}\n`),
  'number as password': submission(`      auth: basic\n      password: ${NUMERIC}\n`),
  'list as password': submission(`      auth: basic\n      password: [${SECRET}]\n`),
  'plain string as password': submission(`      auth: basic\n      password: ${SECRET}\n`),
  'secret as env name': submission(`      auth: basic\n      password: { env: "${SECRET}!" }\n`),
  'secret as secret name': submission(`      auth: basic\n      password: { secret: "${SECRET}!" }\n`),
  'secret under an unknown key': submission(`      auth: basic\n      password: { value: ${SECRET} }\n`),
  'secret as a flow-mapping key': submission(`      auth: basic\n      password: {${SECRET}}\n`),
  'secret as a key with a value': submission(`      auth: basic\n      password: { ${SECRET}: x }\n`),
  'secret as a duplicated key': submission(`      auth: basic\n      password: { ${SECRET}: 1, ${SECRET}: 2 }\n`),
  'secret as a nested key': submission(`      auth: basic\n      password:\n        ${SECRET}:\n          x: 1\n`),
  'secret beside env': submission(`      auth: basic\n      password: { env: PW, secret: "${SECRET}!" }\n`),
  'password with oauth': submission(`${OAUTH}      clientSecret: { env: X }\n      password: ${SECRET}\n`),
  'password with no auth': submission(`      password: ${SECRET}\n`),
  'duplicated password': submission(`      auth: basic\n      password: ${SECRET}\n      password: ${SECRET}\n`),
  'secret with a YAML tag': submission(`      auth: basic\n      password: !vault ${SECRET}\n`),
  'unclosed quote': submission(`      auth: basic\n      password: "${SECRET}\n`),
  'bad escape': submission(`      auth: basic\n      password: "${SECRET}\\q"\n`),
  'colon in plain scalar': submission(`      auth: basic\n      password: ${SECRET}: x\n`),
  'trailing text after a flow mapping': submission(`      auth: basic\n      password: { env: PW } ${SECRET}\n`),
  'secret as the mailbox password in the wrong place': submission(
    `      auth: basic\n      password: { env: PW }\n      pass: ${SECRET}\n`,
  ),
};

/** A config with a `blocklists.keys` section whose entries are `lines` (4-space indented). */
function blocklistKeys(lines: string, extra = ''): string {
  return `version: 1
msp:
  name: N
  contact: { name: NOC, email: noc@n.example }
blocklists:
  keys:
${lines}${extra}tenants:
  - id: t
    name: T
    domains: [t.example]
`;
}

const BLOCKLIST_CASES: Record<string, string> = {
  'plain string as a zone key': blocklistKeys(`    spamhaus-zen-dqs: ${SECRET}\n`),
  'quoted string as a zone key': blocklistKeys(`    abusix: "${SECRET}"\n`),
  'number as a zone key': blocklistKeys(`    abusix: ${NUMERIC}\n`),
  'block scalar as a zone key': blocklistKeys(`    abusix: |\n      ${SECRET}\n`),
  'list as a zone key': blocklistKeys(`    abusix: [${SECRET}]\n`),
  'the key as the zone id': blocklistKeys(`    ${SECRET}: { env: X }\n`),
  'the key as a zone id without value': blocklistKeys(`    ${SECRET}:\n`),
  'the key as a flow-mapping key': `version: 1
msp:
  name: N
  contact: { name: NOC, email: noc@n.example }
blocklists:
  keys: {${SECRET}}
tenants:
  - id: t
    name: T
    domains: [t.example]
`,
  'the key twice as a zone id': blocklistKeys(`    ${SECRET}: { env: X }\n    ${SECRET}: { env: Y }\n`),
  'the key under an unknown key of a reference': blocklistKeys(`    abusix: { value: ${SECRET} }\n`),
  'the key as a key of a reference': blocklistKeys(`    abusix: { ${SECRET}: x }\n`),
  'the key as a nested key': blocklistKeys(`    abusix:\n      ${SECRET}:\n        x: 1\n`),
  'the key beside env': blocklistKeys(`    abusix: { env: K, secret: "${SECRET}!" }\n`),
  'the key as an env name': blocklistKeys(`    abusix: { env: "${SECRET}!" }\n`),
  'the key with a YAML tag': blocklistKeys(`    abusix: !vault ${SECRET}\n`),
  'the key in an unclosed quote': blocklistKeys(`    abusix: "${SECRET}\n`),
  'the key as a zone id beside a custom zone': blocklistKeys(
    `    ${SECRET}: { env: X }\n`,
    '  custom: [{ id: msp-private }]\n',
  ),
};

describe('secret values never appear in errors', () => {
  it.each(Object.entries({ ...CASES, ...BLOCKLIST_CASES }))('%s', (_name, text) => {
    let err: unknown;
    try {
      parseConfig(text, 'leak.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    const everything = [e.message, e.stack ?? '', JSON.stringify(e.problems), String(e)].join('\n');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(NUMERIC);
    expect(everything).not.toContain('Pa55');
  });

  it('says to use env or the secrets file when a plain value is given', () => {
    try {
      parseConfig(CASES['plain string as clientSecret'] ?? '', 'leak.yaml');
      expect.unreachable();
    } catch (e) {
      const problems = (e as ConfigError).problems;
      expect(problems).toEqual([
        {
          path: 'tenants[0].submission.clientSecret',
          message:
            'must be a reference to a secret, not the secret itself: use { env: NAME } (an environment variable), { secret: name } (an entry of the secrets file), { secretsManager: NAME, key: K } (AWS Secrets Manager) or { ssm: /path } (an SSM Parameter Store SecureString)',
          line: 16,
          column: 21,
          severity: 'error',
        },
      ]);
    }
  });

  it('says to use env or the secrets file when a plain zone key is given', () => {
    try {
      parseConfig(BLOCKLIST_CASES['plain string as a zone key'] ?? '', 'leak.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems.filter((p) => p.severity === 'error')).toEqual([
        {
          path: 'blocklists.keys.spamhaus-zen-dqs',
          message:
            'must be a reference to a secret, not the secret itself: use { env: NAME } (an environment variable), { secret: name } (an entry of the secrets file), { secretsManager: NAME, key: K } (AWS Secrets Manager) or { ssm: /path } (an SSM Parameter Store SecureString)',
          line: 7,
          column: 23,
          severity: 'error',
        },
      ]);
    }
  });

  it('hides a zone id that names no zone, in the message and in the path', () => {
    try {
      parseConfig(BLOCKLIST_CASES['the key twice as a zone id'] ?? '', 'leak.yaml');
      expect.unreachable();
    } catch (e) {
      const problems = (e as ConfigError).problems.filter((p) => p.severity === 'error');
      expect(problems.map((p) => [p.path, p.line])).toEqual([
        ['blocklists.keys', 7],
        ['blocklists.keys', 8],
      ]);
      expect(problems[0]?.message).toMatch(/^a key names no zone \(not shown: it may be the key itself\)/);
      expect(problems[1]?.message).toMatch(/^duplicate key \(not shown: it may be a secret\) \(first at line 7\)/);
    }
  });

  it('keeps only the reference in a valid config', () => {
    const { config, warnings } = parseConfig(
      submission(`      auth: basic\n      password: { env: SCANNER_PASSWORD }\n`),
      'ok.yaml',
    );
    expect(JSON.stringify(config)).toContain('"password":{"env":"SCANNER_PASSWORD"}');
    expect(warnings).toEqual([]);
  });
});
